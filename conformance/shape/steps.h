// Step kinds are registered per family (conformance/steps/<family>.cc, its Register function in
// conformance/driver.h): one AddStep line per kind with its StepShape, naming its YAML key, the
// reader that fills Step::args, its documented fields and the protocol's own names for it (so
// "joinGroup" gets "did you mean 'join'?"), and how it runs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/shape/binding.h"
#include "conformance/shape/context.h"

namespace wpsim::conformance::shape {

// What a step reader gets: the step being read and how to read its value.
struct StepInput {
  Context& c;
  std::string kind;  // the YAML key
  Node kind_node;
  Node value;
  Step& step;
  Modifiers& mods;
  std::vector<Expectation>& inline_expects;
  // Reads a child step of a block (parallel, repeat) with the given parent id.
  std::function<std::optional<uint32_t>(const Node&, uint32_t)> read_child;
  std::optional<Map> map;  // the value as a mapping, once NeedMap or ClientsOf made it

  std::string what() const { return "step " + Q(kind); }
  bool NoArgs() const { return !value.IsDefined() || value.IsNull(); }
  // The value must be a mapping with `keys` (plus the modifiers); reports and returns false
  // otherwise. Fills `map` and takes the modifiers written inside.
  bool NeedMap(const Keys& keys);
  // NeedMap, then the mapping's required `client` (nullopt when missing or unresolved).
  bool NeedMapWithClient(const Keys& keys, std::optional<ClientRef>& clients);
  // Steps addressed to clients: `connect: a`, `connect: [a, b]`, or a mapping with `client`
  // and `extra_keys`. Fills `map` when the value is a mapping.
  std::optional<ClientRef> ClientsOf(const Keys& extra_keys, const RefOptions& opt = {});
  // An inline check (expect_status, expect_ack, ...) that becomes an Expectation at `at`.
  void Inline(const Node& at, ExpectArgs args);
};

// An inline close check: `v` is a close code (min..max) or, with `http`, the status of a refused
// upgrade; it becomes a ClosedExpect for `clients`.
void InlineClose(StepInput& in, const Node& v, const ClientRef& clients, std::string_view label,
                 uint64_t min, uint64_t max, bool http);

// A step addressed to clients whose mapping form holds `table`'s keys: the clients (checked to be
// of `kinds`) into s.clients, and the table's fields when the value is a mapping.
template <typename S>
bool ReadClientsStep(StepInput& in, const Table<S>& table, std::initializer_list<ClientKind> kinds,
                     S& s) {
  auto ref = in.ClientsOf(KeysOf(table));
  if (!ref) return false;
  s.clients = *ref;
  in.c.CheckKinds(s.clients, in.value, kinds, in.what());
  if (in.map) ReadFields(in.c, *in.map, table, s);
  return true;
}

struct StepShape {
  std::string_view name;  // the YAML key
  bool (*read)(StepInput&);
  std::string doc;
  std::vector<FieldDoc> fields;  // the keys of its mapping form (without the modifiers)
  Keys protocol_names;           // the protocol's names for what it does ("joinGroup")
  // The JSON schemas of its other forms than the mapping (`- connect: a`, `- wait: 1s`);
  // {"type": "null"} allows the bare kind (`- barrier`, `- barrier:`).
  std::vector<nlohmann::json> shorthand = {};
  StepKind kind = nullptr;  // its step type, set by its registration (FamilyRegistry::AddStep<T>)
};

// The step modifiers (as, at, timeout, async, case), documented.
const std::vector<FieldDoc>& StepModifierDocs();

// `fields` behind a required `client` (steps read with StepInput::ClientsOf, which also take the
// reference alone: `- kill: a`).
std::vector<FieldDoc> WithClient(std::vector<FieldDoc> fields);

// Every step kind, in registration order (derived from the families' registrations,
// conformance/driver_registry.cc).
const std::vector<StepShape>& AllSteps();
const StepShape* FindStep(std::string_view name);
// The step a protocol name stands for ("joinGroup" -> "join"), or "".
std::string_view StepForProtocolName(std::string_view name);

}  // namespace wpsim::conformance::shape
