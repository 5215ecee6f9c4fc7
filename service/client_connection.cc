// ClientConnection: the logical WebSocket client connection (raw, JSON and reliable JSON
// subprotocols, and their protobuf twins) — PROTOCOL.md §4.3, §5, §6, §7.
//
// Rules this file must not break:
//  * an ackId that was processed successfully is never executed again (Duplicate ack); a
//    failed request is not remembered, so a retry with the same ackId runs again (§5.2);
//  * without an ackId a request is fire-and-forget: no ack, success or error (§5.2, §3.3);
//  * reliable data messages carry sequence ids 1, 2, 3, … that never restart, are kept until
//    sequenceAck'ed, and are replayed in order after a recovery (§6);
//  * a malformed request closes the connection with 1007 (1003 for policy-rejected binary
//    frames), as the Microsoft emulator does (§5.5);
//  * protobuf connections decode UpstreamMessages into the same requests and run the same
//    handler; only the wire format of what they receive differs (text frames are refused with
//    1003, malformed messages with 1007).
#include "protocol/protobuf/messages.h"
#include "protocol/webpubsub/json_text.h"
#include "protocol/webpubsub/service_messages.h"
#include "protocol/websocket/frame.h"
#include "service/front.h"
#include "service/client_connection.h"
#include "service/service.h"
#include "service/upstream.h"

namespace wpsim::service {

namespace wps = protocol::webpubsub;
namespace ws = protocol::websocket;
namespace pb = protocol::protobuf;

namespace {
// The subprotocol a kind implies ("" for raw: none, or a custom one kept by the connection).
std::string_view StandardSubprotocol(ClientKind kind) {
  switch (kind) {
    case ClientKind::kRaw: return "";
    case ClientKind::kJson: return wps::kJsonSubprotocol;
    case ClientKind::kReliable: return wps::kReliableJsonSubprotocol;
    case ClientKind::kMqtt: return "mqtt";
    case ClientKind::kProtobuf: return pb::kProtobufSubprotocol;
    case ClientKind::kReliableProtobuf: return pb::kReliableProtobufSubprotocol;
  }
  return "";
}
}  // namespace

std::string_view ClientConnection::subprotocol() const {
  return custom_subprotocol_.empty() ? StandardSubprotocol(kind_)
                                     : std::string_view(custom_subprotocol_);
}

std::string ClientConnection::reconnection_token() const {
  if (!IsReliable(kind_) || reconnection_nonce_ == 0) return std::string();
  return service_.ReconnectionToken(connection_id, reconnection_nonce_);
}

const std::shared_ptr<bool>& ClientConnection::alive() {
  if (!alive_) alive_ = std::make_shared<bool>(true);
  return alive_;
}

ClientConnection::ClientConnection(Service& service, Hub& hub, ClientKind kind,
                                   std::string subprotocol)
    : service_(service), hub_(hub), kind_(kind) {
  if (subprotocol != StandardSubprotocol(kind)) custom_subprotocol_ = std::move(subprotocol);
}

ClientConnection::~ClientConnection() {
  if (alive_) *alive_ = false;
  if (recovery_timer_ != 0) service_.runtime().CancelTimer(recovery_timer_);
}

void ClientConnection::Attach(Front* front) {
  front_ = front;
  if (recovery_timer_ != 0) {
    service_.runtime().CancelTimer(recovery_timer_);
    recovery_timer_ = 0;
  }
}

void ClientConnection::OnConnected() {
  if (kind_ == ClientKind::kRaw) return;
  std::string token_storage;
  std::optional<std::string_view> token;
  if (IsReliable(kind_)) {
    if (reconnection_nonce_ == 0) {
      do {
        reconnection_nonce_ = service_.NextNonce();
      } while (reconnection_nonce_ == 0);
    }
    token_storage = reconnection_token();
    token = token_storage;
  }
  std::optional<std::string_view> user;
  if (user_id) user = *user_id;
  SendControl(IsProtobuf(kind_) ? pb::EncodeConnected(connection_id, user, token)
                                : wps::EncodeConnected(connection_id, user, token),
              /*once=*/true);
}

void ClientConnection::SendControl(const SharedBytes& message, bool once) {
  if (front_ == nullptr) return;  // a detached reliable connection loses acks, like the service
  const bool binary = IsProtobuf(kind_);
  Status sent;
  if (once) {
    sent = front_->SendEncoded(
        ws::EncodeServerFrame(binary ? ws::Opcode::kBinary : ws::Opcode::kText, message.span()));
  } else {
    sent = binary ? front_->SendBinary(message.span()) : front_->SendText(message.view());
  }
  if (!sent.ok()) Fail(ws::close_code::kPolicyViolation, "slow consumer");
}

void ClientConnection::SendSequencedProtobuf(const SharedBytes& body, uint64_t sequence_id) {
  if (front_ == nullptr) return;
  std::string& scratch = service_.render_scratch();
  pb::SequencedMessage(body).RenderInto(sequence_id, scratch);
  if (!front_->SendBinary(AsBytes(scratch)).ok()) {
    Fail(ws::close_code::kPolicyViolation, "slow consumer");
  }
}

void ClientConnection::SendSequenced(const wps::SequencedMessage& message, uint64_t sequence_id) {
  if (front_ == nullptr) return;
  std::string& scratch = service_.render_scratch();
  message.RenderInto(sequence_id, scratch);
  if (!front_->SendText(scratch).ok()) Fail(ws::close_code::kPolicyViolation, "slow consumer");
}

void ClientConnection::Deliver(OutboundMessage& message) {
  if (ended_) return;
  switch (kind_) {
    case ClientKind::kRaw:
      if (front_ != nullptr && !front_->SendEncoded(message.RawFrame()).ok()) {
        Fail(ws::close_code::kPolicyViolation, "slow consumer");
      }
      break;
    case ClientKind::kJson:
      if (front_ != nullptr && !front_->SendEncoded(message.JsonFrame()).ok()) {
        Fail(ws::close_code::kPolicyViolation, "slow consumer");
      }
      break;
    case ClientKind::kReliable: {
      const wps::SequencedMessage& sequenced = message.Sequenced();
      if (!outbox_) outbox_ = std::make_unique<ReliableOutbox>(service_.options().reliable_limits);
      const uint64_t id = outbox_->Push(sequenced.tail(), message.ttl_expires_at);
      if (id == 0) {
        Fail(ws::close_code::kPolicyViolation, "The reliable message buffer is full.");
        return;
      }
      SendSequenced(sequenced, id);
      break;
    }
    case ClientKind::kProtobuf:
      if (front_ != nullptr && !front_->SendEncoded(message.ProtobufFrame()).ok()) {
        Fail(ws::close_code::kPolicyViolation, "slow consumer");
      }
      break;
    case ClientKind::kReliableProtobuf: {
      const SharedBytes& body = message.ProtobufSequencedBody();
      if (!outbox_) outbox_ = std::make_unique<ReliableOutbox>(service_.options().reliable_limits);
      const uint64_t id = outbox_->Push(body, message.ttl_expires_at);
      if (id == 0) {
        Fail(ws::close_code::kPolicyViolation, "The reliable message buffer is full.");
        return;
      }
      SendSequencedProtobuf(body, id);
      break;
    }
    case ClientKind::kMqtt:
      break;  // MQTT sessions are a different class
  }
}

void ClientConnection::OnProtobufMessage(ws::Opcode opcode, std::span<const uint8_t> payload) {
  if (opcode != ws::Opcode::kBinary) {
    Fail(wps::kCloseUnsupportedData, "The protobuf subprotocol accepts binary frames only.");
    return;
  }
  pb::DecodeOptions options;
  Result<wps::Request> request = pb::DecodeUpstreamMessage(payload, options);
  if (!request.ok()) {
    service_.Log("connection " + connection_id + " sent an invalid protobuf message: " +
                 request.error().message);
    Fail(wps::kCloseInvalidPayload, pb::kInvalidMessageCloseReason);
    return;
  }
  HandleRequest(request.value());
}

void ClientConnection::OnMessage(ws::Opcode opcode, std::span<const uint8_t> payload) {
  if (ended_) return;
  if (kind_ == ClientKind::kRaw) {
    // Raw frames go to the upstream `message` event; with no event handler configured the
    // connection is dropped (PROTOCOL.md §5.4; the emulator closes with 1011).
    if (service_.upstream().HasHandler(hub_.name(), EventKind::kUser, "message")) {
      SendRawUserEvent(opcode, payload);
      return;
    }
    Fail(ws::close_code::kInternalError, "No event handler is configured for the message event.");
    return;
  }
  if (IsProtobuf(kind_)) {
    OnProtobufMessage(opcode, payload);
    return;
  }
  const wps::FrameType frame_type =
      opcode == ws::Opcode::kText ? wps::FrameType::kText : wps::FrameType::kBinary;
  Result<wps::Request> request = wps::DecodeRequestFrame(frame_type, payload);
  if (!request.ok()) {
    const uint16_t code = wps::CloseCodeFor(request.error());
    Fail(code, code == wps::kCloseInvalidPayload ? wps::kInvalidMessageCloseReason
                                                 : std::string_view(request.error().message));
    return;
  }
  HandleRequest(request.value());
}

bool ClientConnection::IsDuplicate(std::optional<uint64_t> ack_id) {
  if (!ack_id || !acks_ || !acks_->Contains(*ack_id)) return false;
  SendControl(IsProtobuf(kind_) ? pb::EncodeDuplicateAck(*ack_id)
                                : wps::EncodeDuplicateAck(*ack_id));
  return true;
}

void ClientConnection::Remember(std::optional<uint64_t> ack_id) {
  if (!ack_id) return;
  if (!acks_) acks_ = std::make_unique<AckIdCache>();
  acks_->Insert(*ack_id);
}

void ClientConnection::SendAck(std::optional<uint64_t> ack_id) {
  if (!ack_id) return;
  SendControl(IsProtobuf(kind_) ? pb::EncodeAck(*ack_id) : wps::EncodeAck(*ack_id));
}

void ClientConnection::SendAckError(std::optional<uint64_t> ack_id, std::string_view name,
                                    std::string message) {
  if (!ack_id) return;
  SendControl(IsProtobuf(kind_) ? pb::EncodeAckError(*ack_id, name, message)
                                : wps::EncodeAckError(*ack_id, name, message));
}

void ClientConnection::HandleRequest(wps::Request& request) {
  const bool skip_roles = service_.options().HasBug(Bug::kSkipRoleCheck);
  if (auto* join = std::get_if<wps::JoinGroupRequest>(&request)) {
    if (IsDuplicate(join->ack_id)) return;
    if (!skip_roles && !permissions_.CanJoinLeave(join->group)) {
      SendAckError(join->ack_id, wps::kAckErrorForbidden,
                   "The client does not have permission to join group '" + join->group + "'.");
      return;
    }
    if (hub_.state().AtGroupLimit(this, join->group)) {
      SendAckError(join->ack_id, wps::kAckErrorBadRequest,
                   "The connection is already in " + std::to_string(groups.size()) +
                       " groups, the most one connection may join.");
      return;
    }
    hub_.state().Join(this, join->group);
    Remember(join->ack_id);
    SendAck(join->ack_id);
  } else if (auto* leave = std::get_if<wps::LeaveGroupRequest>(&request)) {
    if (IsDuplicate(leave->ack_id)) return;
    if (!skip_roles && !permissions_.CanJoinLeave(leave->group)) {
      SendAckError(leave->ack_id, wps::kAckErrorForbidden,
                   "The client does not have permission to leave group '" + leave->group + "'.");
      return;
    }
    hub_.state().Leave(this, leave->group);
    Remember(leave->ack_id);
    SendAck(leave->ack_id);
  } else if (auto* send = std::get_if<wps::SendToGroupRequest>(&request)) {
    if (IsDuplicate(send->ack_id)) return;
    if (!skip_roles && !permissions_.CanSendTo(send->group)) {
      SendAckError(send->ack_id, wps::kAckErrorForbidden,
                   "The client does not have permission to send to group '" + send->group + "'.");
      return;
    }
    const bool ack_first = service_.options().HasBug(Bug::kAckBeforeApply);
    if (ack_first) {
      Remember(send->ack_id);
      SendAck(send->ack_id);
    }
    OutboundMessage message = OutboundMessage::Group(send->group, user_id, std::move(send->payload));
    FanoutOptions options;
    if (send->no_echo && !service_.options().HasBug(Bug::kDropNoEcho)) options.no_echo_sender = this;
    hub_.SendToGroup(send->group, message, options);
    if (!ack_first && !ended_) {
      Remember(send->ack_id);
      SendAck(send->ack_id);
    }
  } else if (auto* event = std::get_if<wps::EventRequest>(&request)) {
    if (IsDuplicate(event->ack_id)) return;
    if (service_.upstream().HasHandler(hub_.name(), EventKind::kUser, event->event)) {
      HandleUserEvent(*event);
      return;
    }
    // No event handler is configured: the emulator answers InternalServerError (§5.2).
    SendAckError(event->ack_id, wps::kAckErrorInternalServerError,
                 "No event handler is configured for event '" + event->event + "'.");
  } else if (auto* ack = std::get_if<wps::SequenceAckRequest>(&request)) {
    if (IsReliable(kind_) && outbox_) outbox_->Ack(ack->sequence_id);
  } else if (std::holds_alternative<wps::PingRequest>(request)) {
    SendControl(IsProtobuf(kind_) ? pb::EncodePong() : wps::EncodePong());
  }
}

void ClientConnection::Fail(uint16_t code, std::string_view reason) {
  if (front_ != nullptr) {
    Front* f = front_;
    front_ = nullptr;
    f->CloseWebSocket(code, reason);
  }
  End(reason);
}

void ClientConnection::CloseByService(std::string_view reason) {
  if (ended_) return;
  if (front_ != nullptr) {
    if (kind_ != ClientKind::kRaw) {
      SendControl(IsProtobuf(kind_) ? pb::EncodeDisconnected(reason)
                                    : wps::EncodeDisconnected(reason));
    }
    Front* f = front_;
    front_ = nullptr;
    if (f != nullptr) f->CloseWebSocket(ws::close_code::kNormal, reason);
  }
  End(reason);
}

void ClientConnection::OnTransportClosed(bool client_closed, std::string_view reason) {
  front_ = nullptr;
  if (ended_) return;
  if (IsReliable(kind_) && !client_closed) {
    // Keep the logical connection for the recovery window (PROTOCOL.md §6.4).
    service_.Log("connection " + connection_id + " detached (" + std::string(reason) +
                 "); recoverable for the recovery window");
    recovery_timer_ = service_.runtime().SetTimer(
        service_.runtime().Now() + service_.options().recovery_window, [this] {
          recovery_timer_ = 0;
          End("The connection was not recovered in time.");
        });
    return;
  }
  End(reason);
}

bool ClientConnection::Recover(Front* front, std::string_view token) {
  if (ended_ || !IsReliable(kind_) || front_ != nullptr) return false;
  if (reconnection_nonce_ == 0 || token != reconnection_token()) return false;
  Attach(front);
  if (!outbox_) outbox_ = std::make_unique<ReliableOutbox>(service_.options().reliable_limits);
  if (service_.options().HasBug(Bug::kResetSequenceOnRecover)) outbox_->ResetSequenceForBug();
  const int copies = service_.options().HasBug(Bug::kDuplicateOnReplay) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    const sim::Nanos now = service_.runtime().Now();
    outbox_->ForEach([&](const ReliableOutbox::Entry& entry) {
      // REST messageTtlSeconds: a message that waited past its TTL for the client to come back
      // is dropped (its sequence id is skipped; the client acks cumulatively past the gap).
      if (entry.expires_at != 0 && now >= entry.expires_at) return;
      if (kind_ == ClientKind::kReliableProtobuf) {
        SendSequencedProtobuf(entry.body, entry.sequence_id);
      } else {
        SendSequenced(wps::SequencedMessage(entry.body), entry.sequence_id);
      }
    });
  }
  service_.Log("connection " + connection_id + " recovered");
  return true;
}

void ClientConnection::End(std::string_view reason) {
  if (ended_) return;
  ended_ = true;
  // Every connection in a hub passed `connect`; its logical end is `disconnected` (§4.3, §12.5).
  if (!service_.options().hubs.empty()) {
    service_.upstream().Disconnected(MakeUpstreamContext(), reason);
  }
  service_.Log("connection " + connection_id + " ended: " + std::string(reason));
  hub_.Remove(this);
}

UpstreamContext ClientConnection::MakeUpstreamContext() const {
  UpstreamContext context;
  context.hub = hub_.name();
  context.connection_id = connection_id;
  context.user_id = user_id;
  context.subprotocol = std::string(subprotocol());
  return context;
}

namespace {

// The server message an upstream answer carries back (§12.6): by Content-Type; a non-empty
// body without a known type (or invalid JSON labelled JSON) is binary, an empty one nothing.
std::optional<wps::Payload> ReplyPayload(const UpstreamResult& result) {
  if (result.body.empty()) return std::nullopt;
  const std::optional<std::string_view> content_type = result.headers.Get("Content-Type");
  std::optional<wps::DataType> type;
  if (content_type) type = wps::DataTypeFromHttpContentType(*content_type);
  const auto bytes = std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(result.body.data()), result.body.size());
  switch (type.value_or(wps::DataType::kBinary)) {
    case wps::DataType::kText: return wps::Payload::Text(result.body);
    case wps::DataType::kJson:
      if (wps::IsValidJson(result.body)) return wps::Payload::Json(result.body);
      return wps::Payload::Binary(bytes);
    case wps::DataType::kProtobuf: return wps::Payload::Protobuf(bytes);
    case wps::DataType::kBinary: break;
  }
  return wps::Payload::Binary(bytes);
}

}  // namespace

// A JSON `event` request (§5.2, §12.6). The upstream's reply body reaches this connection as
// a server message before the ack. A failed call (non-2xx, timeout, validation failure) fails
// the ack with InternalServerError and keeps the connection, as the Microsoft emulator does
// (docs/conformance.md "Event handlers" records the §12.6 CONFLICT and this choice).
void ClientConnection::HandleUserEvent(wps::EventRequest& event) {
  std::string body(event.payload.data.view());
  const std::optional<uint64_t> ack_id = event.ack_id;
  const std::string name = event.event;
  service_.upstream().UserEvent(
      MakeUpstreamContext(), event.event,
      std::string(wps::HttpContentType(event.payload.type)), std::move(body),
      [this, alive = alive(), ack_id, name](const UpstreamResult& result) {
        if (!*alive || ended_) return;
        if (!result.ok()) {
          service_.Log("event '" + name + "' of " + connection_id + " failed: " + result.Describe());
          SendAckError(ack_id, wps::kAckErrorInternalServerError,
                       "The event handler failed for event '" + name + "': " + result.Describe());
          return;
        }
        if (std::optional<wps::Payload> reply = ReplyPayload(result)) {
          OutboundMessage message = OutboundMessage::Server(std::move(*reply));
          Deliver(message);
          if (ended_) return;
        }
        Remember(ack_id);
        SendAck(ack_id);
      });
}

// A raw client's frame becomes user event `message` (§5.4): a 2xx reply body goes back as a
// frame; anything else drops the connection with 1011 (the emulator's code).
void ClientConnection::SendRawUserEvent(ws::Opcode opcode, std::span<const uint8_t> payload) {
  const bool text = opcode == ws::Opcode::kText;
  service_.upstream().UserEvent(
      MakeUpstreamContext(), "message", text ? "text/plain" : "application/octet-stream",
      std::string(reinterpret_cast<const char*>(payload.data()), payload.size()),
      [this, alive = alive()](const UpstreamResult& result) {
        if (!*alive || ended_) return;
        if (!result.ok()) {
          Fail(ws::close_code::kInternalError,
               "The event handler failed.");
          return;
        }
        if (std::optional<wps::Payload> reply = ReplyPayload(result)) {
          OutboundMessage message = OutboundMessage::Server(std::move(*reply));
          Deliver(message);
        }
      });
}

}  // namespace wpsim::service
