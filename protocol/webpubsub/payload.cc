#include "protocol/webpubsub/payload.h"

#include <algorithm>

#include "base/encoding.h"
#include "protocol/webpubsub/json_text.h"

namespace wpsim::protocol::webpubsub {
namespace {

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

// The media type of a Content-Type value: parameters cut, whitespace trimmed.
std::string_view MediaType(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}

}  // namespace

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kJson: return "json";
    case DataType::kText: return "text";
    case DataType::kBinary: return "binary";
    case DataType::kProtobuf: return "protobuf";
  }
  return "binary";
}

std::optional<DataType> ParseDataTypeName(std::string_view name) {
  if (EqualsIgnoreCase(name, "json")) return DataType::kJson;
  if (EqualsIgnoreCase(name, "text")) return DataType::kText;
  if (EqualsIgnoreCase(name, "binary")) return DataType::kBinary;
  if (EqualsIgnoreCase(name, "protobuf")) return DataType::kProtobuf;
  return std::nullopt;
}

Payload Payload::Json(std::string_view json_text) {
  return Payload{DataType::kJson, SharedBytes::Copy(json_text)};
}
Payload Payload::Text(std::string_view utf8) {
  return Payload{DataType::kText, SharedBytes::Copy(utf8)};
}
Payload Payload::Binary(std::span<const uint8_t> bytes) {
  return Payload{DataType::kBinary, SharedBytes::Copy(bytes)};
}
Payload Payload::Protobuf(std::span<const uint8_t> bytes) {
  return Payload{DataType::kProtobuf, SharedBytes::Copy(bytes)};
}

void AppendJsonData(std::string& out, const Payload& payload) {
  out += "\"dataType\":\"";
  out += DataTypeName(payload.type);
  out += "\",\"data\":";
  switch (payload.type) {
    case DataType::kJson:
      if (payload.data.empty()) {
        out += "null";
      } else {
        out += payload.data.view();
      }
      break;
    case DataType::kText:
      AppendJsonString(out, payload.data.view());
      break;
    case DataType::kBinary:
    case DataType::kProtobuf:
      out += '"';
      out += Base64Encode(payload.data.span());
      out += '"';
      break;
  }
  if (payload.metadata.empty()) return;
  out += ",\"metadata\":{";
  bool first = true;
  for (const auto& [key, value] : payload.metadata) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, key);
    out += ':';
    AppendJsonString(out, value);
  }
  out += '}';
}

namespace {

bool IsMetadataKeyChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
  }
  return false;
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Lower(c);
  return out;
}

}  // namespace

std::optional<std::string> ValidateMetadata(const Metadata& metadata) {
  size_t total = 0;
  for (const auto& [key, value] : metadata) {
    const std::string quoted = "'" + (IsValidUtf8(key) ? key : std::string("?")) + "'";
    if (key.empty()) return std::string("Metadata key '' contains invalid characters.");
    for (char c : key) {
      if (!IsMetadataKeyChar(c)) return "Metadata key " + quoted + " contains invalid characters.";
    }
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if (u > 0x7f) return "Metadata value for key " + quoted + " must be ASCII.";
      if ((u < 0x20 && u != '\t') || u == 0x7f) {
        return "Metadata value for key " + quoted + " contains a control character.";
      }
    }
    if (key.size() > kMetadataKeyBytesMax) {
      return "Metadata key " + quoted + " exceeds " + std::to_string(kMetadataKeyBytesMax) +
             " bytes.";
    }
    if (value.size() > kMetadataValueBytesMax) {
      return "Metadata value for key " + quoted + " exceeds " +
             std::to_string(kMetadataValueBytesMax) + " bytes.";
    }
    total += key.size() + value.size();
    if (total > kMetadataBytesMax) {
      return "Metadata exceeds " + std::to_string(kMetadataBytesMax) + " bytes.";
    }
  }
  return std::nullopt;
}

std::optional<std::string> MetadataKeyFromHeaderName(std::string_view header_name) {
  if (header_name.size() < kMetadataHeaderPrefix.size() ||
      !EqualsIgnoreCase(header_name.substr(0, kMetadataHeaderPrefix.size()),
                        kMetadataHeaderPrefix)) {
    return std::nullopt;
  }
  return LowerCopy(header_name.substr(kMetadataHeaderPrefix.size()));
}

Metadata MetadataForHeaders(const Metadata& metadata) {
  Metadata out;
  for (const auto& [key, value] : metadata) {
    std::string lower = LowerCopy(key);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == lower; });
    if (it != out.end()) {
      it->second = value;
    } else {
      out.emplace_back(std::move(lower), value);
    }
  }
  return out;
}

RawFrame RenderRaw(const Payload& payload) {
  const bool text = payload.type == DataType::kText || payload.type == DataType::kJson;
  return RawFrame{text ? FrameType::kText : FrameType::kBinary, payload.data};
}

std::string_view MqttContentType(DataType type) { return HttpContentType(type); }

DataType DataTypeFromMqttContentType(std::optional<std::string_view> content_type) {
  if (!content_type) return DataType::kBinary;
  return DataTypeFromHttpContentType(*content_type).value_or(DataType::kBinary);
}

std::string_view HttpContentType(DataType type) {
  switch (type) {
    case DataType::kJson: return "application/json";
    case DataType::kText: return "text/plain";
    case DataType::kBinary: return "application/octet-stream";
    case DataType::kProtobuf: return "application/x-protobuf";
  }
  return "application/octet-stream";
}

std::optional<DataType> DataTypeFromHttpContentType(std::string_view content_type) {
  const std::string_view media = MediaType(content_type);
  if (EqualsIgnoreCase(media, "application/json")) return DataType::kJson;
  if (EqualsIgnoreCase(media, "text/plain")) return DataType::kText;
  if (EqualsIgnoreCase(media, "application/octet-stream")) return DataType::kBinary;
  if (EqualsIgnoreCase(media, "application/x-protobuf")) return DataType::kProtobuf;
  return std::nullopt;
}

}  // namespace wpsim::protocol::webpubsub
