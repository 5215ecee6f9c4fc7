// Finding and selecting scenario files: the PATH arguments of `wpsim run`, --filter and --tags.
// Order is always sorted by path (byte-wise), so shards and reports are stable across machines
// and file systems (directory iteration order is not).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "conformance/loader.h"
#include "conformance/scenario.h"

namespace wpsim::conformance {

// Expands files and directories (recursively: *.yaml and *.yml) into a sorted, duplicate-free
// list of files. A path that does not exist is an error naming it.
Result<std::vector<std::string>> FindScenarioFiles(const std::vector<std::string>& paths);

// Shell-style glob: '*' any run, '?' one character, '[abc]', '[a-z]', '[!a]'. '*' also
// crosses '/', so "quickstarts/*" matches every file below quickstarts/.
bool GlobMatch(std::string_view pattern, std::string_view text);

struct ScenarioFilter {
  // A scenario is selected when any glob matches its name or its file path (or a path
  // suffix starting after a '/'), or when there are no globs.
  std::vector<std::string> globs;
  // Selected when it has any of the tags (or there are none); a tag written "!t" or "-t"
  // excludes scenarios carrying t, whatever else matches.
  std::vector<std::string> tags;

  bool Matches(const Scenario& scenario) const;
  bool empty() const { return globs.empty() && tags.empty(); }
};

struct Suite {
  std::vector<Scenario> scenarios;       // selected, in file order
  std::vector<Diagnostic> diagnostics;   // every problem in every file (and duplicate names)
  size_t files = 0;                      // files read
  size_t filtered_out = 0;               // loaded cleanly but not selected
  bool ok() const { return diagnostics.empty(); }
};

// Loads every scenario under `paths` (default scenarios/ is the caller's business), reports all
// problems of all files, rejects duplicate scenario names, and applies the filter.
Suite LoadSuite(const std::vector<std::string>& paths, const ScenarioFilter& filter = {});

}  // namespace wpsim::conformance
