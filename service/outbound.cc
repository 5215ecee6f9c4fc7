#include "service/outbound.h"

#include "protocol/websocket/frame.h"

namespace wpsim::service {

namespace wps = protocol::webpubsub;
namespace ws = protocol::websocket;

const SharedBytes& OutboundMessage::JsonFrame() {
  if (!json_frame_) {
    SharedBytes json = from_ == From::kGroup
                           ? wps::EncodeGroupMessage(group_, from_user_id_, payload_)
                           : wps::EncodeServerMessage(payload_);
    json_frame_ = ws::EncodeServerFrame(ws::Opcode::kText, json.span());
  }
  return *json_frame_;
}

const wps::SequencedMessage& OutboundMessage::Sequenced() {
  if (!sequenced_) {
    sequenced_ = from_ == From::kGroup
                     ? wps::EncodeSequencedGroupMessage(group_, from_user_id_, payload_)
                     : wps::EncodeSequencedServerMessage(payload_);
  }
  return *sequenced_;
}

const SharedBytes& OutboundMessage::RawFrame() {
  if (!raw_frame_) {
    wps::RawFrame raw = wps::RenderRaw(payload_);
    raw_frame_ = ws::EncodeServerFrame(
        raw.type == wps::FrameType::kText ? ws::Opcode::kText : ws::Opcode::kBinary,
        raw.data.span());
  }
  return *raw_frame_;
}

}  // namespace wpsim::service
