#include "protocol/protobuf/messages.h"

#include <variant>

#include "base/encoding.h"
#include "protocol/protobuf/wire.h"
#include "protocol/webpubsub/json_text.h"
#include "protocol/webpubsub/names.h"

namespace wpsim::protocol::protobuf {

namespace wps = webpubsub;

namespace {

// ---- Field numbers ----------------------------------------------------------------------

namespace upstream {
constexpr uint32_t kSendToGroup = 1;
constexpr uint32_t kEvent = 5;
constexpr uint32_t kJoinGroup = 6;
constexpr uint32_t kLeaveGroup = 7;
constexpr uint32_t kSequenceAck = 8;
constexpr uint32_t kPing = 9;
constexpr uint32_t kStreamData = 13;
constexpr uint32_t kStreamEnd = 14;
}  // namespace upstream

namespace downstream {
constexpr uint32_t kAck = 1;
constexpr uint32_t kData = 2;
constexpr uint32_t kSystem = 3;
constexpr uint32_t kPong = 4;
constexpr uint32_t kStreamAck = 6;
constexpr uint32_t kStreamNack = 7;
constexpr uint32_t kStreamClosed = 8;
}  // namespace downstream

namespace message_data {
constexpr uint32_t kText = 1;
constexpr uint32_t kBinary = 2;
constexpr uint32_t kProtobuf = 3;
constexpr uint32_t kJson = 4;
}  // namespace message_data

constexpr uint8_t kDataMessageTag = (downstream::kData << 3) | 2;  // 0x12
constexpr uint8_t kSequenceIdTag = (4 << 3) | 0;                   // 0x20

// ---- Encoding helpers -------------------------------------------------------------------

std::string& Scratch() {
  thread_local std::string buffer;
  buffer.clear();
  return buffer;
}

SharedBytes ToShared(const std::string& bytes) {
  return SharedBytes::Copy(std::string_view(bytes));
}

// Appends a length-delimited field whose content `fill` appends: the content is written in
// place and its tag and length inserted in front (one memmove of a small message).
template <typename Fill>
void AppendMessageField(std::string& out, uint32_t field, Fill&& fill) {
  const size_t start = out.size();
  fill(out);
  const size_t length = out.size() - start;
  uint8_t head[2 * kVarintBytesMax];
  size_t n = WriteVarint((uint64_t{field} << 3) | static_cast<uint8_t>(WireType::kLen), head);
  n += WriteVarint(length, head + n);
  out.insert(start, reinterpret_cast<const char*>(head), n);
}

// proto3 non-optional string: omitted when empty.
void AppendStringIfSet(std::string& out, uint32_t field, std::string_view text) {
  if (!text.empty()) AppendLenField(out, field, text);
}

// MessageData for a payload (the member is written even when empty: oneof presence).
void AppendMessageData(std::string& out, const wps::Payload& payload) {
  switch (payload.type) {
    case wps::DataType::kText:
    case wps::DataType::kJson:  // docs: JSON reaches protobuf clients as text_data
      AppendLenField(out, message_data::kText, payload.data.view());
      break;
    case wps::DataType::kBinary:
      AppendLenField(out, message_data::kBinary, payload.data.view());
      break;
    case wps::DataType::kProtobuf:
      AppendLenField(out, message_data::kProtobuf, payload.data.view());
      break;
  }
}

// MessageData as a client writes it: json payloads use json_data (the emulator's field).
void AppendUpstreamMessageData(std::string& out, const wps::Payload& payload) {
  if (payload.type == wps::DataType::kJson) {
    AppendLenField(out, message_data::kJson, payload.data.view());
  } else {
    AppendMessageData(out, payload);
  }
}

// map<string,string> entries (§9.4 metadata), one `field` entry message per pair.
void AppendMetadata(std::string& out, uint32_t field, const wps::Metadata& metadata) {
  for (const auto& entry : metadata) {  // (clang 14 cannot capture structured bindings)
    AppendMessageField(out, field, [&](std::string& e) {
      AppendStringIfSet(e, 1, entry.first);
      AppendStringIfSet(e, 2, entry.second);
    });
  }
}

// StreamInfo { stream_id 1, stream_sequence_id 2, optional end_of_stream 3, optional error 4 }.
void AppendStreamInfo(std::string& out, const wps::StreamInfo& stream) {
  AppendStringIfSet(out, 1, stream.stream_id);
  if (stream.stream_sequence_id != 0) AppendVarintField(out, 2, stream.stream_sequence_id);
  if (stream.end_of_stream) AppendVarintField(out, 3, 1);
  if (stream.error) {
    AppendMessageField(out, 4, [&](std::string& e) {
      AppendStringIfSet(e, 1, stream.error->name);
      if (stream.error->message) AppendStringIfSet(e, 2, *stream.error->message);
      if (stream.error->user_error_code) AppendStringIfSet(e, 3, *stream.error->user_error_code);
    });
  }
}

// DataMessage fields 1-3, 5 (metadata) and 6 (stream); no sequence_id. A stream message
// without payload has no data member.
void AppendDataBody(std::string& out, std::optional<std::string_view> group,
                    const wps::Payload* payload, const wps::StreamInfo* stream = nullptr) {
  AppendLenField(out, 1, group ? std::string_view("group") : std::string_view("server"));
  if (group) AppendLenField(out, 2, *group);
  if (payload) {
    AppendMessageField(out, 3, [&](std::string& o) { AppendMessageData(o, *payload); });
    AppendMetadata(out, 5, payload->metadata);
  }
  if (stream) AppendMessageField(out, 6, [&](std::string& o) { AppendStreamInfo(o, *stream); });
}

SharedBytes EncodeData(std::optional<std::string_view> group, const wps::Payload* payload,
                       const wps::StreamInfo* stream = nullptr) {
  std::string& out = Scratch();
  AppendMessageField(out, downstream::kData,
                     [&](std::string& o) { AppendDataBody(o, group, payload, stream); });
  return ToShared(out);
}

SequencedMessage EncodeSequenced(std::optional<std::string_view> group, const wps::Payload* payload,
                                 const wps::StreamInfo* stream = nullptr) {
  std::string& out = Scratch();
  AppendDataBody(out, group, payload, stream);
  return SequencedMessage(ToShared(out));
}

// ---- Decoding helpers -------------------------------------------------------------------

bool ExpectType(Reader& r, const Field& f, WireType type, std::string_view name) {
  if (f.type == type) return true;
  r.Fail(std::string(name) + " has the wrong wire type");
  return false;
}

bool ReadString(Reader& r, const Field& f, std::string_view name, std::string& out) {
  if (!ExpectType(r, f, WireType::kLen, name)) return false;
  if (!IsValidUtf8(f.text())) {
    r.Fail(std::string(name) + " is not valid UTF-8");
    return false;
  }
  out.assign(f.text());
  return true;
}

bool ReadUint64(Reader& r, const Field& f, std::string_view name, uint64_t& out) {
  if (!ExpectType(r, f, WireType::kVarint, name)) return false;
  out = f.varint;
  return true;
}

// Runs `on_field` for every field of the nested message in `f`; nested errors are reported on
// the outer reader with the field's name as context.
template <typename OnField>
bool ReadNested(Reader& outer, const Field& f, std::string_view name, OnField&& on_field) {
  if (!ExpectType(outer, f, WireType::kLen, name)) return false;
  Reader inner(f.bytes, outer.OffsetOf(f.bytes));
  Field g;
  while (inner.Next(g)) {
    if (!on_field(inner, g)) break;
  }
  if (inner.failed()) {
    outer.FailWith(std::string(name) + ": " + inner.error());
    return false;
  }
  return true;
}

// google.protobuf.Any { string type_url = 1; bytes value = 2; }
bool ValidateAny(Reader& outer, const Field& f) {
  return ReadNested(outer, f, "protobuf_data", [](Reader& r, const Field& g) {
    if (g.number == 1) {
      std::string ignored;
      return ReadString(r, g, "type_url", ignored);
    }
    if (g.number == 2) return ExpectType(r, g, WireType::kLen, "value");
    return true;
  });
}

// Merges one MessageData into `payload` (its last member wins; an empty one changes nothing).
bool ReadMessageData(Reader& outer, const Field& f, std::optional<wps::Payload>& payload) {
  return ReadNested(outer, f, "data", [&](Reader& r, const Field& g) {
    switch (g.number) {
      case message_data::kText: {
        std::string text;
        if (!ReadString(r, g, "text_data", text)) return false;
        payload = wps::Payload::Text(text);
        return true;
      }
      case message_data::kBinary:
        if (!ExpectType(r, g, WireType::kLen, "binary_data")) return false;
        payload = wps::Payload::Binary(g.bytes);
        return true;
      case message_data::kProtobuf:
        if (!ValidateAny(r, g)) return false;
        payload = wps::Payload::Protobuf(g.bytes);
        return true;
      case message_data::kJson: {
        std::string json;
        if (!ReadString(r, g, "json_data", json)) return false;
        if (!wps::IsValidJson(json)) {
          r.Fail("json_data is not one valid JSON value");
          return false;
        }
        payload = wps::Payload::Json(json);
        return true;
      }
      default:
        return true;
    }
  });
}

Error InvalidMessage(std::string message) {
  return MakeError(wps::kInvalidMessage, std::move(message));
}

// One map<string,string> entry { string key = 1; string value = 2; } into `metadata`; a key
// seen before takes the new value (protobuf map semantics).
bool ReadMetadataEntry(Reader& outer, const Field& f, wps::Metadata& metadata) {
  std::string key, value;
  if (!ReadNested(outer, f, "metadata", [&](Reader& r, const Field& g) {
        if (g.number == 1) return ReadString(r, g, "key", key);
        if (g.number == 2) return ReadString(r, g, "value", value);
        return true;
      })) {
    return false;
  }
  for (auto& entry : metadata) {
    if (entry.first == key) {
      entry.second = std::move(value);
      return true;
    }
  }
  metadata.emplace_back(std::move(key), std::move(value));
  return true;
}

// The request being decoded: one struct per oneof member so that a repeated member merges.
struct UpstreamParts {
  uint32_t member = 0;
  wps::JoinGroupRequest join;
  wps::LeaveGroupRequest leave;
  wps::SendToGroupRequest send;
  wps::EventRequest event;
  wps::SequenceAckRequest sequence_ack;
  std::optional<wps::Payload> data;
  wps::Metadata metadata;                        // send_to_group 6, event 4 (§9.4)
  bool stream = false;                           // send_to_group 7 / event 5 present
  std::string stream_id;                         // StreamStartInfo, stream data, stream end
  std::optional<uint64_t> idle_timeout_ms;       // StreamStartInfo
  std::optional<uint64_t> stream_sequence_id;    // stream data
  std::optional<wps::StreamEndError> end_error;  // stream end
};

bool ReadGroupMember(Reader& r, const Field& f, std::string& group,
                     std::optional<uint64_t>& ack_id) {
  if (f.number == 1) return ReadString(r, f, "group", group);
  if (f.number == 2) {
    uint64_t id = 0;
    if (!ReadUint64(r, f, "ack_id", id)) return false;
    ack_id = id;
  }
  return true;
}

bool ReadUpstreamMember(Reader& r, const Field& f, UpstreamParts& p) {
  if (p.member != f.number) {
    // A different oneof member replaces the previous one.
    p = UpstreamParts();
    p.member = f.number;
  }
  switch (f.number) {
    case upstream::kSendToGroup:
      return ReadNested(r, f, "send_to_group_message", [&](Reader& in, const Field& g) {
        switch (g.number) {
          case 1:
            return ReadString(in, g, "group", p.send.group);
          case 2: {
            uint64_t id = 0;
            if (!ReadUint64(in, g, "ack_id", id)) return false;
            p.send.ack_id = id;
            return true;
          }
          case 3:
            return ReadMessageData(in, g, p.data);
          case 4:
            if (!ExpectType(in, g, WireType::kVarint, "no_echo")) return false;
            p.send.no_echo = g.varint != 0;
            return true;
          case 5:
            if (!ExpectType(in, g, WireType::kVarint, "ttl_seconds")) return false;
            if (g.varint > wps::kMessageTtlSecondsMax) {
              in.Fail("ttl_seconds is out of range. Allowed range is [0,300].");
              return false;
            }
            p.send.ttl_seconds = static_cast<uint32_t>(g.varint);
            return true;
          case 6:
            return ReadMetadataEntry(in, g, p.metadata);
          case 7:
            p.stream = true;
            // StreamStartInfo { string stream_id = 1; optional uint32 idle_timeout_ms = 2; }
            return ReadNested(in, g, "stream", [&](Reader& st, const Field& h) {
              if (h.number == 1) return ReadString(st, h, "stream_id", p.stream_id);
              if (h.number == 2) {
                uint64_t ms = 0;
                if (!ReadUint64(st, h, "idle_timeout_ms", ms)) return false;
                p.idle_timeout_ms = ms;
              }
              return true;
            });
          default:
            return true;  // unknown
        }
      });
    case upstream::kEvent:
      return ReadNested(r, f, "event_message", [&](Reader& in, const Field& g) {
        switch (g.number) {
          case 1:
            return ReadString(in, g, "event", p.event.event);
          case 2:
            return ReadMessageData(in, g, p.data);
          case 3: {
            uint64_t id = 0;
            if (!ReadUint64(in, g, "ack_id", id)) return false;
            p.event.ack_id = id;
            return true;
          }
          case 4:
            return ReadMetadataEntry(in, g, p.metadata);
          case 5:
            if (!ExpectType(in, g, WireType::kLen, "stream")) return false;
            p.stream = true;
            return true;
          default:
            return true;  // unknown
        }
      });
    case upstream::kJoinGroup:
      return ReadNested(r, f, "join_group_message", [&](Reader& in, const Field& g) {
        return ReadGroupMember(in, g, p.join.group, p.join.ack_id);
      });
    case upstream::kLeaveGroup:
      return ReadNested(r, f, "leave_group_message", [&](Reader& in, const Field& g) {
        return ReadGroupMember(in, g, p.leave.group, p.leave.ack_id);
      });
    case upstream::kSequenceAck:
      return ReadNested(r, f, "sequence_ack_message", [&](Reader& in, const Field& g) {
        if (g.number == 1) return ReadUint64(in, g, "sequence_id", p.sequence_ack.sequence_id);
        return true;
      });
    case upstream::kPing:
      return ReadNested(r, f, "ping_message", [](Reader&, const Field&) { return true; });
    case upstream::kStreamData:
      return ReadNested(r, f, "stream_data_message", [&](Reader& in, const Field& g) {
        switch (g.number) {
          case 1:
            return ReadString(in, g, "stream_id", p.stream_id);
          case 2: {
            uint64_t n = 0;
            if (!ReadUint64(in, g, "stream_sequence_id", n)) return false;
            p.stream_sequence_id = n;
            return true;
          }
          case 3:
            return ReadMessageData(in, g, p.data);
        }
        return true;
      });
    case upstream::kStreamEnd:
      return ReadNested(r, f, "stream_end_message", [&](Reader& in, const Field& g) {
        if (g.number == 1) return ReadString(in, g, "stream_id", p.stream_id);
        if (g.number != 2) return true;
        if (!p.end_error) p.end_error.emplace();
        return ReadNested(in, g, "error", [&](Reader& e, const Field& h) {
          std::string text;
          if (h.number == 1) {
            if (!ReadString(e, h, "message", text)) return false;
            p.end_error->message = std::move(text);
          } else if (h.number == 2) {
            if (!ReadString(e, h, "user_error_code", text)) return false;
            p.end_error->user_error_code = std::move(text);
          }
          return true;
        });
      });
  }
  return true;
}

bool IsUpstreamMember(uint32_t number) {
  switch (number) {
    case upstream::kSendToGroup:
    case upstream::kEvent:
    case upstream::kJoinGroup:
    case upstream::kLeaveGroup:
    case upstream::kSequenceAck:
    case upstream::kPing:
    case upstream::kStreamData:
    case upstream::kStreamEnd:
      return true;
  }
  return false;
}

// data + metadata of a send or event: metadata without data is an empty text payload (as in
// JSON); the metadata must pass wps::ValidateMetadata.
std::optional<Error> TakePayload(UpstreamParts& p, std::string_view what, wps::Payload& out) {
  if (auto why = wps::ValidateMetadata(p.metadata)) return InvalidMessage(*why);
  if (!p.data) {
    if (p.metadata.empty()) return InvalidMessage(std::string(what) + " needs data");
    p.data = wps::Payload::Text("");
  }
  out = std::move(*p.data);
  out.metadata = std::move(p.metadata);
  return std::nullopt;
}

Result<wps::Request> FinishUpstream(UpstreamParts& p, const DecodeOptions& options) {
  auto check_group = [&](const std::string& group) -> std::optional<Error> {
    if (options.validate_names && !wps::IsValidGroupName(group)) {
      return InvalidMessage("invalid group name '" + group + "'");
    }
    return std::nullopt;
  };
  switch (p.member) {
    case upstream::kJoinGroup:
      if (auto e = check_group(p.join.group)) return *e;
      return wps::Request(std::move(p.join));
    case upstream::kLeaveGroup:
      if (auto e = check_group(p.leave.group)) return *e;
      return wps::Request(std::move(p.leave));
    case upstream::kSendToGroup:
      if (auto e = check_group(p.send.group)) return *e;
      if (p.stream) {
        // A group stream start (§9.1): no data; a non-empty stream id; a positive timeout.
        if (p.data) return InvalidMessage("a stream start carries no data");
        if (p.stream_id.empty()) return InvalidMessage("stream_id must not be empty");
        if (p.idle_timeout_ms && *p.idle_timeout_ms == 0) {
          return InvalidMessage("idle_timeout_ms must be positive");
        }
        return wps::Request(
            wps::StreamStartRequest{std::move(p.send.group), std::move(p.stream_id),
                                    p.idle_timeout_ms.value_or(wps::kStreamIdleTimeoutMsDefault),
                                    p.send.ack_id, p.send.no_echo});
      }
      if (auto e = TakePayload(p, "send_to_group_message", p.send.payload)) return *e;
      return wps::Request(std::move(p.send));
    case upstream::kEvent:
      if (options.validate_names && !wps::IsValidEventName(p.event.event)) {
        return InvalidMessage("invalid event name '" + p.event.event + "'");
      }
      if (p.stream) {
        return InvalidMessage("event streaming is not supported over the protobuf subprotocol");
      }
      if (auto e = TakePayload(p, "event_message", p.event.payload)) return *e;
      return wps::Request(std::move(p.event));
    case upstream::kSequenceAck:
      return wps::Request(p.sequence_ack);
    case upstream::kPing:
      return wps::Request(wps::PingRequest{});
    case upstream::kStreamData: {
      if (p.stream_id.empty()) return InvalidMessage("stream_id must not be empty");
      if (!p.stream_sequence_id) {
        if (p.data) return InvalidMessage("stream data needs a stream_sequence_id");
        return wps::Request(
            wps::StreamDataRequest{std::move(p.stream_id), std::nullopt, std::nullopt});
      }
      if (*p.stream_sequence_id == 0) {
        return InvalidMessage("stream_sequence_id must be positive");
      }
      if (!p.data) return InvalidMessage("stream data needs data");
      return wps::Request(
          wps::StreamDataRequest{std::move(p.stream_id), p.stream_sequence_id, std::move(p.data)});
    }
    case upstream::kStreamEnd:
      if (p.stream_id.empty()) return InvalidMessage("stream_id must not be empty");
      return wps::Request(wps::StreamEndRequest{std::move(p.stream_id), std::move(p.end_error)});
  }
  return MakeError(wps::kUnknownType, "the UpstreamMessage sets no message this service knows");
}

}  // namespace

// ---- Client → service -------------------------------------------------------------------

Result<wps::Request> DecodeUpstreamMessage(std::span<const uint8_t> bytes,
                                           const DecodeOptions& options) {
  Reader r(bytes);
  Field f;
  UpstreamParts parts;
  while (r.Next(f)) {
    if (IsUpstreamMember(f.number)) {
      if (!ReadUpstreamMember(r, f, parts)) break;
    } else if (f.type == WireType::kLen) {
      // A newer oneof member (stream data, ...): the last member wins, so it replaces ours.
      parts = UpstreamParts();
    }
  }
  if (r.failed()) return InvalidMessage("malformed UpstreamMessage: " + r.error());
  return FinishUpstream(parts, options);
}

namespace {

SharedBytes EncodeGroupRequest(uint32_t member, std::string_view group,
                               std::optional<uint64_t> ack_id) {
  std::string& out = Scratch();
  AppendMessageField(out, member, [&](std::string& o) {
    AppendStringIfSet(o, 1, group);
    if (ack_id) AppendVarintField(o, 2, *ack_id);
  });
  return ToShared(out);
}

}  // namespace

SharedBytes EncodeJoinGroupRequest(std::string_view group, std::optional<uint64_t> ack_id) {
  return EncodeGroupRequest(upstream::kJoinGroup, group, ack_id);
}

SharedBytes EncodeLeaveGroupRequest(std::string_view group, std::optional<uint64_t> ack_id) {
  return EncodeGroupRequest(upstream::kLeaveGroup, group, ack_id);
}

SharedBytes EncodeSendToGroupRequest(std::string_view group, const wps::Payload& payload,
                                     std::optional<uint64_t> ack_id, bool no_echo,
                                     std::optional<uint32_t> ttl_seconds) {
  std::string& out = Scratch();
  AppendMessageField(out, upstream::kSendToGroup, [&](std::string& o) {
    AppendStringIfSet(o, 1, group);
    if (ack_id) AppendVarintField(o, 2, *ack_id);
    AppendMessageField(o, 3, [&](std::string& d) { AppendUpstreamMessageData(d, payload); });
    AppendVarintField(o, 4, no_echo ? 1 : 0);
    if (ttl_seconds) AppendVarintField(o, 5, *ttl_seconds);
    AppendMetadata(o, 6, payload.metadata);
  });
  return ToShared(out);
}

SharedBytes EncodeEventRequest(std::string_view event, const wps::Payload& payload,
                               std::optional<uint64_t> ack_id) {
  std::string& out = Scratch();
  AppendMessageField(out, upstream::kEvent, [&](std::string& o) {
    AppendStringIfSet(o, 1, event);
    AppendMessageField(o, 2, [&](std::string& d) { AppendUpstreamMessageData(d, payload); });
    if (ack_id) AppendVarintField(o, 3, *ack_id);
    AppendMetadata(o, 4, payload.metadata);
  });
  return ToShared(out);
}

SharedBytes EncodeSequenceAckRequest(uint64_t sequence_id) {
  std::string& out = Scratch();
  AppendMessageField(out, upstream::kSequenceAck, [&](std::string& o) {
    if (sequence_id != 0) AppendVarintField(o, 1, sequence_id);
  });
  return ToShared(out);
}

SharedBytes EncodePingRequest() {
  std::string& out = Scratch();
  AppendMessageField(out, upstream::kPing, [](std::string&) {});
  return ToShared(out);
}

SharedBytes EncodeStreamStartRequest(const wps::StreamStartRequest& request) {
  std::string& out = Scratch();
  AppendMessageField(out, upstream::kSendToGroup, [&](std::string& o) {
    AppendStringIfSet(o, 1, request.group);
    if (request.ack_id) AppendVarintField(o, 2, *request.ack_id);
    AppendVarintField(o, 4, request.no_echo ? 1 : 0);
    AppendMessageField(o, 7, [&](std::string& st) {
      AppendStringIfSet(st, 1, request.stream_id);
      AppendVarintField(st, 2, request.idle_timeout_ms);
    });
  });
  return ToShared(out);
}

SharedBytes EncodeStreamDataRequest(const wps::StreamDataRequest& request) {
  WPSIM_ASSERT(request.stream_sequence_id.has_value() == request.payload.has_value());
  std::string& out = Scratch();
  AppendMessageField(out, upstream::kStreamData, [&](std::string& o) {
    AppendStringIfSet(o, 1, request.stream_id);
    if (request.stream_sequence_id) AppendVarintField(o, 2, *request.stream_sequence_id);
    if (request.payload) {
      AppendMessageField(o, 3,
                         [&](std::string& d) { AppendUpstreamMessageData(d, *request.payload); });
    }
  });
  return ToShared(out);
}

SharedBytes EncodeStreamEndRequest(const wps::StreamEndRequest& request) {
  std::string& out = Scratch();
  AppendMessageField(out, upstream::kStreamEnd, [&](std::string& o) {
    AppendStringIfSet(o, 1, request.stream_id);
    if (request.error) {
      AppendMessageField(o, 2, [&](std::string& e) {
        if (request.error->message) AppendLenField(e, 1, *request.error->message);
        if (request.error->user_error_code) AppendLenField(e, 2, *request.error->user_error_code);
      });
    }
  });
  return ToShared(out);
}

SharedBytes EncodeUpstreamMessage(const wps::Request& request) {
  return std::visit(
      [](const auto& r) -> SharedBytes {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, wps::JoinGroupRequest>) {
          return protobuf::EncodeJoinGroupRequest(r.group, r.ack_id);
        } else if constexpr (std::is_same_v<T, wps::LeaveGroupRequest>) {
          return protobuf::EncodeLeaveGroupRequest(r.group, r.ack_id);
        } else if constexpr (std::is_same_v<T, wps::SendToGroupRequest>) {
          return protobuf::EncodeSendToGroupRequest(r.group, r.payload, r.ack_id, r.no_echo,
                                                    r.ttl_seconds);
        } else if constexpr (std::is_same_v<T, wps::EventRequest>) {
          return protobuf::EncodeEventRequest(r.event, r.payload, r.ack_id);
        } else if constexpr (std::is_same_v<T, wps::SequenceAckRequest>) {
          return protobuf::EncodeSequenceAckRequest(r.sequence_id);
        } else if constexpr (std::is_same_v<T, wps::PingRequest>) {
          return protobuf::EncodePingRequest();
        } else if constexpr (std::is_same_v<T, wps::StreamStartRequest>) {
          return protobuf::EncodeStreamStartRequest(r);
        } else if constexpr (std::is_same_v<T, wps::StreamDataRequest>) {
          return protobuf::EncodeStreamDataRequest(r);
        } else if constexpr (std::is_same_v<T, wps::StreamEndRequest>) {
          return protobuf::EncodeStreamEndRequest(r);
        } else {
          WPSIM_ASSERT(false && "invocations have no protobuf encoding");
          return SharedBytes();
        }
      },
      request);
}

// ---- Service → client -------------------------------------------------------------------

namespace {

SharedBytes EncodeAckMessage(uint64_t ack_id, bool success,
                             const std::optional<wps::AckError>& error) {
  std::string& out = Scratch();
  AppendMessageField(out, downstream::kAck, [&](std::string& o) {
    if (ack_id != 0) AppendVarintField(o, 1, ack_id);
    if (success) AppendVarintField(o, 2, 1);
    if (error) {
      AppendMessageField(o, 3, [&](std::string& e) {
        AppendStringIfSet(e, 1, error->name);
        AppendStringIfSet(e, 2, error->message);
      });
    }
  });
  return ToShared(out);
}

}  // namespace

SharedBytes EncodeAck(uint64_t ack_id) { return EncodeAckMessage(ack_id, true, std::nullopt); }

SharedBytes EncodeAckError(uint64_t ack_id, std::string_view name, std::string_view message) {
  return EncodeAckMessage(ack_id, false, wps::AckError{std::string(name), std::string(message)});
}

SharedBytes EncodeDuplicateAck(uint64_t ack_id) {
  return EncodeAckError(ack_id, wps::kAckErrorDuplicate, wps::DuplicateAckMessage(ack_id));
}

SharedBytes EncodeConnected(std::string_view connection_id, std::optional<std::string_view> user_id,
                            std::optional<std::string_view> reconnection_token) {
  std::string& out = Scratch();
  AppendMessageField(out, downstream::kSystem, [&](std::string& s) {
    AppendMessageField(s, 1, [&](std::string& c) {
      AppendStringIfSet(c, 1, connection_id);
      if (user_id) AppendStringIfSet(c, 2, *user_id);
      if (reconnection_token) AppendLenField(c, 3, *reconnection_token);
    });
  });
  return ToShared(out);
}

SharedBytes EncodeDisconnected(std::string_view reason) {
  std::string& out = Scratch();
  AppendMessageField(out, downstream::kSystem, [&](std::string& s) {
    AppendMessageField(s, 2, [&](std::string& d) { AppendStringIfSet(d, 2, reason); });
  });
  return ToShared(out);
}

SharedBytes EncodePong() {
  std::string& out = Scratch();
  AppendMessageField(out, downstream::kPong, [](std::string&) {});
  return ToShared(out);
}

SharedBytes EncodeGroupMessage(std::string_view group, const wps::Payload& payload) {
  return EncodeData(group, &payload);
}

SharedBytes EncodeServerMessage(const wps::Payload& payload) {
  return EncodeData(std::nullopt, &payload);
}

SequencedMessage EncodeSequencedGroupMessage(std::string_view group, const wps::Payload& payload) {
  return EncodeSequenced(group, &payload);
}

SequencedMessage EncodeSequencedServerMessage(const wps::Payload& payload) {
  return EncodeSequenced(std::nullopt, &payload);
}

SharedBytes EncodeGroupStreamMessage(std::string_view group,
                                     const std::optional<wps::Payload>& payload,
                                     const wps::StreamInfo& stream) {
  return EncodeData(group, payload ? &*payload : nullptr, &stream);
}

SequencedMessage EncodeSequencedGroupStreamMessage(std::string_view group,
                                                   const std::optional<wps::Payload>& payload,
                                                   const wps::StreamInfo& stream) {
  return EncodeSequenced(group, payload ? &*payload : nullptr, &stream);
}

SharedBytes EncodeStreamAck(std::string_view stream_id, uint64_t expected_sequence_id) {
  std::string& out = Scratch();
  AppendMessageField(out, downstream::kStreamAck, [&](std::string& o) {
    AppendStringIfSet(o, 1, stream_id);
    if (expected_sequence_id != 0) AppendVarintField(o, 2, expected_sequence_id);
  });
  return ToShared(out);
}

SharedBytes EncodeStreamNack(std::string_view stream_id, std::string_view name,
                             std::string_view message, uint64_t expected_sequence_id) {
  std::string& out = Scratch();
  AppendMessageField(out, downstream::kStreamNack, [&](std::string& o) {
    AppendStringIfSet(o, 1, stream_id);
    AppendStringIfSet(o, 2, name);
    AppendStringIfSet(o, 3, message);
    if (expected_sequence_id != 0) AppendVarintField(o, 4, expected_sequence_id);
  });
  return ToShared(out);
}

SharedBytes EncodeStreamClosed(std::string_view stream_id,
                               const std::optional<wps::AckError>& error) {
  std::string& out = Scratch();
  AppendMessageField(out, downstream::kStreamClosed, [&](std::string& o) {
    AppendStringIfSet(o, 1, stream_id);
    if (error) {
      AppendMessageField(o, 2, [&](std::string& e) {
        AppendStringIfSet(e, 1, error->name);
        AppendStringIfSet(e, 2, error->message);
      });
    }
  });
  return ToShared(out);
}

size_t SequencedMessage::RenderedSize(uint64_t sequence_id) const {
  const size_t data_length = body_.size() + 1 + VarintSize(sequence_id);
  return 1 + VarintSize(data_length) + data_length;
}

void SequencedMessage::RenderInto(uint64_t sequence_id, std::string& out) const {
  const size_t data_length = body_.size() + 1 + VarintSize(sequence_id);
  uint8_t head[1 + kVarintBytesMax];
  head[0] = kDataMessageTag;
  const size_t head_bytes = 1 + WriteVarint(data_length, head + 1);
  uint8_t tail[1 + kVarintBytesMax];
  tail[0] = kSequenceIdTag;
  const size_t tail_bytes = 1 + WriteVarint(sequence_id, tail + 1);
  out.clear();
  out.reserve(head_bytes + body_.size() + tail_bytes);
  out.append(reinterpret_cast<const char*>(head), head_bytes);
  out.append(body_.view());
  out.append(reinterpret_cast<const char*>(tail), tail_bytes);
}

SharedBytes SequencedMessage::Render(uint64_t sequence_id) const {
  std::string& out = Scratch();
  RenderInto(sequence_id, out);
  return ToShared(out);
}

// ---- Client side: decoder ---------------------------------------------------------------

namespace {

struct DownstreamParts {
  uint32_t member = 0;
  uint32_t unknown_member = 0;
  wps::AckMessage ack;
  std::string from;
  std::optional<std::string> group;
  std::optional<wps::Payload> data;
  wps::Metadata metadata;
  std::optional<uint64_t> sequence_id;
  uint32_t system_member = 0;
  wps::ConnectedMessage connected;
  wps::DisconnectedMessage disconnected;
  std::optional<wps::StreamInfo> stream;  // DataMessage.stream
  wps::StreamAckMessage stream_ack;
  wps::StreamNackMessage stream_nack;
  wps::StreamClosedMessage stream_closed;
};

bool ReadStreamInfo(Reader& r, const Field& f, std::optional<wps::StreamInfo>& stream) {
  if (!stream) stream.emplace();
  return ReadNested(r, f, "stream", [&](Reader& in, const Field& g) {
    switch (g.number) {
      case 1:
        return ReadString(in, g, "stream_id", stream->stream_id);
      case 2:
        return ReadUint64(in, g, "stream_sequence_id", stream->stream_sequence_id);
      case 3:
        if (!ExpectType(in, g, WireType::kVarint, "end_of_stream")) return false;
        stream->end_of_stream = g.varint != 0;
        return true;
      case 4:
        if (!stream->error) stream->error.emplace();
        return ReadNested(in, g, "error", [&](Reader& e, const Field& h) {
          std::string text;
          switch (h.number) {
            case 1:
              return ReadString(e, h, "name", stream->error->name);
            // proto3 strings: empty means absent (the encoder omits both).
            case 2:
              if (!ReadString(e, h, "message", text)) return false;
              stream->error->message = text.empty() ? std::nullopt : std::optional(text);
              return true;
            case 3:
              if (!ReadString(e, h, "user_error_code", text)) return false;
              stream->error->user_error_code = text.empty() ? std::nullopt : std::optional(text);
              return true;
          }
          return true;
        });
    }
    return true;
  });
}

bool ReadSystem(Reader& r, const Field& f, DownstreamParts& p) {
  return ReadNested(r, f, "system_message", [&](Reader& in, const Field& g) {
    if (g.number == 1) {
      if (p.system_member != 1) p.connected = {};
      p.system_member = 1;
      return ReadNested(in, g, "connected_message", [&](Reader& c, const Field& h) {
        std::string text;
        switch (h.number) {
          case 1:
            return ReadString(c, h, "connection_id", p.connected.connection_id);
          case 2:
            if (!ReadString(c, h, "user_id", text)) return false;
            if (text.empty()) {
              p.connected.user_id.reset();
            } else {
              p.connected.user_id = std::move(text);
            }
            return true;
          case 3:
            if (!ReadString(c, h, "reconnection_token", text)) return false;
            p.connected.reconnection_token = std::move(text);
            return true;
        }
        return true;
      });
    }
    if (g.number == 2) {
      if (p.system_member != 2) p.disconnected = {};
      p.system_member = 2;
      return ReadNested(in, g, "disconnected_message", [&](Reader& d, const Field& h) {
        if (h.number == 2) return ReadString(d, h, "reason", p.disconnected.message);
        return true;
      });
    }
    return true;
  });
}

bool ReadDownstreamMember(Reader& r, const Field& f, DownstreamParts& p) {
  if (p.member != f.number) {
    p = DownstreamParts();
    p.member = f.number;
  }
  switch (f.number) {
    case downstream::kAck:
      return ReadNested(r, f, "ack_message", [&](Reader& in, const Field& g) {
        switch (g.number) {
          case 1:
            return ReadUint64(in, g, "ack_id", p.ack.ack_id);
          case 2:
            if (!ExpectType(in, g, WireType::kVarint, "success")) return false;
            p.ack.success = g.varint != 0;
            return true;
          case 3: {
            if (!p.ack.error) p.ack.error.emplace();
            return ReadNested(in, g, "error", [&](Reader& e, const Field& h) {
              if (h.number == 1) return ReadString(e, h, "name", p.ack.error->name);
              if (h.number == 2) return ReadString(e, h, "message", p.ack.error->message);
              return true;
            });
          }
        }
        return true;
      });
    case downstream::kData:
      return ReadNested(r, f, "data_message", [&](Reader& in, const Field& g) {
        switch (g.number) {
          case 1:
            return ReadString(in, g, "from", p.from);
          case 2: {
            std::string group;
            if (!ReadString(in, g, "group", group)) return false;
            p.group = std::move(group);
            return true;
          }
          case 3:
            return ReadMessageData(in, g, p.data);
          case 4: {
            uint64_t id = 0;
            if (!ReadUint64(in, g, "sequence_id", id)) return false;
            p.sequence_id = id;
            return true;
          }
          case 5:
            return ReadMetadataEntry(in, g, p.metadata);
          case 6:
            return ReadStreamInfo(in, g, p.stream);
        }
        return true;
      });
    case downstream::kSystem:
      return ReadSystem(r, f, p);
    case downstream::kPong:
      return ReadNested(r, f, "pong_message", [](Reader&, const Field&) { return true; });
    case downstream::kStreamAck:
      return ReadNested(r, f, "stream_ack_message", [&](Reader& in, const Field& g) {
        if (g.number == 1) return ReadString(in, g, "stream_id", p.stream_ack.stream_id);
        if (g.number == 2) {
          return ReadUint64(in, g, "expected_sequence_id", p.stream_ack.expected_sequence_id);
        }
        return true;
      });
    case downstream::kStreamNack:
      return ReadNested(r, f, "stream_nack_message", [&](Reader& in, const Field& g) {
        switch (g.number) {
          case 1:
            return ReadString(in, g, "stream_id", p.stream_nack.stream_id);
          case 2:
            return ReadString(in, g, "name", p.stream_nack.name);
          case 3:
            return ReadString(in, g, "message", p.stream_nack.message);
          case 4:
            return ReadUint64(in, g, "expected_sequence_id", p.stream_nack.expected_sequence_id);
        }
        return true;
      });
    case downstream::kStreamClosed:
      return ReadNested(r, f, "stream_closed_message", [&](Reader& in, const Field& g) {
        if (g.number == 1) return ReadString(in, g, "stream_id", p.stream_closed.stream_id);
        if (g.number != 2) return true;
        if (!p.stream_closed.error) p.stream_closed.error.emplace();
        return ReadNested(in, g, "error", [&](Reader& e, const Field& h) {
          if (h.number == 1) return ReadString(e, h, "name", p.stream_closed.error->name);
          if (h.number == 2) return ReadString(e, h, "message", p.stream_closed.error->message);
          return true;
        });
      });
  }
  return true;
}

bool IsDownstreamMember(uint32_t number) {
  return (number >= downstream::kAck && number <= downstream::kPong) ||
         (number >= downstream::kStreamAck && number <= downstream::kStreamClosed);
}

}  // namespace

Result<wps::ServiceMessage> DecodeDownstreamMessage(std::span<const uint8_t> bytes) {
  Reader r(bytes);
  Field f;
  DownstreamParts p;
  while (r.Next(f)) {
    if (IsDownstreamMember(f.number)) {
      if (!ReadDownstreamMember(r, f, p)) break;
    } else if (f.type == WireType::kLen) {
      // A newer oneof member (stream acks, ...): the last member wins, so it replaces ours.
      p = DownstreamParts();
      p.unknown_member = f.number;
    }
  }
  if (r.failed()) return InvalidMessage("malformed DownstreamMessage: " + r.error());
  switch (p.member) {
    case downstream::kAck:
      return wps::ServiceMessage(std::move(p.ack));
    case downstream::kData: {
      if (p.from != "group" && p.from != "server") {
        return wps::ServiceMessage(wps::UnknownMessage{"message", "unknown from '" + p.from + "'"});
      }
      // A stream's terminal message may have no data (an empty json payload, as in JSON).
      if (!p.data && p.stream && p.from == "group") p.data = wps::Payload::Json("");
      if (!p.data) return InvalidMessage("data_message without data");
      p.data->metadata = std::move(p.metadata);
      if (p.from == "group") {
        wps::GroupDataMessage m;
        m.group = p.group.value_or("");
        m.payload = std::move(*p.data);
        m.sequence_id = p.sequence_id;
        m.stream = std::move(p.stream);
        return wps::ServiceMessage(std::move(m));
      }
      return wps::ServiceMessage(wps::ServerDataMessage{std::move(*p.data), p.sequence_id});
    }
    case downstream::kSystem:
      if (p.system_member == 1) return wps::ServiceMessage(std::move(p.connected));
      if (p.system_member == 2) return wps::ServiceMessage(std::move(p.disconnected));
      return wps::ServiceMessage(wps::UnknownMessage{"system", "unknown system message"});
    case downstream::kPong:
      return wps::ServiceMessage(wps::PongMessage{});
    case downstream::kStreamAck:
      return wps::ServiceMessage(std::move(p.stream_ack));
    case downstream::kStreamNack:
      return wps::ServiceMessage(std::move(p.stream_nack));
    case downstream::kStreamClosed:
      return wps::ServiceMessage(std::move(p.stream_closed));
  }
  return wps::ServiceMessage(wps::UnknownMessage{
      p.unknown_member != 0 ? "field " + std::to_string(p.unknown_member) : std::string(),
      "unknown message"});
}

}  // namespace wpsim::protocol::protobuf
