// The scenario loader. Structure: a pre-pass finds duplicate keys anywhere in the document;
// then the sections are read in dependency order (clients first, because everything else
// refers to them; steps before expectations, because expectations refer to step labels),
// whatever their order in the file. Every reader reports into one diagnostic list and keeps
// going with a best-effort value, so a single run finds every problem; diagnostics are sorted
// by position at the end. Nothing here throws past LoadScenarioText: yaml-cpp's parser
// exception is caught and turned into a diagnostic at its mark.
#include "conformance/loader.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <set>
#include <sstream>
#include <tuple>

#include <yaml-cpp/yaml.h>

#include "base/encoding.h"
#include "conformance/yaml_json.h"
#include "service/options.h"
#include "sim/distribution.h"

namespace wpsim::conformance {
namespace {

using YAML::Node;
using Keys = std::vector<std::string_view>;

std::string Q(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string JoinKeys(const Keys& keys) {
  std::string out;
  for (std::string_view k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

Keys Concat(std::initializer_list<const Keys*> lists) {
  Keys out;
  for (const Keys* l : lists) out.insert(out.end(), l->begin(), l->end());
  return out;
}

bool Contains(const Keys& keys, std::string_view k) {
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), so that
// "recieve" is one edit away from "receive".
size_t OsaDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

bool IsIdentifier(std::string_view s, bool allow_dash_dot) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
              (allow_dash_dot && (c == '-' || c == '.'));
    if (!ok) return false;
  }
  return true;
}

// Hub names per PROTOCOL.md §13: ^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$
bool IsValidHub(std::string_view s) {
  if (s.empty() || s.size() > 128 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '`' || c == ',' ||
              c == '.' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

// Conformance case ids: "JSON-ACK-003", "MQTT-3.1.2-4".
bool IsValidCaseId(std::string_view s) {
  size_t dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size()) return false;
  if (!std::isupper(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    bool ok = std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return s.back() != '-' && s.find("--") == std::string_view::npos;
}

std::string Describe(const Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Scalar:
      return Q(n.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
  }
  return "?";
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

// The ackId setting of a request step, or nullptr for steps that cannot carry one.
const AckSpec* AckOf(const Step& s) {
  switch (s.kind()) {
    case StepKind::kJoin:
      return &s.As<JoinStep>().ack;
    case StepKind::kLeave:
      return &s.As<LeaveStep>().ack;
    case StepKind::kSendToGroup:
      return &s.As<SendToGroupStep>().ack;
    case StepKind::kEvent:
      return &s.As<EventStep>().ack;
    default:
      return nullptr;
  }
}

template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

// ---------------------------------------------------------------------------------------------
// Key tables

const Keys kRootKeys = {"name", "source", "description", "tags", "hub", "seed", "targets", "run",
                        "network", "service", "upstream", "clients", "steps", "expect",
                        "invariants", "thresholds"};
const Keys kSourceKeys = {"seed", "section"};
const Keys kRunKeys = {"step_timeout", "settle", "time_limit", "perturb"};
const Keys kLinkKeys = {"latency", "bandwidth", "loss", "receive_window"};
const Keys kNetworkOnlyKeys = {"clients", "upstream", "stream_timeout", "partitions"};
const Keys kPartitionScheduleKeys = {"at", "duration", "client", "direction"};
const Keys kServiceKeys = {"recovery_window", "reliable_buffer", "keepalive", "anonymous",
                           "inject_bug", "access_key", "max_message_size", "mqtt_session_window",
                           "upstream_timeout", "token_clock_skew"};
const Keys kReliableBufferKeys = {"messages", "bytes"};
const Keys kUpstreamKeys = {"handlers", "validation", "responses"};
const Keys kHandlerKeys = {"url", "user_events", "system_events"};
const Keys kResponseKeys = {"on", "match", "accept", "reject", "reply", "fail", "timeout",
                            "delay", "times", "headers", "state"};
const Keys kResponseActions = {"accept", "reject", "reply", "fail", "timeout"};
const Keys kUpstreamMatchKeys = {"client", "user", "data_contains", "subprotocol"};
const Keys kAcceptKeys = {"user", "groups", "roles", "subprotocol"};
const Keys kRejectKeys = {"status", "body", "content_type"};
const Keys kReplyKeys = {"status", "body", "body_raw", "content_type"};

const Keys kClientCommonKeys = {"kind", "count", "token", "network"};
const Keys kClientConnKeys = {"user", "roles", "groups", "subprotocols", "query",
                              "headers", "url_style"};
const Keys kClientReliableKeys = {"sequence_ack"};
const Keys kClientRestKeys = {"api_version"};
const Keys kClientMqttKeys = {"client_id", "clean_start", "session_expiry", "keepalive", "username",
                              "password", "will", "receive_maximum", "maximum_packet_size",
                              "topic_alias_maximum", "request_problem_information",
                              "request_response_information", "user_properties"};
const Keys kMqtt5OnlyClientKeys = {"session_expiry", "receive_maximum", "maximum_packet_size",
                                   "topic_alias_maximum", "request_problem_information",
                                   "request_response_information", "user_properties"};
const Keys kTokenKeys = {"fault", "via", "lifetime", "audience", "role_as_string", "group_claim",
                         "claims", "audience_form"};
const Keys kWillKeys = {"topic", "payload", "qos", "retain", "delay", "content_type",
                        "message_expiry", "payload_format_indicator", "response_topic",
                        "correlation_data", "user_properties"};

const Keys kStepModifiers = {"as", "at", "timeout", "async", "case"};
const Keys kStepKinds = {"connect", "disconnect", "kill", "recover", "join", "leave",
                         "send_to_group", "event", "sequence_ack", "ping", "send_raw",
                         "subscribe", "unsubscribe", "publish", "rest", "wait", "barrier",
                         "parallel", "repeat", "partition", "heal", "delay", "reset",
                         "set_clock_skew"};

const Keys kRestParamKeys = {"group", "groups", "user", "connection", "connection_id", "excluded",
                             "excluded_ids", "filter", "message_ttl_seconds", "reason",
                             "permission", "target_name", "max_page_size", "top",
                             "continuation_token", "all_pages", "roles", "minutes_to_expire",
                             "client_type", "body", "body_raw", "content_type", "method", "path",
                             "query"};
const Keys kRestCommonKeys = {"op", "client", "api_version", "auth", "headers", "expect_status",
                              "expect_body", "expect_error_code"};

const Keys kExpectModifiers = {"as", "case"};
const Keys kExpectKinds = {"receive", "never_receive", "ack", "closed", "connected",
                           "http_status", "connack", "suback", "puback", "upstream_event"};
const Keys kWindowKeys = {"after", "until", "within"};
const Keys kInvariantKinds = {"no_delivery_outside_group", "per_publisher_order", "no_duplicates",
                              "sequence_ids_contiguous"};

enum MatchClass : unsigned { kClassJson = 1, kClassWs = 2, kClassMqtt = 4 };
struct MatcherKey {
  std::string_view name;
  unsigned classes;
};
const std::vector<MatcherKey> kMatcherKeys = {
    {"type", kClassJson},
    {"from", kClassJson},
    {"group", kClassJson},
    {"data_type", kClassJson},
    {"data", kClassJson | kClassWs | kClassMqtt},
    {"data_contains", kClassJson | kClassWs | kClassMqtt},
    {"user_id", kClassJson},
    {"from_user_id", kClassJson},
    {"event", kClassJson},
    {"connection_id", kClassJson},
    {"message", kClassJson},
    {"ack_id", kClassJson},
    {"success", kClassJson},
    {"error", kClassJson},
    {"sequence_id", kClassJson},
    {"reconnection_token", kClassJson},
    {"frame", kClassWs},
    {"text", kClassWs},
    {"binary", kClassWs},
    {"topic", kClassMqtt},
    {"qos", kClassMqtt},
    {"retain", kClassMqtt},
    {"payload", kClassMqtt},
    {"content_type", kClassMqtt},
    {"message_expiry", kClassMqtt},
    {"response_topic", kClassMqtt},
    {"correlation_data", kClassMqtt},
    {"user_properties", kClassMqtt},
    {"subscription_identifier", kClassMqtt},
    {"payload_format_indicator", kClassMqtt},
};
Keys MatcherKeyNames() {
  Keys k;
  for (const MatcherKey& m : kMatcherKeys) k.push_back(m.name);
  return k;
}

unsigned ClassOf(ClientKind kind) {
  switch (kind) {
    case ClientKind::kJson:
    case ClientKind::kReliable:
      return kClassJson;
    case ClientKind::kWebSocket:
      return kClassWs;
    case ClientKind::kMqtt311:
    case ClientKind::kMqtt5:
      return kClassMqtt;
    case ClientKind::kRest:
      return 0;
  }
  return 0;
}

const std::vector<EnumName<ClientKind>> kClientKinds = {
    {"websocket", ClientKind::kWebSocket}, {"json", ClientKind::kJson},
    {"reliable", ClientKind::kReliable},   {"mqtt311", ClientKind::kMqtt311},
    {"mqtt5", ClientKind::kMqtt5},         {"rest", ClientKind::kRest}};
const std::vector<EnumName<TokenFault>> kTokenFaults = {
    {"none", TokenFault::kNone},
    {"expired", TokenFault::kExpired},
    {"not_yet_valid", TokenFault::kNotYetValid},
    {"wrong_key", TokenFault::kWrongKey},
    {"wrong_audience", TokenFault::kWrongAudience},
    {"alg_none", TokenFault::kAlgNone},
    {"bad_signature", TokenFault::kBadSignature},
    {"malformed", TokenFault::kMalformed},
    {"missing", TokenFault::kMissing},
    {"no_expiry", TokenFault::kNoExpiry}};
const std::vector<EnumName<TokenPlacement>> kTokenPlacements = {{"query", TokenPlacement::kQuery},
                                                                {"header", TokenPlacement::kHeader}};
const std::vector<EnumName<RestAudienceForm>> kAudienceForms = {
    {"full_url", RestAudienceForm::kFullUrl}, {"without_query", RestAudienceForm::kWithoutQuery}};
const std::vector<EnumName<Target>> kTargets = {
    {"sim", Target::kSim}, {"local", Target::kLocal}, {"remote", Target::kRemote}};
const std::vector<EnumName<PartitionDirection>> kDirections = {
    {"both", PartitionDirection::kBoth},
    {"client_to_service", PartitionDirection::kClientToService},
    {"service_to_client", PartitionDirection::kServiceToClient}};
const std::vector<EnumName<AnonymousPolicy>> kAnonymous = {{"deny", AnonymousPolicy::kDeny},
                                                           {"allow", AnonymousPolicy::kAllow}};
const std::vector<EnumName<ValidationReply>> kValidation = {
    {"allow", ValidationReply::kAllowAny},
    {"origin", ValidationReply::kAllowOrigin},
    {"deny", ValidationReply::kDeny}};
const std::vector<EnumName<DataType>> kDataTypes = {{"json", DataType::kJson},
                                                    {"text", DataType::kText},
                                                    {"binary", DataType::kBinary},
                                                    {"protobuf", DataType::kProtobuf}};
const std::vector<EnumName<UrlStyle>> kUrlStyles = {{"path", UrlStyle::kPath},
                                                    {"legacy_query", UrlStyle::kLegacyQuery}};
const std::vector<EnumName<SequenceAckMode>> kSequenceAckModes = {
    {"auto", SequenceAckMode::kAuto}, {"manual", SequenceAckMode::kManual}};
const std::vector<EnumName<RecoverFault>> kRecoverFaults = {
    {"none", RecoverFault::kNone},
    {"bad_token", RecoverFault::kBadToken},
    {"unknown_connection", RecoverFault::kUnknownConnection}};
const std::vector<EnumName<Permission>> kPermissions = {
    {"send_to_group", Permission::kSendToGroup},
    {"join_leave_group", Permission::kJoinLeaveGroup},
    {"sendToGroup", Permission::kSendToGroup},
    {"joinLeaveGroup", Permission::kJoinLeaveGroup}};
const std::vector<EnumName<InvariantKind>> kInvariants = {
    {"no_delivery_outside_group", InvariantKind::kNoDeliveryOutsideGroup},
    {"per_publisher_order", InvariantKind::kPerPublisherOrder},
    {"no_duplicates", InvariantKind::kNoDuplicates},
    {"sequence_ids_contiguous", InvariantKind::kSequenceIdsContiguous}};
const std::vector<EnumName<MessageMatcher::Frame>> kFrames = {
    {"text", MessageMatcher::Frame::kText}, {"binary", MessageMatcher::Frame::kBinary}};

// The REST operations: name, op, keys that must be present, keys that may be present.
// "body" is satisfied by body or body_raw; "connection" by connection or connection_id.
struct RestOpInfo {
  std::string_view name;
  RestOp op;
  Keys required;
  Keys optional;
};
const Keys kSendKeys = {"content_type", "message_ttl_seconds"};
const std::vector<RestOpInfo> kRestOps = {
    {"health", RestOp::kHealth, {}, {}},
    {"send_to_all", RestOp::kSendToAll, {"body"}, {"content_type", "message_ttl_seconds", "excluded", "excluded_ids", "filter"}},
    {"close_all_connections", RestOp::kCloseAllConnections, {}, {"excluded", "excluded_ids", "reason"}},
    {"generate_token", RestOp::kGenerateToken, {}, {"user", "roles", "minutes_to_expire", "groups", "client_type"}},
    {"add_to_groups", RestOp::kAddToGroups, {"groups"}, {"filter"}},
    {"remove_from_groups", RestOp::kRemoveFromGroups, {"groups"}, {"filter"}},
    {"close_connection", RestOp::kCloseConnection, {"connection"}, {"reason"}},
    {"connection_exists", RestOp::kConnectionExists, {"connection"}, {}},
    {"send_to_connection", RestOp::kSendToConnection, {"connection", "body"}, {"content_type", "message_ttl_seconds"}},
    {"remove_connection_from_all_groups", RestOp::kRemoveConnectionFromAllGroups, {"connection"}, {}},
    {"group_exists", RestOp::kGroupExists, {"group"}, {}},
    {"send_to_group", RestOp::kSendToGroup, {"group", "body"}, {"content_type", "message_ttl_seconds", "excluded", "excluded_ids", "filter"}},
    {"close_group_connections", RestOp::kCloseGroupConnections, {"group"}, {"excluded", "excluded_ids", "reason"}},
    {"list_connections_in_group", RestOp::kListConnectionsInGroup, {"group"}, {"max_page_size", "top", "continuation_token", "all_pages"}},
    {"add_connection_to_group", RestOp::kAddConnectionToGroup, {"group", "connection"}, {}},
    {"remove_connection_from_group", RestOp::kRemoveConnectionFromGroup, {"group", "connection"}, {}},
    {"grant_permission", RestOp::kGrantPermission, {"permission", "connection"}, {"target_name"}},
    {"revoke_permission", RestOp::kRevokePermission, {"permission", "connection"}, {"target_name"}},
    {"check_permission", RestOp::kCheckPermission, {"permission", "connection"}, {"target_name"}},
    {"user_exists", RestOp::kUserExists, {"user"}, {}},
    {"send_to_user", RestOp::kSendToUser, {"user", "body"}, {"content_type", "message_ttl_seconds", "filter"}},
    {"close_user_connections", RestOp::kCloseUserConnections, {"user"}, {"excluded", "excluded_ids", "reason"}},
    {"remove_user_from_all_groups", RestOp::kRemoveUserFromAllGroups, {"user"}, {}},
    {"add_user_to_group", RestOp::kAddUserToGroup, {"user", "group"}, {}},
    {"remove_user_from_group", RestOp::kRemoveUserFromGroup, {"user", "group"}, {}},
    {"request", RestOp::kRequest, {"method", "path"}, {"query", "body", "content_type"}},
};

struct RefOptions {
  bool allow_all = false;   // "all": every non-rest member
  bool single = false;      // must name exactly one member
  bool allow_rest = false;  // may name rest clients
};

// ---------------------------------------------------------------------------------------------

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) { sc_.file = file_; }

  LoadResult Load(std::string_view text) {
    Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
      SourcePos pos{file_, std::max(e.mark.line, 0) + 1, std::max(e.mark.column, 0) + 1};
      Report(pos, "YAML syntax error: " + e.msg + SyntaxHint(text, e.mark.line));
      return Finish();
    } catch (const YAML::Exception& e) {
      Report(SourcePos{file_, 1, 1}, "YAML error: " + e.msg);
      return Finish();
    }
    if (!root.IsDefined() || root.IsNull()) {
      Report(SourcePos{file_, 1, 1}, "empty scenario file (expected a mapping with name, source, hub, clients, steps)");
      return Finish();
    }
    FindDuplicateKeys(root, /*is_root=*/true, /*is_clients=*/false);
    ReadRoot(root);
    return Finish();
  }

 private:
  // ---- diagnostics --------------------------------------------------------------------------

  // Hints for two syntax errors whose parser messages do not explain themselves: a tab in
  // indentation, and "sub[2]" inside a flow mapping {...} or list [...] (brackets are flow
  // indicators there, so cohort members must be quoted).
  static std::string SyntaxHint(std::string_view text, int line) {
    if (line < 0) return "";
    size_t start = 0;
    for (int i = 0; i < line && start != std::string_view::npos; ++i) {
      start = text.find('\n', start);
      if (start != std::string_view::npos) ++start;
    }
    if (start == std::string_view::npos) return "";
    std::string_view l = text.substr(start, text.find('\n', start) - start);
    size_t indent = 0;
    while (indent < l.size() && (l[indent] == ' ' || l[indent] == '\t')) ++indent;
    if (l.substr(0, indent).find('\t') != std::string_view::npos) {
      return " (this line is indented with a tab; YAML indentation must use spaces)";
    }
    for (size_t i = 1; i + 1 < l.size(); ++i) {
      if (l[i] == '[' && std::isdigit(static_cast<unsigned char>(l[i + 1])) &&
          (std::isalnum(static_cast<unsigned char>(l[i - 1])) || l[i - 1] == '_') &&
          (l.find('{') != std::string_view::npos || l.find('[') < i)) {
        return " (inside {...} or [...], quote cohort members: \"sub[2]\")";
      }
    }
    return "";
  }

  SourcePos Pos(const Node& n) const {
    YAML::Mark m = n.Mark();
    if (m.line < 0) return SourcePos{file_, 0, 0};
    return SourcePos{file_, m.line + 1, m.column + 1};
  }
  void Report(SourcePos pos, std::string message) {
    if (pos.line <= 0) pos = SourcePos{file_, 1, 1};
    diags_.push_back(Diagnostic{std::move(pos), std::move(message)});
  }
  void Error(const Node& n, std::string message) { Report(Pos(n), std::move(message)); }

  LoadResult Finish() {
    LoadResult r;
    std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
    });
    // The same problem found twice at one position (e.g. via two paths) is reported once.
    diags_.erase(std::unique(diags_.begin(), diags_.end(),
                             [](const Diagnostic& a, const Diagnostic& b) {
                               return a.pos.line == b.pos.line && a.pos.column == b.pos.column &&
                                      a.message == b.message;
                             }),
                 diags_.end());
    r.diagnostics = std::move(diags_);
    if (r.diagnostics.empty()) r.scenario = std::move(sc_);
    return r;
  }

  std::string Suggest(std::string_view word, const Keys& candidates) {
    std::string s = SuggestClosest(word, candidates);
    return s.empty() ? "" : " (did you mean " + Q(s) + "?)";
  }

  void FindDuplicateKeys(const Node& n, bool is_root, bool is_clients) {
    if (n.IsSequence()) {
      for (const Node& item : n) FindDuplicateKeys(item, false, false);
    } else if (n.IsMap()) {
      std::map<std::string, Node> seen;
      for (auto it = n.begin(); it != n.end(); ++it) {
        std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
        auto [pos, inserted] = seen.emplace(key, it->first);
        if (!inserted) {
          SourcePos first = Pos(pos->second);
          std::string where = std::to_string(first.line) + ":" + std::to_string(first.column);
          if (is_clients) {
            Error(it->first, "duplicate client name " + Q(key) + " (first defined at " + where + ")");
          } else {
            Error(it->first, "duplicate key " + Q(key) + " (first at " + where + ")");
          }
        }
        FindDuplicateKeys(it->second, false, is_root && key == "clients");
      }
    }
  }

  // ---- a checked view of one mapping ----------------------------------------------------------

  class Map {
   public:
    Map(Loader& l, const Node& n, std::string what, const Keys& allowed)
        : node_(n), what_(std::move(what)) {
      if (!n.IsMap()) {
        l.Error(n, "expected a mapping for " + what_ + ", got " + Describe(n));
        ok_ = false;
        return;
      }
      for (auto it = n.begin(); it != n.end(); ++it) {
        if (!it->first.IsScalar()) {
          l.Error(it->first, "keys must be plain names in " + what_);
          continue;
        }
        const std::string& key = it->first.Scalar();
        if (!Contains(allowed, key)) {
          std::string suggestion = SuggestClosest(key, allowed);
          if (!suggestion.empty()) suggested_.push_back(suggestion);
          std::string hint = suggestion.empty() ? "" : " (did you mean " + Q(suggestion) + "?)";
          if (hint.empty()) hint = " in " + what_ + " (valid keys: " + JoinKeys(allowed) + ")";
          l.Error(it->first, "unknown key " + Q(key) + hint);
          continue;
        }
        bool dup = false;
        for (const auto& e : entries_) dup = dup || std::get<0>(e) == key;
        if (!dup) entries_.emplace_back(key, it->first, it->second);
      }
    }
    bool ok() const { return ok_; }
    const Node& node() const { return node_; }
    const std::string& what() const { return what_; }
    std::optional<Node> Get(std::string_view key) const {
      for (const auto& e : entries_) {
        if (std::get<0>(e) == key) return std::get<2>(e);
      }
      return std::nullopt;
    }
    bool Has(std::string_view key) const { return Get(key).has_value(); }
    std::optional<Node> Key(std::string_view key) const {
      for (const auto& e : entries_) {
        if (std::get<0>(e) == key) return std::get<1>(e);
      }
      return std::nullopt;
    }
    std::optional<Node> Required(Loader& l, std::string_view key) const {
      auto v = Get(key);
      // A misspelt key already reported with this key as its suggestion says it all.
      bool explained = std::find(suggested_.begin(), suggested_.end(), key) != suggested_.end();
      if (!v && ok_ && !explained) l.Error(node_, "missing required key " + Q(key) + " in " + what_);
      return v;
    }
    // Keys present, in document order.
    std::vector<std::string> PresentKeys() const {
      std::vector<std::string> out;
      for (const auto& e : entries_) out.push_back(std::get<0>(e));
      return out;
    }

   private:
    Node node_;
    std::string what_;
    bool ok_ = true;
    std::vector<std::tuple<std::string, Node, Node>> entries_;
    std::vector<std::string> suggested_;  // suggestions made for unknown keys
  };

  // ---- scalar readers (report and return nullopt on error) ------------------------------------

  std::optional<std::string> Str(const Node& n, std::string_view what) {
    if (!n.IsScalar()) {
      Error(n, "expected a string for " + std::string(what) + ", got " + Describe(n));
      return std::nullopt;
    }
    return n.Scalar();
  }
  std::optional<std::string> NonEmptyStr(const Node& n, std::string_view what) {
    auto s = Str(n, what);
    if (s && s->empty()) {
      Error(n, std::string(what) + " must not be empty");
      return std::nullopt;
    }
    return s;
  }
  std::optional<bool> Bool(const Node& n, std::string_view what) {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    Error(n, "expected true or false for " + std::string(what) + ", got " + Describe(n));
    return std::nullopt;
  }
  std::optional<uint64_t> Uint(const Node& n, std::string_view what, uint64_t min, uint64_t max) {
    std::string range = "from " + std::to_string(min) + " to " + std::to_string(max);
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      bool digits = !s.empty() && s.size() <= 20 &&
                    std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      if (digits) {
        errno = 0;
        unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
        if (errno == 0 && v >= min && v <= max) return static_cast<uint64_t>(v);
        Error(n, std::string(what) + " must be " + range + ", got " + Q(s));
        return std::nullopt;
      }
    }
    Error(n, "expected an integer " + range + " for " + std::string(what) + ", got " + Describe(n));
    return std::nullopt;
  }
  std::optional<int64_t> Duration(const Node& n, std::string_view what) {
    if (!n.IsScalar()) {
      Error(n, "expected a duration like 5ms for " + std::string(what) + ", got " + Describe(n));
      return std::nullopt;
    }
    auto r = ParseDuration(n.Scalar());
    if (!r.ok()) {
      Error(n, r.error().message);
      return std::nullopt;
    }
    return *r;
  }
  std::optional<int64_t> PositiveDuration(const Node& n, std::string_view what) {
    auto d = Duration(n, what);
    if (d && *d <= 0) {
      Error(n, std::string(what) + " must be longer than zero");
      return std::nullopt;
    }
    return d;
  }
  // A duration written with a unit but carried on the wire in whole seconds (MQTT).
  std::optional<uint32_t> Seconds(const Node& n, std::string_view what, bool allow_never) {
    if (allow_never && n.IsScalar() && n.Scalar() == "never") return 0xFFFFFFFFu;
    auto d = Duration(n, what);
    if (!d) return std::nullopt;
    if (*d % kNanosPerSecond != 0) {
      Error(n, std::string(what) + " must be a whole number of seconds, got " + Q(n.Scalar()));
      return std::nullopt;
    }
    int64_t s = *d / kNanosPerSecond;
    if (s > 0xFFFFFFFFll) {
      Error(n, std::string(what) + " is too large");
      return std::nullopt;
    }
    return static_cast<uint32_t>(s);
  }
  template <typename E>
  std::optional<E> Enum(const Node& n, std::string_view what, const std::vector<EnumName<E>>& table) {
    Keys names;
    for (const auto& e : table) names.push_back(e.name);
    if (!n.IsScalar()) {
      Error(n, "expected one of " + JoinKeys(names) + " for " + std::string(what) + ", got " + Describe(n));
      return std::nullopt;
    }
    for (const auto& e : table) {
      if (e.name == n.Scalar()) return e.value;
    }
    std::string hint = Suggest(n.Scalar(), names);
    if (hint.empty()) hint = " (expected one of: " + JoinKeys(names) + ")";
    Error(n, "unknown " + std::string(what) + " " + Q(n.Scalar()) + hint);
    return std::nullopt;
  }
  // A string or a list of strings.
  std::optional<std::vector<std::string>> StrList(const Node& n, std::string_view what) {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return out;
    }
    if (!n.IsSequence()) {
      Error(n, "expected a string or a list of strings for " + std::string(what) + ", got " + Describe(n));
      return std::nullopt;
    }
    bool ok = true;
    for (const Node& item : n) {
      auto s = Str(item, what);
      if (s) {
        out.push_back(*s);
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }
  std::optional<std::vector<std::pair<std::string, std::string>>> StrPairs(const Node& n, std::string_view what) {
    if (!n.IsMap()) {
      Error(n, "expected a mapping of names to strings for " + std::string(what) + ", got " + Describe(n));
      return std::nullopt;
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto k = Str(it->first, what);
      auto v = Str(it->second, what);
      if (k && v) out.emplace_back(*k, *v);
    }
    return out;
  }
  std::optional<std::string> Base64Bytes(const Node& n, std::string_view what) {
    auto s = Str(n, what);
    if (!s) return std::nullopt;
    auto bytes = Base64Decode(*s);
    if (!bytes) {
      Error(n, "expected base64 for " + std::string(what) + ", got " + Q(*s));
      return std::nullopt;
    }
    return std::string(bytes->begin(), bytes->end());
  }
  std::optional<std::string> CaseId(const Node& n) {
    auto s = Str(n, "case");
    if (!s) return std::nullopt;
    if (!IsValidCaseId(*s)) {
      Error(n, "expected a case id like JSON-ACK-003, got " + Q(*s));
      return std::nullopt;
    }
    return s;
  }
  std::optional<LinkSettings> Link(const Map& m) {
    LinkSettings link;
    if (auto v = m.Get("latency")) {
      if (auto s = Str(*v, "latency")) {
        auto d = sim::Distribution::Parse(*s);
        if (d.ok()) {
          link.latency = *d;
        } else {
          Error(*v, d.error().message);
        }
      }
    }
    if (auto v = m.Get("bandwidth")) {
      if (auto s = Str(*v, "bandwidth")) {
        auto b = ParseBandwidth(*s);
        if (b.ok()) {
          link.bandwidth_bps = *b;
        } else {
          Error(*v, b.error().message);
        }
      }
    }
    if (auto v = m.Get("loss")) {
      if (auto s = Str(*v, "loss")) {
        auto f = ParseFraction(*s);
        if (f.ok()) {
          link.loss = *f;
        } else {
          Error(*v, f.error().message);
        }
      }
    }
    if (auto v = m.Get("receive_window")) {
      if (auto s = Str(*v, "receive_window")) {
        auto b = ParseByteSize(*s);
        if (b.ok() && *b > 0) {
          link.receive_window_bytes = *b;
        } else {
          Error(*v, b.ok() ? "receive_window must be larger than zero" : b.error().message);
        }
      }
    }
    return link;
  }
  std::optional<std::vector<MqttUserProperty>> UserProperties(const Node& n) {
    std::vector<MqttUserProperty> out;
    if (n.IsMap()) {
      for (auto it = n.begin(); it != n.end(); ++it) {
        auto k = Str(it->first, "user property name");
        auto v = Str(it->second, "user property value");
        if (k && v) out.push_back({*k, *v});
      }
      return out;
    }
    if (n.IsSequence()) {
      // A list of {name, value} allows repeated names (MQTT permits them).
      for (const Node& item : n) {
        Map m(*this, item, "user property", {"name", "value"});
        if (!m.ok()) continue;
        auto k = m.Required(*this, "name");
        auto v = m.Required(*this, "value");
        std::optional<std::string> ks, vs;
        if (k) ks = Str(*k, "user property name");
        if (v) vs = Str(*v, "user property value");
        if (ks && vs) out.push_back({*ks, *vs});
      }
      return out;
    }
    Error(n, "expected a mapping or a list of {name, value} for user_properties, got " + Describe(n));
    return std::nullopt;
  }

  // ---- client references ----------------------------------------------------------------------

  // One textual reference "name", "name[3]", "name[1..3]" or "all"; appends members.
  bool RefText(std::string_view text, const Node& at, const RefOptions& opt, std::vector<uint32_t>& out) {
    if (text == "all") {
      if (!opt.allow_all) {
        Error(at, "'all' is not allowed here; name the clients");
        return false;
      }
      for (uint32_t i = 0; i < sc_.members.size(); ++i) {
        if (sc_.ClientOf(i).kind != ClientKind::kRest) out.push_back(i);
      }
      return true;
    }
    std::string_view name = text;
    std::optional<std::pair<uint64_t, uint64_t>> range;
    size_t bracket = text.find('[');
    if (bracket != std::string_view::npos) {
      name = text.substr(0, bracket);
      if (text.back() != ']') {
        Error(at, "malformed client reference " + Q(text) + " (expected name, name[i] or name[i..j])");
        return false;
      }
      std::string_view inner = text.substr(bracket + 1, text.size() - bracket - 2);
      size_t dots = inner.find("..");
      auto parse_index = [](std::string_view s) -> std::optional<uint64_t> {
        if (s.empty() || s.size() > 9) return std::nullopt;
        uint64_t v = 0;
        for (char c : s) {
          if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
          v = v * 10 + static_cast<uint64_t>(c - '0');
        }
        return v;
      };
      std::optional<uint64_t> lo = parse_index(dots == std::string_view::npos ? inner : inner.substr(0, dots));
      std::optional<uint64_t> hi = dots == std::string_view::npos ? lo : parse_index(inner.substr(dots + 2));
      if (!lo || !hi || *lo > *hi) {
        Error(at, "malformed client reference " + Q(text) + " (expected name, name[i] or name[i..j])");
        return false;
      }
      range = std::make_pair(*lo, *hi);
    }
    auto ci = sc_.FindClient(name);
    if (!ci) {
      UndefinedClient(at, name);
      return false;
    }
    const Client& c = sc_.clients[*ci];
    if (c.kind == ClientKind::kRest && !opt.allow_rest) {
      Error(at, "client " + Q(c.name) + " is a rest client; it has no connection to use here");
      return false;
    }
    if (range) {
      if (!c.is_cohort) {
        Error(at, "client " + Q(c.name) + " is not a cohort; write " + Q(c.name) + " without an index");
        return false;
      }
      if (range->second >= c.count) {
        Error(at, "cohort index " + std::to_string(range->second) + " out of range for " + Q(c.name) +
                      " (count " + std::to_string(c.count) + ": indices 0.." + std::to_string(c.count - 1) + ")");
        return false;
      }
      for (uint64_t i = range->first; i <= range->second; ++i) out.push_back(c.first_member + static_cast<uint32_t>(i));
    } else {
      for (uint32_t i = 0; i < c.count; ++i) out.push_back(c.first_member + i);
    }
    return true;
  }

  void UndefinedClient(const Node& at, std::string_view name) {
    Keys names;
    for (const Client& c : sc_.clients) {
      if (c.pos.line > 0) names.push_back(c.name);  // not the implied rest client
    }
    std::string hint = Suggest(name, names);
    if (hint.empty() && names.empty()) hint = " (no clients are declared)";
    if (hint.empty() && names.size() <= 12) hint = " (clients: " + JoinKeys(names) + ")";
    Error(at, "undefined client " + Q(name) + hint);
  }

  std::optional<ClientRef> Ref(const Node& n, const RefOptions& opt) {
    ClientRef ref;
    ref.pos = Pos(n);
    std::vector<uint32_t> members;
    bool ok = true;
    if (n.IsScalar()) {
      ref.text = n.Scalar();
      ok = RefText(n.Scalar(), n, opt, members);
    } else if (n.IsSequence() && n.size() > 0) {
      for (const Node& item : n) {
        if (!item.IsScalar()) {
          Error(item, "expected a client name, got " + Describe(item));
          ok = false;
          continue;
        }
        ref.text += (ref.text.empty() ? "" : ", ") + item.Scalar();
        ok = RefText(item.Scalar(), item, opt, members) && ok;
      }
    } else {
      Error(n, "expected a client name or a list of client names, got " + Describe(n));
      return std::nullopt;
    }
    if (!ok) return std::nullopt;
    for (uint32_t m : members) {
      if (std::find(ref.members.begin(), ref.members.end(), m) == ref.members.end()) ref.members.push_back(m);
    }
    if (opt.single && ref.members.size() != 1) {
      Error(n, Q(ref.text) + " names " + std::to_string(ref.members.size()) +
                   " connections; exactly one is needed here (for a cohort write name[i])");
      return std::nullopt;
    }
    return ref;
  }

  // Reports when a member of `ref` has a kind outside `kinds`; once per client.
  bool CheckKinds(const ClientRef& ref, const Node& at, std::initializer_list<ClientKind> kinds,
                  std::string_view what) {
    std::set<uint32_t> reported;
    bool ok = true;
    for (uint32_t m : ref.members) {
      uint32_t ci = sc_.members[m].client;
      const Client& c = sc_.clients[ci];
      if (broken_clients_.count(ci) || reported.count(ci)) continue;
      if (std::find(kinds.begin(), kinds.end(), c.kind) == kinds.end()) {
        std::string names;
        for (ClientKind k : kinds) names += (names.empty() ? "" : " or ") + std::string(ClientKindName(k));
        Error(at, std::string(what) + " needs a " + names + " client, but " + Q(c.name) + " is " +
                      std::string(ClientKindName(c.kind)));
        reported.insert(ci);
        ok = false;
      }
    }
    return ok;
  }

  bool AllMqtt5(const ClientRef& ref) {
    for (uint32_t m : ref.members) {
      if (sc_.ClientOf(m).kind == ClientKind::kMqtt311) return false;
    }
    return true;
  }
  // MQTT 5.0-only fields are errors for 3.1.1 clients.
  void RequireMqtt5(const ClientRef& ref, const Map& m, const Keys& keys) {
    if (AllMqtt5(ref)) return;
    for (std::string_view k : keys) {
      if (auto key = m.Key(k)) {
        Error(*key, Q(k) + " is an MQTT 5.0 feature; " + Q(ref.text) + " includes an mqtt311 client");
      }
    }
  }

  std::optional<ClientRef> ClientKey(const Map& m, const RefOptions& opt) {
    auto v = m.Required(*this, "client");
    if (!v) return std::nullopt;
    return Ref(*v, opt);
  }

  // ---- labels and templates -------------------------------------------------------------------

  bool RegisterLabel(const Node& n, const std::string& label) {
    if (!IsIdentifier(label, true)) {
      Error(n, "a label must be a name like join_1 (letters, digits, _ - .), got " + Q(label));
      return false;
    }
    auto it = label_pos_.find(label);
    if (it != label_pos_.end()) {
      Error(n, "label " + Q(label) + " is already used at " + std::to_string(it->second.line) + ":" +
                   std::to_string(it->second.column));
      return false;
    }
    label_pos_.emplace(label, Pos(n));
    return true;
  }

  std::optional<uint32_t> StepLabel(const Node& n) {
    auto s = Str(n, "step label");
    if (!s) return std::nullopt;
    auto id = sc_.FindStep(*s);
    if (!id) {
      Keys labels;
      for (const auto& [label, step] : sc_.step_labels) labels.push_back(label);
      Error(n, "undefined step label " + Q(*s) + Suggest(*s, labels));
    }
    return id;
  }

  // Checks "${...}" templates in a string that the runner will substitute.
  void CheckTemplates(const Node& n, std::string_view s) {
    size_t pos = 0;
    while ((pos = s.find("${", pos)) != std::string_view::npos) {
      size_t close = s.find('}', pos);
      if (close == std::string_view::npos) {
        Error(n, "unterminated template in " + Q(s) + " (expected ${client.connection_id}, ${client.user} or ${i})");
        return;
      }
      std::string_view inner = s.substr(pos + 2, close - pos - 2);
      pos = close + 1;
      if (std::find(index_vars_.begin(), index_vars_.end(), inner) != index_vars_.end()) continue;
      size_t dot = inner.rfind('.');
      std::string_view field = dot == std::string_view::npos ? "" : inner.substr(dot + 1);
      if (dot == std::string_view::npos || (field != "connection_id" && field != "user")) {
        Error(n, "unknown template ${" + std::string(inner) +
                     "} (expected ${client.connection_id}, ${client.user} or a repeat index)");
        continue;
      }
      std::vector<uint32_t> members;
      if (RefText(inner.substr(0, dot), n, RefOptions{}, members) && members.size() != 1) {
        Error(n, "template ${" + std::string(inner) + "} must name exactly one connection (write name[i])");
      }
    }
  }
  std::optional<std::string> TemplStr(const Node& n, std::string_view what) {
    auto s = Str(n, what);
    if (s) CheckTemplates(n, *s);
    return s;
  }

  // ---- root -------------------------------------------------------------------------------------

  void ReadRoot(const Node& root) {
    Map m(*this, root, "the scenario", kRootKeys);
    if (!m.ok()) return;
    if (auto v = m.Required(*this, "name")) {
      if (auto s = NonEmptyStr(*v, "name")) sc_.name = *s;
      sc_.name_pos = Pos(*v);
    }
    if (auto v = m.Required(*this, "source")) ReadSource(*v);
    if (auto v = m.Required(*this, "description")) {
      if (auto s = NonEmptyStr(*v, "description")) sc_.description = *s;
    }
    if (auto v = m.Get("tags")) {
      if (auto tags = StrList(*v, "tags")) {
        for (const std::string& t : *tags) {
          if (!IsIdentifier(t, true) && !(t.size() && std::isdigit(static_cast<unsigned char>(t[0])))) {
            Error(*v, "a tag must be a word like 'mqtt' or 'seed-000', got " + Q(t));
          }
        }
        sc_.tags = *tags;
      }
    }
    if (auto v = m.Required(*this, "hub")) {
      if (auto s = Str(*v, "hub")) {
        if (IsValidHub(*s)) {
          sc_.hub = *s;
        } else {
          Error(*v, "invalid hub name " + Q(*s) + " (a letter, then up to 127 letters, digits or _`,.[])");
        }
      }
    }
    if (auto v = m.Get("seed")) {
      if (auto s = Uint(*v, "seed", 0, UINT64_MAX)) sc_.seed = *s;
    }
    if (auto v = m.Get("targets")) {
      if (v->IsSequence() || v->IsScalar()) {
        std::vector<Node> items;
        if (v->IsScalar()) {
          items.push_back(*v);
        } else {
          for (const Node& item : *v) items.push_back(item);
        }
        for (const Node& item : items) {
          if (auto t = Enum(item, "target", kTargets)) sc_.targets.push_back(*t);
        }
      } else {
        Error(*v, "expected a list of targets (sim, local, remote), got " + Describe(*v));
      }
    }
    if (auto v = m.Get("run")) ReadRun(*v);
    // Clients first: everything else refers to them.
    if (auto v = m.Required(*this, "clients")) ReadClients(*v);
    if (auto v = m.Get("network")) ReadNetwork(*v);
    if (auto v = m.Get("service")) ReadService(*v);
    if (auto v = m.Get("upstream")) ReadUpstream(*v);
    if (auto v = m.Required(*this, "steps")) ReadSteps(*v);
    if (auto v = m.Get("expect")) ReadExpectations(*v);
    if (auto v = m.Get("invariants")) ReadInvariants(*v);
    if (auto v = m.Get("thresholds")) ReadThresholds(*v);
  }

  void ReadSource(const Node& n) {
    Map m(*this, n, "source", kSourceKeys);
    if (!m.ok()) return;
    if (auto v = m.Required(*this, "seed")) {
      if (auto s = Str(*v, "source seed")) {
        bool ok = s->size() == 3 && std::all_of(s->begin(), s->end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        if (ok) {
          sc_.source.seed = *s;
        } else {
          Error(*v, "expected a seed document id like \"001\", got " + Q(*s));
        }
      }
    }
    if (auto v = m.Required(*this, "section")) {
      if (auto s = NonEmptyStr(*v, "source section")) sc_.source.section = *s;
    }
  }

  void ReadRun(const Node& n) {
    Map m(*this, n, "run", kRunKeys);
    if (!m.ok()) return;
    if (auto v = m.Get("step_timeout")) {
      if (auto d = PositiveDuration(*v, "step_timeout")) sc_.run.step_timeout_ns = *d;
    }
    if (auto v = m.Get("settle")) {
      if (auto d = Duration(*v, "settle")) sc_.run.settle_ns = *d;
    }
    if (auto v = m.Get("time_limit")) {
      if (auto d = PositiveDuration(*v, "time_limit")) sc_.run.time_limit_ns = *d;
    }
    if (auto v = m.Get("perturb")) {
      if (auto b = Bool(*v, "perturb")) sc_.run.perturb = *b;
    }
  }

  // ---- clients ------------------------------------------------------------------------------

  void ReadClients(const Node& n) {
    if (n.IsNull()) return;  // "clients: {}" written as "clients:"
    if (!n.IsMap()) {
      Error(n, "expected a mapping of client names to client definitions, got " + Describe(n));
      return;
    }
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto name = Str(it->first, "client name");
      if (!name || !seen.insert(*name).second) continue;  // duplicates were reported already
      if (!IsIdentifier(*name, true) || name->find('.') != std::string::npos) {
        Error(it->first, "invalid client name " + Q(*name) + " (letters, digits, _ and -; starting with a letter)");
        continue;
      }
      if (*name == "all" || *name == "upstream" || *name == "service") {
        Error(it->first, "client name " + Q(*name) + " is reserved");
        continue;
      }
      ReadClient(*name, it->first, it->second);
    }
  }

  void ReadClient(const std::string& name, const Node& key, const Node& def) {
    Client c;
    c.name = name;
    c.pos = Pos(key);
    uint32_t index = static_cast<uint32_t>(sc_.clients.size());
    bool broken = false;
    const std::string what = "client " + Q(name);
    if (def.IsScalar()) {
      // Shorthand "pub: json".
      auto kind = Enum(def, "client kind", kClientKinds);
      if (kind) {
        c.kind = *kind;
      } else {
        broken = true;
      }
      AddClient(std::move(c), index, broken);
      return;
    }
    const Keys all = Concat({&kClientCommonKeys, &kClientConnKeys, &kClientReliableKeys, &kClientRestKeys,
                             &kClientMqttKeys});
    Map m(*this, def, what, all);
    if (!m.ok()) {
      AddClient(std::move(c), index, true);
      return;
    }
    if (auto v = m.Required(*this, "kind")) {
      if (auto kind = Enum(*v, "client kind", kClientKinds)) {
        c.kind = *kind;
      } else {
        broken = true;
      }
    } else {
      broken = true;
    }
    // Keys that do not apply to this kind.
    if (!broken) {
      auto reject = [&](const Keys& keys, std::string_view applies_to) {
        for (std::string_view k : keys) {
          if (auto kn = m.Key(k)) {
            Error(*kn, "key " + Q(k) + " applies only to " + std::string(applies_to) + " clients; " + Q(name) +
                           " is " + std::string(ClientKindName(c.kind)));
          }
        }
      };
      if (c.kind == ClientKind::kRest) {
        reject(kClientConnKeys, "websocket, json, reliable and mqtt");
        reject({"count"}, "websocket, json, reliable and mqtt");
      } else {
        reject(kClientRestKeys, "rest");
      }
      if (c.kind != ClientKind::kReliable) reject(kClientReliableKeys, "reliable");
      if (!IsMqtt(c.kind)) reject(kClientMqttKeys, "mqtt311 and mqtt5");
      if (c.kind == ClientKind::kMqtt311) reject(kMqtt5OnlyClientKeys, "mqtt5");
    }
    if (auto v = m.Get("count")) {
      if (auto n = Uint(*v, "count", 1, 1000000)) {
        c.count = static_cast<uint32_t>(*n);
        c.is_cohort = true;
      }
    }
    if (auto v = m.Get("user")) {
      if (auto s = Str(*v, "user")) c.user = *s;
    }
    if (auto v = m.Get("roles")) {
      if (auto l = StrList(*v, "roles")) c.roles = *l;
    }
    if (auto v = m.Get("groups")) {
      if (auto l = StrList(*v, "groups")) c.groups = *l;
    }
    if (auto v = m.Get("token")) {
      if (auto t = Token(*v, c.kind == ClientKind::kRest)) c.token = *t;
    }
    if (auto v = m.Get("subprotocols")) {
      if (v->IsSequence() && v->size() == 0) {
        c.subprotocols = std::vector<std::string>{};
      } else if (auto l = StrList(*v, "subprotocols")) {
        c.subprotocols = *l;
      }
    }
    if (auto v = m.Get("query")) {
      if (auto p = StrPairs(*v, "query")) c.query = *p;
    }
    if (auto v = m.Get("headers")) {
      if (auto p = StrPairs(*v, "headers")) c.headers = *p;
    }
    if (auto v = m.Get("url_style")) {
      if (auto e = Enum(*v, "url style", kUrlStyles)) c.url_style = *e;
    }
    if (auto v = m.Get("sequence_ack")) {
      if (auto e = Enum(*v, "sequence_ack mode", kSequenceAckModes)) c.sequence_ack = *e;
    }
    if (auto v = m.Get("network")) {
      Map lm(*this, *v, "network of client " + Q(name), kLinkKeys);
      if (lm.ok()) {
        if (auto link = Link(lm)) c.network = *link;
        client_network_set_.insert(index);
      }
    }
    if (auto v = m.Get("api_version")) {
      if (auto s = NonEmptyStr(*v, "api_version")) rest_api_versions_[index] = *s;
    }
    if (IsMqtt(c.kind)) ReadMqttClientOptions(m, c);
    AddClient(std::move(c), index, broken);
  }

  void ReadMqttClientOptions(const Map& m, Client& c) {
    MqttOptions& o = c.mqtt;
    if (auto v = m.Get("client_id")) {
      if (auto s = Str(*v, "client_id")) {
        o.client_id = *s;
        if (c.is_cohort && c.count > 1 && s->find("{i}") == std::string::npos) {
          Error(*v, "client_id of cohort " + Q(c.name) + " must contain {i} (MQTT client ids are unique)");
        }
      }
    }
    if (auto v = m.Get("clean_start")) {
      if (auto b = Bool(*v, "clean_start")) o.clean_start = *b;
    }
    if (auto v = m.Get("session_expiry")) o.session_expiry_s = Seconds(*v, "session_expiry", true);
    if (auto v = m.Get("keepalive")) {
      if (auto s = Seconds(*v, "keepalive", false)) {
        if (*s > 65535) {
          Error(*v, "keepalive must be at most 65535s");
        } else {
          o.keepalive_s = static_cast<uint16_t>(*s);
        }
      }
    }
    if (auto v = m.Get("username")) o.username = Str(*v, "username");
    if (auto v = m.Get("password")) o.password = Str(*v, "password");
    if (auto v = m.Get("will")) o.will = Will(*v, c.kind == ClientKind::kMqtt5);
    if (auto v = m.Get("receive_maximum")) {
      if (auto n = Uint(*v, "receive_maximum", 1, 65535)) o.receive_maximum = static_cast<uint16_t>(*n);
    }
    if (auto v = m.Get("maximum_packet_size")) {
      if (auto s = Str(*v, "maximum_packet_size")) {
        auto b = ParseByteSize(*s);
        if (b.ok() && *b >= 1 && *b <= 0xFFFFFFFFull) {
          o.maximum_packet_size = static_cast<uint32_t>(*b);
        } else {
          Error(*v, b.ok() ? "maximum_packet_size must be from 1 byte to 4GiB-1" : b.error().message);
        }
      }
    }
    if (auto v = m.Get("topic_alias_maximum")) {
      if (auto n = Uint(*v, "topic_alias_maximum", 0, 65535)) o.topic_alias_maximum = static_cast<uint16_t>(*n);
    }
    if (auto v = m.Get("request_problem_information")) o.request_problem_information = Bool(*v, "request_problem_information");
    if (auto v = m.Get("request_response_information")) o.request_response_information = Bool(*v, "request_response_information");
    if (auto v = m.Get("user_properties")) {
      if (auto p = UserProperties(*v)) o.user_properties = *p;
    }
  }

  std::optional<MqttWill> Will(const Node& n, bool mqtt5) {
    Map m(*this, n, "will", kWillKeys);
    if (!m.ok()) return std::nullopt;
    MqttWill w;
    if (auto v = m.Required(*this, "topic")) {
      if (auto s = Str(*v, "will topic")) w.topic = *s;
    }
    if (auto v = m.Get("payload")) {
      if (auto s = Str(*v, "will payload")) w.payload = *s;
    }
    if (auto v = m.Get("qos")) {
      if (auto q = Uint(*v, "qos", 0, 2)) w.qos = static_cast<uint8_t>(*q);
    }
    if (auto v = m.Get("retain")) {
      if (auto b = Bool(*v, "retain")) w.retain = *b;
    }
    if (auto v = m.Get("delay")) w.delay_s = Seconds(*v, "will delay", false);
    ReadPublishProperties(m, w.properties);
    if (!mqtt5) {
      for (std::string_view k : {"delay", "content_type", "message_expiry", "payload_format_indicator",
                                 "response_topic", "correlation_data", "user_properties"}) {
        if (auto kn = m.Key(k)) Error(*kn, Q(k) + " is an MQTT 5.0 feature; this client is mqtt311");
      }
    }
    return w;
  }

  void ReadPublishProperties(const Map& m, MqttPublishProperties& p) {
    if (auto v = m.Get("content_type")) p.content_type = Str(*v, "content_type");
    if (auto v = m.Get("message_expiry")) p.message_expiry_s = Seconds(*v, "message_expiry", false);
    if (auto v = m.Get("payload_format_indicator")) {
      if (auto n = Uint(*v, "payload_format_indicator", 0, 1)) p.payload_format_indicator = static_cast<uint8_t>(*n);
    }
    if (auto v = m.Get("response_topic")) p.response_topic = Str(*v, "response_topic");
    if (auto v = m.Get("correlation_data")) p.correlation_data = Str(*v, "correlation_data");
    if (auto v = m.Get("topic_alias")) {
      if (auto n = Uint(*v, "topic_alias", 1, 65535)) p.topic_alias = static_cast<uint16_t>(*n);
    }
    if (auto v = m.Get("user_properties")) {
      if (auto up = UserProperties(*v)) p.user_properties = *up;
    }
  }

  std::optional<TokenOptions> Token(const Node& n, bool rest) {
    TokenOptions t;
    if (n.IsScalar()) {
      auto f = Enum(n, "token fault", kTokenFaults);
      if (!f) return std::nullopt;
      t.fault = *f;
      return t;
    }
    Map m(*this, n, "token", kTokenKeys);
    if (!m.ok()) return std::nullopt;
    if (auto v = m.Get("fault")) {
      if (auto f = Enum(*v, "token fault", kTokenFaults)) t.fault = *f;
    }
    if (auto v = m.Get("via")) {
      if (auto p = Enum(*v, "token placement", kTokenPlacements)) t.via = *p;
      if (rest) Error(*v, "'via' does not apply to rest clients (they always use the Authorization header)");
    }
    if (auto v = m.Get("lifetime")) t.lifetime_ns = PositiveDuration(*v, "token lifetime");
    if (auto v = m.Get("audience")) t.audience = Str(*v, "audience");
    if (auto v = m.Get("role_as_string")) {
      if (auto b = Bool(*v, "role_as_string")) t.role_as_string = *b;
    }
    if (auto v = m.Get("group_claim")) {
      if (auto s = Str(*v, "group_claim")) {
        if (*s == "webpubsub.group" || *s == "group") {
          t.group_claim = *s;
        } else {
          Error(*v, "group_claim must be 'webpubsub.group' or 'group', got " + Q(*s));
        }
      }
    }
    if (auto v = m.Get("claims")) {
      if (v->IsMap()) {
        for (auto it = v->begin(); it != v->end(); ++it) {
          if (auto k = Str(it->first, "claim name")) t.claims.emplace_back(*k, YamlToJson(it->second));
        }
      } else {
        Error(*v, "expected a mapping of claim names to values, got " + Describe(*v));
      }
    }
    if (auto v = m.Get("audience_form")) {
      if (auto f = Enum(*v, "audience form", kAudienceForms)) t.rest_audience = *f;
      if (!rest) Error(*v, "'audience_form' applies only to rest clients");
    }
    return t;
  }

  void AddClient(Client c, uint32_t index, bool broken) {
    c.first_member = static_cast<uint32_t>(sc_.members.size());
    for (uint32_t i = 0; i < c.count; ++i) {
      Member mem;
      mem.client = index;
      mem.index = i;
      mem.name = c.is_cohort ? c.name + "[" + std::to_string(i) + "]" : c.name;
      if (c.user) mem.user = ReplaceAll(*c.user, "{i}", std::to_string(i));
      sc_.members.push_back(std::move(mem));
    }
    if (broken) broken_clients_.insert(index);
    sc_.clients.push_back(std::move(c));
  }

  // The rest client a REST step uses: `client:` or the first declared one, or an implied
  // client "server" appended after all declared clients (so no other index moves).
  std::optional<uint32_t> RestClient(const Map& m) {
    if (auto v = m.Get("client")) {
      auto ref = Ref(*v, RefOptions{.allow_all = false, .single = true, .allow_rest = true});
      if (!ref) return std::nullopt;
      if (!CheckKinds(*ref, *v, {ClientKind::kRest}, "a rest step")) return std::nullopt;
      return ref->members[0];
    }
    for (const Client& c : sc_.clients) {
      if (c.kind == ClientKind::kRest) return c.first_member;
    }
    if (sc_.FindClient("server")) {
      Error(m.node(), "no rest client is declared and the name 'server' is taken; declare one (e.g. api: rest)");
      return std::nullopt;
    }
    Client c;
    c.name = "server";
    c.kind = ClientKind::kRest;
    c.pos = SourcePos{file_, 0, 0};
    AddClient(std::move(c), static_cast<uint32_t>(sc_.clients.size()), false);
    return sc_.clients.back().first_member;
  }

  // ---- network, service, upstream -----------------------------------------------------------

  void ReadNetwork(const Node& n) {
    const Keys all = Concat({&kLinkKeys, &kNetworkOnlyKeys});
    Map m(*this, n, "network", all);
    if (!m.ok()) return;
    NetworkSettings& net = sc_.network;
    net.present = true;
    if (auto link = Link(m)) net.defaults = *link;
    if (auto v = m.Get("upstream")) {
      Map lm(*this, *v, "network upstream link", kLinkKeys);
      if (lm.ok()) {
        if (auto link = Link(lm)) net.upstream = *link;
      }
    }
    if (auto v = m.Get("stream_timeout")) net.stream_timeout_ns = PositiveDuration(*v, "stream_timeout");
    if (auto v = m.Get("clients")) {
      if (!v->IsMap()) {
        Error(*v, "expected a mapping of client names to link settings, got " + Describe(*v));
      } else {
        for (auto it = v->begin(); it != v->end(); ++it) {
          auto name = Str(it->first, "client name");
          if (!name) continue;
          auto ci = sc_.FindClient(*name);
          if (!ci) {
            UndefinedClient(it->first, *name);
            continue;
          }
          if (client_network_set_.count(*ci)) {
            Error(it->first, "network of client " + Q(*name) + " is set twice (here and in its definition)");
            continue;
          }
          Map lm(*this, it->second, "network of client " + Q(*name), kLinkKeys);
          if (!lm.ok()) continue;
          if (auto link = Link(lm)) sc_.clients[*ci].network = *link;
          client_network_set_.insert(*ci);
        }
      }
    }
    if (auto v = m.Get("partitions")) {
      if (!v->IsSequence()) {
        Error(*v, "expected a list of partitions, got " + Describe(*v));
        return;
      }
      for (const Node& item : *v) {
        Map pm(*this, item, "partition", kPartitionScheduleKeys);
        if (!pm.ok()) continue;
        ScheduledPartition p;
        p.pos = Pos(item);
        if (auto a = pm.Required(*this, "at")) {
          if (auto d = Duration(*a, "at")) p.at_ns = *d;
        }
        if (auto d = pm.Get("duration")) p.duration_ns = PositiveDuration(*d, "duration");
        if (auto c = pm.Required(*this, "client")) {
          if (c->IsScalar() && c->Scalar() == "upstream") {
            p.upstream = true;
          } else if (auto ref = Ref(*c, RefOptions{.allow_all = true})) {
            p.clients = *ref;
          }
        }
        if (auto d = pm.Get("direction")) {
          if (auto dir = Enum(*d, "direction", kDirections)) p.direction = *dir;
        }
        net.partitions.push_back(std::move(p));
      }
    }
  }

  void ReadService(const Node& n) {
    Map m(*this, n, "service", kServiceKeys);
    if (!m.ok()) return;
    ServiceSettings& s = sc_.service;
    s.present = true;
    if (auto v = m.Get("recovery_window")) s.recovery_window_ns = PositiveDuration(*v, "recovery_window");
    if (auto v = m.Get("reliable_buffer")) {
      Map bm(*this, *v, "reliable_buffer", kReliableBufferKeys);
      if (bm.ok()) {
        if (auto x = bm.Get("messages")) {
          if (auto c = Uint(*x, "messages", 1, 100000000)) s.reliable_buffer_messages = static_cast<uint32_t>(*c);
        }
        if (auto x = bm.Get("bytes")) {
          if (auto str = Str(*x, "bytes")) {
            auto b = ParseByteSize(*str);
            if (b.ok() && *b > 0) {
              s.reliable_buffer_bytes = *b;
            } else {
              Error(*x, b.ok() ? "bytes must be larger than zero" : b.error().message);
            }
          }
        }
      }
    }
    if (auto v = m.Get("keepalive")) s.keepalive_ns = PositiveDuration(*v, "keepalive");
    if (auto v = m.Get("anonymous")) s.anonymous = Enum(*v, "anonymous policy", kAnonymous);
    if (auto v = m.Get("inject_bug")) {
      if (auto l = StrList(*v, "inject_bug")) {
        // The names of the reference service's --inject-bug switches (service/options.h).
        std::vector<std::string> names;
        for (const auto& [bug, description] : service::AllBugs()) names.emplace_back(service::BugName(bug));
        Keys known(names.begin(), names.end());
        for (const std::string& b : *l) {
          if (!service::ParseBug(b)) {
            std::string hint = Suggest(b, known);
            if (hint.empty()) hint = " (bugs: " + JoinKeys(known) + ")";
            Error(*v, "unknown bug " + Q(b) + hint);
          }
        }
        s.inject_bug = *l;
      }
    }
    if (auto v = m.Get("access_key")) s.access_key = NonEmptyStr(*v, "access_key");
    if (auto v = m.Get("max_message_size")) {
      if (auto str = Str(*v, "max_message_size")) {
        auto b = ParseByteSize(*str);
        if (b.ok() && *b > 0) {
          s.max_message_bytes = *b;
        } else {
          Error(*v, b.ok() ? "max_message_size must be larger than zero" : b.error().message);
        }
      }
    }
    if (auto v = m.Get("mqtt_session_window")) s.mqtt_session_window_ns = PositiveDuration(*v, "mqtt_session_window");
    if (auto v = m.Get("upstream_timeout")) s.upstream_timeout_ns = PositiveDuration(*v, "upstream_timeout");
    if (auto v = m.Get("token_clock_skew")) s.token_clock_skew_ns = Duration(*v, "token_clock_skew");
  }

  // A message body: YAML value + content type -> bytes. application/json (the default)
  // serialises the YAML value as JSON; text/* takes a string verbatim; octet-stream decodes
  // base64; any other content type takes a string verbatim (for 415 cases).
  bool Body(const Map& m, std::string& body, std::string& content_type, const std::string& default_type) {
    content_type = default_type;
    if (auto v = m.Get("content_type")) {
      if (auto s = Str(*v, "content_type")) content_type = *s;
    }
    auto raw = m.Get("body_raw");
    auto val = m.Get("body");
    if (raw && val) {
      Error(*m.Key("body_raw"), "give either 'body' or 'body_raw', not both");
      return false;
    }
    if (raw) {
      auto s = Str(*raw, "body_raw");
      if (!s) return false;
      body = *s;
      return true;
    }
    if (!val) return false;
    const std::string ct = content_type.substr(0, content_type.find(';'));
    if (ct == "application/json") {
      if (val->IsScalar()) CheckTemplates(*val, val->Scalar());
      body = YamlToJson(*val).dump();
      return true;
    }
    if (ct == "application/octet-stream") {
      auto b = Base64Bytes(*val, "an application/octet-stream body");
      if (!b) return false;
      body = *b;
      return true;
    }
    auto s = TemplStr(*val, "body");
    if (!s) return false;
    body = *s;
    return true;
  }

  void ReadUpstream(const Node& n) {
    Map m(*this, n, "upstream", kUpstreamKeys);
    if (!m.ok()) return;
    UpstreamSettings& u = sc_.upstream;
    u.present = true;
    if (auto v = m.Required(*this, "handlers")) {
      if (!v->IsSequence() || v->size() == 0) {
        Error(*v, "expected a non-empty list of handlers, got " + Describe(*v));
      } else {
        for (const Node& item : *v) {
          Map hm(*this, item, "handler", kHandlerKeys);
          if (!hm.ok()) continue;
          UpstreamHandler h;
          h.pos = Pos(item);
          if (auto x = hm.Required(*this, "url")) {
            if (auto s = NonEmptyStr(*x, "url")) {
              h.url_template = *s;
              if (s->rfind("http://", 0) != 0 && s->rfind("https://", 0) != 0) {
                Error(*x, "a handler url must start with http:// or https://, got " + Q(*s));
              }
            }
          }
          if (auto x = hm.Get("user_events")) {
            if (auto s = Str(*x, "user_events")) h.user_event_pattern = *s;
          }
          if (auto x = hm.Get("system_events")) {
            if (auto l = StrList(*x, "system_events")) {
              for (const std::string& e : *l) {
                if (e != "connect" && e != "connected" && e != "disconnected") {
                  Error(*x, "unknown system event " + Q(e) + Suggest(e, {"connect", "connected", "disconnected"}));
                }
              }
              h.system_events = *l;
            }
          }
          u.handlers.push_back(std::move(h));
        }
      }
    }
    if (auto v = m.Get("validation")) {
      if (auto e = Enum(*v, "validation reply", kValidation)) u.validation = *e;
    }
    if (auto v = m.Get("responses")) {
      if (!v->IsSequence()) {
        Error(*v, "expected a list of scripted responses, got " + Describe(*v));
        return;
      }
      for (const Node& item : *v) ReadUpstreamResponse(item);
    }
  }

  void ReadUpstreamResponse(const Node& item) {
    Map m(*this, item, "upstream response", kResponseKeys);
    if (!m.ok()) return;
    UpstreamResponse r;
    r.pos = Pos(item);
    if (auto v = m.Required(*this, "on")) {
      if (auto l = StrList(*v, "on")) {
        for (const std::string& e : *l) {
          if (e != "*" && !IsIdentifier(e, true)) Error(*v, "invalid event name " + Q(e));
        }
        r.events = *l;
      }
    }
    if (auto v = m.Get("match")) {
      Map mm(*this, *v, "match", kUpstreamMatchKeys);
      if (mm.ok()) {
        if (auto x = mm.Get("client")) r.match.clients = Ref(*x, RefOptions{});
        if (auto x = mm.Get("user")) r.match.user_id = Str(*x, "user");
        if (auto x = mm.Get("data_contains")) r.match.data_contains = Str(*x, "data_contains");
        if (auto x = mm.Get("subprotocol")) r.match.subprotocol = Str(*x, "subprotocol");
      }
    }
    std::vector<std::string> actions;
    for (std::string_view a : kResponseActions) {
      if (m.Has(a)) actions.emplace_back(a);
    }
    if (actions.empty()) {
      Error(item, "an upstream response needs one of: accept, reject, reply, fail, timeout");
    } else if (actions.size() > 1) {
      Error(*m.Key(actions[1]), "an upstream response has one action; found " + Q(actions[0]) + " and " + Q(actions[1]));
    } else {
      const std::string& a = actions[0];
      Node v = *m.Get(a);
      if (a == "accept") {
        r.action = UpstreamActionKind::kAccept;
        r.status = 204;
        if (v.IsMap()) {
          Map am(*this, v, "accept", kAcceptKeys);
          if (am.ok()) {
            r.status = 200;
            if (auto x = am.Get("user")) r.user_id = Str(*x, "user");
            if (auto x = am.Get("groups")) r.groups = StrList(*x, "groups");
            if (auto x = am.Get("roles")) {
              if (x->IsSequence() && x->size() == 0) {
                r.roles = std::vector<std::string>{};
              } else {
                r.roles = StrList(*x, "roles");
              }
            }
            if (auto x = am.Get("subprotocol")) r.subprotocol = Str(*x, "subprotocol");
          }
        } else if (auto b = Bool(v, "accept"); b && !*b) {
          Error(v, "'accept: false' is not an action; use reject");
        }
      } else if (a == "reject") {
        r.action = UpstreamActionKind::kReject;
        if (v.IsScalar()) {
          if (auto s = Uint(v, "reject status", 400, 599)) r.status = static_cast<int>(*s);
        } else {
          Map rm(*this, v, "reject", kRejectKeys);
          if (rm.ok()) {
            if (auto x = rm.Required(*this, "status")) {
              if (auto s = Uint(*x, "reject status", 400, 599)) r.status = static_cast<int>(*s);
            }
            if (rm.Has("body")) Body(rm, r.body, r.content_type, "text/plain");
          }
        }
      } else if (a == "reply") {
        r.action = UpstreamActionKind::kReply;
        r.status = 200;
        if (v.IsScalar()) {
          r.body = v.Scalar();
          r.content_type = "text/plain";
        } else {
          Map rm(*this, v, "reply", kReplyKeys);
          if (rm.ok()) {
            if (auto x = rm.Get("status")) {
              if (auto s = Uint(*x, "reply status", 200, 299)) r.status = static_cast<int>(*s);
            }
            if (!rm.Has("body") && !rm.Has("body_raw")) {
              rm.Required(*this, "body");
            } else {
              Body(rm, r.body, r.content_type, "application/json");
            }
          }
        }
      } else if (a == "fail") {
        r.action = UpstreamActionKind::kFail;
        if (!(v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "reset"))) {
          Error(v, "expected 'fail: true' or 'fail: reset', got " + Describe(v));
        }
      } else if (a == "timeout") {
        r.action = UpstreamActionKind::kTimeout;
        if (auto b = Bool(v, "timeout"); b && !*b) Error(v, "'timeout: false' is not an action");
      }
    }
    if (auto v = m.Get("delay")) {
      if (auto d = Duration(*v, "delay")) r.delay_ns = *d;
    }
    if (auto v = m.Get("times")) {
      if (auto t = Uint(*v, "times", 1, 1000000000)) r.times = static_cast<uint32_t>(*t);
    }
    if (auto v = m.Get("headers")) {
      if (auto h = StrPairs(*v, "headers")) r.headers = *h;
    }
    if (auto v = m.Get("state")) r.connection_state = Str(*v, "state");
    sc_.upstream.responses.push_back(std::move(r));
  }

  // ---- steps --------------------------------------------------------------------------------

  struct Modifiers {
    std::optional<Node> as, at, timeout, async, case_id;
  };

  // Collects modifiers from `m` into `mods` (inner position), reporting ones given twice.
  void TakeModifiers(const Map& m, Modifiers& mods) {
    auto take = [&](std::string_view key, std::optional<Node>& slot) {
      if (auto v = m.Get(key)) {
        if (slot) {
          Error(*m.Key(key), Q(key) + " is given both outside and inside the step");
        } else {
          slot = *v;
        }
      }
    };
    take("as", mods.as);
    take("at", mods.at);
    take("timeout", mods.timeout);
    take("async", mods.async);
    take("case", mods.case_id);
  }

  void ReadSteps(const Node& n) {
    if (!n.IsSequence()) {
      Error(n, "expected a list of steps, got " + Describe(n));
      return;
    }
    for (const Node& item : n) {
      if (auto id = ReadStep(item, std::nullopt)) sc_.root_steps.push_back(*id);
    }
  }

  std::optional<uint32_t> ReadStep(const Node& item, std::optional<uint32_t> parent) {
    std::string kind;
    Node value;
    Node kind_node = item;
    Modifiers mods;
    if (item.IsScalar()) {
      kind = item.Scalar();
    } else if (item.IsMap()) {
      std::vector<std::pair<std::string, Node>> kinds;
      for (auto it = item.begin(); it != item.end(); ++it) {
        std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
        if (Contains(kStepModifiers, key)) {
          if (key == "as") mods.as = it->second;
          if (key == "at") mods.at = it->second;
          if (key == "timeout") mods.timeout = it->second;
          if (key == "async") mods.async = it->second;
          if (key == "case") mods.case_id = it->second;
        } else if (Contains(kStepKinds, key)) {
          kinds.emplace_back(key, it->first);
          if (kinds.size() == 1) value = it->second;
        } else {
          Error(it->first, "unknown step " + Q(key) + Suggest(key, Concat({&kStepKinds, &kStepModifiers})));
          return std::nullopt;
        }
      }
      if (kinds.empty()) {
        Error(item, "a step needs a kind (one of: " + JoinKeys(kStepKinds) + ")");
        return std::nullopt;
      }
      if (kinds.size() > 1) {
        Error(kinds[1].second, "a step has exactly one kind; found " + Q(kinds[0].first) + " and " + Q(kinds[1].first));
        return std::nullopt;
      }
      kind = kinds[0].first;
      kind_node = kinds[0].second;
    } else {
      Error(item, "expected a step (a mapping like '- connect: a'), got " + Describe(item));
      return std::nullopt;
    }
    if (!Contains(kStepKinds, kind)) {
      Error(item, "unknown step " + Q(kind) + Suggest(kind, kStepKinds));
      return std::nullopt;
    }

    const uint32_t id = static_cast<uint32_t>(sc_.steps.size());
    sc_.steps.emplace_back();  // reserve the pre-order slot; filled in below
    Step step;
    step.id = id;
    step.pos = Pos(kind_node);
    step.parent = parent;
    std::vector<Expectation> inline_expects;
    bool ok = ReadStepBody(kind, kind_node, value, step, mods, inline_expects);

    if (mods.as) {
      if (auto s = Str(*mods.as, "as")) {
        if (RegisterLabel(*mods.as, *s)) {
          step.label = *s;
          sc_.step_labels.emplace(*s, id);
        }
      }
    }
    if (mods.at) step.at_ns = Duration(*mods.at, "at");
    if (mods.timeout) step.timeout_ns = PositiveDuration(*mods.timeout, "timeout");
    if (mods.async) {
      if (auto b = Bool(*mods.async, "async")) step.async = *b;
    }
    if (mods.case_id) {
      if (auto c = CaseId(*mods.case_id)) step.case_id = *c;
    }
    for (Expectation& e : inline_expects) {
      e.from_step = id;
      // A case id on an enclosing parallel/repeat covers inline checks that have none.
      e.case_id = step.case_id;
      for (auto it = block_cases_.rbegin(); e.case_id.empty() && it != block_cases_.rend(); ++it) e.case_id = *it;
      e.label = step.label;
      sc_.expectations.push_back(std::move(e));
    }
    if (!ok) {
      // Keep the slot so ids stay dense, but as a harmless no-op; the file fails anyway.
      step.args = WaitStep{};
    }
    sc_.steps[id] = std::move(step);
    return id;
  }

  // Simple "client list" steps: `connect: a`, `connect: [a, b]`, or a mapping with `client`.
  // Returns the mapping view (if the value was a mapping) for kind-specific keys.
  std::optional<ClientRef> ClientsOf(const Node& value, std::optional<Map>& map, const std::string& what,
                                     const Keys& extra_keys, Modifiers& mods, const RefOptions& opt = {}) {
    if (value.IsScalar() || value.IsSequence()) return Ref(value, opt);
    Keys keys = Concat({&extra_keys, &kStepModifiers});
    keys.insert(keys.begin(), "client");
    map.emplace(*this, value, what, keys);
    if (!map->ok()) return std::nullopt;
    TakeModifiers(*map, mods);
    return ClientKey(*map, opt);
  }

  std::optional<AckSpec> Ack(const Node& n) {
    AckSpec a;
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "auto" || s == "true") {
        a.mode = AckSpec::Mode::kAuto;
        return a;
      }
      if (s == "none" || s == "false") return a;
      if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        if (auto v = Uint(n, "ack", 0, UINT64_MAX)) {
          a.mode = AckSpec::Mode::kExplicit;
          a.id = *v;
          return a;
        }
        return std::nullopt;
      }
    }
    Error(n, "expected 'auto', 'none' or an ackId number for ack, got " + Describe(n));
    return std::nullopt;
  }

  std::optional<Expectation> InlineAck(const Node& n, const Step& step, const AckSpec& ack) {
    if (ack.mode == AckSpec::Mode::kNone) {
      Error(n, "expect_ack needs an ackId on the request (add 'ack: auto')");
      return std::nullopt;
    }
    AckExpect a;
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "success" || s == "true") {
        a.success = true;
      } else if (s == "false" || s.empty()) {
        Error(n, "expect_ack takes 'success' or an error name like Forbidden, got " + Describe(n));
        return std::nullopt;
      } else {
        a.success = false;
        a.error = s;
      }
    } else {
      Map m(*this, n, "expect_ack", {"success", "error", "message", "message_contains"});
      if (!m.ok()) return std::nullopt;
      ReadAckFields(m, a);
    }
    a.step = step.id;
    Expectation e;
    e.pos = Pos(n);
    e.args = a;
    return e;
  }

  void ReadAckFields(const Map& m, AckExpect& a) {
    if (auto v = m.Get("success")) {
      if (auto b = Bool(*v, "success")) a.success = *b;
    }
    if (auto v = m.Get("error")) {
      a.error = NonEmptyStr(*v, "error");
      if (m.Has("success") && a.success) Error(*v, "an ack with an error cannot have success: true");
      a.success = false;
    }
    if (auto v = m.Get("message")) a.message = Str(*v, "message");
    if (auto v = m.Get("message_contains")) a.message_contains = Str(*v, "message_contains");
  }

  std::optional<Payload> ReadPayload(const Map& m, bool require) {
    Payload p;
    if (auto v = m.Get("data_type")) p.data_type = Enum(*v, "data type", kDataTypes);
    auto data = m.Get("data");
    if (auto v = m.Get("payload_size")) {
      if (auto s = Str(*v, "payload_size")) {
        auto b = ParseByteSize(*s);
        if (b.ok()) {
          p.filler_bytes = *b;
        } else {
          Error(*v, b.error().message);
        }
      }
      if (data) Error(*m.Key("payload_size"), "give either 'data' or 'payload_size', not both");
      p.data = "";
      return p;
    }
    if (!data) {
      if (require) m.Required(*this, "data");
      p.has_data = false;
      return require ? std::nullopt : std::optional<Payload>(p);
    }
    DataType t = p.data_type.value_or(DataType::kJson);
    switch (t) {
      case DataType::kJson:
        if (data->IsScalar()) CheckTemplates(*data, data->Scalar());
        p.data = YamlToJson(*data);
        break;
      case DataType::kText:
        if (auto s = TemplStr(*data, "text data")) p.data = *s;
        break;
      case DataType::kBinary:
      case DataType::kProtobuf:
        if (auto b = Base64Bytes(*data, "binary data")) p.data = data->Scalar();
        break;
    }
    return p;
  }

  bool ReadStepBody(const std::string& kind, const Node& kind_node, const Node& value, Step& step, Modifiers& mods,
                    std::vector<Expectation>& inline_expects) {
    const std::string what = "step " + Q(kind);
    std::optional<Map> map;
    auto need_map = [&](const Keys& keys) -> bool {
      Keys all = Concat({&keys, &kStepModifiers});
      if (!value.IsDefined() || value.IsNull()) {
        Error(kind_node, what + " needs arguments (a mapping with: " + JoinKeys(keys) + ")");
        return false;
      }
      map.emplace(*this, value, what, all);
      if (!map->ok()) return false;
      TakeModifiers(*map, mods);
      return true;
    };
    auto no_args = [&]() { return !value.IsDefined() || value.IsNull(); };
    // A key without a value ("- connect:") has no position of its own: report at the key.
    static const Keys kClientListKinds = {"connect", "disconnect", "kill", "ping", "reset", "recover", "sequence_ack"};
    if (no_args() && Contains(kClientListKinds, kind)) {
      Error(kind_node, what + " needs a client, a list of clients, or a mapping with 'client'");
      return false;
    }
    if (no_args() && kind == "wait") {
      Error(kind_node, "step 'wait' needs a duration like 100ms");
      return false;
    }

    if (kind == "connect") {
      auto ref = ClientsOf(value, map, what,
                           {"subprotocols", "token", "clean_start", "session_expiry", "keepalive", "expect_status",
                            "expect_connack", "expect_close"},
                           mods);
      if (!ref) return false;
      ConnectStep s;
      s.clients = *ref;
      CheckKinds(s.clients, value, {ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable,
                                     ClientKind::kMqtt311, ClientKind::kMqtt5}, what);
      if (map) {
        const Map& m = *map;
        if (auto v = m.Get("subprotocols")) {
          if (v->IsSequence() && v->size() == 0) {
            s.subprotocols = std::vector<std::string>{};
          } else {
            s.subprotocols = StrList(*v, "subprotocols");
          }
        }
        if (auto v = m.Get("token")) s.token = Token(*v, false);
        bool mqtt_keys = m.Has("clean_start") || m.Has("session_expiry") || m.Has("keepalive");
        if (mqtt_keys) CheckKinds(s.clients, m.node(), {ClientKind::kMqtt311, ClientKind::kMqtt5}, "clean_start/session_expiry/keepalive");
        if (auto v = m.Get("clean_start")) s.clean_start = Bool(*v, "clean_start");
        if (auto v = m.Get("session_expiry")) s.session_expiry_s = Seconds(*v, "session_expiry", true);
        if (auto v = m.Get("keepalive")) {
          if (auto k = Seconds(*v, "keepalive", false)) {
            if (*k > 65535) {
              Error(*v, "keepalive must be at most 65535s");
            } else {
              s.keepalive_s = static_cast<uint16_t>(*k);
            }
          }
        }
        RequireMqtt5(s.clients, m, {"session_expiry"});
        if (auto v = m.Get("expect_status")) {
          if (auto st = Uint(*v, "expect_status", 400, 599)) {
            ClosedExpect c;
            c.clients = s.clients;
            c.http_status = static_cast<int>(*st);
            inline_expects.push_back(Expectation{Pos(*v), "", "", std::nullopt, c});
          }
        }
        if (auto v = m.Get("expect_connack")) {
          CheckKinds(s.clients, *v, {ClientKind::kMqtt311, ClientKind::kMqtt5}, "expect_connack");
          if (auto c = ReadConnack(*v, s.clients)) inline_expects.push_back(Expectation{Pos(*v), "", "", std::nullopt, *c});
        }
        if (auto v = m.Get("expect_close")) {
          if (auto code = Uint(*v, "expect_close", 1000, 4999)) {
            ClosedExpect c;
            c.clients = s.clients;
            c.code = static_cast<uint16_t>(*code);
            inline_expects.push_back(Expectation{Pos(*v), "", "", std::nullopt, c});
          }
        }
      }
      step.args = std::move(s);
      return true;
    }
    if (kind == "disconnect") {
      auto ref = ClientsOf(value, map, what, {"code", "reason", "reason_code", "session_expiry", "user_properties"}, mods);
      if (!ref) return false;
      DisconnectStep s;
      s.clients = *ref;
      s.code = 1000;
      CheckKinds(s.clients, value, {ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable,
                                     ClientKind::kMqtt311, ClientKind::kMqtt5}, what);
      if (map) {
        const Map& m = *map;
        if (auto v = m.Get("code")) {
          if (v->IsScalar() && v->Scalar() == "none") {
            s.code.reset();
            s.send_code = false;
          } else if (auto c = Uint(*v, "close code", 1000, 4999)) {
            s.code = static_cast<uint16_t>(*c);
          }
        }
        if (auto v = m.Get("reason")) {
          if (auto r = Str(*v, "reason")) s.reason = *r;
        }
        bool mqtt_keys = m.Has("reason_code") || m.Has("session_expiry") || m.Has("user_properties");
        if (mqtt_keys) CheckKinds(s.clients, m.node(), {ClientKind::kMqtt311, ClientKind::kMqtt5}, "reason_code/session_expiry/user_properties");
        RequireMqtt5(s.clients, m, {"reason_code", "session_expiry", "user_properties"});
        if (auto v = m.Get("reason_code")) {
          if (auto c = Uint(*v, "reason_code", 0, 255)) s.mqtt_reason_code = static_cast<uint8_t>(*c);
        }
        if (auto v = m.Get("session_expiry")) s.session_expiry_s = Seconds(*v, "session_expiry", true);
        if (auto v = m.Get("user_properties")) {
          if (auto up = UserProperties(*v)) s.user_properties = *up;
        }
      }
      step.args = std::move(s);
      return true;
    }
    if (kind == "kill" || kind == "ping" || kind == "reset") {
      auto ref = ClientsOf(value, map, what, {}, mods);
      if (!ref) return false;
      if (kind == "kill") {
        CheckKinds(*ref, value, {ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable,
                                 ClientKind::kMqtt311, ClientKind::kMqtt5}, what);
        step.args = KillStep{*ref};
      } else if (kind == "ping") {
        CheckKinds(*ref, value, {ClientKind::kJson, ClientKind::kReliable}, what);
        step.args = PingStep{*ref};
      } else {
        step.args = ResetStep{*ref};
      }
      return true;
    }
    if (kind == "recover") {
      auto ref = ClientsOf(value, map, what, {"fault", "expect_close"}, mods);
      if (!ref) return false;
      RecoverStep s;
      s.clients = *ref;
      CheckKinds(s.clients, value, {ClientKind::kReliable}, what);
      if (map) {
        if (auto v = map->Get("fault")) {
          if (auto f = Enum(*v, "recover fault", kRecoverFaults)) s.fault = *f;
        }
        if (auto v = map->Get("expect_close")) {
          if (auto code = Uint(*v, "expect_close", 1000, 4999)) {
            ClosedExpect c;
            c.clients = s.clients;
            c.code = static_cast<uint16_t>(*code);
            inline_expects.push_back(Expectation{Pos(*v), "", "", std::nullopt, c});
          }
        }
      }
      step.args = std::move(s);
      return true;
    }
    if (kind == "join" || kind == "leave") {
      if (!need_map({"client", "group", "ack", "expect_ack"})) return false;
      const Map& m = *map;
      auto ref = ClientKey(m, {});
      GroupStep g;
      if (auto v = m.Required(*this, "group")) {
        if (auto s = NonEmptyStr(*v, "group")) g.group = *s;
      }
      if (auto v = m.Get("ack")) {
        if (auto a = Ack(*v)) g.ack = *a;
      }
      if (!ref) return false;
      g.clients = *ref;
      CheckKinds(g.clients, *m.Get("client"), {ClientKind::kJson, ClientKind::kReliable}, what);
      if (auto v = m.Get("expect_ack")) {
        if (auto e = InlineAck(*v, step, g.ack)) inline_expects.push_back(std::move(*e));
      }
      if (kind == "join") {
        step.args = JoinStep{g};
      } else {
        step.args = LeaveStep{g};
      }
      return true;
    }
    if (kind == "send_to_group" || kind == "event") {
      bool stg = kind == "send_to_group";
      Keys keys = {"client", stg ? "group" : "event", "data", "data_type", "payload_size", "ack", "expect_ack"};
      if (stg) keys.push_back("no_echo");
      if (!need_map(keys)) return false;
      const Map& m = *map;
      auto ref = ClientKey(m, {});
      std::string target;
      if (auto v = m.Required(*this, stg ? "group" : "event")) {
        if (auto s = NonEmptyStr(*v, stg ? "group" : "event")) target = *s;
      }
      auto payload = ReadPayload(m, true);
      AckSpec ack;
      if (auto v = m.Get("ack")) {
        if (auto a = Ack(*v)) ack = *a;
      }
      if (!ref || !payload) return false;
      CheckKinds(*ref, *m.Get("client"), {ClientKind::kJson, ClientKind::kReliable}, what);
      if (auto v = m.Get("expect_ack")) {
        if (auto e = InlineAck(*v, step, ack)) inline_expects.push_back(std::move(*e));
      }
      if (stg) {
        SendToGroupStep s;
        s.clients = *ref;
        s.group = target;
        s.payload = *payload;
        s.ack = ack;
        if (auto v = m.Get("no_echo")) s.no_echo = Bool(*v, "no_echo");
        step.args = std::move(s);
      } else {
        EventStep s;
        s.clients = *ref;
        s.event = target;
        s.payload = *payload;
        s.ack = ack;
        step.args = std::move(s);
      }
      return true;
    }
    if (kind == "sequence_ack") {
      auto ref = ClientsOf(value, map, what, {"sequence_id"}, mods);
      if (!ref) return false;
      SequenceAckStep s;
      s.clients = *ref;
      CheckKinds(s.clients, value, {ClientKind::kReliable}, what);
      if (map) {
        if (auto v = map->Get("sequence_id")) {
          if (!(v->IsScalar() && v->Scalar() == "latest")) s.sequence_id = Uint(*v, "sequence_id", 0, UINT64_MAX);
        }
      }
      step.args = std::move(s);
      return true;
    }
    if (kind == "send_raw") {
      if (!need_map({"client", "text", "binary"})) return false;
      const Map& m = *map;
      auto ref = ClientKey(m, {});
      SendRawStep s;
      auto text = m.Get("text");
      auto bin = m.Get("binary");
      if (text && bin) {
        Error(*m.Key("binary"), "give either 'text' or 'binary', not both");
      } else if (text) {
        if (auto t = Str(*text, "text")) s.bytes = *t;
      } else if (bin) {
        s.binary = true;
        if (auto b = Base64Bytes(*bin, "binary")) s.bytes = *b;
      } else {
        Error(m.node(), "send_raw needs 'text' or 'binary'");
      }
      if (!ref) return false;
      s.clients = *ref;
      CheckKinds(s.clients, *m.Get("client"), {ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable}, what);
      step.args = std::move(s);
      return true;
    }
    if (kind == "subscribe") {
      if (!need_map({"client", "topic", "topics", "qos", "no_local", "retain_as_published", "retain_handling",
                     "subscription_identifier", "user_properties", "expect_suback"})) {
        return false;
      }
      const Map& m = *map;
      auto ref = ClientKey(m, {});
      SubscribeStep s;
      MqttSubscription defaults;
      if (auto v = m.Get("qos")) {
        if (auto q = Uint(*v, "qos", 0, 2)) defaults.qos = static_cast<uint8_t>(*q);
      }
      ReadSubscriptionOptions(m, defaults);
      auto topic = m.Get("topic");
      auto topics = m.Get("topics");
      if (topic && topics) {
        Error(*m.Key("topics"), "give either 'topic' or 'topics', not both");
      } else if (topic) {
        MqttSubscription sub = defaults;
        if (auto t = NonEmptyStr(*topic, "topic")) sub.topic = *t;
        s.subscriptions.push_back(sub);
      } else if (topics) {
        if (!topics->IsSequence() || topics->size() == 0) {
          Error(*topics, "expected a non-empty list of topics, got " + Describe(*topics));
        } else {
          for (const Node& t : *topics) {
            MqttSubscription sub = defaults;
            if (t.IsScalar()) {
              sub.topic = t.Scalar();
            } else {
              Map tm(*this, t, "subscription", {"topic", "qos", "no_local", "retain_as_published", "retain_handling"});
              if (!tm.ok()) continue;
              if (auto x = tm.Required(*this, "topic")) {
                if (auto str = NonEmptyStr(*x, "topic")) sub.topic = *str;
              }
              if (auto x = tm.Get("qos")) {
                if (auto q = Uint(*x, "qos", 0, 2)) sub.qos = static_cast<uint8_t>(*q);
              }
              ReadSubscriptionOptions(tm, sub);
              if (ref) RequireMqtt5(*ref, tm, {"no_local", "retain_as_published", "retain_handling"});
            }
            s.subscriptions.push_back(sub);
          }
        }
      } else {
        Error(m.node(), "subscribe needs 'topic' or 'topics'");
      }
      if (auto v = m.Get("subscription_identifier")) {
        if (auto id = Uint(*v, "subscription_identifier", 1, 268435455)) s.subscription_identifier = static_cast<uint32_t>(*id);
      }
      if (auto v = m.Get("user_properties")) {
        if (auto up = UserProperties(*v)) s.user_properties = *up;
      }
      if (!ref) return false;
      s.clients = *ref;
      CheckKinds(s.clients, *m.Get("client"), {ClientKind::kMqtt311, ClientKind::kMqtt5}, what);
      RequireMqtt5(s.clients, m, {"no_local", "retain_as_published", "retain_handling", "subscription_identifier", "user_properties"});
      if (auto v = m.Get("expect_suback")) {
        SubackExpect e;
        e.step = step.id;
        if (auto codes = ReasonCodes(*v)) {
          e.reason_codes = *codes;
          inline_expects.push_back(Expectation{Pos(*v), "", "", std::nullopt, e});
        }
      }
      step.args = std::move(s);
      return true;
    }
    if (kind == "unsubscribe") {
      if (!need_map({"client", "topic", "topics", "user_properties"})) return false;
      const Map& m = *map;
      auto ref = ClientKey(m, {});
      UnsubscribeStep s;
      auto topic = m.Get("topic");
      auto topics = m.Get("topics");
      if (topic && topics) {
        Error(*m.Key("topics"), "give either 'topic' or 'topics', not both");
      } else if (topic || topics) {
        if (auto l = StrList(topic ? *topic : *topics, "topics")) s.topics = *l;
      } else {
        Error(m.node(), "unsubscribe needs 'topic' or 'topics'");
      }
      if (auto v = m.Get("user_properties")) {
        if (auto up = UserProperties(*v)) s.user_properties = *up;
      }
      if (!ref) return false;
      s.clients = *ref;
      CheckKinds(s.clients, *m.Get("client"), {ClientKind::kMqtt311, ClientKind::kMqtt5}, what);
      RequireMqtt5(s.clients, m, {"user_properties"});
      step.args = std::move(s);
      return true;
    }
    if (kind == "publish") {
      const Keys publish_props = {"content_type", "message_expiry", "payload_format_indicator", "response_topic",
                                  "correlation_data", "topic_alias", "user_properties"};
      Keys keys = {"client", "topic", "payload", "payload_base64", "payload_json", "payload_size", "qos", "retain", "expect_puback"};
      keys.insert(keys.end(), publish_props.begin(), publish_props.end());
      if (!need_map(keys)) return false;
      const Map& m = *map;
      auto ref = ClientKey(m, {});
      PublishStep s;
      if (auto v = m.Required(*this, "topic")) {
        if (auto t = NonEmptyStr(*v, "topic")) s.topic = *t;
      }
      int payloads = 0;
      if (auto v = m.Get("payload")) {
        ++payloads;
        if (auto p = TemplStr(*v, "payload")) s.payload = *p;
      }
      if (auto v = m.Get("payload_base64")) {
        ++payloads;
        if (auto p = Base64Bytes(*v, "payload_base64")) s.payload = *p;
      }
      if (auto v = m.Get("payload_json")) {
        ++payloads;
        s.payload = YamlToJson(*v).dump();
      }
      if (auto v = m.Get("payload_size")) {
        ++payloads;
        if (auto str = Str(*v, "payload_size")) {
          auto b = ParseByteSize(*str);
          if (b.ok()) {
            s.filler_bytes = *b;
          } else {
            Error(*v, b.error().message);
          }
        }
      }
      if (payloads == 0) Error(m.node(), "publish needs one of: payload, payload_base64, payload_json, payload_size");
      if (payloads > 1) Error(m.node(), "publish takes only one of: payload, payload_base64, payload_json, payload_size");
      if (auto v = m.Get("qos")) {
        if (auto q = Uint(*v, "qos", 0, 2)) s.qos = static_cast<uint8_t>(*q);
      }
      if (auto v = m.Get("retain")) {
        if (auto b = Bool(*v, "retain")) s.retain = *b;
      }
      ReadPublishProperties(m, s.properties);
      if (!ref) return false;
      s.clients = *ref;
      CheckKinds(s.clients, *m.Get("client"), {ClientKind::kMqtt311, ClientKind::kMqtt5}, what);
      RequireMqtt5(s.clients, m, publish_props);
      if (auto v = m.Get("expect_puback")) {
        if (s.qos == 0) Error(*v, "expect_puback needs qos 1 or 2 (QoS 0 has no acknowledgement)");
        if (auto c = Uint(*v, "expect_puback", 0, 255)) {
          PubackExpect e;
          e.step = step.id;
          e.reason_code = static_cast<uint8_t>(*c);
          inline_expects.push_back(Expectation{Pos(*v), "", "", std::nullopt, e});
        }
      }
      step.args = std::move(s);
      return true;
    }
    if (kind == "rest") return ReadRestStep(value, kind_node, step, mods, inline_expects);
    if (kind == "wait") {
      WaitStep s;
      if (value.IsScalar()) {
        if (auto d = Duration(value, "wait")) s.duration_ns = *d;
      } else {
        if (!need_map({"duration"})) return false;
        if (auto v = map->Required(*this, "duration")) {
          if (auto d = Duration(*v, "wait")) s.duration_ns = *d;
        }
      }
      step.args = s;
      return true;
    }
    if (kind == "barrier") {
      BarrierStep s;
      if (!no_args()) {
        if (!need_map({"client", "quiesce"})) return false;
        if (auto v = map->Get("client")) s.clients = Ref(*v, RefOptions{.allow_all = true});
        if (auto v = map->Get("quiesce")) {
          if (auto b = Bool(*v, "quiesce")) s.quiesce = *b;
        }
      }
      step.args = std::move(s);
      return true;
    }
    if (kind == "parallel" || kind == "repeat") {
      Node children;
      if (kind == "parallel" && value.IsSequence()) {
        children = value;
      } else {
        Keys keys = {"steps"};
        if (kind == "repeat") keys.insert(keys.end(), {"count", "rate", "duration", "index"});
        if (!need_map(keys)) return false;
        if (auto v = map->Required(*this, "steps")) children = *v;
      }
      bool pushed_var = false;
      if (kind == "repeat") {
        RepeatStep r;
        const Map& m = *map;
        if (auto v = m.Get("count")) r.count = Uint(*v, "count", 1, 1000000000);
        if (auto v = m.Get("rate")) {
          if (auto s = Str(*v, "rate")) {
            auto rate = ParseRate(*s);
            if (rate.ok()) {
              r.rate = *rate;
            } else {
              Error(*v, rate.error().message);
            }
          }
        }
        if (auto v = m.Get("duration")) r.duration_ns = PositiveDuration(*v, "duration");
        if (!m.Has("count") && !m.Has("duration")) Error(m.node(), "repeat needs 'count' or 'duration'");
        if (auto v = m.Get("index")) {
          if (auto s = Str(*v, "index")) {
            if (IsIdentifier(*s, false)) {
              r.index_var = *s;
            } else {
              Error(*v, "index must be a name like i, got " + Q(*s));
            }
          }
        }
        index_vars_.push_back(r.index_var);
        pushed_var = true;
        step.args = r;
      } else {
        step.args = ParallelStep{};
      }
      // Children see the block's case id (it is validated again when the block finishes).
      std::string block_case;
      if (mods.case_id && mods.case_id->IsScalar() && IsValidCaseId(mods.case_id->Scalar())) {
        block_case = mods.case_id->Scalar();
      }
      block_cases_.push_back(block_case);
      if (children.IsDefined() && !children.IsNull()) {
        if (!children.IsSequence() || children.size() == 0) {
          Error(children, "expected a non-empty list of steps, got " + Describe(children));
        } else {
          for (const Node& child : children) {
            if (auto cid = ReadStep(child, step.id)) step.children.push_back(*cid);
          }
        }
      }
      block_cases_.pop_back();
      if (pushed_var) index_vars_.pop_back();
      return true;
    }
    if (kind == "partition" || kind == "heal" || kind == "delay") {
      std::optional<ClientRef> ref;
      bool all = false, upstream = false;
      Keys keys = {"client"};
      if (kind == "partition") keys.push_back("direction");
      if (kind == "delay") keys.insert(keys.end(), kLinkKeys.begin(), kLinkKeys.end());
      std::optional<Node> client_node;
      if (no_args()) {
        if (kind != "heal") {
          Error(kind_node, what + " needs a client, 'all' or 'upstream'");
          return false;
        }
        all = true;
      } else if (value.IsScalar() || value.IsSequence()) {
        if (kind == "delay") {
          Error(value, "delay needs a mapping (client and latency/bandwidth/loss/receive_window)");
          return false;
        }
        client_node = value;
      } else {
        if (!need_map(keys)) return false;
        client_node = map->Get("client");
        if (!client_node) {
          if (kind == "partition") {
            map->Required(*this, "client");
            return false;
          }
          all = true;
        }
      }
      if (client_node) {
        if (client_node->IsScalar() && client_node->Scalar() == "upstream") {
          upstream = true;
        } else if (client_node->IsScalar() && client_node->Scalar() == "all") {
          all = true;
        } else {
          ref = Ref(*client_node, RefOptions{});
          if (!ref) return false;
        }
      }
      if (kind == "partition") {
        PartitionStep s;
        s.clients = ref;
        s.all = all;
        s.upstream = upstream;
        if (map) {
          if (auto v = map->Get("direction")) {
            if (auto d = Enum(*v, "direction", kDirections)) s.direction = *d;
          }
        }
        step.args = std::move(s);
      } else if (kind == "heal") {
        step.args = HealStep{ref, all, upstream};
      } else {
        DelayStep s;
        s.clients = ref;
        s.all = all;
        s.upstream = upstream;
        if (auto link = Link(*map)) s.link = *link;
        if (s.link.empty()) Error(map->node(), "delay needs at least one of: latency, bandwidth, loss, receive_window");
        step.args = std::move(s);
      }
      return true;
    }
    if (kind == "set_clock_skew") {
      ClockSkewStep s;
      std::optional<Node> skew;
      if (value.IsScalar()) {
        skew = value;
      } else {
        if (!need_map({"client", "skew"})) return false;
        skew = map->Required(*this, "skew");
        if (auto v = map->Get("client")) {
          if (!(v->IsScalar() && v->Scalar() == "service")) {
            s.clients = Ref(*v, RefOptions{});
            if (!s.clients) return false;
          }
        }
      }
      if (!skew) return false;
      if (auto str = Str(*skew, "skew")) {
        auto d = ParseSignedDuration(*str);
        if (d.ok()) {
          s.skew_ns = *d;
        } else {
          Error(*skew, d.error().message);
        }
      }
      step.args = std::move(s);
      return true;
    }
    Error(kind_node, "unknown step " + Q(kind));  // unreachable: kind was checked
    return false;
  }

  void ReadSubscriptionOptions(const Map& m, MqttSubscription& sub) {
    if (auto v = m.Get("no_local")) {
      if (auto b = Bool(*v, "no_local")) sub.no_local = *b;
    }
    if (auto v = m.Get("retain_as_published")) {
      if (auto b = Bool(*v, "retain_as_published")) sub.retain_as_published = *b;
    }
    if (auto v = m.Get("retain_handling")) {
      if (auto n = Uint(*v, "retain_handling", 0, 2)) sub.retain_handling = static_cast<uint8_t>(*n);
    }
  }

  std::optional<std::vector<uint8_t>> ReasonCodes(const Node& n) {
    std::vector<uint8_t> out;
    if (n.IsScalar()) {
      if (auto c = Uint(n, "reason code", 0, 255)) {
        out.push_back(static_cast<uint8_t>(*c));
        return out;
      }
      return std::nullopt;
    }
    if (!n.IsSequence() || n.size() == 0) {
      Error(n, "expected a reason code or a list of reason codes, got " + Describe(n));
      return std::nullopt;
    }
    for (const Node& item : n) {
      if (auto c = Uint(item, "reason code", 0, 255)) out.push_back(static_cast<uint8_t>(*c));
    }
    return out;
  }

  std::optional<std::vector<int>> Statuses(const Node& n) {
    std::vector<int> out;
    std::vector<Node> items;
    if (n.IsSequence()) {
      for (const Node& item : n) items.push_back(item);
    } else {
      items.push_back(n);
    }
    for (const Node& item : items) {
      if (auto s = Uint(item, "HTTP status", 100, 599)) out.push_back(static_cast<int>(*s));
    }
    if (out.empty()) return std::nullopt;
    return out;
  }

  bool ReadRestStep(const Node& value, const Node& kind_node, Step& step, Modifiers& mods,
                    std::vector<Expectation>& inline_expects) {
    const Keys all = Concat({&kRestCommonKeys, &kRestParamKeys, &kStepModifiers});
    RestStep s;
    const RestOpInfo* info = nullptr;
    auto find_op = [&](const Node& n) -> const RestOpInfo* {
      auto name = Str(n, "rest operation");
      if (!name) return nullptr;
      for (const RestOpInfo& o : kRestOps) {
        if (o.name == *name) return &o;
      }
      Keys names;
      for (const RestOpInfo& o : kRestOps) names.push_back(o.name);
      std::string hint = Suggest(*name, names);
      if (hint.empty()) hint = " (operations: " + JoinKeys(names) + ")";
      Error(n, "unknown rest operation " + Q(*name) + hint);
      return nullptr;
    };
    if (value.IsScalar()) {
      // "- rest: health": an operation without parameters.
      info = find_op(value);
      if (!info) return false;
      if (!info->required.empty()) {
        Error(value, "rest operation " + Q(info->name) + " needs: " + JoinKeys(info->required));
        return false;
      }
      s.op = info->op;
      Map empty(*this, YAML::Node(YAML::NodeType::Map), "rest", all);
      auto client = RestClient(empty);
      if (!client) return false;
      s.client = *client;
      step.args = std::move(s);
      return true;
    }
    if (!value.IsMap()) {
      Error(value.IsDefined() && !value.IsNull() ? value : kind_node,
            "step 'rest' needs a mapping with 'op' and the operation's parameters");
      return false;
    }
    Map m(*this, value, "step 'rest'", all);
    if (!m.ok()) return false;
    TakeModifiers(m, mods);
    auto op_node = m.Required(*this, "op");
    if (!op_node) return false;
    info = find_op(*op_node);
    if (!info) return false;
    s.op = info->op;
    // Parameters must belong to this operation.
    for (const std::string& key : m.PresentKeys()) {
      if (!Contains(kRestParamKeys, key)) continue;
      std::string canonical = key;
      if (key == "connection_id") canonical = "connection";
      if (key == "body_raw") canonical = "body";
      if (!Contains(info->required, canonical) && !Contains(info->optional, canonical)) {
        Error(*m.Key(key), "key " + Q(key) + " does not apply to rest operation " + Q(info->name));
      }
    }
    for (std::string_view req : info->required) {
      bool present = m.Has(req) || (req == "connection" && m.Has("connection_id")) || (req == "body" && m.Has("body_raw"));
      if (!present) Error(m.node(), "rest operation " + Q(info->name) + " needs " + Q(req));
    }
    auto client = RestClient(m);
    if (client) s.client = *client;
    if (auto v = m.Get("group")) {
      if (auto g = TemplStr(*v, "group")) s.group = *g;
    }
    if (auto v = m.Get("groups")) {
      if (auto l = StrList(*v, "groups")) s.groups = *l;
    }
    if (auto v = m.Get("user")) {
      if (auto u = TemplStr(*v, "user")) s.user = *u;
    }
    if (m.Has("connection") && m.Has("connection_id")) {
      Error(*m.Key("connection_id"), "give either 'connection' or 'connection_id', not both");
    } else if (auto v = m.Get("connection")) {
      if (auto ref = Ref(*v, RefOptions{.single = true})) s.connection = ConnectionTarget{*ref, std::nullopt};
    } else if (auto v2 = m.Get("connection_id")) {
      if (auto id = Str(*v2, "connection_id")) s.connection = ConnectionTarget{std::nullopt, *id};
    }
    if (auto v = m.Get("excluded")) s.excluded = Ref(*v, RefOptions{});
    if (auto v = m.Get("excluded_ids")) {
      if (auto l = StrList(*v, "excluded_ids")) s.excluded_ids = *l;
    }
    if (auto v = m.Get("filter")) s.filter = TemplStr(*v, "filter");
    if (auto v = m.Get("message_ttl_seconds")) {
      if (auto t = Uint(*v, "message_ttl_seconds", 0, 1000000)) s.message_ttl_seconds = static_cast<uint32_t>(*t);
    }
    if (auto v = m.Get("reason")) s.reason = TemplStr(*v, "reason");
    if (auto v = m.Get("permission")) s.permission = Enum(*v, "permission", kPermissions);
    if (auto v = m.Get("target_name")) s.target_name = TemplStr(*v, "target_name");
    if (auto v = m.Get("max_page_size")) {
      if (auto t = Uint(*v, "max_page_size", 0, 1000000)) s.max_page_size = static_cast<uint32_t>(*t);
    }
    if (auto v = m.Get("top")) {
      if (auto t = Uint(*v, "top", 0, 0xFFFFFFFFull)) s.top = static_cast<uint32_t>(*t);
    }
    if (auto v = m.Get("continuation_token")) s.continuation_token = Str(*v, "continuation_token");
    if (auto v = m.Get("all_pages")) {
      if (auto b = Bool(*v, "all_pages")) s.all_pages = *b;
    }
    if (auto v = m.Get("roles")) {
      if (auto l = StrList(*v, "roles")) s.roles = *l;
    }
    if (auto v = m.Get("minutes_to_expire")) {
      if (auto t = Uint(*v, "minutes_to_expire", 0, 1000000000)) s.minutes_to_expire = static_cast<uint32_t>(*t);
    }
    if (auto v = m.Get("client_type")) s.client_type = Str(*v, "client_type");
    if (m.Has("body") || m.Has("body_raw")) {
      s.has_body = Body(m, s.body, s.content_type, "application/json");
    } else if (auto v = m.Get("content_type")) {
      if (auto ct = Str(*v, "content_type")) s.content_type = *ct;
    }
    if (auto v = m.Get("method")) {
      if (auto meth = Str(*v, "method")) {
        static const Keys kMethods = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
        if (Contains(kMethods, *meth)) {
          s.method = *meth;
        } else {
          Error(*v, "unknown HTTP method " + Q(*meth) + Suggest(*meth, kMethods));
        }
      }
    }
    if (auto v = m.Get("path")) {
      if (auto p = TemplStr(*v, "path")) {
        if (p->empty() || (*p)[0] != '/') {
          Error(*v, "path must start with '/', got " + Q(*p));
        } else {
          s.path = *p;
        }
      }
    }
    if (auto v = m.Get("query")) {
      if (v->IsMap()) {
        for (auto it = v->begin(); it != v->end(); ++it) {
          auto k = Str(it->first, "query name");
          if (!k) continue;
          if (auto vals = StrList(it->second, "query value")) {
            for (const std::string& val : *vals) s.query_params.emplace_back(*k, val);
          }
        }
      } else {
        Error(*v, "expected a mapping of query names to values, got " + Describe(*v));
      }
    }
    if (auto v = m.Get("headers")) {
      if (auto h = StrPairs(*v, "headers")) s.request_headers = *h;
    }
    if (auto v = m.Get("api_version")) {
      if (v->IsScalar() && v->Scalar() == "none") {
        s.omit_api_version = true;
      } else {
        s.api_version = NonEmptyStr(*v, "api_version");
      }
    } else if (client) {
      auto it = rest_api_versions_.find(sc_.members[*client].client);
      if (it != rest_api_versions_.end()) s.api_version = it->second;
    }
    if (auto v = m.Get("auth")) s.auth = Token(*v, true);
    if (m.Has("expect_status") || m.Has("expect_body") || m.Has("expect_error_code")) {
      HttpStatusExpect e;
      e.step = step.id;
      if (auto v = m.Get("expect_status")) {
        if (auto st = Statuses(*v)) e.statuses = *st;
      } else {
        e.statuses = {RestOpSuccessStatus(s.op)};
      }
      if (auto v = m.Get("expect_body")) e.body = YamlToJson(*v);
      if (auto v = m.Get("expect_error_code")) e.error_code = Str(*v, "expect_error_code");
      std::optional<Node> at = m.Key("expect_status");
      if (!at) at = m.Key("expect_body");
      if (!at) at = m.Key("expect_error_code");
      inline_expects.push_back(Expectation{Pos(*at), "", "", std::nullopt, e});
    }
    if (!client) return false;
    step.args = std::move(s);
    return true;
  }

  // ---- expectations -------------------------------------------------------------------------

  void ReadExpectations(const Node& n) {
    if (n.IsNull()) return;
    if (!n.IsSequence()) {
      Error(n, "expected a list of expectations, got " + Describe(n));
      return;
    }
    for (const Node& item : n) ReadExpectation(item);
  }

  bool ReadWindow(const Map& m, TimeWindow& w) {
    if (auto v = m.Get("after")) w.after_step = StepLabel(*v);
    if (auto v = m.Get("until")) {
      if (!(v->IsScalar() && v->Scalar() == "end")) w.until_step = StepLabel(*v);
    }
    if (auto v = m.Get("within")) w.within_ns = PositiveDuration(*v, "within");
    return true;
  }

  std::optional<CountSpec> Count(const Node& n) {
    CountSpec c;
    if (n.IsScalar()) {
      if (auto v = Uint(n, "count", 0, UINT64_MAX)) {
        c.exactly = *v;
        return c;
      }
      return std::nullopt;
    }
    Map m(*this, n, "count", {"exactly", "at_least", "at_most"});
    if (!m.ok()) return std::nullopt;
    if (auto v = m.Get("exactly")) c.exactly = Uint(*v, "exactly", 0, UINT64_MAX);
    if (auto v = m.Get("at_least")) c.at_least = Uint(*v, "at_least", 0, UINT64_MAX);
    if (auto v = m.Get("at_most")) c.at_most = Uint(*v, "at_most", 0, UINT64_MAX);
    if (c.empty()) Error(n, "count needs exactly, at_least or at_most");
    if (c.exactly && (c.at_least || c.at_most)) Error(n, "count: give 'exactly' alone, or at_least/at_most");
    if (c.at_least && c.at_most && *c.at_least > *c.at_most) Error(n, "count: at_least is greater than at_most");
    return c;
  }

  std::optional<NullableString> NullableStr(const Node& n, std::string_view what) {
    if (n.IsNull()) return NullableString{true, ""};
    auto s = Str(n, what);
    if (!s) return std::nullopt;
    return NullableString{false, *s};
  }

  // Reads the matcher keys present in `m`, checking that each applies to `clients`' kinds.
  MessageMatcher ReadMatcher(const Map& m, const std::optional<ClientRef>& clients) {
    MessageMatcher x;
    x.pos = Pos(m.node());
    unsigned kinds_present = 0;
    std::vector<ClientKind> kinds;
    if (clients) {
      for (uint32_t mem : clients->members) {
        uint32_t ci = sc_.members[mem].client;
        if (broken_clients_.count(ci)) continue;
        ClientKind k = sc_.clients[ci].kind;
        if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
        kinds_present |= ClassOf(k);
      }
    }
    for (const MatcherKey& mk : kMatcherKeys) {
      auto key = m.Key(mk.name);
      if (!key) continue;
      for (ClientKind k : kinds) {
        if ((ClassOf(k) & mk.classes) == 0) {
          Error(*key, "matcher key " + Q(mk.name) + " does not apply to " + std::string(ClientKindName(k)) + " clients");
          break;
        }
      }
    }
    (void)kinds_present;
    if (auto v = m.Get("type")) x.type = NonEmptyStr(*v, "type");
    if (auto v = m.Get("from")) {
      if (auto s = Str(*v, "from")) {
        if (*s == "group" || *s == "server") {
          x.from = *s;
        } else {
          Error(*v, "unknown message source " + Q(*s) + Suggest(*s, {"group", "server"}) +
                        (SuggestClosest(*s, {"group", "server"}).empty() ? " (expected group or server)" : ""));
        }
      }
    }
    if (auto v = m.Get("group")) x.group = Str(*v, "group");
    if (auto v = m.Get("data_type")) x.data_type = Enum(*v, "data type", kDataTypes);
    if (auto v = m.Get("data")) {
      if (x.data_type && (*x.data_type == DataType::kText) && v->IsScalar()) {
        x.data = v->Scalar();  // text data is a string even if it looks like a number
      } else if (x.data_type && (*x.data_type == DataType::kBinary || *x.data_type == DataType::kProtobuf)) {
        if (Base64Bytes(*v, "binary data")) x.data = v->Scalar();
      } else {
        x.data = YamlToJson(*v);
      }
    }
    if (auto v = m.Get("data_contains")) x.data_contains = Str(*v, "data_contains");
    if (auto v = m.Get("user_id")) x.user_id = NullableStr(*v, "user_id");
    if (auto v = m.Get("from_user_id")) x.from_user_id = NullableStr(*v, "from_user_id");
    if (auto v = m.Get("event")) x.event = Str(*v, "event");
    if (auto v = m.Get("connection_id")) x.connection_id = Ref(*v, RefOptions{.single = true});
    if (auto v = m.Get("message")) x.message = Str(*v, "message");
    if (auto v = m.Get("ack_id")) x.ack_id = Uint(*v, "ack_id", 0, UINT64_MAX);
    if (auto v = m.Get("success")) x.success = Bool(*v, "success");
    if (auto v = m.Get("error")) x.error = Str(*v, "error");
    if (auto v = m.Get("sequence_id")) {
      if (v->IsScalar() && (v->Scalar() == "true" || v->Scalar() == "false")) {
        x.sequence_id = SequenceIdMatch{v->Scalar() == "true", std::nullopt};
      } else if (auto id = Uint(*v, "sequence_id", 1, UINT64_MAX)) {
        x.sequence_id = SequenceIdMatch{true, *id};
      }
    }
    if (auto v = m.Get("reconnection_token")) x.reconnection_token = Bool(*v, "reconnection_token");
    if (auto v = m.Get("frame")) x.frame = Enum(*v, "frame type", kFrames);
    if (auto v = m.Get("text")) x.text = Str(*v, "text");
    if (auto v = m.Get("binary")) x.binary = Base64Bytes(*v, "binary");
    if (auto v = m.Get("topic")) x.topic = Str(*v, "topic");
    if (auto v = m.Get("qos")) {
      if (auto q = Uint(*v, "qos", 0, 2)) x.qos = static_cast<uint8_t>(*q);
    }
    if (auto v = m.Get("retain")) x.retain = Bool(*v, "retain");
    if (auto v = m.Get("payload")) x.payload = Str(*v, "payload");
    if (auto v = m.Get("content_type")) x.content_type = Str(*v, "content_type");
    if (auto v = m.Get("message_expiry")) x.message_expiry_s = Seconds(*v, "message_expiry", false);
    if (auto v = m.Get("response_topic")) x.response_topic = Str(*v, "response_topic");
    if (auto v = m.Get("correlation_data")) x.correlation_data = Str(*v, "correlation_data");
    if (auto v = m.Get("user_properties")) {
      if (auto up = UserProperties(*v)) x.user_properties = *up;
    }
    if (auto v = m.Get("subscription_identifier")) {
      if (auto id = Uint(*v, "subscription_identifier", 1, 268435455)) x.subscription_identifier = static_cast<uint32_t>(*id);
    }
    if (auto v = m.Get("payload_format_indicator")) {
      if (auto p = Uint(*v, "payload_format_indicator", 0, 1)) x.payload_format_indicator = static_cast<uint8_t>(*p);
    }
    return x;
  }

  std::optional<ConnackExpect> ReadConnack(const Node& n, const ClientRef& clients) {
    ConnackExpect c;
    c.clients = clients;
    if (n.IsScalar()) {
      if (auto code = Uint(n, "connack reason code", 0, 255)) {
        c.reason_code = static_cast<uint8_t>(*code);
        return c;
      }
      return std::nullopt;
    }
    Map m(*this, n, "connack", {"client", "reason_code", "session_present", "assigned_client_id", "user_properties"});
    if (!m.ok()) return std::nullopt;
    ReadConnackFields(m, c);
    return c;
  }
  void ReadConnackFields(const Map& m, ConnackExpect& c) {
    if (auto v = m.Get("reason_code")) {
      if (auto code = Uint(*v, "reason_code", 0, 255)) c.reason_code = static_cast<uint8_t>(*code);
    }
    if (auto v = m.Get("session_present")) c.session_present = Bool(*v, "session_present");
    if (auto v = m.Get("assigned_client_id")) c.assigned_client_id = Str(*v, "assigned_client_id");
    if (auto v = m.Get("user_properties")) {
      if (auto up = UserProperties(*v)) c.user_properties = *up;
    }
  }

  void ReadExpectation(const Node& item) {
    if (!item.IsMap()) {
      Error(item, "expected an expectation (a mapping like '- receive: {...}'), got " + Describe(item));
      return;
    }
    std::vector<std::pair<std::string, Node>> kinds;
    Node value;
    std::optional<Node> as, case_id;
    for (auto it = item.begin(); it != item.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (key == "as") {
        as = it->second;
      } else if (key == "case") {
        case_id = it->second;
      } else if (Contains(kExpectKinds, key)) {
        kinds.emplace_back(key, it->first);
        if (kinds.size() == 1) value = it->second;
      } else {
        Error(it->first, "unknown expectation " + Q(key) + Suggest(key, Concat({&kExpectKinds, &kExpectModifiers})));
        return;
      }
    }
    if (kinds.empty()) {
      Error(item, "an expectation needs a kind (one of: " + JoinKeys(kExpectKinds) + ")");
      return;
    }
    if (kinds.size() > 1) {
      Error(kinds[1].second, "an expectation has exactly one kind; found " + Q(kinds[0].first) + " and " + Q(kinds[1].first));
      return;
    }
    const std::string kind = kinds[0].first;
    const Node kind_node = kinds[0].second;
    const std::string what = "expectation " + Q(kind);
    Expectation e;
    e.pos = Pos(kind_node);

    Keys keys;
    if (kind == "receive" || kind == "never_receive") {
      keys = MatcherKeyNames();
      keys.insert(keys.begin(), "client");
      if (kind == "receive") keys.insert(keys.end(), {"in_order", "count", "total"});
      keys.insert(keys.end(), kWindowKeys.begin(), kWindowKeys.end());
    } else if (kind == "ack") {
      keys = {"step", "client", "ack_id", "success", "error", "message", "message_contains", "after", "within"};
    } else if (kind == "closed") {
      keys = {"client", "code", "reason_contains", "reason_code", "http_status", "by", "after", "until", "within"};
    } else if (kind == "connected") {
      keys = {"client", "user_id", "reconnection_token", "subprotocol", "connection_id", "after", "until", "within"};
    } else if (kind == "http_status") {
      keys = {"step", "status", "body", "error_code"};
    } else if (kind == "connack") {
      keys = {"client", "reason_code", "session_present", "assigned_client_id", "user_properties"};
    } else if (kind == "suback") {
      keys = {"step", "reason_codes"};
    } else if (kind == "puback") {
      keys = {"step", "reason_code"};
    } else if (kind == "upstream_event") {
      keys = {"event", "client", "count", "body", "body_text", "headers", "after", "until", "within"};
    }
    keys.insert(keys.end(), kExpectModifiers.begin(), kExpectModifiers.end());
    if (!value.IsDefined() || value.IsNull()) {
      Error(kind_node, what + " needs a mapping (keys: " + JoinKeys(keys) + ")");
      return;
    }
    Map m(*this, value, what, keys);
    if (!m.ok()) return;
    auto take_modifier = [&](std::string_view key, std::optional<Node>& slot) {
      if (auto v = m.Get(key)) {
        if (slot) {
          Error(*m.Key(key), Q(key) + " is given both outside and inside the expectation");
        } else {
          slot = *v;
        }
      }
    };
    take_modifier("as", as);
    take_modifier("case", case_id);
    bool ok = true;

    if (kind == "receive" || kind == "never_receive") {
      auto ref = ClientKey(m, {});
      if (!ref) return;
      TimeWindow w;
      ReadWindow(m, w);
      if (kind == "receive") {
        ReceiveExpect r;
        r.clients = *ref;
        r.window = w;
        if (auto v = m.Get("in_order")) {
          for (const MatcherKey& mk : kMatcherKeys) {
            if (auto k = m.Key(mk.name)) Error(*k, "give matcher keys inside in_order items, not beside in_order");
          }
          if (m.Has("count")) Error(*m.Key("count"), "count does not combine with in_order");
          if (!v->IsSequence() || v->size() == 0) {
            Error(*v, "expected a non-empty list of message matchers, got " + Describe(*v));
          } else {
            for (const Node& mi : *v) {
              Map mm(*this, mi, "in_order item", MatcherKeyNames());
              if (mm.ok()) r.in_order.push_back(ReadMatcher(mm, ref));
            }
          }
        } else {
          r.match = ReadMatcher(m, ref);
        }
        if (auto v = m.Get("count")) {
          if (auto c = Count(*v)) r.count = *c;
        }
        if (r.count.empty() && r.in_order.empty()) r.count.at_least = 1;
        if (auto v = m.Get("total")) {
          if (auto c = Count(*v)) r.total = *c;
        }
        e.args = std::move(r);
      } else {
        NeverReceiveExpect r;
        r.clients = *ref;
        r.window = w;
        r.match = ReadMatcher(m, ref);
        e.args = std::move(r);
      }
    } else if (kind == "ack") {
      AckExpect a;
      auto step_node = m.Get("step");
      auto client_node = m.Get("client");
      if (step_node && client_node) {
        Error(*m.Key("client"), "give either 'step' or 'client' with 'ack_id', not both");
        ok = false;
      } else if (step_node) {
        a.step = StepLabel(*step_node);
        if (a.step) {
          const Step& s = sc_.steps[*a.step];
          const AckSpec* spec = AckOf(s);
          if (!spec) {
            Error(*step_node, "step " + Q(s.label) + " is a " + std::string(StepKindName(s.kind())) + " step; acks come from join, leave, send_to_group and event");
            ok = false;
          } else if (spec->mode == AckSpec::Mode::kNone) {
            Error(*step_node, "step " + Q(s.label) + " sends no ackId (add 'ack: auto' to it)");
            ok = false;
          }
        } else {
          ok = false;
        }
        if (m.Has("ack_id")) Error(*m.Key("ack_id"), "'ack_id' goes with 'client', not with 'step'");
      } else if (client_node) {
        a.client = Ref(*client_node, RefOptions{.single = true});
        if (a.client) CheckKinds(*a.client, *client_node, {ClientKind::kJson, ClientKind::kReliable}, what);
        if (auto v = m.Required(*this, "ack_id")) a.ack_id = Uint(*v, "ack_id", 0, UINT64_MAX);
        ok = a.client && a.ack_id;
      } else {
        Error(m.node(), "an ack expectation needs 'step' (a label) or 'client' with 'ack_id'");
        ok = false;
      }
      ReadAckFields(m, a);
      ReadWindow(m, a.window);
      e.args = std::move(a);
    } else if (kind == "closed") {
      ClosedExpect c;
      auto ref = ClientKey(m, {});
      if (!ref) return;
      c.clients = *ref;
      if (auto v = m.Get("code")) {
        if (auto code = Uint(*v, "close code", 1000, 4999)) c.code = static_cast<uint16_t>(*code);
      }
      if (auto v = m.Get("reason_contains")) c.reason_contains = Str(*v, "reason_contains");
      if (auto v = m.Get("reason_code")) {
        CheckKinds(c.clients, *v, {ClientKind::kMqtt311, ClientKind::kMqtt5}, "reason_code");
        if (auto code = Uint(*v, "reason_code", 0, 255)) c.mqtt_reason_code = static_cast<uint8_t>(*code);
      }
      if (auto v = m.Get("http_status")) {
        if (auto st = Uint(*v, "http_status", 100, 599)) c.http_status = static_cast<int>(*st);
      }
      if (auto v = m.Get("by")) {
        if (auto s = Str(*v, "by")) {
          if (*s == "service" || *s == "client") {
            c.by_service = *s == "service";
          } else {
            Error(*v, "expected 'service' or 'client' for by, got " + Q(*s));
          }
        }
      }
      ReadWindow(m, c.window);
      e.args = std::move(c);
    } else if (kind == "connected") {
      ConnectedExpect c;
      auto ref = ClientKey(m, {});
      if (!ref) return;
      c.clients = *ref;
      if (auto v = m.Get("user_id")) c.user_id = NullableStr(*v, "user_id");
      if (auto v = m.Get("reconnection_token")) {
        c.reconnection_token = Bool(*v, "reconnection_token");
        CheckKinds(c.clients, *v, {ClientKind::kJson, ClientKind::kReliable}, "reconnection_token");
      }
      if (auto v = m.Get("subprotocol")) {
        if (v->IsNull()) {
          c.subprotocol = "";
        } else {
          c.subprotocol = Str(*v, "subprotocol");
        }
      }
      if (auto v = m.Get("connection_id")) c.connection_id = Str(*v, "connection_id");
      ReadWindow(m, c.window);
      e.args = std::move(c);
    } else if (kind == "http_status") {
      HttpStatusExpect h;
      if (auto v = m.Required(*this, "step")) {
        auto id = StepLabel(*v);
        if (id && sc_.steps[*id].kind() != StepKind::kRest) {
          Error(*v, "step " + Q(sc_.steps[*id].label) + " is not a rest step");
          ok = false;
        }
        if (id) h.step = *id;
        ok = ok && id;
      } else {
        ok = false;
      }
      if (auto v = m.Required(*this, "status")) {
        if (auto st = Statuses(*v)) h.statuses = *st;
      }
      if (auto v = m.Get("body")) h.body = YamlToJson(*v);
      if (auto v = m.Get("error_code")) h.error_code = Str(*v, "error_code");
      e.args = std::move(h);
    } else if (kind == "connack") {
      ConnackExpect c;
      auto ref = ClientKey(m, {});
      if (!ref) return;
      c.clients = *ref;
      CheckKinds(c.clients, *m.Get("client"), {ClientKind::kMqtt311, ClientKind::kMqtt5}, what);
      ReadConnackFields(m, c);
      e.args = std::move(c);
    } else if (kind == "suback" || kind == "puback") {
      uint32_t step_id = 0;
      if (auto v = m.Required(*this, "step")) {
        auto id = StepLabel(*v);
        StepKind want = kind == "suback" ? StepKind::kSubscribe : StepKind::kPublish;
        if (id && sc_.steps[*id].kind() != want) {
          Error(*v, "step " + Q(sc_.steps[*id].label) + " is not a " + std::string(StepKindName(want)) + " step");
          ok = false;
        }
        if (id) step_id = *id;
        ok = ok && id;
      } else {
        ok = false;
      }
      if (kind == "suback") {
        SubackExpect s;
        s.step = step_id;
        if (auto v = m.Required(*this, "reason_codes")) {
          if (auto codes = ReasonCodes(*v)) s.reason_codes = *codes;
        }
        e.args = std::move(s);
      } else {
        PubackExpect p;
        p.step = step_id;
        if (auto v = m.Required(*this, "reason_code")) {
          if (auto c = Uint(*v, "reason_code", 0, 255)) p.reason_code = static_cast<uint8_t>(*c);
        }
        e.args = std::move(p);
      }
    } else if (kind == "upstream_event") {
      UpstreamEventExpect u;
      if (auto v = m.Required(*this, "event")) {
        if (auto s = NonEmptyStr(*v, "event")) u.event = *s;
      }
      if (auto v = m.Get("client")) u.clients = Ref(*v, RefOptions{});
      if (auto v = m.Get("count")) {
        if (auto c = Count(*v)) u.count = *c;
      }
      if (u.count.empty()) u.count.at_least = 1;
      if (auto v = m.Get("body")) u.body = YamlToJson(*v);
      if (auto v = m.Get("body_text")) u.body_text = Str(*v, "body_text");
      if (auto v = m.Get("headers")) {
        if (auto h = StrPairs(*v, "headers")) u.headers = *h;
      }
      ReadWindow(m, u.window);
      if (!sc_.upstream.present) {
        Error(kind_node, "upstream_event needs an 'upstream' section (the scripted application server)");
      }
      e.args = std::move(u);
    }
    (void)ok;
    if (as) {
      if (auto s = Str(*as, "as")) {
        if (RegisterLabel(*as, *s)) e.label = *s;
      }
    }
    if (case_id) {
      if (auto c = CaseId(*case_id)) e.case_id = *c;
    }
    sc_.expectations.push_back(std::move(e));
  }

  void ReadInvariants(const Node& n) {
    if (n.IsNull()) return;
    if (!n.IsSequence()) {
      Error(n, "expected a list of invariants, got " + Describe(n));
      return;
    }
    for (const Node& item : n) {
      Invariant inv;
      inv.pos = Pos(item);
      if (item.IsScalar()) {
        if (auto k = Enum(item, "invariant", kInvariants)) {
          inv.kind = *k;
          sc_.invariants.push_back(std::move(inv));
        }
        continue;
      }
      if (!item.IsMap() || item.size() != 1) {
        Error(item, "expected an invariant name or '- name: {client, case}', got " + Describe(item));
        continue;
      }
      auto it = item.begin();
      auto k = Enum(it->first, "invariant", kInvariants);
      if (!k) continue;
      inv.kind = *k;
      inv.pos = Pos(it->first);
      if (!it->second.IsNull()) {
        Map m(*this, it->second, "invariant " + Q(it->first.Scalar()), {"client", "case"});
        if (m.ok()) {
          if (auto v = m.Get("client")) inv.clients = Ref(*v, RefOptions{.allow_all = true});
          if (auto v = m.Get("case")) {
            if (auto c = CaseId(*v)) inv.case_id = *c;
          }
        }
      }
      sc_.invariants.push_back(std::move(inv));
    }
  }

  void ReadThresholds(const Node& n) {
    if (n.IsNull()) return;
    if (!n.IsSequence()) {
      Error(n, "expected a list of thresholds like \"p99 < 20ms\", got " + Describe(n));
      return;
    }
    for (const Node& item : n) {
      Threshold t;
      t.pos = Pos(item);
      Node expr = item;
      if (item.IsMap()) {
        Map m(*this, item, "threshold", {"check", "case", "client", "step"});
        if (!m.ok()) continue;
        auto c = m.Required(*this, "check");
        if (!c) continue;
        expr = *c;
        if (auto v = m.Get("case")) {
          if (auto cid = CaseId(*v)) t.case_id = *cid;
        }
        if (auto v = m.Get("client")) t.clients = Ref(*v, RefOptions{.allow_all = true});
        if (auto v = m.Get("step")) t.step = StepLabel(*v);
      }
      auto s = Str(expr, "threshold");
      if (!s) continue;
      reports::ThresholdSyntaxError detail;
      auto parsed = reports::ParseThreshold(*s, &detail);
      if (!parsed.ok()) {
        // Point into the expression when it sits on one line (quoted scalars start one
        // column before their text).
        SourcePos pos = Pos(expr);
        if (s->find('\n') == std::string::npos && detail.column > 0) {
          pos.column += static_cast<int>(detail.column) - 1 + (IsPlainScalar(expr) ? 0 : 1);
        }
        Report(pos, "bad threshold " + Q(*s) + ": " + detail.message);
        continue;
      }
      t.expression = *s;
      t.parsed = *parsed;
      sc_.thresholds.push_back(std::move(t));
    }
  }

  std::string file_;
  Scenario sc_;
  std::vector<Diagnostic> diags_;
  std::set<uint32_t> broken_clients_;
  std::set<uint32_t> client_network_set_;
  std::map<uint32_t, std::string> rest_api_versions_;
  std::map<std::string, SourcePos> label_pos_;
  std::vector<std::string> index_vars_;
  std::vector<std::string> block_cases_;  // case ids of the enclosing parallel/repeat blocks
};

}  // namespace

std::string Diagnostic::ToString() const { return FormatPos(pos) + ": " + message; }

std::string FormatDiagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += d.ToString() + "\n";
  return out;
}

std::string SuggestClosest(std::string_view word, const std::vector<std::string_view>& candidates) {
  // The same word in another spelling convention ("sendToAll" for "send_to_all").
  auto normalize = [](std::string_view w) {
    std::string out;
    for (char c : w) {
      if (c != '_' && c != '-') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
  };
  const std::string folded = normalize(word);
  for (std::string_view c : candidates) {
    if (c != word && normalize(c) == folded) return std::string(c);
  }
  // A plausible typo: one edit for short words, two for longer ones, never most of the word.
  const size_t limit = word.size() <= 4 ? 1 : 2;
  size_t best = limit + 1;
  std::string_view best_word;
  for (std::string_view c : candidates) {
    size_t d = OsaDistance(word, c);
    if (d < best && d < std::max(word.size(), c.size())) {
      best = d;
      best_word = c;
    }
  }
  return best <= limit ? std::string(best_word) : "";
}

LoadResult LoadScenarioText(std::string_view yaml_text, const std::string& file_name) {
  Loader loader(file_name);
  return loader.Load(yaml_text);
}

LoadResult LoadScenarioPath(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.diagnostics.push_back(Diagnostic{SourcePos{path, 0, 0}, "cannot read scenario file"});
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return LoadScenarioText(text.str(), path);
}

Result<Scenario> LoadScenarioFile(const std::string& path) {
  LoadResult r = LoadScenarioPath(path);
  if (r.ok()) return std::move(*r.scenario);
  std::string message = FormatDiagnostics(r.diagnostics);
  if (!message.empty() && message.back() == '\n') message.pop_back();
  return MakeError("scenario", message);
}

}  // namespace wpsim::conformance
