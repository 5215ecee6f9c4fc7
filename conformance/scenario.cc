#include "conformance/scenario.h"

namespace wpsim::conformance {

std::string FormatPos(const SourcePos& pos) {
  if (pos.line <= 0) return pos.file;
  return pos.file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
}

std::string_view ClientKindName(ClientKind kind) {
  switch (kind) {
    case ClientKind::kWebSocket:
      return "websocket";
    case ClientKind::kJson:
      return "json";
    case ClientKind::kReliable:
      return "reliable";
    case ClientKind::kMqtt311:
      return "mqtt311";
    case ClientKind::kMqtt5:
      return "mqtt5";
    case ClientKind::kRest:
      return "rest";
    case ClientKind::kProtobuf:
      return "protobuf";
    case ClientKind::kReliableProtobuf:
      return "reliable_protobuf";
  }
  return "?";
}

bool IsMqtt(ClientKind kind) { return kind == ClientKind::kMqtt311 || kind == ClientKind::kMqtt5; }
bool IsJsonProtocol(ClientKind kind) {
  return kind == ClientKind::kJson || kind == ClientKind::kReliable;
}
bool IsProtobufKind(ClientKind kind) {
  return kind == ClientKind::kProtobuf || kind == ClientKind::kReliableProtobuf;
}
bool IsReliableKind(ClientKind kind) {
  return kind == ClientKind::kReliable || kind == ClientKind::kReliableProtobuf;
}
bool IsWebSocketConnection(ClientKind kind) { return kind != ClientKind::kRest; }

std::string_view TokenFaultName(TokenFault fault) {
  switch (fault) {
    case TokenFault::kNone:
      return "none";
    case TokenFault::kExpired:
      return "expired";
    case TokenFault::kNotYetValid:
      return "not_yet_valid";
    case TokenFault::kWrongKey:
      return "wrong_key";
    case TokenFault::kWrongAudience:
      return "wrong_audience";
    case TokenFault::kAlgNone:
      return "alg_none";
    case TokenFault::kBadSignature:
      return "bad_signature";
    case TokenFault::kMalformed:
      return "malformed";
    case TokenFault::kMissing:
      return "missing";
    case TokenFault::kNoExpiry:
      return "no_expiry";
    case TokenFault::kFourSegments:
      return "four_segments";
    case TokenFault::kSignatureFirstByte:
      return "bad_signature_first_byte";
  }
  return "?";
}

std::string_view TargetName(Target target) {
  switch (target) {
    case Target::kSim:
      return "sim";
    case Target::kLocal:
      return "local";
    case Target::kRemote:
      return "remote";
  }
  return "?";
}

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kJson:
      return "json";
    case DataType::kText:
      return "text";
    case DataType::kBinary:
      return "binary";
    case DataType::kProtobuf:
      return "protobuf";
  }
  return "?";
}

std::string_view ExpectKindName(ExpectKind kind) {
  switch (kind) {
    case ExpectKind::kReceive:
      return "receive";
    case ExpectKind::kNeverReceive:
      return "never_receive";
    case ExpectKind::kAck:
      return "ack";
    case ExpectKind::kClosed:
      return "closed";
    case ExpectKind::kConnected:
      return "connected";
    case ExpectKind::kHttpStatus:
      return "http_status";
    case ExpectKind::kConnack:
      return "connack";
    case ExpectKind::kSuback:
      return "suback";
    case ExpectKind::kPuback:
      return "puback";
    case ExpectKind::kUpstreamEvent:
      return "upstream_event";
    case ExpectKind::kWire:
      return "wire";
  }
  return "?";
}

std::string_view InvariantKindName(InvariantKind kind) {
  switch (kind) {
    case InvariantKind::kNoDeliveryOutsideGroup:
      return "no_delivery_outside_group";
    case InvariantKind::kPerPublisherOrder:
      return "per_publisher_order";
    case InvariantKind::kNoDuplicates:
      return "no_duplicates";
    case InvariantKind::kSequenceIdsContiguous:
      return "sequence_ids_contiguous";
  }
  return "?";
}

std::optional<uint32_t> Scenario::FindClient(std::string_view client_name) const {
  for (uint32_t i = 0; i < clients.size(); ++i) {
    if (clients[i].name == client_name) return i;
  }
  return std::nullopt;
}

std::optional<uint32_t> Scenario::FindStep(std::string_view label) const {
  auto it = step_labels.find(label);
  if (it == step_labels.end()) return std::nullopt;
  return it->second;
}

Requirements Scenario::Needs() const {
  Requirements r;
  r.network_control = network.present;
  r.fault_injection = !service.inject_bug.empty();
  r.scripted_upstream = upstream.present;
  const ServiceSettings& s = service;
  r.service_config = s.recovery_window_ns || s.reliable_buffer_messages || s.reliable_buffer_bytes ||
                     s.keepalive_ns || s.anonymous || s.max_message_bytes ||
                     s.mqtt_session_window_ns || s.upstream_timeout_ns || s.token_clock_skew_ns;
  for (const Step& step : steps) {
    if (step.Is<PartitionStep>() || step.Is<HealStep>() || step.Is<DelayStep>() ||
        step.Is<ResetStep>()) {
      r.network_control = true;
    }
    if (step.Is<ClockSkewStep>()) r.clock_control = true;
  }
  return r;
}

bool Scenario::HasTag(std::string_view tag) const {
  for (const std::string& t : tags) {
    if (t == tag) return true;
  }
  return false;
}

}  // namespace wpsim::conformance
