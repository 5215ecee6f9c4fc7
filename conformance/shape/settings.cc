// The scenario's top level and its settings sections: source, run, service.
#include <algorithm>
#include <cctype>

#include "conformance/shape/sections.h"
#include "service/options.h"

namespace wpsim::conformance::shape {
namespace {

const std::vector<EnumName<Target>> kTargets = {
    {"sim", Target::kSim}, {"local", Target::kLocal}, {"remote", Target::kRemote}};
const std::vector<EnumName<AnonymousPolicy>> kAnonymous = {{"deny", AnonymousPolicy::kDeny},
                                                           {"allow", AnonymousPolicy::kAllow}};

// Hub names per PROTOCOL.md §13: ^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$
bool IsValidHub(std::string_view s) {
  if (s.empty() || s.size() > 128 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '`' || c == ',' ||
              c == '.' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

void ReadTags(Context& c, const Node& v, Scenario& sc) {
  auto tags = c.StrList(v, "tags");
  if (!tags) return;
  for (const std::string& t : *tags) {
    if (!IsIdentifier(t, true) && !(t.size() && std::isdigit(static_cast<unsigned char>(t[0])))) {
      c.Error(v, "a tag must be a word like 'mqtt' or 'seed-000', got " + Q(t));
    }
  }
  sc.tags = *tags;
}

void ReadHub(Context& c, const Node& v, Scenario& sc) {
  auto s = c.Str(v, "hub");
  if (!s) return;
  if (IsValidHub(*s)) {
    sc.hub = *s;
  } else {
    c.Error(v,
            "invalid hub name " + Q(*s) + " (a letter, then up to 127 letters, digits or _`,.[])");
  }
}

void ReadTargets(Context& c, const Node& v, Scenario& sc) {
  if (!v.IsSequence() && !v.IsScalar()) {
    c.Error(v, "expected a list of targets (sim, local, remote), got " + Describe(v));
    return;
  }
  std::vector<Node> items;
  if (v.IsScalar()) {
    items.push_back(v);
  } else {
    for (const Node& item : v) items.push_back(item);
  }
  for (const Node& item : items) {
    if (auto t = c.Enum(item, "target", kTargets)) sc.targets.push_back(*t);
  }
}

template <typename T>
Field<Scenario> SectionOf(std::string_view key, T Scenario::*member, const Table<T>* sub,
                          std::string doc, bool required = false) {
  Field<Scenario> f = In(member, Section(key, std::string(key), sub, std::move(doc)));
  f.required = required;
  return f;
}

nlohmann::json NullOr(nlohmann::json schema) {
  return {{"anyOf", {{{"type", "null"}}, std::move(schema)}}};
}
nlohmann::json ListSchema(std::string_view item_def) {
  return {{"type", "array"}, {"items", SchemaRef(item_def)}};
}

// A section read by a function of the context (clients, network, ...).
Field<Scenario> ReaderOf(std::string_view key, bool required, nlohmann::json schema,
                         std::string doc, void (*read)(Context&, const Node&)) {
  return Custom<Scenario>(
      key, "section", std::move(schema), std::move(doc),
      [read](Context& c, const Node& n, Scenario&) { read(c, n); }, required);
}

void ReadSourceSeed(Context& c, const Node& v, SourceRef& src) {
  auto s = c.Str(v, "source seed");
  if (!s) return;
  bool ok = s->size() == 3 && std::all_of(s->begin(), s->end(), [](char ch) {
              return std::isdigit(static_cast<unsigned char>(ch));
            });
  if (ok) {
    src.seed = *s;
  } else {
    c.Error(v, "expected a seed document id like \"001\", got " + Q(*s));
  }
}

// Reads `service.inject_bug`: the names of the reference service's --inject-bug switches.
void ReadInjectBug(Context& c, const Node& v, ServiceSettings& s) {
  auto l = c.StrList(v, "inject_bug");
  if (!l) return;
  std::vector<std::string> names;
  for (const auto& [bug, description] : service::AllBugs())
    names.emplace_back(service::BugName(bug));
  Keys known(names.begin(), names.end());
  for (const std::string& b : *l) {
    if (!service::ParseBug(b)) {
      std::string hint = c.Suggest(b, known);
      if (hint.empty()) hint = " (bugs: " + JoinKeys(known) + ")";
      c.Error(v, "unknown bug " + Q(b) + hint);
    }
  }
  s.inject_bug = *l;
}

const Table<ServiceSettings>& ReliableBufferTable() {
  using S = ServiceSettings;
  static const Table<S> t = {
      Opt("messages", &S::reliable_buffer_messages, Integer(1, 100000000),
          "messages kept per reliable connection"),
      Opt("bytes", &S::reliable_buffer_bytes, ByteSizeValue(true),
          "bytes kept per reliable connection"),
  };
  return t;
}

}  // namespace

const Table<SourceRef>& SourceTable() {
  static const Table<SourceRef> t = {
      Custom<SourceRef>("seed", "string", {{"type", "string"}, {"pattern", "^[0-9]{3}$"}},
                        "the seed document id, \"000\"..\"004\"", ReadSourceSeed, true),
      Req("section", &SourceRef::section, NonEmptyString(), "the section title in that document",
          "source section"),
  };
  return t;
}

const Table<RunSettings>& RunTable() {
  static const Table<RunSettings> t = {
      Opt("step_timeout", &RunSettings::step_timeout_ns, PositiveDurationValue(),
          "default step timeout (10s)"),
      Opt("settle", &RunSettings::settle_ns, DurationValue(), "wait after the last step (500ms)"),
      Opt("time_limit", &RunSettings::time_limit_ns, PositiveDurationValue(),
          "bound on the whole run (120s)"),
      Opt("perturb", &RunSettings::perturb, Boolean(),
          "sim: break scheduler ties and jitter delays from the seed (false)"),
  };
  return t;
}

const Table<ServiceSettings>& ServiceTable() {
  using S = ServiceSettings;
  static const Table<S> t = {
      Opt("recovery_window", &S::recovery_window_ns, PositiveDurationValue(),
          "reliable recovery window"),
      Section("reliable_buffer", "reliable_buffer", &ReliableBufferTable(),
              "{messages, bytes}: the reliable buffer"),
      Opt("keepalive", &S::keepalive_ns, PositiveDurationValue(),
          "service WebSocket ping interval"),
      Opt("anonymous", &S::anonymous, EnumValue(&kAnonymous, "anonymous policy"), "deny or allow"),
      Custom<S>("inject_bug", "string or list", SchemaRef("stringList"),
                "the reference service's --inject-bug switches (service/options.h)", ReadInjectBug),
      Opt("access_key", &S::access_key, NonEmptyString(), "the access key tokens are signed with"),
      Opt("max_message_size", &S::max_message_bytes, ByteSizeValue(true),
          "the largest accepted message"),
      Opt("mqtt_session_window", &S::mqtt_session_window_ns, PositiveDurationValue(),
          "MQTT session window"),
      Opt("upstream_timeout", &S::upstream_timeout_ns, PositiveDurationValue(),
          "bound on each event-handler call"),
      Opt("token_clock_skew", &S::token_clock_skew_ns, DurationValue(),
          "tolerance when validating exp/nbf"),
  };
  return t;
}

void ReadService(Context& c, const Node& n) {
  Map m(c, n, "service", KeysOf(ServiceTable()));
  if (!m.ok()) return;
  c.scenario().service.present = true;
  ReadFields(c, m, ServiceTable(), c.scenario().service);
}

const Table<Scenario>& RootTable() {
  using S = Scenario;
  static const Table<S> t = {
      Custom<S>(
          "name", "non-empty string", {{"type", "string"}, {"minLength", 1}},
          "Unique scenario name (the suite rejects duplicates). Used by `--filter`.",
          [](Context& c, const Node& v, S& sc) {
            if (auto s = c.NonEmptyStr(v, "name")) sc.name = *s;
            sc.name_pos = c.Pos(v);
          },
          true),
      SectionOf("source", &S::source, &SourceTable(),
                "`{seed: \"001\", section: <title>}`: the seed document and the section the "
                "scenario follows "
                "(every shipped scenario has one; optional for your own)."),
      Req("description", &S::description, NonEmptyString(), "What is checked, in sentences."),
      Custom<S>("tags", "string or list", SchemaRef("stringList"),
                "Words for `--tags` (`quickstart`, `seed-001`, `mqtt`, ...).", ReadTags),
      Custom<S>("hub", "hub name",
                {{"type", "string"}, {"pattern", "^[A-Za-z][A-Za-z0-9_`,.\\[\\]]{0,127}$"}},
                "Hub name (`^[A-Za-z][A-Za-z0-9_`,.[\\]]{0,127}$`).", ReadHub, true),
      Opt("seed", &S::seed, Integer(0, UINT64_MAX),
          "Fixed PRNG seed for the sim target (otherwise `--seed` or the runner's default)."),
      Custom<S>("targets", "target or list",
                {{"anyOf",
                  {{{"enum", {"sim", "local", "remote"}}},
                   {{"type", "array"}, {"items", {{"enum", {"sim", "local", "remote"}}}}}}}},
                "Restrict to some of `sim`, `local`, `remote` (default: all).", ReadTargets),
      SectionOf("run", &S::run, &RunTable(),
                "`step_timeout` (10s), `settle` (500ms), `time_limit` (120s), `perturb` (false)."),
      ReaderOf("network", false, ObjectSchema(DocsOf(NetworkTable())),
               "Simulated network (sim only).", ReadNetwork),
      ReaderOf("service", false, ObjectSchema(DocsOf(ServiceTable())),
               "Reference-service settings and injected bugs (sim/local only).", ReadService),
      ReaderOf("upstream", false, ObjectSchema(DocsOf(UpstreamTable())),
               "The scripted application server (event handlers).", ReadUpstream),
      ReaderOf("clients", true,
               NullOr({{"type", "object"},
                       {"propertyNames", {{"pattern", "^[A-Za-z_][A-Za-z0-9_-]*$"}}},
                       {"additionalProperties", SchemaRef("client")}}),
               "Mapping of client name to definition (may be empty).", ReadClients),
      Declared<S>("steps", "list", ListSchema("step"), "List of steps.", true),
      ReaderOf("expect", false, NullOr(ListSchema("expectation")), "List of expectations.",
               ReadExpectations),
      ReaderOf("invariants", false, NullOr(ListSchema("invariant")),
               "Checks applied to every delivery.", ReadInvariants),
      ReaderOf("thresholds", false, NullOr(ListSchema("threshold")),
               "Latency / error-rate / throughput objectives.", ReadThresholds),
      ReaderOf("eventually", false, {{"type", "object"}},
               "The liveness phase: `within` and the expectations that hold once faults heal.",
               ReadEventually),
      ReaderOf("swarm", false, {{"type", "object"}},
               "The fault ranges of `wpsim explore --swarm` (a run ignores it).", ReadSwarm),
  };
  return t;
}

void ReadRoot(Context& c, const Node& root, const std::function<void(const Node&)>& read_steps) {
  const Table<Scenario>& table = RootTable();
  Map m(c, root, "the scenario", KeysOf(table));
  if (!m.ok()) return;
  // Clients first: everything else refers to them; steps before expectations.
  static const Keys kReadOrder = {"name",    "source",  "description", "tags",
                                  "hub",     "seed",    "targets",     "run",
                                  "clients", "network", "service",     "upstream",
                                  "steps",   "expect",  "invariants",  "thresholds",
                                  "eventually", "swarm"};
  for (std::string_view key : kReadOrder) {
    if (key == "steps") {
      if (auto v = m.Required(c, "steps")) read_steps(*v);
      continue;
    }
    for (const Field<Scenario>& f : table) {
      if (f.key != key) continue;
      std::optional<Node> v = f.required ? m.Required(c, f.key) : m.Get(f.key);
      if (v) f.read(c, *v, c.scenario());
    }
  }
}

}  // namespace wpsim::conformance::shape
