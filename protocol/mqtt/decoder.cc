#include "protocol/mqtt/decoder.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/shared_bytes.h"
#include "protocol/mqtt/topic.h"

namespace wpsim::protocol::mqtt {

std::string_view ReactionName(Reaction reaction) {
  switch (reaction) {
    case Reaction::kCloseConnection: return "close connection";
    case Reaction::kSendConnackAndClose: return "send CONNACK, then close";
    case Reaction::kSendDisconnectAndClose: return "send DISCONNECT, then close";
  }
  return "unknown";
}

Error DecodeError::ToError() const {
  std::string code;
  switch (reason_code) {
    case ReasonCode::kProtocolError: code = "mqtt.protocol_error"; break;
    case ReasonCode::kUnsupportedProtocolVersion: code = "mqtt.unsupported_protocol_version"; break;
    case ReasonCode::kClientIdentifierNotValid: code = "mqtt.client_identifier_not_valid"; break;
    case ReasonCode::kPacketTooLarge: code = "mqtt.packet_too_large"; break;
    default: code = "mqtt.malformed_packet"; break;
  }
  std::string text = "[";
  text.append(statement);
  text += "] ";
  text += message;
  return MakeError(std::move(code), std::move(text));
}

namespace {

enum class Kind : uint8_t {
  kMalformed,
  kProtocol,
  kUnsupportedVersion,
  kIdentifierRejected,
  kTooLarge,
};

ReasonCode ReasonFor(Kind kind) {
  switch (kind) {
    case Kind::kMalformed: return ReasonCode::kMalformedPacket;
    case Kind::kProtocol: return ReasonCode::kProtocolError;
    case Kind::kUnsupportedVersion: return ReasonCode::kUnsupportedProtocolVersion;
    case Kind::kIdentifierRejected: return ReasonCode::kClientIdentifierNotValid;
    case Kind::kTooLarge: return ReasonCode::kPacketTooLarge;
  }
  return ReasonCode::kMalformedPacket;
}

std::string Hex2(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02X", v & 0xFF);
  return buf;
}

// A parse failure before the reaction is decided (that depends on the connection's state).
struct Failure {
  Kind kind = Kind::kMalformed;
  std::string_view statement;
  std::string message;
  // Set when the failure itself determines the version of the reply (unsupported level).
  ProtocolVersion version = ProtocolVersion::kUnknown;
  bool force_close = false;  // e.g. not an MQTT protocol name: do not answer at all
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : p_(b.data()), end_(b.data() + b.size()) {}
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  bool U8(uint8_t* v) {
    if (p_ == end_) return false;
    *v = *p_++;
    return true;
  }
  bool U16(uint16_t* v) {
    if (remaining() < 2) return false;
    *v = static_cast<uint16_t>((p_[0] << 8) | p_[1]);
    p_ += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    if (remaining() < 4) return false;
    *v = (static_cast<uint32_t>(p_[0]) << 24) | (static_cast<uint32_t>(p_[1]) << 16) |
         (static_cast<uint32_t>(p_[2]) << 8) | p_[3];
    p_ += 4;
    return true;
  }
  enum class VbiStatus : uint8_t { kOk, kTruncated, kTooLong, kNonMinimal };
  VbiStatus Vbi(uint32_t* v) {
    uint32_t value = 0;
    uint32_t multiplier = 1;
    for (int i = 0; i < 4; ++i) {
      if (p_ == end_) return VbiStatus::kTruncated;
      uint8_t b = *p_++;
      value += (b & 0x7F) * multiplier;
      if ((b & 0x80) == 0) {
        *v = value;
        // A final byte of zero after a continuation byte adds nothing: not minimal.
        return (i > 0 && b == 0) ? VbiStatus::kNonMinimal : VbiStatus::kOk;
      }
      multiplier *= 128;
    }
    return VbiStatus::kTooLong;
  }
  bool Bytes(size_t n, std::span<const uint8_t>* out) {
    if (remaining() < n) return false;
    *out = {p_, n};
    p_ += n;
    return true;
  }
  bool LengthPrefixed(std::span<const uint8_t>* out) {
    uint16_t n;
    const uint8_t* start = p_;
    if (!U16(&n) || !Bytes(n, out)) {
      p_ = start;
      return false;
    }
    return true;
  }
  std::span<const uint8_t> Rest() {
    std::span<const uint8_t> r{p_, remaining()};
    p_ = end_;
    return r;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

template <class T>
T& Reuse(Packet* out) {
  if (T* p = std::get_if<T>(out)) {
    *p = T{};
    return *p;
  }
  return out->emplace<T>();
}
// PUBLISH is the hot path: keep the topic, payload and vectors' capacity.
template <>
Publish& Reuse<Publish>(Packet* out) {
  if (Publish* p = std::get_if<Publish>(out)) {
    p->dup = false;
    p->qos = 0;
    p->retain = false;
    p->topic.clear();
    p->packet_id = 0;
    p->properties.Clear();
    p->payload.clear();
    return *p;
  }
  return out->emplace<Publish>();
}

// Parses one packet body. Every method returns false after recording a Failure.
class Parser {
 public:
  Parser(std::span<const uint8_t> body, ProtocolVersion version, Role role, uint8_t flags)
      : r_(body), v5_(version == ProtocolVersion::kV5), role_(role), flags_(flags) {}

  const Failure& failure() const { return failure_; }
  // Protocol version in force after ParseConnect (which learns it).
  ProtocolVersion version() const {
    return v5_ ? ProtocolVersion::kV5 : ProtocolVersion::kV311;
  }

  bool ParseConnect(Packet* out, ProtocolVersion configured);
  bool ParseConnack(Packet* out);
  bool ParsePublish(Packet* out);
  template <class Ack>
  bool ParseAck(Packet* out, PacketType type);
  bool ParseSubscribe(Packet* out);
  bool ParseSuback(Packet* out);
  bool ParseUnsubscribe(Packet* out);
  bool ParseUnsuback(Packet* out);
  bool ParseEmpty(Packet* out, PacketType type);
  bool ParseDisconnect(Packet* out);
  bool ParseAuth(Packet* out);

 private:
  const char* V(const char* v311, const char* v5) const { return v5_ ? v5 : v311; }
  bool Fail(Kind kind, std::string_view statement, std::string message) {
    failure_.kind = kind;
    failure_.statement = statement;
    failure_.message = std::move(message);
    return false;
  }
  bool Truncated(std::string_view field) {
    return Fail(Kind::kMalformed, V("§2.2.3", "§2.1.4"),
                std::string(field) + " extends past the Remaining Length");
  }
  bool Trailing(std::string_view packet, std::string_view statement) {
    return Fail(Kind::kMalformed, statement,
                std::string(packet) + " has " + std::to_string(r_.remaining()) +
                    " bytes after its last field");
  }
  bool CheckText(TextCheck check, std::string_view field, std::string_view ill_formed_statement) {
    switch (check) {
      case TextCheck::kOk: return true;
      case TextCheck::kNullCharacter:
        return Fail(Kind::kMalformed, V("MQTT-1.5.3-2", "MQTT-1.5.4-2"),
                    std::string(field) + " contains U+0000");
      default:
        return Fail(Kind::kMalformed,
                    ill_formed_statement.empty() ? V("MQTT-1.5.3-1", "MQTT-1.5.4-1")
                                                 : ill_formed_statement,
                    std::string(field) + " is not well-formed UTF-8");
    }
  }
  // A UTF-8 Encoded String field.
  bool ReadString(Reader& r, std::string* out, std::string_view field,
                  std::string_view ill_formed_statement = {}) {
    std::span<const uint8_t> s;
    if (!r.LengthPrefixed(&s)) return Truncated(field);
    if (!CheckText(CheckUtf8String(AsString(s)), field, ill_formed_statement)) return false;
    out->assign(AsString(s));
    return true;
  }
  bool ReadBinary(Reader& r, std::vector<uint8_t>* out, std::string_view field) {
    std::span<const uint8_t> s;
    if (!r.LengthPrefixed(&s)) return Truncated(field);
    out->assign(s.begin(), s.end());
    return true;
  }
  bool ReadPacketId(uint16_t* id, std::string_view packet, std::string_view zero_statement) {
    if (!r_.U16(id)) return Truncated(std::string(packet) + " Packet Identifier");
    if (*id == 0) {
      return Fail(Kind::kProtocol, zero_statement,
                  std::string(packet) + " has Packet Identifier 0");
    }
    return true;
  }
  // `field` + `suffix` names the integer; they are joined only on failure (hot path).
  bool CheckVbi(Reader::VbiStatus status, std::string_view field, std::string_view suffix = {}) {
    if (status == Reader::VbiStatus::kOk) return true;
    std::string name = std::string(field) + std::string(suffix);
    switch (status) {
      case Reader::VbiStatus::kOk: return true;
      case Reader::VbiStatus::kTruncated: return Truncated(name);
      case Reader::VbiStatus::kTooLong:
        return Fail(Kind::kMalformed, "§1.5.5",
                    name + " is a Variable Byte Integer longer than 4 bytes");
      case Reader::VbiStatus::kNonMinimal:
        return Fail(Kind::kMalformed, "MQTT-1.5.5-1",
                    name + " does not use the minimum number of bytes");
    }
    return false;
  }
  bool ReadProperties(Reader& r, Properties* props, PropertyContext context,
                      std::string_view where);
  bool ReadProperty(Reader& pr, const PropertyInfo& info, Properties* p, std::string_view where);
  bool CheckAuthenticationData(const Properties& p, std::string_view where) {
    if (p.authentication_data && !p.authentication_method) {
      return Fail(Kind::kProtocol, "§3.1.2.11.10",
                  std::string(where) + " has Authentication Data without Authentication Method");
    }
    return true;
  }
  bool CheckReasonCode(PacketType type, uint8_t code, std::string_view statement) {
    if (!IsReasonCodeAllowed(type, code)) {
      return Fail(Kind::kMalformed, statement,
                  std::string(PacketTypeName(type)) + " reason code " + Hex2(code) +
                      " is not one the spec lists for it");
    }
    return true;
  }
  bool CheckTopicFilterText(std::string_view filter, std::string_view field,
                            std::string_view ill_formed_statement);

  Reader r_;
  bool v5_;
  Role role_;
  uint8_t flags_;
  Failure failure_;
};

bool Parser::ReadProperty(Reader& pr, const PropertyInfo& info, Properties* p,
                          std::string_view where) {
  auto dup = [&]() {
    return Fail(Kind::kProtocol, "§2.2.2.2",
                std::string(info.name) + " included more than once in " + std::string(where));
  };
  auto truncated = [&]() { return Truncated(std::string(info.name) + " property"); };
  auto byte01 = [&](std::optional<uint8_t>* field, std::string_view section) {
    if (*field) return dup();
    uint8_t v = 0;
    if (!pr.U8(&v)) return truncated();
    if (v > 1) {
      return Fail(Kind::kProtocol, section,
                  std::string(info.name) + " must be 0 or 1, is " + std::to_string(v));
    }
    *field = v;
    return true;
  };
  auto u32 = [&](std::optional<uint32_t>* field) {
    if (*field) return dup();
    uint32_t v = 0;
    if (!pr.U32(&v)) return truncated();
    *field = v;
    return true;
  };
  auto u16_nonzero = [&](std::optional<uint16_t>* field, std::string_view zero_statement) {
    if (*field) return dup();
    uint16_t v = 0;
    if (!pr.U16(&v)) return truncated();
    if (v == 0 && !zero_statement.empty()) {
      return Fail(Kind::kProtocol, zero_statement, std::string(info.name) + " is 0");
    }
    *field = v;
    return true;
  };
  auto str = [&](std::optional<std::string>* field, std::string_view ill_formed_statement) {
    if (*field) return dup();
    std::string value;
    if (!ReadString(pr, &value, info.name, ill_formed_statement)) return false;
    *field = std::move(value);
    return true;
  };
  auto bin = [&](std::optional<std::vector<uint8_t>>* field) {
    if (*field) return dup();
    std::vector<uint8_t> value;
    if (!ReadBinary(pr, &value, info.name)) return false;
    *field = std::move(value);
    return true;
  };

  switch (info.id) {
    case PropertyId::kPayloadFormatIndicator:
      return byte01(&p->payload_format_indicator, "§3.3.2.3.2");
    case PropertyId::kMessageExpiryInterval: return u32(&p->message_expiry_interval);
    case PropertyId::kContentType: return str(&p->content_type, "MQTT-3.3.2-19");
    case PropertyId::kResponseTopic: {
      if (!str(&p->response_topic, "MQTT-3.3.2-13")) return false;
      const std::string& topic = *p->response_topic;
      if (topic.empty() || HasWildcard(topic)) {
        return Fail(Kind::kMalformed, "MQTT-3.3.2-14",
                    "Response Topic '" + topic + "' is not a valid Topic Name");
      }
      return true;
    }
    case PropertyId::kCorrelationData: return bin(&p->correlation_data);
    case PropertyId::kSubscriptionIdentifier: {
      uint32_t v = 0;
      if (!CheckVbi(pr.Vbi(&v), "Subscription Identifier")) return false;
      if (v == 0) {
        return Fail(Kind::kProtocol, "§3.3.2.3.8", "Subscription Identifier is 0");
      }
      p->subscription_identifiers.push_back(v);
      return true;
    }
    case PropertyId::kSessionExpiryInterval: return u32(&p->session_expiry_interval);
    case PropertyId::kAssignedClientIdentifier: return str(&p->assigned_client_identifier, {});
    case PropertyId::kServerKeepAlive: return u16_nonzero(&p->server_keep_alive, {});
    case PropertyId::kAuthenticationMethod: return str(&p->authentication_method, {});
    case PropertyId::kAuthenticationData: return bin(&p->authentication_data);
    case PropertyId::kRequestProblemInformation:
      return byte01(&p->request_problem_information, "§3.1.2.11.7");
    case PropertyId::kWillDelayInterval: return u32(&p->will_delay_interval);
    case PropertyId::kRequestResponseInformation:
      return byte01(&p->request_response_information, "§3.1.2.11.6");
    case PropertyId::kResponseInformation: return str(&p->response_information, {});
    case PropertyId::kServerReference: return str(&p->server_reference, {});
    case PropertyId::kReasonString: return str(&p->reason_string, {});
    case PropertyId::kReceiveMaximum:
      return u16_nonzero(&p->receive_maximum, "§3.1.2.11.3");
    case PropertyId::kTopicAliasMaximum: return u16_nonzero(&p->topic_alias_maximum, {});
    case PropertyId::kTopicAlias: return u16_nonzero(&p->topic_alias, "MQTT-3.3.2-8");
    case PropertyId::kMaximumQos: return byte01(&p->maximum_qos, "§3.2.2.3.4");
    case PropertyId::kRetainAvailable: return byte01(&p->retain_available, "§3.2.2.3.5");
    case PropertyId::kUserProperty: {
      UserProperty up;
      if (!ReadString(pr, &up.key, "User Property name", "MQTT-1.5.7-1")) return false;
      if (!ReadString(pr, &up.value, "User Property value", "MQTT-1.5.7-1")) return false;
      p->user_properties.push_back(std::move(up));
      return true;
    }
    case PropertyId::kMaximumPacketSize: {
      if (!u32(&p->maximum_packet_size)) return false;
      if (*p->maximum_packet_size == 0) {
        return Fail(Kind::kProtocol, "§3.1.2.11.4", "Maximum Packet Size is 0");
      }
      return true;
    }
    case PropertyId::kWildcardSubscriptionAvailable:
      return byte01(&p->wildcard_subscription_available, "§3.2.2.3.11");
    case PropertyId::kSubscriptionIdentifierAvailable:
      return byte01(&p->subscription_identifier_available, "§3.2.2.3.12");
    case PropertyId::kSharedSubscriptionAvailable:
      return byte01(&p->shared_subscription_available, "§3.2.2.3.13");
  }
  return false;
}

bool Parser::ReadProperties(Reader& r, Properties* props, PropertyContext context,
                            std::string_view where) {
  uint32_t length = 0;
  if (!CheckVbi(r.Vbi(&length), where, " Property Length")) return false;
  std::span<const uint8_t> bytes;
  if (!r.Bytes(length, &bytes)) {
    return Fail(Kind::kMalformed, "§2.2.2.1",
                std::string(where) + " Property Length " + std::to_string(length) +
                    " exceeds the rest of the packet");
  }
  Reader pr(bytes);
  while (pr.remaining() > 0) {
    uint8_t id = 0;
    pr.U8(&id);
    const PropertyInfo* info = FindPropertyInfo(id);
    if (info == nullptr) {
      return Fail(Kind::kMalformed, "§2.2.2.2",
                  "unknown property identifier " + Hex2(id) + " in " + std::string(where));
    }
    if ((info->allowed & context) == 0) {
      return Fail(Kind::kMalformed, "§2.2.2.2",
                  std::string(info->name) + " is not allowed in " + std::string(where));
    }
    if (!ReadProperty(pr, *info, props, where)) return false;
  }
  return true;
}

bool Parser::CheckTopicFilterText(std::string_view filter, std::string_view field,
                                  std::string_view ill_formed_statement) {
  TextCheck check = CheckTopicFilter(filter, v5_);
  switch (check) {
    case TextCheck::kOk: return true;
    case TextCheck::kEmpty:
      return Fail(Kind::kMalformed, "MQTT-4.7.3-1", std::string(field) + " is empty");
    case TextCheck::kBadMultiLevelWildcard:
      return Fail(Kind::kMalformed, V("MQTT-4.7.1-2", "MQTT-4.7.1-1"),
                  std::string(field) + " '" + std::string(filter) +
                      "': '#' must be the last level, alone");
    case TextCheck::kBadSingleLevelWildcard:
      return Fail(Kind::kMalformed, V("MQTT-4.7.1-3", "MQTT-4.7.1-2"),
                  std::string(field) + " '" + std::string(filter) +
                      "': '+' must occupy a whole level");
    case TextCheck::kBadSharedSubscription: {
      // ShareName present but holding wildcards is [MQTT-4.8.2-2]; otherwise -1.
      std::string_view rest = filter.substr(7);
      size_t slash = rest.find('/');
      bool name_ok = slash != std::string_view::npos && slash > 0;
      bool wildcard_in_name =
          name_ok && rest.substr(0, slash).find_first_of("+#") != std::string_view::npos;
      return Fail(Kind::kProtocol,
                  (wildcard_in_name || (name_ok && slash + 1 == rest.size())) ? "MQTT-4.8.2-2"
                                                                              : "MQTT-4.8.2-1",
                  std::string(field) + " '" + std::string(filter) +
                      "' is not a valid shared subscription");
    }
    default: return CheckText(check, field, ill_formed_statement);
  }
}

bool Parser::ParseConnect(Packet* out, ProtocolVersion configured) {
  // Protocol Name and Level decide the version, hence how the rest is read and answered.
  std::span<const uint8_t> name;
  uint8_t level = 0;
  if (!r_.LengthPrefixed(&name) || !r_.U8(&level)) {
    failure_.force_close = true;
    return Fail(Kind::kMalformed, "MQTT-3.1.4-1", "CONNECT too short for protocol name and level");
  }
  std::string_view name_text = AsString(name);
  if (name_text == "MQIsdp" && level == 3) {
    // MQTT 3.1: answer as 3.1.1 does for an unsupported level (the CONNACK layout is shared).
    failure_.version = ProtocolVersion::kV311;
    return Fail(Kind::kUnsupportedVersion, "MQTT-3.1.2-2", "MQTT 3.1 (MQIsdp) is not supported");
  }
  if (name_text != "MQTT") {
    failure_.force_close = true;
    v5_ = level == 5;
    return Fail(Kind::kMalformed, "MQTT-3.1.2-1", "protocol name is not \"MQTT\"");
  }
  bool level_supported = (level == 4 || level == 5) &&
                         (configured == ProtocolVersion::kUnknown ||
                          static_cast<uint8_t>(configured) == level);
  if (!level_supported) {
    failure_.version = level >= 5 ? ProtocolVersion::kV5 : ProtocolVersion::kV311;
    v5_ = failure_.version == ProtocolVersion::kV5;
    return Fail(Kind::kUnsupportedVersion, "MQTT-3.1.2-2",
                "protocol level " + std::to_string(level) + " is not supported");
  }
  v5_ = level == 5;

  Connect& c = Reuse<Connect>(out);
  uint8_t flags = 0;
  if (!r_.U8(&flags)) return Truncated("CONNECT Connect Flags");
  if (flags & 0x01) {
    return Fail(Kind::kMalformed, "MQTT-3.1.2-3", "CONNECT reserved flag is 1");
  }
  c.clean_start = (flags & 0x02) != 0;
  bool will_flag = (flags & 0x04) != 0;
  uint8_t will_qos = (flags >> 3) & 3;
  bool will_retain = (flags & 0x20) != 0;
  bool password_flag = (flags & 0x40) != 0;
  bool username_flag = (flags & 0x80) != 0;
  if (!will_flag) {
    if (will_qos != 0) {
      return Fail(Kind::kMalformed, V("MQTT-3.1.2-13", "MQTT-3.1.2-11"),
                  "Will QoS is " + std::to_string(will_qos) + " but the Will Flag is 0");
    }
    if (will_retain) {
      return Fail(Kind::kMalformed, V("MQTT-3.1.2-15", "MQTT-3.1.2-13"),
                  "Will Retain is 1 but the Will Flag is 0");
    }
  } else if (will_qos == 3) {
    return Fail(Kind::kMalformed, V("MQTT-3.1.2-14", "MQTT-3.1.2-12"), "Will QoS is 3");
  }
  if (!v5_ && password_flag && !username_flag) {
    return Fail(Kind::kMalformed, "MQTT-3.1.2-22", "Password Flag is 1 but User Name Flag is 0");
  }
  if (!r_.U16(&c.keep_alive)) return Truncated("CONNECT Keep Alive");
  if (v5_) {
    if (!ReadProperties(r_, &c.properties, ContextOf(PacketType::kConnect), "CONNECT")) {
      return false;
    }
    if (!CheckAuthenticationData(c.properties, "CONNECT")) return false;
  }

  // Payload: Client Identifier, [Will Properties, Will Topic, Will Payload], [User Name],
  // [Password], in this order ([MQTT-3.1.3-1]).
  if (r_.remaining() < 2) {
    return Fail(Kind::kMalformed, "MQTT-3.1.3-3", "CONNECT has no Client Identifier");
  }
  if (!ReadString(r_, &c.client_id, "Client Identifier", "MQTT-3.1.3-4")) return false;
  if (will_flag) {
    Will& will = c.will.emplace();
    will.qos = will_qos;
    will.retain = will_retain;
    if (r_.remaining() == 0) {
      return Fail(Kind::kMalformed, "MQTT-3.1.2-9",
                  "Will Flag is 1 but the payload has no Will fields");
    }
    if (v5_ && !ReadProperties(r_, &will.properties, kWillPropertiesContext, "Will Properties")) {
      return false;
    }
    if (r_.remaining() < 2) {
      return Fail(Kind::kMalformed, "MQTT-3.1.2-9", "Will Flag is 1 but Will Topic is missing");
    }
    if (!ReadString(r_, &will.topic, "Will Topic", V("MQTT-3.1.3-10", "MQTT-3.1.3-11"))) {
      return false;
    }
    TextCheck topic_check = CheckTopicName(will.topic);
    if (topic_check == TextCheck::kEmpty) {
      return Fail(Kind::kMalformed, "MQTT-4.7.3-1", "Will Topic is empty");
    }
    if (topic_check == TextCheck::kWildcardInName) {
      return Fail(Kind::kMalformed, V("MQTT-4.7.1-1", "MQTT-4.7.0-1"),
                  "Will Topic '" + will.topic + "' contains a wildcard");
    }
    if (r_.remaining() < 2) {
      return Fail(Kind::kMalformed, "MQTT-3.1.2-9", "Will Flag is 1 but Will Payload is missing");
    }
    if (!ReadBinary(r_, &will.payload, "Will Payload")) return false;
  }
  if (username_flag) {
    if (r_.remaining() < 2) {
      return Fail(Kind::kMalformed, V("MQTT-3.1.2-19", "MQTT-3.1.2-17"),
                  "User Name Flag is 1 but there is no User Name");
    }
    if (!ReadString(r_, &c.username.emplace(), "User Name", V("MQTT-3.1.3-11", "MQTT-3.1.3-12"))) {
      return false;
    }
  }
  if (password_flag) {
    if (r_.remaining() < 2) {
      return Fail(Kind::kMalformed, V("MQTT-3.1.2-21", "MQTT-3.1.2-19"),
                  "Password Flag is 1 but there is no Password");
    }
    if (!ReadBinary(r_, &c.password.emplace(), "Password")) return false;
  }
  if (r_.remaining() > 0) {
    // Whatever follows the flagged fields is an unflagged User Name or Password.
    const char* statement = !username_flag   ? V("MQTT-3.1.2-18", "MQTT-3.1.2-16")
                            : !password_flag ? V("MQTT-3.1.2-20", "MQTT-3.1.2-18")
                                             : "MQTT-3.1.4-1";
    return Trailing("CONNECT", statement);
  }
  if (!v5_ && c.client_id.empty() && !c.clean_start) {
    return Fail(Kind::kIdentifierRejected, "MQTT-3.1.3-8",
                "zero-byte Client Identifier with Clean Session 0");
  }
  return true;
}

bool Parser::ParseConnack(Packet* out) {
  Connack& c = Reuse<Connack>(out);
  uint8_t ack_flags = 0;
  uint8_t code = 0;
  if (!r_.U8(&ack_flags) || !r_.U8(&code)) return Truncated("CONNACK");
  if (ack_flags & 0xFE) {
    return Fail(Kind::kMalformed, V("§3.2.2.1", "MQTT-3.2.2-1"),
                "CONNACK Acknowledge Flags bits 7-1 are not 0");
  }
  c.session_present = (ack_flags & 1) != 0;
  if (v5_) {
    if (!CheckReasonCode(PacketType::kConnack, code, "MQTT-3.2.2-8")) return false;
    c.reason_code = static_cast<ReasonCode>(code);
    if (!ReadProperties(r_, &c.properties, ContextOf(PacketType::kConnack), "CONNACK")) {
      return false;
    }
    if (!CheckAuthenticationData(c.properties, "CONNACK")) return false;
    if (r_.remaining() > 0) return Trailing("CONNACK", "§3.2");
  } else {
    std::optional<ReasonCode> rc = ReasonCodeForV311ConnectReturnCode(code);
    if (!rc) {
      return Fail(Kind::kMalformed, "§3.2.2.3",
                  "CONNACK return code " + std::to_string(code) + " is reserved");
    }
    c.reason_code = *rc;
    if (r_.remaining() > 0) return Trailing("CONNACK", "§3.2.1");
  }
  if (c.session_present && c.reason_code != ReasonCode::kSuccess) {
    return Fail(Kind::kProtocol, V("MQTT-3.2.2-4", "MQTT-3.2.2-6"),
                "CONNACK refuses the connection but has Session Present 1");
  }
  return true;
}

bool Parser::ParsePublish(Packet* out) {
  Publish& p = Reuse<Publish>(out);
  p.dup = (flags_ & 0x08) != 0;
  p.qos = (flags_ >> 1) & 3;
  p.retain = (flags_ & 0x01) != 0;
  std::span<const uint8_t> topic;
  if (!r_.LengthPrefixed(&topic)) return Truncated("PUBLISH Topic Name");
  TextCheck check = CheckTopicName(AsString(topic));
  if (check == TextCheck::kWildcardInName) {
    return Fail(Kind::kMalformed, "MQTT-3.3.2-2",
                "PUBLISH Topic Name '" + std::string(AsString(topic)) + "' contains a wildcard");
  }
  if (check != TextCheck::kEmpty && !CheckText(check, "PUBLISH Topic Name", "MQTT-3.3.2-1")) {
    return false;
  }
  if (check == TextCheck::kEmpty && !v5_) {
    return Fail(Kind::kMalformed, "MQTT-4.7.3-1", "PUBLISH Topic Name is empty");
  }
  p.topic.assign(AsString(topic));
  if (p.qos > 0) {
    const char* statement =
        v5_ ? (role_ == Role::kServer ? "MQTT-2.2.1-3" : "MQTT-2.2.1-4") : "MQTT-2.3.1-1";
    if (!ReadPacketId(&p.packet_id, "PUBLISH", statement)) return false;
  }
  if (v5_) {
    if (!ReadProperties(r_, &p.properties, ContextOf(PacketType::kPublish), "PUBLISH")) {
      return false;
    }
    if (p.topic.empty() && !p.properties.topic_alias) {
      return Fail(Kind::kProtocol, "§3.3.2.1", "PUBLISH Topic Name is empty without Topic Alias");
    }
    if (role_ == Role::kServer && !p.properties.subscription_identifiers.empty()) {
      return Fail(Kind::kProtocol, "MQTT-3.3.4-6",
                  "PUBLISH from a Client contains a Subscription Identifier");
    }
  }
  std::span<const uint8_t> payload = r_.Rest();
  p.payload.assign(payload.begin(), payload.end());
  return true;
}

template <class Ack>
bool Parser::ParseAck(Packet* out, PacketType type) {
  Ack& a = Reuse<Ack>(out);
  std::string_view name = PacketTypeName(type);
  if (!ReadPacketId(&a.packet_id, name, V("MQTT-2.3.1-6", "MQTT-2.2.1-5"))) return false;
  if (!v5_) {
    if (r_.remaining() > 0) return Trailing(name, "§3.4.1");
    return true;
  }
  if (r_.remaining() == 0) return true;  // Success, no properties
  uint8_t code = 0;
  r_.U8(&code);
  const char* statement = type == PacketType::kPuback   ? "MQTT-3.4.2-1"
                          : type == PacketType::kPubrec ? "MQTT-3.5.2-1"
                          : type == PacketType::kPubrel ? "MQTT-3.6.2-1"
                                                        : "MQTT-3.7.2-1";
  if (!CheckReasonCode(type, code, statement)) return false;
  a.reason_code = static_cast<ReasonCode>(code);
  if (r_.remaining() == 0) return true;
  if (!ReadProperties(r_, &a.properties, ContextOf(type), name)) return false;
  if (r_.remaining() > 0) return Trailing(name, "§3.4.2");
  return true;
}

bool Parser::ParseSubscribe(Packet* out) {
  Subscribe& s = Reuse<Subscribe>(out);
  if (!ReadPacketId(&s.packet_id, "SUBSCRIBE", V("MQTT-2.3.1-1", "MQTT-2.2.1-3"))) return false;
  if (v5_) {
    if (!ReadProperties(r_, &s.properties, ContextOf(PacketType::kSubscribe), "SUBSCRIBE")) {
      return false;
    }
    if (s.properties.subscription_identifiers.size() > 1) {
      return Fail(Kind::kProtocol, "§3.8.2.1.2",
                  "SUBSCRIBE includes the Subscription Identifier more than once");
    }
  }
  if (r_.remaining() == 0) {
    return Fail(Kind::kProtocol, V("MQTT-3.8.3-3", "MQTT-3.8.3-2"),
                "SUBSCRIBE has no Topic Filter");
  }
  while (r_.remaining() > 0) {
    Subscription& sub = s.subscriptions.emplace_back();
    if (!ReadString(r_, &sub.topic_filter, "SUBSCRIBE Topic Filter", "MQTT-3.8.3-1")) {
      return false;
    }
    if (!CheckTopicFilterText(sub.topic_filter, "SUBSCRIBE Topic Filter", "MQTT-3.8.3-1")) {
      return false;
    }
    uint8_t options = 0;
    if (!r_.U8(&options)) return Truncated("SUBSCRIBE Subscription Options");
    if (!v5_) {
      if ((options & 0xFC) != 0 || (options & 3) == 3) {
        return Fail(Kind::kMalformed, "MQTT-3.8.3-4",
                    "SUBSCRIBE requested QoS byte " + Hex2(options) + " is invalid");
      }
      sub.options.qos = options & 3;
      continue;
    }
    if ((options & 0xC0) != 0) {
      return Fail(Kind::kMalformed, "MQTT-3.8.3-5",
                  "SUBSCRIBE Subscription Options reserved bits are not 0");
    }
    sub.options.qos = options & 3;
    sub.options.no_local = (options & 0x04) != 0;
    sub.options.retain_as_published = (options & 0x08) != 0;
    sub.options.retain_handling = (options >> 4) & 3;
    if (sub.options.qos == 3) {
      return Fail(Kind::kProtocol, "§3.8.3.1", "SUBSCRIBE Maximum QoS is 3");
    }
    if (sub.options.retain_handling == 3) {
      return Fail(Kind::kProtocol, "§3.8.3.1", "SUBSCRIBE Retain Handling is 3");
    }
    if (sub.options.no_local && IsSharedSubscription(sub.topic_filter)) {
      return Fail(Kind::kProtocol, "MQTT-3.8.3-4",
                  "No Local is 1 on shared subscription '" + sub.topic_filter + "'");
    }
  }
  return true;
}

bool Parser::ParseSuback(Packet* out) {
  Suback& s = Reuse<Suback>(out);
  if (!ReadPacketId(&s.packet_id, "SUBACK", V("MQTT-2.3.1-7", "MQTT-2.2.1-6"))) return false;
  if (v5_ && !ReadProperties(r_, &s.properties, ContextOf(PacketType::kSuback), "SUBACK")) {
    return false;
  }
  if (r_.remaining() == 0) {
    return Fail(Kind::kProtocol, V("MQTT-3.8.4-5", "MQTT-3.8.4-6"), "SUBACK has no reason codes");
  }
  while (r_.remaining() > 0) {
    uint8_t code = 0;
    r_.U8(&code);
    bool ok = v5_ ? IsReasonCodeAllowed(PacketType::kSuback, code)
                  : (code <= 2 || code == 0x80);
    if (!ok) {
      return Fail(Kind::kMalformed, "MQTT-3.9.3-2",
                  "SUBACK return code " + Hex2(code) + " is not allowed");
    }
    s.reason_codes.push_back(static_cast<ReasonCode>(code));
  }
  return true;
}

bool Parser::ParseUnsubscribe(Packet* out) {
  Unsubscribe& u = Reuse<Unsubscribe>(out);
  if (!ReadPacketId(&u.packet_id, "UNSUBSCRIBE", V("MQTT-2.3.1-1", "MQTT-2.2.1-3"))) {
    return false;
  }
  if (v5_ &&
      !ReadProperties(r_, &u.properties, ContextOf(PacketType::kUnsubscribe), "UNSUBSCRIBE")) {
    return false;
  }
  if (r_.remaining() == 0) {
    return Fail(Kind::kProtocol, "MQTT-3.10.3-2", "UNSUBSCRIBE has no Topic Filter");
  }
  while (r_.remaining() > 0) {
    std::string& filter = u.topic_filters.emplace_back();
    if (!ReadString(r_, &filter, "UNSUBSCRIBE Topic Filter", "MQTT-3.10.3-1")) return false;
    if (!CheckTopicFilterText(filter, "UNSUBSCRIBE Topic Filter", "MQTT-3.10.3-1")) return false;
  }
  return true;
}

bool Parser::ParseUnsuback(Packet* out) {
  Unsuback& u = Reuse<Unsuback>(out);
  if (!ReadPacketId(&u.packet_id, "UNSUBACK", V("MQTT-2.3.1-7", "MQTT-2.2.1-6"))) return false;
  if (!v5_) {
    if (r_.remaining() > 0) return Trailing("UNSUBACK", "§3.11.1");
    return true;
  }
  if (!ReadProperties(r_, &u.properties, ContextOf(PacketType::kUnsuback), "UNSUBACK")) {
    return false;
  }
  if (r_.remaining() == 0) {
    return Fail(Kind::kProtocol, "§3.11.3", "UNSUBACK has no reason codes");
  }
  while (r_.remaining() > 0) {
    uint8_t code = 0;
    r_.U8(&code);
    if (!CheckReasonCode(PacketType::kUnsuback, code, "MQTT-3.11.3-2")) return false;
    u.reason_codes.push_back(static_cast<ReasonCode>(code));
  }
  return true;
}

bool Parser::ParseEmpty(Packet* out, PacketType type) {
  if (r_.remaining() > 0) {
    return Fail(Kind::kMalformed, type == PacketType::kPingreq ? "§3.12.1" : "§3.13.1",
                std::string(PacketTypeName(type)) + " has a non-zero Remaining Length");
  }
  if (type == PacketType::kPingreq) {
    Reuse<Pingreq>(out);
  } else {
    Reuse<Pingresp>(out);
  }
  return true;
}

bool Parser::ParseDisconnect(Packet* out) {
  Disconnect& d = Reuse<Disconnect>(out);
  if (!v5_) {
    if (r_.remaining() > 0) return Trailing("DISCONNECT", "§3.14.1");
    return true;
  }
  if (r_.remaining() == 0) return true;  // Normal disconnection, no properties
  uint8_t code = 0;
  r_.U8(&code);
  if (!CheckReasonCode(PacketType::kDisconnect, code, "MQTT-3.14.2-1")) return false;
  d.reason_code = static_cast<ReasonCode>(code);
  if (r_.remaining() == 0) return true;
  if (!ReadProperties(r_, &d.properties, ContextOf(PacketType::kDisconnect), "DISCONNECT")) {
    return false;
  }
  if (r_.remaining() > 0) return Trailing("DISCONNECT", "§3.14.2");
  if (role_ == Role::kClient && d.properties.session_expiry_interval) {
    return Fail(Kind::kProtocol, "MQTT-3.14.2-2",
                "DISCONNECT from the Server contains a Session Expiry Interval");
  }
  return true;
}

bool Parser::ParseAuth(Packet* out) {
  Auth& a = Reuse<Auth>(out);
  if (r_.remaining() == 0) return true;  // Success, no properties
  uint8_t code = 0;
  r_.U8(&code);
  if (!CheckReasonCode(PacketType::kAuth, code, "MQTT-3.15.2-1")) return false;
  a.reason_code = static_cast<ReasonCode>(code);
  if (r_.remaining() == 0) return true;
  if (!ReadProperties(r_, &a.properties, ContextOf(PacketType::kAuth), "AUTH")) return false;
  if (r_.remaining() > 0) return Trailing("AUTH", "§3.15.2");
  return CheckAuthenticationData(a.properties, "AUTH");
}

}  // namespace

Decoder::Decoder(DecoderOptions options) : options_(options), version_(options.version) {
  WPSIM_ASSERT(options_.role == Role::kServer || version_ != ProtocolVersion::kUnknown);
  WPSIM_ASSERT(!options_.handshake_done || version_ != ProtocolVersion::kUnknown);
  connect_seen_ = options_.handshake_done;
}

DecodeStatus Decoder::Fail(DecodeError error) {
  error.stream_offset = packet_start_;
  error.packet_type = header_size_ > 0 ? static_cast<uint8_t>(header_[0] >> 4) : 0;
  error_ = std::move(error);
  state_ = State::kFailed;
  body_.clear();
  body_.shrink_to_fit();
  return DecodeStatus::kError;
}

namespace {

// Decides the reply the spec requires for a failure found in a packet of `type`.
DecodeError Resolve(const Failure& f, ProtocolVersion version, Role role, bool in_connect) {
  DecodeError e;
  e.reason_code = ReasonFor(f.kind);
  e.statement = f.statement;
  e.message = f.message;
  ProtocolVersion v = f.version != ProtocolVersion::kUnknown ? f.version : version;
  e.reply_version = v;
  if (f.force_close || v == ProtocolVersion::kUnknown) {
    e.reaction = Reaction::kCloseConnection;
  } else if (role == Role::kServer && in_connect) {
    if (v == ProtocolVersion::kV5 || f.kind == Kind::kUnsupportedVersion ||
        f.kind == Kind::kIdentifierRejected) {
      e.reaction = Reaction::kSendConnackAndClose;  // [MQTT-3.1.2-2], [MQTT-3.1.3-8], §4.13
    } else {
      e.reaction = Reaction::kCloseConnection;  // 3.1.1 [MQTT-3.1.4-1]
    }
  } else if (v == ProtocolVersion::kV5) {
    e.reaction = Reaction::kSendDisconnectAndClose;  // [MQTT-4.13.1-1]
  } else {
    e.reaction = Reaction::kCloseConnection;  // 3.1.1 [MQTT-4.8.0-1]
  }
  if (e.reaction == Reaction::kCloseConnection && v == ProtocolVersion::kUnknown) {
    e.reply_version = ProtocolVersion::kUnknown;
  }
  return e;
}

bool IsClientToServer(PacketType t) {
  switch (t) {
    case PacketType::kConnect:
    case PacketType::kSubscribe:
    case PacketType::kUnsubscribe:
    case PacketType::kPingreq:
      return true;
    default: return false;
  }
}
bool IsServerToClient(PacketType t) {
  switch (t) {
    case PacketType::kConnack:
    case PacketType::kSuback:
    case PacketType::kUnsuback:
    case PacketType::kPingresp:
      return true;
    default: return false;
  }
}

}  // namespace

DecodeStatus Decoder::Decode(std::span<const uint8_t>* input, Packet* out) {
  if (state_ == State::kFailed) return DecodeStatus::kError;
  while (state_ == State::kFixedHeader) {
    if (input->empty()) return DecodeStatus::kNeedMore;
    if (header_size_ == 0) packet_start_ = stream_offset_;
    uint8_t b = (*input)[0];
    *input = input->subspan(1);
    ++stream_offset_;
    header_[header_size_++] = b;
    if (header_size_ == 1) continue;
    if (b & 0x80) {
      if (header_size_ == 5) {
        Failure f{Kind::kMalformed, "§1.5.5", "Remaining Length is longer than 4 bytes"};
        return Fail(Resolve(f, version_, options_.role, false));
      }
      continue;
    }
    // Remaining Length complete.
    uint32_t remaining = 0;
    uint32_t multiplier = 1;
    for (size_t i = 1; i < header_size_; ++i) {
      remaining += (header_[i] & 0x7F) * multiplier;
      multiplier *= 128;
    }
    bool non_minimal = header_size_ > 2 && header_[header_size_ - 1] == 0;
    remaining_length_ = remaining;

    PacketType type = static_cast<PacketType>(header_[0] >> 4);
    uint8_t flags = header_[0] & 0x0F;
    bool v5 = version_ == ProtocolVersion::kV5 ||
              (version_ == ProtocolVersion::kUnknown && options_.version == ProtocolVersion::kV5);
    auto V = [&](const char* v311, const char* v5_id) { return v5 ? v5_id : v311; };
    bool server = options_.role == Role::kServer;
    bool in_connect = server && type == PacketType::kConnect && !connect_seen_;
    auto fail = [&](Kind kind, std::string_view statement, std::string message) {
      Failure f{kind, statement, std::move(message)};
      return Fail(Resolve(f, version_, options_.role, in_connect));
    };
    std::string name(PacketTypeName(type));  // short names: no allocation (SSO)

    if (header_[0] >> 4 == 0 || (type == PacketType::kAuth && version_ == ProtocolVersion::kV311)) {
      return fail(Kind::kMalformed, V("MQTT-2.2.2-2", "MQTT-2.1.3-1"),
                  "packet type " + std::to_string(header_[0] >> 4) + " is reserved");
    }
    // Connection order.
    if (server && !connect_seen_ && type != PacketType::kConnect) {
      Failure f{Kind::kProtocol, "MQTT-3.1.0-1", "first packet is " + name + ", not CONNECT"};
      f.force_close = true;
      return Fail(Resolve(f, version_, options_.role, false));
    }
    if (server && connect_seen_ && type == PacketType::kConnect) {
      return fail(Kind::kProtocol, "MQTT-3.1.0-2", "second CONNECT on the connection");
    }
    if (!server && !connect_seen_ && type != PacketType::kConnack &&
        !(v5 && type == PacketType::kAuth)) {
      return fail(Kind::kProtocol, "MQTT-3.2.0-1", "first packet is " + name + ", not CONNACK");
    }
    if (!server && connect_seen_ && type == PacketType::kConnack) {
      return fail(Kind::kProtocol, V("§3.2", "MQTT-3.2.0-2"), "second CONNACK on the connection");
    }
    // Direction of flow (section 2.1.2 of 5.0, 2.2.1 of 3.1.1).
    if ((server && IsServerToClient(type)) || (!server && IsClientToServer(type)) ||
        (!server && !v5 && type == PacketType::kDisconnect)) {
      return fail(Kind::kProtocol, V("§2.2.1", "§2.1.2"),
                  name + " is not sent by the " + (server ? "Client" : "Server"));
    }
    // Fixed header flags.
    switch (type) {
      case PacketType::kPublish:
        if ((flags & 0x06) == 0x06) {
          return fail(Kind::kMalformed, "MQTT-3.3.1-4", "PUBLISH has both QoS bits set");
        }
        if ((flags & 0x06) == 0 && (flags & 0x08) != 0) {
          return fail(Kind::kMalformed, "MQTT-3.3.1-2", "PUBLISH with QoS 0 has DUP 1");
        }
        break;
      case PacketType::kPubrel:
      case PacketType::kSubscribe:
      case PacketType::kUnsubscribe:
        if (flags != 0x02) {
          const char* statement = type == PacketType::kPubrel      ? "MQTT-3.6.1-1"
                                  : type == PacketType::kSubscribe ? "MQTT-3.8.1-1"
                                                                   : "MQTT-3.10.1-1";
          return fail(Kind::kMalformed, statement,
                      name + " fixed header flags are " + Hex2(flags) + ", not 0x02");
        }
        break;
      default:
        if (flags != 0) {
          const char* statement = type == PacketType::kDisconnect ? "MQTT-3.14.1-1"
                                  : type == PacketType::kAuth
                                      ? "MQTT-3.15.1-1"
                                      : V("MQTT-2.2.2-2", "MQTT-2.1.3-1");
          return fail(Kind::kMalformed, statement,
                      name + " fixed header flags are " + Hex2(flags) + ", not 0");
        }
        break;
    }
    if (non_minimal && v5) {
      return fail(Kind::kMalformed, "MQTT-1.5.5-1",
                  "Remaining Length does not use the minimum number of bytes");
    }
    uint64_t total = static_cast<uint64_t>(header_size_) + remaining;
    if (total > options_.max_packet_size) {
      return fail(Kind::kTooLarge, v5 ? "§3.1.2.11.4" : "§1.5.5",
                  name + " of " + std::to_string(total) + " bytes exceeds the maximum of " +
                      std::to_string(options_.max_packet_size));
    }
    non_minimal_length_ = non_minimal;
    state_ = State::kBody;
    body_.clear();
  }

  // kBody
  std::span<const uint8_t> body;
  if (body_.empty() && input->size() >= remaining_length_) {
    body = input->first(remaining_length_);  // parse in place
    *input = input->subspan(remaining_length_);
    stream_offset_ += remaining_length_;
  } else {
    size_t take = std::min<size_t>(input->size(), remaining_length_ - body_.size());
    body_.insert(body_.end(), input->begin(), input->begin() + static_cast<ptrdiff_t>(take));
    *input = input->subspan(take);
    stream_offset_ += take;
    if (body_.size() < remaining_length_) return DecodeStatus::kNeedMore;
    body = body_;
  }
  DecodeStatus status = ParseBody(body, out);
  if (status == DecodeStatus::kPacket) {
    header_size_ = 0;
    body_.clear();
    state_ = State::kFixedHeader;
  }
  return status;
}

bool Decoder::DecodeSimpleAck(std::span<const uint8_t>* input, SimpleAck* out) {
  // Only where Decode's checks are known to pass: between packets, after the handshake, the
  // version known (it decides whether a reason code may follow), a one-byte Remaining Length
  // (so minimal), fixed-header flags as required, a non-zero Packet Identifier
  // ([MQTT-2.3.1-6] / [MQTT-2.2.1-5]) and a reason code the spec lists for the type.
  if (state_ != State::kFixedHeader || header_size_ != 0 || !connect_seen_) return false;
  if (input->size() < 4) return false;
  const uint8_t* p = input->data();
  PacketType type;
  switch (p[0]) {
    case 0x40: type = PacketType::kPuback; break;
    case 0x50: type = PacketType::kPubrec; break;
    case 0x62: type = PacketType::kPubrel; break;
    case 0x70: type = PacketType::kPubcomp; break;
    default: return false;
  }
  const uint8_t remaining = p[1];
  ReasonCode code = ReasonCode::kSuccess;
  if (remaining == 3) {
    if (version_ != ProtocolVersion::kV5 || input->size() < 5) return false;
    if (!IsReasonCodeAllowed(type, p[4])) return false;
    code = static_cast<ReasonCode>(p[4]);
  } else if (remaining != 2 || version_ == ProtocolVersion::kUnknown) {
    return false;
  }
  const size_t total = 2u + remaining;
  if (total > options_.max_packet_size) return false;
  const uint16_t id = static_cast<uint16_t>((p[2] << 8) | p[3]);
  if (id == 0) return false;
  out->type = type;
  out->packet_id = id;
  out->reason_code = code;
  packet_start_ = stream_offset_;
  stream_offset_ += total;
  *input = input->subspan(total);
  return true;
}

DecodeStatus Decoder::ParseBody(std::span<const uint8_t> body, Packet* out) {
  PacketType type = static_cast<PacketType>(header_[0] >> 4);
  uint8_t flags = header_[0] & 0x0F;
  bool server = options_.role == Role::kServer;
  bool in_connect = server && type == PacketType::kConnect && !connect_seen_;
  Parser parser(body, version_, options_.role, flags);
  bool ok = false;
  switch (type) {
    case PacketType::kConnect: ok = parser.ParseConnect(out, options_.version); break;
    case PacketType::kConnack: ok = parser.ParseConnack(out); break;
    case PacketType::kPublish: ok = parser.ParsePublish(out); break;
    case PacketType::kPuback: ok = parser.ParseAck<Puback>(out, type); break;
    case PacketType::kPubrec: ok = parser.ParseAck<Pubrec>(out, type); break;
    case PacketType::kPubrel: ok = parser.ParseAck<Pubrel>(out, type); break;
    case PacketType::kPubcomp: ok = parser.ParseAck<Pubcomp>(out, type); break;
    case PacketType::kSubscribe: ok = parser.ParseSubscribe(out); break;
    case PacketType::kSuback: ok = parser.ParseSuback(out); break;
    case PacketType::kUnsubscribe: ok = parser.ParseUnsubscribe(out); break;
    case PacketType::kUnsuback: ok = parser.ParseUnsuback(out); break;
    case PacketType::kPingreq:
    case PacketType::kPingresp: ok = parser.ParseEmpty(out, type); break;
    case PacketType::kDisconnect: ok = parser.ParseDisconnect(out); break;
    case PacketType::kAuth: ok = parser.ParseAuth(out); break;
  }
  if (in_connect) {
    // The CONNECT fixes the version for replies to its own errors and for what follows.
    ProtocolVersion learned = parser.version();
    if (ok && non_minimal_length_ && learned == ProtocolVersion::kV5) {
      Failure f{Kind::kMalformed, "MQTT-1.5.5-1",
                "Remaining Length does not use the minimum number of bytes"};
      return Fail(Resolve(f, learned, options_.role, true));
    }
    if (!ok) {
      ProtocolVersion v = parser.failure().version != ProtocolVersion::kUnknown
                              ? parser.failure().version
                              : (parser.failure().force_close ? version_ : learned);
      return Fail(Resolve(parser.failure(), v, options_.role, true));
    }
    version_ = learned;
  }
  if (!ok) return Fail(Resolve(parser.failure(), version_, options_.role, false));
  if ((server && type == PacketType::kConnect) || (!server && type == PacketType::kConnack)) {
    connect_seen_ = true;
  }
  return DecodeStatus::kPacket;
}

Result<Packet> DecodePacket(std::span<const uint8_t> bytes, DecoderOptions options) {
  Decoder decoder(options);
  Packet packet;
  std::span<const uint8_t> in = bytes;
  DecodeStatus status = decoder.Decode(&in, &packet);
  if (status == DecodeStatus::kError) return decoder.error().ToError();
  if (status == DecodeStatus::kNeedMore) {
    return MakeError("mqtt.incomplete", "input ends inside a packet");
  }
  if (!in.empty()) return MakeError("mqtt.trailing_bytes", "bytes after the packet");
  return packet;
}

}  // namespace wpsim::protocol::mqtt
