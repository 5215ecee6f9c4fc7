#include "protocol/mqtt/encoder.h"

#include <cstring>
#include <string_view>

namespace wpsim::protocol::mqtt {

size_t VariableByteIntegerSize(uint32_t value) {
  WPSIM_ASSERT(value <= kMaxVariableByteInteger);
  if (value < 128) return 1;
  if (value < 16'384) return 2;
  if (value < 2'097'152) return 3;
  return 4;
}

size_t WriteVariableByteInteger(uint32_t value, uint8_t* out) {
  WPSIM_ASSERT(value <= kMaxVariableByteInteger);
  size_t n = 0;
  do {
    uint8_t byte = value % 128;
    value /= 128;
    if (value > 0) byte |= 0x80;
    out[n++] = byte;
  } while (value > 0);
  return n;
}

namespace {

// Every packet body is written twice through the same template: once into a Counter (sizes
// and representability checks, before anything is appended) and once into a Writer (bytes,
// into space already reserved). This keeps the size and the bytes from ever disagreeing.
class Counter {
 public:
  void U8(uint8_t) { n_ += 1; }
  void U16(uint16_t) { n_ += 2; }
  void U32(uint32_t) { n_ += 4; }
  void Vbi(uint64_t v) {
    if (v > kMaxVariableByteInteger) {
      Fail("variable byte integer above 268435455");
      return;
    }
    n_ += VariableByteIntegerSize(static_cast<uint32_t>(v));
  }
  void Raw(const void*, size_t k) { n_ += k; }
  void Str(std::string_view s) {
    if (s.size() > kMaxStringLength) Fail("string field longer than 65535 bytes");
    n_ += 2 + s.size();
  }
  void Bin(std::span<const uint8_t> b) {
    if (b.size() > kMaxStringLength) Fail("binary field longer than 65535 bytes");
    n_ += 2 + b.size();
  }
  void Fail(const char* why) {
    if (error_ == nullptr) error_ = why;
  }
  size_t size() const { return n_; }
  const char* error() const { return error_; }

 private:
  size_t n_ = 0;
  const char* error_ = nullptr;
};

class Writer {
 public:
  explicit Writer(uint8_t* p) : p_(p) {}
  void U8(uint8_t v) { *p_++ = v; }
  void U16(uint16_t v) {
    p_[0] = static_cast<uint8_t>(v >> 8);
    p_[1] = static_cast<uint8_t>(v);
    p_ += 2;
  }
  void U32(uint32_t v) {
    p_[0] = static_cast<uint8_t>(v >> 24);
    p_[1] = static_cast<uint8_t>(v >> 16);
    p_[2] = static_cast<uint8_t>(v >> 8);
    p_[3] = static_cast<uint8_t>(v);
    p_ += 4;
  }
  void Vbi(uint64_t v) { p_ += WriteVariableByteInteger(static_cast<uint32_t>(v), p_); }
  void Raw(const void* data, size_t k) {
    if (k != 0) std::memcpy(p_, data, k);
    p_ += k;
  }
  void Str(std::string_view s) {
    U16(static_cast<uint16_t>(s.size()));
    Raw(s.data(), s.size());
  }
  void Bin(std::span<const uint8_t> b) {
    U16(static_cast<uint16_t>(b.size()));
    Raw(b.data(), b.size());
  }
  void Fail(const char*) {}  // the Counter pass has already failed
  uint8_t* position() const { return p_; }

 private:
  uint8_t* p_;
};

template <class S>
void PropertyEntries(S& s, const Properties& p) {
  auto byte = [&](PropertyId id, const std::optional<uint8_t>& v) {
    if (v) {
      s.U8(static_cast<uint8_t>(id));
      s.U8(*v);
    }
  };
  auto u16 = [&](PropertyId id, const std::optional<uint16_t>& v) {
    if (v) {
      s.U8(static_cast<uint8_t>(id));
      s.U16(*v);
    }
  };
  auto u32 = [&](PropertyId id, const std::optional<uint32_t>& v) {
    if (v) {
      s.U8(static_cast<uint8_t>(id));
      s.U32(*v);
    }
  };
  auto str = [&](PropertyId id, const std::optional<std::string>& v) {
    if (v) {
      s.U8(static_cast<uint8_t>(id));
      s.Str(*v);
    }
  };
  auto bin = [&](PropertyId id, const std::optional<std::vector<uint8_t>>& v) {
    if (v) {
      s.U8(static_cast<uint8_t>(id));
      s.Bin(*v);
    }
  };
  byte(PropertyId::kPayloadFormatIndicator, p.payload_format_indicator);
  u32(PropertyId::kMessageExpiryInterval, p.message_expiry_interval);
  str(PropertyId::kContentType, p.content_type);
  str(PropertyId::kResponseTopic, p.response_topic);
  bin(PropertyId::kCorrelationData, p.correlation_data);
  for (uint32_t id : p.subscription_identifiers) {
    s.U8(static_cast<uint8_t>(PropertyId::kSubscriptionIdentifier));
    s.Vbi(id);
  }
  u32(PropertyId::kSessionExpiryInterval, p.session_expiry_interval);
  str(PropertyId::kAssignedClientIdentifier, p.assigned_client_identifier);
  u16(PropertyId::kServerKeepAlive, p.server_keep_alive);
  str(PropertyId::kAuthenticationMethod, p.authentication_method);
  bin(PropertyId::kAuthenticationData, p.authentication_data);
  byte(PropertyId::kRequestProblemInformation, p.request_problem_information);
  u32(PropertyId::kWillDelayInterval, p.will_delay_interval);
  byte(PropertyId::kRequestResponseInformation, p.request_response_information);
  str(PropertyId::kResponseInformation, p.response_information);
  str(PropertyId::kServerReference, p.server_reference);
  str(PropertyId::kReasonString, p.reason_string);
  u16(PropertyId::kReceiveMaximum, p.receive_maximum);
  u16(PropertyId::kTopicAliasMaximum, p.topic_alias_maximum);
  u16(PropertyId::kTopicAlias, p.topic_alias);
  byte(PropertyId::kMaximumQos, p.maximum_qos);
  byte(PropertyId::kRetainAvailable, p.retain_available);
  for (const UserProperty& up : p.user_properties) {
    s.U8(static_cast<uint8_t>(PropertyId::kUserProperty));
    s.Str(up.key);
    s.Str(up.value);
  }
  u32(PropertyId::kMaximumPacketSize, p.maximum_packet_size);
  byte(PropertyId::kWildcardSubscriptionAvailable, p.wildcard_subscription_available);
  byte(PropertyId::kSubscriptionIdentifierAvailable, p.subscription_identifier_available);
  byte(PropertyId::kSharedSubscriptionAvailable, p.shared_subscription_available);
}

// Property Length followed by the properties ([MQTT-2.2.2-1]: zero length when none).
template <class S>
void PropertiesField(S& s, const Properties& p) {
  if (p.empty()) {  // the common case for PUBLISH: skip the counting pass
    s.U8(0);
    return;
  }
  Counter c;
  PropertyEntries(c, p);
  if (c.error() != nullptr) s.Fail(c.error());
  s.Vbi(c.size());
  PropertyEntries(s, p);
}

std::span<const uint8_t> AsSpan(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

uint8_t ProtocolLevel(ProtocolVersion v) { return static_cast<uint8_t>(v); }

template <class S>
void Body(S& s, const Connect& p, ProtocolVersion v) {
  s.Str("MQTT");
  s.U8(ProtocolLevel(v));
  uint8_t flags = 0;
  if (p.username) flags |= 0x80;
  if (p.password) flags |= 0x40;
  if (p.will) {
    flags |= 0x04;
    flags |= static_cast<uint8_t>((p.will->qos & 3) << 3);
    if (p.will->retain) flags |= 0x20;
  }
  if (p.clean_start) flags |= 0x02;
  s.U8(flags);
  s.U16(p.keep_alive);
  if (v == ProtocolVersion::kV5) PropertiesField(s, p.properties);
  s.Str(p.client_id);
  if (p.will) {
    if (v == ProtocolVersion::kV5) PropertiesField(s, p.will->properties);
    s.Str(p.will->topic);
    s.Bin(AsSpan(p.will->payload));
  }
  if (p.username) s.Str(*p.username);
  if (p.password) s.Bin(AsSpan(*p.password));
}

template <class S>
void Body(S& s, const Connack& p, ProtocolVersion v) {
  s.U8(p.session_present ? 1 : 0);
  if (v == ProtocolVersion::kV5) {
    s.U8(static_cast<uint8_t>(p.reason_code));
    PropertiesField(s, p.properties);
  } else {
    std::optional<ConnectReturnCode> rc = V311ConnectReturnCodeFor(p.reason_code);
    if (!rc) {
      s.Fail("reason code has no MQTT 3.1.1 CONNACK return code");
      s.U8(0);
    } else {
      s.U8(static_cast<uint8_t>(*rc));
    }
  }
}

template <class S>
void Body(S& s, const Publish& p, ProtocolVersion v) {
  s.Str(p.topic);
  if (p.qos > 0) s.U16(p.packet_id);
  if (v == ProtocolVersion::kV5) PropertiesField(s, p.properties);
  s.Raw(p.payload.data(), p.payload.size());
}

template <class S, class Ack>
void AckBody(S& s, const Ack& p, ProtocolVersion v) {
  s.U16(p.packet_id);
  if (v != ProtocolVersion::kV5) return;
  bool has_properties = !p.properties.empty();
  if (p.reason_code != ReasonCode::kSuccess || has_properties) {
    s.U8(static_cast<uint8_t>(p.reason_code));
    if (has_properties) PropertiesField(s, p.properties);
  }
}
template <class S>
void Body(S& s, const Puback& p, ProtocolVersion v) { AckBody(s, p, v); }
template <class S>
void Body(S& s, const Pubrec& p, ProtocolVersion v) { AckBody(s, p, v); }
template <class S>
void Body(S& s, const Pubrel& p, ProtocolVersion v) { AckBody(s, p, v); }
template <class S>
void Body(S& s, const Pubcomp& p, ProtocolVersion v) { AckBody(s, p, v); }

template <class S>
void Body(S& s, const Subscribe& p, ProtocolVersion v) {
  s.U16(p.packet_id);
  if (v == ProtocolVersion::kV5) PropertiesField(s, p.properties);
  for (const Subscription& sub : p.subscriptions) {
    s.Str(sub.topic_filter);
    uint8_t options = sub.options.qos & 3;
    if (v == ProtocolVersion::kV5) {
      if (sub.options.no_local) options |= 0x04;
      if (sub.options.retain_as_published) options |= 0x08;
      options |= static_cast<uint8_t>((sub.options.retain_handling & 3) << 4);
    }
    s.U8(options);
  }
}

template <class S>
void Body(S& s, const Suback& p, ProtocolVersion v) {
  s.U16(p.packet_id);
  if (v == ProtocolVersion::kV5) PropertiesField(s, p.properties);
  for (ReasonCode rc : p.reason_codes) s.U8(static_cast<uint8_t>(rc));
}

template <class S>
void Body(S& s, const Unsubscribe& p, ProtocolVersion v) {
  s.U16(p.packet_id);
  if (v == ProtocolVersion::kV5) PropertiesField(s, p.properties);
  for (const std::string& filter : p.topic_filters) s.Str(filter);
}

template <class S>
void Body(S& s, const Unsuback& p, ProtocolVersion v) {
  s.U16(p.packet_id);
  if (v != ProtocolVersion::kV5) return;
  PropertiesField(s, p.properties);
  for (ReasonCode rc : p.reason_codes) s.U8(static_cast<uint8_t>(rc));
}

template <class S>
void Body(S&, const Pingreq&, ProtocolVersion) {}
template <class S>
void Body(S&, const Pingresp&, ProtocolVersion) {}

template <class S, class P>
void ReasonAndPropertiesBody(S& s, const P& p, ProtocolVersion v) {
  if (v != ProtocolVersion::kV5) return;
  bool has_properties = !p.properties.empty();
  if (p.reason_code != ReasonCode::kSuccess || has_properties) {
    s.U8(static_cast<uint8_t>(p.reason_code));
    if (has_properties) PropertiesField(s, p.properties);
  }
}
template <class S>
void Body(S& s, const Disconnect& p, ProtocolVersion v) { ReasonAndPropertiesBody(s, p, v); }
template <class S>
void Body(S& s, const Auth& p, ProtocolVersion v) {
  if (v != ProtocolVersion::kV5) s.Fail("AUTH does not exist in MQTT 3.1.1");
  ReasonAndPropertiesBody(s, p, v);
}

uint8_t FirstByte(const Publish& p) {
  return static_cast<uint8_t>(0x30 | (p.dup ? 0x08 : 0) | ((p.qos & 3) << 1) |
                              (p.retain ? 0x01 : 0));
}
uint8_t FirstByte(const Connect&) { return 0x10; }
uint8_t FirstByte(const Connack&) { return 0x20; }
uint8_t FirstByte(const Puback&) { return 0x40; }
uint8_t FirstByte(const Pubrec&) { return 0x50; }
uint8_t FirstByte(const Pubrel&) { return 0x62; }
uint8_t FirstByte(const Pubcomp&) { return 0x70; }
uint8_t FirstByte(const Subscribe&) { return 0x82; }
uint8_t FirstByte(const Suback&) { return 0x90; }
uint8_t FirstByte(const Unsubscribe&) { return 0xA2; }
uint8_t FirstByte(const Unsuback&) { return 0xB0; }
uint8_t FirstByte(const Pingreq&) { return 0xC0; }
uint8_t FirstByte(const Pingresp&) { return 0xD0; }
uint8_t FirstByte(const Disconnect&) { return 0xE0; }
uint8_t FirstByte(const Auth&) { return 0xF0; }

template <class T>
Result<size_t> SizeImpl(const T& packet, ProtocolVersion v) {
  WPSIM_ASSERT(v == ProtocolVersion::kV311 || v == ProtocolVersion::kV5);
  Counter c;
  Body(c, packet, v);
  if (c.error() != nullptr) return MakeError("mqtt.encode", c.error());
  if (c.size() > kMaxVariableByteInteger) {
    return MakeError("mqtt.encode", "remaining length above 268435455");
  }
  return 1 + VariableByteIntegerSize(static_cast<uint32_t>(c.size())) + c.size();
}

template <class T>
Status EncodeImpl(const T& packet, ProtocolVersion v, std::vector<uint8_t>* out) {
  WPSIM_ASSERT(v == ProtocolVersion::kV311 || v == ProtocolVersion::kV5);
  Counter c;
  Body(c, packet, v);
  if (c.error() != nullptr) return MakeError("mqtt.encode", c.error());
  if (c.size() > kMaxVariableByteInteger) {
    return MakeError("mqtt.encode", "remaining length above 268435455");
  }
  uint32_t remaining = static_cast<uint32_t>(c.size());
  size_t total = 1 + VariableByteIntegerSize(remaining) + remaining;
  size_t old = out->size();
  out->resize(old + total);
  uint8_t* p = out->data() + old;
  *p++ = FirstByte(packet);
  p += WriteVariableByteInteger(remaining, p);
  Writer w(p);
  Body(w, packet, v);
  WPSIM_ASSERT(w.position() == out->data() + old + total);
  return Status::Ok();
}

}  // namespace

Status Encode(const Packet& packet, ProtocolVersion version, std::vector<uint8_t>* out) {
  return std::visit([&](const auto& p) { return Encode(p, version, out); }, packet);
}
Status Encode(const Connect& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Connack& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Publish& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Puback& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Pubrec& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Pubrel& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Pubcomp& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Subscribe& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Suback& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Unsubscribe& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Unsuback& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Pingreq& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Pingresp& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Disconnect& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}
Status Encode(const Auth& p, ProtocolVersion v, std::vector<uint8_t>* out) {
  return EncodeImpl(p, v, out);
}

Result<size_t> EncodedSize(const Packet& packet, ProtocolVersion version) {
  return std::visit([&](const auto& p) { return SizeImpl(p, version); }, packet);
}

}  // namespace wpsim::protocol::mqtt
