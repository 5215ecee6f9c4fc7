// The loader's context: one scenario being read, its diagnostics, and the readers every part of
// the scenario language shares (scalars, client references, labels, templates). The per-family
// shapes (conformance/steps/<family>.cc) and the field tables (conformance/shape/binding.h) read
// through it; conformance/loader.cc drives it over a whole file.
//
// Contract (see conformance/loader.h): a reader never throws and never stops at the first
// problem. It reports at the node's 1-based file:line:column and returns nullopt (or false), so
// the caller keeps going with a best-effort value.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "conformance/loader.h"
#include "conformance/scenario.h"

namespace wpsim::conformance::shape {

using YAML::Node;
using Keys = std::vector<std::string_view>;

std::string Q(std::string_view s);  // 'quoted'
std::string JoinKeys(const Keys& keys);
Keys Concat(std::initializer_list<const Keys*> lists);
bool Contains(const Keys& keys, std::string_view k);
std::string Describe(const Node& n);  // "'x'", "a list", "a mapping", "nothing"
bool IsIdentifier(std::string_view s, bool allow_dash_dot);
// Conformance case ids: "JSON-ACK-003", "MQTT-3.1.2-4".
bool IsValidCaseId(std::string_view s);
std::string ReplaceAll(std::string s, std::string_view from, std::string_view to);

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};
template <typename E>
Keys NamesOf(const std::vector<EnumName<E>>& table) {
  Keys names;
  for (const auto& e : table) names.push_back(e.name);
  return names;
}

struct RefOptions {
  bool allow_all = false;   // "all": every non-rest member
  bool single = false;      // must name exactly one member
  bool allow_rest = false;  // may name rest clients
};

// The step modifiers (as, at, timeout, async, case), written beside the kind or inside it.
struct Modifiers {
  std::optional<Node> as, at, timeout, async, case_id;
};
extern const Keys kStepModifiers;
extern const std::vector<EnumName<DataType>> kDataTypes;

class Context;

// A checked view of one mapping: unknown keys are reported (with "did you mean") when the view
// is made; Get/Key then only see the allowed keys, first occurrence.
class Map {
 public:
  Map(Context& c, const Node& n, std::string what, const Keys& allowed);
  bool ok() const { return ok_; }
  const Node& node() const { return node_; }
  const std::string& what() const { return what_; }
  std::optional<Node> Get(std::string_view key) const;
  bool Has(std::string_view key) const { return Get(key).has_value(); }
  std::optional<Node> Key(std::string_view key) const;
  // The value of a required key; reports a missing one (unless a misspelt key already
  // suggested it).
  std::optional<Node> Required(Context& c, std::string_view key) const;
  // Keys present, in document order.
  std::vector<std::string> PresentKeys() const;

 private:
  Node node_;
  std::string what_;
  bool ok_ = true;
  std::vector<std::tuple<std::string, Node, Node>> entries_;
  std::vector<std::string> suggested_;  // suggestions made for unknown keys
};

class Context {
 public:
  explicit Context(std::string file) : file_(std::move(file)) { sc_.file = file_; }

  Scenario& scenario() { return sc_; }
  const std::string& file() const { return file_; }

  // ---- diagnostics ----------------------------------------------------------------------------
  SourcePos Pos(const Node& n) const;
  void Report(SourcePos pos, std::string message);
  void Error(const Node& n, std::string message) { Report(Pos(n), std::move(message)); }
  // " (did you mean 'x'?)" or "".
  std::string Suggest(std::string_view word, const Keys& candidates);
  // Sorts and deduplicates the diagnostics; the scenario only when there are none.
  LoadResult Finish();

  // ---- scalars --------------------------------------------------------------------------------
  std::optional<std::string> Str(const Node& n, std::string_view what);
  std::optional<std::string> NonEmptyStr(const Node& n, std::string_view what);
  std::optional<bool> Bool(const Node& n, std::string_view what);
  std::optional<uint64_t> Uint(const Node& n, std::string_view what, uint64_t min, uint64_t max);
  std::optional<int64_t> Duration(const Node& n, std::string_view what);
  std::optional<int64_t> PositiveDuration(const Node& n, std::string_view what);
  // A duration written with a unit but carried on the wire in whole seconds (MQTT).
  std::optional<uint32_t> Seconds(const Node& n, std::string_view what, bool allow_never);
  template <typename E>
  std::optional<E> Enum(const Node& n, std::string_view what,
                        const std::vector<EnumName<E>>& table) {
    Keys names = NamesOf(table);
    if (!n.IsScalar()) {
      Error(n, "expected one of " + JoinKeys(names) + " for " + std::string(what) + ", got " +
                   Describe(n));
      return std::nullopt;
    }
    for (const auto& e : table) {
      if (e.name == n.Scalar()) return e.value;
    }
    std::string hint = Suggest(n.Scalar(), names);
    if (hint.empty()) hint = " (expected one of: " + JoinKeys(names) + ")";
    Error(n, "unknown " + std::string(what) + " " + Q(n.Scalar()) + hint);
    return std::nullopt;
  }
  // A string or a list of strings.
  std::optional<std::vector<std::string>> StrList(const Node& n, std::string_view what);
  std::optional<std::vector<std::pair<std::string, std::string>>> StrPairs(const Node& n,
                                                                           std::string_view what);
  std::optional<std::string> Base64Bytes(const Node& n, std::string_view what);
  std::optional<std::string> CaseId(const Node& n);
  std::optional<NullableString> NullableStr(const Node& n, std::string_view what);

  // ---- composite values shared by several families ------------------------------------------
  std::optional<std::vector<MqttUserProperty>> UserProperties(const Node& n);
  // A message body: YAML value + content type -> bytes. application/json (the default)
  // serialises the YAML value as JSON; text/* takes a string verbatim; octet-stream decodes
  // base64; any other content type takes a string verbatim (for 415 cases).
  bool Body(const Map& m, std::string& body, std::string& content_type,
            const std::string& default_type);
  std::optional<CountSpec> Count(const Node& n);
  std::optional<std::vector<uint8_t>> ReasonCodes(const Node& n);
  std::optional<std::vector<int>> Statuses(const Node& n);
  bool ReadWindow(const Map& m, TimeWindow& w);

  // ---- clients and references ---------------------------------------------------------------
  void AddClient(Client c, uint32_t index, bool broken);
  // One textual reference "name", "name[3]", "name[1..3]" or "all"; appends members.
  bool RefText(std::string_view text, const Node& at, const RefOptions& opt,
               std::vector<uint32_t>& out);
  void UndefinedClient(const Node& at, std::string_view name);
  std::optional<ClientRef> Ref(const Node& n, const RefOptions& opt);
  // Reports when a member of `ref` has a kind outside `kinds`; once per client.
  bool CheckKinds(const ClientRef& ref, const Node& at, std::initializer_list<ClientKind> kinds,
                  std::string_view what);
  bool AllMqtt5(const ClientRef& ref);
  // MQTT 5.0-only fields are errors for 3.1.1 clients.
  void RequireMqtt5(const ClientRef& ref, const Map& m, const Keys& keys);
  std::optional<ClientRef> ClientKey(const Map& m, const RefOptions& opt);

  // ---- labels and templates -----------------------------------------------------------------
  bool RegisterLabel(const Node& n, const std::string& label);
  std::optional<uint32_t> StepLabel(const Node& n);
  // Checks "${...}" templates in a string that the runner will substitute.
  void CheckTemplates(const Node& n, std::string_view s);
  std::optional<std::string> TemplStr(const Node& n, std::string_view what);

  // ---- steps ----------------------------------------------------------------------------------
  // Collects modifiers from `m` into `mods` (inner position), reporting ones given twice.
  void TakeModifiers(const Map& m, Modifiers& mods);
  std::optional<AckSpec> Ack(const Node& n);
  std::optional<Payload> ReadPayload(const Map& m, bool require);

  // Loader state the families share.
  std::set<uint32_t> broken_clients;      // clients whose definition failed (no kind checks)
  std::set<uint32_t> client_network_set;  // clients whose link settings are given
  std::map<uint32_t, std::string> rest_api_versions;  // rest client -> api_version
  std::vector<std::string> index_vars;                // repeat index names in scope
  std::vector<std::string> block_cases;  // case ids of the enclosing parallel/repeat blocks

 private:
  std::string file_;
  Scenario sc_;
  std::vector<Diagnostic> diags_;
  std::map<std::string, SourcePos> label_pos_;
};

}  // namespace wpsim::conformance::shape
