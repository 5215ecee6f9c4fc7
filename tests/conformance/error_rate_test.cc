// error_rate counts every request the service answers with a verdict (docs/scenarios.md
// "Thresholds"): REST calls (>= 400 fails), JSON acks (success false fails, except Duplicate) and
// MQTT PUBACK/PUBREC (reason code >= 0x80 fails), and names what it counted.
#include <gtest/gtest.h>

#include <string>

#include "reports/threshold.h"
#include "tests/conformance/run_inline.h"

namespace wpsim::conformance {
namespace {

using test_util::RunInline;

TEST(ErrorRate, CountsRefusedJsonAcksAndNamesThem) {
  reports::ScenarioResult r = RunInline(R"(name: acks-fail
source: {seed: "002", section: Publish messages from client}
description: Two of four acknowledged requests are refused.
hub: errorrate
clients:
  a: {kind: json, roles: [webpubsub.joinLeaveGroup.mine]}
steps:
  - connect: a
  - join: {client: a, group: mine, ack: 1, expect_ack: success}
  - join: {client: a, group: theirs, ack: 2, expect_ack: Forbidden}
  - join: {client: a, group: mine, ack: 3, expect_ack: success}
  - send_to_group: {client: a, group: mine, data: x, data_type: text, ack: 4, expect_ack: Forbidden}
thresholds:
  - error_rate < 1%
)");
  EXPECT_EQ(r.Counter(reports::kCounterAcks), 4u);
  EXPECT_EQ(r.Counter(reports::kCounterErrors), 2u);
  ASSERT_EQ(r.thresholds.size(), 1u);
  EXPECT_FALSE(r.thresholds[0].passed);
  EXPECT_EQ(r.thresholds[0].observed, "50% (2 of 4 acks failed)");
}

TEST(ErrorRate, CountsMqttPubackFailureCodesWithRestCalls) {
  reports::ScenarioResult r = RunInline(R"(name: puback-fail
source: {seed: "000", section: Connect to Web PubSub}
description: One of two QoS 1 publishes is refused with PUBACK 0x87; one REST call succeeds.
hub: errorrate
clients:
  scoped: {kind: mqtt5, client_id: scoped, roles: [webpubsub.sendToGroup.allowed]}
  api: rest
steps:
  - connect: {client: scoped, expect_connack: 0}
  - publish: {client: scoped, topic: other, payload: not yours, qos: 1, expect_puback: 135}
  - publish: {client: scoped, topic: allowed, payload: yours, qos: 1, expect_puback: 0}
  - publish: {client: scoped, topic: allowed, payload: at most once, qos: 0}
  - rest: {op: send_to_all, body: hi, content_type: text/plain, expect_status: 202}
thresholds:
  - error_rate < 50%
)");
  EXPECT_EQ(r.Counter(reports::kCounterMqttAcks), 2u);  // QoS 0 has no answer
  EXPECT_EQ(r.Counter(reports::kCounterRestCalls), 1u);
  EXPECT_EQ(r.Counter(reports::kCounterErrors), 1u);
  ASSERT_EQ(r.thresholds.size(), 1u);
  EXPECT_TRUE(r.thresholds[0].passed);
  EXPECT_EQ(r.thresholds[0].observed,
            "33.3333% (1 of 3 requests failed: 1 REST call, 2 PUBACKs/PUBRECs)");
}

TEST(ErrorRate, FallsBackToOperationsWithoutRequests) {
  reports::ScenarioResult s;
  s.Count(reports::kCounterOperations, 10);
  reports::ThresholdInput in;
  reports::SetErrorRateInput(s.counters, in);
  EXPECT_EQ(in.operations, 10u);
  EXPECT_EQ(in.operations_name, "operations");
  EXPECT_FALSE(in.errors.has_value());
}

}  // namespace
}  // namespace wpsim::conformance
