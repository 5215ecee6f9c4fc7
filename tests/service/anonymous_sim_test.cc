// anonymousConnectPolicy (PROTOCOL.md §2.2) in simulation: a hub that allows anonymous clients
// admits requests without a token as users without a userId or roles; other hubs answer 401; a
// token that is present is still verified; a connect handler may name the anonymous user.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "clients/app_server.h"
#include "clients/ws_client.h"
#include "protocol/webpubsub/client_requests.h"
#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "tests/service/sim_fixture.h"

namespace wpsim::service {
namespace {

using clients::Observation;
using clients::WsClient;
using clients::WsClientKind;
using clients::WsClientOptions;
namespace wps = protocol::webpubsub;

class AnonymousSim : public testing::ServiceSimTest {
 protected:
  AnonymousSim() { options_.hubs["open"].allow_anonymous = true; }

  // A client of `hub` (which the fixture's token-less options do not fix to "hub").
  WsClient& Client(std::string hub, std::string token = {},
                   WsClientKind kind = WsClientKind::kJson) {
    WsClientOptions o = WsOptions(kind, std::move(token));
    o.hub = std::move(hub);
    return ServiceSimTest::Client("c", std::move(o));
  }
};

TEST_F(AnonymousSim, HubAllowingAnonymousAdmitsAClientWithoutATokenAsAUserWithoutId) {
  WsClient& c = Client("Open");  // hub names are case-insensitive
  c.Connect();
  Run();
  auto connected = Of(c, Observation::Kind::kConnected);
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_FALSE(connected[0]->user_id.has_value());
  // No roles: joining a group is forbidden like for any client without roles.
  ASSERT_TRUE(c.JoinGroup("g", 1).ok());
  Run();
  auto ack = Of(c, Observation::Kind::kAck);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_FALSE(ack[0]->success);
  EXPECT_EQ(ack[0]->error_name, "Forbidden");
}

TEST_F(AnonymousSim, OtherHubsStillAnswer401WithoutAToken) {
  WsClient& c = Client("closed", {}, WsClientKind::kRaw);
  c.Connect();
  Run();
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 401);
}

TEST_F(AnonymousSim, ATokenThatIsPresentIsVerifiedEvenWhereAnonymousIsAllowed) {
  WsClient& c = Client("open", "not-a-jwt");
  c.Connect();
  Run();
  auto failed = Of(c, Observation::Kind::kHandshakeFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->http_status, 401);
}

TEST_F(AnonymousSim, ConnectHandlerNamesTheAnonymousUser) {
  sim::SimRuntime* app_host = net_.AddHost("app").value();
  clients::AppServerOptions app_options;
  app_options.access_keys = options_.access_keys;
  clients::AppServer app(*app_host, "app", app_options);
  ASSERT_TRUE(app.Listen().ok());
  app.SetDefault("connect", clients::AppServerReply::ConnectWith("named-by-app"));
  options_.hubs["open"].event_handlers = {{"http://app/{event}", "", {"connect"}}};
  WsClient& c = Client("open");
  c.Connect();
  Run();
  auto connected = Of(c, Observation::Kind::kConnected);
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0]->user_id, "named-by-app");
  ASSERT_EQ(app.RequestsFor("connect").size(), 1u);
  EXPECT_FALSE(app.RequestsFor("connect")[0]->headers.Has("ce-userId"));
}

}  // namespace
}  // namespace wpsim::service
