// PublishTemplate: one PUBLISH encoded once, then written for many receivers.
//
// For a fan-out, the PUBLISH bytes that receivers get differ only in the fixed-header flags
// (granted QoS, DUP), the Packet Identifier (present for QoS > 0, chosen per receiver), and in
// 5.0 the Subscription Identifiers of the receiver's matching subscriptions. The template
// therefore keeps two prebuilt images: the QoS 0 packet (identical for every QoS 0 receiver
// without subscription identifiers, so it is also offered as a SharedBytes to hand to every
// such receiver's stream), and a QoS > 0 packet whose Packet Identifier sits at a fixed offset.
// A QoS 1/2 receiver costs one copy and a 3-byte patch (flags byte, identifier). A receiver
// with subscription identifiers changes the Property Length and possibly the Remaining Length,
// so its packet is assembled from the stored pieces instead (the slower path).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "base/shared_bytes.h"
#include "protocol/mqtt/types.h"

namespace wpsim::protocol::mqtt {

class PublishTemplate {
 public:
  // Encodes `publish` for `version`. Its dup, qos and packet_id are ignored (they are per
  // receiver) and so are properties.subscription_identifiers; retain, topic, the other
  // properties and the payload are shared.
  static Result<PublishTemplate> Make(const Publish& publish, ProtocolVersion version);

  // Appends this PUBLISH for one receiver to *out. `packet_id` is ignored for QoS 0 and must
  // be non-zero otherwise. Subscription identifiers (5.0 only, each 1..268435455) take the
  // slower path; an empty span takes the copy-and-patch path.
  void AppendTo(std::vector<uint8_t>* out, uint8_t qos, uint16_t packet_id, bool dup = false,
                std::span<const uint32_t> subscription_identifiers = {}) const;

  // The complete QoS 0 packet, shareable by every QoS 0 receiver without subscription
  // identifiers (copying a SharedBytes only bumps a counter).
  const SharedBytes& qos0_packet() const { return qos0_; }
  // The QoS 1 image with Packet Identifier 0: copy it, then PatchForReceiver the copy.
  std::span<const uint8_t> qos1_image() const { return {qos1_.data(), qos1_.size()}; }
  size_t packet_id_offset() const { return packet_id_offset_; }
  // Sets QoS/DUP flags and the Packet Identifier in a copy of qos1_image() (qos 1 or 2).
  void PatchForReceiver(std::span<uint8_t> copy, uint8_t qos, uint16_t packet_id,
                        bool dup = false) const;

  ProtocolVersion version() const { return version_; }
  // Size of the packet AppendTo writes for `qos` without subscription identifiers.
  size_t size(uint8_t qos) const { return qos == 0 ? qos0_.size() : qos1_.size(); }

 private:
  PublishTemplate() = default;

  ProtocolVersion version_ = ProtocolVersion::kV5;
  bool retain_ = false;
  SharedBytes qos0_;
  std::vector<uint8_t> qos1_;
  size_t packet_id_offset_ = 0;
  // Pieces for the slow path, as offsets into qos0_: the Topic Name field (length-prefixed),
  // the properties without their length prefix, and the payload.
  size_t topic_begin_ = 0;
  size_t topic_end_ = 0;
  size_t properties_begin_ = 0;  // 5.0 only
  size_t properties_end_ = 0;
};

// The offset of the 4-byte Message Expiry Interval value inside a complete 5.0 PUBLISH packet
// (fixed header included), or nullopt when the packet carries none or is not a well-formed 5.0
// PUBLISH. The service patches it when a message waited before being sent ([MQTT-3.3.2-6]).
std::optional<size_t> FindMessageExpiry(std::span<const uint8_t> packet);

}  // namespace wpsim::protocol::mqtt
