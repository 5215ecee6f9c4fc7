// The value types of the binding (conformance/shape/binding.h): each wraps one Context reader
// with its doc text and JSON schema (schema definitions live in scenarios/schema.json's $defs).
#include "conformance/shape/binding.h"

#include "conformance/shape/sections.h"
#include "conformance/units.h"
#include "conformance/yaml_json.h"

namespace wpsim::conformance::shape {
namespace {

nlohmann::json Ref(std::string_view def) { return SchemaRef(def); }

}  // namespace

nlohmann::json SchemaRef(std::string_view def) { return {{"$ref", "#/$defs/" + std::string(def)}}; }

nlohmann::json ObjectSchema(const std::vector<FieldDoc>& fields) {
  nlohmann::json props = nlohmann::json::object();
  nlohmann::json required = nlohmann::json::array();
  for (const FieldDoc& f : fields) {
    // A key documented without a schema takes any value.
    nlohmann::json schema = f.schema.is_null() ? nlohmann::json::object() : f.schema;
    if (schema.is_object() && !f.doc.empty()) schema["description"] = f.doc;
    props[f.key] = std::move(schema);
    if (f.required) required.push_back(f.key);
  }
  nlohmann::json out = {{"type", "object"}, {"additionalProperties", false}, {"properties", props}};
  if (!required.empty()) out["required"] = required;
  return out;
}

ValueType<std::string> String() {
  return {[](Context& c, const Node& n, std::string_view label) { return c.Str(n, label); },
          "string", Ref("scalar")};
}

ValueType<std::string> NonEmptyString() {
  return {[](Context& c, const Node& n, std::string_view label) { return c.NonEmptyStr(n, label); },
          "non-empty string",
          {{"type", "string"}, {"minLength", 1}}};
}

ValueType<std::string> TemplateString() {
  return {[](Context& c, const Node& n, std::string_view label) { return c.TemplStr(n, label); },
          "string with ${...} templates", Ref("scalar")};
}

ValueType<bool> Boolean() {
  return {[](Context& c, const Node& n, std::string_view label) { return c.Bool(n, label); },
          "true/false",
          {{"type", "boolean"}}};
}

ValueType<uint64_t> Integer(uint64_t min, uint64_t max) {
  nlohmann::json schema = {{"type", "integer"}, {"minimum", min}};
  std::string doc = "integer " + std::to_string(min) + "..";
  if (max != UINT64_MAX) {
    schema["maximum"] = max;
    doc += std::to_string(max);
  }
  return {[min, max](Context& c, const Node& n, std::string_view label) {
            return c.Uint(n, label, min, max);
          },
          doc, schema};
}

ValueType<int64_t> DurationValue() {
  return {[](Context& c, const Node& n, std::string_view label) { return c.Duration(n, label); },
          "duration", Ref("duration")};
}

ValueType<int64_t> PositiveDurationValue() {
  return {[](Context& c, const Node& n, std::string_view label) {
            return c.PositiveDuration(n, label);
          },
          "duration > 0", Ref("duration")};
}

ValueType<uint32_t> SecondsValue(bool allow_never) {
  return {[allow_never](Context& c, const Node& n, std::string_view label) {
            return c.Seconds(n, label, allow_never);
          },
          allow_never ? "seconds or never" : "seconds",
          Ref(allow_never ? "secondsOrNever" : "seconds")};
}

ValueType<std::vector<std::string>> StringList() {
  return {[](Context& c, const Node& n, std::string_view label) { return c.StrList(n, label); },
          "string or list", Ref("stringList")};
}

ValueType<std::vector<std::pair<std::string, std::string>>> StringMap() {
  return {[](Context& c, const Node& n, std::string_view label) { return c.StrPairs(n, label); },
          "mapping of strings",
          {{"type", "object"}, {"additionalProperties", Ref("scalar")}}};
}

ValueType<std::string> Base64Value() {
  return {[](Context& c, const Node& n, std::string_view label) { return c.Base64Bytes(n, label); },
          "base64",
          {{"type", "string"}}};
}

ValueType<std::vector<MqttUserProperty>> UserPropertiesValue() {
  return {[](Context& c, const Node& n, std::string_view) { return c.UserProperties(n); },
          "user properties", Ref("userProperties")};
}

ValueType<uint64_t> ByteSizeValue(bool positive) {
  return {[positive](Context& c, const Node& n, std::string_view label) -> std::optional<uint64_t> {
            auto s = c.Str(n, label);
            if (!s) return std::nullopt;
            auto b = ParseByteSize(*s);
            if (b.ok() && (!positive || *b > 0)) return *b;
            c.Error(n,
                    b.ok() ? std::string(label) + " must be larger than zero" : b.error().message);
            return std::nullopt;
          },
          positive ? "size > 0" : "size", Ref("size")};
}

ValueType<ClientRef> ClientRefValue(RefOptions options) {
  return {[options](Context& c, const Node& n, std::string_view) { return c.Ref(n, options); },
          "client reference", Ref(options.allow_all ? "clientRefOrAll" : "clientRef")};
}

ValueType<nlohmann::json> JsonValue() {
  return {[](Context&, const Node& n, std::string_view) -> std::optional<nlohmann::json> {
            return YamlToJson(n);
          },
          "any value", nlohmann::json::object()};
}

ValueType<NullableString> NullableStringValue() {
  return {[](Context& c, const Node& n, std::string_view label) { return c.NullableStr(n, label); },
          "string or null", Ref("nullableString")};
}

ValueType<std::vector<std::string>> SubprotocolList() {
  return {
      [](Context& c, const Node& n,
         std::string_view label) -> std::optional<std::vector<std::string>> {
        if (n.IsSequence() && n.size() == 0) return std::vector<std::string>{};
        return c.StrList(n, label);
      },
      "string or list",
      {{"anyOf", {{{"type", "string"}}, {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
}

ValueType<TokenOptions> TokenValue(bool rest) {
  return {[rest](Context& c, const Node& n, std::string_view) { return ReadToken(c, n, rest); },
          "token options", Ref("token")};
}

}  // namespace wpsim::conformance::shape
