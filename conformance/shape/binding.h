// The scenario language's declarative binding: per struct, a table of fields (YAML key, where
// the value goes, how it is read, required or optional, doc string). The loader decodes a mapping
// through a table (ReadFields), the allowed keys of the mapping come from the same table
// (KeysOf), and the reference tables of docs/scenarios.md and scenarios/schema.json are
// generated from it (FieldDocs; see conformance/shape/reference.h).
//
// A field is made from a member pointer and a value type:
//   Opt("qos", &MqttWill::qos, Integer(0, 2), "QoS of the Will message")
// reads `qos` when present, checks it is 0..2 (reporting "expected an integer from 0 to 2 for
// qos, got ..." at the value otherwise) and stores it in MqttWill::qos (any integer or
// std::optional<integer> member). A field whose rule involves other fields is written with
// Custom(key, type, doc, reader).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "conformance/shape/context.h"

namespace wpsim::conformance::shape {

// How one YAML value is read (reporting into the context) and described.
template <typename V>
struct ValueType {
  // `label` names the value in messages ("expected true or false for <label>").
  std::function<std::optional<V>(Context&, const Node&, std::string_view label)> read;
  std::string doc;        // "duration", "integer 0..2", ...
  nlohmann::json schema;  // the JSON schema of the value
};

// The description of one field, for docs and schema.
struct FieldDoc {
  std::string key;
  bool required = false;
  std::string type;
  std::string doc;
  nlohmann::json schema;
  unsigned kinds = 0;
};

// A kind of thing (a step kind, an expectation kind) and its keys.
struct ShapeDoc {
  std::string name;
  std::string doc;
  std::vector<FieldDoc> fields;
};

constexpr unsigned KindBit(ClientKind k) { return 1u << static_cast<unsigned>(k); }

template <typename T>
struct Field {
  std::string_view key;
  bool required = false;
  std::string type;
  std::string doc;
  nlohmann::json schema;
  std::function<void(Context&, const Node&, T&)> read;
  unsigned kinds = 0;  // the client kinds the key applies to (KindBit); 0: every kind
};

template <typename T>
using Table = std::vector<Field<T>>;

// The field, applying only to clients of `kinds` (KindBit mask).
template <typename T>
Field<T> For(unsigned kinds, Field<T> f) {
  f.kinds = kinds;
  return f;
}

namespace detail {
template <typename M>
struct Target {
  using type = M;
};
template <typename M>
struct Target<std::optional<M>> {
  using type = M;
};
template <typename M, typename V>
void Assign(M& member, V&& value) {
  using To = typename Target<M>::type;
  if constexpr (std::is_arithmetic_v<To> && std::is_arithmetic_v<std::decay_t<V>>) {
    member = static_cast<To>(value);
  } else {
    member = std::forward<V>(value);
  }
}
}  // namespace detail

// A field stored in a member; `label` names it in messages (default: the key).
template <typename T, typename M, typename V>
Field<T> Opt(std::string_view key, M T::*member, ValueType<V> type, std::string doc,
             std::string_view label = {}) {
  std::string name(label.empty() ? key : label);
  auto read = type.read;
  return Field<T>{key,
                  false,
                  type.doc,
                  std::move(doc),
                  type.schema,
                  [member, read, name](Context& c, const Node& n, T& out) {
                    if (auto v = read(c, n, name)) detail::Assign(out.*member, std::move(*v));
                  }};
}
template <typename T, typename M, typename V>
Field<T> Req(std::string_view key, M T::*member, ValueType<V> type, std::string doc,
             std::string_view label = {}) {
  Field<T> f = Opt(key, member, std::move(type), std::move(doc), label);
  f.required = true;
  return f;
}
// A field read by hand (its rule involves other fields or the context).
template <typename T>
Field<T> Custom(std::string_view key, std::string type, nlohmann::json schema, std::string doc,
                std::function<void(Context&, const Node&, T&)> read, bool required = false) {
  return Field<T>{
      key, required, std::move(type), std::move(doc), std::move(schema), std::move(read)};
}
// A documented key whose value the caller reads itself (e.g. a choice between keys).
template <typename T>
Field<T> Declared(std::string_view key, std::string type, nlohmann::json schema, std::string doc,
                  bool required = false) {
  return Field<T>{key, required, std::move(type), std::move(doc), std::move(schema), nullptr};
}

template <typename T>
Keys KeysOf(const Table<T>& table) {
  Keys keys;
  for (const Field<T>& f : table) keys.push_back(f.key);
  return keys;
}

// Reads every field of `table` present in `m`, in table order; a missing required field is
// reported at the mapping.
template <typename T>
void ReadFields(Context& c, const Map& m, const Table<T>& table, T& out) {
  for (const Field<T>& f : table) {
    if (!f.read) continue;
    std::optional<Node> v = f.required ? m.Required(c, f.key) : m.Get(f.key);
    if (v) f.read(c, *v, out);
  }
}

// A field of a nested struct, read into `outer.*member`.
template <typename Outer, typename Inner>
Field<Outer> In(Inner Outer::*member, Field<Inner> f) {
  auto read = std::move(f.read);
  return Field<Outer>{
      f.key,
      f.required,
      std::move(f.type),
      std::move(f.doc),
      std::move(f.schema),
      [member, read](Context& c, const Node& n, Outer& out) { read(c, n, out.*member); },
      f.kinds};
}
template <typename Outer, typename Inner>
Table<Outer> In(Inner Outer::*member, const Table<Inner>& table) {
  Table<Outer> out;
  for (const Field<Inner>& f : table) out.push_back(In(member, f));
  return out;
}
template <typename T>
std::vector<FieldDoc> DocsOf(const Table<T>& table);
// The JSON schema of a mapping with `fields` and no other key: each key's schema with its doc
// string as description, the required ones required (scenarios/schema.json).
nlohmann::json ObjectSchema(const std::vector<FieldDoc>& fields);

// A key whose value is a mapping read through `sub` into the same struct (`what` names it in
// messages), e.g. service.reliable_buffer: {messages, bytes}.
template <typename T>
Field<T> Section(std::string_view key, std::string what, const Table<T>* sub, std::string doc) {
  return Custom<T>(key, "mapping", ObjectSchema(DocsOf(*sub)), std::move(doc),
                   [sub, what](Context& c, const Node& n, T& out) {
                     Map m(c, n, what, KeysOf(*sub));
                     if (m.ok()) ReadFields(c, m, *sub, out);
                   });
}

// `table` without the fields named in `keys`.
template <typename T>
Table<T> Without(Table<T> table, const Keys& keys) {
  std::erase_if(table, [&](const Field<T>& f) { return Contains(keys, f.key); });
  return table;
}
template <typename T>
Table<T> Join(Table<T> a, const Table<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

template <typename T>
std::vector<FieldDoc> DocsOf(const Table<T>& table) {
  std::vector<FieldDoc> out;
  for (const Field<T>& f : table)
    out.push_back({std::string(f.key), f.required, f.type, f.doc, f.schema, f.kinds});
  return out;
}

// ---- value types ----------------------------------------------------------------------------

ValueType<std::string> String();
ValueType<std::string> NonEmptyString();
// A string that may hold ${...} templates (checked against the clients and repeat indices).
ValueType<std::string> TemplateString();
ValueType<bool> Boolean();
ValueType<uint64_t> Integer(uint64_t min, uint64_t max);
ValueType<int64_t> DurationValue();
ValueType<int64_t> PositiveDurationValue();
// A duration that is a whole number of seconds; `allow_never`: "never" is 0xFFFFFFFF.
ValueType<uint32_t> SecondsValue(bool allow_never);
ValueType<std::vector<std::string>> StringList();
ValueType<std::vector<std::pair<std::string, std::string>>> StringMap();
ValueType<std::string> Base64Value();
ValueType<std::vector<MqttUserProperty>> UserPropertiesValue();
// A size like 64KiB; `positive`: zero is rejected with "<label> must be larger than zero".
ValueType<uint64_t> ByteSizeValue(bool positive);
ValueType<ClientRef> ClientRefValue(RefOptions options);
ValueType<nlohmann::json> JsonValue();            // any YAML value, as JSON
ValueType<NullableString> NullableStringValue();  // a string, or null
// Offered WebSocket subprotocols: a string or a list ([] offers none).
ValueType<std::vector<std::string>> SubprotocolList();
// Token options (a bare fault name is shorthand); `rest`: for a rest client.
ValueType<TokenOptions> TokenValue(bool rest);
nlohmann::json SchemaRef(std::string_view def);  // {"$ref": "#/$defs/<def>"}

template <typename E>
ValueType<E> EnumValue(const std::vector<EnumName<E>>* table, std::string_view what) {
  nlohmann::json names = nlohmann::json::array();
  std::string doc;
  for (const auto& e : *table) {
    names.push_back(e.name);
    doc += (doc.empty() ? "" : ", ") + std::string(e.name);
  }
  std::string label(what);
  return ValueType<E>{[table, label](Context& c, const Node& n, std::string_view) {
                        return c.Enum(n, label, *table);
                      },
                      "one of " + doc, nlohmann::json{{"enum", names}}};
}

// A string parsed by `parse` (a Result-returning function such as ParseRate); its error
// message is reported at the value.
template <typename V, typename Parse>
ValueType<V> Parsed(Parse parse, std::string doc, nlohmann::json schema) {
  return {[parse](Context& c, const Node& n, std::string_view label) -> std::optional<V> {
            auto s = c.Str(n, label);
            if (!s) return std::nullopt;
            auto r = parse(*s);
            if (r.ok()) return V(*r);
            c.Error(n, r.error().message);
            return std::nullopt;
          },
          std::move(doc), std::move(schema)};
}

// The same value type under another label in messages.
template <typename V>
ValueType<V> Labelled(ValueType<V> type, std::string label) {
  auto read = type.read;
  type.read = [read, label](Context& c, const Node& n, std::string_view) {
    return read(c, n, label);
  };
  return type;
}

}  // namespace wpsim::conformance::shape
