// OutboundMessage: one message on its way to many receivers, with every wire encoding made at
// most once and shared by all receivers of that format (DESIGN.md §8): a WebSocket frame for
// json.webpubsub.azure.v1 clients, a sequenced body for reliable clients (only the
// `{"sequenceId":N,` head is written per receiver), and a frame for raw WebSocket clients.
#pragma once

#include <optional>
#include <string>

#include "base/shared_bytes.h"
#include "protocol/webpubsub/payload.h"
#include "protocol/webpubsub/service_messages.h"

namespace wpsim::service {

class OutboundMessage {
 public:
  enum class From { kGroup, kServer };

  static OutboundMessage Group(std::string group, std::optional<std::string> from_user_id,
                               protocol::webpubsub::Payload payload) {
    OutboundMessage m;
    m.from_ = From::kGroup;
    m.group_ = std::move(group);
    m.from_user_id_ = std::move(from_user_id);
    m.payload_ = std::move(payload);
    return m;
  }
  static OutboundMessage Server(protocol::webpubsub::Payload payload) {
    OutboundMessage m;
    m.from_ = From::kServer;
    m.payload_ = std::move(payload);
    return m;
  }

  From from() const { return from_; }
  const std::string& group() const { return group_; }
  const std::optional<std::string>& from_user_id() const { return from_user_id_; }
  const protocol::webpubsub::Payload& payload() const { return payload_; }

  // The complete WebSocket text frame for json.webpubsub.azure.v1 receivers.
  const SharedBytes& JsonFrame();
  // The message for json.reliable.webpubsub.azure.v1 receivers, minus its sequenceId head.
  const protocol::webpubsub::SequencedMessage& Sequenced();
  // The complete WebSocket frame for raw (no subprotocol) receivers.
  const SharedBytes& RawFrame();

 private:
  From from_ = From::kServer;
  std::string group_;
  std::optional<std::string> from_user_id_;
  protocol::webpubsub::Payload payload_;
  std::optional<SharedBytes> json_frame_;
  std::optional<protocol::webpubsub::SequencedMessage> sequenced_;
  std::optional<SharedBytes> raw_frame_;
};

}  // namespace wpsim::service
