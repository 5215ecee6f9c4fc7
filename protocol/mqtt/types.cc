#include "protocol/mqtt/types.h"

#include <algorithm>
#include <array>

namespace wpsim::protocol::mqtt {

std::string_view ProtocolVersionName(ProtocolVersion version) {
  switch (version) {
    case ProtocolVersion::kUnknown: return "unknown";
    case ProtocolVersion::kV311: return "3.1.1";
    case ProtocolVersion::kV5: return "5.0";
  }
  return "unknown";
}

std::string_view PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kConnect: return "CONNECT";
    case PacketType::kConnack: return "CONNACK";
    case PacketType::kPublish: return "PUBLISH";
    case PacketType::kPuback: return "PUBACK";
    case PacketType::kPubrec: return "PUBREC";
    case PacketType::kPubrel: return "PUBREL";
    case PacketType::kPubcomp: return "PUBCOMP";
    case PacketType::kSubscribe: return "SUBSCRIBE";
    case PacketType::kSuback: return "SUBACK";
    case PacketType::kUnsubscribe: return "UNSUBSCRIBE";
    case PacketType::kUnsuback: return "UNSUBACK";
    case PacketType::kPingreq: return "PINGREQ";
    case PacketType::kPingresp: return "PINGRESP";
    case PacketType::kDisconnect: return "DISCONNECT";
    case PacketType::kAuth: return "AUTH";
  }
  return "RESERVED";
}

std::string_view ReasonCodeName(ReasonCode code, PacketType packet) {
  switch (static_cast<uint8_t>(code)) {
    case 0x00:
      if (packet == PacketType::kDisconnect) return "Normal disconnection";
      if (packet == PacketType::kSuback) return "Granted QoS 0";
      return "Success";
    case 0x01: return "Granted QoS 1";
    case 0x02: return "Granted QoS 2";
    case 0x04: return "Disconnect with Will Message";
    case 0x10: return "No matching subscribers";
    case 0x11: return "No subscription existed";
    case 0x18: return "Continue authentication";
    case 0x19: return "Re-authenticate";
    case 0x80: return "Unspecified error";
    case 0x81: return "Malformed Packet";
    case 0x82: return "Protocol Error";
    case 0x83: return "Implementation specific error";
    case 0x84: return "Unsupported Protocol Version";
    case 0x85: return "Client Identifier not valid";
    case 0x86: return "Bad User Name or Password";
    case 0x87: return "Not authorized";
    case 0x88: return "Server unavailable";
    case 0x89: return "Server busy";
    case 0x8A: return "Banned";
    case 0x8B: return "Server shutting down";
    case 0x8C: return "Bad authentication method";
    case 0x8D: return "Keep Alive timeout";
    case 0x8E: return "Session taken over";
    case 0x8F: return "Topic Filter invalid";
    case 0x90: return "Topic Name invalid";
    case 0x91: return "Packet Identifier in use";
    case 0x92: return "Packet Identifier not found";
    case 0x93: return "Receive Maximum exceeded";
    case 0x94: return "Topic Alias invalid";
    case 0x95: return "Packet too large";
    case 0x96: return "Message rate too high";
    case 0x97: return "Quota exceeded";
    case 0x98: return "Administrative action";
    case 0x99: return "Payload format invalid";
    case 0x9A: return "Retain not supported";
    case 0x9B: return "QoS not supported";
    case 0x9C: return "Use another server";
    case 0x9D: return "Server moved";
    case 0x9E: return "Shared Subscriptions not supported";
    case 0x9F: return "Connection rate exceeded";
    case 0xA0: return "Maximum connect time";
    case 0xA1: return "Subscription Identifiers not supported";
    case 0xA2: return "Wildcard Subscriptions not supported";
  }
  return "Unknown";
}

namespace {

template <size_t N>
bool Contains(const std::array<uint8_t, N>& table, uint8_t code) {
  return std::find(table.begin(), table.end(), code) != table.end();
}

constexpr std::array<uint8_t, 22> kConnackCodes = {
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
constexpr std::array<uint8_t, 9> kPubackCodes = {0x00, 0x10, 0x80, 0x83, 0x87,
                                                 0x90, 0x91, 0x97, 0x99};
constexpr std::array<uint8_t, 2> kPubrelCodes = {0x00, 0x92};
constexpr std::array<uint8_t, 12> kSubackCodes = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                                  0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
constexpr std::array<uint8_t, 7> kUnsubackCodes = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
constexpr std::array<uint8_t, 29> kDisconnectCodes = {
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
    0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
constexpr std::array<uint8_t, 3> kAuthCodes = {0x00, 0x18, 0x19};

}  // namespace

bool IsReasonCodeAllowed(PacketType packet, uint8_t code) {
  switch (packet) {
    case PacketType::kConnack: return Contains(kConnackCodes, code);
    case PacketType::kPuback:
    case PacketType::kPubrec: return Contains(kPubackCodes, code);
    case PacketType::kPubrel:
    case PacketType::kPubcomp: return Contains(kPubrelCodes, code);
    case PacketType::kSuback: return Contains(kSubackCodes, code);
    case PacketType::kUnsuback: return Contains(kUnsubackCodes, code);
    case PacketType::kDisconnect: return Contains(kDisconnectCodes, code);
    case PacketType::kAuth: return Contains(kAuthCodes, code);
    default: return false;
  }
}

std::string_view ConnectReturnCodeName(ConnectReturnCode code) {
  switch (code) {
    case ConnectReturnCode::kAccepted: return "Connection Accepted";
    case ConnectReturnCode::kUnacceptableProtocolVersion:
      return "Connection Refused, unacceptable protocol version";
    case ConnectReturnCode::kIdentifierRejected: return "Connection Refused, identifier rejected";
    case ConnectReturnCode::kServerUnavailable: return "Connection Refused, Server unavailable";
    case ConnectReturnCode::kBadUserNameOrPassword:
      return "Connection Refused, bad user name or password";
    case ConnectReturnCode::kNotAuthorized: return "Connection Refused, not authorized";
  }
  return "Unknown";
}

std::optional<ConnectReturnCode> V311ConnectReturnCodeFor(ReasonCode code) {
  switch (code) {
    case ReasonCode::kSuccess: return ConnectReturnCode::kAccepted;
    case ReasonCode::kUnsupportedProtocolVersion:
      return ConnectReturnCode::kUnacceptableProtocolVersion;
    case ReasonCode::kClientIdentifierNotValid: return ConnectReturnCode::kIdentifierRejected;
    case ReasonCode::kServerUnavailable:
    case ReasonCode::kServerBusy:
    case ReasonCode::kUnspecifiedError:
      return ConnectReturnCode::kServerUnavailable;
    case ReasonCode::kBadUserNameOrPassword: return ConnectReturnCode::kBadUserNameOrPassword;
    case ReasonCode::kNotAuthorized:
    case ReasonCode::kBanned:
      return ConnectReturnCode::kNotAuthorized;
    default: return std::nullopt;
  }
}

std::optional<ReasonCode> ReasonCodeForV311ConnectReturnCode(uint8_t code) {
  switch (code) {
    case 0: return ReasonCode::kSuccess;
    case 1: return ReasonCode::kUnsupportedProtocolVersion;
    case 2: return ReasonCode::kClientIdentifierNotValid;
    case 3: return ReasonCode::kServerUnavailable;
    case 4: return ReasonCode::kBadUserNameOrPassword;
    case 5: return ReasonCode::kNotAuthorized;
    default: return std::nullopt;
  }
}

namespace {

constexpr PropertyContext C(PacketType t) { return ContextOf(t); }
constexpr PropertyContext kWill = kWillPropertiesContext;
constexpr PropertyContext kAcks = C(PacketType::kPuback) | C(PacketType::kPubrec) |
                                  C(PacketType::kPubrel) | C(PacketType::kPubcomp);

// Section 2.2.2.2, Table 2-4.
constexpr PropertyInfo kProperties[] = {
    {PropertyId::kPayloadFormatIndicator, "Payload Format Indicator", PropertyType::kByte,
     static_cast<PropertyContext>(C(PacketType::kPublish) | kWill), false},
    {PropertyId::kMessageExpiryInterval, "Message Expiry Interval",
     PropertyType::kFourByteInteger,
     static_cast<PropertyContext>(C(PacketType::kPublish) | kWill), false},
    {PropertyId::kContentType, "Content Type", PropertyType::kUtf8String,
     static_cast<PropertyContext>(C(PacketType::kPublish) | kWill), false},
    {PropertyId::kResponseTopic, "Response Topic", PropertyType::kUtf8String,
     static_cast<PropertyContext>(C(PacketType::kPublish) | kWill), false},
    {PropertyId::kCorrelationData, "Correlation Data", PropertyType::kBinaryData,
     static_cast<PropertyContext>(C(PacketType::kPublish) | kWill), false},
    {PropertyId::kSubscriptionIdentifier, "Subscription Identifier",
     PropertyType::kVariableByteInteger,
     static_cast<PropertyContext>(C(PacketType::kPublish) | C(PacketType::kSubscribe)), true},
    {PropertyId::kSessionExpiryInterval, "Session Expiry Interval",
     PropertyType::kFourByteInteger,
     static_cast<PropertyContext>(C(PacketType::kConnect) | C(PacketType::kConnack) |
                                  C(PacketType::kDisconnect)),
     false},
    {PropertyId::kAssignedClientIdentifier, "Assigned Client Identifier",
     PropertyType::kUtf8String, C(PacketType::kConnack), false},
    {PropertyId::kServerKeepAlive, "Server Keep Alive", PropertyType::kTwoByteInteger,
     C(PacketType::kConnack), false},
    {PropertyId::kAuthenticationMethod, "Authentication Method", PropertyType::kUtf8String,
     static_cast<PropertyContext>(C(PacketType::kConnect) | C(PacketType::kConnack) |
                                  C(PacketType::kAuth)),
     false},
    {PropertyId::kAuthenticationData, "Authentication Data", PropertyType::kBinaryData,
     static_cast<PropertyContext>(C(PacketType::kConnect) | C(PacketType::kConnack) |
                                  C(PacketType::kAuth)),
     false},
    {PropertyId::kRequestProblemInformation, "Request Problem Information", PropertyType::kByte,
     C(PacketType::kConnect), false},
    {PropertyId::kWillDelayInterval, "Will Delay Interval", PropertyType::kFourByteInteger,
     kWill, false},
    {PropertyId::kRequestResponseInformation, "Request Response Information",
     PropertyType::kByte, C(PacketType::kConnect), false},
    {PropertyId::kResponseInformation, "Response Information", PropertyType::kUtf8String,
     C(PacketType::kConnack), false},
    {PropertyId::kServerReference, "Server Reference", PropertyType::kUtf8String,
     static_cast<PropertyContext>(C(PacketType::kConnack) | C(PacketType::kDisconnect)), false},
    {PropertyId::kReasonString, "Reason String", PropertyType::kUtf8String,
     static_cast<PropertyContext>(C(PacketType::kConnack) | kAcks | C(PacketType::kSuback) |
                                  C(PacketType::kUnsuback) | C(PacketType::kDisconnect) |
                                  C(PacketType::kAuth)),
     false},
    {PropertyId::kReceiveMaximum, "Receive Maximum", PropertyType::kTwoByteInteger,
     static_cast<PropertyContext>(C(PacketType::kConnect) | C(PacketType::kConnack)), false},
    {PropertyId::kTopicAliasMaximum, "Topic Alias Maximum", PropertyType::kTwoByteInteger,
     static_cast<PropertyContext>(C(PacketType::kConnect) | C(PacketType::kConnack)), false},
    {PropertyId::kTopicAlias, "Topic Alias", PropertyType::kTwoByteInteger,
     C(PacketType::kPublish), false},
    {PropertyId::kMaximumQos, "Maximum QoS", PropertyType::kByte, C(PacketType::kConnack),
     false},
    {PropertyId::kRetainAvailable, "Retain Available", PropertyType::kByte,
     C(PacketType::kConnack), false},
    {PropertyId::kUserProperty, "User Property", PropertyType::kUtf8StringPair,
     static_cast<PropertyContext>(C(PacketType::kConnect) | C(PacketType::kConnack) |
                                  C(PacketType::kPublish) | kWill | kAcks |
                                  C(PacketType::kSubscribe) | C(PacketType::kSuback) |
                                  C(PacketType::kUnsubscribe) | C(PacketType::kUnsuback) |
                                  C(PacketType::kDisconnect) | C(PacketType::kAuth)),
     true},
    {PropertyId::kMaximumPacketSize, "Maximum Packet Size", PropertyType::kFourByteInteger,
     static_cast<PropertyContext>(C(PacketType::kConnect) | C(PacketType::kConnack)), false},
    {PropertyId::kWildcardSubscriptionAvailable, "Wildcard Subscription Available",
     PropertyType::kByte, C(PacketType::kConnack), false},
    {PropertyId::kSubscriptionIdentifierAvailable, "Subscription Identifier Available",
     PropertyType::kByte, C(PacketType::kConnack), false},
    {PropertyId::kSharedSubscriptionAvailable, "Shared Subscription Available",
     PropertyType::kByte, C(PacketType::kConnack), false},
};

}  // namespace

const PropertyInfo* FindPropertyInfo(uint8_t id) {
  for (const PropertyInfo& info : kProperties) {
    if (static_cast<uint8_t>(info.id) == id) return &info;
  }
  return nullptr;
}

bool Properties::empty() const {
  return !payload_format_indicator && !message_expiry_interval && !content_type &&
         !response_topic && !correlation_data && subscription_identifiers.empty() &&
         !session_expiry_interval && !assigned_client_identifier && !server_keep_alive &&
         !authentication_method && !authentication_data && !request_problem_information &&
         !will_delay_interval && !request_response_information && !response_information &&
         !server_reference && !reason_string && !receive_maximum && !topic_alias_maximum &&
         !topic_alias && !maximum_qos && !retain_available && user_properties.empty() &&
         !maximum_packet_size && !wildcard_subscription_available &&
         !subscription_identifier_available && !shared_subscription_available;
}

void Properties::Clear() {
  payload_format_indicator.reset();
  message_expiry_interval.reset();
  content_type.reset();
  response_topic.reset();
  correlation_data.reset();
  subscription_identifiers.clear();
  session_expiry_interval.reset();
  assigned_client_identifier.reset();
  server_keep_alive.reset();
  authentication_method.reset();
  authentication_data.reset();
  request_problem_information.reset();
  will_delay_interval.reset();
  request_response_information.reset();
  response_information.reset();
  server_reference.reset();
  reason_string.reset();
  receive_maximum.reset();
  topic_alias_maximum.reset();
  topic_alias.reset();
  maximum_qos.reset();
  retain_available.reset();
  user_properties.clear();
  maximum_packet_size.reset();
  wildcard_subscription_available.reset();
  subscription_identifier_available.reset();
  shared_subscription_available.reset();
}

}  // namespace wpsim::protocol::mqtt
