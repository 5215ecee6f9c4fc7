#include "protocol/webpubsub/service_messages.h"

#include <charconv>
#include <cstring>

#include "base/encoding.h"
#include "protocol/webpubsub/client_requests.h"
#include "protocol/webpubsub/encode_buffer.h"
#include "protocol/webpubsub/json_text.h"

namespace wpsim::protocol::webpubsub {

// ---- Encoders ---------------------------------------------------------------------------

SharedBytes EncodeAck(uint64_t ack_id) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"ack\",\"ackId\":";
  AppendUint64(out, ack_id);
  out += ",\"success\":true}";
  return internal::ToShared(out);
}

SharedBytes EncodeAckError(uint64_t ack_id, std::string_view name, std::string_view message) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"ack\",\"ackId\":";
  AppendUint64(out, ack_id);
  out += ",\"success\":false,\"error\":{\"name\":";
  AppendJsonString(out, name);
  out += ",\"message\":";
  AppendJsonString(out, message);
  out += "}}";
  return internal::ToShared(out);
}

std::string DuplicateAckMessage(uint64_t ack_id) {
  std::string message = "Message with ack-id: ";
  AppendUint64(message, ack_id);
  message += " has been processed";
  return message;
}

SharedBytes EncodeDuplicateAck(uint64_t ack_id) {
  return EncodeAckError(ack_id, kAckErrorDuplicate, DuplicateAckMessage(ack_id));
}

namespace {

// Members after `{` (or after the sequenceId member) up to and including the closing `}`.
void AppendGroupMessageBody(std::string& out, std::string_view group,
                            std::optional<std::string_view> from_user_id, const Payload& payload) {
  out += "\"type\":\"message\",\"from\":\"group\",\"fromUserId\":";
  if (from_user_id) {
    AppendJsonString(out, *from_user_id);
  } else {
    out += "null";
  }
  out += ",\"group\":";
  AppendJsonString(out, group);
  out += ',';
  AppendJsonData(out, payload);
  out += '}';
}

void AppendServerMessageBody(std::string& out, const Payload& payload) {
  out += "\"type\":\"message\",\"from\":\"server\",";
  AppendJsonData(out, payload);
  out += '}';
}

}  // namespace

SharedBytes EncodeGroupMessage(std::string_view group, std::optional<std::string_view> from_user_id,
                               const Payload& payload) {
  std::string& out = internal::ScratchBuffer();
  out += '{';
  AppendGroupMessageBody(out, group, from_user_id, payload);
  return internal::ToShared(out);
}

SharedBytes EncodeServerMessage(const Payload& payload) {
  std::string& out = internal::ScratchBuffer();
  out += '{';
  AppendServerMessageBody(out, payload);
  return internal::ToShared(out);
}

SharedBytes EncodeConnected(std::string_view connection_id,
                            std::optional<std::string_view> user_id,
                            std::optional<std::string_view> reconnection_token) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"system\",\"event\":\"connected\",\"userId\":";
  if (user_id) {
    AppendJsonString(out, *user_id);
  } else {
    out += "null";
  }
  out += ",\"connectionId\":";
  AppendJsonString(out, connection_id);
  if (reconnection_token) {
    out += ",\"reconnectionToken\":";
    AppendJsonString(out, *reconnection_token);
  }
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeDisconnected(std::string_view message) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"system\",\"event\":\"disconnected\",\"message\":";
  AppendJsonString(out, message);
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodePong() { return SharedBytes::Copy(std::string_view("{\"type\":\"pong\"}")); }

size_t SequencedMessage::WriteHead(uint64_t sequence_id, char* head) {
  static constexpr char kPrefix[] = "{\"sequenceId\":";
  constexpr size_t kPrefixBytes = sizeof(kPrefix) - 1;
  std::memcpy(head, kPrefix, kPrefixBytes);
  char* end = std::to_chars(head + kPrefixBytes, head + kSequenceHeadBytesMax - 1, sequence_id).ptr;
  *end++ = ',';
  return static_cast<size_t>(end - head);
}

void SequencedMessage::RenderInto(uint64_t sequence_id, std::string& out) const {
  char head[kSequenceHeadBytesMax];
  const size_t head_bytes = WriteHead(sequence_id, head);
  out.clear();
  out.reserve(head_bytes + tail_.size());
  out.append(head, head_bytes);
  out.append(tail_.view());
}

SharedBytes SequencedMessage::Render(uint64_t sequence_id) const {
  char head[kSequenceHeadBytesMax];
  const size_t head_bytes = WriteHead(sequence_id, head);
  SharedBytes out = SharedBytes::Allocate(head_bytes + tail_.size());
  std::memcpy(out.mutable_data(), head, head_bytes);
  if (!tail_.empty()) std::memcpy(out.mutable_data() + head_bytes, tail_.data(), tail_.size());
  return out;
}

size_t SequencedMessage::RenderedSize(uint64_t sequence_id) const {
  char head[kSequenceHeadBytesMax];
  return WriteHead(sequence_id, head) + tail_.size();
}

SequencedMessage EncodeSequencedGroupMessage(std::string_view group,
                                             std::optional<std::string_view> from_user_id,
                                             const Payload& payload) {
  std::string& out = internal::ScratchBuffer();
  AppendGroupMessageBody(out, group, from_user_id, payload);
  return SequencedMessage(internal::ToShared(out));
}

SequencedMessage EncodeSequencedServerMessage(const Payload& payload) {
  std::string& out = internal::ScratchBuffer();
  AppendServerMessageBody(out, payload);
  return SequencedMessage(internal::ToShared(out));
}

// ---- Group streaming --------------------------------------------------------------------

namespace {

void AppendStreamInfo(std::string& out, const StreamInfo& stream) {
  out += "\"stream\":{\"streamId\":";
  AppendJsonString(out, stream.stream_id);
  out += ",\"streamSequenceId\":";
  AppendUint64(out, stream.stream_sequence_id);
  if (stream.end_of_stream) out += ",\"endOfStream\":true";
  if (stream.error) {
    out += ",\"error\":{\"name\":";
    AppendJsonString(out, stream.error->name);
    if (stream.error->message) {
      out += ",\"message\":";
      AppendJsonString(out, *stream.error->message);
    }
    if (stream.error->user_error_code) {
      out += ",\"userErrorCode\":";
      AppendJsonString(out, *stream.error->user_error_code);
    }
    out += '}';
  }
  out += '}';
}

void AppendGroupStreamBody(std::string& out, std::string_view group,
                           std::optional<std::string_view> from_user_id,
                           const std::optional<Payload>& payload, const StreamInfo& stream) {
  out += "\"type\":\"message\",\"from\":\"group\",\"fromUserId\":";
  if (from_user_id) {
    AppendJsonString(out, *from_user_id);
  } else {
    out += "null";
  }
  out += ",\"group\":";
  AppendJsonString(out, group);
  out += ',';
  if (payload) {
    AppendJsonData(out, *payload);
  } else {
    out += "\"dataType\":\"json\"";
  }
  out += ',';
  AppendStreamInfo(out, stream);
  out += '}';
}

}  // namespace

SharedBytes EncodeGroupStreamMessage(std::string_view group,
                                     std::optional<std::string_view> from_user_id,
                                     const std::optional<Payload>& payload,
                                     const StreamInfo& stream) {
  std::string& out = internal::ScratchBuffer();
  out += '{';
  AppendGroupStreamBody(out, group, from_user_id, payload, stream);
  return internal::ToShared(out);
}

SequencedMessage EncodeSequencedGroupStreamMessage(std::string_view group,
                                                   std::optional<std::string_view> from_user_id,
                                                   const std::optional<Payload>& payload,
                                                   const StreamInfo& stream) {
  std::string& out = internal::ScratchBuffer();
  AppendGroupStreamBody(out, group, from_user_id, payload, stream);
  return SequencedMessage(internal::ToShared(out));
}

SharedBytes EncodeStreamAck(std::string_view stream_id, uint64_t expected_sequence_id) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"streamAck\",\"streamId\":";
  AppendJsonString(out, stream_id);
  out += ",\"expectedSequenceId\":";
  AppendUint64(out, expected_sequence_id);
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeStreamNack(std::string_view stream_id, std::string_view name,
                             std::string_view message, uint64_t expected_sequence_id) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"streamNack\",\"streamId\":";
  AppendJsonString(out, stream_id);
  out += ",\"name\":";
  AppendJsonString(out, name);
  out += ",\"message\":";
  AppendJsonString(out, message);
  out += ",\"expectedSequenceId\":";
  AppendUint64(out, expected_sequence_id);
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeStreamClosed(std::string_view stream_id, const std::optional<AckError>& error) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"streamClosed\",\"streamId\":";
  AppendJsonString(out, stream_id);
  if (error) {
    out += ",\"error\":{\"name\":";
    AppendJsonString(out, error->name);
    out += ",\"message\":";
    AppendJsonString(out, error->message);
    out += '}';
  }
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeInvokeResponse(std::string_view invocation_id,
                                 const std::optional<Payload>& payload) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"invokeResponse\",\"invocationId\":";
  AppendJsonString(out, invocation_id);
  out += ",\"success\":true";
  if (payload) {
    out += ',';
    AppendJsonData(out, *payload);
  }
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeInvokeError(std::string_view invocation_id, std::string_view name,
                              std::string_view message) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"invokeResponse\",\"invocationId\":";
  AppendJsonString(out, invocation_id);
  out += ",\"success\":false,\"error\":{\"name\":";
  AppendJsonString(out, name);
  out += ",\"message\":";
  AppendJsonString(out, message);
  out += "}}";
  return internal::ToShared(out);
}

// ---- Decoder ----------------------------------------------------------------------------

namespace {

struct Field {
  bool present = false;
  JsonKind kind = JsonKind::kNull;
  std::string_view raw;
  bool IsString() const { return present && kind == JsonKind::kString; }
};

struct Fields {
  Field type, from, group, from_user_id, data_type, data, sequence_id, ack_id, success, error,
      event, user_id, connection_id, reconnection_token, message, name, stream, stream_id,
      stream_sequence_id, expected_sequence_id, end_of_stream, user_error_code, invocation_id,
      metadata;
};

Field* FieldFor(Fields& f, std::string_view key) {
  struct Entry {
    std::string_view name;
    Field Fields::*field;
  };
  static constexpr Entry kEntries[] = {
      {"type", &Fields::type},
      {"from", &Fields::from},
      {"group", &Fields::group},
      {"fromUserId", &Fields::from_user_id},
      {"dataType", &Fields::data_type},
      {"data", &Fields::data},
      {"sequenceId", &Fields::sequence_id},
      {"ackId", &Fields::ack_id},
      {"success", &Fields::success},
      {"error", &Fields::error},
      {"event", &Fields::event},
      {"userId", &Fields::user_id},
      {"connectionId", &Fields::connection_id},
      {"reconnectionToken", &Fields::reconnection_token},
      {"message", &Fields::message},
      {"name", &Fields::name},
      {"stream", &Fields::stream},
      {"streamId", &Fields::stream_id},
      {"streamSequenceId", &Fields::stream_sequence_id},
      {"expectedSequenceId", &Fields::expected_sequence_id},
      {"endOfStream", &Fields::end_of_stream},
      {"userErrorCode", &Fields::user_error_code},
      {"invocationId", &Fields::invocation_id},
      {"metadata", &Fields::metadata},
  };
  for (const Entry& e : kEntries) {
    if (e.name == key) return &(f.*e.field);
  }
  return nullptr;
}

Error Invalid(std::string detail) { return MakeError(kInvalidMessage, std::move(detail)); }

bool ParseFields(std::string_view text, Fields& f) {
  std::string key_storage;
  return ForEachJsonMember(text, [&](std::string_view key_raw, JsonKind kind,
                                     std::string_view value) {
    std::string_view key = key_raw.substr(1, key_raw.size() - 2);
    if (key.find('\\') != std::string_view::npos) {
      key_storage = DecodeJsonString(key_raw);
      key = key_storage;
    }
    if (Field* field = FieldFor(f, key)) *field = Field{true, kind, value};
    return true;
  });
}

std::optional<std::string> OptionalString(const Field& f) {
  if (!f.IsString()) return std::nullopt;
  return DecodeJsonString(f.raw);
}

Result<std::optional<uint64_t>> OptionalSequenceId(const Field& f) {
  if (!f.present || f.kind == JsonKind::kNull) return std::optional<uint64_t>();
  auto id = f.kind == JsonKind::kNumber ? ParseJsonUint64(f.raw) : std::nullopt;
  if (!id) return Invalid("sequenceId must be an unsigned 64-bit integer");
  return std::optional<uint64_t>(*id);
}

// nullopt payload with no error: unknown dataType (the message is then UnknownMessage).
Result<std::optional<Payload>> ReadData(const Fields& f) {
  if (!f.data_type.IsString()) return std::optional<Payload>();
  auto type = ParseDataTypeName(DecodeJsonString(f.data_type.raw));
  if (!type) return std::optional<Payload>();
  if (!f.data.present) return Invalid("data is required");
  switch (*type) {
    case DataType::kJson:
      return std::optional<Payload>(Payload{*type, SharedBytes::Copy(f.data.raw)});
    case DataType::kText:
      if (!f.data.IsString()) return Invalid("text data must be a string");
      return std::optional<Payload>(Payload::Text(DecodeJsonString(f.data.raw)));
    case DataType::kBinary:
    case DataType::kProtobuf: {
      if (!f.data.IsString()) return Invalid("binary data must be a base64 string");
      auto bytes = Base64Decode(DecodeJsonString(f.data.raw));
      if (!bytes) return Invalid("data is not valid base64");
      return std::optional<Payload>(Payload{*type, SharedBytes::Copy(*bytes)});
    }
  }
  return std::optional<Payload>();
}

// `metadata` (§9.4) as a client reads it: string members of an object, in order; anything
// else is ignored (no metadata).
Metadata ReadMetadata(const Field& f) {
  Metadata metadata;
  if (!f.present || f.kind != JsonKind::kObject) return metadata;
  ForEachJsonMember(f.raw, [&](std::string_view key_raw, JsonKind kind, std::string_view raw) {
    if (kind == JsonKind::kString) {
      metadata.emplace_back(DecodeJsonString(key_raw), DecodeJsonString(raw));
    }
    return true;
  });
  return metadata;
}

// The `stream` member of a group message, as the JS client reads it: ignored (nullopt) unless
// it is an object with a string streamId and a numeric streamSequenceId.
std::optional<StreamInfo> ReadStreamInfo(const Field& f) {
  if (!f.present || f.kind != JsonKind::kObject) return std::nullopt;
  Fields s;
  if (!ParseFields(f.raw, s)) return std::nullopt;
  if (!s.stream_id.IsString()) return std::nullopt;
  auto n = s.stream_sequence_id.present && s.stream_sequence_id.kind == JsonKind::kNumber
               ? ParseJsonUint64(s.stream_sequence_id.raw)
               : std::nullopt;
  if (!n) return std::nullopt;
  StreamInfo info{DecodeJsonString(s.stream_id.raw), *n,
                  s.end_of_stream.present && s.end_of_stream.kind == JsonKind::kTrue,
                  std::nullopt};
  if (s.error.present && s.error.kind == JsonKind::kObject) {
    Fields e;
    if (ParseFields(s.error.raw, e)) {
      info.error = StreamDataError{OptionalString(e.name).value_or(""), OptionalString(e.message),
                                   OptionalString(e.user_error_code)};
    }
  }
  return info;
}

ServiceMessage Unknown(std::string type, std::string reason) {
  return UnknownMessage{std::move(type), std::move(reason)};
}

}  // namespace

Result<ServiceMessage> DecodeServiceMessage(std::string_view text) {
  Fields f;
  if (!ParseFields(text, f)) return Invalid("not a JSON object");
  const std::string type = OptionalString(f.type).value_or("");

  if (type == "message") {
    auto sequence_id = OptionalSequenceId(f.sequence_id);
    if (!sequence_id.ok()) return sequence_id.error();
    const std::string from = OptionalString(f.from).value_or("");
    if (from != "group" && from != "server") return Unknown(type, "unknown from");
    std::optional<StreamInfo> stream;
    if (from == "group") stream = ReadStreamInfo(f.stream);
    if (stream && !f.data.present && f.data_type.IsString() &&
        DecodeJsonString(f.data_type.raw) == "json") {
      // A stream message without payload (e.g. a bare end-of-stream).
      if (!f.group.IsString()) return Invalid("group must be a string");
      return ServiceMessage(GroupDataMessage{DecodeJsonString(f.group.raw),
                                             OptionalString(f.from_user_id),
                                             Payload{DataType::kJson, SharedBytes()},
                                             *sequence_id, std::move(stream)});
    }
    auto payload = ReadData(f);
    if (!payload.ok()) return payload.error();
    if (!*payload) return Unknown(type, "unknown dataType");
    (*payload)->metadata = ReadMetadata(f.metadata);
    if (from == "server") {
      return ServiceMessage(ServerDataMessage{std::move(**payload), *sequence_id});
    }
    if (!f.group.IsString()) return Invalid("group must be a string");
    return ServiceMessage(GroupDataMessage{DecodeJsonString(f.group.raw),
                                           OptionalString(f.from_user_id), std::move(**payload),
                                           *sequence_id, std::move(stream)});
  }
  if (type == "ack") {
    auto ack_id = f.ack_id.present && f.ack_id.kind == JsonKind::kNumber
                      ? ParseJsonUint64(f.ack_id.raw)
                      : std::nullopt;
    if (!ack_id) return Invalid("ackId must be an unsigned 64-bit integer");
    if (!f.success.present ||
        (f.success.kind != JsonKind::kTrue && f.success.kind != JsonKind::kFalse)) {
      return Invalid("success must be a boolean");
    }
    AckMessage ack{*ack_id, f.success.kind == JsonKind::kTrue, std::nullopt};
    if (f.error.present && f.error.kind == JsonKind::kObject) {
      Fields e;
      if (!ParseFields(f.error.raw, e)) return Invalid("error must be an object");
      ack.error = AckError{OptionalString(e.name).value_or(""),
                           OptionalString(e.message).value_or("")};
    }
    return ServiceMessage(std::move(ack));
  }
  if (type == "system") {
    const std::string event = OptionalString(f.event).value_or("");
    if (event == "connected") {
      if (!f.connection_id.IsString()) return Invalid("connectionId must be a string");
      return ServiceMessage(ConnectedMessage{DecodeJsonString(f.connection_id.raw),
                                             OptionalString(f.user_id),
                                             OptionalString(f.reconnection_token)});
    }
    if (event == "disconnected") {
      return ServiceMessage(DisconnectedMessage{OptionalString(f.message).value_or("")});
    }
    return Unknown(type, "unknown system event");
  }
  if (type == "pong") return ServiceMessage(PongMessage{});
  if (type == "streamAck" || type == "streamNack" || type == "streamClosed") {
    if (!f.stream_id.IsString()) return Invalid("streamId must be a string");
    std::string stream_id = DecodeJsonString(f.stream_id.raw);
    if (type == "streamClosed") {
      std::optional<AckError> error;
      if (f.error.present && f.error.kind == JsonKind::kObject) {
        Fields e;
        if (!ParseFields(f.error.raw, e)) return Invalid("error must be an object");
        error = AckError{OptionalString(e.name).value_or(""),
                         OptionalString(e.message).value_or("")};
      }
      return ServiceMessage(StreamClosedMessage{std::move(stream_id), std::move(error)});
    }
    auto expected = f.expected_sequence_id.present &&
                            f.expected_sequence_id.kind == JsonKind::kNumber
                        ? ParseJsonUint64(f.expected_sequence_id.raw)
                        : std::nullopt;
    if (!expected) return Invalid("expectedSequenceId must be an unsigned 64-bit integer");
    if (type == "streamAck") {
      return ServiceMessage(StreamAckMessage{std::move(stream_id), *expected});
    }
    return ServiceMessage(StreamNackMessage{std::move(stream_id),
                                            OptionalString(f.name).value_or(""),
                                            OptionalString(f.message).value_or(""), *expected});
  }
  if (type == "invokeResponse") {
    if (!f.invocation_id.IsString()) return Invalid("invocationId must be a string");
    if (!f.success.present ||
        (f.success.kind != JsonKind::kTrue && f.success.kind != JsonKind::kFalse)) {
      return Invalid("success must be a boolean");
    }
    InvokeResponseMessage response{DecodeJsonString(f.invocation_id.raw),
                                   f.success.kind == JsonKind::kTrue, std::nullopt, std::nullopt};
    if (f.data_type.IsString()) {
      auto payload = ReadData(f);
      if (!payload.ok()) return payload.error();
      if (!*payload) return Unknown(type, "unknown dataType");
      response.payload = std::move(**payload);
    }
    if (f.error.present && f.error.kind == JsonKind::kObject) {
      Fields e;
      if (!ParseFields(f.error.raw, e)) return Invalid("error must be an object");
      response.error =
          AckError{OptionalString(e.name).value_or(""), OptionalString(e.message).value_or("")};
    }
    return ServiceMessage(std::move(response));
  }
  return Unknown(type, "unknown type");
}

}  // namespace wpsim::protocol::webpubsub
