#include "protocol/webpubsub/client_requests.h"

#include "base/encoding.h"
#include "protocol/webpubsub/encode_buffer.h"
#include "protocol/webpubsub/json_text.h"
#include "protocol/webpubsub/names.h"

namespace wpsim::protocol::webpubsub {
namespace {

struct Field {
  bool present = false;
  JsonKind kind = JsonKind::kNull;
  std::string_view raw;

  bool IsNullOrAbsent() const { return !present || kind == JsonKind::kNull; }
};

struct Fields {
  Field type, group, event, ack_id, no_echo, data_type, data, sequence_id;
  Field stream, stream_id, stream_sequence_id, error;  // streaming (§9.1)
  Field invocation_id, target;                         // invocation (§9.2)
  Field metadata, ttl_seconds;                         // metadata and TTL (§9.4)
};

Error Invalid(std::string detail) { return MakeError(kInvalidMessage, std::move(detail)); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The decoded text of a validated string literal; `storage` holds it when escapes were present.
std::string_view StringValue(std::string_view raw, std::string& storage) {
  const std::string_view body = raw.substr(1, raw.size() - 2);
  if (body.find('\\') == std::string_view::npos) return body;
  storage = DecodeJsonString(raw);
  return storage;
}

Field* FieldFor(Fields& f, std::string_view key) {
  switch (key.size()) {
    case 4:
      if (key == "type") return &f.type;
      if (key == "data") return &f.data;
      return nullptr;
    case 5:
      if (key == "group") return &f.group;
      if (key == "event") return &f.event;
      if (key == "ackId") return &f.ack_id;
      if (key == "error") return &f.error;
      return nullptr;
    case 6:
      if (key == "noEcho") return &f.no_echo;
      if (key == "stream") return &f.stream;
      if (key == "target") return &f.target;
      return nullptr;
    case 8:
      if (key == "dataType") return &f.data_type;
      if (key == "streamId") return &f.stream_id;
      if (key == "metadata") return &f.metadata;
      return nullptr;
    case 10:
      if (key == "sequenceId") return &f.sequence_id;
      if (key == "ttlSeconds") return &f.ttl_seconds;
      return nullptr;
    case 12:
      return key == "invocationId" ? &f.invocation_id : nullptr;
    case 16:
      return key == "streamSequenceId" ? &f.stream_sequence_id : nullptr;
    default:
      return nullptr;
  }
}

Result<std::optional<uint64_t>> ReadAckId(const Field& f) {
  if (f.IsNullOrAbsent()) return std::optional<uint64_t>();
  if (f.kind != JsonKind::kNumber) return Invalid("ackId must be a number");
  auto v = ParseJsonUint64(f.raw);
  if (!v) return Invalid("ackId must be an unsigned 64-bit integer");
  return std::optional<uint64_t>(*v);
}

Result<std::string> ReadGroup(const Field& f, const DecodeOptions& options) {
  if (!f.present || f.kind != JsonKind::kString) return Invalid("group must be a string");
  std::string group = DecodeJsonString(f.raw);
  if (options.validate_names && !IsValidGroupName(group)) return Invalid("invalid group name");
  return group;
}

Result<Payload> ReadPayload(const Fields& f) {
  DataType type = DataType::kJson;
  if (!f.data_type.IsNullOrAbsent()) {
    if (f.data_type.kind != JsonKind::kString) return Invalid("dataType must be a string");
    std::string storage;
    auto parsed = ParseDataTypeName(StringValue(f.data_type.raw, storage));
    if (!parsed) return Invalid("unknown dataType");
    type = *parsed;
  }
  if (!f.data.present) return Invalid("data is required");
  switch (type) {
    case DataType::kJson:
      if (f.data.kind == JsonKind::kNull) return Invalid("json data must not be null");
      return Payload{type, SharedBytes::Copy(f.data.raw)};
    case DataType::kText: {
      if (f.data.kind != JsonKind::kString) return Invalid("text data must be a string");
      std::string storage;
      return Payload{type, SharedBytes::Copy(StringValue(f.data.raw, storage))};
    }
    case DataType::kBinary:
    case DataType::kProtobuf: {
      if (f.data.kind != JsonKind::kString) return Invalid("binary data must be a base64 string");
      std::string storage;
      auto bytes = Base64Decode(StringValue(f.data.raw, storage));
      if (!bytes) return Invalid("data is not valid base64");
      return Payload{type, SharedBytes::Copy(*bytes)};
    }
  }
  return Invalid("unknown dataType");
}

// `metadata` (§9.4): an object of strings, no key twice, within ValidateMetadata's limits.
Result<Metadata> ReadMetadata(const Field& f) {
  Metadata metadata;
  if (f.IsNullOrAbsent()) return metadata;
  if (f.kind != JsonKind::kObject) return Invalid("metadata must be an object");
  std::optional<Error> error;
  std::string key_storage;
  ForEachJsonMember(f.raw, [&](std::string_view key_raw, JsonKind kind, std::string_view raw) {
    std::string key(StringValue(key_raw, key_storage));
    if (kind != JsonKind::kString) {
      error = Invalid("metadata value for key '" + key + "' must be a string");
      return false;
    }
    for (const auto& entry : metadata) {
      if (entry.first == key) {
        error = Invalid("duplicate key '" + key + "' in metadata");
        return false;
      }
    }
    metadata.emplace_back(std::move(key), DecodeJsonString(raw));
    return true;
  });
  if (error) return *error;
  if (auto why = ValidateMetadata(metadata)) return Invalid(*why);
  return metadata;
}

// sendToGroup/event payload: `data` with `metadata`; metadata without data is empty text.
Result<Payload> ReadPayloadWithMetadata(const Fields& f) {
  auto metadata = ReadMetadata(f.metadata);
  if (!metadata.ok()) return metadata.error();
  if (!f.data.present && !metadata->empty() && f.data_type.IsNullOrAbsent()) {
    Payload empty = Payload::Text("");
    empty.metadata = std::move(*metadata);
    return empty;
  }
  auto payload = ReadPayload(f);
  if (!payload.ok()) return payload.error();
  payload->metadata = std::move(*metadata);
  return payload;
}

Result<std::optional<uint32_t>> ReadTtlSeconds(const Field& f) {
  if (f.IsNullOrAbsent()) return std::optional<uint32_t>();
  auto v = f.kind == JsonKind::kNumber ? ParseJsonUint64(f.raw) : std::nullopt;
  if (!v || *v > kMessageTtlSecondsMax) {
    return Invalid("'ttlSeconds' is out of range. Allowed range is [0,300].");
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(*v));
}

Result<std::string> ReadStreamId(const Field& f) {
  if (!f.present || f.kind != JsonKind::kString) return Invalid("streamId must be a string");
  std::string id = DecodeJsonString(f.raw);
  if (id.empty()) return Invalid("streamId must not be empty");
  return id;
}

Result<std::optional<std::string>> ReadOptionalString(const Field& f, const char* what) {
  if (f.IsNullOrAbsent()) return std::optional<std::string>();
  if (f.kind != JsonKind::kString) return Invalid(std::string(what) + " must be a string");
  return std::optional<std::string>(DecodeJsonString(f.raw));
}

// sendToGroup with a `stream` member (streaming enabled).
Result<Request> StreamStart(const Fields& f, std::string group, std::optional<uint64_t> ack_id,
                            bool no_echo) {
  if (f.stream.kind != JsonKind::kObject) return Invalid("stream must be an object");
  if (f.data.present || !f.data_type.IsNullOrAbsent()) {
    return Invalid("a stream start carries no data");
  }
  Field id, timeout;
  ForEachJsonMember(f.stream.raw, [&](std::string_view key, JsonKind kind, std::string_view raw) {
    if (JsonKeyEquals(key, "streamId")) id = Field{true, kind, raw};
    if (JsonKeyEquals(key, "idleTimeoutMs")) timeout = Field{true, kind, raw};
    return true;
  });
  auto stream_id = ReadStreamId(id);
  if (!stream_id.ok()) return stream_id.error();
  uint64_t idle_timeout_ms = kStreamIdleTimeoutMsDefault;
  if (!timeout.IsNullOrAbsent()) {
    auto v = timeout.kind == JsonKind::kNumber ? ParseJsonUint64(timeout.raw) : std::nullopt;
    if (!v || *v == 0) return Invalid("idleTimeoutMs must be a positive integer");
    idle_timeout_ms = *v;
  }
  return Request(StreamStartRequest{std::move(group), std::move(*stream_id), idle_timeout_ms,
                                    ack_id, no_echo});
}

Result<Request> StreamData(const Fields& f) {
  auto stream_id = ReadStreamId(f.stream_id);
  if (!stream_id.ok()) return stream_id.error();
  if (f.stream_sequence_id.IsNullOrAbsent()) {
    if (f.data.present || !f.data_type.IsNullOrAbsent()) {
      return Invalid("stream data needs a streamSequenceId");
    }
    return Request(StreamDataRequest{std::move(*stream_id), std::nullopt, std::nullopt});
  }
  auto n = f.stream_sequence_id.kind == JsonKind::kNumber
               ? ParseJsonUint64(f.stream_sequence_id.raw)
               : std::nullopt;
  if (!n || *n == 0) return Invalid("streamSequenceId must be a positive integer");
  auto payload = ReadPayload(f);
  if (!payload.ok()) return payload.error();
  return Request(StreamDataRequest{std::move(*stream_id), *n, std::move(*payload)});
}

Result<Request> StreamEnd(const Fields& f) {
  auto stream_id = ReadStreamId(f.stream_id);
  if (!stream_id.ok()) return stream_id.error();
  StreamEndRequest end{std::move(*stream_id), std::nullopt};
  if (!f.error.IsNullOrAbsent()) {
    if (f.error.kind != JsonKind::kObject) return Invalid("error must be an object");
    Field message, code;
    ForEachJsonMember(f.error.raw, [&](std::string_view key, JsonKind kind, std::string_view raw) {
      if (JsonKeyEquals(key, "message")) message = Field{true, kind, raw};
      if (JsonKeyEquals(key, "userErrorCode")) code = Field{true, kind, raw};
      return true;
    });
    auto m = ReadOptionalString(message, "error.message");
    if (!m.ok()) return m.error();
    auto c = ReadOptionalString(code, "error.userErrorCode");
    if (!c.ok()) return c.error();
    end.error = StreamEndError{std::move(*m), std::move(*c)};
  }
  return Request(std::move(end));
}

Result<std::string> ReadInvocationId(const Field& f) {
  if (!f.present || f.kind != JsonKind::kString) return Invalid("invocationId must be a string");
  std::string id = DecodeJsonString(f.raw);
  if (id.empty()) return Invalid("invocationId must not be empty");
  if (id.size() > kInvocationIdMaxBytes) return Invalid("invocationId is too long");
  return id;
}

Result<Request> Invoke(const Fields& f, const DecodeOptions& options) {
  auto id = ReadInvocationId(f.invocation_id);
  if (!id.ok()) return id.error();
  if (!f.target.present || f.target.kind != JsonKind::kString) {
    return Invalid("target must be a string");
  }
  InvokeRequest invoke{std::move(*id), DecodeJsonString(f.target.raw), std::string(), std::nullopt};
  if (invoke.target == kInvokeTargetEvent) {
    if (!f.event.present || f.event.kind != JsonKind::kString) {
      return Invalid("event must be a string");
    }
    invoke.event = DecodeJsonString(f.event.raw);
    if (options.validate_names && !IsValidEventName(invoke.event)) {
      return Invalid("invalid event name");
    }
  }
  if (!f.data.present && !f.data_type.IsNullOrAbsent()) return Invalid("data is required");
  if (f.data.present) {
    auto payload = ReadPayload(f);
    if (!payload.ok()) return payload.error();
    invoke.payload = std::move(*payload);
  }
  return Request(std::move(invoke));
}

template <typename T>
Result<Request> GroupRequest(const Fields& f, const DecodeOptions& options) {
  auto group = ReadGroup(f.group, options);
  if (!group.ok()) return group.error();
  auto ack = ReadAckId(f.ack_id);
  if (!ack.ok()) return ack.error();
  return Request(T{std::move(*group), *ack});
}

}  // namespace

uint16_t CloseCodeFor(const Error& error) {
  return error.code == kBinaryFrame ? kCloseUnsupportedData : kCloseInvalidPayload;
}

Result<Request> DecodeRequest(std::string_view text, const DecodeOptions& options) {
  Fields f;
  std::string key_storage;
  const bool ok = ForEachJsonMember(text, [&](std::string_view key_raw, JsonKind kind,
                                              std::string_view value) {
    Field* field = FieldFor(f, StringValue(key_raw, key_storage));
    if (field) *field = Field{true, kind, value};
    return true;
  });
  if (!ok) return Invalid("not a JSON object");
  if (!f.type.present || f.type.kind != JsonKind::kString) return Invalid("type must be a string");
  std::string type_storage;
  const std::string_view type = StringValue(f.type.raw, type_storage);

  if (EqualsIgnoreCase(type, "sendToGroup")) {
    auto group = ReadGroup(f.group, options);
    if (!group.ok()) return group.error();
    auto ack = ReadAckId(f.ack_id);
    if (!ack.ok()) return ack.error();
    bool no_echo = false;
    if (!f.no_echo.IsNullOrAbsent()) {
      if (f.no_echo.kind != JsonKind::kTrue && f.no_echo.kind != JsonKind::kFalse) {
        return Invalid("noEcho must be a boolean");
      }
      no_echo = f.no_echo.kind == JsonKind::kTrue;
    }
    if (options.enable_streaming && !f.stream.IsNullOrAbsent()) {
      return StreamStart(f, std::move(*group), *ack, no_echo);
    }
    auto payload = ReadPayloadWithMetadata(f);
    if (!payload.ok()) return payload.error();
    auto ttl = ReadTtlSeconds(f.ttl_seconds);
    if (!ttl.ok()) return ttl.error();
    return Request(SendToGroupRequest{std::move(*group), *ack, no_echo, std::move(*payload), *ttl});
  }
  if (EqualsIgnoreCase(type, "event")) {
    if (!f.event.present || f.event.kind != JsonKind::kString) {
      return Invalid("event must be a string");
    }
    std::string event = DecodeJsonString(f.event.raw);
    if (options.validate_names && !IsValidEventName(event)) return Invalid("invalid event name");
    auto ack = ReadAckId(f.ack_id);
    if (!ack.ok()) return ack.error();
    auto payload = ReadPayloadWithMetadata(f);
    if (!payload.ok()) return payload.error();
    return Request(EventRequest{std::move(event), *ack, std::move(*payload)});
  }
  if (EqualsIgnoreCase(type, "joinGroup")) return GroupRequest<JoinGroupRequest>(f, options);
  if (EqualsIgnoreCase(type, "leaveGroup")) return GroupRequest<LeaveGroupRequest>(f, options);
  if (EqualsIgnoreCase(type, "sequenceAck")) {
    if (!f.sequence_id.present || f.sequence_id.kind != JsonKind::kNumber) {
      return Invalid("sequenceId must be a number");
    }
    auto id = ParseJsonUint64(f.sequence_id.raw);
    if (!id) return Invalid("sequenceId must be an unsigned 64-bit integer");
    return Request(SequenceAckRequest{*id});
  }
  if (EqualsIgnoreCase(type, "ping")) return Request(PingRequest{});
  if (options.enable_streaming && EqualsIgnoreCase(type, "streamData")) return StreamData(f);
  if (options.enable_streaming && EqualsIgnoreCase(type, "streamEnd")) return StreamEnd(f);
  if (options.enable_invocations && EqualsIgnoreCase(type, "invoke")) return Invoke(f, options);
  if (options.enable_invocations && EqualsIgnoreCase(type, "cancelInvocation")) {
    auto id = ReadInvocationId(f.invocation_id);
    if (!id.ok()) return id.error();
    return Request(CancelInvocationRequest{std::move(*id)});
  }
  return MakeError(kUnknownType, "unknown request type");
}

Result<Request> DecodeRequestFrame(FrameType frame_type, std::span<const uint8_t> bytes,
                                   const DecodeOptions& options) {
  if (frame_type == FrameType::kBinary && options.binary_frames == BinaryFramePolicy::kReject) {
    return MakeError(kBinaryFrame, "binary frames are not accepted");
  }
  // The JSON scanner rejects invalid UTF-8, so binary frames need no separate check.
  return DecodeRequest(AsString(bytes), options);
}

namespace {

void AppendAckId(std::string& out, std::optional<uint64_t> ack_id) {
  if (!ack_id) return;
  out += ",\"ackId\":";
  AppendUint64(out, *ack_id);
}

SharedBytes EncodeGroupOp(std::string_view type, std::string_view group,
                          std::optional<uint64_t> ack_id) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"";
  out += type;
  out += "\",\"group\":";
  AppendJsonString(out, group);
  AppendAckId(out, ack_id);
  out += '}';
  return internal::ToShared(out);
}

}  // namespace

SharedBytes EncodeJoinGroupRequest(std::string_view group, std::optional<uint64_t> ack_id) {
  return EncodeGroupOp("joinGroup", group, ack_id);
}

SharedBytes EncodeLeaveGroupRequest(std::string_view group, std::optional<uint64_t> ack_id) {
  return EncodeGroupOp("leaveGroup", group, ack_id);
}

SharedBytes EncodeSendToGroupRequest(std::string_view group, const Payload& payload,
                                     std::optional<uint64_t> ack_id, bool no_echo,
                                     std::optional<uint32_t> ttl_seconds) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"sendToGroup\",\"group\":";
  AppendJsonString(out, group);
  AppendAckId(out, ack_id);
  out += no_echo ? ",\"noEcho\":true," : ",\"noEcho\":false,";
  AppendJsonData(out, payload);
  if (ttl_seconds) {
    out += ",\"ttlSeconds\":";
    AppendUint64(out, *ttl_seconds);
  }
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeEventRequest(std::string_view event, const Payload& payload,
                               std::optional<uint64_t> ack_id) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"event\",\"event\":";
  AppendJsonString(out, event);
  AppendAckId(out, ack_id);
  out += ',';
  AppendJsonData(out, payload);
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeSequenceAckRequest(uint64_t sequence_id) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"sequenceAck\",\"sequenceId\":";
  AppendUint64(out, sequence_id);
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodePingRequest() { return SharedBytes::Copy(std::string_view("{\"type\":\"ping\"}")); }

SharedBytes EncodeStreamStartRequest(const StreamStartRequest& request) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"sendToGroup\",\"group\":";
  AppendJsonString(out, request.group);
  AppendAckId(out, request.ack_id);
  out += request.no_echo ? ",\"noEcho\":true" : ",\"noEcho\":false";
  out += ",\"stream\":{\"streamId\":";
  AppendJsonString(out, request.stream_id);
  out += ",\"idleTimeoutMs\":";
  AppendUint64(out, request.idle_timeout_ms);
  out += "}}";
  return internal::ToShared(out);
}

SharedBytes EncodeStreamDataRequest(const StreamDataRequest& request) {
  WPSIM_ASSERT(request.stream_sequence_id.has_value() == request.payload.has_value());
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"streamData\",\"streamId\":";
  AppendJsonString(out, request.stream_id);
  if (request.stream_sequence_id) {
    out += ",\"streamSequenceId\":";
    AppendUint64(out, *request.stream_sequence_id);
    out += ',';
    AppendJsonData(out, *request.payload);
  }
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeStreamEndRequest(const StreamEndRequest& request) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"streamEnd\",\"streamId\":";
  AppendJsonString(out, request.stream_id);
  if (request.error) {
    out += ",\"error\":{";
    bool first = true;
    if (request.error->message) {
      out += "\"message\":";
      AppendJsonString(out, *request.error->message);
      first = false;
    }
    if (request.error->user_error_code) {
      out += first ? "\"userErrorCode\":" : ",\"userErrorCode\":";
      AppendJsonString(out, *request.error->user_error_code);
    }
    out += '}';
  }
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeInvokeRequest(const InvokeRequest& request) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"invoke\",\"invocationId\":";
  AppendJsonString(out, request.invocation_id);
  out += ",\"target\":";
  AppendJsonString(out, request.target);
  out += ",\"event\":";
  AppendJsonString(out, request.event);
  if (request.payload) {
    out += ',';
    AppendJsonData(out, *request.payload);
  }
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeCancelInvocationRequest(std::string_view invocation_id) {
  std::string& out = internal::ScratchBuffer();
  out += "{\"type\":\"cancelInvocation\",\"invocationId\":";
  AppendJsonString(out, invocation_id);
  out += '}';
  return internal::ToShared(out);
}

SharedBytes EncodeRequest(const Request& request) {
  struct Visitor {
    SharedBytes operator()(const JoinGroupRequest& r) const {
      return EncodeJoinGroupRequest(r.group, r.ack_id);
    }
    SharedBytes operator()(const LeaveGroupRequest& r) const {
      return EncodeLeaveGroupRequest(r.group, r.ack_id);
    }
    SharedBytes operator()(const SendToGroupRequest& r) const {
      return EncodeSendToGroupRequest(r.group, r.payload, r.ack_id, r.no_echo, r.ttl_seconds);
    }
    SharedBytes operator()(const EventRequest& r) const {
      return EncodeEventRequest(r.event, r.payload, r.ack_id);
    }
    SharedBytes operator()(const SequenceAckRequest& r) const {
      return EncodeSequenceAckRequest(r.sequence_id);
    }
    SharedBytes operator()(const PingRequest&) const { return EncodePingRequest(); }
    SharedBytes operator()(const StreamStartRequest& r) const {
      return EncodeStreamStartRequest(r);
    }
    SharedBytes operator()(const StreamDataRequest& r) const { return EncodeStreamDataRequest(r); }
    SharedBytes operator()(const StreamEndRequest& r) const { return EncodeStreamEndRequest(r); }
    SharedBytes operator()(const InvokeRequest& r) const { return EncodeInvokeRequest(r); }
    SharedBytes operator()(const CancelInvocationRequest& r) const {
      return EncodeCancelInvocationRequest(r.invocation_id);
    }
  };
  return std::visit(Visitor{}, request);
}

}  // namespace wpsim::protocol::webpubsub
