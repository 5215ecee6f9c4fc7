#include "app/list.h"

#include <set>
#include <string>

namespace wpsim::app {
namespace {

using conformance::Scenario;

std::string Join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// Every conformance case ID the scenario checks, sorted, without repeats.
std::vector<std::string> CaseIds(const Scenario& s) {
  std::set<std::string> ids;
  for (const auto& step : s.steps) {
    if (!step.case_id.empty()) ids.insert(step.case_id);
  }
  for (const auto& e : s.expectations) {
    if (!e.case_id.empty()) ids.insert(e.case_id);
  }
  for (const auto& i : s.invariants) {
    if (!i.case_id.empty()) ids.insert(i.case_id);
  }
  for (const auto& t : s.thresholds) {
    if (!t.case_id.empty()) ids.insert(t.case_id);
  }
  return {ids.begin(), ids.end()};
}

// "sim only (network control, ...)" when a real target would skip the scenario; "" otherwise.
std::string TargetNote(const Scenario& s) {
  std::vector<std::string> why;
  const conformance::Requirements needs = s.Needs();
  if (needs.network_control) why.push_back("network control");
  if (needs.clock_control) why.push_back("clock control");
  if (needs.fault_injection) why.push_back("injected bug");
  if (needs.service_config) why.push_back("service settings");
  if (needs.scripted_upstream) why.push_back("scripted event handler");
  if (!s.targets.empty()) {
    std::vector<std::string> names;
    for (conformance::Target t : s.targets) names.emplace_back(conformance::TargetName(t));
    return "targets: " + Join(names);
  }
  if (why.empty()) return "";
  return "sim only (" + Join(why) + ")";
}

void PrintStep(const Scenario& s, uint32_t id, int depth, std::FILE* out) {
  const conformance::Step& step = s.steps[id];
  std::string line = std::string(static_cast<size_t>(2 + 2 * depth), ' ') + "line " +
                     std::to_string(step.pos.line) + ": " +
                     std::string(conformance::StepKindName(step.kind()));
  if (const conformance::ClientRef* clients = step.Clients()) line += " " + clients->text;
  if (!step.label.empty()) line += "  (as: " + step.label + ")";
  if (!step.case_id.empty()) line += "  [" + step.case_id + "]";
  std::fprintf(out, "%s\n", line.c_str());
  for (uint32_t child : step.children) PrintStep(s, child, depth + 1, out);
}

void PrintOne(const Scenario& s, std::FILE* out) {
  std::fprintf(out, "%s  (%s)\n", s.name.c_str(), s.file.c_str());
  if (!s.description.empty()) std::fprintf(out, "  %s\n", s.description.c_str());
  if (!s.source.seed.empty()) {
    std::fprintf(out, "source:  seed %s, %s\n", s.source.seed.c_str(), s.source.section.c_str());
  }
  if (!s.tags.empty()) std::fprintf(out, "tags:    %s\n", Join(s.tags).c_str());
  const std::string note = TargetNote(s);
  std::fprintf(out, "runs on: %s\n", note.empty() ? "sim, local, remote" : note.c_str());
  std::fprintf(out, "clients:\n");
  for (const conformance::Client& c : s.clients) {
    std::string line = "  " + c.name + ": " + std::string(conformance::ClientKindName(c.kind));
    if (c.is_cohort) line += " x" + std::to_string(c.count);
    if (c.user) line += ", user " + *c.user;
    if (!c.roles.empty()) line += ", roles " + Join(c.roles);
    std::fprintf(out, "%s\n", line.c_str());
  }
  std::fprintf(out, "steps:\n");
  for (uint32_t id : s.root_steps) PrintStep(s, id, 0, out);
  if (!s.expectations.empty() || !s.invariants.empty() || !s.thresholds.empty()) {
    std::fprintf(out, "checks:\n");
  }
  for (const conformance::Expectation& e : s.expectations) {
    if (e.from_step) continue;  // written inline on a step: shown there by its case ID
    std::fprintf(out, "  line %d: expect %s%s\n", e.pos.line,
                 std::string(conformance::ExpectKindName(e.kind())).c_str(),
                 e.case_id.empty() ? "" : ("  [" + e.case_id + "]").c_str());
  }
  for (const conformance::Invariant& i : s.invariants) {
    std::fprintf(out, "  line %d: invariant %s%s\n", i.pos.line,
                 std::string(conformance::InvariantKindName(i.kind)).c_str(),
                 i.case_id.empty() ? "" : ("  [" + i.case_id + "]").c_str());
  }
  for (const conformance::Threshold& t : s.thresholds) {
    std::fprintf(out, "  line %d: threshold %s%s\n", t.pos.line, t.expression.c_str(),
                 t.case_id.empty() ? "" : ("  [" + t.case_id + "]").c_str());
  }
}

}  // namespace

void PrintScenarioList(const std::vector<Scenario>& scenarios, std::FILE* out) {
  if (scenarios.size() == 1) {
    PrintOne(scenarios.front(), out);
    return;
  }
  std::string file;
  for (const Scenario& s : scenarios) {
    if (s.file != file) {
      file = s.file;
      std::fprintf(out, "%s\n", file.c_str());
    }
    std::fprintf(out, "  %s\n", s.name.c_str());
    if (!s.tags.empty()) std::fprintf(out, "      tags:  %s\n", Join(s.tags).c_str());
    const std::vector<std::string> ids = CaseIds(s);
    if (!ids.empty()) std::fprintf(out, "      cases: %s\n", Join(ids).c_str());
    const std::string note = TargetNote(s);
    if (!note.empty()) std::fprintf(out, "      %s\n", note.c_str());
  }
  std::fprintf(out,
               "%zu scenario(s); `wpsim run --list --filter NAME` shows one scenario's steps\n",
               scenarios.size());
}

}  // namespace wpsim::app
