// Generates scenarios/schema.json from the shape tables (conformance/shape/schema.h).
#include "conformance/shape/schema.h"

#include "conformance/shape/expect.h"
#include "conformance/shape/sections.h"
#include "conformance/shape/steps.h"
#include "conformance/steps/internal.h"

namespace wpsim::conformance::shape {
namespace {

using Json = nlohmann::json;

const char kDurationPattern[] = "(0|[0-9]+(\\.[0-9]+)?\\s*(ns|us|\xc2\xb5s|ms|s|m|h))";

Json Described(Json schema, const std::string& doc) {
  schema["description"] = doc;
  return schema;
}

Json AnyOf(std::vector<Json> forms) {
  if (forms.size() == 1) return forms.front();
  return {{"anyOf", std::move(forms)}};
}

// A list of one item schema (or the item alone, or null when `nullable`).
Json ListOf(const Json& item, bool one_alone, bool nullable) {
  std::vector<Json> forms;
  if (nullable) forms.push_back({{"type", "null"}});
  if (one_alone) forms.push_back(item);
  forms.push_back({{"type", "array"}, {"minItems", 1}, {"items", item}});
  return AnyOf(std::move(forms));
}

// The value grammars the value types (conformance/shape/binding.h) refer to with SchemaRef.
Json ValueDefs() {
  const std::string duration = kDurationPattern;
  const Json scalar = {{"type", {"string", "number", "boolean"}}};
  const Json byte = {{"type", "integer"}, {"minimum", 0}, {"maximum", 255}};
  const Json status = {{"type", "integer"}, {"minimum", 100}, {"maximum", 599}};
  const Json count = {{"type", "integer"}, {"minimum", 0}};
  const Json property = {
      {"type", "object"},
      {"required", {"name", "value"}},
      {"additionalProperties", false},
      {"properties", {{"name", SchemaRef("scalar")}, {"value", SchemaRef("scalar")}}}};
  return {
      {"duration",
       Described(AnyOf({{{"type", "string"}, {"pattern", "^" + duration + "$"}}, {{"const", 0}}}),
                 "A duration with a unit: ns, us, ms, s, m, h (e.g. 5ms, 1.5s). Virtual in sim, "
                 "real elsewhere.")},
      {"signedDuration", Described({{"type", "string"}, {"pattern", "^[+-]?" + duration + "$"}},
                                   "A signed duration such as -10m or +30s.")},
      {"seconds", Described(SchemaRef("duration"),
                            "A whole number of seconds written as a duration (30s, 2m).")},
      {"secondsOrNever", AnyOf({SchemaRef("duration"), {{"const", "never"}}})},
      {"size",
       Described(AnyOf({count,
                        {{"type", "string"},
                         {"pattern", "^[0-9]+(\\.[0-9]+)?\\s*(B|KB|MB|GB|KiB|MiB|GiB)?$"}}}),
                 "Bytes: 1024, 100B, 1KB (1000), 1KiB (1024), MB, MiB, GB, GiB.")},
      {"bandwidth", Described({{"type", "string"},
                               {"pattern", "^[0-9]+(\\.[0-9]+)?\\s*(bps|kbps|Kbps|Mbps|Gbps)$"}},
                              "Bits per second: 10Mbps, 1Gbps, 500kbps.")},
      {"fraction",
       Described(AnyOf({{{"type", "number"}, {"minimum", 0}, {"maximum", 1}},
                        {{"type", "string"}, {"pattern", "^[0-9]+(\\.[0-9]+)?\\s*%?$"}}}),
                 "A percentage (1%) or a fraction (0.01).")},
      {"rate",
       Described({{"type", "string"},
                  {"pattern", "^[0-9]+\\s*/\\s*([0-9]+(\\.[0-9]+)?)?\\s*(ns|us|ms|s|m|h)$"}},
                 "Events per period: 1000/s, 50/ms, 10/5s.")},
      {"distribution",
       Described(
           {{"type", "string"},
            {"pattern",
             "^\\s*([0-9]|(constant|uniform|normal|lognormal|pareto|exponential)[\\s(])"}},
           "Latency distribution (sim/distribution.h): '5ms', 'constant 5ms', 'uniform 1ms 3ms', "
           "'normal mean=5ms stddev=1ms', 'lognormal median=5ms sigma=0.5', 'pareto scale=1ms "
           "shape=2.5 cap=1s', 'exponential mean=5ms'.")},
      {"scalar", scalar},
      {"nullableString", {{"type", {"string", "number", "boolean", "null"}}}},
      {"stringList",
       AnyOf({SchemaRef("scalar"), {{"type", "array"}, {"items", SchemaRef("scalar")}}})},
      {"clientRef",
       Described(AnyOf({{{"type", "string"},
                         {"pattern", "^[A-Za-z_][A-Za-z0-9_-]*(\\[[0-9]+(\\.\\.[0-9]+)?\\])?$"}},
                        {{"type", "array"}, {"minItems", 1}, {"items", {{"type", "string"}}}}}),
                 "A client, a cohort member (\"sub[2]\", quote it inside {...}), a range "
                 "(\"sub[1..3]\"), or a list of them.")},
      {"clientRefOrAll", AnyOf({SchemaRef("clientRef"), {{"const", "all"}}})},
      {"networkTarget", AnyOf({SchemaRef("clientRef"), {{"enum", {"all", "upstream"}}}})},
      {"userProperties",
       Described(AnyOf({{{"type", "object"}, {"additionalProperties", SchemaRef("scalar")}},
                        {{"type", "array"}, {"items", property}}}),
                 "MQTT 5.0 user properties: a mapping, or a list of {name, value} (names may "
                 "repeat).")},
      {"ack", Described(AnyOf({{{"enum", {"auto", "none", true, false}}}, count}),
                        "auto (the runner numbers acks per connection), none, or an explicit "
                        "ackId.")},
      {"caseId", Described({{"type", "string"}, {"pattern", "^[A-Z][A-Z0-9.]*(-[A-Z0-9.]+)+$"}},
                           "A conformance case id (docs/conformance.md), e.g. ROLE-003.")},
      {"label", {{"type", "string"}, {"pattern", "^[A-Za-z_][A-Za-z0-9_.-]*$"}}},
      {"statusList", ListOf(status, true, false)},
      {"reasonCodes", ListOf(byte, true, false)},
      {"count",
       AnyOf({count,
              {{"type", "object"},
               {"additionalProperties", false},
               {"minProperties", 1},
               {"properties", {{"exactly", count}, {"at_least", count}, {"at_most", count}}}}})},
  };
}

// A kind keyed mapping (`- connect: ...`, `- receive: {...}`): exactly one kind key, plus the
// modifiers beside it; `bare` kinds may also be written as a plain string (`- barrier`).
Json KindMapping(const Json& kinds, const std::vector<FieldDoc>& modifiers, const Json& bare) {
  Json props = kinds;
  Json one_of = Json::array();
  for (const auto& [name, schema] : kinds.items()) one_of.push_back({{"required", {name}}});
  for (const FieldDoc& m : modifiers) props[m.key] = ObjectSchema({m})["properties"][m.key];
  Json object = {{"type", "object"},
                 {"additionalProperties", false},
                 {"properties", props},
                 {"oneOf", one_of}};
  if (bare.empty()) return object;
  return {{"anyOf", {{{"enum", bare}}, object}}};
}

std::vector<FieldDoc> Concat(std::vector<FieldDoc> a, const std::vector<FieldDoc>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Json StepDef() {
  Json kinds = Json::object();
  Json bare = Json::array();
  for (const StepShape& s : AllSteps()) {
    std::vector<Json> forms;
    for (const Json& form : s.shorthand) {
      if (form == Json{{"type", "null"}}) bare.push_back(s.name);
      forms.push_back(form);
    }
    forms.push_back(ObjectSchema(Concat(s.fields, StepModifierDocs())));
    kinds[std::string(s.name)] = Described(AnyOf(std::move(forms)), s.doc);
  }
  return KindMapping(kinds, StepModifierDocs(), bare);
}

Json ExpectationDef() {
  Json kinds = Json::object();
  for (const ShapeDoc& e : ExpectationDocs()) {
    kinds[e.name] = Described(ObjectSchema(Concat(e.fields, ExpectModifierDocs())), e.doc);
  }
  return KindMapping(kinds, ExpectModifierDocs(), Json::array());
}

// `- name` or `{...}`: a mapping whose `field` may also be given alone.
Json ShorthandOr(const std::vector<FieldDoc>& fields, const std::string& field) {
  for (const FieldDoc& f : fields) {
    if (f.key == field) return AnyOf({f.schema, ObjectSchema(fields)});
  }
  return ObjectSchema(fields);
}

Json Defs() {
  Json defs = ValueDefs();
  defs["step"] = StepDef();
  defs["expectation"] = ExpectationDef();
  defs["matcher"] = ObjectSchema(MatcherDocs());
  defs["invariant"] = InvariantSchema();
  defs["threshold"] = ThresholdSchema();
  defs["client"] = ShorthandOr(DocsOf(ClientTable()), "kind");
  defs["token"] = ShorthandOr(DocsOf(TokenTable()), "fault");
  defs["link"] = ObjectSchema(DocsOf(LinkTable()));
  defs["will"] = ObjectSchema(WillDocs());
  defs["upstreamResponse"] = UpstreamResponseSchema();
  return defs;
}

}  // namespace

nlohmann::json ScenarioSchema() {
  Json schema = ObjectSchema(DocsOf(RootTable()));
  schema["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  schema["title"] = "wpsim conformance scenario";
  schema["description"] =
      "A wpsim scenario file (docs/scenarios.md), generated from the scenario language's shape "
      "tables by wpsim_scenario_reference. The loader checks more than this schema can "
      "(references, labels, client kinds); this schema is for editors and validators.";
  schema["$defs"] = Defs();
  return schema;
}

std::string ScenarioSchemaText() { return ScenarioSchema().dump(2) + "\n"; }

}  // namespace wpsim::conformance::shape
