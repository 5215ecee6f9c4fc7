// The scenario model's common types: what the step families' own types (conformance/steps/*.h)
// are built from. conformance/scenario.h gathers these, the families' types and the scenario
// itself; include that one (this header exists so the family headers need not include it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/distribution.h"

namespace wpsim::conformance {

// Declared here for every family header (conformance/steps/<family>.h declares its Register
// function with it).
struct FamilyRegistry;

// A position in a scenario file. line and column are 1-based; line 0 means "unknown".
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
};
// "file:line:column" (or "file" when the position is unknown).
std::string FormatPos(const SourcePos& pos);

// ---------------------------------------------------------------------------------------------
// Clients

// kProtobuf / kReliableProtobuf: protobuf.webpubsub.azure.v1 and its reliable twin (PROTOCOL.md
// §7); they run the json family's steps (requests, acks, streams) in protobuf frames.
enum class ClientKind {
  kWebSocket,
  kJson,
  kReliable,
  kMqtt311,
  kMqtt5,
  kRest,
  kProtobuf,
  kReliableProtobuf
};
std::string_view ClientKindName(ClientKind kind);  // "websocket", "json", ...
bool IsMqtt(ClientKind kind);
bool IsJsonProtocol(ClientKind kind);  // json or reliable
bool IsProtobufKind(ClientKind kind);  // protobuf or reliable_protobuf
bool IsReliableKind(ClientKind kind);  // reliable or reliable_protobuf
bool IsWebSocketConnection(ClientKind kind);  // every kind but rest

// How a client's access token is spoiled, for negative cases.
enum class TokenFault {
  kNone,
  kExpired,        // exp in the past (beyond any clock-skew tolerance)
  kNotYetValid,    // nbf in the future
  kWrongKey,       // signed with a different key
  kWrongAudience,  // aud for another endpoint/hub
  kAlgNone,        // {"alg":"none"} and an empty signature
  kBadSignature,   // right key, one signature byte flipped
  kMalformed,      // not three base64url parts
  kMissing,        // no token at all (no query parameter, no header)
  kNoExpiry,       // exp claim omitted
  kFourSegments,   // a valid token with a fourth '.'-separated segment appended
  kSignatureFirstByte,  // right key, the signature's first byte changed (nothing else)
};
std::string_view TokenFaultName(TokenFault fault);

enum class TokenPlacement { kQuery, kHeader };  // ?access_token= or Authorization: Bearer

// For REST clients: which form of the request URL goes into `aud` (PROTOCOL.md §2.3).
enum class RestAudienceForm { kFullUrl, kWithoutQuery };

struct TokenOptions {
  TokenFault fault = TokenFault::kNone;
  TokenPlacement via = TokenPlacement::kQuery;
  std::optional<int64_t> lifetime_ns;        // exp - iat; default 1h
  std::optional<std::string> audience;       // explicit aud (overrides the derived one)
  bool role_as_string = false;               // a single `role` string instead of an array
  std::string group_claim = "webpubsub.group";  // or "group" (MQTT how-to spelling)
  // Extra claims, in document order; values are JSON (strings, arrays, numbers).
  std::vector<std::pair<std::string, nlohmann::json>> claims;
  RestAudienceForm rest_audience = RestAudienceForm::kFullUrl;  // rest clients only
  // The JOSE header's JSON text, verbatim (default {"alg":"HS256","typ":"JWT"}); the token is
  // signed with HMAC-SHA256 whatever its `alg` says (typ and alg spelling cases).
  std::optional<std::string> header;
  // Claims the token leaves out (aud, exp, iat, sub, role, webpubsub.group).
  std::vector<std::string> omit;
  // Pad the payload (a `pad` claim) so the token is at least this many bytes long.
  std::optional<uint64_t> pad_to_bytes;
};

struct MqttUserProperty {
  std::string name;
  std::string value;
};

// MQTT 5.0 properties carried by PUBLISH (and by a Will message).
struct MqttPublishProperties {
  std::optional<std::string> content_type;
  std::optional<uint32_t> message_expiry_s;
  std::optional<uint8_t> payload_format_indicator;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;  // raw bytes
  std::optional<uint16_t> topic_alias;
  std::vector<MqttUserProperty> user_properties;
};

struct MqttWill {
  std::string topic;
  std::string payload;  // raw bytes
  uint8_t qos = 0;
  bool retain = false;
  std::optional<uint32_t> delay_s;  // 5.0 Will Delay Interval
  MqttPublishProperties properties;
};

// CONNECT options of an MQTT client; 5.0-only fields are rejected by the loader for mqtt311.
struct MqttOptions {
  std::optional<std::string> client_id;  // default: the member's display name with [] removed
  bool clean_start = true;               // 3.1.1 Clean Session
  std::optional<uint32_t> session_expiry_s;
  uint16_t keepalive_s = 60;
  std::optional<std::string> username;
  std::optional<std::string> password;  // raw bytes
  std::optional<MqttWill> will;
  std::optional<uint16_t> receive_maximum;
  std::optional<uint32_t> maximum_packet_size;
  std::optional<uint16_t> topic_alias_maximum;
  std::optional<bool> request_problem_information;
  std::optional<bool> request_response_information;
  std::vector<MqttUserProperty> user_properties;
  // false: incoming QoS 1/2 PUBLISH are not answered (PUBACK / PUBREC, PUBCOMP for a PUBREL)
  // until an `mqtt_ack` step sends what is owed.
  bool auto_ack = true;
  bool auto_ping = true;  // false: no PINGREQ unless a `ping` step sends one
};

// Link settings between one client and the service (sim only). Unset fields inherit.
struct LinkSettings {
  std::optional<sim::Distribution> latency;  // one-way latency (grammar: sim/distribution.h)
  std::optional<uint64_t> bandwidth_bps;
  std::optional<double> loss;  // fraction in [0, 1]; modelled as retransmission delay
  std::optional<uint64_t> receive_window_bytes;  // slow receivers: bounded window
  bool empty() const {
    return !latency && !bandwidth_bps && !loss && !receive_window_bytes;
  }
};

enum class UrlStyle { kPath, kLegacyQuery };  // /client/hubs/{hub} or /client/?hub={hub}

enum class SequenceAckMode { kAuto, kManual };  // reliable clients

struct Client {
  SourcePos pos;
  std::string name;
  ClientKind kind = ClientKind::kJson;
  uint32_t count = 1;          // > 1 (or explicit `count:`) makes a cohort
  bool is_cohort = false;      // written with `count:`; members are `name[i]`
  uint32_t first_member = 0;   // index into Scenario::members
  // Token claims. `user` may contain "{i}", replaced by the member index in cohorts.
  std::optional<std::string> user;
  std::vector<std::string> roles;
  std::vector<std::string> groups;
  TokenOptions token;
  // Offered WebSocket subprotocols; nullopt means the kind's default
  // (websocket: none, json: json.webpubsub.azure.v1, reliable: json.reliable..., mqtt: mqtt).
  std::optional<std::vector<std::string>> subprotocols;
  std::vector<std::pair<std::string, std::string>> query;    // extra query parameters
  std::vector<std::pair<std::string, std::string>> headers;  // extra upgrade headers
  UrlStyle url_style = UrlStyle::kPath;
  SequenceAckMode sequence_ack = SequenceAckMode::kAuto;
  LinkSettings network;  // per-client override (network.clients.<name> or the client's network:)
  MqttOptions mqtt;      // mqtt311 / mqtt5 only
};

// One connection the runner opens: a plain client or one member of a cohort.
struct Member {
  uint32_t client = 0;  // index into Scenario::clients
  uint32_t index = 0;   // member index inside the cohort (0 for plain clients)
  std::string name;     // "pub" or "sub[3]"
  std::optional<std::string> user;  // resolved user id ("{i}" substituted)
};

// A written reference to clients ("sub", "sub[2]", "sub[1..3]", "all"), resolved.
struct ClientRef {
  SourcePos pos;
  std::string text;
  std::vector<uint32_t> members;  // indices into Scenario::members, in order, no duplicates
};

// ---------------------------------------------------------------------------------------------
// What several families share: payloads, expectation windows and counts

enum class DataType { kJson, kText, kBinary, kProtobuf };
std::string_view DataTypeName(DataType type);

// A client message payload (JSON subprotocol `data` + `dataType`).
struct Payload {
  std::optional<DataType> data_type;  // nullopt: omit `dataType` on the wire (service default json)
  bool has_data = true;               // false: omit `data` (malformed-request cases)
  nlohmann::json data;                // text: a string; binary: base64 string; json: any value
  std::optional<uint64_t> filler_bytes;  // generate a deterministic text payload of this size
};

struct NullableString {
  bool is_null = false;
  std::string value;
};

struct CountSpec {
  std::optional<uint64_t> exactly;
  std::optional<uint64_t> at_least;
  std::optional<uint64_t> at_most;
  bool empty() const { return !exactly && !at_least && !at_most; }
  bool Accepts(uint64_t n) const {
    if (exactly && n != *exactly) return false;
    if (at_least && n < *at_least) return false;
    if (at_most && n > *at_most) return false;
    return true;
  }
};

// When an expectation looks. The window opens when step `after` is issued (or at run start)
// and closes at min(open + within, issue of step `until`, end of run).
struct TimeWindow {
  std::optional<uint32_t> after_step;
  std::optional<uint32_t> until_step;
  std::optional<int64_t> within_ns;
};

}  // namespace wpsim::conformance
