// libFuzzer target for the MQTT 3.1.1 / 5.0 decoder.
//
// Byte 0 configures the decoder, the rest is the connection's byte stream:
//   bit 0     receiving side: 0 server, 1 client
//   bits 1-2  version: 0 unknown (server learns it from CONNECT; client uses 5.0),
//             1 3.1.1, 2 and 3 5.0
//   bit 3     handshake already done (CONNECT/CONNACK ordering not enforced)
//   bits 4-5  maximum packet size: 1 MiB, 64, 1024, 65536
//   bits 6-7  chunking: whole, 1 byte at a time, 3 bytes at a time, pseudo-random sizes
// Oracles besides the sanitizers: every decoded packet re-encodes, and the re-encoding
// decodes to an equal packet; every decoded PUBLISH written through a PublishTemplate decodes
// to the same packet; an error is sticky and its reaction fits the side and version; a second
// decoder that tries the ack fast path (DecodeSimpleAck) before every Decode yields the same
// packets, stream offsets and outcome.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "protocol/mqtt/decoder.h"
#include "protocol/mqtt/encoder.h"
#include "protocol/mqtt/publish_template.h"
#include "protocol/mqtt/topic.h"

namespace {

using namespace wpsim::protocol::mqtt;  // NOLINT

void CheckReencoding(const Packet& packet, ProtocolVersion version, Role role) {
  std::vector<uint8_t> bytes;
  wpsim::Status status = Encode(packet, version, &bytes);
  WPSIM_ASSERT(status.ok());
  wpsim::Result<size_t> size = EncodedSize(packet, version);
  WPSIM_ASSERT(size.ok() && *size == bytes.size());
  PacketType type = TypeOf(packet);
  DecoderOptions options{.role = role, .version = version, .max_packet_size = kMaxPacketSizeLimit,
                         .handshake_done = true};
  if ((role == Role::kServer && type == PacketType::kConnect) ||
      (role == Role::kClient && type == PacketType::kConnack)) {
    options.handshake_done = false;
  }
  wpsim::Result<Packet> again = DecodePacket(bytes, options);
  WPSIM_ASSERT(again.ok());
  WPSIM_ASSERT(*again == packet);

  if (const Publish* publish = std::get_if<Publish>(&packet)) {
    wpsim::Result<PublishTemplate> t = PublishTemplate::Make(*publish, version);
    WPSIM_ASSERT(t.ok());
    std::vector<uint8_t> out;
    std::span<const uint32_t> ids;
    if (version == ProtocolVersion::kV5) ids = publish->properties.subscription_identifiers;
    t->AppendTo(&out, publish->qos, publish->packet_id, publish->dup, ids);
    wpsim::Result<Packet> from_template = DecodePacket(out, options);
    WPSIM_ASSERT(from_template.ok());
    WPSIM_ASSERT(*from_template == packet);
    (void)TopicMatches("+/#", publish->topic);
  }
  if (const Subscribe* subscribe = std::get_if<Subscribe>(&packet)) {
    for (const Subscription& s : subscribe->subscriptions) {
      (void)TopicMatches(s.topic_filter, "a/b/c");
      (void)TopicMatches(s.topic_filter, "$SYS/x");
    }
  }
}

// The Packet a fast-path ack stands for (Decode's result: empty properties).
Packet AsPacket(const SimpleAck& ack) {
  auto fill = [&](auto a) -> Packet {
    a.packet_id = ack.packet_id;
    a.reason_code = ack.reason_code;
    return a;
  };
  switch (ack.type) {
    case PacketType::kPuback: return fill(Puback{});
    case PacketType::kPubrec: return fill(Pubrec{});
    case PacketType::kPubrel: return fill(Pubrel{});
    case PacketType::kPubcomp: return fill(Pubcomp{});
    default: WPSIM_ASSERT(false);
  }
  return Pingreq{};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t config = data[0];
  std::span<const uint8_t> stream(data + 1, size - 1);

  DecoderOptions options;
  options.role = (config & 1) ? Role::kClient : Role::kServer;
  switch ((config >> 1) & 3) {
    case 0:
      options.version =
          options.role == Role::kServer ? ProtocolVersion::kUnknown : ProtocolVersion::kV5;
      break;
    case 1: options.version = ProtocolVersion::kV311; break;
    default: options.version = ProtocolVersion::kV5; break;
  }
  options.handshake_done = (config & 8) != 0 && options.version != ProtocolVersion::kUnknown;
  constexpr uint32_t kSizes[] = {kDefaultMaxPacketSize, 64, 1024, 65536};
  options.max_packet_size = kSizes[(config >> 4) & 3];
  unsigned chunking = config >> 6;

  Decoder decoder(options);
  Decoder fast(options);  // same input, ack fast path first
  std::vector<Packet> general_packets;
  std::vector<Packet> fast_packets;
  bool fast_failed = false;
  Packet packet;
  size_t pos = 0;
  uint32_t lcg = static_cast<uint32_t>(size) * 2654435761u;
  bool failed = false;
  while (pos < stream.size() && !failed) {
    size_t n = stream.size() - pos;
    if (chunking == 1) n = 1;
    if (chunking == 2) n = std::min<size_t>(n, 3);
    if (chunking == 3) {
      lcg = lcg * 1664525u + 1013904223u;
      n = std::min<size_t>(n, 1 + (lcg >> 24) % 64);
    }
    std::span<const uint8_t> in = stream.subspan(pos, n);
    std::span<const uint8_t> fast_in = in;
    pos += n;
    while (!fast_failed) {
      SimpleAck ack;
      if (fast.DecodeSimpleAck(&fast_in, &ack)) {
        fast_packets.push_back(AsPacket(ack));
        continue;
      }
      Packet p;
      DecodeStatus status = fast.Decode(&fast_in, &p);
      if (status == DecodeStatus::kNeedMore) break;
      if (status == DecodeStatus::kError) {
        fast_failed = true;
        break;
      }
      fast_packets.push_back(std::move(p));
    }
    while (true) {
      DecodeStatus status = decoder.Decode(&in, &packet);
      if (status == DecodeStatus::kNeedMore) {
        WPSIM_ASSERT(in.empty());
        break;
      }
      if (status == DecodeStatus::kError) {
        failed = true;
        break;
      }
      WPSIM_ASSERT(decoder.version() != ProtocolVersion::kUnknown);
      CheckReencoding(packet, decoder.version(), options.role);
      general_packets.push_back(packet);
    }
    WPSIM_ASSERT(decoder.buffered_bytes() <= options.max_packet_size);
    WPSIM_ASSERT(fast_failed == failed);
    WPSIM_ASSERT(fast.stream_offset() == decoder.stream_offset());
    WPSIM_ASSERT(fast_packets == general_packets);
  }
  if (failed) {
    WPSIM_ASSERT(fast.error().stream_offset == decoder.error().stream_offset);
    WPSIM_ASSERT(fast.error().statement == decoder.error().statement);
  }
  if (failed) {
    const DecodeError& e = decoder.error();
    WPSIM_ASSERT(!e.statement.empty());
    WPSIM_ASSERT(e.reaction != Reaction::kSendConnackAndClose || options.role == Role::kServer);
    WPSIM_ASSERT(e.reaction != Reaction::kSendDisconnectAndClose ||
                 e.reply_version == ProtocolVersion::kV5);
    std::span<const uint8_t> more = stream;
    WPSIM_ASSERT(decoder.Decode(&more, &packet) == DecodeStatus::kError);
    (void)e.ToError();
  }
  return 0;
}
