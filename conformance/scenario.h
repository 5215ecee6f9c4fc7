// The scenario model: the typed, fully resolved form of one scenario file (docs/scenarios.md).
//
// Theory of operation. The loader (conformance/loader.h) turns YAML into this model and rejects
// anything it cannot resolve, so a runner never meets a dangling reference:
//  * Clients keep their document order; `Scenario::clients[i]` has a stable index i. A client
//    with `count: N` is a cohort; every connection the runner opens is a *member*, and members
//    are flattened into `Scenario::members` (client order, then member order). Every reference
//    to clients in steps and expectations is resolved to sorted-by-appearance member indices.
//  * Steps are stored flat in pre-order (`Scenario::steps[id].id == id`). Block steps
//    (parallel, repeat) list their children's ids; `root_steps` lists the top level. Labels
//    (`as:`) are resolved to step ids at load time; unlabeled steps still have ids.
//  * Inline checks on steps (`expect_status`, `expect_ack`, `expect_connack`, ...) are turned
//    into ordinary `Expectation`s that point at the step's id, so the runner evaluates one
//    list only.
//  * Every map is std::map or a vector: iteration order never depends on hashing or pointers,
//    and the model holds no pointers at all, so it can be copied freely.
//
// Execution semantics the runner implements (documented for authors in docs/scenarios.md):
//  * Steps run in order. A step is *issued* at max(previous step's completion, run start +
//    `at`). It *completes* when its awaited outcome arrives: a connect when the connection is
//    established or refused; a client request with an ackId when the ack arrives; a REST call
//    when the response arrives; an MQTT SUBSCRIBE/UNSUBSCRIBE when SUBACK/UNSUBACK arrives and a
//    QoS>0 PUBLISH when its acknowledgement flow ends; everything else immediately. `async: true`
//    makes a step complete on issue. Completion is bounded by the step's `timeout` (default
//    `run.step_timeout`); a timed-out step fails the scenario.
//  * A step addressed to a cohort is issued for every member, in member order, at the same
//    instant; it completes when all members' operations complete.
//  * `parallel` issues all children at the same instant (their relative order is left to the
//    scheduler; in sim with perturbation the seed decides) and completes when all complete.
//  * `repeat` runs its children `count` times (or for `duration`); with `rate`, iteration k is
//    issued at its intended time (block start + k / rate) whether or not earlier iterations
//    completed (open loop); latencies are measured from the intended time (coordinated-
//    omission correction).
//  * After the last step the runner waits `run.settle`, then evaluates expectations. The whole
//    run is bounded by `run.time_limit`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/units.h"
#include "protocol/rest/router.h"
#include "reports/threshold.h"
#include "sim/distribution.h"

namespace wpsim::conformance {

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

enum class ClientKind { kWebSocket, kJson, kReliable, kMqtt311, kMqtt5, kRest };
std::string_view ClientKindName(ClientKind kind);  // "websocket", "json", ...
bool IsMqtt(ClientKind kind);
bool IsJsonProtocol(ClientKind kind);  // json or reliable
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
// Scenario-level settings

struct SourceRef {
  std::string seed;     // seed document id, "000".."004"
  std::string section;  // section title in that document
};

enum class Target { kSim, kLocal, kRemote };
std::string_view TargetName(Target target);

struct RunSettings {
  int64_t step_timeout_ns = 10 * kNanosPerSecond;
  int64_t settle_ns = 500 * kNanosPerMilli;
  int64_t time_limit_ns = 120 * kNanosPerSecond;
  bool perturb = false;  // sim: break scheduler ties and jitter delays from the seed
};

enum class PartitionDirection { kBoth, kClientToService, kServiceToClient };
std::string_view PartitionDirectionName(PartitionDirection d);

struct ScheduledPartition {
  SourcePos pos;
  int64_t at_ns = 0;
  std::optional<int64_t> duration_ns;  // heal after this long; nullopt = until a heal step
  ClientRef clients;
  bool upstream = false;  // the service <-> application server link instead of clients
  PartitionDirection direction = PartitionDirection::kBoth;
};

struct NetworkSettings {
  bool present = false;  // the file has a `network:` section
  LinkSettings defaults;
  LinkSettings upstream;  // service <-> application server link
  std::optional<int64_t> stream_timeout_ns;  // a stalled stream resets after this (TCP-like)
  std::vector<ScheduledPartition> partitions;
};

enum class AnonymousPolicy { kDeny, kAllow };

struct ServiceSettings {
  bool present = false;
  std::optional<int64_t> recovery_window_ns;
  std::optional<uint32_t> reliable_buffer_messages;
  std::optional<uint64_t> reliable_buffer_bytes;
  std::optional<int64_t> keepalive_ns;  // service WebSocket ping interval
  std::optional<AnonymousPolicy> anonymous;
  std::vector<std::string> inject_bug;  // names of the reference service's --inject-bug switches
  std::optional<std::string> access_key;
  std::optional<uint64_t> max_message_bytes;
  std::optional<int64_t> mqtt_session_window_ns;
  std::optional<int64_t> upstream_timeout_ns;
  std::optional<int64_t> token_clock_skew_ns;  // tolerance when validating exp/nbf
};

// ---------------------------------------------------------------------------------------------
// Scripted application server (event handlers)

struct UpstreamHandler {
  SourcePos pos;
  std::string url_template;                 // may contain {event} and {hub}
  std::string user_event_pattern;           // "*", "a", "a,b" ("" = no user events)
  std::vector<std::string> system_events;   // connect, connected, disconnected
};

enum class UpstreamActionKind {
  kAccept,   // 204, or 200 with overrides for connect
  kReject,   // status 4xx/5xx with optional body
  kReply,    // 200 with a body and content type (user events)
  kFail,     // the transport fails (connection reset before a response)
  kTimeout,  // never answers (the service's upstream timeout decides)
};
std::string_view UpstreamActionKindName(UpstreamActionKind kind);

struct UpstreamMatch {
  std::optional<ClientRef> clients;      // the event's connection is one of these members
  std::optional<std::string> user_id;    // ce-userId
  std::optional<std::string> data_contains;  // substring of the request body
  std::optional<std::string> subprotocol;    // offered (connect) or selected (others)
};

struct UpstreamResponse {
  SourcePos pos;
  std::vector<std::string> events;  // event names; "*" matches every event
  UpstreamMatch match;
  UpstreamActionKind action = UpstreamActionKind::kAccept;
  int status = 204;
  std::string body;          // raw bytes
  std::string content_type;  // empty = none
  // connect overrides (action accept)
  std::optional<std::string> user_id;
  std::optional<std::vector<std::string>> groups;
  std::optional<std::vector<std::string>> roles;
  std::optional<std::string> subprotocol;
  std::optional<std::string> connection_state;  // ce-connectionState response header
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t delay_ns = 0;
  std::optional<uint32_t> times;  // the rule applies to the first N matching events only
};

enum class ValidationReply { kAllowAny, kAllowOrigin, kDeny };

struct UpstreamSettings {
  bool present = false;
  std::vector<UpstreamHandler> handlers;
  ValidationReply validation = ValidationReply::kAllowAny;
  std::vector<UpstreamResponse> responses;  // first match wins; no match = accept (204)
};

// ---------------------------------------------------------------------------------------------
// Steps

enum class DataType { kJson, kText, kBinary, kProtobuf };
std::string_view DataTypeName(DataType type);

// A client message payload (JSON subprotocol `data` + `dataType`).
struct Payload {
  std::optional<DataType> data_type;  // nullopt: omit `dataType` on the wire (service default json)
  bool has_data = true;               // false: omit `data` (malformed-request cases)
  nlohmann::json data;                // text: a string; binary: base64 string; json: any value
  std::optional<uint64_t> filler_bytes;  // generate a deterministic text payload of this size
};

// ackId handling for client requests.
struct AckSpec {
  enum class Mode { kNone, kAuto, kExplicit };
  Mode mode = Mode::kNone;
  uint64_t id = 0;  // kExplicit only. kAuto: the runner allocates per connection from 1 upward
                    // (skipping ids the scenario uses explicitly for that client).
};

struct ConnectStep {
  ClientRef clients;
  std::optional<std::vector<std::string>> subprotocols;  // override the client's offer
  std::optional<TokenOptions> token;                     // override the client's token
  // MQTT CONNECT overrides
  std::optional<bool> clean_start;
  std::optional<uint32_t> session_expiry_s;
  std::optional<uint16_t> keepalive_s;
};

struct DisconnectStep {
  ClientRef clients;
  std::optional<uint16_t> code;  // WebSocket close code; default 1000 (nullopt = none sent)
  bool send_code = true;
  std::string reason;
  std::optional<uint8_t> mqtt_reason_code;  // MQTT DISCONNECT reason (5.0); default 0
  std::optional<uint32_t> session_expiry_s;  // 5.0 DISCONNECT property
  std::vector<MqttUserProperty> user_properties;
};

struct KillStep {
  ClientRef clients;  // abrupt transport loss: no close frame, no DISCONNECT
};

enum class RecoverFault { kNone, kBadToken, kUnknownConnection };

struct RecoverStep {
  ClientRef clients;
  RecoverFault fault = RecoverFault::kNone;
};

struct GroupStep {  // join / leave
  ClientRef clients;
  std::string group;
  AckSpec ack;
};
struct JoinStep : GroupStep {};
struct LeaveStep : GroupStep {};

struct SendToGroupStep {
  ClientRef clients;
  std::string group;
  Payload payload;
  std::optional<bool> no_echo;
  AckSpec ack;
};

struct EventStep {
  ClientRef clients;
  std::string event;
  Payload payload;
  AckSpec ack;
};

struct SequenceAckStep {
  ClientRef clients;
  std::optional<uint64_t> sequence_id;  // nullopt: the highest sequenceId received so far
};

struct PingStep {
  ClientRef clients;
};

struct SendRawStep {  // a raw WebSocket frame (plain clients, or malformed JSON requests)
  ClientRef clients;
  bool binary = false;
  std::string bytes;
};

struct MqttSubscription {
  std::string topic;
  uint8_t qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  uint8_t retain_handling = 0;
};

struct SubscribeStep {
  ClientRef clients;
  std::vector<MqttSubscription> subscriptions;
  std::optional<uint32_t> subscription_identifier;
  std::vector<MqttUserProperty> user_properties;
};

struct UnsubscribeStep {
  ClientRef clients;
  std::vector<std::string> topics;
  std::vector<MqttUserProperty> user_properties;
};

struct PublishStep {
  ClientRef clients;
  std::string topic;
  std::string payload;  // raw bytes
  std::optional<uint64_t> filler_bytes;
  uint8_t qos = 0;
  bool retain = false;
  MqttPublishProperties properties;
};

// The REST data-plane operations of PROTOCOL.md §11.2, plus a raw request for negative cases.
enum class RestOp {
  kHealth,
  kSendToAll,
  kCloseAllConnections,
  kGenerateToken,
  kAddToGroups,
  kRemoveFromGroups,
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
  kRequest,  // method + path + query + headers + body, verbatim
};
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
  RestOp op = RestOp::kHealth;
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

struct WaitStep {
  int64_t duration_ns = 0;  // virtual in sim, real on local/remote targets
};

struct BarrierStep {
  std::optional<ClientRef> clients;  // restrict to these members' pending operations
  bool quiesce = true;  // sim: also wait until no message is in flight
};

struct ParallelStep {};  // children in Step::children

struct RepeatStep {
  std::optional<uint64_t> count;
  std::optional<Rate> rate;
  std::optional<int64_t> duration_ns;
  std::string index_var = "i";  // "${i}" in strings of the children
};

struct PartitionStep {
  std::optional<ClientRef> clients;  // nullopt with all=true: every client
  bool all = false;
  bool upstream = false;
  PartitionDirection direction = PartitionDirection::kBoth;
};

struct HealStep {
  std::optional<ClientRef> clients;
  bool all = false;
  bool upstream = false;
};

struct DelayStep {  // change link settings
  std::optional<ClientRef> clients;
  bool all = false;
  bool upstream = false;
  LinkSettings link;
};

struct ResetStep {  // TCP-like reset of the members' streams
  ClientRef clients;
};

struct ClockSkewStep {
  std::optional<ClientRef> clients;  // nullopt: the service's clock
  int64_t skew_ns = 0;               // signed
};

enum class StepKind {
  kConnect,
  kDisconnect,
  kKill,
  kRecover,
  kJoin,
  kLeave,
  kSendToGroup,
  kEvent,
  kSequenceAck,
  kPing,
  kSendRaw,
  kSubscribe,
  kUnsubscribe,
  kPublish,
  kRest,
  kWait,
  kBarrier,
  kParallel,
  kRepeat,
  kPartition,
  kHeal,
  kDelay,
  kReset,
  kSetClockSkew,
};
inline constexpr int kStepKindCount = 24;
std::string_view StepKindName(StepKind kind);  // the YAML key: "connect", "send_to_group", ...

// Variant alternatives in StepKind order.
using StepArgs = std::variant<ConnectStep, DisconnectStep, KillStep, RecoverStep, JoinStep,
                              LeaveStep, SendToGroupStep, EventStep, SequenceAckStep, PingStep,
                              SendRawStep, SubscribeStep, UnsubscribeStep, PublishStep, RestStep,
                              WaitStep, BarrierStep, ParallelStep, RepeatStep, PartitionStep,
                              HealStep, DelayStep, ResetStep, ClockSkewStep>;
static_assert(std::variant_size_v<StepArgs> == kStepKindCount);

struct Step {
  uint32_t id = 0;
  SourcePos pos;
  std::string label;  // `as:`; empty if none
  std::string case_id;
  std::optional<int64_t> at_ns;       // issue no earlier than block start + at
  std::optional<int64_t> timeout_ns;  // completion bound; default run.step_timeout
  bool async = false;                 // complete on issue
  std::optional<uint32_t> parent;     // enclosing parallel/repeat
  std::vector<uint32_t> children;     // parallel / repeat only
  StepArgs args;

  StepKind kind() const { return static_cast<StepKind>(args.index()); }
  template <typename T>
  const T& As() const {
    return std::get<T>(args);
  }
  // The members this step acts for (empty for control and network steps).
  const ClientRef* Clients() const;
};

// ---------------------------------------------------------------------------------------------
// Expectations

struct NullableString {
  bool is_null = false;
  std::string value;
};

struct SequenceIdMatch {
  bool present = true;               // false: the message must not carry a sequenceId
  std::optional<uint64_t> value;
};

// What a received message must look like. Unset fields match anything. Which fields apply
// depends on the receiving client's kind (the loader rejects fields that cannot apply):
//  json/reliable: type, from, group, data_type, data, data_contains, user_id, from_user_id,
//                 event, connection_id, message, ack_id, success, error, sequence_id,
//                 reconnection_token
//  websocket:     frame, text, binary, data (JSON-parsed text frame), data_contains
//  mqtt:          topic, qos, retain, payload, data (JSON-parsed payload), data_contains,
//                 content_type, message_expiry, response_topic, correlation_data,
//                 user_properties, subscription_identifier, payload_format_indicator
struct MessageMatcher {
  SourcePos pos;
  std::optional<std::string> type;   // message | ack | system | pong | ...
  std::optional<std::string> from;   // group | server
  std::optional<std::string> group;
  std::optional<DataType> data_type;
  std::optional<nlohmann::json> data;  // exact (JSON equality; text: string; binary: base64)
  std::optional<std::string> data_contains;
  std::optional<NullableString> user_id;
  std::optional<NullableString> from_user_id;
  std::optional<std::string> event;  // system event name
  std::optional<ClientRef> connection_id;  // must equal that member's connection id
  std::optional<std::string> message;      // system/disconnected message (exact)
  std::optional<uint64_t> ack_id;
  std::optional<bool> success;
  std::optional<std::string> error;  // ack error name
  std::optional<SequenceIdMatch> sequence_id;
  std::optional<bool> reconnection_token;  // present / absent
  // plain WebSocket
  enum class Frame { kText, kBinary };
  std::optional<Frame> frame;
  std::optional<std::string> text;
  std::optional<std::string> binary;  // raw bytes (written as base64)
  // MQTT
  std::optional<std::string> topic;
  std::optional<uint8_t> qos;
  std::optional<bool> retain;
  std::optional<std::string> payload;  // raw bytes
  std::optional<std::string> content_type;
  std::optional<uint32_t> message_expiry_s;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  std::vector<MqttUserProperty> user_properties;  // each must be present
  std::optional<uint32_t> subscription_identifier;
  std::optional<uint8_t> payload_format_indicator;
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

struct ReceiveExpect {
  ClientRef clients;        // every member must satisfy the expectation
  MessageMatcher match;     // used when in_order is empty
  std::vector<MessageMatcher> in_order;  // a subsequence, in this order
  CountSpec count;          // per member; default at_least 1
  CountSpec total;          // summed over members; empty = no check
  TimeWindow window;
};

struct NeverReceiveExpect {
  ClientRef clients;
  MessageMatcher match;
  TimeWindow window;
};

struct AckExpect {
  std::optional<uint32_t> step;    // the step that sent the request (all its members)
  std::optional<ClientRef> client;  // or client + ack_id
  std::optional<uint64_t> ack_id;
  bool success = true;
  std::optional<std::string> error;    // error name (implies success false)
  std::optional<std::string> message;  // error message, exact
  std::optional<std::string> message_contains;
  TimeWindow window;
};

struct ClosedExpect {
  ClientRef clients;
  std::optional<uint16_t> code;           // WebSocket close code
  std::optional<std::string> reason_contains;
  std::optional<uint8_t> mqtt_reason_code;  // server DISCONNECT (5.0) / CONNACK refusal
  std::optional<int> http_status;         // the upgrade was refused with this status
  std::optional<bool> by_service;         // who initiated the close
  TimeWindow window;
};

struct ConnectedExpect {
  ClientRef clients;
  std::optional<NullableString> user_id;
  std::optional<bool> reconnection_token;
  std::optional<std::string> subprotocol;  // the negotiated one ("" = none)
  std::optional<std::string> connection_id;
  TimeWindow window;
};

struct HttpStatusExpect {
  uint32_t step = 0;
  std::vector<int> statuses;  // any of
  std::optional<nlohmann::json> body;  // subset match of the JSON response body
  std::optional<std::string> error_code;  // x-ms-error-code
};

struct ConnackExpect {
  ClientRef clients;
  std::optional<uint8_t> reason_code;
  std::optional<bool> session_present;
  std::optional<std::string> assigned_client_id;
  std::vector<MqttUserProperty> user_properties;
};

struct SubackExpect {
  uint32_t step = 0;
  std::vector<uint8_t> reason_codes;
};

struct PubackExpect {  // PUBACK (QoS 1) or PUBREC (QoS 2) reason code
  uint32_t step = 0;
  uint8_t reason_code = 0;
};

struct UpstreamEventExpect {
  std::string event;  // connect, connected, disconnected or a user event name
  std::optional<ClientRef> clients;
  CountSpec count;    // per member (or in total without clients); default at_least 1
  std::optional<nlohmann::json> body;  // subset match of a JSON body
  std::optional<std::string> body_text;  // exact body
  std::vector<std::pair<std::string, std::string>> headers;  // must be present, exact value
  TimeWindow window;
};

enum class ExpectKind {
  kReceive,
  kNeverReceive,
  kAck,
  kClosed,
  kConnected,
  kHttpStatus,
  kConnack,
  kSuback,
  kPuback,
  kUpstreamEvent,
};
inline constexpr int kExpectKindCount = 10;
std::string_view ExpectKindName(ExpectKind kind);

using ExpectArgs = std::variant<ReceiveExpect, NeverReceiveExpect, AckExpect, ClosedExpect,
                                ConnectedExpect, HttpStatusExpect, ConnackExpect, SubackExpect,
                                PubackExpect, UpstreamEventExpect>;
static_assert(std::variant_size_v<ExpectArgs> == kExpectKindCount);

struct Expectation {
  SourcePos pos;
  std::string label;    // `as:`
  std::string case_id;  // conformance case id ("JSON-ACK-003"), see docs/conformance.md
  std::optional<uint32_t> from_step;  // synthesized from an inline check on this step
  ExpectArgs args;

  ExpectKind kind() const { return static_cast<ExpectKind>(args.index()); }
  template <typename T>
  const T& As() const {
    return std::get<T>(args);
  }
};

enum class InvariantKind {
  kNoDeliveryOutsideGroup,  // a group message only reaches members of the group
  kPerPublisherOrder,       // messages from one publisher arrive in publish order
  kNoDuplicates,            // no connection receives the same message twice
  kSequenceIdsContiguous,   // reliable: sequenceIds 1, 2, 3... per logical connection
};
std::string_view InvariantKindName(InvariantKind kind);

struct Invariant {
  SourcePos pos;
  InvariantKind kind = InvariantKind::kNoDuplicates;
  std::string case_id;
  std::optional<ClientRef> clients;  // nullopt: every member
};

// A latency/error/throughput objective, k6-style: "p99 < 20ms", "ack_rtt.p99 < 5ms",
// "error_rate < 0.1%", "throughput > 1000/s" (grammar: reports/threshold.h, which evaluates it).
struct Threshold {
  SourcePos pos;
  std::string expression;     // as written
  reports::Threshold parsed;  // metric, statistic, comparison, limit in canonical units
  std::string case_id;
  std::optional<ClientRef> clients;  // only deliveries to these members
  std::optional<uint32_t> step;      // only operations issued by this step (e.g. a repeat)
};

// What a scenario needs from the target; a runner skips it on targets lacking these, with
// the reasons given by RealTargetSkipReasons (conformance/real_environment.h).
struct Requirements {
  bool network_control = false;   // network section, partition/heal/delay/reset steps
  bool clock_control = false;     // set_clock_skew
  bool fault_injection = false;   // service.inject_bug
  bool service_config = false;    // service settings other than access_key
  bool scripted_upstream = false; // upstream section
};

struct Scenario {
  std::string file;  // path as given to the loader
  std::string name;
  SourcePos name_pos;
  SourceRef source;
  std::string description;
  std::vector<std::string> tags;
  std::string hub;
  std::optional<uint64_t> seed;
  std::vector<Target> targets;  // empty: every target
  RunSettings run;
  NetworkSettings network;
  ServiceSettings service;
  UpstreamSettings upstream;
  std::vector<Client> clients;
  std::vector<Member> members;
  std::vector<Step> steps;  // pre-order; steps[i].id == i
  std::vector<uint32_t> root_steps;
  std::map<std::string, uint32_t, std::less<>> step_labels;
  std::vector<Expectation> expectations;
  std::vector<Invariant> invariants;
  std::vector<Threshold> thresholds;

  std::optional<uint32_t> FindClient(std::string_view name) const;
  std::optional<uint32_t> FindStep(std::string_view label) const;
  const Client& ClientOf(uint32_t member) const { return clients[members[member].client]; }
  Requirements Needs() const;
  bool HasTag(std::string_view tag) const;
};

}  // namespace wpsim::conformance
