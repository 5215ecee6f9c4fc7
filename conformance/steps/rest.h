// The REST family: `rest` steps (every operation of the service's REST API, a hand-made request,
// all_pages paging) and the http_status expectation (also on a connect step: the WebSocket
// upgrade's status).
//
// Types: part of the scenario model (scenario.h includes this); the rest: conformance/steps/rest.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conformance/scenario_types.h"
#include "protocol/rest/router.h"

namespace wpsim::conformance {

// The REST data-plane operation a step calls: one of the router's (PROTOCOL.md §11.2,
// protocol/rest/router.h), or kRestRequest (`request`: method, path, query, headers and body
// sent verbatim, for negative cases).
using RestOp = protocol::rest::Operation;
inline constexpr RestOp kRestRequest = static_cast<RestOp>(protocol::rest::kOperationCount);
std::string_view RestOpName(RestOp op);  // "send_to_all", ...
// The REST operation a step calls (nullopt for `request`, which is sent verbatim).
std::optional<protocol::rest::Operation> RestOperationOf(RestOp op);
// The operation's success status per §11.2 (HEAD "exists" ops: 200; `request`: 200).
int RestOpSuccessStatus(RestOp op);

// A connection named either by client reference (resolved to its connection id at run time)
// or by a literal id (for "unknown connection" cases).
struct ConnectionTarget {
  std::optional<ClientRef> client;  // exactly one member
  std::optional<std::string> literal_id;
};

enum class Permission { kSendToGroup, kJoinLeaveGroup };
std::string_view PermissionWireName(Permission p);  // "sendToGroup", "joinLeaveGroup"

// Strings in REST steps may contain templates "${<member>.connection_id}", "${<member>.user}"
// and, inside repeat, "${i}"; the runner substitutes them (the loader has checked them).
struct RestStep {
  uint32_t client = 0;  // member index of the rest client used
  RestOp op = RestOp::kGetServiceStatus;
  std::optional<std::string> group;
  std::vector<std::string> groups;  // add_to_groups / remove_from_groups / generate_token
  std::optional<std::string> user;
  std::optional<ConnectionTarget> connection;
  std::optional<ClientRef> excluded;           // expanded to connection ids at run time
  std::vector<std::string> excluded_ids;        // literal ids
  std::optional<std::string> filter;
  std::optional<uint32_t> message_ttl_seconds;
  std::optional<std::string> reason;
  std::optional<Permission> permission;
  std::optional<std::string> target_name;
  std::optional<uint32_t> max_page_size;
  std::optional<uint32_t> top;
  std::optional<std::string> continuation_token;
  bool all_pages = false;  // list: follow nextLink until the end
  // generate_token
  std::vector<std::string> roles;
  std::optional<uint32_t> minutes_to_expire;
  std::optional<std::string> client_type;
  // payload (send ops) / raw request body
  bool has_body = false;
  std::string body;
  std::string content_type;  // default application/json for send ops
  // kRequest
  std::string method;
  std::string path;  // may contain {hub}
  std::vector<std::pair<std::string, std::string>> query_params;
  std::vector<std::pair<std::string, std::string>> request_headers;
  std::optional<std::string> api_version;  // default: the client's (2024-12-01)
  bool omit_api_version = false;
  std::optional<TokenOptions> auth;  // overrides the rest client's token for this call
};

// expect_token on a generate_token step: the returned token must verify with the connection
// string's key for the hub's client audience (MQTT's for clientType mqtt) and carry these claims.
struct GeneratedTokenExpect {
  std::optional<NullableString> user;              // `sub`; null: no `sub`
  std::optional<std::vector<std::string>> roles;   // `role`, in order ([]: none)
  std::optional<std::vector<std::string>> groups;  // `webpubsub.group`, in order ([]: none)
  std::optional<int64_t> lifetime_ns;              // exp - iat
};

struct HttpStatusExpect {
  uint32_t step = 0;
  std::vector<int> statuses;  // any of
  std::optional<nlohmann::json> body;  // subset match of the JSON response body
  std::optional<std::string> error_code;  // x-ms-error-code
  std::optional<GeneratedTokenExpect> token;  // generate_token: the token in the body
};

// How its steps run and its expectations are judged (conformance/driver.h).
void RegisterRestFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
