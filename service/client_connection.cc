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
#include "service/client_connection.h"

#include <algorithm>

#include "base/encoding.h"
#include "protocol/protobuf/messages.h"
#include "protocol/webpubsub/json_text.h"
#include "protocol/webpubsub/service_messages.h"
#include "protocol/websocket/frame.h"
#include "service/front.h"
#include "service/service.h"
#include "service/trace.h"
#include "service/upstream.h"

namespace wpsim::service {

namespace wps = protocol::webpubsub;
namespace ws = protocol::websocket;
namespace pb = protocol::protobuf;

namespace {
// Injected race bugs (service/options.h) apply or answer a request later: `fn` runs `delay`
// from now on the connection with this id if it is still in its hub then.
constexpr sim::Nanos kBugDelay = 2 * sim::kMillisecond;

template <typename Fn>
void OnConnectionLater(Service& service, const std::string& hub, const std::string& id, Fn fn) {
  service.runtime().SetTimer(service.runtime().Now() + kBugDelay, [&service, hub, id, fn] {
    Hub* h = service.FindHub(hub);
    auto* c = h == nullptr ? nullptr : dynamic_cast<ClientConnection*>(h->Find(id));
    if (c != nullptr) fn(*c);
  });
}

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

// Stream answers (§9.1) in the connection's format.
static SharedBytes StreamAckFor(bool protobuf, std::string_view stream_id, uint64_t expected) {
  return protobuf ? pb::EncodeStreamAck(stream_id, expected)
                  : wps::EncodeStreamAck(stream_id, expected);
}
static SharedBytes StreamNackFor(bool protobuf, std::string_view stream_id, std::string_view name,
                                 std::string_view message, uint64_t expected) {
  return protobuf ? pb::EncodeStreamNack(stream_id, name, message, expected)
                  : wps::EncodeStreamNack(stream_id, name, message, expected);
}
static SharedBytes StreamClosedFor(bool protobuf, std::string_view stream_id,
                                   const std::optional<wps::AckError>& error) {
  return protobuf ? pb::EncodeStreamClosed(stream_id, error)
                  : wps::EncodeStreamClosed(stream_id, error);
}

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
  if (streams_) {
    for (auto& [id, stream] : *streams_) {
      if (stream.idle_timer != 0) service_.runtime().CancelTimer(stream.idle_timer);
    }
  }
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
  written_through_ = std::max(written_through_, sequence_id);
  std::string& scratch = service_.render_scratch();
  pb::SequencedMessage(body).RenderInto(sequence_id, scratch);
  if (!front_->SendBinary(AsBytes(scratch)).ok()) {
    Fail(ws::close_code::kPolicyViolation, "slow consumer");
  }
}

void ClientConnection::SendSequenced(const wps::SequencedMessage& message, uint64_t sequence_id) {
  if (front_ == nullptr) return;
  written_through_ = std::max(written_through_, sequence_id);
  std::string& scratch = service_.render_scratch();
  message.RenderInto(sequence_id, scratch);
  if (!front_->SendText(scratch).ok()) Fail(ws::close_code::kPolicyViolation, "slow consumer");
}

void ClientConnection::Deliver(OutboundMessage& message) {
  if (ended_) return;
  switch (kind_) {
    case ClientKind::kRaw:
      if (!message.has_payload()) break;  // a bare end-of-stream has no raw form
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
  wps::DecodeOptions options;
  options.enable_invocations = true;
  options.enable_streaming = true;
  Result<wps::Request> request = wps::DecodeRequestFrame(frame_type, payload, options);
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
    if (service_.options().HasBug(Bug::kLateJoinAck)) {
      OnConnectionLater(service_, hub_.name(), connection_id,
                        [ack_id = join->ack_id](ClientConnection& c) { c.SendAck(ack_id); });
      return;
    }
    SendAck(join->ack_id);
  } else if (auto* leave = std::get_if<wps::LeaveGroupRequest>(&request)) {
    if (IsDuplicate(leave->ack_id)) return;
    if (!skip_roles && !permissions_.CanJoinLeave(leave->group)) {
      SendAckError(leave->ack_id, wps::kAckErrorForbidden,
                   "The client does not have permission to leave group '" + leave->group + "'.");
      return;
    }
    if (service_.options().HasBug(Bug::kLeaveAckBeforeApply)) {
      OnConnectionLater(service_, hub_.name(), connection_id,
                        [group = leave->group](ClientConnection& c) {
                          c.hub_.state().Leave(&c, group);
                        });
    } else {
      hub_.state().Leave(this, leave->group);
    }
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
    const bool no_echo = send->no_echo && !service_.options().HasBug(Bug::kDropNoEcho);
    const bool late = service_.options().HasBug(Bug::kUnorderedFanout) && (sends_++ % 2 == 0);
    // ttlSeconds (§9.4; docs/conformance.md META-005): the REST messageTtlSeconds rules.
    auto with_ttl = [ttl = send->ttl_seconds, now = service_.runtime().Now()](OutboundMessage& m) {
      if (ttl && *ttl > 0) {
        m.ttl_expires_at = now + sim::Nanos{*ttl} * sim::kSecond;
        m.message_expiry_seconds = *ttl;
      }
    };
    if (ack_first || late) {
      if (ack_first) {
        Remember(send->ack_id);
        SendAck(send->ack_id);
      }
      // The fan-out follows later: with ack-before-apply it is lost if this connection ends
      // meanwhile; a late (unordered) one goes out regardless.
      auto fanout = [group = send->group, payload = send->payload, no_echo, with_ttl](
                        Hub& hub, ClientConnection* c, const std::optional<std::string>& user) {
        OutboundMessage message = OutboundMessage::Group(group, user, payload);
        with_ttl(message);
        FanoutOptions options;
        if (no_echo) options.no_echo_sender = c;
        hub.SendToGroup(group, message, options);
      };
      if (ack_first) {
        OnConnectionLater(service_, hub_.name(), connection_id,
                          [fanout](ClientConnection& c) { fanout(c.hub_, &c, c.user_id); });
        return;
      }
      Service& service = service_;
      service_.runtime().SetTimer(
          service_.runtime().Now() + kBugDelay,
          [&service, hub = hub_.name(), id = connection_id, user = user_id, fanout] {
            Hub* h = service.FindHub(hub);
            if (h == nullptr) return;
            fanout(*h, dynamic_cast<ClientConnection*>(h->Find(id)), user);
          });
    } else {
      OutboundMessage message = OutboundMessage::Group(send->group, user_id, std::move(send->payload));
      with_ttl(message);
      FanoutOptions options;
      if (no_echo) options.no_echo_sender = this;
      hub_.SendToGroup(send->group, message, options);
    }
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
  } else if (auto* invoke = std::get_if<wps::InvokeRequest>(&request)) {
    HandleInvoke(*invoke);
  } else if (auto* cancel = std::get_if<wps::CancelInvocationRequest>(&request)) {
    HandleCancelInvocation(*cancel);
  } else if (auto* start = std::get_if<wps::StreamStartRequest>(&request)) {
    HandleStreamStart(*start);
  } else if (auto* data = std::get_if<wps::StreamDataRequest>(&request)) {
    HandleStreamData(*data);
  } else if (auto* end = std::get_if<wps::StreamEndRequest>(&request)) {
    HandleStreamEnd(*end);
  }
}

// ---- Group streams (PROTOCOL.md §9.1; docs/conformance.md STREAM-*) -------------------------
//
// A stream is this connection's: the start is checked like a sendToGroup (role for the group)
// and answered streamAck{expectedSequenceId:1}. Each accepted fragment n (== expected) is
// published to the group as a group message with `stream:{streamId, streamSequenceId:n}` and
// answered streamAck{n+1}; a lower n is a duplicate (not republished, re-acked), a higher one
// streamNack InvalidSequenceId; a keepalive only restarts the idle timer. streamEnd publishes a
// payload-less terminal message (streamSequenceId = the next number, endOfStream, `error`
// UserError when the publisher gave one) and answers streamClosed. Idle timeout: the terminal
// message carries IdleTimeout and the publisher gets streamClosed IdleTimeout. A role revoked
// mid-stream ends it with Forbidden; the publisher's connection ending ends it with Cancelled
// (a reliable connection waiting for recovery keeps its streams until then).

void ClientConnection::HandleStreamStart(const wps::StreamStartRequest& start) {
  auto refuse = [&](std::string_view name, std::string message) {
    SendControl(StreamClosedFor(IsProtobuf(kind_), start.stream_id,
                                wps::AckError{std::string(name), std::move(message)}));
  };
  if (!service_.options().HasBug(Bug::kSkipRoleCheck) && !permissions_.CanSendTo(start.group)) {
    refuse(wps::kAckErrorForbidden,
           "The client does not have permission to send to group '" + start.group + "'.");
    return;
  }
  const ConnectionLimits& limits = service_.options().limits;
  if (start.idle_timeout_ms > limits.stream_idle_timeout_ms_max) {
    refuse(wps::kAckErrorBadRequest, "idleTimeoutMs may be at most " +
                                         std::to_string(limits.stream_idle_timeout_ms_max) + ".");
    return;
  }
  if (streams_ && streams_->contains(start.stream_id)) {
    refuse(wps::kAckErrorBadRequest,
           "The stream '" + start.stream_id + "' is already active on this connection.");
    return;
  }
  if (streams_ && streams_->size() >= limits.streams_per_connection_max) {
    refuse(wps::kAckErrorBadRequest, "The connection already has " +
                                         std::to_string(streams_->size()) +
                                         " active streams, the most one connection may have.");
    return;
  }
  if (!streams_) streams_ = std::make_unique<StreamMap>();
  GroupStream stream;
  stream.group = start.group;
  stream.idle_timeout = static_cast<sim::Nanos>(start.idle_timeout_ms) * sim::kMillisecond;
  stream.no_echo = start.no_echo;
  auto [it, inserted] = streams_->emplace(start.stream_id, std::move(stream));
  ArmStreamIdle(it->first, it->second);
  SendControl(StreamAckFor(IsProtobuf(kind_), start.stream_id, 1));
}

void ClientConnection::HandleStreamData(wps::StreamDataRequest& data) {
  auto it = streams_ ? streams_->find(data.stream_id) : StreamMap::iterator();
  if (!streams_ || it == streams_->end()) {
    SendControl(StreamClosedFor(
        IsProtobuf(kind_), data.stream_id,
        wps::AckError{"StreamNotFound",
                      "The stream '" + data.stream_id + "' is not active on this connection."}));
    return;
  }
  GroupStream& stream = it->second;
  if (data.IsKeepalive()) {
    ArmStreamIdle(it->first, stream);
    return;
  }
  const uint64_t n = *data.stream_sequence_id;
  if (n < stream.expected) {  // a resend after recovery: already published
    ArmStreamIdle(it->first, stream);
    SendControl(StreamAckFor(IsProtobuf(kind_), it->first, stream.expected));
    return;
  }
  if (n > stream.expected) {
    SendControl(StreamNackFor(IsProtobuf(kind_), it->first, wps::kStreamNackInvalidSequenceId,
                              "Expected streamSequenceId " + std::to_string(stream.expected) +
                                  ", got " + std::to_string(n) + ".",
                              stream.expected));
    return;
  }
  if (!service_.options().HasBug(Bug::kSkipRoleCheck) && !permissions_.CanSendTo(stream.group)) {
    const std::string message =
        "The client no longer has permission to send to group '" + stream.group + "'.";
    CloseStream(it, wps::StreamDataError{"Forbidden", message, std::nullopt},
                wps::AckError{"Forbidden", message});
    return;
  }
  ++stream.expected;
  ArmStreamIdle(it->first, stream);
  const std::string stream_id = it->first;
  PublishStream(stream, std::move(*data.payload),
                wps::StreamInfo{stream_id, n, false, std::nullopt});
  if (ended_) return;
  // The fan-out may have ended streams (never this one: only End() closes others).
  SendControl(StreamAckFor(IsProtobuf(kind_), stream_id, n + 1));
}

void ClientConnection::HandleStreamEnd(const wps::StreamEndRequest& end) {
  auto it = streams_ ? streams_->find(end.stream_id) : StreamMap::iterator();
  if (!streams_ || it == streams_->end()) {
    SendControl(StreamClosedFor(
        IsProtobuf(kind_), end.stream_id,
        wps::AckError{"StreamNotFound",
                      "The stream '" + end.stream_id + "' is not active on this connection."}));
    return;
  }
  std::optional<wps::StreamDataError> error;
  if (end.error) {
    error = wps::StreamDataError{"UserError", end.error->message, end.error->user_error_code};
  }
  CloseStream(it, std::move(error), std::nullopt);
}

void ClientConnection::ArmStreamIdle(const std::string& stream_id, GroupStream& stream) {
  sim::Runtime& runtime = service_.runtime();
  if (stream.idle_timer != 0) runtime.CancelTimer(stream.idle_timer);
  stream.idle_timer = runtime.SetTimer(runtime.Now() + stream.idle_timeout, [this, stream_id] {
    if (!streams_) return;
    auto it = streams_->find(stream_id);
    if (it == streams_->end()) return;
    it->second.idle_timer = 0;
    const std::string message = "The stream was idle for longer than its idle timeout.";
    CloseStream(it, wps::StreamDataError{"IdleTimeout", message, std::nullopt},
                wps::AckError{"IdleTimeout", message});
  });
}

void ClientConnection::PublishStream(const GroupStream& stream, std::optional<wps::Payload> payload,
                                     wps::StreamInfo info) {
  OutboundMessage message =
      OutboundMessage::GroupStream(stream.group, user_id, std::move(payload), std::move(info));
  FanoutOptions options;
  // --inject-bug drop-noecho reaches the stream fan-out too (it ignores noEcho everywhere).
  if (stream.no_echo && !service_.options().HasBug(Bug::kDropNoEcho)) {
    options.no_echo_sender = this;
  }
  hub_.SendToGroup(stream.group, message, options);
}

void ClientConnection::CloseStream(StreamMap::iterator it,
                                   std::optional<wps::StreamDataError> error,
                                   std::optional<wps::AckError> closed_error, bool tell_publisher) {
  const std::string stream_id = it->first;
  GroupStream stream = std::move(it->second);
  streams_->erase(it);
  if (stream.idle_timer != 0) service_.runtime().CancelTimer(stream.idle_timer);
  PublishStream(stream, std::nullopt,
                wps::StreamInfo{stream_id, stream.expected, true, std::move(error)});
  if (tell_publisher && !ended_)
    SendControl(StreamClosedFor(IsProtobuf(kind_), stream_id, closed_error));
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
  if (ended_ || !IsReliable(kind_)) return false;
  if (reconnection_nonce_ == 0 || token != reconnection_token()) return false;
  if (front_ != nullptr) {
    // The client recovers before the service noticed its old transport drop (an abrupt loss
    // sends no close frame). The recovery takes over: everything not acked is replayed on the
    // new transport and the connection lives on. Refusing with 1008 would end a recoverable
    // session (1008 means "connection removed, do not retry" to the client SDK). The old
    // transport, if anyone still reads it, gets that 1008: it is no longer the connection's,
    // and a second holder of the token must not take it back (docs/conformance.md REL-013).
    Front* old = front_;
    front_ = nullptr;
    service_.Log("connection " + connection_id + " recovered on a new transport; the old one is closed");
    old->CloseWebSocket(ws::close_code::kPolicyViolation,
                        "The connection was recovered on another transport.");
  }
  Attach(front);
  if (!outbox_) outbox_ = std::make_unique<ReliableOutbox>(service_.options().reliable_limits);
  if (service_.options().HasBug(Bug::kResetSequenceOnRecover)) outbox_->ResetSequenceForBug();
  if (service_.options().HasBug(Bug::kAckIdsLostOnRecover)) acks_.reset();
  const int copies = service_.options().HasBug(Bug::kDuplicateOnReplay) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    const sim::Nanos now = service_.runtime().Now();
    const uint64_t skip_through =
        service_.options().HasBug(Bug::kReplayFromLastSent) ? written_through_ : 0;
    outbox_->ForEach([&](const ReliableOutbox::Entry& entry) {
      if (entry.sequence_id <= skip_through) return;
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
  // Streams this connection published end for their subscribers (Cancelled).
  while (streams_ && !streams_->empty() && !service_.stopping()) {
    CloseStream(streams_->begin(),
                wps::StreamDataError{"Cancelled", "The publishing connection ended.", std::nullopt},
                std::nullopt, /*tell_publisher=*/false);
  }
  // Every connection in a hub passed `connect`; its logical end is `disconnected` (§4.3, §12.5).
  if (!service_.options().hubs.empty()) {
    service_.upstream().Disconnected(MakeUpstreamContext(), reason);
  }
  service_.Log("connection " + connection_id + " ended: " + std::string(reason));
  TraceClosed(service_, hub_.name(), connection_id, user_id, reason);
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
// X-WebPubSub-Metadata-* response headers become its metadata (§9.4); an empty body with
// metadata is an empty text message (the emulator's rule).
std::optional<wps::Payload> ReplyBody(const UpstreamResult& result) {
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

// ReplyBody plus the answer's metadata; an error text for metadata outside the limits.
Result<std::optional<wps::Payload>> ReplyPayload(const UpstreamResult& result) {
  wps::Metadata metadata = wps::MetadataFromHeaders(result.headers);
  if (auto why = wps::ValidateMetadata(metadata)) {
    return MakeError("metadata", "the event handler's answer has invalid metadata: " + *why);
  }
  std::optional<wps::Payload> payload = ReplyBody(result);
  if (!metadata.empty()) {
    if (!payload) payload = wps::Payload::Text("");
    payload->metadata = std::move(metadata);
  }
  return payload;
}

// X-WebPubSub-Metadata-<key> request headers for a payload's metadata (§9.4).
void AddMetadataHeaders(UpstreamContext& context, const wps::Metadata& metadata) {
  for (auto& [key, value] : wps::MetadataForHeaders(metadata)) {
    context.extra_headers.emplace_back(std::string(wps::kMetadataHeaderPrefix) + key,
                                       std::move(value));
  }
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
  UpstreamContext context = MakeUpstreamContext();
  AddMetadataHeaders(context, event.payload.metadata);
  service_.upstream().UserEvent(
      context, event.event, std::string(wps::HttpContentType(event.payload.type)), std::move(body),
      [this, alive = alive(), ack_id, name](const UpstreamResult& result) {
        if (!*alive || ended_) return;
        if (!result.ok()) {
          service_.Log("event '" + name + "' of " + connection_id + " failed: " + result.Describe());
          SendAckError(ack_id, wps::kAckErrorInternalServerError,
                       "The event handler failed for event '" + name + "': " + result.Describe());
          return;
        }
        Result<std::optional<wps::Payload>> reply = ReplyPayload(result);
        if (!reply.ok()) {
          SendAckError(
              ack_id, wps::kAckErrorInternalServerError,
              "The event handler failed for event '" + name + "': " + reply.error().message);
          return;
        }
        if (reply.value()) {
          OutboundMessage message = OutboundMessage::Server(std::move(*reply.value()));
          Deliver(message);
          if (ended_) return;
        }
        Remember(ack_id);
        SendAck(ack_id);
      });
}

// An `invoke` (§9.2; docs/conformance.md INVOKE-*). The mapping onto the event handler is
// undocumented; wpsim's choice: a user event `<event>` (ce-type azure.webpubsub.user.<event>,
// so unmodified handlers such as @azure/web-pubsub-express serve it) carrying the header
// ce-invocationId, the payload's Content-Type and body (no payload: application/octet-stream,
// empty). A 2xx answer is `success:true` with the body as dataType/data by its Content-Type
// (empty: no data); anything else is `success:false` with error name BadRequest (a 4xx),
// Timeout (every attempt timed out) or InternalServerError (5xx, network, validation, no
// handler). The invokeResponse is unsequenced, like an ack.
void ClientConnection::HandleInvoke(wps::InvokeRequest& invoke) {
  const std::string id = invoke.invocation_id;
  auto send_error = [&](std::string_view name, std::string message) {
    SendControl(wps::EncodeInvokeError(id, name, message));
  };
  if (invoke.target != wps::kInvokeTargetEvent) {
    send_error(wps::kAckErrorBadRequest,
               "The invocation target '" + invoke.target + "' is not supported.");
    return;
  }
  if (invocations_ && invocations_->contains(id)) {
    send_error(wps::kAckErrorBadRequest, "The invocation id '" + id + "' is already in use.");
    return;
  }
  if (!service_.upstream().HasHandler(hub_.name(), EventKind::kUser, invoke.event)) {
    send_error(wps::kAckErrorInternalServerError,
               "No event handler is configured for event '" + invoke.event + "'.");
    return;
  }
  if (!invocations_)
    invocations_ = std::make_unique<std::map<std::string, uint64_t, std::less<>>>();
  const uint64_t ticket = next_invocation_ticket_++;
  invocations_->emplace(id, ticket);
  UpstreamContext context = MakeUpstreamContext();
  context.extra_headers.emplace_back("ce-invocationId", id);
  std::string content_type = "application/octet-stream";
  std::string body;
  if (invoke.payload) {
    content_type = std::string(wps::HttpContentType(invoke.payload->type));
    body = std::string(invoke.payload->data.view());
  }
  const std::string event = invoke.event;
  service_.upstream().UserEvent(
      context, event, std::move(content_type), std::move(body),
      [this, alive = alive(), id, ticket, event](const UpstreamResult& result) {
        if (!*alive || ended_ || !invocations_) return;
        auto it = invocations_->find(id);
        if (it == invocations_->end() || it->second != ticket) return;  // cancelled
        invocations_->erase(it);
        if (result.ok()) {
          SendControl(wps::EncodeInvokeResponse(id, ReplyBody(result)));
          return;
        }
        std::string_view name = wps::kAckErrorInternalServerError;
        if (result.outcome == UpstreamResult::Outcome::kTimeout) {
          name = "Timeout";
        } else if (result.outcome == UpstreamResult::Outcome::kResponse && result.status >= 400 &&
                   result.status < 500) {
          name = wps::kAckErrorBadRequest;
        }
        std::string message =
            "The event handler failed for event '" + event + "': " + result.Describe();
        if (result.outcome == UpstreamResult::Outcome::kResponse && !result.body.empty() &&
            result.body.size() <= 1024 && IsValidUtf8(result.body)) {
          message += ": " + result.body;
        }
        service_.Log("invocation '" + id + "' of " + connection_id +
                     " failed: " + result.Describe());
        SendControl(wps::EncodeInvokeError(id, name, message));
      });
}

void ClientConnection::HandleCancelInvocation(const wps::CancelInvocationRequest& cancel) {
  if (!invocations_ || invocations_->erase(cancel.invocation_id) == 0) {
    // Unknown or already answered: a cancel races the answer, so this is not an error.
    service_.Log("connection " + connection_id + " cancelled unknown invocation '" +
                 cancel.invocation_id + "'");
  }
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
        if (std::optional<wps::Payload> reply = ReplyBody(result)) {
          OutboundMessage message = OutboundMessage::Server(std::move(*reply));
          Deliver(message);
        }
      });
}

}  // namespace wpsim::service
