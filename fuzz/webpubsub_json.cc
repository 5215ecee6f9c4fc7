// Fuzzes the Web PubSub JSON decoders (both directions). Invariants: no crash; a decoded request
// re-encodes to a frame that decodes to the same request; anything the request decoder accepts
// is valid JSON; every decode error maps to close code 1007 or 1003.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/result.h"
#include "protocol/webpubsub/client_requests.h"
#include "protocol/webpubsub/json_text.h"
#include "protocol/webpubsub/service_messages.h"

namespace wps = wpsim::protocol::webpubsub;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto request = wps::DecodeRequest(text);
  if (request.ok()) {
    WPSIM_ASSERT(wps::IsValidJson(text));
    const wpsim::SharedBytes encoded = wps::EncodeRequest(*request);
    auto again = wps::DecodeRequest(encoded.view());
    WPSIM_ASSERT(again.ok());
    WPSIM_ASSERT(*again == *request);
  } else {
    const uint16_t code = wps::CloseCodeFor(request.error());
    WPSIM_ASSERT(code == 1007 || code == 1003);
  }
  wps::DecodeOptions streaming;
  streaming.enable_streaming = true;
  streaming.enable_invocations = true;  // invoke / cancelInvocation round-trip too
  auto stream_request = wps::DecodeRequest(text, streaming);
  if (stream_request.ok()) {
    auto again = wps::DecodeRequest(wps::EncodeRequest(*stream_request).view(), streaming);
    WPSIM_ASSERT(again.ok() && *again == *stream_request);
  }
  wps::DecodeOptions emulator;
  emulator.binary_frames = wps::BinaryFramePolicy::kReject;
  auto frame = wps::DecodeRequestFrame(wps::FrameType::kBinary, {data, size}, emulator);
  WPSIM_ASSERT(!frame.ok() && wps::CloseCodeFor(frame.error()) == 1003);
  auto message = wps::DecodeServiceMessage(text);
  (void)message;
  return 0;
}
