// `wpsim serve --config`: the `limits:` section (service::ConnectionLimits) and command-line
// flags overriding it.
#include "app/serve_config.h"

#include <gtest/gtest.h>

#include "app/serve.h"

namespace wpsim::app {
namespace {

TEST(ServeConfigLimits, EveryLimitIsReadFromTheLimitsSection) {
  service::ServiceOptions o;
  Status s = ApplyServeConfig(R"(
limits:
  requestReadTimeoutSeconds: 5
  httpIdleTimeoutSeconds: 0
  webSocketPingsUnansweredMax: 2
  maxConnections: 100
  maxConnectionsPerPeer: 10
  maxGroupsPerConnection: 7
  maxPipelinedRequests: 3
)",
                              "c.yaml", o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(o.limits.request_read_timeout, 5 * sim::kSecond);
  EXPECT_EQ(o.limits.http_idle_timeout, 0);
  EXPECT_EQ(o.limits.websocket_pings_unanswered_max, 2);
  EXPECT_EQ(o.limits.connections_max, 100u);
  EXPECT_EQ(o.limits.connections_per_peer_max, 10u);
  EXPECT_EQ(o.limits.groups_per_connection_max, 7u);
  EXPECT_EQ(o.limits.pipelined_requests_max, 3u);
}

TEST(ServeConfigLimits, UnknownKeysAndBadValuesAreErrorsWithTheirPosition) {
  service::ServiceOptions o;
  Status unknown = ApplyServeConfig("limits:\n  maxSockets: 3\n", "c.yaml", o);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("c.yaml:2:3: unknown key 'maxSockets'"),
            std::string::npos)
      << unknown.error().message;
  Status negative = ApplyServeConfig("limits:\n  maxConnections: -1\n", "c.yaml", o);
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().message.find("maxConnections must be a whole number"),
            std::string::npos)
      << negative.error().message;
  Status pings = ApplyServeConfig("limits:\n  webSocketPingsUnansweredMax: 5000\n", "c.yaml", o);
  EXPECT_FALSE(pings.ok());
}

TEST(ServeConfigLimits, FlagsOverrideTheConfigFile) {
  service::ServiceOptions o;
  ASSERT_TRUE(ApplyServeConfig("limits:\n  maxConnections: 100\n  maxGroupsPerConnection: 7\n",
                               "c.yaml", o)
                  .ok());
  ServeFlags flags;
  flags.max_connections = 5;
  flags.request_read_timeout_seconds = 1.5;
  ApplyServeLimits(flags, o.limits);
  EXPECT_EQ(o.limits.connections_max, 5u);
  EXPECT_EQ(o.limits.groups_per_connection_max, 7u);  // not given on the command line
  EXPECT_EQ(o.limits.request_read_timeout, 1'500'000'000);
}

}  // namespace
}  // namespace wpsim::app

namespace wpsim::app {
namespace {

TEST(ServeConfigHubs, APatternHubNameServesEverySuffixedHubAndTheLongestPatternWins) {
  service::ServiceOptions o;
  Status s = ApplyServeConfig(R"(
hubs:
  "up_a*":
    eventHandlers:
      - urlTemplate: "http://h/a/{event}"
        systemEvents: [connect]
  "up_a_b*":
    eventHandlers:
      - urlTemplate: "http://h/ab/{event}"
        systemEvents: [connect]
  up_a_b:
    eventHandlers:
      - urlTemplate: "http://h/exact/{event}"
        systemEvents: [connect]
)",
                              "c.yaml", o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto url = [&o](std::string_view hub) {
    const service::EventHandlerSettings* h =
        service::FindEventHandler(o.hubs, hub, service::EventKind::kSystem, "connect");
    return h == nullptr ? std::string("none") : h->url_template;
  };
  EXPECT_EQ(url("up_a"), "http://h/a/{event}");
  EXPECT_EQ(url("UP_A_r12345678"), "http://h/a/{event}");
  EXPECT_EQ(url("up_a_b"), "http://h/exact/{event}");
  EXPECT_EQ(url("up_a_b_r12345678"), "http://h/ab/{event}");
  EXPECT_EQ(url("up_c"), "none");
  EXPECT_FALSE(ApplyServeConfig("hubs:\n  \"1bad*\": {}\n", "c.yaml", o).ok());
}

}  // namespace
}  // namespace wpsim::app
