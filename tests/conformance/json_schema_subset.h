// A small JSON Schema validator for the keywords scenarios/schema.json uses, so the test suite
// can check scenario files against the schema without a new dependency (nlohmann-json has no
// validator). Supported: $ref (local "#/$defs/name"), type, enum, const, pattern, minLength,
// minimum, maximum, items, minItems, properties, required, additionalProperties,
// propertyNames, minProperties, maxProperties, anyOf, oneOf, and boolean schemas. Annotations
// ($schema, title, description) are ignored; any other keyword is reported as unsupported,
// so the schema cannot silently rely on something this validator does not check.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace wpsim::conformance::testing {

class JsonSchemaSubset {
 public:
  explicit JsonSchemaSubset(nlohmann::json schema) : root_(std::move(schema)) {}

  // Problems as "<json pointer>: <message>"; empty when the instance is valid.
  std::vector<std::string> Validate(const nlohmann::json& instance) {
    std::vector<std::string> errors;
    Check(root_, instance, "", errors);
    return errors;
  }

 private:
  static std::string TypeOf(const nlohmann::json& v) {
    if (v.is_null()) return "null";
    if (v.is_boolean()) return "boolean";
    if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
    if (v.is_number_float()) return v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>())) ? "integer" : "number";
    if (v.is_string()) return "string";
    if (v.is_array()) return "array";
    return "object";
  }
  static bool HasType(const nlohmann::json& v, const std::string& t) {
    std::string actual = TypeOf(v);
    return actual == t || (t == "number" && actual == "integer");
  }
  const std::regex& Regex(const std::string& pattern) {
    auto it = regex_cache_.find(pattern);
    if (it == regex_cache_.end()) it = regex_cache_.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
    return it->second;
  }
  const nlohmann::json& Resolve(const std::string& ref) {
    const std::string prefix = "#/$defs/";
    static const nlohmann::json kFalse = false;
    if (ref.rfind(prefix, 0) != 0 || !root_["$defs"].contains(ref.substr(prefix.size()))) return kFalse;
    return root_["$defs"][ref.substr(prefix.size())];
  }

  void Check(const nlohmann::json& schema, const nlohmann::json& v, const std::string& path,
             std::vector<std::string>& errors) {
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) errors.push_back(path + ": not allowed here");
      return;
    }
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      const std::string& k = it.key();
      const nlohmann::json& s = it.value();
      if (k == "$schema" || k == "$defs" || k == "title" || k == "description") continue;
      if (k == "$ref") {
        Check(Resolve(s.get<std::string>()), v, path, errors);
      } else if (k == "type") {
        bool ok = false;
        if (s.is_string()) {
          ok = HasType(v, s.get<std::string>());
        } else {
          for (const auto& t : s) ok = ok || HasType(v, t.get<std::string>());
        }
        if (!ok) errors.push_back(path + ": expected type " + s.dump() + ", got " + TypeOf(v));
      } else if (k == "enum") {
        bool ok = false;
        for (const auto& e : s) ok = ok || e == v;
        if (!ok) errors.push_back(path + ": " + v.dump() + " is not one of " + s.dump());
      } else if (k == "const") {
        if (s != v) errors.push_back(path + ": expected " + s.dump());
      } else if (k == "pattern") {
        if (v.is_string() && !std::regex_search(v.get<std::string>(), Regex(s.get<std::string>()))) {
          errors.push_back(path + ": " + v.dump() + " does not match " + s.get<std::string>());
        }
      } else if (k == "minLength") {
        if (v.is_string() && v.get<std::string>().size() < s.get<size_t>()) errors.push_back(path + ": too short");
      } else if (k == "minimum") {
        if (v.is_number() && v.get<double>() < s.get<double>()) errors.push_back(path + ": below " + s.dump());
      } else if (k == "maximum") {
        if (v.is_number() && v.get<double>() > s.get<double>()) errors.push_back(path + ": above " + s.dump());
      } else if (k == "items") {
        if (v.is_array()) {
          for (size_t i = 0; i < v.size(); ++i) Check(s, v[i], path + "/" + std::to_string(i), errors);
        }
      } else if (k == "minItems") {
        if (v.is_array() && v.size() < s.get<size_t>()) errors.push_back(path + ": fewer than " + s.dump() + " items");
      } else if (k == "properties") {
        if (v.is_object()) {
          for (auto p = s.begin(); p != s.end(); ++p) {
            if (v.contains(p.key())) Check(p.value(), v[p.key()], path + "/" + p.key(), errors);
          }
        }
      } else if (k == "required") {
        if (v.is_object()) {
          for (const auto& r : s) {
            if (!v.contains(r.get<std::string>())) errors.push_back(path + ": missing " + r.dump());
          }
        }
      } else if (k == "additionalProperties") {
        if (v.is_object()) {
          const nlohmann::json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
          for (auto p = v.begin(); p != v.end(); ++p) {
            if (props && props->contains(p.key())) continue;
            if (s.is_boolean() && !s.get<bool>()) {
              errors.push_back(path + ": unexpected property \"" + p.key() + "\"");
            } else {
              Check(s, p.value(), path + "/" + p.key(), errors);
            }
          }
        }
      } else if (k == "propertyNames") {
        if (v.is_object()) {
          for (auto p = v.begin(); p != v.end(); ++p) Check(s, p.key(), path + "/" + p.key(), errors);
        }
      } else if (k == "minProperties") {
        if (v.is_object() && v.size() < s.get<size_t>()) errors.push_back(path + ": too few properties");
      } else if (k == "maxProperties") {
        if (v.is_object() && v.size() > s.get<size_t>()) errors.push_back(path + ": too many properties");
      } else if (k == "anyOf" || k == "oneOf") {
        size_t matches = 0;
        std::vector<std::string> branch_errors;
        for (const auto& branch : s) {
          std::vector<std::string> e;
          Check(branch, v, path, e);
          if (e.empty()) {
            ++matches;
          } else {
            branch_errors.insert(branch_errors.end(), e.begin(), e.end());
          }
        }
        if (matches == 0) {
          std::string detail;
          for (const std::string& e : branch_errors) detail += "\n    " + e;
          errors.push_back(path + ": matches none of " + k + detail);
        } else if (k == "oneOf" && matches > 1) {
          errors.push_back(path + ": matches " + std::to_string(matches) + " branches of oneOf");
        }
      } else {
        errors.push_back(path + ": unsupported schema keyword \"" + k + "\"");
      }
    }
  }

  nlohmann::json root_;
  std::map<std::string, std::regex> regex_cache_;
};

}  // namespace wpsim::conformance::testing
