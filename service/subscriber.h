// Subscriber: anything a hub fans out to (a WebSocket client connection or an MQTT session), and
// the client kinds the service speaks. Hubs own subscribers and know them only through this
// interface (service/hub.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "protocol/rest/odata_filter.h"
#include "service/hub_state.h"
#include "service/outbound.h"
#include "service/permissions.h"

namespace wpsim::service {

// kProtobuf / kReliableProtobuf: protobuf.webpubsub.azure.v1 and its reliable variant
// (PROTOCOL.md §7): the JSON kinds' semantics with protocol/protobuf's wire format.
enum class ClientKind : uint8_t { kRaw, kJson, kReliable, kMqtt, kProtobuf, kReliableProtobuf };
std::string_view ClientKindName(ClientKind kind);
// Reliable kinds number data messages, keep them for replay and can be recovered (§6).
inline bool IsReliable(ClientKind kind) {
  return kind == ClientKind::kReliable || kind == ClientKind::kReliableProtobuf;
}
inline bool IsProtobuf(ClientKind kind) {
  return kind == ClientKind::kProtobuf || kind == ClientKind::kReliableProtobuf;
}
// Anything a hub fans out to: a WebSocket client connection (ClientConnection below) or an
// MQTT session. Hubs own subscribers and know them only through this interface.
class Subscriber : public Member {
 public:
  virtual ~Subscriber() = default;
  virtual ClientKind kind() const = 0;
  // The negotiated subprotocol ("" for raw clients, "mqtt" for MQTT): the OData `protocol`.
  virtual std::string_view subprotocol() const = 0;
  // Queues `message` for this subscriber, in its wire format, without blocking.
  virtual void Deliver(OutboundMessage& message) = 0;
  // Ends the connection (or MQTT session) from the service side (REST close operations).
  virtual void CloseByService(std::string_view reason) = 0;
  ConnectionPermissions& permissions() { return permissions_; }
  const ConnectionPermissions& permissions() const { return permissions_; }

 protected:
  ConnectionPermissions permissions_;
};
// True when `subscriber` passes the REST OData `filter` (identifiers userId, connectionId,
// groups, protocol).
bool FilterMatches(const protocol::rest::ODataFilter& filter, const Subscriber& subscriber);
}  // namespace wpsim::service
