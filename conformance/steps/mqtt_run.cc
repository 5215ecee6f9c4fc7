#include "conformance/steps/mqtt_run.h"

#include <algorithm>

#include "base/encoding.h"
#include "conformance/steps/auth_run.h"
#include "protocol/http/url.h"

namespace wpsim::conformance {
namespace {

using clients::Observation;
namespace mqtt = protocol::mqtt;

bool Ends(const Observation& o) {
  return o.kind == Observation::Kind::kClosed || o.kind == Observation::Kind::kHandshakeFailed;
}

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

bool IsConnack(const Observation& o) { return o.mqtt && o.mqtt->packet == "connack"; }

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
    if (Ends(o)) rec->transport_ended = true;
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

// ---------------------------------------------------------------------------------------------
// Expectations

// connack: an inline expect_connack checks the CONNACK answering that step's CONNECT; a
// top-level connack expectation the member's first one.
class ConnackEvaluator : public Evaluator {
 public:
  ConnackEvaluator(RunContext& cx, const Expectation& e)
      : cx_(cx), e_(e), c_(e.As<ConnackExpect>()) {
    if (e.from_step) return;
    for (uint32_t m : c_.clients.members) {
      auto rec = std::make_shared<MqttRecord>();
      rec->member = m;
      own_.push_back(rec);
      cx_.Listen(m, this);
    }
  }

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    for (auto& rec : own_) {
      if (rec->member != m || rec->answer) continue;
      if (IsConnack(ev.observation)) {
        rec->answer.emplace(ev);
      } else {
        rec->last.emplace(ev);
      }
    }
  }

  void Finish() override {
    std::vector<std::shared_ptr<MqttRecord>> targets = own_;
    if (e_.from_step) {
      auto it = cx_.step_connects.find(*e_.from_step);
      if (it != cx_.step_connects.end()) targets = it->second;
    }
    std::string want = "CONNACK";
    if (c_.reason_code) want += " reason code " + std::to_string(*c_.reason_code);
    if (c_.session_present) want += *c_.session_present ? " session_present" : " no session";
    if (c_.assigned_client_id) want += " assigned client id " + *c_.assigned_client_id;
    for (const MqttUserProperty& u : c_.user_properties)
      want += " user property " + u.name + "=" + u.value;
    for (const auto& t : targets) {
      const std::string who = cx_.sc.members[t->member].name;
      if (!t->answer) {
        cx_.Fail(cx_.Where(e_) + ": " + who + " received no CONNACK", want,
                 t->last ? "last: " + DescribeObservation(t->last->observation) : "nothing",
                 e_.case_id);
        continue;
      }
      const Observation& got = t->answer->observation;
      const mqtt::Properties& p = got.mqtt->properties;
      const int code =
          got.mqtt->reason_codes.empty() ? 0 : static_cast<int>(got.mqtt->reason_codes[0]);
      bool ok = true;
      if (c_.reason_code && code != *c_.reason_code) ok = false;
      if (c_.session_present && got.mqtt->session_present != *c_.session_present) ok = false;
      if (c_.assigned_client_id && p.assigned_client_identifier != c_.assigned_client_id)
        ok = false;
      for (const MqttUserProperty& u : c_.user_properties) {
        bool found = false;
        for (const mqtt::UserProperty& g : p.user_properties)
          found = found || (g.key == u.name && g.value == u.value);
        ok = ok && found;
      }
      if (!ok) {
        cx_.Highlight(t->member, t->answer->time_ns);
        cx_.Fail(cx_.Where(e_) + ": " + who + " got a different CONNACK", want,
                 DescribeObservation(got), e_.case_id);
      }
    }
  }

 private:
  RunContext& cx_;
  const Expectation& e_;
  const ConnackExpect& c_;
  std::vector<std::shared_ptr<MqttRecord>> own_;  // top-level form: from the run's start
};

// Runs check(who, ack) for the acknowledgement of every MQTT request step `step` sent, and
// reports a step that sent none or a request that got no acknowledgement.
template <typename Check>
void ForEachMqttAck(RunContext& cx, const Expectation& e, uint32_t step, const std::string& want,
                    std::string_view request, std::string_view ack, Check check) {
  auto it = cx.step_mqtt.find(step);
  if (it == cx.step_mqtt.end() || it->second.empty()) {
    cx.Fail(cx.Where(e) + ": the step sent no " + std::string(request), want,
            "no " + std::string(request) + " (not connected?)", e.case_id);
    return;
  }
  for (const auto& r : it->second) {
    const std::string who = cx.sc.members[r->member].name;
    if (!r->answer) {
      cx.Fail(cx.Where(e) + ": " + who + " received no " + std::string(ack), want, "none",
              e.case_id);
      continue;
    }
    check(who, r->answer->observation);
  }
}

class SubackEvaluator : public Evaluator {
 public:
  SubackEvaluator(RunContext& cx, const Expectation& e) : cx_(cx), e_(e) {}
  void Finish() override {
    const auto& x = e_.As<SubackExpect>();
    std::string want = "SUBACK";
    for (uint8_t c : x.reason_codes) want += " " + std::to_string(c);
    ForEachMqttAck(cx_, e_, x.step, want, "SUBSCRIBE", "SUBACK",
                   [&](const std::string& who, const Observation& got) {
                     std::vector<uint8_t> codes;
                     for (mqtt::ReasonCode c : got.mqtt->reason_codes)
                       codes.push_back(static_cast<uint8_t>(c));
                     // One expected code stands for every topic filter of the SUBSCRIBE.
                     bool ok = x.reason_codes.size() == 1
                                   ? !codes.empty() && std::all_of(codes.begin(), codes.end(),
                                                                   [&](uint8_t c) {
                                                                     return c == x.reason_codes[0];
                                                                   })
                                   : codes == x.reason_codes;
                     if (!ok)
                       cx_.Fail(cx_.Where(e_) + ": " + who + " got a different SUBACK", want,
                                DescribeObservation(got), e_.case_id);
                   });
  }

 private:
  RunContext& cx_;
  const Expectation& e_;
};

class PubackEvaluator : public Evaluator {
 public:
  PubackEvaluator(RunContext& cx, const Expectation& e) : cx_(cx), e_(e) {}
  void Finish() override {
    const auto& x = e_.As<PubackExpect>();
    const std::string want = "PUBACK/PUBREC reason code " + std::to_string(x.reason_code);
    ForEachMqttAck(cx_, e_, x.step, want, "PUBLISH with QoS > 0", "acknowledgement",
                   [&](const std::string& who, const Observation& got) {
                     const int code = got.mqtt->reason_codes.empty()
                                          ? 0
                                          : static_cast<int>(got.mqtt->reason_codes[0]);
                     if (code != x.reason_code) {
                       cx_.Fail(cx_.Where(e_) + ": " + who + " got a different acknowledgement",
                                want, DescribeObservation(got), e_.case_id);
                     }
                   });
  }

 private:
  RunContext& cx_;
  const Expectation& e_;
};

template <typename T>
std::unique_ptr<Evaluator> Make(RunContext& cx, const Expectation& e) {
  return std::make_unique<T>(cx, e);
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
    return Ends(ev.observation) || ev.observation.kind == Observation::Kind::kConnected;
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
  r.AddStep(StepKind::kSubscribe, IssueSubscribe);
  r.AddStep(StepKind::kUnsubscribe, IssueUnsubscribe);
  r.AddStep(StepKind::kPublish, IssuePublish);
  r.AddExpectation(ExpectKind::kConnack, Make<ConnackEvaluator>);
  r.AddExpectation(ExpectKind::kSuback, Make<SubackEvaluator>);
  r.AddExpectation(ExpectKind::kPuback, Make<PubackEvaluator>);
}

}  // namespace wpsim::conformance
