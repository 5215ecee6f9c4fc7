#include "protocol/rest/router.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "base/encoding.h"
#include "base/result.h"
#include "protocol/rest/names.h"

namespace wpsim::protocol::rest {
namespace {

struct OperationInfo {
  Operation op;
  std::string_view id;
  std::string_view method;
  std::string_view path;
  int success;
  ApiVersion minimum;
};

constexpr ApiVersion k2110 = ApiVersion::k2021_10_01;

// Indexed by Operation.
constexpr std::array<OperationInfo, kOperationCount> kOperations = {{
    {Operation::kGetServiceStatus, "HealthApi_GetServiceStatus", "HEAD", "/api/health", 200, k2110},
    {Operation::kSendToAll, "WebPubSub_SendToAll", "POST", "/api/hubs/{hub}/:send", 202, k2110},
    {Operation::kCloseAllConnections, "WebPubSub_CloseAllConnections", "POST",
     "/api/hubs/{hub}/:closeConnections", 204, k2110},
    {Operation::kGenerateClientToken, "WebPubSub_GenerateClientToken", "POST",
     "/api/hubs/{hub}/:generateToken", 200, k2110},
    {Operation::kAddConnectionsToGroups, "WebPubSub_AddConnectionsToGroups", "POST",
     "/api/hubs/{hub}/:addToGroups", 200, ApiVersion::k2023_07_01},
    {Operation::kRemoveConnectionsFromGroups, "WebPubSub_RemoveConnectionsFromGroups", "POST",
     "/api/hubs/{hub}/:removeFromGroups", 200, ApiVersion::k2023_07_01},
    {Operation::kCloseConnection, "WebPubSub_CloseConnection", "DELETE",
     "/api/hubs/{hub}/connections/{connectionId}", 204, k2110},
    {Operation::kConnectionExists, "WebPubSub_ConnectionExists", "HEAD",
     "/api/hubs/{hub}/connections/{connectionId}", 200, k2110},
    {Operation::kSendToConnection, "WebPubSub_SendToConnection", "POST",
     "/api/hubs/{hub}/connections/{connectionId}/:send", 202, k2110},
    {Operation::kRemoveConnectionFromAllGroups, "WebPubSub_RemoveConnectionFromAllGroups", "DELETE",
     "/api/hubs/{hub}/connections/{connectionId}/groups", 204, ApiVersion::k2022_11_01},
    {Operation::kGroupExists, "WebPubSub_GroupExists", "HEAD", "/api/hubs/{hub}/groups/{group}",
     200, k2110},
    {Operation::kSendToGroup, "WebPubSub_SendToGroup", "POST",
     "/api/hubs/{hub}/groups/{group}/:send", 202, k2110},
    {Operation::kCloseGroupConnections, "WebPubSub_CloseGroupConnections", "POST",
     "/api/hubs/{hub}/groups/{group}/:closeConnections", 204, k2110},
    {Operation::kListConnectionsInGroup, "WebPubSub_ListConnectionsInGroup", "GET",
     "/api/hubs/{hub}/groups/{group}/connections", 200, ApiVersion::k2024_12_01},
    {Operation::kAddConnectionToGroup, "WebPubSub_AddConnectionToGroup", "PUT",
     "/api/hubs/{hub}/groups/{group}/connections/{connectionId}", 200, k2110},
    {Operation::kRemoveConnectionFromGroup, "WebPubSub_RemoveConnectionFromGroup", "DELETE",
     "/api/hubs/{hub}/groups/{group}/connections/{connectionId}", 204, k2110},
    {Operation::kGrantPermission, "WebPubSub_GrantPermission", "PUT",
     "/api/hubs/{hub}/permissions/{permission}/connections/{connectionId}", 200, k2110},
    {Operation::kRevokePermission, "WebPubSub_RevokePermission", "DELETE",
     "/api/hubs/{hub}/permissions/{permission}/connections/{connectionId}", 204, k2110},
    {Operation::kCheckPermission, "WebPubSub_CheckPermission", "HEAD",
     "/api/hubs/{hub}/permissions/{permission}/connections/{connectionId}", 200, k2110},
    {Operation::kUserExists, "WebPubSub_UserExists", "HEAD", "/api/hubs/{hub}/users/{userId}", 200,
     k2110},
    {Operation::kSendToUser, "WebPubSub_SendToUser", "POST", "/api/hubs/{hub}/users/{userId}/:send",
     202, k2110},
    {Operation::kCloseUserConnections, "WebPubSub_CloseUserConnections", "POST",
     "/api/hubs/{hub}/users/{userId}/:closeConnections", 204, k2110},
    {Operation::kRemoveUserFromAllGroups, "WebPubSub_RemoveUserFromAllGroups", "DELETE",
     "/api/hubs/{hub}/users/{userId}/groups", 204, k2110},
    {Operation::kAddUserToGroup, "WebPubSub_AddUserToGroup", "PUT",
     "/api/hubs/{hub}/users/{userId}/groups/{group}", 200, k2110},
    {Operation::kRemoveUserFromGroup, "WebPubSub_RemoveUserFromGroup", "DELETE",
     "/api/hubs/{hub}/users/{userId}/groups/{group}", 204, k2110},
}};

const OperationInfo& Info(Operation op) {
  const auto index = static_cast<size_t>(op);
  WPSIM_ASSERT(index < kOperations.size() && kOperations[index].op == op);
  return kOperations[index];
}

constexpr std::array<std::string_view, 5> kVersionNames = {
    "2021-10-01", "2022-11-01", "2023-07-01", "2024-01-01", "2024-12-01"};

// The longest template has 7 segments ("api" included).
constexpr size_t kSegmentsMax = 8;

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view raw, bool path) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '%' && i + 2 < raw.size()) {
      const int hi = HexValue(raw[i + 1]);
      const int lo = HexValue(raw[i + 2]);
      if (hi >= 0 && lo >= 0) {
        const char decoded = static_cast<char>(hi * 16 + lo);
        if (path && decoded == '/') {
          out.append(raw.substr(i, 3));  // ASP.NET keeps an encoded slash encoded
        } else {
          out.push_back(decoded);
        }
        i += 2;
        continue;
      }
    }
    out.push_back(!path && c == '+' ? ' ' : c);
  }
  if (!IsValidUtf8(out)) return std::nullopt;
  return out;
}

std::vector<std::string_view> SplitTemplate(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

struct QueryParameter {
  std::string name;
  std::string value;
};

class Query {
 public:
  std::vector<QueryParameter> params;

  std::vector<const std::string*> All(std::string_view name) const {
    std::vector<const std::string*> values;
    for (const QueryParameter& p : params) {
      if (EqualsIgnoreCase(p.name, name)) values.push_back(&p.value);
    }
    return values;
  }
};

// Parses "a=1&b=2"; nullopt on invalid UTF-8 after decoding.
std::optional<Query> ParseQuery(std::string_view query, bool& too_many) {
  Query parsed;
  too_many = false;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    if (parsed.params.size() == kQueryParametersMax) {
      too_many = true;
      return std::nullopt;
    }
    const size_t eq = pair.find('=');
    std::optional<std::string> name = DecodeQueryComponent(pair.substr(0, eq));
    std::optional<std::string> value =
        DecodeQueryComponent(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    parsed.params.push_back({std::move(*name), std::move(*value)});
  }
  return parsed;
}

// Optional sign then decimal digits, within int32; nullopt otherwise.
std::optional<int> ParseInt32(std::string_view text, bool allow_sign) {
  bool negative = false;
  if (allow_sign && !text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > 11) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (negative) value = -value;
  if (value > INT32_MAX || value < INT32_MIN) return std::nullopt;
  return static_cast<int>(value);
}

RouteError NotFound() {
  RouteError e;
  e.status = 404;
  e.error_code = std::string(kErrorNotFound);
  e.detail.code = e.error_code;
  e.detail.message = "The requested resource does not exist.";
  e.detail.target = "Request";
  return e;
}

// Validation of one route's parameters, in the order ASP.NET would report them.
class Binder {
 public:
  explicit Binder(const Query& query) : query_(query) {}

  std::optional<RouteError> error;

  // A single-valued parameter; empty counts as absent. Repeats are a 400.
  std::optional<std::string> Single(std::string_view name) {
    if (error) return std::nullopt;
    std::vector<const std::string*> values = query_.All(name);
    if (values.size() > 1) {
      error = BadRequest("Duplicate query parameter '" + std::string(name) + "'.", std::string(name));
      return std::nullopt;
    }
    if (values.empty() || values[0]->empty()) return std::nullopt;
    return *values[0];
  }

  std::vector<std::string> Repeated(std::string_view name) {
    std::vector<std::string> out;
    for (const std::string* value : query_.All(name)) {
      if (!value->empty()) out.push_back(*value);
    }
    return out;
  }

  // An integer in [low, high]; `name` doubles as the error target. Absent keeps `fallback`.
  std::optional<int> Int(std::string_view name, int low, int high, bool allow_sign) {
    std::optional<std::string> text = Single(name);
    if (!text) return std::nullopt;
    std::optional<int> value = ParseInt32(*text, allow_sign);
    if (!value || *value < low || *value > high) {
      error = BadRequest("Invalid " + std::string(name) + ".", std::string(name));
      return std::nullopt;
    }
    return value;
  }

  void Fail(std::string message, std::string target) {
    if (!error) error = BadRequest(std::move(message), std::move(target));
  }

 private:
  const Query& query_;
};

void BindQuery(Binder& b, Route& r) {
  switch (r.op) {
    case Operation::kSendToAll:
    case Operation::kSendToGroup:
      r.excluded = b.Repeated("excluded");
      [[fallthrough]];
    case Operation::kSendToUser:
      r.filter = b.Single("filter");
      [[fallthrough]];
    case Operation::kSendToConnection:
      if (auto ttl = b.Int("messageTtlSeconds", 0, kMessageTtlSecondsMax, false)) {
        r.message_ttl_seconds = *ttl;
      }
      break;
    case Operation::kCloseAllConnections:
    case Operation::kCloseGroupConnections:
    case Operation::kCloseUserConnections:
      r.excluded = b.Repeated("excluded");
      [[fallthrough]];
    case Operation::kCloseConnection:
      r.reason = b.Single("reason");
      break;
    case Operation::kGenerateClientToken: {
      r.token_user_id = b.Single("userId");
      r.roles = b.Repeated("role");
      r.groups = b.Repeated("group");
      if (auto minutes = b.Int("minutesToExpire", 1, INT32_MAX, true)) r.minutes_to_expire = *minutes;
      if (std::optional<std::string> type = b.Single("clientType")) {
        if (EqualsIgnoreCase(*type, "Default")) {
          r.client_type = ClientType::kDefault;
        } else if (EqualsIgnoreCase(*type, "MQTT")) {
          r.client_type = ClientType::kMqtt;
        } else {
          b.Fail("Invalid clientType.", "clientType");
        }
      }
      break;
    }
    case Operation::kListConnectionsInGroup:
      if (auto size = b.Int("maxpagesize", 1, kMaxPageSizeMax, true)) r.max_page_size = *size;
      r.top = b.Int("top", 1, INT32_MAX, true);
      r.continuation_token = b.Single("continuationToken");
      break;
    case Operation::kGrantPermission:
    case Operation::kRevokePermission:
    case Operation::kCheckPermission:
      r.target_name = b.Single("targetName");
      if (r.target_name && !IsValidGroupName(*r.target_name)) {
        b.Fail("Invalid targetName.", "targetName");
      }
      break;
    default:
      break;
  }
}

}  // namespace

std::string_view ApiVersionName(ApiVersion version) {
  return kVersionNames[static_cast<size_t>(version)];
}

std::optional<ApiVersion> ParseApiVersion(std::string_view text) {
  for (size_t i = 0; i < kVersionNames.size(); ++i) {
    if (kVersionNames[i] == text) return static_cast<ApiVersion>(i);
  }
  return std::nullopt;
}

std::string_view OperationId(Operation op) { return Info(op).id; }
std::string_view OperationMethod(Operation op) { return Info(op).method; }
std::string_view OperationPath(Operation op) { return Info(op).path; }
int SuccessStatus(Operation op) { return Info(op).success; }
ApiVersion MinimumApiVersion(Operation op) { return Info(op).minimum; }

RouteError BadRequest(std::string message, std::string target) {
  RouteError e;
  e.status = 400;
  e.error_code = std::string(kErrorBadRequest);
  e.detail.code = e.error_code;
  e.detail.message = std::move(message);
  e.detail.target = std::move(target);
  return e;
}

RouteError InvalidFilterError(const FilterError& error) {
  return BadRequest(error.message, "Request");
}

std::optional<std::string> DecodePathSegment(std::string_view raw) { return PercentDecode(raw, true); }
std::optional<std::string> DecodeQueryComponent(std::string_view raw) {
  return PercentDecode(raw, false);
}

RouteResult RouteRequest(std::string_view method, std::string_view target,
                         const RouterOptions& options) {
  // Absolute form: drop "scheme://authority".
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (target.size() >= scheme.size() && EqualsIgnoreCase(target.substr(0, scheme.size()), scheme)) {
      const size_t slash = target.find('/', scheme.size());
      const size_t query_start = target.find('?', scheme.size());
      if (slash == std::string_view::npos || (query_start != std::string_view::npos && query_start < slash)) {
        return NotFound();
      }
      target.remove_prefix(slash);
      break;
    }
  }
  if (const size_t hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  const size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  const std::string_view query_text =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path.empty() || path[0] != '/') return NotFound();
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);  // ASP.NET ignores one

  // Split and decode the path segments.
  std::array<std::string_view, kSegmentsMax> raw_segments;
  std::array<std::optional<std::string>, kSegmentsMax> segments;
  size_t count = 0;
  for (size_t start = 1; start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (count == kSegmentsMax) return NotFound();
    raw_segments[count] = path.substr(start, end - start);
    segments[count] = DecodePathSegment(raw_segments[count]);
    ++count;
    start = end + 1;
  }

  // Match the path shape, then the method.
  const OperationInfo* matched = nullptr;
  std::vector<std::string_view> allowed;
  for (const OperationInfo& info : kOperations) {
    std::vector<std::string_view> pattern = SplitTemplate(info.path);
    if (pattern.size() != count) continue;
    bool shape = true;
    for (size_t i = 0; i < count && shape; ++i) {
      if (pattern[i].front() == '{') {
        shape = !raw_segments[i].empty();
      } else {
        shape = segments[i] && EqualsIgnoreCase(*segments[i], pattern[i]);
      }
    }
    if (!shape) continue;
    if (info.method == method) {
      matched = &info;
      break;
    }
    allowed.push_back(info.method);
  }
  if (matched == nullptr) {
    if (allowed.empty()) return NotFound();
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    RouteError e;
    e.status = 405;
    e.error_code = std::string(kErrorMethodNotAllowed);
    e.detail.code = e.error_code;
    e.detail.message = "The method '" + std::string(method.substr(0, 32)) +
                       "' is not allowed for this resource.";
    e.detail.target = "Request";
    for (size_t i = 0; i < allowed.size(); ++i) {
      if (i != 0) e.allow.append(", ");
      e.allow.append(allowed[i]);
    }
    return e;
  }

  Route route;
  route.op = matched->op;

  bool too_many = false;
  std::optional<Query> query = ParseQuery(query_text, too_many);
  if (!query) {
    return too_many ? BadRequest("Too many query parameters.")
                    : BadRequest("The query string is not valid UTF-8 after percent-decoding.");
  }

  // api-version: absent = latest; anything but exactly one supported value is a 400.
  std::vector<const std::string*> versions = query->All("api-version");
  if (!versions.empty()) {
    std::optional<ApiVersion> version;
    if (versions.size() == 1) version = ParseApiVersion(*versions[0]);
    if (!version) return BadRequest("The specified API version is not supported.", "api-version");
    route.api_version = *version;
  }
  if (options.reject_operations_newer_than_version && route.api_version < matched->minimum) {
    RouteError e = NotFound();
    e.detail.message = "Operation '" + std::string(matched->id) + "' is not available in api-version " +
                       std::string(ApiVersionName(route.api_version)) + ".";
    return e;
  }

  // Path parameters, in template order.
  std::vector<std::string_view> pattern = SplitTemplate(matched->path);
  for (size_t i = 0; i < count; ++i) {
    const std::string_view name = pattern[i];
    if (name.front() != '{') continue;
    const std::optional<std::string>& value = segments[i];
    if (name == "{hub}") {
      if (!value || !IsValidHubName(*value)) return BadRequest("Invalid hub name.", "hub");
      route.hub = *value;
      route.hub_key = HubKey(*value);
    } else if (name == "{group}") {
      if (!value || !IsValidGroupName(*value)) return BadRequest("Invalid group name.", "group");
      route.group = *value;
    } else if (name == "{connectionId}") {
      if (!value || value->empty()) return BadRequest("Invalid connection ID.", "connectionId");
      route.connection_id = *value;
    } else if (name == "{userId}") {
      if (!value || value->empty()) return BadRequest("Invalid user ID.", "userId");
      route.user_id = *value;
    } else if (name == "{permission}") {
      if (value && EqualsIgnoreCase(*value, "sendToGroup")) {
        route.permission = Permission::kSendToGroup;
      } else if (value && EqualsIgnoreCase(*value, "joinLeaveGroup")) {
        route.permission = Permission::kJoinLeaveGroup;
      } else {
        return BadRequest("Invalid permission.", "permission");
      }
    }
  }

  Binder binder(*query);
  BindQuery(binder, route);
  if (binder.error) return *binder.error;
  return route;
}

}  // namespace wpsim::protocol::rest
