// A message payload as the service routes it, and its renderings for each kind of receiver.
//
// One Payload (data type + shared bytes) is decoded once from the publisher (a JSON client's
// request, a REST body, an MQTT PUBLISH, a raw frame) and rendered once per wire format:
//   * JSON subprotocol clients: `"dataType":"<t>","data":<value>` (PROTOCOL.md §5.3):
//     json → the raw JSON text verbatim; text → a JSON string; binary/protobuf → base64 string;
//   * raw WebSocket clients (§5.4): text → text frame with the string; json → text frame with
//     the JSON text (a JSON string keeps its quotes); binary/protobuf → binary frame;
//   * MQTT (§10.5): the bytes unchanged plus a content type.
// Rendering never copies for raw/MQTT receivers: the frame shares the payload's bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/shared_bytes.h"

namespace wpsim::protocol::webpubsub {

enum class DataType : uint8_t { kJson, kText, kBinary, kProtobuf };

// Message metadata (PROTOCOL.md §9.4, the Microsoft emulator's extension; docs/conformance.md
// META-*): string pairs in the order the sender gave them. Limits (emulator): a key matches
// ^[!#$%&'*+\-.^_`|~0-9a-z]+$ case-insensitively (HTTP token characters) and is at most
// kMetadataKeyBytesMax bytes, a value is ASCII and at most kMetadataValueBytesMax bytes, keys
// plus values at most kMetadataBytesMax bytes. wpsim's addition (metadata travels in HTTP
// headers): a value holds no control characters other than tab.
using Metadata = std::vector<std::pair<std::string, std::string>>;
inline constexpr size_t kMetadataKeyBytesMax = 256;
inline constexpr size_t kMetadataValueBytesMax = 1024;
inline constexpr size_t kMetadataBytesMax = 8 * 1024;
// Header prefix on REST sends, upstream requests and upstream responses (matched
// case-insensitively; wpsim writes it lower-case, as the emulator does upstream).
inline constexpr std::string_view kMetadataHeaderPrefix = "x-webpubsub-metadata-";
// ttlSeconds on client sendToGroup (and REST messageTtlSeconds): 0..300, 0 = no expiry.
inline constexpr uint32_t kMessageTtlSecondsMax = 300;

// nullopt for valid metadata, else why not (the emulator's wording).
std::optional<std::string> ValidateMetadata(const Metadata& metadata);
// For an HTTP header name X-WebPubSub-Metadata-<key> (prefix case-insensitive): <key>
// lower-cased ("" for the bare prefix); nullopt for other headers.
std::optional<std::string> MetadataKeyFromHeaderName(std::string_view header_name);
// The upstream/REST header set for `metadata`: keys lower-cased, a key given twice in different
// case keeps the last value (the emulator's collapse), first-appearance order otherwise.
Metadata MetadataForHeaders(const Metadata& metadata);
// Metadata from HTTP headers (any range of {name, value}): every X-WebPubSub-Metadata-<key>
// header, key lower-cased, value trimmed of spaces and tabs; a key repeated (in any case) keeps
// its last value. Not validated: pass the result to ValidateMetadata.
template <typename HeaderRange>
Metadata MetadataFromHeaders(const HeaderRange& headers) {
  Metadata out;
  for (const auto& header : headers) {
    std::optional<std::string> key = MetadataKeyFromHeaderName(header.name);
    if (!key) continue;
    std::string_view value = header.value;
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    bool replaced = false;
    for (auto& entry : out) {
      if (entry.first == *key) {
        entry.second = std::string(value);
        replaced = true;
      }
    }
    if (!replaced) out.emplace_back(std::move(*key), std::string(value));
  }
  return out;
}

// "json", "text", "binary", "protobuf".
std::string_view DataTypeName(DataType type);
// Case-insensitive (the emulator parses the enum that way; the SDK sends lower case).
std::optional<DataType> ParseDataTypeName(std::string_view name);

struct Payload {
  DataType type = DataType::kJson;
  // json: JSON text (one valid value); text: UTF-8; binary: bytes; protobuf: Any-encoded bytes.
  SharedBytes data;
  // Message metadata (§9.4); empty for most messages.
  Metadata metadata;

  static Payload Json(std::string_view json_text);  // caller guarantees IsValidJson(json_text)
  static Payload Text(std::string_view utf8);
  static Payload Binary(std::span<const uint8_t> bytes);
  static Payload Protobuf(std::span<const uint8_t> bytes);

  bool operator==(const Payload& o) const {
    return type == o.type && data.view() == o.data.view() && metadata == o.metadata;
  }
};

// Appends `"dataType":"<t>","data":<value>` (no surrounding braces or commas), then
// `,"metadata":{..}` when the payload has metadata. An empty json
// payload is rendered as null (a JSON payload cannot be empty; REST layers validate bodies).
// Text that is not valid UTF-8 is rendered with U+FFFD replacements.
void AppendJsonData(std::string& out, const Payload& payload);

enum class FrameType : uint8_t { kText, kBinary };

struct RawFrame {
  FrameType type;
  SharedBytes data;
};
// The frame a raw (no-subprotocol) WebSocket client receives for this payload; shares bytes.
RawFrame RenderRaw(const Payload& payload);

// MQTT 5 content type of a payload (§10.5 [INFERRED] direction service → MQTT subscriber).
std::string_view MqttContentType(DataType type);
// DataType of an MQTT PUBLISH: application/json → json, text/plain → text,
// application/x-protobuf → protobuf, anything else or absent (always for MQTT 3.1.1) → binary.
// Parameters (";charset=...") and case are ignored.
DataType DataTypeFromMqttContentType(std::optional<std::string_view> content_type);

// HTTP Content-Type for upstream user events and REST (§11.3, §12.6).
std::string_view HttpContentType(DataType type);
// text/plain → text, application/json → json, application/x-protobuf → protobuf,
// application/octet-stream → binary; nullopt for anything else. Parameters and case ignored.
std::optional<DataType> DataTypeFromHttpContentType(std::string_view content_type);

}  // namespace wpsim::protocol::webpubsub
