// The REST data-plane router (PROTOCOL.md §11): method + raw request target -> a typed Route or
// a ready-to-send RouteError.
//
// Theory of operation: RouteRequest is a pure function. It (1) splits the target into path and
// query, (2) matches the path's segments against the 25 operations of api-version 2024-12-01 —
// 404 when no path shape matches, 405 (with the allowed methods) when the shape matches under
// another method, (3) checks `api-version` (absent = latest, unsupported or repeated = 400, as
// the Microsoft emulator does), then (4) decodes and validates path parameters and the query
// parameters the operation uses, first failure wins with a 400. This order mirrors ASP.NET Core
// (routing, then the emulator's api-version action filter, then model validation).
// Authorization and everything needing service state (existence, filter evaluation, bodies)
// is the caller's job: the router does not compile the `filter` so that an unauthorized request
// with a bad filter gets 401 first, as in the emulator.
//
// Decoding (PROTOCOL.md §13, ASP.NET Core semantics): in path segments `%XX` is decoded except
// `%2F`/`%2f`, which stays the three characters `%2F`; `+` stays `+`. In the query, `+` is a
// space and every `%XX` is decoded. Literal path segments and query parameter names match
// case-insensitively; methods are case-sensitive. Decoded text must be valid UTF-8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/rest/error_detail.h"
#include "protocol/rest/odata_filter.h"

namespace wpsim::protocol::rest {

inline constexpr size_t kQueryParametersMax = 256;
inline constexpr int kMessageTtlSecondsMax = 300;
inline constexpr int kMaxPageSizeMax = 200;
inline constexpr int kMinutesToExpireDefault = 60;

enum class ApiVersion : uint8_t { k2021_10_01, k2022_11_01, k2023_07_01, k2024_01_01, k2024_12_01 };
inline constexpr ApiVersion kLatestApiVersion = ApiVersion::k2024_12_01;
// The `api-supported-versions` response header value (as the emulator sends it).
inline constexpr std::string_view kSupportedApiVersions =
    "2021-10-01, 2022-11-01, 2023-07-01, 2024-01-01, 2024-12-01";
std::string_view ApiVersionName(ApiVersion version);
std::optional<ApiVersion> ParseApiVersion(std::string_view text);

// The 25 operations, in the order of PROTOCOL.md §11.2.
enum class Operation : uint8_t {
  kGetServiceStatus,
  kSendToAll,
  kCloseAllConnections,
  kGenerateClientToken,
  kAddConnectionsToGroups,
  kRemoveConnectionsFromGroups,
  kCloseConnection,
  kConnectionExists,
  kSendToConnection,
  kRemoveConnectionFromAllGroups,
  kGroupExists,
  kSendToGroup,
  kCloseGroupConnections,
  kListConnectionsInGroup,
  kAddConnectionToGroup,
  kRemoveConnectionFromGroup,
  kGrantPermission,
  kRevokePermission,
  kCheckPermission,
  kUserExists,
  kSendToUser,
  kCloseUserConnections,
  kRemoveUserFromAllGroups,
  kAddUserToGroup,
  kRemoveUserFromGroup,
};
inline constexpr size_t kOperationCount = 25;

// "HealthApi_GetServiceStatus", "WebPubSub_SendToAll", ... (REST:routes.tsp operation ids).
std::string_view OperationId(Operation op);
std::string_view OperationMethod(Operation op);
// The path template, e.g. "/api/hubs/{hub}/groups/{group}/:send".
std::string_view OperationPath(Operation op);
// The documented success status: 200, 202 or 204 (exists/check operations: 200, else 404).
int SuccessStatus(Operation op);
// The first GA api-version whose examples include the operation (PROTOCOL.md §11.1).
ApiVersion MinimumApiVersion(Operation op);

enum class Permission : uint8_t { kSendToGroup, kJoinLeaveGroup };
enum class ClientType : uint8_t { kDefault, kMqtt };

struct Route {
  Operation op = Operation::kGetServiceStatus;
  ApiVersion api_version = kLatestApiVersion;

  // Path parameters, decoded; empty when the operation has none.
  std::string hub;      // as sent (for messages and audiences)
  std::string hub_key;  // ASCII lower-case: hubs are case-insensitive
  std::string group;
  std::string connection_id;
  std::string user_id;
  Permission permission = Permission::kSendToGroup;

  // Query parameters the operation uses. Empty single values count as absent (ASP.NET binds
  // "" as null); empty repeated values are dropped.
  std::vector<std::string> excluded;       // sends to all/group, close all/group/user
  std::optional<std::string> filter;       // sends to all/group/user (raw OData text)
  int message_ttl_seconds = 0;             // sends; 0 = never expires
  std::optional<std::string> reason;       // close operations
  std::optional<std::string> token_user_id;  // generateToken `userId`
  std::vector<std::string> roles;          // generateToken `role`*
  std::vector<std::string> groups;         // generateToken `group`*
  int minutes_to_expire = kMinutesToExpireDefault;
  ClientType client_type = ClientType::kDefault;
  int max_page_size = kMaxPageSizeMax;     // list connections
  std::optional<int> top;
  std::optional<std::string> continuation_token;
  std::optional<std::string> target_name;  // permission operations
};

struct RouteError {
  int status = 400;                // 400, 404 or 405
  std::string error_code;          // the x-ms-error-code header value (= detail.code)
  ErrorDetail detail;              // the JSON body, see ErrorDetailJson
  std::string allow;               // 405 only: the Allow header, e.g. "DELETE, HEAD"

  std::string Body() const { return ErrorDetailJson(detail); }
};

// A 400 with code Error.BadRequest (the shape the emulator uses for every validation error).
RouteError BadRequest(std::string message, std::string target = "Request");

// The 400 for a filter that does not compile: {"code":"Error.BadRequest","message":<the
// filter error's message>,"target":"Request"} (EMU:WebPubSubEmulatorController.cs).
RouteError InvalidFilterError(const FilterError& error);

class [[nodiscard]] RouteResult {
 public:
  RouteResult(Route route) : v_(std::move(route)) {}         // NOLINT(google-explicit-constructor)
  RouteResult(RouteError error) : v_(std::move(error)) {}    // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  Route& route() { return std::get<0>(v_); }
  const Route& route() const { return std::get<0>(v_); }
  const RouteError& error() const { return std::get<1>(v_); }

 private:
  std::variant<Route, RouteError> v_;
};

struct RouterOptions {
  // When true, an operation newer than the requested api-version is answered 404 as if the
  // path did not exist in that version. Default false: like the Microsoft emulator, every GA
  // version serves every operation.
  bool reject_operations_newer_than_version = false;
};

// `method` is the HTTP method token (case-sensitive, "HEAD"); `target` the raw request-target
// (origin form "/api/...?..." or absolute form "http://host/api/...").
RouteResult RouteRequest(std::string_view method, std::string_view target,
                         const RouterOptions& options = {});

// Path-segment decoding of PROTOCOL.md §13; nullopt if the result is not valid UTF-8.
std::optional<std::string> DecodePathSegment(std::string_view raw);
// Query component decoding (`+` is a space); nullopt if the result is not valid UTF-8.
std::optional<std::string> DecodeQueryComponent(std::string_view raw);

}  // namespace wpsim::protocol::rest
