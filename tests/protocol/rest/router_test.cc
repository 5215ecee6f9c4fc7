// REST routing (PROTOCOL.md §11, §13; case IDs REST-001.. in docs/conformance.md).
#include "protocol/rest/router.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace wpsim::protocol::rest {
namespace {

Route MustRoute(std::string_view method, std::string_view target, RouterOptions options = {}) {
  RouteResult result = RouteRequest(method, target, options);
  EXPECT_TRUE(result.ok()) << method << " " << target << " -> "
                           << (result.ok() ? "" : result.error().Body());
  return result.ok() ? result.route() : Route();
}

RouteError MustFail(std::string_view method, std::string_view target, RouterOptions options = {}) {
  RouteResult result = RouteRequest(method, target, options);
  EXPECT_FALSE(result.ok()) << method << " " << target;
  return result.ok() ? RouteError() : result.error();
}

struct OperationCase {
  const char* method;
  const char* target;
  Operation op;
};

// Every operation of api-version 2024-12-01 (REST-001).
const OperationCase kEveryOperation[] = {
    {"HEAD", "/api/health", Operation::kGetServiceStatus},
    {"POST", "/api/hubs/chat/:send", Operation::kSendToAll},
    {"POST", "/api/hubs/chat/:closeConnections", Operation::kCloseAllConnections},
    {"POST", "/api/hubs/chat/:generateToken", Operation::kGenerateClientToken},
    {"POST", "/api/hubs/chat/:addToGroups", Operation::kAddConnectionsToGroups},
    {"POST", "/api/hubs/chat/:removeFromGroups", Operation::kRemoveConnectionsFromGroups},
    {"DELETE", "/api/hubs/chat/connections/c1", Operation::kCloseConnection},
    {"HEAD", "/api/hubs/chat/connections/c1", Operation::kConnectionExists},
    {"POST", "/api/hubs/chat/connections/c1/:send", Operation::kSendToConnection},
    {"DELETE", "/api/hubs/chat/connections/c1/groups", Operation::kRemoveConnectionFromAllGroups},
    {"HEAD", "/api/hubs/chat/groups/g1", Operation::kGroupExists},
    {"POST", "/api/hubs/chat/groups/g1/:send", Operation::kSendToGroup},
    {"POST", "/api/hubs/chat/groups/g1/:closeConnections", Operation::kCloseGroupConnections},
    {"GET", "/api/hubs/chat/groups/g1/connections", Operation::kListConnectionsInGroup},
    {"PUT", "/api/hubs/chat/groups/g1/connections/c1", Operation::kAddConnectionToGroup},
    {"DELETE", "/api/hubs/chat/groups/g1/connections/c1", Operation::kRemoveConnectionFromGroup},
    {"PUT", "/api/hubs/chat/permissions/sendToGroup/connections/c1", Operation::kGrantPermission},
    {"DELETE", "/api/hubs/chat/permissions/sendToGroup/connections/c1",
     Operation::kRevokePermission},
    {"HEAD", "/api/hubs/chat/permissions/sendToGroup/connections/c1", Operation::kCheckPermission},
    {"HEAD", "/api/hubs/chat/users/u1", Operation::kUserExists},
    {"POST", "/api/hubs/chat/users/u1/:send", Operation::kSendToUser},
    {"POST", "/api/hubs/chat/users/u1/:closeConnections", Operation::kCloseUserConnections},
    {"DELETE", "/api/hubs/chat/users/u1/groups", Operation::kRemoveUserFromAllGroups},
    {"PUT", "/api/hubs/chat/users/u1/groups/g1", Operation::kAddUserToGroup},
    {"DELETE", "/api/hubs/chat/users/u1/groups/g1", Operation::kRemoveUserFromGroup},
};

TEST(RestRouting, RoutesEveryOperationOfTheLatestVersion) {  // REST-001
  std::set<Operation> seen;
  for (const OperationCase& c : kEveryOperation) {
    Route route = MustRoute(c.method, std::string(c.target) + "?api-version=2024-12-01");
    EXPECT_EQ(route.op, c.op) << c.method << " " << c.target;
    EXPECT_EQ(OperationMethod(c.op), c.method);
    seen.insert(route.op);
  }
  EXPECT_EQ(seen.size(), kOperationCount);
}

TEST(RestRouting, ExtractsPathParametersOfEveryShape) {  // REST-001
  for (const OperationCase& c : kEveryOperation) {
    Route route = MustRoute(c.method, c.target);
    const std::string path(OperationPath(c.op));
    auto has = [&](const char* name) { return path.find(name) != std::string::npos; };
    EXPECT_EQ(route.hub, has("{hub}") ? "chat" : "") << c.target;
    EXPECT_EQ(route.group, has("{group}") ? "g1" : "") << c.target;
    EXPECT_EQ(route.connection_id, has("{connectionId}") ? "c1" : "") << c.target;
    EXPECT_EQ(route.user_id, has("{userId}") ? "u1" : "") << c.target;
  }
}

TEST(RestRouting, OperationMetadataMatchesTheSpecTable) {  // REST-001
  EXPECT_EQ(OperationId(Operation::kGetServiceStatus), "HealthApi_GetServiceStatus");
  EXPECT_EQ(OperationId(Operation::kListConnectionsInGroup), "WebPubSub_ListConnectionsInGroup");
  EXPECT_EQ(SuccessStatus(Operation::kSendToAll), 202);
  EXPECT_EQ(SuccessStatus(Operation::kCloseConnection), 204);
  EXPECT_EQ(SuccessStatus(Operation::kGrantPermission), 200);
  EXPECT_EQ(SuccessStatus(Operation::kRevokePermission), 204);
  EXPECT_EQ(SuccessStatus(Operation::kGenerateClientToken), 200);
  EXPECT_EQ(MinimumApiVersion(Operation::kListConnectionsInGroup), ApiVersion::k2024_12_01);
  EXPECT_EQ(MinimumApiVersion(Operation::kAddConnectionsToGroups), ApiVersion::k2023_07_01);
  EXPECT_EQ(MinimumApiVersion(Operation::kRemoveConnectionFromAllGroups), ApiVersion::k2022_11_01);
  EXPECT_EQ(MinimumApiVersion(Operation::kSendToAll), ApiVersion::k2021_10_01);
}

TEST(RestRouting, HubNamesAreCaseInsensitiveThroughTheKey) {  // REST-002
  Route route = MustRoute("POST", "/api/hubs/MyHub/:send");
  EXPECT_EQ(route.hub, "MyHub");
  EXPECT_EQ(route.hub_key, "myhub");
}

TEST(RestRouting, LiteralSegmentsAndQueryNamesMatchCaseInsensitively) {  // REST-003
  Route route = MustRoute("POST", "/API/Hubs/chat/Groups/g1/:SEND?API-VERSION=2024-01-01&Filter=x");
  EXPECT_EQ(route.op, Operation::kSendToGroup);
  EXPECT_EQ(route.api_version, ApiVersion::k2024_01_01);
  EXPECT_EQ(route.filter, "x");
}

TEST(RestRouting, AcceptsATrailingSlashAndAbsoluteFormTargets) {  // REST-003
  EXPECT_EQ(MustRoute("HEAD", "/api/health/").op, Operation::kGetServiceStatus);
  EXPECT_EQ(MustRoute("HEAD", "http://localhost:8080/api/health?api-version=2024-12-01").op,
            Operation::kGetServiceStatus);
  EXPECT_EQ(MustRoute("POST", "HTTPS://x.webpubsub.azure.com/api/hubs/h/:send").op,
            Operation::kSendToAll);
}

TEST(RestRouting, UnknownPathsAre404WithAnErrorDetail) {  // REST-004
  for (const char* target : {"/", "/api", "/api/hubs", "/api/hubs/chat", "/api/hubs/chat/:sendx",
                             "/api/hubs/chat/groups/g/members", "/api/hubs//:send",
                             "/api/hubs/chat/groups//:send", "/api/health/extra", "*",
                             "/api/hubs/chat/users/u/groups/g/x/y/z", "http://host"}) {
    RouteError e = MustFail("POST", target);
    EXPECT_EQ(e.status, 404) << target;
    EXPECT_EQ(e.error_code, "Error.NotFound");
    EXPECT_EQ(e.Body(),
              R"({"code":"Error.NotFound","message":"The requested resource does not exist.","target":"Request"})");
  }
}

TEST(RestRouting, KnownPathsWithAnotherMethodAre405WithAllow) {  // REST-005
  RouteError e = MustFail("GET", "/api/hubs/chat/connections/c1");
  EXPECT_EQ(e.status, 405);
  EXPECT_EQ(e.allow, "DELETE, HEAD");
  EXPECT_EQ(e.error_code, "Error.MethodNotAllowed");
  EXPECT_EQ(MustFail("GET", "/api/health").allow, "HEAD");
  EXPECT_EQ(MustFail("POST", "/api/hubs/h/permissions/sendToGroup/connections/c").allow,
            "DELETE, HEAD, PUT");
  EXPECT_EQ(MustFail("head", "/api/health").status, 405);  // methods are case-sensitive
}

TEST(RestApiVersions, MissingVersionMeansLatest) {  // REST-010
  EXPECT_EQ(MustRoute("POST", "/api/hubs/h/:send").api_version, kLatestApiVersion);
  EXPECT_EQ(ApiVersionName(kLatestApiVersion), "2024-12-01");
}

TEST(RestApiVersions, EveryGaVersionIsAccepted) {  // REST-010
  for (const char* version : {"2021-10-01", "2022-11-01", "2023-07-01", "2024-01-01", "2024-12-01"}) {
    Route route = MustRoute("POST", std::string("/api/hubs/h/:send?api-version=") + version);
    EXPECT_EQ(ApiVersionName(route.api_version), version);
  }
}

TEST(RestApiVersions, UnknownPreviewEmptyOrRepeatedVersionsAre400) {  // REST-011
  for (const char* query : {"api-version=2020-10-01", "api-version=2021-05-01-preview",
                            "api-version=", "api-version=2024-12-01&api-version=2024-12-01",
                            "api-version=latest"}) {
    RouteError e = MustFail("POST", std::string("/api/hubs/h/:send?") + query);
    EXPECT_EQ(e.status, 400) << query;
    EXPECT_EQ(e.Body(),
              R"({"code":"Error.BadRequest","message":"The specified API version is not supported.","target":"api-version"})");
  }
}

TEST(RestApiVersions, RoutingErrorsComeBeforeVersionErrors) {  // REST-011
  EXPECT_EQ(MustFail("POST", "/api/nothing?api-version=bad").status, 404);
  EXPECT_EQ(MustFail("GET", "/api/health?api-version=bad").status, 405);
}

TEST(RestApiVersions, NewerOperationsAreServedByDefaultAndRejectedInStrictMode) {  // REST-012
  const char* target = "/api/hubs/h/groups/g/connections?api-version=2024-01-01";
  EXPECT_EQ(MustRoute("GET", target).op, Operation::kListConnectionsInGroup);
  RouterOptions strict;
  strict.reject_operations_newer_than_version = true;
  RouteError e = MustFail("GET", target, strict);
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.detail.message,
            "Operation 'WebPubSub_ListConnectionsInGroup' is not available in api-version 2024-01-01.");
  EXPECT_EQ(MustRoute("POST", "/api/hubs/h/:addToGroups?api-version=2023-07-01", strict).op,
            Operation::kAddConnectionsToGroups);
  EXPECT_EQ(MustFail("POST", "/api/hubs/h/:addToGroups?api-version=2022-11-01", strict).status, 404);
  EXPECT_EQ(MustFail("DELETE", "/api/hubs/h/connections/c/groups?api-version=2021-10-01", strict).status,
            404);
  EXPECT_EQ(MustRoute("DELETE", "/api/hubs/h/connections/c/groups?api-version=2022-11-01", strict).op,
            Operation::kRemoveConnectionFromAllGroups);
}

TEST(RestPathDecoding, KeepsEncodedSlashesDecodesSpacesAndKeepsPlus) {  // REST-020
  Route route = MustRoute("HEAD", "/api/hubs/h/users/a%2Fb%20c+d%2fe");
  EXPECT_EQ(route.user_id, "a%2Fb c+d%2fe");
  Route group = MustRoute("HEAD", "/api/hubs/h/groups/%E4%BD%A0%25x");
  EXPECT_EQ(group.group, "\xE4\xBD\xA0%x");
  // Malformed escapes stay literal.
  EXPECT_EQ(MustRoute("HEAD", "/api/hubs/h/connections/%zz%4").connection_id, "%zz%4");
  // Literal segments may be percent-encoded.
  EXPECT_EQ(MustRoute("POST", "/api/hubs/h/%3Asend").op, Operation::kSendToAll);
}

TEST(RestPathDecoding, DecodedInvalidUtf8IsABadParameter) {  // REST-020
  RouteError e = MustFail("HEAD", "/api/hubs/h/users/%FF");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.detail.message, "Invalid user ID.");
  EXPECT_EQ(MustFail("HEAD", "/api/hubs/h/connections/%C3").detail.message, "Invalid connection ID.");
}

TEST(RestQueryDecoding, PlusIsASpaceAndEveryEscapeIsDecoded) {  // REST-021
  Route route = MustRoute("POST", "/api/hubs/h/:send?filter=userId+eq+%27a%2Fb%27");
  EXPECT_EQ(route.filter, "userId eq 'a/b'");
  EXPECT_EQ(MustFail("POST", "/api/hubs/h/:send?filter=%FF").status, 400);
}

TEST(RestValidation, RejectsInvalidHubNames) {  // REST-030
  for (const char* hub : {"1hub", "_x", "a-b", "a%20b", "%C3%A9"}) {
    RouteError e = MustFail("POST", std::string("/api/hubs/") + hub + "/:send");
    EXPECT_EQ(e.status, 400) << hub;
    EXPECT_EQ(e.Body(), R"({"code":"Error.BadRequest","message":"Invalid hub name.","target":"hub"})");
  }
  EXPECT_EQ(MustFail("POST", "/api/hubs/" + std::string(129, 'a') + "/:send").status, 400);
  EXPECT_TRUE(RouteRequest("POST", "/api/hubs/" + std::string(128, 'a') + "/:send").ok());
}

TEST(RestValidation, RejectsInvalidGroupNames) {  // REST-031
  const OperationCase cases[] = {
      {"HEAD", "/api/hubs/h/groups/%20%20", Operation::kGroupExists},
      {"POST", "/api/hubs/h/groups/%09/:send", Operation::kSendToGroup},
      {"PUT", "/api/hubs/h/users/u/groups/%20", Operation::kAddUserToGroup},
      {"PUT", "/api/hubs/h/groups/%C2%A0/connections/c", Operation::kAddConnectionToGroup},
  };
  for (const OperationCase& c : cases) {
    RouteError e = MustFail(c.method, c.target);
    EXPECT_EQ(e.status, 400) << c.target;
    EXPECT_EQ(e.detail.target, "group");
    EXPECT_EQ(e.detail.message, "Invalid group name.");
  }
  EXPECT_EQ(MustFail("HEAD", "/api/hubs/h/groups/" + std::string(1025, 'g')).status, 400);
  EXPECT_EQ(MustRoute("HEAD", "/api/hubs/h/groups/" + std::string(1024, 'g')).group.size(), 1024u);
}

TEST(RestValidation, ValidatesPermissionNamesCaseInsensitively) {  // REST-032
  EXPECT_EQ(MustRoute("PUT", "/api/hubs/h/permissions/joinLeaveGroup/connections/c").permission,
            Permission::kJoinLeaveGroup);
  EXPECT_EQ(MustRoute("PUT", "/api/hubs/h/permissions/SENDTOGROUP/connections/c").permission,
            Permission::kSendToGroup);
  RouteError e = MustFail("PUT", "/api/hubs/h/permissions/sendToGroups/connections/c");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.Body(), R"({"code":"Error.BadRequest","message":"Invalid permission.","target":"permission"})");
}

TEST(RestValidation, ValidatesTargetName) {  // REST-032
  Route with = MustRoute("HEAD", "/api/hubs/h/permissions/sendToGroup/connections/c?targetName=g%201");
  EXPECT_EQ(with.target_name, "g 1");
  Route without = MustRoute("HEAD", "/api/hubs/h/permissions/sendToGroup/connections/c?targetName=");
  EXPECT_FALSE(without.target_name.has_value());
  RouteError e = MustFail("PUT", "/api/hubs/h/permissions/sendToGroup/connections/c?targetName=+");
  EXPECT_EQ(e.detail.target, "targetName");
}

TEST(RestValidation, ChecksMessageTtlSeconds) {  // REST-033
  EXPECT_EQ(MustRoute("POST", "/api/hubs/h/:send").message_ttl_seconds, 0);
  EXPECT_EQ(MustRoute("POST", "/api/hubs/h/:send?messageTtlSeconds=300").message_ttl_seconds, 300);
  EXPECT_EQ(MustRoute("POST", "/api/hubs/h/users/u/:send?messageTtlSeconds=0").message_ttl_seconds, 0);
  EXPECT_EQ(MustRoute("POST", "/api/hubs/h/connections/c/:send?messageTtlSeconds=7").message_ttl_seconds,
            7);
  for (const char* bad : {"301", "-1", "+5", "abc", "1.5", "99999999999999"}) {
    RouteError e = MustFail("POST", std::string("/api/hubs/h/groups/g/:send?messageTtlSeconds=") + bad);
    EXPECT_EQ(e.Body(),
              R"({"code":"Error.BadRequest","message":"Invalid messageTtlSeconds.","target":"messageTtlSeconds"})")
        << bad;
  }
  EXPECT_EQ(MustFail("POST", "/api/hubs/h/:send?messageTtlSeconds=1&messageTtlSeconds=2").detail.message,
            "Duplicate query parameter 'messageTtlSeconds'.");
}

TEST(RestValidation, CollectsRepeatedExcludedAndReasons) {  // REST-034
  Route send = MustRoute("POST", "/api/hubs/h/:send?excluded=a&excluded=b&excluded=&filter=x");
  EXPECT_EQ(send.excluded, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(send.filter, "x");
  Route close = MustRoute("POST", "/api/hubs/h/users/u/:closeConnections?excluded=c&reason=bye+now");
  EXPECT_EQ(close.excluded, (std::vector<std::string>{"c"}));
  EXPECT_EQ(close.reason, "bye now");
  Route close_one = MustRoute("DELETE", "/api/hubs/h/connections/c?reason=");
  EXPECT_FALSE(close_one.reason.has_value());
  // sendToUser has no `excluded`; sendToConnection no `filter`.
  EXPECT_TRUE(MustRoute("POST", "/api/hubs/h/users/u/:send?excluded=a").excluded.empty());
  EXPECT_FALSE(MustRoute("POST", "/api/hubs/h/connections/c/:send?filter=x").filter.has_value());
  EXPECT_EQ(MustFail("POST", "/api/hubs/h/:send?filter=a&filter=b").status, 400);
}

TEST(RestValidation, ParsesGenerateTokenParameters) {  // REST-035
  Route route = MustRoute("POST",
                          "/api/hubs/h/:generateToken?userId=u%201&role=webpubsub.sendToGroup&"
                          "role=webpubsub.joinLeaveGroup.g&group=g1&group=g2&minutesToExpire=5&"
                          "clientType=mqtt");
  EXPECT_EQ(route.token_user_id, "u 1");
  EXPECT_EQ(route.roles, (std::vector<std::string>{"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup.g"}));
  EXPECT_EQ(route.groups, (std::vector<std::string>{"g1", "g2"}));
  EXPECT_EQ(route.minutes_to_expire, 5);
  EXPECT_EQ(route.client_type, ClientType::kMqtt);
  Route defaults = MustRoute("POST", "/api/hubs/h/:generateToken");
  EXPECT_FALSE(defaults.token_user_id.has_value());
  EXPECT_EQ(defaults.minutes_to_expire, 60);
  EXPECT_EQ(defaults.client_type, ClientType::kDefault);
  EXPECT_EQ(MustRoute("POST", "/api/hubs/h/:generateToken?clientType=DEFAULT").client_type,
            ClientType::kDefault);
  EXPECT_EQ(MustFail("POST", "/api/hubs/h/:generateToken?minutesToExpire=0").detail.message,
            "Invalid minutesToExpire.");
  EXPECT_EQ(MustFail("POST", "/api/hubs/h/:generateToken?minutesToExpire=x").status, 400);
  EXPECT_EQ(MustFail("POST", "/api/hubs/h/:generateToken?clientType=SocketIO").Body(),
            R"({"code":"Error.BadRequest","message":"Invalid clientType.","target":"clientType"})");
}

TEST(RestValidation, ChecksPagingParameters) {  // REST-036
  Route defaults = MustRoute("GET", "/api/hubs/h/groups/g/connections");
  EXPECT_EQ(defaults.max_page_size, 200);
  EXPECT_FALSE(defaults.top.has_value());
  Route paged = MustRoute("GET", "/api/hubs/h/groups/g/connections?maxpagesize=1&top=2147483647&"
                                 "continuationToken=abc%3D");
  EXPECT_EQ(paged.max_page_size, 1);
  EXPECT_EQ(paged.top, 2147483647);
  EXPECT_EQ(paged.continuation_token, "abc=");
  EXPECT_EQ(MustRoute("GET", "/api/hubs/h/groups/g/connections?maxPageSize=5").max_page_size, 5);
  for (const char* bad : {"maxpagesize=0", "maxpagesize=201", "top=0", "top=2147483648", "top=-3"}) {
    RouteError e = MustFail("GET", std::string("/api/hubs/h/groups/g/connections?") + bad);
    EXPECT_EQ(e.status, 400) << bad;
  }
  EXPECT_EQ(MustFail("GET", "/api/hubs/h/groups/g/connections?maxpagesize=201").detail.target,
            "maxpagesize");
  EXPECT_EQ(MustFail("GET", "/api/hubs/h/groups/g/connections?top=0").detail.message, "Invalid top.");
}

TEST(RestValidation, BoundsTheNumberOfQueryParameters) {  // REST-037
  std::string target = "/api/hubs/h/:send?";
  for (size_t i = 0; i < kQueryParametersMax; ++i) target += "excluded=c&";
  EXPECT_EQ(MustRoute("POST", target).excluded.size(), kQueryParametersMax);
  target += "excluded=one-more";
  EXPECT_EQ(MustFail("POST", target).detail.message, "Too many query parameters.");
}

TEST(RestValidation, UnknownQueryParametersAreIgnored) {  // REST-037
  EXPECT_EQ(MustRoute("HEAD", "/api/health?x=1&y&&z=%20").op, Operation::kGetServiceStatus);
}

TEST(RestValidation, HubIsCheckedBeforeOtherParameters) {  // REST-030
  RouteError e = MustFail("POST", "/api/hubs/1/groups/%20/:send?messageTtlSeconds=999");
  EXPECT_EQ(e.detail.target, "hub");
  EXPECT_EQ(MustFail("POST", "/api/hubs/h/groups/%20/:send?messageTtlSeconds=999").detail.target,
            "group");
}

TEST(RestValidation, InvalidFiltersBecomeBadRequests) {  // REST-038
  Route route = MustRoute("POST", "/api/hubs/h/:send?filter=userId+gt+5");
  FilterCompileResult filter = ODataFilter::Compile(*route.filter);
  ASSERT_FALSE(filter.ok());
  RouteError e = InvalidFilterError(filter.error());
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.error_code, "Error.BadRequest");
  EXPECT_EQ(e.Body(),
            R"x({"code":"Error.BadRequest","message":"Invalid syntax for 'userId gt 5': Type 'string', expect 'int'. (Parameter 'filter')","target":"Request"})x");
}

}  // namespace
}  // namespace wpsim::protocol::rest
