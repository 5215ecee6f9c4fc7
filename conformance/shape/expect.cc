// The expect, invariants and thresholds sections. Each expectation kind is one ExpectShape: its
// key, its fields (tables) and its reader; message matchers are one table whose fields say which
// client kinds they apply to.
#include "conformance/shape/expect.h"

#include <algorithm>

#include "conformance/shape/sections.h"
#include "conformance/steps/internal.h"
#include "conformance/yaml_json.h"

namespace wpsim::conformance::shape {
namespace {

// JSON subprotocol kinds and their protobuf twins (the same messages in another encoding).
constexpr unsigned kJson = KindBit(ClientKind::kJson) | KindBit(ClientKind::kReliable) |
                           KindBit(ClientKind::kProtobuf) | KindBit(ClientKind::kReliableProtobuf);
constexpr unsigned kWs = KindBit(ClientKind::kWebSocket);
constexpr unsigned kMqtt = KindBit(ClientKind::kMqtt311) | KindBit(ClientKind::kMqtt5);

const std::vector<EnumName<MessageMatcher::Frame>> kFrames = {
    {"text", MessageMatcher::Frame::kText}, {"binary", MessageMatcher::Frame::kBinary}};
const std::vector<EnumName<InvariantKind>> kInvariants = {
    {"no_delivery_outside_group", InvariantKind::kNoDeliveryOutsideGroup},
    {"per_publisher_order", InvariantKind::kPerPublisherOrder},
    {"no_duplicates", InvariantKind::kNoDuplicates},
    {"sequence_ids_contiguous", InvariantKind::kSequenceIdsContiguous}};
const Keys kExpectModifiers = {"as", "case"};

using MM = MessageMatcher;

void ReadFrom(Context& c, const Node& v, MM& x) {
  auto s = c.Str(v, "from");
  if (!s) return;
  if (*s == "group" || *s == "server") {
    x.from = *s;
    return;
  }
  c.Error(v, "unknown message source " + Q(*s) + c.Suggest(*s, {"group", "server"}) +
                 (SuggestClosest(*s, {"group", "server"}).empty() ? " (expected group or server)"
                                                                  : ""));
}

void ReadData(Context& c, const Node& v, MM& x) {
  if (x.data_type && (*x.data_type == DataType::kText) && v.IsScalar()) {
    x.data = v.Scalar();  // text data is a string even if it looks like a number
  } else if (x.data_type &&
             (*x.data_type == DataType::kBinary || *x.data_type == DataType::kProtobuf)) {
    if (c.Base64Bytes(v, "binary data")) x.data = v.Scalar();
  } else {
    x.data = YamlToJson(v);
  }
}

void ReadSequenceId(Context& c, const Node& v, MM& x) {
  if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) {
    x.sequence_id = SequenceIdMatch{v.Scalar() == "true", std::nullopt};
  } else if (auto id = c.Uint(v, "sequence_id", 1, UINT64_MAX)) {
    x.sequence_id = SequenceIdMatch{true, *id};
  }
}

const Table<MM>& MatcherTable() {
  static const Table<MM> t = {
      For(kJson, Opt("type", &MM::type, NonEmptyString(),
                     "message, ack, system, pong, invokeResponse, streamAck, ...")),
      For(kJson, Custom<MM>("from", "group or server", {{"enum", {"group", "server"}}},
                            "the message's source", ReadFrom)),
      For(kJson, Opt("group", &MM::group, String(), "the group")),
      For(kJson, Opt("data_type", &MM::data_type, EnumValue(&kDataTypes, "data type"),
                     "json, text, binary, protobuf")),
      For(kJson | kWs | kMqtt,
          Custom<MM>("data", "any value", nlohmann::json::object(),
                     "exact data (JSON equality; text: a string; binary: base64; websocket: "
                     "the JSON-parsed text frame; mqtt: the JSON-parsed payload)",
                     ReadData)),
      For(kJson | kWs | kMqtt,
          Opt("data_contains", &MM::data_contains, String(), "a substring of the data")),
      For(kJson, Opt("user_id", &MM::user_id, NullableStringValue(), "userId (null: absent)")),
      For(kJson, Opt("from_user_id", &MM::from_user_id, NullableStringValue(),
                     "fromUserId (null: absent)")),
      For(kJson, Opt("event", &MM::event, String(), "system event name")),
      For(kJson,
          Opt("connection_id", &MM::connection_id, ClientRefValue(RefOptions{.single = true}),
              "equals that member's connection id")),
      For(kJson, Opt("message", &MM::message, String(), "system/disconnected message, exactly")),
      For(kJson, Opt("ack_id", &MM::ack_id, Integer(0, UINT64_MAX), "ackId")),
      For(kJson, Opt("success", &MM::success, Boolean(),
                     "success of an ack, invokeResponse or streamClosed")),
      For(kJson, Opt("error", &MM::error, String(),
                     "error name of an ack, invokeResponse, streamNack, streamClosed or a "
                     "stream's terminal message")),
      For(kJson,
          Opt("error_message", &MM::error_message, String(), "that error's message, exactly")),
      For(kJson, Opt("invocation_id", &MM::invocation_id, String(), "invokeResponse invocationId")),
      For(kJson, Opt("stream_id", &MM::stream_id, String(),
                     "streamId of a stream answer or a stream's group message")),
      For(kJson, Opt("stream_sequence_id", &MM::stream_sequence_id, Integer(1, UINT64_MAX),
                     "streamSequenceId of a stream's group message")),
      For(kJson, Opt("end_of_stream", &MM::end_of_stream, Boolean(),
                     "endOfStream of a stream's group message")),
      For(kJson, Opt("expected_sequence_id", &MM::expected_sequence_id, Integer(0, UINT64_MAX),
                     "expectedSequenceId of a streamAck or streamNack")),
      For(kJson, Opt("user_error_code", &MM::user_error_code, String(),
                     "userErrorCode of a stream's terminal message")),
      For(kJson, Opt("metadata", &MM::metadata, StringMap(),
                     "a data message's metadata: exactly these pairs, any order ({}: none)")),
      For(kJson,
          Custom<MM>("sequence_id", "number or true/false",
                     {{"anyOf", {{{"type", "integer"}, {"minimum", 1}}, {{"type", "boolean"}}}}},
                     "sequenceId (false: must not carry one)", ReadSequenceId)),
      For(kJson, Opt("reconnection_token", &MM::reconnection_token, Boolean(),
                     "a reconnection token is present")),
      For(kWs, Opt("frame", &MM::frame, EnumValue(&kFrames, "frame type"), "text or binary")),
      For(kWs, Opt("text", &MM::text, String(), "a text frame, exactly")),
      For(kWs, Opt("binary", &MM::binary, Base64Value(), "a binary frame, exactly (base64)")),
      For(kMqtt, Opt("topic", &MM::topic, String(), "the topic")),
      For(kMqtt, Opt("qos", &MM::qos, Integer(0, 2), "QoS")),
      For(kMqtt, Opt("retain", &MM::retain, Boolean(), "retain flag")),
      For(kMqtt, Opt("payload", &MM::payload, String(), "the payload, exactly")),
      For(kMqtt, Opt("content_type", &MM::content_type, String(), "5.0 Content Type")),
      For(kMqtt, Opt("message_expiry", &MM::message_expiry_s, SecondsValue(false),
                     "5.0 Message Expiry Interval")),
      For(kMqtt, Opt("response_topic", &MM::response_topic, String(), "5.0 Response Topic")),
      For(kMqtt, Opt("correlation_data", &MM::correlation_data, String(), "5.0 Correlation Data")),
      For(kMqtt, Opt("user_properties", &MM::user_properties, UserPropertiesValue(),
                     "each must be present")),
      For(kMqtt, Opt("subscription_identifier", &MM::subscription_identifier, Integer(1, 268435455),
                     "5.0 Subscription Identifier")),
      For(kMqtt, Opt("payload_format_indicator", &MM::payload_format_indicator, Integer(0, 1),
                     "5.0 Payload Format Indicator")),
  };
  return t;
}

// Reads the matcher keys present in `m`, checking that each applies to `clients`' kinds.
MM ReadMatcher(Context& c, const Map& m, const ClientRef& clients) {
  MM x;
  x.pos = c.Pos(m.node());
  const Scenario& sc = c.scenario();
  std::vector<ClientKind> kinds;
  for (uint32_t mem : clients.members) {
    uint32_t ci = sc.members[mem].client;
    if (c.broken_clients.count(ci)) continue;
    ClientKind k = sc.clients[ci].kind;
    if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
  }
  for (const Field<MM>& f : MatcherTable()) {
    auto key = m.Key(f.key);
    if (!key) continue;
    for (ClientKind k : kinds) {
      if ((KindBit(k) & f.kinds) == 0) {
        c.Error(*key, "matcher key " + Q(f.key) + " does not apply to " +
                          std::string(ClientKindName(k)) + " clients");
        break;
      }
    }
  }
  ReadFields(c, m, MatcherTable(), x);
  return x;
}

// ---- expectation kinds --------------------------------------------------------------------

struct ExpectInput {
  Context& c;
  const std::string& what;
  const Node& kind_node;
  const Map& m;
  Expectation& e;
};

// Keys an expectation's reader reads itself: key, type (docs), JSON schema, doc string.
Table<Expectation> Docs(
    std::initializer_list<std::tuple<std::string_view, std::string, nlohmann::json, std::string>>
        keys) {
  Table<Expectation> t;
  for (const auto& [key, type, schema, doc] : keys)
    t.push_back(Declared<Expectation>(key, type, schema, doc));
  return t;
}

nlohmann::json ByteSchema() { return {{"type", "integer"}, {"minimum", 0}, {"maximum", 255}}; }

template <typename T>
Table<Expectation> DocsFrom(const Table<T>& table) {
  Table<Expectation> t;
  for (const Field<T>& f : table)
    t.push_back(Declared<Expectation>(f.key, f.type, f.schema, f.doc, f.required));
  return t;
}

Table<Expectation> WindowDocs(bool until) {
  Table<Expectation> t = Docs(
      {{"after", "step label", SchemaRef("label"), "the window opens when that step is issued"}});
  if (until)
    t.push_back(Declared<Expectation>("until", "step label or end",
                                      {{"anyOf", {SchemaRef("label"), {{"const", "end"}}}}},
                                      "the window closes when that step is issued"));
  t.push_back(Declared<Expectation>("within", "duration > 0", SchemaRef("duration"),
                                    "the window closes this long after it opens"));
  return t;
}

Field<Expectation> ClientDoc(std::string doc, bool required = true) {
  return Declared<Expectation>("client", "client reference", SchemaRef("clientRef"), std::move(doc),
                               required);
}

bool ReadReceive(ExpectInput& in) {
  Context& c = in.c;
  const Map& m = in.m;
  auto ref = c.ClientKey(m, {});
  if (!ref) return false;
  ReceiveExpect r;
  r.clients = *ref;
  c.ReadWindow(m, r.window);
  if (auto v = m.Get("in_order")) {
    for (const Field<MM>& f : MatcherTable()) {
      if (auto k = m.Key(f.key))
        c.Error(*k, "give matcher keys inside in_order items, not beside in_order");
    }
    if (m.Has("count")) c.Error(*m.Key("count"), "count does not combine with in_order");
    if (!v->IsSequence() || v->size() == 0) {
      c.Error(*v, "expected a non-empty list of message matchers, got " + Describe(*v));
    } else {
      for (const Node& mi : *v) {
        Map mm(c, mi, "in_order item", KeysOf(MatcherTable()));
        if (mm.ok()) r.in_order.push_back(ReadMatcher(c, mm, *ref));
      }
    }
  } else {
    r.match = ReadMatcher(c, m, *ref);
  }
  if (auto v = m.Get("count")) {
    if (auto n = c.Count(*v)) r.count = *n;
  }
  if (r.count.empty() && r.in_order.empty()) r.count.at_least = 1;
  if (auto v = m.Get("total")) {
    if (auto n = c.Count(*v)) r.total = *n;
  }
  in.e.args = std::move(r);
  return true;
}

bool ReadNeverReceive(ExpectInput& in) {
  auto ref = in.c.ClientKey(in.m, {});
  if (!ref) return false;
  NeverReceiveExpect r;
  r.clients = *ref;
  in.c.ReadWindow(in.m, r.window);
  r.match = ReadMatcher(in.c, in.m, *ref);
  in.e.args = std::move(r);
  return true;
}

// The step a step-bound expectation names; reports when it is not of kind `want`.
std::optional<uint32_t> StepOfKind(Context& c, const Node& v, StepKind want,
                                   std::string_view article) {
  auto id = c.StepLabel(v);
  if (id && c.scenario().steps[*id].kind() != want) {
    c.Error(v, "step " + Q(c.scenario().steps[*id].label) + " is not " + std::string(article) +
                   std::string(StepKindName(want)) + " step");
  }
  return id;
}

// The ackId setting of a request step, or nullptr for steps that cannot carry one.
const AckSpec* AckOf(const Step& s) {
  if (s.Is<JoinStep>()) return &s.As<JoinStep>().ack;
  if (s.Is<LeaveStep>()) return &s.As<LeaveStep>().ack;
  if (s.Is<SendToGroupStep>()) return &s.As<SendToGroupStep>().ack;
  if (s.Is<EventStep>()) return &s.As<EventStep>().ack;
  return nullptr;
}

bool ReadAck(ExpectInput& in) {
  Context& c = in.c;
  const Map& m = in.m;
  AckExpect a;
  auto step_node = m.Get("step");
  auto client_node = m.Get("client");
  if (step_node && client_node) {
    c.Error(*m.Key("client"), "give either 'step' or 'client' with 'ack_id', not both");
  } else if (step_node) {
    a.step = c.StepLabel(*step_node);
    if (a.step) {
      const Step& s = c.scenario().steps[*a.step];
      const AckSpec* spec = AckOf(s);
      if (!spec) {
        c.Error(*step_node, "step " + Q(s.label) + " is a " + std::string(StepKindName(s.kind())) +
                                " step; acks come from join, leave, send_to_group and event");
      } else if (spec->mode == AckSpec::Mode::kNone) {
        c.Error(*step_node, "step " + Q(s.label) + " sends no ackId (add 'ack: auto' to it)");
      }
    }
    if (m.Has("ack_id")) c.Error(*m.Key("ack_id"), "'ack_id' goes with 'client', not with 'step'");
  } else if (client_node) {
    a.client = c.Ref(*client_node, RefOptions{.single = true});
    if (a.client)
      c.CheckKinds(*a.client, *client_node,
                   {ClientKind::kJson, ClientKind::kReliable, ClientKind::kProtobuf,
                    ClientKind::kReliableProtobuf},
                   in.what);
    if (auto v = m.Required(c, "ack_id")) a.ack_id = c.Uint(*v, "ack_id", 0, UINT64_MAX);
  } else {
    c.Error(m.node(), "an ack expectation needs 'step' (a label) or 'client' with 'ack_id'");
  }
  ReadAckFields(c, m, a);
  c.ReadWindow(m, a.window);
  in.e.args = std::move(a);
  return true;
}

const Table<ClosedExpect>& ClosedTable() {
  using C = ClosedExpect;
  static const Table<C> t = {
      Opt("code", &C::code, Integer(1000, 4999), "WebSocket close code", "close code"),
      Opt("reason", &C::reason, String(), "the close reason, exactly"),
      Opt("reason_contains", &C::reason_contains, String(), "a substring of the close reason"),
      Custom<C>(
          "reason_code", "integer 0..255", {{"type", "integer"}, {"minimum", 0}, {"maximum", 255}},
          "MQTT: the server DISCONNECT (5.0) or CONNACK refusal reason code",
          [](Context& c, const Node& v, C& e) {
            c.CheckKinds(e.clients, v, {ClientKind::kMqtt311, ClientKind::kMqtt5}, "reason_code");
            if (auto code = c.Uint(v, "reason_code", 0, 255))
              e.mqtt_reason_code = static_cast<uint8_t>(*code);
          }),
      Opt("http_status", &C::http_status, Integer(100, 599),
          "the upgrade was refused with this status"),
      Custom<C>("by", "service or client", {{"enum", {"service", "client"}}},
                "who initiated the close",
                [](Context& c, const Node& v, C& e) {
                  auto s = c.Str(v, "by");
                  if (!s) return;
                  if (*s == "service" || *s == "client") {
                    e.by_service = *s == "service";
                  } else {
                    c.Error(v, "expected 'service' or 'client' for by, got " + Q(*s));
                  }
                }),
  };
  return t;
}

const Table<ConnectedExpect>& ConnectedTable() {
  using C = ConnectedExpect;
  static const Table<C> t = {
      Opt("user_id", &C::user_id, NullableStringValue(),
          "the connected event's userId (null: absent)"),
      Custom<C>("reconnection_token", "true/false", {{"type", "boolean"}},
                "JSON kinds: a reconnection token is present",
                [](Context& c, const Node& v, C& e) {
                  e.reconnection_token = c.Bool(v, "reconnection_token");
                  c.CheckKinds(e.clients, v,
                               {ClientKind::kJson, ClientKind::kReliable, ClientKind::kProtobuf,
                                ClientKind::kReliableProtobuf},
                               "reconnection_token");
                }),
      Custom<C>("subprotocol", "string or null", SchemaRef("nullableString"),
                "the negotiated subprotocol (null: none)",
                [](Context& c, const Node& v, C& e) {
                  e.subprotocol =
                      v.IsNull() ? std::optional<std::string>("") : c.Str(v, "subprotocol");
                }),
      Opt("connection_id", &C::connection_id, String(), "the connection id, exactly"),
  };
  return t;
}

// closed, connected: `client`, the kind's table, a window.
template <typename E, const Table<E>& (*TableOf)()>
bool ReadClientWindowed(ExpectInput& in) {
  auto ref = in.c.ClientKey(in.m, {});
  if (!ref) return false;
  E e;
  e.clients = *ref;
  ReadFields(in.c, in.m, TableOf(), e);
  in.c.ReadWindow(in.m, e.window);
  in.e.args = std::move(e);
  return true;
}

bool ReadHttpStatus(ExpectInput& in) {
  Context& c = in.c;
  HttpStatusExpect h;
  std::optional<uint32_t> step;
  if (auto v = in.m.Required(c, "step")) {
    step = StepOfKind(c, *v, StepKindOf<RestStep>(), "a ");
    if (step) h.step = *step;
  }
  if (auto v = in.m.Get("status")) {
    if (auto st = c.Statuses(*v)) h.statuses = *st;
  } else if (step && c.scenario().steps[*step].Is<RestStep>()) {
    // No status: the operation's success status, as a rest step's inline checks assume.
    h.statuses = {RestOpSuccessStatus(c.scenario().steps[*step].As<RestStep>().op)};
  }
  if (auto v = in.m.Get("body")) h.body = YamlToJson(*v);
  if (auto v = in.m.Get("error_code")) h.error_code = c.Str(*v, "error_code");
  in.e.args = std::move(h);
  return true;
}

bool ReadConnackExpect(ExpectInput& in) {
  auto ref = in.c.ClientKey(in.m, {});
  if (!ref) return false;
  ConnackExpect e;
  e.clients = *ref;
  in.c.CheckKinds(e.clients, *in.m.Get("client"), {ClientKind::kMqtt311, ClientKind::kMqtt5},
                  in.what);
  ReadFields(in.c, in.m, ConnackTable(), e);
  in.e.args = std::move(e);
  return true;
}

// suback, puback: the step (a `Want`) and its reason code(s) under `key`.
template <typename E, typename Want>
bool ReadStepCheck(ExpectInput& in, std::string_view key, void (*read)(Context&, const Node&, E&)) {
  E e;
  if (auto v = in.m.Required(in.c, "step")) {
    if (auto id = StepOfKind(in.c, *v, StepKindOf<Want>(), "a ")) e.step = *id;
  }
  if (auto v = in.m.Required(in.c, key)) read(in.c, *v, e);
  in.e.args = std::move(e);
  return true;
}

bool ReadSuback(ExpectInput& in) {
  return ReadStepCheck<SubackExpect, SubscribeStep>(in, "reason_codes",
                                                    [](Context& c, const Node& v, SubackExpect& s) {
                                                      if (auto codes = c.ReasonCodes(v))
                                                        s.reason_codes = *codes;
                                                    });
}

bool ReadPuback(ExpectInput& in) {
  return ReadStepCheck<PubackExpect, PublishStep>(
      in, "reason_code", [](Context& c, const Node& v, PubackExpect& p) {
        if (auto code = c.Uint(v, "reason_code", 0, 255))
          p.reason_code = static_cast<uint8_t>(*code);
      });
}

bool ReadUpstreamEventExpect(ExpectInput& in) {
  UpstreamEventExpect u;
  ReadUpstreamEvent(in.c, in.m, in.kind_node, u);
  in.e.args = std::move(u);
  return true;
}

struct ExpectShape {
  std::string_view name;
  bool (*read)(ExpectInput&);
  std::string doc;
  Table<Expectation> fields;  // its keys, in order (the modifiers come after)
};

Table<Expectation> Cat(std::initializer_list<Table<Expectation>> parts) {
  Table<Expectation> out;
  for (const Table<Expectation>& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// In ExpectKind order.
const std::vector<ExpectShape>& ExpectShapes() {
  static const std::vector<ExpectShape> shapes = [] {
    const Table<Expectation> matcher = DocsFrom(MatcherTable());
    const Table<Expectation> counts =
        Docs({{"in_order",
               "list of matchers",
               {{"type", "array"}, {"minItems", 1}, {"items", SchemaRef("matcher")}},
               "a subsequence of messages, in this order"},
              {"count", "count", SchemaRef("count"), "per member (default at_least 1)"},
              {"total", "count", SchemaRef("count"), "summed over members"}});
    const Table<Expectation> ack_by =
        Docs({{"step", "step label", SchemaRef("label"), "the request step (all its members)"},
              {"client", "client reference", SchemaRef("clientRef"), "or one connection ..."},
              {"ack_id", "integer", {{"type", "integer"}, {"minimum", 0}}, "... and the ackId"}});
    return std::vector<ExpectShape>{
        {"receive", ReadReceive,
         "every member received matching messages `count` times (default at least once) in the "
         "window; `in_order`: the matchers are matched by a subsequence, in order; `total`: the "
         "sum over members",
         Cat({{ClientDoc("the receiving clients")}, matcher, counts, WindowDocs(true)})},
        {"never_receive", ReadNeverReceive, "no member received a matching message in the window",
         Cat({{ClientDoc("the clients")}, matcher, WindowDocs(true)})},
        {"ack", ReadAck,
         "the ack(s) for that request look so (`error`: `Forbidden`, `Duplicate`, ...)",
         Cat({ack_by, DocsFrom(AckFieldsTable()), WindowDocs(false)})},
        {"closed", ReadClientWindowed<ClosedExpect, ClosedTable>, "the connection ended that way",
         Cat({{ClientDoc("the clients")}, DocsFrom(ClosedTable()), WindowDocs(true)})},
        {"connected", ReadClientWindowed<ConnectedExpect, ConnectedTable>,
         "the connection was established with these properties (`system/connected`, the upgrade, "
         "or CONNACK)",
         Cat({{ClientDoc("the clients")}, DocsFrom(ConnectedTable()), WindowDocs(true)})},
        {"http_status", ReadHttpStatus,
         "the REST response of that step (with `all_pages`, one response whose `value` holds every "
         "page's items); `body` string values may name run-time ids as `${client.connection_id}`",
         Docs(
             {{"step", "step label", SchemaRef("label"), "the rest step"},
              {"status", "status or list", SchemaRef("statusList"),
               "the status (any of a list); default: the operation's success status"},
              {"body", "any value", nlohmann::json::object(), "a JSON subset of the response body"},
              {"error_code", "string", SchemaRef("scalar"), "x-ms-error-code"}})},
        {"connack", ReadConnackExpect,
         "the CONNACK (inline `expect_connack`: the one answering that step's CONNECT; top-level: "
         "the member's first)",
         Cat({{ClientDoc("the MQTT clients")}, DocsFrom(ConnackTable())})},
        {"suback", ReadSuback, "the SUBACK of that subscribe",
         Docs({{"step", "step label", SchemaRef("label"), "the subscribe step"},
               {"reason_codes", "reason code or list", SchemaRef("reasonCodes"), "per topic"}})},
        {"puback", ReadPuback, "the PUBACK (QoS 1) or PUBREC (QoS 2) of that publish",
         Docs({{"step", "step label", SchemaRef("label"), "the publish step"},
               {"reason_code", "integer 0..255", ByteSchema(), "the reason code"}})},
        {"upstream_event", ReadUpstreamEventExpect,
         "the application server received that event (needs `upstream`)",
         Cat({DocsFrom(UpstreamEventTable()), WindowDocs(true)})},
    };
  }();
  return shapes;
}

Keys ExpectKindNames() {
  Keys names;
  for (const ExpectShape& s : ExpectShapes()) names.push_back(s.name);
  return names;
}

void ReadExpectation(Context& c, const Node& item) {
  if (!item.IsMap()) {
    c.Error(item,
            "expected an expectation (a mapping like '- receive: {...}'), got " + Describe(item));
    return;
  }
  const Keys kinds_known = ExpectKindNames();
  std::vector<std::pair<std::string, Node>> kinds;
  Node value;
  std::optional<Node> as, case_id;
  for (auto it = item.begin(); it != item.end(); ++it) {
    std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
    if (key == "as") {
      as = it->second;
    } else if (key == "case") {
      case_id = it->second;
    } else if (Contains(kinds_known, key)) {
      kinds.emplace_back(key, it->first);
      if (kinds.size() == 1) value = it->second;
    } else {
      c.Error(it->first, "unknown expectation " + Q(key) +
                             c.Suggest(key, Concat({&kinds_known, &kExpectModifiers})));
      return;
    }
  }
  if (kinds.empty()) {
    c.Error(item, "an expectation needs a kind (one of: " + JoinKeys(kinds_known) + ")");
    return;
  }
  if (kinds.size() > 1) {
    c.Error(kinds[1].second, "an expectation has exactly one kind; found " + Q(kinds[0].first) +
                                 " and " + Q(kinds[1].first));
    return;
  }
  const std::string kind = kinds[0].first;
  const Node kind_node = kinds[0].second;
  const std::string what = "expectation " + Q(kind);
  const ExpectShape& shape = *std::find_if(ExpectShapes().begin(), ExpectShapes().end(),
                                           [&](const ExpectShape& s) { return s.name == kind; });
  Keys keys = KeysOf(shape.fields);
  keys.insert(keys.end(), kExpectModifiers.begin(), kExpectModifiers.end());
  if (!value.IsDefined() || value.IsNull()) {
    c.Error(kind_node, what + " needs a mapping (keys: " + JoinKeys(keys) + ")");
    return;
  }
  Map m(c, value, what, keys);
  if (!m.ok()) return;
  for (auto [key, slot] : {std::pair{"as", &as}, std::pair{"case", &case_id}}) {
    if (auto v = m.Get(key)) {
      if (*slot) {
        c.Error(*m.Key(key), Q(key) + " is given both outside and inside the expectation");
      } else {
        *slot = *v;
      }
    }
  }
  Expectation e;
  e.pos = c.Pos(kind_node);
  ExpectInput in{c, what, kind_node, m, e};
  if (!shape.read(in)) return;
  if (as) {
    if (auto s = c.Str(*as, "as")) {
      if (c.RegisterLabel(*as, *s)) e.label = *s;
    }
  }
  if (case_id) {
    if (auto id = c.CaseId(*case_id)) e.case_id = *id;
  }
  c.scenario().expectations.push_back(std::move(e));
}

}  // namespace

std::vector<ShapeDoc> ExpectationDocs() {
  std::vector<ShapeDoc> out;
  for (const ExpectShape& s : ExpectShapes())
    out.push_back({std::string(s.name), s.doc, DocsOf(s.fields)});
  return out;
}
std::vector<FieldDoc> MatcherDocs() { return DocsOf(MatcherTable()); }

const std::vector<FieldDoc>& ExpectModifierDocs() {
  static const std::vector<FieldDoc> docs = {
      {"as", false, "label", "a label for the expectation", SchemaRef("label"), 0},
      {"case", false, "case id", "the conformance case it checks", SchemaRef("caseId"), 0},
  };
  return docs;
}

namespace {

const std::vector<FieldDoc>& InvariantDocs() {
  static const std::vector<FieldDoc> docs = {
      {"client", false, "client reference or all", "only deliveries to these members",
       SchemaRef("clientRefOrAll"), 0},
      {"case", false, "case id", "the conformance case it checks", SchemaRef("caseId"), 0},
  };
  return docs;
}

const std::vector<FieldDoc>& ThresholdDocs() {
  static const std::vector<FieldDoc> docs = {
      {"check", true, "threshold", "the objective, e.g. \"p99 < 20ms\"", {{"type", "string"}}, 0},
      {"case", false, "case id", "the conformance case it checks", SchemaRef("caseId"), 0},
      {"client", false, "client reference or all", "only deliveries to these members",
       SchemaRef("clientRefOrAll"), 0},
      {"step", false, "step label", "only operations issued by this step", SchemaRef("label"), 0},
  };
  return docs;
}

Keys KeysOfDocs(const std::vector<FieldDoc>& docs) {
  Keys keys;
  for (const FieldDoc& f : docs) keys.push_back(f.key);
  return keys;
}

}  // namespace

nlohmann::json InvariantSchema() {
  nlohmann::json names = nlohmann::json::array();
  nlohmann::json kinds = nlohmann::json::object();
  const nlohmann::json options = {{"anyOf", {{{"type", "null"}}, ObjectSchema(InvariantDocs())}}};
  for (const auto& k : kInvariants) {
    names.push_back(k.name);
    kinds[std::string(k.name)] = options;
  }
  return {{"anyOf",
           {{{"enum", names}},
            {{"type", "object"},
             {"minProperties", 1},
             {"maxProperties", 1},
             {"additionalProperties", false},
             {"properties", kinds}}}}};
}

nlohmann::json ThresholdSchema() {
  return {{"anyOf", {{{"type", "string"}}, ObjectSchema(ThresholdDocs())}}};
}

void ReadExpectations(Context& c, const Node& n) {
  if (n.IsNull()) return;
  if (!n.IsSequence()) {
    c.Error(n, "expected a list of expectations, got " + Describe(n));
    return;
  }
  for (const Node& item : n) ReadExpectation(c, item);
}

void ReadInvariants(Context& c, const Node& n) {
  if (n.IsNull()) return;
  if (!n.IsSequence()) {
    c.Error(n, "expected a list of invariants, got " + Describe(n));
    return;
  }
  for (const Node& item : n) {
    Invariant inv;
    inv.pos = c.Pos(item);
    if (item.IsScalar()) {
      if (auto k = c.Enum(item, "invariant", kInvariants)) {
        inv.kind = *k;
        c.scenario().invariants.push_back(std::move(inv));
      }
      continue;
    }
    if (!item.IsMap() || item.size() != 1) {
      c.Error(item,
              "expected an invariant name or '- name: {client, case}', got " + Describe(item));
      continue;
    }
    auto it = item.begin();
    auto k = c.Enum(it->first, "invariant", kInvariants);
    if (!k) continue;
    inv.kind = *k;
    inv.pos = c.Pos(it->first);
    if (!it->second.IsNull()) {
      Map m(c, it->second, "invariant " + Q(it->first.Scalar()), KeysOfDocs(InvariantDocs()));
      if (m.ok()) {
        if (auto v = m.Get("client")) inv.clients = c.Ref(*v, RefOptions{.allow_all = true});
        if (auto v = m.Get("case")) {
          if (auto id = c.CaseId(*v)) inv.case_id = *id;
        }
      }
    }
    c.scenario().invariants.push_back(std::move(inv));
  }
}

void ReadThresholds(Context& c, const Node& n) {
  if (n.IsNull()) return;
  if (!n.IsSequence()) {
    c.Error(n, "expected a list of thresholds like \"p99 < 20ms\", got " + Describe(n));
    return;
  }
  for (const Node& item : n) {
    Threshold t;
    t.pos = c.Pos(item);
    Node expr = item;
    if (item.IsMap()) {
      Map m(c, item, "threshold", KeysOfDocs(ThresholdDocs()));
      if (!m.ok()) continue;
      auto check = m.Required(c, "check");
      if (!check) continue;
      expr = *check;
      if (auto v = m.Get("case")) {
        if (auto id = c.CaseId(*v)) t.case_id = *id;
      }
      if (auto v = m.Get("client")) t.clients = c.Ref(*v, RefOptions{.allow_all = true});
      if (auto v = m.Get("step")) t.step = c.StepLabel(*v);
    }
    auto s = c.Str(expr, "threshold");
    if (!s) continue;
    reports::ThresholdSyntaxError detail;
    auto parsed = reports::ParseThreshold(*s, &detail);
    if (!parsed.ok()) {
      // Point into the expression when it sits on one line (quoted scalars start one
      // column before their text).
      SourcePos pos = c.Pos(expr);
      if (s->find('\n') == std::string::npos && detail.column > 0) {
        pos.column += static_cast<int>(detail.column) - 1 + (IsPlainScalar(expr) ? 0 : 1);
      }
      c.Report(pos, "bad threshold " + Q(*s) + ": " + detail.message);
      continue;
    }
    t.expression = *s;
    t.parsed = *parsed;
    c.scenario().thresholds.push_back(std::move(t));
  }
}

}  // namespace wpsim::conformance::shape
