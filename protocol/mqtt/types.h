// MQTT 3.1.1 (protocol level 4) and 5.0 (protocol level 5) packet model.
//
// One set of structs serves both versions. Fields that exist only in 5.0 (properties, most
// reason codes) are ignored when encoding 3.1.1 and come back empty/default when decoding
// 3.1.1, so a session can be written once against these types. Reason codes are always the
// 5.0 values; the 3.1.1 CONNACK return codes are mapped to and from them (see
// V311ConnectReturnCodeFor / ReasonCodeForV311ConnectReturnCode), and 3.1.1 SUBACK return
// codes (0x00, 0x01, 0x02, 0x80) coincide with the 5.0 values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wpsim::protocol::mqtt {

// The protocol level byte of CONNECT. kUnknown only configures a server-side decoder that
// learns the version from the CONNECT packet.
enum class ProtocolVersion : uint8_t { kUnknown = 0, kV311 = 4, kV5 = 5 };
std::string_view ProtocolVersionName(ProtocolVersion version);

// Fixed-header packet type (bits 7-4 of byte 1). Value 0 is reserved (Malformed).
enum class PacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,  // 5.0 only
};
std::string_view PacketTypeName(PacketType type);

// MQTT 5.0 reason codes (section 2.4, Table 2-6). Several values have more than one name;
// the name used depends on the packet (ReasonCodeName takes the packet type).
enum class ReasonCode : uint8_t {
  kSuccess = 0x00,
  kNormalDisconnection = 0x00,
  kGrantedQos0 = 0x00,
  kGrantedQos1 = 0x01,
  kGrantedQos2 = 0x02,
  kDisconnectWithWillMessage = 0x04,
  kNoMatchingSubscribers = 0x10,
  kNoSubscriptionExisted = 0x11,
  kContinueAuthentication = 0x18,
  kReAuthenticate = 0x19,
  kUnspecifiedError = 0x80,
  kMalformedPacket = 0x81,
  kProtocolError = 0x82,
  kImplementationSpecificError = 0x83,
  kUnsupportedProtocolVersion = 0x84,
  kClientIdentifierNotValid = 0x85,
  kBadUserNameOrPassword = 0x86,
  kNotAuthorized = 0x87,
  kServerUnavailable = 0x88,
  kServerBusy = 0x89,
  kBanned = 0x8A,
  kServerShuttingDown = 0x8B,
  kBadAuthenticationMethod = 0x8C,
  kKeepAliveTimeout = 0x8D,
  kSessionTakenOver = 0x8E,
  kTopicFilterInvalid = 0x8F,
  kTopicNameInvalid = 0x90,
  kPacketIdentifierInUse = 0x91,
  kPacketIdentifierNotFound = 0x92,
  kReceiveMaximumExceeded = 0x93,
  kTopicAliasInvalid = 0x94,
  kPacketTooLarge = 0x95,
  kMessageRateTooHigh = 0x96,
  kQuotaExceeded = 0x97,
  kAdministrativeAction = 0x98,
  kPayloadFormatInvalid = 0x99,
  kRetainNotSupported = 0x9A,
  kQosNotSupported = 0x9B,
  kUseAnotherServer = 0x9C,
  kServerMoved = 0x9D,
  kSharedSubscriptionsNotSupported = 0x9E,
  kConnectionRateExceeded = 0x9F,
  kMaximumConnectTime = 0xA0,
  kSubscriptionIdentifiersNotSupported = 0xA1,
  kWildcardSubscriptionsNotSupported = 0xA2,
};
// The spec's name of `code` as used in `packet` (e.g. 0x00 is "Success" in CONNACK,
// "Normal disconnection" in DISCONNECT, "Granted QoS 0" in SUBACK). "Unknown" if unlisted.
std::string_view ReasonCodeName(ReasonCode code, PacketType packet);
// Whether the 5.0 reason code table of `packet` lists `code` (sections 3.2.2.2, 3.4.2.1,
// 3.5.2.1, 3.6.2.1, 3.7.2.1, 3.9.3, 3.11.3, 3.14.2.1, 3.15.2.1).
bool IsReasonCodeAllowed(PacketType packet, uint8_t code);
inline bool IsError(ReasonCode code) { return static_cast<uint8_t>(code) >= 0x80; }

// MQTT 3.1.1 CONNACK return codes (section 3.2.2.3).
enum class ConnectReturnCode : uint8_t {
  kAccepted = 0,
  kUnacceptableProtocolVersion = 1,
  kIdentifierRejected = 2,
  kServerUnavailable = 3,
  kBadUserNameOrPassword = 4,
  kNotAuthorized = 5,
};
std::string_view ConnectReturnCodeName(ConnectReturnCode code);
// The 3.1.1 return code that expresses a 5.0 CONNACK reason code, or nullopt where 3.1.1 has
// none (then [MQTT-3.2.2-6] of 3.1.1 applies: close without CONNACK).
std::optional<ConnectReturnCode> V311ConnectReturnCodeFor(ReasonCode code);
// The inverse: 1 -> 0x84, 2 -> 0x85, 3 -> 0x88, 4 -> 0x86, 5 -> 0x87; nullopt for > 5.
std::optional<ReasonCode> ReasonCodeForV311ConnectReturnCode(uint8_t code);

// A 5.0 User Property (UTF-8 string pair). Order is significant and preserved.
struct UserProperty {
  std::string key;
  std::string value;
  bool operator==(const UserProperty&) const = default;
};

// 5.0 property identifiers (section 2.2.2.2, Table 2-4).
enum class PropertyId : uint8_t {
  kPayloadFormatIndicator = 0x01,
  kMessageExpiryInterval = 0x02,
  kContentType = 0x03,
  kResponseTopic = 0x08,
  kCorrelationData = 0x09,
  kSubscriptionIdentifier = 0x0B,
  kSessionExpiryInterval = 0x11,
  kAssignedClientIdentifier = 0x12,
  kServerKeepAlive = 0x13,
  kAuthenticationMethod = 0x15,
  kAuthenticationData = 0x16,
  kRequestProblemInformation = 0x17,
  kWillDelayInterval = 0x18,
  kRequestResponseInformation = 0x19,
  kResponseInformation = 0x1A,
  kServerReference = 0x1C,
  kReasonString = 0x1F,
  kReceiveMaximum = 0x21,
  kTopicAliasMaximum = 0x22,
  kTopicAlias = 0x23,
  kMaximumQos = 0x24,
  kRetainAvailable = 0x25,
  kUserProperty = 0x26,
  kMaximumPacketSize = 0x27,
  kWildcardSubscriptionAvailable = 0x28,
  kSubscriptionIdentifierAvailable = 0x29,
  kSharedSubscriptionAvailable = 0x2A,
};
enum class PropertyType : uint8_t {
  kByte,
  kTwoByteInteger,
  kFourByteInteger,
  kVariableByteInteger,
  kUtf8String,
  kBinaryData,
  kUtf8StringPair,
};
// Where a property may appear: one bit per PacketType value, plus bit 0 for Will Properties
// (the properties inside the CONNECT payload).
using PropertyContext = uint16_t;
inline constexpr PropertyContext kWillPropertiesContext = 1u << 0;
inline constexpr PropertyContext ContextOf(PacketType type) {
  return static_cast<PropertyContext>(1u << static_cast<unsigned>(type));
}
struct PropertyInfo {
  PropertyId id;
  std::string_view name;
  PropertyType type;
  PropertyContext allowed;  // section 2.2.2.2
  bool repeatable;          // User Property always; Subscription Identifier in PUBLISH only
};
// nullptr for identifiers the spec does not define (a Malformed Packet when received).
const PropertyInfo* FindPropertyInfo(uint8_t id);

// Every 5.0 property. Absent optionals are not encoded. Encoding writes them in ascending
// identifier order (user properties and subscription identifiers in vector order); decoding
// accepts any order. Equality compares values, not wire order of different identifiers.
struct Properties {
  std::optional<uint8_t> payload_format_indicator;         // 0x01 PUBLISH, Will
  std::optional<uint32_t> message_expiry_interval;         // 0x02 PUBLISH, Will (seconds)
  std::optional<std::string> content_type;                 // 0x03 PUBLISH, Will
  std::optional<std::string> response_topic;               // 0x08 PUBLISH, Will
  std::optional<std::vector<uint8_t>> correlation_data;    // 0x09 PUBLISH, Will
  std::vector<uint32_t> subscription_identifiers;          // 0x0B PUBLISH (n), SUBSCRIBE (1)
  std::optional<uint32_t> session_expiry_interval;         // 0x11 CONNECT, CONNACK, DISCONNECT
  std::optional<std::string> assigned_client_identifier;   // 0x12 CONNACK
  std::optional<uint16_t> server_keep_alive;               // 0x13 CONNACK (seconds)
  std::optional<std::string> authentication_method;        // 0x15 CONNECT, CONNACK, AUTH
  std::optional<std::vector<uint8_t>> authentication_data;  // 0x16 CONNECT, CONNACK, AUTH
  std::optional<uint8_t> request_problem_information;      // 0x17 CONNECT
  std::optional<uint32_t> will_delay_interval;             // 0x18 Will (seconds)
  std::optional<uint8_t> request_response_information;     // 0x19 CONNECT
  std::optional<std::string> response_information;         // 0x1A CONNACK
  std::optional<std::string> server_reference;             // 0x1C CONNACK, DISCONNECT
  std::optional<std::string> reason_string;                // 0x1F acks, DISCONNECT, AUTH
  std::optional<uint16_t> receive_maximum;                 // 0x21 CONNECT, CONNACK
  std::optional<uint16_t> topic_alias_maximum;             // 0x22 CONNECT, CONNACK
  std::optional<uint16_t> topic_alias;                     // 0x23 PUBLISH
  std::optional<uint8_t> maximum_qos;                      // 0x24 CONNACK
  std::optional<uint8_t> retain_available;                 // 0x25 CONNACK
  std::vector<UserProperty> user_properties;               // 0x26 all but PINGs
  std::optional<uint32_t> maximum_packet_size;             // 0x27 CONNECT, CONNACK
  std::optional<uint8_t> wildcard_subscription_available;  // 0x28 CONNACK
  std::optional<uint8_t> subscription_identifier_available;  // 0x29 CONNACK
  std::optional<uint8_t> shared_subscription_available;    // 0x2A CONNACK

  bool empty() const;
  // Resets every field but keeps the capacity of strings and vectors (decoder reuse).
  void Clear();
  bool operator==(const Properties&) const = default;
};

// ---- Packets. Each struct is one packet type; Packet is their variant in type order. ----

struct Will {
  uint8_t qos = 0;  // 0..2
  bool retain = false;
  std::string topic;
  std::vector<uint8_t> payload;
  Properties properties;  // 5.0 Will Properties
  bool operator==(const Will&) const = default;
};

struct Connect {
  // "Clean Start" in 5.0, "Clean Session" in 3.1.1.
  bool clean_start = true;
  uint16_t keep_alive = 0;  // seconds
  Properties properties;
  std::string client_id;
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<std::vector<uint8_t>> password;
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  // 5.0 reason code. In 3.1.1 the return code is mapped (see ConnectReturnCode).
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const Connack&) const = default;
};

struct Publish {
  bool dup = false;
  uint8_t qos = 0;  // 0..2
  bool retain = false;
  std::string topic;   // may be empty in 5.0 when properties.topic_alias is set
  uint16_t packet_id = 0;  // present on the wire only when qos > 0
  Properties properties;
  std::vector<uint8_t> payload;
  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL, PUBCOMP share one layout; in 3.1.1 only packet_id is on the wire.
struct Puback {
  uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const Puback&) const = default;
};
struct Pubrec {
  uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const Pubrec&) const = default;
};
struct Pubrel {
  uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const Pubrel&) const = default;
};
struct Pubcomp {
  uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const Pubcomp&) const = default;
};

struct SubscriptionOptions {
  uint8_t qos = 0;  // maximum QoS, 0..2
  bool no_local = false;             // 5.0
  bool retain_as_published = false;  // 5.0
  uint8_t retain_handling = 0;       // 5.0, 0..2
  bool operator==(const SubscriptionOptions&) const = default;
};
struct Subscription {
  std::string topic_filter;
  SubscriptionOptions options;
  bool operator==(const Subscription&) const = default;
};
struct Subscribe {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<Subscription> subscriptions;  // at least one
  bool operator==(const Subscribe&) const = default;
};
struct Suback {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<ReasonCode> reason_codes;  // one per subscription, in order
  bool operator==(const Suback&) const = default;
};
struct Unsubscribe {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<std::string> topic_filters;  // at least one
  bool operator==(const Unsubscribe&) const = default;
};
struct Unsuback {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<ReasonCode> reason_codes;  // 5.0 only; empty in 3.1.1
  bool operator==(const Unsuback&) const = default;
};
struct Pingreq {
  bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
  bool operator==(const Pingresp&) const = default;
};
struct Disconnect {
  ReasonCode reason_code = ReasonCode::kNormalDisconnection;  // 5.0 only
  Properties properties;
  bool operator==(const Disconnect&) const = default;
};
struct Auth {  // 5.0 only
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const Auth&) const = default;
};

// Alternative index + 1 == PacketType value.
using Packet = std::variant<Connect, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp,
                            Subscribe, Suback, Unsubscribe, Unsuback, Pingreq, Pingresp,
                            Disconnect, Auth>;
inline PacketType TypeOf(const Packet& packet) {
  return static_cast<PacketType>(packet.index() + 1);
}

// Largest value of a Variable Byte Integer (section 1.5.5), hence of Remaining Length.
inline constexpr uint32_t kMaxVariableByteInteger = 268'435'455;
// Largest packet on the wire: 1 type byte + 4 length bytes + kMaxVariableByteInteger.
inline constexpr uint32_t kMaxPacketSizeLimit = kMaxVariableByteInteger + 5;
// Largest UTF-8 string or binary field (two-byte length prefix).
inline constexpr size_t kMaxStringLength = 65'535;

}  // namespace wpsim::protocol::mqtt
