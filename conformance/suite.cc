#include "conformance/suite.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>

namespace wpsim::conformance {
namespace {

bool HasScenarioExtension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

// Matches one bracket expression at pattern[pi] ('[' already there) against c.
// Returns the index after ']' or npos when the expression is malformed.
size_t MatchBracket(std::string_view pattern, size_t pi, char c, bool& matched) {
  size_t i = pi + 1;
  bool negate = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
  if (negate) ++i;
  bool any = false;
  bool first = true;
  while (i < pattern.size() && (first || pattern[i] != ']')) {
    first = false;
    char lo = pattern[i];
    char hi = lo;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      hi = pattern[i + 2];
      i += 3;
    } else {
      ++i;
    }
    if (lo <= c && c <= hi) any = true;
  }
  if (i >= pattern.size()) return std::string_view::npos;
  matched = any != negate;
  return i + 1;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single-star backtracking: linear in practice, no recursion.
  size_t p = 0, t = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = p++;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      if (pattern[p] == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pattern[p] == '[') {
        bool matched = false;
        size_t next = MatchBracket(pattern, p, text[t], matched);
        if (next != std::string_view::npos) {
          if (matched) {
            p = next;
            ++t;
            continue;
          }
        } else if (text[t] == '[') {  // a lone '[' matches itself
          ++p;
          ++t;
          continue;
        }
      } else if (pattern[p] == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<std::vector<std::string>> FindScenarioFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    std::filesystem::file_status st = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(st)) {
      return MakeError("not_found", "no such file or directory: " + path);
    }
    if (std::filesystem::is_directory(st)) {
      std::filesystem::recursive_directory_iterator it(
          path, std::filesystem::directory_options::follow_directory_symlink, ec);
      if (ec) return MakeError("unreadable", "cannot read directory " + path + ": " + ec.message());
      for (; it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) return MakeError("unreadable", "cannot read directory " + path + ": " + ec.message());
        if (it->is_regular_file(ec) && HasScenarioExtension(it->path())) {
          files.push_back(it->path().generic_string());
        }
      }
    } else {
      files.push_back(std::filesystem::path(path).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

bool ScenarioFilter::Matches(const Scenario& scenario) const {
  for (const std::string& t : tags) {
    if ((t.starts_with('!') || t.starts_with('-')) && scenario.HasTag(std::string_view(t).substr(1))) {
      return false;
    }
  }
  bool any_positive_tag = false;
  bool tag_ok = false;
  for (const std::string& t : tags) {
    if (t.starts_with('!') || t.starts_with('-')) continue;
    any_positive_tag = true;
    tag_ok = tag_ok || scenario.HasTag(t);
  }
  if (any_positive_tag && !tag_ok) return false;
  if (globs.empty()) return true;
  for (const std::string& g : globs) {
    if (GlobMatch(g, scenario.name) || GlobMatch(g, scenario.file)) return true;
    for (size_t slash = scenario.file.find('/'); slash != std::string::npos;
         slash = scenario.file.find('/', slash + 1)) {
      if (GlobMatch(g, std::string_view(scenario.file).substr(slash + 1))) return true;
    }
  }
  return false;
}

Suite LoadSuite(const std::vector<std::string>& paths, const ScenarioFilter& filter) {
  Suite suite;
  auto files = FindScenarioFiles(paths);
  if (!files.ok()) {
    suite.diagnostics.push_back(Diagnostic{SourcePos{}, files.error().message});
    return suite;
  }
  std::map<std::string, std::string> names;  // name -> file
  for (const std::string& file : *files) {
    ++suite.files;
    LoadResult r = LoadScenarioPath(file);
    if (!r.ok()) {
      suite.diagnostics.insert(suite.diagnostics.end(), r.diagnostics.begin(), r.diagnostics.end());
      continue;
    }
    Scenario& s = *r.scenario;
    auto [it, inserted] = names.emplace(s.name, file);
    if (!inserted) {
      suite.diagnostics.push_back(Diagnostic{s.name_pos, "duplicate scenario name '" + s.name +
                                                                        "' (also in " + it->second + ")"});
      continue;
    }
    if (filter.Matches(s)) {
      suite.scenarios.push_back(std::move(s));
    } else {
      ++suite.filtered_out;
    }
  }
  return suite;
}

}  // namespace wpsim::conformance
