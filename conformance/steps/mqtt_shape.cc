// The MQTT family's YAML shape (MQTT 3.1.1 and 5.0 over WebSocket).
#include "conformance/steps/mqtt_shape.h"

#include "conformance/shape/steps.h"
#include "conformance/units.h"
#include "conformance/yaml_json.h"

namespace wpsim::conformance::shape {
namespace {

using Props = MqttPublishProperties;
using Sub = MqttSubscription;

const Table<Props>& PublishPropertiesTable() {
  static const Table<Props> t = {
      Opt("content_type", &Props::content_type, String(), "5.0 Content Type"),
      Opt("message_expiry", &Props::message_expiry_s, SecondsValue(false),
          "5.0 Message Expiry Interval"),
      Opt("payload_format_indicator", &Props::payload_format_indicator, Integer(0, 1),
          "5.0 Payload Format Indicator (1: UTF-8)"),
      Opt("response_topic", &Props::response_topic, String(), "5.0 Response Topic"),
      Opt("correlation_data", &Props::correlation_data, String(), "5.0 Correlation Data"),
      Opt("topic_alias", &Props::topic_alias, Integer(1, 65535), "5.0 Topic Alias"),
      Opt("user_properties", &Props::user_properties, UserPropertiesValue(), "5.0 user properties"),
  };
  return t;
}

const Table<MqttWill>& WillTable() {
  static const Table<MqttWill> t = Join<MqttWill>(
      {
          Req("topic", &MqttWill::topic, String(), "Will topic", "will topic"),
          Opt("payload", &MqttWill::payload, String(), "Will payload", "will payload"),
          Opt("qos", &MqttWill::qos, Integer(0, 2), "Will QoS"),
          Opt("retain", &MqttWill::retain, Boolean(), "Will retain flag"),
          Opt("delay", &MqttWill::delay_s, SecondsValue(false), "5.0 Will Delay Interval",
              "will delay"),
      },
      In(&MqttWill::properties, Without(PublishPropertiesTable(), {"topic_alias"})));
  return t;
}
const Keys kMqtt5WillKeys = {
    "delay",          "content_type",     "message_expiry", "payload_format_indicator",
    "response_topic", "correlation_data", "user_properties"};

std::optional<MqttWill> ReadWill(Context& c, const Node& n, bool mqtt5) {
  Map m(c, n, "will", KeysOf(WillTable()));
  if (!m.ok()) return std::nullopt;
  MqttWill w;
  ReadFields(c, m, WillTable(), w);
  if (!mqtt5) {
    for (std::string_view k : kMqtt5WillKeys) {
      if (auto kn = m.Key(k))
        c.Error(*kn, Q(k) + " is an MQTT 5.0 feature; this client is mqtt311");
    }
  }
  return w;
}

ValueType<uint32_t> MaximumPacketSize() {
  ValueType<uint64_t> size = ByteSizeValue(false);
  return {[](Context& c, const Node& n, std::string_view label) -> std::optional<uint32_t> {
            auto s = c.Str(n, label);
            if (!s) return std::nullopt;
            auto b = ParseByteSize(*s);
            if (b.ok() && *b >= 1 && *b <= 0xFFFFFFFFull) return static_cast<uint32_t>(*b);
            c.Error(n, b.ok() ? "maximum_packet_size must be from 1 byte to 4GiB-1"
                              : b.error().message);
            return std::nullopt;
          },
          "size 1..4GiB-1", size.schema};
}

// ---- subscribe, unsubscribe, publish --------------------------------------------------------

const Table<Sub>& SubscriptionOptionsTable() {
  static const Table<Sub> t = {
      Opt("qos", &Sub::qos, Integer(0, 2), "maximum QoS"),
      Opt("no_local", &Sub::no_local, Boolean(), "5.0: do not receive own publications"),
      Opt("retain_as_published", &Sub::retain_as_published, Boolean(), "5.0: keep the retain flag"),
      Opt("retain_handling", &Sub::retain_handling, Integer(0, 2),
          "5.0: 0 send retained, 1 if new, 2 never"),
  };
  return t;
}
const Keys kMqtt5SubscriptionKeys = {"no_local", "retain_as_published", "retain_handling"};

const Table<Sub>& SubscriptionTable() {
  static const Table<Sub> t = Join<Sub>(
      {Req("topic", &Sub::topic, NonEmptyString(), "topic filter")}, SubscriptionOptionsTable());
  return t;
}

nlohmann::json StringOrList() {
  return {{"anyOf", {{{"type", "string"}}, {{"type", "array"}, {"items", {{"type", "string"}}}}}}};
}

nlohmann::json ClientRefSchema() { return {{"$ref", "#/$defs/clientRef"}}; }

const Table<SubscribeStep>& SubscribeTable() {
  using S = SubscribeStep;
  const Table<Sub>& options = SubscriptionOptionsTable();
  static const Table<S> t = {
      Declared<S>("client", "client reference", ClientRefSchema(), "the subscribing clients", true),
      Declared<S>("topic", "string", {{"type", "string"}}, "one topic filter"),
      Declared<S>(
          "topics", "list", {{"type", "array"}},
          "topic filters: strings or {topic, qos, no_local, retain_as_published, retain_handling}"),
      Declared<S>("qos", options[0].type, options[0].schema,
                  "maximum QoS (default for every topic)"),
      Declared<S>("no_local", options[1].type, options[1].schema, "5.0, default for every topic"),
      Declared<S>("retain_as_published", options[2].type, options[2].schema,
                  "5.0, default for every topic"),
      Declared<S>("retain_handling", options[3].type, options[3].schema,
                  "5.0, default for every topic"),
      Opt("subscription_identifier", &S::subscription_identifier, Integer(1, 268435455),
          "5.0 Subscription Identifier"),
      Opt("user_properties", &S::user_properties, UserPropertiesValue(), "5.0 user properties"),
      Declared<S>("expect_suback", "reason code or list", {{"$ref", "#/$defs/reasonCodes"}},
                  "check: the SUBACK reason codes"),
  };
  return t;
}

bool ReadSubscribe(StepInput& in) {
  Context& c = in.c;
  std::optional<ClientRef> ref;
  if (!in.NeedMapWithClient(KeysOf(SubscribeTable()), ref)) return false;
  const Map& m = *in.map;
  SubscribeStep s;
  Sub defaults;
  ReadFields(c, m, SubscriptionOptionsTable(), defaults);
  auto topic = m.Get("topic");
  auto topics = m.Get("topics");
  if (topic && topics) {
    c.Error(*m.Key("topics"), "give either 'topic' or 'topics', not both");
  } else if (topic) {
    Sub sub = defaults;
    if (auto t = c.NonEmptyStr(*topic, "topic")) sub.topic = *t;
    s.subscriptions.push_back(sub);
  } else if (topics) {
    if (!topics->IsSequence() || topics->size() == 0) {
      c.Error(*topics, "expected a non-empty list of topics, got " + Describe(*topics));
    } else {
      for (const Node& t : *topics) {
        Sub sub = defaults;
        if (t.IsScalar()) {
          sub.topic = t.Scalar();
        } else {
          Map tm(c, t, "subscription", KeysOf(SubscriptionTable()));
          if (!tm.ok()) continue;
          ReadFields(c, tm, SubscriptionTable(), sub);
          if (ref) c.RequireMqtt5(*ref, tm, kMqtt5SubscriptionKeys);
        }
        s.subscriptions.push_back(sub);
      }
    }
  } else {
    c.Error(m.node(), "subscribe needs 'topic' or 'topics'");
  }
  ReadFields(c, m, SubscribeTable(), s);
  if (!ref) return false;
  s.clients = *ref;
  c.CheckKinds(s.clients, *m.Get("client"), {ClientKind::kMqtt311, ClientKind::kMqtt5}, in.what());
  c.RequireMqtt5(s.clients, m,
                 {"no_local", "retain_as_published", "retain_handling", "subscription_identifier",
                  "user_properties"});
  if (auto v = m.Get("expect_suback")) {
    SubackExpect e;
    e.step = in.step.id;
    if (auto codes = c.ReasonCodes(*v)) {
      e.reason_codes = *codes;
      in.Inline(*v, e);
    }
  }
  in.step.args = std::move(s);
  return true;
}

const Table<UnsubscribeStep>& UnsubscribeTable() {
  static const Table<UnsubscribeStep> t = {
      Declared<UnsubscribeStep>("client", "client reference", ClientRefSchema(),
                                "the unsubscribing clients", true),
      Declared<UnsubscribeStep>("topic", "string", {{"type", "string"}}, "one topic filter"),
      Declared<UnsubscribeStep>("topics", "string or list", StringOrList(), "topic filters"),
      Opt("user_properties", &UnsubscribeStep::user_properties, UserPropertiesValue(),
          "5.0 user properties"),
  };
  return t;
}

bool ReadUnsubscribe(StepInput& in) {
  Context& c = in.c;
  std::optional<ClientRef> ref;
  if (!in.NeedMapWithClient(KeysOf(UnsubscribeTable()), ref)) return false;
  const Map& m = *in.map;
  UnsubscribeStep s;
  auto topic = m.Get("topic");
  auto topics = m.Get("topics");
  if (topic && topics) {
    c.Error(*m.Key("topics"), "give either 'topic' or 'topics', not both");
  } else if (topic || topics) {
    if (auto l = c.StrList(topic ? *topic : *topics, "topics")) s.topics = *l;
  } else {
    c.Error(m.node(), "unsubscribe needs 'topic' or 'topics'");
  }
  ReadFields(c, m, UnsubscribeTable(), s);
  if (!ref) return false;
  s.clients = *ref;
  c.CheckKinds(s.clients, *m.Get("client"), {ClientKind::kMqtt311, ClientKind::kMqtt5}, in.what());
  c.RequireMqtt5(s.clients, m, {"user_properties"});
  in.step.args = std::move(s);
  return true;
}

const Keys kPayloadKeys = {"payload", "payload_base64", "payload_json", "payload_size"};

const Table<PublishStep>& PublishTable() {
  static const Table<PublishStep> t = Join<PublishStep>(
      {
          Declared<PublishStep>("client", "client reference", ClientRefSchema(),
                                "the publishing clients", true),
          Req("topic", &PublishStep::topic, NonEmptyString(), "topic name"),
          Custom<PublishStep>("payload", "string", {{"$ref", "#/$defs/scalar"}},
                              "payload text (templates allowed)",
                              [](Context& c, const Node& n, PublishStep& s) {
                                if (auto p = c.TemplStr(n, "payload")) s.payload = *p;
                              }),
          Opt("payload_base64", &PublishStep::payload, Base64Value(), "payload bytes in base64"),
          Custom<PublishStep>(
              "payload_json", "any value", nlohmann::json::object(), "payload: the value as JSON",
              [](Context&, const Node& n, PublishStep& s) { s.payload = YamlToJson(n).dump(); }),
          Opt("payload_size", &PublishStep::filler_bytes, ByteSizeValue(false),
              "a generated payload of this size"),
          Opt("qos", &PublishStep::qos, Integer(0, 2), "QoS"),
          Opt("retain", &PublishStep::retain, Boolean(), "retain flag"),
          Declared<PublishStep>("expect_puback", "integer 0..255",
                                {{"type", "integer"}, {"minimum", 0}, {"maximum", 255}},
                                "check: the PUBACK (QoS 1) or PUBREC (QoS 2) reason code"),
      },
      In(&PublishStep::properties, PublishPropertiesTable()));
  return t;
}

bool ReadPublish(StepInput& in) {
  Context& c = in.c;
  std::optional<ClientRef> ref;
  if (!in.NeedMapWithClient(KeysOf(PublishTable()), ref)) return false;
  const Map& m = *in.map;
  PublishStep s;
  ReadFields(c, m, PublishTable(), s);
  int payloads = 0;
  for (std::string_view k : kPayloadKeys) payloads += m.Has(k) ? 1 : 0;
  if (payloads == 0)
    c.Error(m.node(), "publish needs one of: payload, payload_base64, payload_json, payload_size");
  if (payloads > 1)
    c.Error(m.node(),
            "publish takes only one of: payload, payload_base64, payload_json, payload_size");
  if (!ref) return false;
  s.clients = *ref;
  c.CheckKinds(s.clients, *m.Get("client"), {ClientKind::kMqtt311, ClientKind::kMqtt5}, in.what());
  c.RequireMqtt5(s.clients, m, KeysOf(PublishPropertiesTable()));
  if (auto v = m.Get("expect_puback")) {
    if (s.qos == 0) c.Error(*v, "expect_puback needs qos 1 or 2 (QoS 0 has no acknowledgement)");
    if (auto code = c.Uint(*v, "expect_puback", 0, 255)) {
      PubackExpect e;
      e.step = in.step.id;
      e.reason_code = static_cast<uint8_t>(*code);
      in.Inline(*v, e);
    }
  }
  in.step.args = std::move(s);
  return true;
}

}  // namespace

ValueType<uint16_t> KeepaliveValue() {
  ValueType<uint32_t> seconds = SecondsValue(false);
  return {[](Context& c, const Node& n, std::string_view label) -> std::optional<uint16_t> {
            auto s = c.Seconds(n, label, false);
            if (!s) return std::nullopt;
            if (*s > 65535) {
              c.Error(n, "keepalive must be at most 65535s");
              return std::nullopt;
            }
            return static_cast<uint16_t>(*s);
          },
          "seconds up to 65535", seconds.schema};
}

const Table<Client>& MqttClientTable() {
  using O = MqttOptions;
  static const Table<Client> t = {
      Custom<Client>(
          "client_id", "string", {{"type", "string"}}, "MQTT client id; `{i}` required in cohorts",
          [](Context& c, const Node& n, Client& client) {
            auto s = c.Str(n, "client_id");
            if (!s) return;
            client.mqtt.client_id = *s;
            if (client.is_cohort && client.count > 1 && s->find("{i}") == std::string::npos) {
              c.Error(n, "client_id of cohort " + Q(client.name) +
                             " must contain {i} (MQTT client ids are unique)");
            }
          }),
      In(&Client::mqtt, Opt("clean_start", &O::clean_start, Boolean(),
                            "Clean Start / Clean Session (default true)")),
      In(&Client::mqtt, Opt("session_expiry", &O::session_expiry_s, SecondsValue(true),
                            "5.0 Session Expiry Interval")),
      In(&Client::mqtt,
         Opt("keepalive", &O::keepalive_s, KeepaliveValue(), "Keep Alive (default 60s)")),
      In(&Client::mqtt, Opt("username", &O::username, String(), "CONNECT user name")),
      In(&Client::mqtt, Opt("password", &O::password, String(), "CONNECT password")),
      Custom<Client>("will", "mapping", {{"$ref", "#/$defs/will"}},
                     "Will message: topic, payload, qos, retain; 5.0: delay and PUBLISH properties",
                     [](Context& c, const Node& n, Client& client) {
                       client.mqtt.will = ReadWill(c, n, client.kind == ClientKind::kMqtt5);
                     }),
      In(&Client::mqtt,
         Opt("receive_maximum", &O::receive_maximum, Integer(1, 65535), "5.0 Receive Maximum")),
      In(&Client::mqtt, Opt("maximum_packet_size", &O::maximum_packet_size, MaximumPacketSize(),
                            "5.0 Maximum Packet Size")),
      In(&Client::mqtt, Opt("topic_alias_maximum", &O::topic_alias_maximum, Integer(0, 65535),
                            "5.0 Topic Alias Maximum")),
      In(&Client::mqtt, Opt("request_problem_information", &O::request_problem_information,
                            Boolean(), "5.0 Request Problem Information")),
      In(&Client::mqtt, Opt("request_response_information", &O::request_response_information,
                            Boolean(), "5.0 Request Response Information")),
      In(&Client::mqtt,
         Opt("user_properties", &O::user_properties, UserPropertiesValue(), "5.0 user properties")),
  };
  return t;
}

const Keys& Mqtt5OnlyClientKeys() {
  static const Keys k = {"session_expiry",
                         "receive_maximum",
                         "maximum_packet_size",
                         "topic_alias_maximum",
                         "request_problem_information",
                         "request_response_information",
                         "user_properties"};
  return k;
}

void ReadMqttClientOptions(Context& c, const Map& m, Client& client) {
  ReadFields(c, m, MqttClientTable(), client);
}

const Table<ConnackExpect>& ConnackTable() {
  static const Table<ConnackExpect> t = {
      Opt("reason_code", &ConnackExpect::reason_code, Integer(0, 255),
          "CONNACK reason code (3.1.1: return code)"),
      Opt("session_present", &ConnackExpect::session_present, Boolean(), "Session Present flag"),
      Opt("assigned_client_id", &ConnackExpect::assigned_client_id, String(),
          "5.0 Assigned Client Identifier"),
      Opt("user_properties", &ConnackExpect::user_properties, UserPropertiesValue(),
          "5.0 user properties that must be present"),
  };
  return t;
}

std::optional<ConnackExpect> ReadConnack(Context& c, const Node& n, const ClientRef& clients) {
  ConnackExpect e;
  e.clients = clients;
  if (n.IsScalar()) {
    auto code = c.Uint(n, "connack reason code", 0, 255);
    if (!code) return std::nullopt;
    e.reason_code = static_cast<uint8_t>(*code);
    return e;
  }
  Keys keys = KeysOf(ConnackTable());
  keys.insert(keys.begin(), "client");
  Map m(c, n, "connack", keys);
  if (!m.ok()) return std::nullopt;
  ReadFields(c, m, ConnackTable(), e);
  return e;
}

std::vector<StepShape> MqttSteps() {
  return {
      {"subscribe",
       StepKind::kSubscribe,
       ReadSubscribe,
       "MQTT SUBSCRIBE; completes on SUBACK",
       DocsOf(SubscribeTable()),
       {"SUBSCRIBE"}},
      {"unsubscribe",
       StepKind::kUnsubscribe,
       ReadUnsubscribe,
       "MQTT UNSUBSCRIBE; completes on UNSUBACK",
       DocsOf(UnsubscribeTable()),
       {"UNSUBSCRIBE"}},
      {"publish",
       StepKind::kPublish,
       ReadPublish,
       "MQTT PUBLISH with one of payload, payload_base64, payload_json, payload_size; QoS 1/2 "
       "complete on "
       "PUBACK/PUBCOMP",
       DocsOf(PublishTable()),
       {"PUBLISH"}},
  };
}

}  // namespace wpsim::conformance::shape
