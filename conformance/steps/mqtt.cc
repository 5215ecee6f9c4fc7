// The MQTT family (MQTT 3.1.1 and 5.0 over WebSocket): how the client's CONNECT options, Will,
// PUBLISH properties and the subscribe, unsubscribe and publish steps are read; and how they (and
// the MQTT side of connect and disconnect) run. How connack, suback and puback are judged is in
// mqtt_judge.cc.
#include "conformance/steps/mqtt.h"

#include <algorithm>

#include "base/encoding.h"
#include "conformance/driver.h"
#include "conformance/shape/steps.h"
#include "conformance/steps/auth.h"
#include "conformance/steps/internal.h"
#include "conformance/units.h"
#include "conformance/yaml_json.h"
#include "protocol/http/url.h"

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
      In(&Client::mqtt, Opt("auto_ack", &O::auto_ack, Boolean(),
                            "answer incoming QoS 1/2 at once (default true; false: withhold "
                            "PUBACK, PUBREC and PUBCOMP)")),
      In(&Client::mqtt, Opt("auto_ping", &O::auto_ping, Boolean(),
                            "PINGREQ every Keep Alive while idle (default true)")),
  };
  return t;
}

std::vector<FieldDoc> WillDocs() { return DocsOf(WillTable()); }

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
          "CONNACK reason code (3.1.1: the return code 0..5 as sent)"),
      Opt("session_present", &ConnackExpect::session_present, Boolean(), "Session Present flag"),
      Opt("assigned_client_id", &ConnackExpect::assigned_client_id, String(),
          "5.0 Assigned Client Identifier"),
      Opt("user_properties", &ConnackExpect::user_properties, UserPropertiesValue(),
          "5.0 user properties that must be present"),
  };
  return t;
}

namespace {
// A 3.1.1 CONNACK carries a return code 0..5 (MQTT 3.1.1 section 3.2.2.3), compared as sent;
// a 5.0 reason code (128, 135, ...) for an mqtt311 client is an error, not a silent mapping.
void CheckV311ReturnCode(Context& c, const Node& n, const ClientRef& clients,
                         const ConnackExpect& e) {
  if (!e.reason_code || *e.reason_code <= 5 || c.AllMqtt5(clients)) return;
  c.Error(n, "an mqtt311 CONNACK return code is 0..5 (1 protocol version, 2 identifier rejected, "
             "3 server unavailable, 4 bad user name or password, 5 not authorized), got " +
                 std::to_string(*e.reason_code) + " (a 5.0 reason code)");
}
}  // namespace

std::optional<ConnackExpect> ReadConnack(Context& c, const Node& n, const ClientRef& clients) {
  ConnackExpect e;
  e.clients = clients;
  if (n.IsScalar()) {
    auto code = c.Uint(n, "connack reason code", 0, 255);
    if (!code) return std::nullopt;
    e.reason_code = static_cast<uint8_t>(*code);
    CheckV311ReturnCode(c, n, clients, e);
    return e;
  }
  Keys keys = KeysOf(ConnackTable());
  keys.insert(keys.begin(), "client");
  Map m(c, n, "connack", keys);
  if (!m.ok()) return std::nullopt;
  ReadFields(c, m, ConnackTable(), e);
  CheckV311ReturnCode(c, n, clients, e);
  return e;
}

}  // namespace wpsim::conformance::shape

namespace wpsim::conformance {
namespace {

using clients::Observation;
namespace mqtt = protocol::mqtt;

mqtt::Properties ToMqttProperties(const MqttPublishProperties& p) {
  mqtt::Properties out;
  out.content_type = p.content_type;
  out.message_expiry_interval = p.message_expiry_s;
  out.payload_format_indicator = p.payload_format_indicator;
  out.response_topic = p.response_topic;
  if (p.correlation_data)
    out.correlation_data =
        std::vector<uint8_t>(p.correlation_data->begin(), p.correlation_data->end());
  out.topic_alias = p.topic_alias;
  for (const MqttUserProperty& u : p.user_properties)
    out.user_properties.push_back({u.name, u.value});
  return out;
}

// The MQTT client options of member m: the client's settings, then the connect step's.
clients::MqttClientOptions MqttOptionsFor(RunContext& cx, uint32_t m, const ConnectStep* c) {
  const Client& cl = cx.sc.ClientOf(m);
  const Member& mem = cx.sc.members[m];
  const MqttOptions& mo = cl.mqtt;
  clients::MqttClientOptions o;
  FillUpgrade(cx, o, m, c);
  o.record_observations = false;  // the runner's evaluators keep what they need
  if (c && c->subprotocols) {
    o.subprotocols = *c->subprotocols;
  } else if (cl.subprotocols) {
    o.subprotocols = *cl.subprotocols;
  }
  std::string q;
  for (const auto& [k, v] : cl.query) {
    q += (q.empty() ? "?" : "&") + protocol::http::PercentEncode(k) + "=" +
         protocol::http::PercentEncode(v);
  }
  if (!q.empty()) o.path = "/clients/mqtt/hubs/" + protocol::http::PercentEncode(cx.sc.hub) + q;
  o.version =
      cl.kind == ClientKind::kMqtt311 ? mqtt::ProtocolVersion::kV311 : mqtt::ProtocolVersion::kV5;
  mqtt::Connect& cn = o.connect;
  if (mo.client_id) {
    cn.client_id = Replace(*mo.client_id, "{i}", std::to_string(mem.index));
  } else {
    for (char ch : mem.name) {
      if (ch != '[' && ch != ']') cn.client_id.push_back(ch);
    }
  }
  cn.clean_start = c && c->clean_start ? *c->clean_start : mo.clean_start;
  cn.keep_alive = c && c->keepalive_s ? *c->keepalive_s : mo.keepalive_s;
  o.auto_ack = c && c->auto_ack ? *c->auto_ack : mo.auto_ack;
  o.auto_ping = c && c->auto_ping ? *c->auto_ping : mo.auto_ping;
  cn.username = mo.username;
  if (mo.password) cn.password = std::vector<uint8_t>(mo.password->begin(), mo.password->end());
  if (cl.kind == ClientKind::kMqtt5) {
    cn.properties.session_expiry_interval =
        c && c->session_expiry_s ? c->session_expiry_s : mo.session_expiry_s;
    cn.properties.receive_maximum = mo.receive_maximum;
    cn.properties.maximum_packet_size = mo.maximum_packet_size;
    cn.properties.topic_alias_maximum = mo.topic_alias_maximum;
    if (mo.request_problem_information)
      cn.properties.request_problem_information = *mo.request_problem_information ? 1 : 0;
    if (mo.request_response_information)
      cn.properties.request_response_information = *mo.request_response_information ? 1 : 0;
    for (const MqttUserProperty& u : mo.user_properties)
      cn.properties.user_properties.push_back({u.name, u.value});
  }
  if (mo.will) {
    mqtt::Will w;
    w.topic = mo.will->topic;
    w.payload.assign(mo.will->payload.begin(), mo.will->payload.end());
    w.qos = mo.will->qos;
    w.retain = mo.will->retain;
    if (cl.kind == ClientKind::kMqtt5) {
      w.properties = ToMqttProperties(mo.will->properties);
      w.properties.topic_alias.reset();
      w.properties.will_delay_interval = mo.will->delay_s;
    }
    cn.will = std::move(w);
  }
  return o;
}

// Records an MQTT request member m just sent for step `step` (SUBSCRIBE, UNSUBSCRIBE, PUBLISH
// QoS > 0): its acknowledgement is the first with this packet id from now on; the step waits
// for it (SUBACK, UNSUBACK, PUBACK, PUBCOMP or an error PUBREC) or for the transport's end.
std::function<bool()> AwaitMqttAck(RunContext& cx, uint32_t step, uint32_t m, uint16_t packet_id) {
  auto rec = std::make_shared<MqttRecord>();
  rec->member = m;
  rec->packet_id = packet_id;
  cx.step_mqtt[step].push_back(rec);
  auto completed = std::make_shared<bool>(false);
  cx.Wait(m, [rec, completed](const ObservedEvent& ev) {
    const Observation& o = ev.observation;
    if (o.kind == Observation::Kind::kAck && o.ack_id == rec->packet_id) *completed = true;
    if (TransportEnded(o)) rec->transport_ended = true;
    if (o.kind == Observation::Kind::kAck && o.mqtt && o.ack_id == rec->packet_id) {
      rec->answer.emplace(ev);
      return true;
    }
    return false;
  });
  return [rec, completed] { return *completed || rec->transport_ended; };
}

// Sends one MQTT request of step `s` from member m (an MQTT client; others are skipped), draws
// its arrow, records it for the step's ack expectations and awaits its acknowledgement.
template <typename Send>
void SendMqttRequest(RunContext& cx, const Step& s, uint32_t m, const std::string& label,
                     PendingList& out, Send send) {
  MemberState& ms = cx.members[m];
  if (!ms.mqtt) return;
  Result<uint16_t> packet = send(*ms.mqtt);
  cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", label);
  if (!packet.ok()) return;
  out.push_back(cx.Awaiting(s, AwaitMqttAck(cx, s.id, m, *packet)));
}

// ---------------------------------------------------------------------------------------------
// Steps

void IssueSubscribe(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& sub = s.As<SubscribeStep>();
  std::vector<mqtt::Subscription> list;
  std::string topics;
  for (const MqttSubscription& x : sub.subscriptions) {
    mqtt::Subscription t;
    t.topic_filter = ctx.Apply(x.topic);
    t.options.qos = x.qos;
    t.options.no_local = x.no_local;
    t.options.retain_as_published = x.retain_as_published;
    t.options.retain_handling = x.retain_handling;
    topics += (topics.empty() ? "" : ",") + t.topic_filter;
    list.push_back(std::move(t));
  }
  mqtt::Properties props;
  if (sub.subscription_identifier)
    props.subscription_identifiers.push_back(*sub.subscription_identifier);
  for (const MqttUserProperty& u : sub.user_properties)
    props.user_properties.push_back({u.name, u.value});
  for (uint32_t m : sub.clients.members) {
    SendMqttRequest(cx, s, m, "SUBSCRIBE " + topics, out,
                    [&](clients::MqttClient& c) { return c.Subscribe(list, props); });
  }
}

void IssueUnsubscribe(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& un = s.As<UnsubscribeStep>();
  std::vector<std::string> topics;
  for (const std::string& t : un.topics) topics.push_back(ctx.Apply(t));
  for (uint32_t m : un.clients.members) {
    SendMqttRequest(cx, s, m, "UNSUBSCRIBE", out,
                    [&](clients::MqttClient& c) { return c.Unsubscribe(topics); });
  }
}

// An MQTT PUBLISH is matched by its bytes (what MQTT receivers and text receivers see) and,
// when receivers may see it as binary, by their base64 (JSON receivers, PayloadText).
void RecordMqttPublish(RunContext& cx, uint32_t m, const std::string& payload, int64_t time) {
  const std::string path(reports::kPathMqttTopic);
  cx.RecordPublish(m, payload, time, path);
  const std::string b64 = Base64Encode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  if (b64 != payload) cx.RecordPublishAlias(m, b64, time, path);
}

void IssuePublish(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& pub = s.As<PublishStep>();
  const int64_t now = cx.env.Now();
  clients::MqttPublishOptions o;
  o.topic = ctx.Apply(pub.topic);
  const std::string payload =
      pub.filler_bytes ? RunContext::Filler(*pub.filler_bytes) : cx.Template(pub.payload, ctx);
  o.payload = clients::MqttPublishOptions::Bytes(payload);
  o.qos = pub.qos;
  o.retain = pub.retain;
  o.properties = ToMqttProperties(pub.properties);
  for (uint32_t m : pub.clients.members) {
    MemberState& ms = cx.members[m];
    if (!ms.mqtt) continue;
    const int64_t intended = ctx.intended_ns.value_or(now);
    Result<uint16_t> packet = ms.mqtt->Publish(o);
    RecordMqttPublish(cx, m, payload, intended);
    cx.Arrow(now, cx.sc.members[m].name, "service",
             "PUBLISH " + o.topic + " qos:" + std::to_string(o.qos) + (o.retain ? " retain" : ""));
    if (!packet.ok() || o.qos == 0) continue;
    ms.ack_issued[*packet] = intended;
    out.push_back(cx.Awaiting(s, AwaitMqttAck(cx, s.id, m, *packet)));
  }
}

}  // namespace

std::function<bool()> ConnectMqtt(RunContext& cx, uint32_t m, const ConnectStep& c, const Step& s) {
  MemberState& ms = cx.members[m];
  auto rec = std::make_shared<MqttRecord>();
  rec->member = m;
  cx.step_connects[s.id].push_back(rec);
  clients::MqttClientOptions o = MqttOptionsFor(cx, m, &c);
  if (!ms.mqtt) {
    ms.mqtt =
        std::make_unique<clients::MqttClient>(cx.env.ClientRuntime(m), cx.sc.members[m].name, o);
    ms.mqtt->on_observation = cx.ObserverFor(m);
  } else {
    ms.mqtt->options() = o;  // the session state (unacknowledged publishes) stays
  }
  ms.transport++;
  ms.connect_issued_ns = cx.env.Now();
  // The CONNACK (and, while none came, the last observation) for connack expectations.
  cx.Wait(m, [rec](const ObservedEvent& ev) {
    if (IsConnack(ev.observation)) {
      rec->answer.emplace(ev);
      return true;
    }
    rec->last.emplace(ev);
    return false;
  });
  std::function<bool()> done = cx.Until(m, [](const ObservedEvent& ev) {
    return TransportEnded(ev.observation) || ev.observation.kind == Observation::Kind::kConnected;
  });
  ms.mqtt->Connect();
  cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", "CONNECT");
  return done;
}

void DisconnectMqtt(RunContext& cx, uint32_t step, uint32_t m, const DisconnectStep& d,
                    PendingList& out) {
  MemberState& ms = cx.members[m];
  const bool was_open = ms.mqtt->open();
  mqtt::Properties props;
  props.session_expiry_interval = d.session_expiry_s;
  for (const MqttUserProperty& u : d.user_properties)
    props.user_properties.push_back({u.name, u.value});
  const auto code = static_cast<mqtt::ReasonCode>(d.mqtt_reason_code.value_or(0));
  std::function<bool()> closed = cx.Until(
      m, [](const ObservedEvent& ev) { return ev.observation.kind == Observation::Kind::kClosed; });
  (void)ms.mqtt->Disconnect(code, std::move(props));
  cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service",
           "DISCONNECT " + std::to_string(static_cast<int>(code)));
  if (was_open) out.push_back(cx.Awaiting(cx.sc.steps[step], std::move(closed)));
}

void RegisterMqttFamily(FamilyRegistry& r) {
  using namespace shape;  // the readers, tables and docs above
  r.AddStep<SubscribeStep>({"subscribe",
                            ReadSubscribe,
                            "MQTT SUBSCRIBE; completes on SUBACK",
                            DocsOf(SubscribeTable()),
                            {"SUBSCRIBE"}},
                           IssueSubscribe);
  r.AddStep<UnsubscribeStep>({"unsubscribe",
                              ReadUnsubscribe,
                              "MQTT UNSUBSCRIBE; completes on UNSUBACK",
                              DocsOf(UnsubscribeTable()),
                              {"UNSUBSCRIBE"}},
                             IssueUnsubscribe);
  r.AddStep<PublishStep>(
      {"publish",
       ReadPublish,
       "MQTT PUBLISH with one of payload, payload_base64, payload_json, payload_size; QoS 1/2 "
       "complete on "
       "PUBACK/PUBCOMP",
       DocsOf(PublishTable()),
       {"PUBLISH"}},
      IssuePublish);
  r.AddExpectation(ExpectKind::kConnack, MakeConnackEvaluator);  // mqtt_judge.cc
  r.AddExpectation(ExpectKind::kSuback, MakeSubackEvaluator);
  r.AddExpectation(ExpectKind::kPuback, MakePubackEvaluator);
}

}  // namespace wpsim::conformance
