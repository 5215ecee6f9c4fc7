#include "conformance/expectations.h"

#include <algorithm>
#include <span>

#include "base/encoding.h"

namespace wpsim::conformance {
namespace {

using clients::Observation;
namespace wps = protocol::webpubsub;

std::span<const uint8_t> Bytes(const wps::Payload& p) {
  std::string_view v = p.data.view();
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size()};
}

bool IsJsonMessage(Observation::Kind k) {
  return k == Observation::Kind::kGroupMessage || k == Observation::Kind::kServerMessage;
}

// The client SDK 1.1 answers (PROTOCOL.md §9.1, §9.2).
bool IsPreviewAnswer(Observation::Kind k) {
  return k == Observation::Kind::kInvokeResponse || k == Observation::Kind::kStreamAck ||
         k == Observation::Kind::kStreamNack || k == Observation::Kind::kStreamClosed;
}

// Observations that carry an error name (error_name) and message (text) a matcher's `error`
// and `error_message` look at: acks, the SDK 1.1 answers, and a stream group message.
bool HasError(const Observation& o) {
  return o.kind == Observation::Kind::kAck || IsPreviewAnswer(o.kind) ||
         (o.kind == Observation::Kind::kGroupMessage && !o.stream_id.empty());
}

std::string TypeOf(const Observation& o) {
  switch (o.kind) {
    case Observation::Kind::kGroupMessage:
    case Observation::Kind::kServerMessage: return "message";
    case Observation::Kind::kConnected:
    case Observation::Kind::kDisconnected: return "system";
    case Observation::Kind::kAck: return "ack";
    case Observation::Kind::kPong: return "pong";
    default: return std::string(clients::ObservationKindName(o.kind));
  }
}

DataType ToModel(wps::DataType t) {
  switch (t) {
    case wps::DataType::kJson: return DataType::kJson;
    case wps::DataType::kText: return DataType::kText;
    case wps::DataType::kBinary: return DataType::kBinary;
    case wps::DataType::kProtobuf: return DataType::kProtobuf;
  }
  return DataType::kJson;
}

bool MatchNullable(const NullableString& want, const std::optional<std::string>& got) {
  if (want.is_null) return !got.has_value() || got->empty();
  return got.has_value() && *got == want.value;
}

}  // namespace

bool IsMessage(const ObservedEvent& event, ClientKind kind) {
  const Observation::Kind k = event.observation.kind;
  if (kind == ClientKind::kWebSocket) return k == Observation::Kind::kRawMessage;
  // MQTT: PUBLISH packets only (acknowledgements are checked by suback/puback/connack).
  if (IsMqtt(kind)) return IsJsonMessage(k) && event.observation.mqtt.has_value();
  return IsJsonMessage(k) || k == Observation::Kind::kConnected ||
         k == Observation::Kind::kDisconnected || k == Observation::Kind::kAck ||
         k == Observation::Kind::kPong || k == Observation::Kind::kReplayDropped ||
         IsPreviewAnswer(k);
}

nlohmann::json PayloadAsJson(const Observation& o, bool* ok) {
  *ok = true;
  const wps::Payload& p = o.payload;
  if (o.kind == Observation::Kind::kRawMessage) {
    if (p.type != wps::DataType::kText) {
      *ok = false;
      return nullptr;
    }
    nlohmann::json j = nlohmann::json::parse(p.data.view(), nullptr, false);
    if (j.is_discarded()) *ok = false;
    return j;
  }
  switch (p.type) {
    case wps::DataType::kJson: {
      if (p.data.view().empty()) return nullptr;
      nlohmann::json j = nlohmann::json::parse(p.data.view(), nullptr, false);
      if (j.is_discarded()) {
        *ok = false;
        return nullptr;
      }
      return j;
    }
    case wps::DataType::kText: return std::string(p.data.view());
    case wps::DataType::kBinary:
    case wps::DataType::kProtobuf: return Base64Encode(Bytes(p));
  }
  return nullptr;
}

std::string PayloadText(const Observation& o) {
  const wps::Payload& p = o.payload;
  if (p.type == wps::DataType::kBinary || p.type == wps::DataType::kProtobuf) {
    if (o.kind == Observation::Kind::kRawMessage) return std::string(p.data.view());
    return Base64Encode(Bytes(p));
  }
  return std::string(p.data.view());
}

bool MatchMqttMessage(const MessageMatcher& m, const Observation& o) {
  const clients::MqttObservation& q = *o.mqtt;
  const protocol::mqtt::Properties& p = q.properties;
  const std::string_view bytes = o.payload.data.view();
  if (m.topic && q.topic != *m.topic) return false;
  if (m.qos && q.qos != *m.qos) return false;
  if (m.retain && q.retain != *m.retain) return false;
  if (m.payload && bytes != *m.payload) return false;
  if (m.data) {
    nlohmann::json got = nlohmann::json::parse(bytes, nullptr, false);
    if (got.is_discarded() || got != *m.data) return false;
  }
  if (m.data_contains && bytes.find(*m.data_contains) == std::string_view::npos) return false;
  if (m.content_type && p.content_type != m.content_type) return false;
  if (m.message_expiry_s && p.message_expiry_interval != m.message_expiry_s) return false;
  if (m.response_topic && p.response_topic != m.response_topic) return false;
  if (m.correlation_data) {
    if (!p.correlation_data) return false;
    std::string_view got(reinterpret_cast<const char*>(p.correlation_data->data()), p.correlation_data->size());
    if (got != *m.correlation_data) return false;
  }
  for (const MqttUserProperty& u : m.user_properties) {
    bool found = false;
    for (const protocol::mqtt::UserProperty& g : p.user_properties) {
      if (g.key == u.name && g.value == u.value) found = true;
    }
    if (!found) return false;
  }
  if (m.subscription_identifier &&
      std::find(p.subscription_identifiers.begin(), p.subscription_identifiers.end(),
                *m.subscription_identifier) == p.subscription_identifiers.end()) {
    return false;
  }
  if (m.payload_format_indicator && p.payload_format_indicator != m.payload_format_indicator) return false;
  return true;
}

bool MatchMessage(const MessageMatcher& m, const ObservedEvent& event, ClientKind kind,
                  const std::vector<std::string>& connection_ids) {
  if (!IsMessage(event, kind)) return false;
  if (IsMqtt(kind)) return MatchMqttMessage(m, event.observation);
  const Observation& o = event.observation;
  if (o.kind == Observation::Kind::kReplayDropped) {
    // A replay the client dropped matches only `type: replay`; the other keys see it as the
    // data message it repeats.
    if (!m.type || *m.type != "replay") return false;
    Observation as = o;
    as.kind = o.group.empty() ? Observation::Kind::kServerMessage : Observation::Kind::kGroupMessage;
    MessageMatcher rest = m;
    rest.type.reset();
    return MatchMessage(rest, ObservedEvent{as, event.time_ns, event.transport, event.serial}, kind,
                        connection_ids);
  }
  const bool is_msg = IsJsonMessage(o.kind) || o.kind == Observation::Kind::kRawMessage ||
                      o.kind == Observation::Kind::kInvokeResponse;
  if (m.type && *m.type != TypeOf(o)) return false;
  if (m.from) {
    if (o.kind == Observation::Kind::kGroupMessage && *m.from != "group") return false;
    if (o.kind == Observation::Kind::kServerMessage && *m.from != "server") return false;
    if (!IsJsonMessage(o.kind)) return false;
  }
  if (m.group && (o.kind != Observation::Kind::kGroupMessage || o.group != *m.group)) return false;
  // An invokeResponse without data has no dataType.
  const bool invoke_data = o.kind == Observation::Kind::kInvokeResponse && !o.payload.data.empty();
  if (m.data_type &&
      ((!IsJsonMessage(o.kind) && !invoke_data) || ToModel(o.payload.type) != *m.data_type)) {
    return false;
  }
  if (m.data) {
    if (!is_msg) return false;
    bool ok = false;
    nlohmann::json got = PayloadAsJson(o, &ok);
    if (!ok || got != *m.data) return false;
  }
  if (m.data_contains) {
    if (!is_msg) return false;
    if (PayloadText(o).find(*m.data_contains) == std::string::npos) return false;
  }
  if (m.user_id) {
    if (o.kind != Observation::Kind::kConnected || !MatchNullable(*m.user_id, o.user_id)) {
      return false;
    }
  }
  if (m.from_user_id) {
    if (o.kind != Observation::Kind::kGroupMessage || !MatchNullable(*m.from_user_id, o.from_user_id)) {
      return false;
    }
  }
  if (m.event) {
    std::string ev = o.kind == Observation::Kind::kConnected      ? "connected"
                     : o.kind == Observation::Kind::kDisconnected ? "disconnected"
                                                                  : "";
    if (ev != *m.event) return false;
  }
  if (m.connection_id) {
    if (o.kind != Observation::Kind::kConnected || m.connection_id->members.empty()) return false;
    uint32_t ref = m.connection_id->members.front();
    if (ref >= connection_ids.size() || connection_ids[ref] != o.connection_id) return false;
  }
  if (m.message && (o.kind != Observation::Kind::kDisconnected || o.text != *m.message)) {
    return false;
  }
  if (m.ack_id && (o.kind != Observation::Kind::kAck || o.ack_id != *m.ack_id)) return false;
  if (m.success) {
    const bool has_success = o.kind == Observation::Kind::kAck ||
                             o.kind == Observation::Kind::kInvokeResponse ||
                             o.kind == Observation::Kind::kStreamClosed;
    if (!has_success || o.success != *m.success) return false;
  }
  if (m.error && (!HasError(o) || o.error_name != *m.error)) return false;
  if (m.error_message && (!HasError(o) || o.error_name.empty() || o.text != *m.error_message)) {
    return false;
  }
  if (m.invocation_id &&
      (o.kind != Observation::Kind::kInvokeResponse || o.invocation_id != *m.invocation_id)) {
    return false;
  }
  if (m.stream_id && (o.stream_id.empty() || o.stream_id != *m.stream_id)) return false;
  if (m.stream_sequence_id && o.stream_sequence_id != m.stream_sequence_id) return false;
  if (m.end_of_stream && (o.stream_id.empty() || o.kind != Observation::Kind::kGroupMessage ||
                          o.end_of_stream != *m.end_of_stream)) {
    return false;
  }
  if (m.expected_sequence_id &&
      ((o.kind != Observation::Kind::kStreamAck && o.kind != Observation::Kind::kStreamNack) ||
       o.expected_sequence_id != *m.expected_sequence_id)) {
    return false;
  }
  if (m.user_error_code && (o.stream_id.empty() || o.user_error_code != *m.user_error_code)) {
    return false;
  }
  if (m.metadata) {
    if (!is_msg) return false;
    auto want = *m.metadata;
    auto got = o.payload.metadata;
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    if (want != got) return false;
  }
  if (m.sequence_id) {
    if (m.sequence_id->present != o.sequence_id.has_value()) return false;
    if (m.sequence_id->value && o.sequence_id != m.sequence_id->value) return false;
  }
  if (m.reconnection_token &&
      (o.kind != Observation::Kind::kConnected ||
       *m.reconnection_token == o.reconnection_token.empty())) {
    return false;
  }
  if (m.frame) {
    if (o.kind != Observation::Kind::kRawMessage) return false;
    const bool text = o.payload.type == wps::DataType::kText;
    if (text != (*m.frame == MessageMatcher::Frame::kText)) return false;
  }
  if (m.text) {
    if (o.kind != Observation::Kind::kRawMessage || o.payload.type != wps::DataType::kText ||
        o.payload.data.view() != *m.text) {
      return false;
    }
  }
  if (m.binary) {
    if (o.kind != Observation::Kind::kRawMessage || o.payload.type == wps::DataType::kText ||
        o.payload.data.view() != *m.binary) {
      return false;
    }
  }
  // MQTT fields never match a WebSocket observation.
  if (m.topic || m.qos || m.retain || m.payload || m.content_type || m.message_expiry_s ||
      m.response_topic || m.correlation_data || !m.user_properties.empty() ||
      m.subscription_identifier || m.payload_format_indicator) {
    return false;
  }
  return true;
}

std::string DescribeMatcher(const MessageMatcher& m) {
  std::string out;
  auto add = [&out](std::string_view k, const std::string& v) {
    if (!out.empty()) out += ' ';
    out += k;
    out += '=';
    out += v;
  };
  if (m.type) add("type", *m.type);
  if (m.from) add("from", *m.from);
  if (m.group) add("group", *m.group);
  if (m.data_type) add("data_type", std::string(DataTypeName(*m.data_type)));
  if (m.data) add("data", m.data->dump());
  if (m.data_contains) add("data_contains", nlohmann::json(*m.data_contains).dump());
  if (m.user_id) add("user_id", m.user_id->is_null ? "null" : m.user_id->value);
  if (m.from_user_id) add("from_user_id", m.from_user_id->is_null ? "null" : m.from_user_id->value);
  if (m.event) add("event", *m.event);
  if (m.connection_id) add("connection_id", m.connection_id->text);
  if (m.message) add("message", nlohmann::json(*m.message).dump());
  if (m.ack_id) add("ack_id", std::to_string(*m.ack_id));
  if (m.success) add("success", *m.success ? "true" : "false");
  if (m.error) add("error", *m.error);
  if (m.error_message) add("error_message", nlohmann::json(*m.error_message).dump());
  if (m.invocation_id) add("invocation_id", *m.invocation_id);
  if (m.stream_id) add("stream_id", *m.stream_id);
  if (m.stream_sequence_id) add("stream_sequence_id", std::to_string(*m.stream_sequence_id));
  if (m.end_of_stream) add("end_of_stream", *m.end_of_stream ? "true" : "false");
  if (m.expected_sequence_id) add("expected_sequence_id", std::to_string(*m.expected_sequence_id));
  if (m.user_error_code) add("user_error_code", *m.user_error_code);
  if (m.metadata) {
    nlohmann::json md = nlohmann::json::object();
    for (const auto& [k, v] : *m.metadata) md[k] = v;
    add("metadata", md.dump());
  }
  if (m.sequence_id) {
    add("sequence_id", m.sequence_id->value ? std::to_string(*m.sequence_id->value)
                                            : (m.sequence_id->present ? "present" : "absent"));
  }
  if (m.reconnection_token) add("reconnection_token", *m.reconnection_token ? "present" : "absent");
  if (m.frame) add("frame", *m.frame == MessageMatcher::Frame::kText ? "text" : "binary");
  if (m.text) add("text", nlohmann::json(*m.text).dump());
  if (m.binary) add("binary", std::to_string(m.binary->size()) + " bytes");
  if (m.topic) add("topic", *m.topic);
  if (m.qos) add("qos", std::to_string(*m.qos));
  if (m.retain) add("retain", *m.retain ? "true" : "false");
  if (m.payload) add("payload", nlohmann::json(*m.payload).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (m.content_type) add("content_type", *m.content_type);
  if (m.message_expiry_s) add("message_expiry", std::to_string(*m.message_expiry_s) + "s");
  if (m.response_topic) add("response_topic", *m.response_topic);
  if (m.correlation_data) add("correlation_data", std::to_string(m.correlation_data->size()) + " bytes");
  for (const MqttUserProperty& u : m.user_properties) add("user_property", u.name + "=" + u.value);
  if (m.subscription_identifier) add("subscription_identifier", std::to_string(*m.subscription_identifier));
  if (m.payload_format_indicator) add("payload_format_indicator", std::to_string(*m.payload_format_indicator));
  if (out.empty()) out = "any message";
  return out;
}

std::string DescribeObservation(const Observation& o) {
  std::string out = std::string(clients::ObservationKindName(o.kind));
  auto quoted = [](std::string s) {
    if (s.size() > 80) s = s.substr(0, 77) + "...";
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  if (o.mqtt) {
    // MQTT packets: "publish topic=t qos=1 \"payload\"", "connack 0 session_present", ...
    const clients::MqttObservation& q = *o.mqtt;
    out = q.packet.empty() ? out : q.packet;
    if (q.packet == "publish") {
      out += " topic=" + q.topic + " qos=" + std::to_string(q.qos);
      if (q.retain) out += " retain";
      if (q.dup) out += " dup";
      if (q.properties.content_type) out += " content_type=" + *q.properties.content_type;
      out += " " + quoted(std::string(o.payload.data.view()));
      return out;
    }
    if (o.kind == Observation::Kind::kAck) out += " " + std::to_string(o.ack_id);
    for (protocol::mqtt::ReasonCode c : q.reason_codes) out += " " + std::to_string(static_cast<int>(c));
    if (q.packet == "connack") {
      if (q.session_present) out += " session_present";
      if (!o.connection_id.empty()) out += " client_id=" + o.connection_id;
    }
    if (!o.text.empty()) out += " " + quoted(o.text);
    return out;
  }
  if (o.kind == Observation::Kind::kReplayDropped && !o.group.empty()) out += " group=" + o.group;
  switch (o.kind) {
    case Observation::Kind::kGroupMessage:
      out += " group=" + o.group;
      if (o.from_user_id) out += " from_user_id=" + *o.from_user_id;
      [[fallthrough]];
    case Observation::Kind::kServerMessage:
    case Observation::Kind::kRawMessage:
    case Observation::Kind::kReplayDropped:
      out += " ";
      out += wps::DataTypeName(o.payload.type);
      out += " " + quoted(PayloadText(o));
      if (o.sequence_id) out += " seq=" + std::to_string(*o.sequence_id);
      if (!o.stream_id.empty()) {
        out += " stream=" + o.stream_id;
        if (o.stream_sequence_id) out += "#" + std::to_string(*o.stream_sequence_id);
        if (o.end_of_stream) out += " end";
        if (!o.error_name.empty()) out += " " + o.error_name;
      }
      break;
    case Observation::Kind::kInvokeResponse:
      out += " invocation_id=" + o.invocation_id;
      if (o.success) {
        out += " success";
        if (!o.payload.data.empty()) {
          out += " ";
          out += wps::DataTypeName(o.payload.type);
          out += " " + quoted(PayloadText(o));
        }
      } else {
        out += " " + o.error_name + " " + quoted(o.text);
      }
      break;
    case Observation::Kind::kStreamAck:
      out += " stream=" + o.stream_id + " expected=" + std::to_string(o.expected_sequence_id);
      break;
    case Observation::Kind::kStreamNack:
      out += " stream=" + o.stream_id + " " + o.error_name +
             " expected=" + std::to_string(o.expected_sequence_id);
      break;
    case Observation::Kind::kStreamClosed:
      out += " stream=" + o.stream_id;
      if (!o.error_name.empty()) out += " " + o.error_name + " " + quoted(o.text);
      break;
    case Observation::Kind::kConnected:
      out += " user_id=" + (o.user_id ? *o.user_id : std::string("null"));
      break;
    case Observation::Kind::kDisconnected: out += " " + quoted(o.text); break;
    case Observation::Kind::kAck:
      out += " ack_id=" + std::to_string(o.ack_id) + (o.success ? " success" : " " + o.error_name);
      break;
    case Observation::Kind::kClosed:
      out += " code=" + std::to_string(o.close_code);
      if (!o.text.empty()) out += " " + quoted(o.text);
      break;
    case Observation::Kind::kHandshakeFailed:
      out += " status=" + std::to_string(o.http_status);
      if (!o.text.empty()) out += " " + quoted(o.text);
      break;
    case Observation::Kind::kHttpResponse:
      out += " status=" + std::to_string(o.http_status);
      break;
    default: break;
  }
  return out;
}

}  // namespace wpsim::conformance
