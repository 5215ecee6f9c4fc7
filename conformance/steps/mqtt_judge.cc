// The MQTT family's judging half: the connack, suback and puback expectations (the steps and
// the records these judge are read and run in mqtt.cc).
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/driver.h"
#include "conformance/expectations.h"
#include "conformance/steps/internal.h"
#include "conformance/steps/mqtt.h"
#include "protocol/mqtt/types.h"

namespace wpsim::conformance {
namespace {

using clients::Observation;
namespace mqtt = protocol::mqtt;

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
      int code = got.mqtt->reason_codes.empty() ? 0 : static_cast<int>(got.mqtt->reason_codes[0]);
      // 3.1.1: the return code on the wire (the codec reads it as the 5.0 reason code).
      if (cx_.sc.ClientOf(t->member).kind == ClientKind::kMqtt311 && code != 0) {
        if (auto rc = mqtt::V311ConnectReturnCodeFor(static_cast<mqtt::ReasonCode>(code)))
          code = static_cast<int>(*rc);
      }
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

}  // namespace

std::unique_ptr<Evaluator> MakeConnackEvaluator(RunContext& cx, const Expectation& e) {
  return std::make_unique<ConnackEvaluator>(cx, e);
}
std::unique_ptr<Evaluator> MakeSubackEvaluator(RunContext& cx, const Expectation& e) {
  return std::make_unique<SubackEvaluator>(cx, e);
}
std::unique_ptr<Evaluator> MakePubackEvaluator(RunContext& cx, const Expectation& e) {
  return std::make_unique<PubackEvaluator>(cx, e);
}

}  // namespace wpsim::conformance
