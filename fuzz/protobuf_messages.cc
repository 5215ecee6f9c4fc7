// Fuzzes the Web PubSub protobuf codec (protocol/protobuf), both directions. Invariants: no
// crash or hang; a decoded UpstreamMessage re-encodes to bytes that decode to the same request;
// every decode error maps to close code 1007; a decoded DownstreamMessage's data message
// re-encodes (as the service would send it) to bytes that decode to the same payload.
#include <cstddef>
#include <cstdint>
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
      pb::SequencedMessage sequenced =
          pb::EncodeSequencedGroupMessage(group->group, group->payload);
      auto again =
          pb::DecodeDownstreamMessage(sequenced.Render(group->sequence_id.value_or(1)).span());
      WPSIM_ASSERT(again.ok());
      const auto& copy = std::get<wps::GroupDataMessage>(*again);
      // json payloads travel as text_data (the docs' rule); everything else unchanged.
      WPSIM_ASSERT(copy.payload.data.view() == group->payload.data.view());
      WPSIM_ASSERT(copy.group == group->group);
    }
  }
  return 0;
}
