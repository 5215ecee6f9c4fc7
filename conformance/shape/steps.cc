#include "conformance/shape/steps.h"

#include <algorithm>
#include <cctype>

namespace wpsim::conformance::shape {

bool StepInput::NeedMap(const Keys& keys) {
  Keys all = Concat({&keys, &kStepModifiers});
  if (NoArgs()) {
    c.Error(kind_node, what() + " needs arguments (a mapping with: " + JoinKeys(keys) + ")");
    return false;
  }
  map.emplace(c, value, what(), all);
  if (!map->ok()) return false;
  c.TakeModifiers(*map, mods);
  return true;
}

bool StepInput::NeedMapWithClient(const Keys& keys, std::optional<ClientRef>& clients) {
  if (!NeedMap(keys)) return false;
  clients = c.ClientKey(*map, {});
  return true;
}

std::optional<ClientRef> StepInput::ClientsOf(const Keys& extra_keys, const RefOptions& opt) {
  // A key without a value ("- connect:") has no position of its own: report at the key.
  if (NoArgs()) {
    c.Error(kind_node, what() + " needs a client, a list of clients, or a mapping with 'client'");
    return std::nullopt;
  }
  if (value.IsScalar() || value.IsSequence()) return c.Ref(value, opt);
  Keys keys = Concat({&extra_keys, &kStepModifiers});
  keys.insert(keys.begin(), "client");
  map.emplace(c, value, what(), keys);
  if (!map->ok()) return std::nullopt;
  c.TakeModifiers(*map, mods);
  return c.ClientKey(*map, opt);
}

void StepInput::Inline(const Node& at, ExpectArgs args) {
  inline_expects.push_back(Expectation{c.Pos(at), "", "", std::nullopt, std::move(args)});
}

void InlineClose(StepInput& in, const Node& v, const ClientRef& clients, std::string_view label,
                 uint64_t min, uint64_t max, bool http) {
  auto code = in.c.Uint(v, label, min, max);
  if (!code) return;
  ClosedExpect e;
  e.clients = clients;
  if (http) {
    e.http_status = static_cast<int>(*code);
  } else {
    e.code = static_cast<uint16_t>(*code);
  }
  in.Inline(v, e);
}

std::vector<FieldDoc> WithClient(std::vector<FieldDoc> fields) {
  fields.insert(fields.begin(), FieldDoc{"client", true, "client reference",
                                         "the clients (or the reference alone as the step's value)",
                                         SchemaRef("clientRef"), 0});
  return fields;
}

const std::vector<StepShape>& AllSteps() {
  static const std::vector<StepShape> all = [] {
    std::vector<StepShape> out;
    for (auto family : {WebSocketSteps, JsonSteps, ReliableSteps, MqttSteps, RestSteps, FlowSteps,
                        NetworkSteps, WireSteps}) {
      for (StepShape& s : family()) out.push_back(std::move(s));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const StepShape& a, const StepShape& b) { return a.kind < b.kind; });
    return out;
  }();
  return all;
}

const StepShape* FindStep(std::string_view name) {
  for (const StepShape& s : AllSteps()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

namespace {

// Lower case without '_' and '-': "send_to_group", "sendToGroup" and "SENDTOGROUP" are one name.
std::string Folded(std::string_view word) {
  std::string out;
  for (char ch : word) {
    if (ch != '_' && ch != '-')
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return out;
}

}  // namespace

std::string_view StepForProtocolName(std::string_view name) {
  // The name itself in any spelling convention first ("UNSUBSCRIBE" is not a typo of
  // "SUBSCRIBE"), then a plausible typo of one, as every other suggestion.
  for (const StepShape& s : AllSteps()) {
    for (std::string_view p : s.protocol_names) {
      if (Folded(p) == Folded(name)) return s.name;
    }
  }
  for (const StepShape& s : AllSteps()) {
    if (!SuggestClosest(name, s.protocol_names).empty()) return s.name;
  }
  return "";
}

}  // namespace wpsim::conformance::shape
