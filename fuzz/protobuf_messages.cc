// Fuzzes the Web PubSub protobuf codec (protocol/protobuf), both directions. Invariants: no
// crash or hang; a decoded UpstreamMessage re-encodes to bytes that decode to the same request;
// every decode error maps to close code 1007; a decoded DownstreamMessage's data message
// re-encodes (as the service would send it) to bytes that decode to the same payload, metadata
// (PROTOCOL.md §9.4) and stream info (§9.1); stream answers re-encode to themselves.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include "base/result.h"
#include "protocol/protobuf/messages.h"

namespace pb = wpsim::protocol::protobuf;
namespace wps = wpsim::protocol::webpubsub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  auto request = pb::DecodeUpstreamMessage(bytes);
  if (request.ok()) {
    const wpsim::SharedBytes encoded = pb::EncodeUpstreamMessage(*request);
    auto again = pb::DecodeUpstreamMessage(encoded.span());
    WPSIM_ASSERT(again.ok());
    WPSIM_ASSERT(*again == *request);
  } else {
    WPSIM_ASSERT(wps::CloseCodeFor(request.error()) == 1007);
  }
  auto message = pb::DecodeDownstreamMessage(bytes);
  if (message.ok()) {
    if (const auto* group = std::get_if<wps::GroupDataMessage>(&*message)) {
      const std::optional<wps::Payload> payload =
          group->stream && group->payload.data.empty() && group->payload.metadata.empty()
              ? std::nullopt
              : std::optional<wps::Payload>(group->payload);
      pb::SequencedMessage sequenced =
          group->stream
              ? pb::EncodeSequencedGroupStreamMessage(group->group, payload, *group->stream)
              : pb::EncodeSequencedGroupMessage(group->group, group->payload);
      auto again =
          pb::DecodeDownstreamMessage(sequenced.Render(group->sequence_id.value_or(1)).span());
      WPSIM_ASSERT(again.ok());
      const auto& copy = std::get<wps::GroupDataMessage>(*again);
      // json payloads travel as text_data (the docs' rule); everything else unchanged.
      WPSIM_ASSERT(copy.payload.data.view() == group->payload.data.view());
      WPSIM_ASSERT(copy.payload.metadata == group->payload.metadata);
      WPSIM_ASSERT(copy.group == group->group);
      WPSIM_ASSERT(copy.stream == group->stream);
    } else if (const auto* ack = std::get_if<wps::StreamAckMessage>(&*message)) {
      auto again = pb::DecodeDownstreamMessage(
          pb::EncodeStreamAck(ack->stream_id, ack->expected_sequence_id).span());
      WPSIM_ASSERT(again.ok() && std::get<wps::StreamAckMessage>(*again) == *ack);
    } else if (const auto* nack = std::get_if<wps::StreamNackMessage>(&*message)) {
      auto again = pb::DecodeDownstreamMessage(pb::EncodeStreamNack(nack->stream_id, nack->name,
                                                                    nack->message,
                                                                    nack->expected_sequence_id)
                                                   .span());
      WPSIM_ASSERT(again.ok() && std::get<wps::StreamNackMessage>(*again) == *nack);
    } else if (const auto* closed = std::get_if<wps::StreamClosedMessage>(&*message)) {
      auto again = pb::DecodeDownstreamMessage(
          pb::EncodeStreamClosed(closed->stream_id, closed->error).span());
      WPSIM_ASSERT(again.ok() && std::get<wps::StreamClosedMessage>(*again) == *closed);
    }
  }
  return 0;
}
