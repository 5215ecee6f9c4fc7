#include "protocol/mqtt/publish_template.h"

#include <cstring>

#include "protocol/mqtt/encoder.h"

namespace wpsim::protocol::mqtt {

namespace {

// Reads the Variable Byte Integer at *p (known to be well formed: we wrote it).
uint32_t ReadVbi(const uint8_t** p) {
  uint32_t value = 0;
  uint32_t multiplier = 1;
  while (true) {
    uint8_t b = *(*p)++;
    value += (b & 0x7F) * multiplier;
    if ((b & 0x80) == 0) return value;
    multiplier *= 128;
  }
}

}  // namespace

Result<PublishTemplate> PublishTemplate::Make(const Publish& publish, ProtocolVersion version) {
  WPSIM_ASSERT(version == ProtocolVersion::kV311 || version == ProtocolVersion::kV5);
  if (publish.topic.size() > kMaxStringLength) {
    return MakeError("mqtt.encode", "topic longer than 65535 bytes");
  }
  // Properties (5.0) are encoded through the encoder with everything else empty, then cut out.
  std::vector<uint8_t> properties;
  if (version == ProtocolVersion::kV5) {
    Publish shell;
    shell.properties = publish.properties;
    shell.properties.subscription_identifiers.clear();
    std::vector<uint8_t> encoded;
    Status s = Encode(shell, version, &encoded);
    if (!s.ok()) return s.error();
    const uint8_t* p = encoded.data() + 1;
    ReadVbi(&p);  // Remaining Length
    p += 2;       // empty Topic Name
    uint32_t length = ReadVbi(&p);
    properties.assign(p, p + length);
  }
  PublishTemplate t;
  t.version_ = version;
  t.retain_ = publish.retain;
  uint64_t remaining = 2 + publish.topic.size() + publish.payload.size();
  if (version == ProtocolVersion::kV5) {
    remaining += VariableByteIntegerSize(static_cast<uint32_t>(properties.size())) +
                 properties.size();
  }
  // Room for the Packet Identifier and for subscription identifiers added later is checked
  // when they are added; the QoS 1 image must fit too.
  if (remaining + 2 > kMaxVariableByteInteger) {
    return MakeError("mqtt.encode", "remaining length above 268435455");
  }
  uint32_t rl0 = static_cast<uint32_t>(remaining);
  size_t total0 = 1 + VariableByteIntegerSize(rl0) + rl0;
  t.qos0_ = SharedBytes::Allocate(total0);
  uint8_t* w = t.qos0_.mutable_data();
  uint8_t* start = w;
  *w++ = static_cast<uint8_t>(0x30 | (publish.retain ? 1 : 0));
  w += WriteVariableByteInteger(rl0, w);
  t.topic_begin_ = static_cast<size_t>(w - start);
  *w++ = static_cast<uint8_t>(publish.topic.size() >> 8);
  *w++ = static_cast<uint8_t>(publish.topic.size());
  if (!publish.topic.empty()) std::memcpy(w, publish.topic.data(), publish.topic.size());
  w += publish.topic.size();
  t.topic_end_ = static_cast<size_t>(w - start);
  if (version == ProtocolVersion::kV5) {
    w += WriteVariableByteInteger(static_cast<uint32_t>(properties.size()), w);
    t.properties_begin_ = static_cast<size_t>(w - start);
    if (!properties.empty()) std::memcpy(w, properties.data(), properties.size());
    w += properties.size();
    t.properties_end_ = static_cast<size_t>(w - start);
  } else {
    t.properties_begin_ = t.properties_end_ = t.topic_end_;
  }
  if (!publish.payload.empty()) {
    std::memcpy(w, publish.payload.data(), publish.payload.size());
  }
  w += publish.payload.size();
  WPSIM_ASSERT(static_cast<size_t>(w - start) == total0);

  // QoS 1 image: the same with a Packet Identifier after the Topic Name.
  uint32_t rl1 = rl0 + 2;
  size_t header1 = 1 + VariableByteIntegerSize(rl1);
  t.qos1_.resize(header1 + rl1);
  uint8_t* q = t.qos1_.data();
  q[0] = static_cast<uint8_t>(0x32 | (publish.retain ? 1 : 0));
  WriteVariableByteInteger(rl1, q + 1);
  const uint8_t* src = t.qos0_.data();
  size_t topic_len = t.topic_end_ - t.topic_begin_;
  std::memcpy(q + header1, src + t.topic_begin_, topic_len);
  t.packet_id_offset_ = header1 + topic_len;
  q[t.packet_id_offset_] = 0;
  q[t.packet_id_offset_ + 1] = 0;
  size_t tail = total0 - t.topic_end_;
  if (tail != 0) std::memcpy(q + t.packet_id_offset_ + 2, src + t.topic_end_, tail);
  return t;
}

void PublishTemplate::PatchForReceiver(std::span<uint8_t> copy, uint8_t qos, uint16_t packet_id,
                                       bool dup) const {
  WPSIM_ASSERT(qos == 1 || qos == 2);
  WPSIM_ASSERT(copy.size() == qos1_.size());
  copy[0] = static_cast<uint8_t>(0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain_ ? 1 : 0));
  copy[packet_id_offset_] = static_cast<uint8_t>(packet_id >> 8);
  copy[packet_id_offset_ + 1] = static_cast<uint8_t>(packet_id);
}

void PublishTemplate::AppendTo(std::vector<uint8_t>* out, uint8_t qos, uint16_t packet_id,
                               bool dup, std::span<const uint32_t> subscription_identifiers) const {
  WPSIM_ASSERT(qos <= 2);
  WPSIM_ASSERT(qos == 0 || packet_id != 0);
  WPSIM_ASSERT(qos != 0 || !dup);  // [MQTT-3.3.1-2]
  if (subscription_identifiers.empty() || version_ != ProtocolVersion::kV5) {
    if (qos == 0) {
      out->insert(out->end(), qos0_.data(), qos0_.data() + qos0_.size());
      return;
    }
    size_t old = out->size();
    out->insert(out->end(), qos1_.begin(), qos1_.end());
    PatchForReceiver(std::span<uint8_t>(out->data() + old, qos1_.size()), qos, packet_id, dup);
    return;
  }

  // Slow path: the Property Length grows by the subscription identifiers.
  size_t extra = 0;
  for (uint32_t id : subscription_identifiers) {
    WPSIM_ASSERT(id >= 1 && id <= kMaxVariableByteInteger);
    extra += 1 + VariableByteIntegerSize(id);
  }
  const uint8_t* src = qos0_.data();
  size_t topic_len = topic_end_ - topic_begin_;
  size_t base_props = properties_end_ - properties_begin_;
  size_t props_len = base_props + extra;
  WPSIM_ASSERT(props_len <= kMaxVariableByteInteger);
  size_t payload_len = qos0_.size() - properties_end_;
  size_t remaining = topic_len + (qos > 0 ? 2 : 0) +
                     VariableByteIntegerSize(static_cast<uint32_t>(props_len)) + props_len +
                     payload_len;
  WPSIM_ASSERT(remaining <= kMaxVariableByteInteger);
  size_t total = 1 + VariableByteIntegerSize(static_cast<uint32_t>(remaining)) + remaining;
  size_t old = out->size();
  out->resize(old + total);
  uint8_t* w = out->data() + old;
  *w++ = static_cast<uint8_t>(0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain_ ? 1 : 0));
  w += WriteVariableByteInteger(static_cast<uint32_t>(remaining), w);
  std::memcpy(w, src + topic_begin_, topic_len);
  w += topic_len;
  if (qos > 0) {
    *w++ = static_cast<uint8_t>(packet_id >> 8);
    *w++ = static_cast<uint8_t>(packet_id);
  }
  w += WriteVariableByteInteger(static_cast<uint32_t>(props_len), w);
  if (base_props != 0) std::memcpy(w, src + properties_begin_, base_props);
  w += base_props;
  for (uint32_t id : subscription_identifiers) {
    *w++ = static_cast<uint8_t>(PropertyId::kSubscriptionIdentifier);
    w += WriteVariableByteInteger(id, w);
  }
  if (payload_len != 0) std::memcpy(w, src + properties_end_, payload_len);
  w += payload_len;
  WPSIM_ASSERT(w == out->data() + old + total);
}

namespace {
// Reads a Variable Byte Integer at packet[*at], advancing *at; false when it runs past the end
// or is longer than four bytes.
bool ReadVbiAt(std::span<const uint8_t> packet, size_t* at, uint32_t* value) {
  *value = 0;
  for (int i = 0; i < 4; ++i) {
    if (*at >= packet.size()) return false;
    const uint8_t b = packet[(*at)++];
    *value |= static_cast<uint32_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) return true;
  }
  return false;
}
bool ReadU16At(std::span<const uint8_t> packet, size_t* at, uint32_t* value) {
  if (*at + 2 > packet.size()) return false;
  *value = (static_cast<uint32_t>(packet[*at]) << 8) | packet[*at + 1];
  *at += 2;
  return true;
}
}  // namespace

std::optional<size_t> FindMessageExpiry(std::span<const uint8_t> packet) {
  if (packet.empty() || (packet[0] >> 4) != 3) return std::nullopt;
  const uint8_t qos = (packet[0] >> 1) & 0x03;
  size_t at = 1;
  uint32_t remaining = 0, n = 0;
  if (!ReadVbiAt(packet, &at, &remaining) || at + remaining != packet.size()) return std::nullopt;
  if (!ReadU16At(packet, &at, &n)) return std::nullopt;  // Topic Name
  at += n;
  if (qos > 0) at += 2;  // Packet Identifier
  uint32_t properties_length = 0;
  if (!ReadVbiAt(packet, &at, &properties_length)) return std::nullopt;
  const size_t end = at + properties_length;
  if (end > packet.size()) return std::nullopt;
  while (at < end) {
    uint32_t id = 0;
    if (!ReadVbiAt(packet, &at, &id)) return std::nullopt;
    const PropertyInfo* info = id <= 0xFF ? FindPropertyInfo(static_cast<uint8_t>(id)) : nullptr;
    if (info == nullptr) return std::nullopt;
    if (info->id == PropertyId::kMessageExpiryInterval) {
      return at + 4 <= end ? std::optional<size_t>(at) : std::nullopt;
    }
    switch (info->type) {
      case PropertyType::kByte: at += 1; break;
      case PropertyType::kTwoByteInteger: at += 2; break;
      case PropertyType::kFourByteInteger: at += 4; break;
      case PropertyType::kVariableByteInteger:
        if (!ReadVbiAt(packet, &at, &n)) return std::nullopt;
        break;
      case PropertyType::kUtf8String:
      case PropertyType::kBinaryData:
        if (!ReadU16At(packet, &at, &n)) return std::nullopt;
        at += n;
        break;
      case PropertyType::kUtf8StringPair:
        if (!ReadU16At(packet, &at, &n)) return std::nullopt;
        at += n;
        if (!ReadU16At(packet, &at, &n)) return std::nullopt;
        at += n;
        break;
    }
  }
  return std::nullopt;
}

}  // namespace wpsim::protocol::mqtt
