#include "clients/ws_client.h"

#include "protocol/http/url.h"
#include "protocol/protobuf/messages.h"
#include "protocol/webpubsub/service_messages.h"
#include "protocol/websocket/handshake.h"

namespace wpsim::clients {

namespace ws = protocol::websocket;
namespace wps = protocol::webpubsub;
namespace http = protocol::http;
namespace pb = protocol::protobuf;

std::string_view ObservationKindName(Observation::Kind kind) {
  switch (kind) {
    case Observation::Kind::kOpened: return "opened";
    case Observation::Kind::kHandshakeFailed: return "handshake_failed";
    case Observation::Kind::kConnected: return "connected";
    case Observation::Kind::kDisconnected: return "disconnected";
    case Observation::Kind::kGroupMessage: return "group_message";
    case Observation::Kind::kServerMessage: return "server_message";
    case Observation::Kind::kAck: return "ack";
    case Observation::Kind::kPong: return "pong";
    case Observation::Kind::kRawMessage: return "raw_message";
    case Observation::Kind::kClosed: return "closed";
    case Observation::Kind::kRecovered: return "recovered";
    case Observation::Kind::kSequenceRepeated: return "sequence_repeated";
    case Observation::Kind::kReplayDropped: return "replay";
    case Observation::Kind::kHttpResponse: return "http_response";
    case Observation::Kind::kInvokeResponse: return "invokeResponse";
    case Observation::Kind::kStreamAck: return "streamAck";
    case Observation::Kind::kStreamNack: return "streamNack";
    case Observation::Kind::kStreamClosed: return "streamClosed";
  }
  return "unknown";
}

WsClient::WsClient(sim::Runtime& runtime, std::string name, WsClientOptions options)
    : runtime_(runtime),
      name_(std::move(name)),
      options_(std::move(options)),
      rng_(runtime.ForkRng("client/" + name_)) {
  if (options_.host_header.empty()) options_.host_header = options_.service.ToString();
  max_sequence_id_ = options_.initial_sequence_id;
}

WsClient::~WsClient() {
  *alive_ = false;
  if (sequence_ack_timer_ != 0) runtime_.CancelTimer(sequence_ack_timer_);
  if (recovery_timer_ != 0) runtime_.CancelTimer(recovery_timer_);
}

void WsClient::Connect() {
  stopping_ = false;
  recovering_ = false;
  Dial(false);
}

std::string WsClient::Target(bool recovering) const {
  std::string target = "/client/hubs/" + options_.hub;
  std::string query;
  auto add = [&query](std::string_view key, std::string_view value) {
    query += query.empty() ? "?" : "&";
    query += key;
    query += '=';
    query += http::PercentEncode(value);
  };
  if (recovering) {
    add("awps_connection_id", connection_id_);
    add("awps_reconnection_token", reconnection_token_);
  } else if (!options_.token_in_header && !options_.access_token.empty()) {
    add("access_token", options_.access_token);
  }
  if (!options_.extra_query.empty()) {
    query += query.empty() ? "?" : "&";
    query += options_.extra_query;
  }
  return target + query;
}

void WsClient::Dial(bool recovering) {
  const uint64_t generation = ++dial_generation_;
  sim::DialFn on_done = [this, recovering, generation, alive = alive_](
                           Result<std::unique_ptr<sim::Stream>> stream) {
    if (!*alive || generation != dial_generation_) return;
    if (!stream.ok()) {
      Observation o;
      o.kind = Observation::Kind::kHandshakeFailed;
      o.text = stream.error().message;
      Record(std::move(o));
      if (recovering) TryRecover();
      return;
    }
    std::vector<std::string> offer;
    if (options_.subprotocols) {
      offer = *options_.subprotocols;
    } else if (options_.kind == WsClientKind::kJson) {
      offer = {std::string(wps::kJsonSubprotocol)};
    } else if (options_.kind == WsClientKind::kReliable) {
      offer = {std::string(wps::kReliableJsonSubprotocol)};
    } else if (options_.kind == WsClientKind::kProtobuf) {
      offer = {std::string(pb::kProtobufSubprotocol)};
    } else if (options_.kind == WsClientKind::kReliableProtobuf) {
      offer = {std::string(pb::kReliableProtobufSubprotocol)};
    }
    http::Headers extra;
    if (options_.token_in_header && !recovering && !options_.access_token.empty()) {
      extra.Add("Authorization", "Bearer " + options_.access_token);
    }
    for (const auto& [name, value] : options_.extra_headers) extra.Add(name, value);
    ws::ClientHandshake handshake =
        ws::ClientHandshake::WithRng(options_.host_header, Target(recovering), offer, rng_);
    if (connection_) dead_.push_back(std::move(connection_));
    connection_ = std::make_unique<ws::Connection>(runtime_, std::move(stream.value()), this,
                                                   options_.session, std::move(handshake), extra,
                                                   sim::Rng(rng_.Next()));
  };
  if (options_.dial) {
    options_.dial(options_.service, std::move(on_done));
  } else {
    runtime_.Dial(options_.service, std::move(on_done));
  }
}

void WsClient::Close(uint16_t code, std::string reason) {
  stopping_ = true;
  if (connection_) connection_->Close(code, reason);
}

void WsClient::Kill() {
  if (!connection_) return;
  connection_->Abort();
  dead_.push_back(std::move(connection_));
  Observation o;
  o.kind = Observation::Kind::kClosed;
  o.close_code = ws::close_code::kAbnormal;
  o.text = "killed";
  Record(std::move(o));
  if (reliable() && options_.auto_recover && !stopping_ && !connection_id_.empty()) {
    recovering_ = true;
    recovery_started_ = runtime_.Now();
    RecoverNow();
  }
}

Status WsClient::SendJson(const SharedBytes& json) {
  if (!connection_ || !connection_->open()) return MakeError("not_open", "the client is not open");
  return connection_->SendText(json.view());
}

Status WsClient::SendRequest(const wps::Request& request) {
  if (!protobuf()) return SendJson(wps::EncodeRequest(request));
  if (std::holds_alternative<wps::InvokeRequest>(request) ||
      std::holds_alternative<wps::CancelInvocationRequest>(request)) {
    return MakeError("unsupported", "the protobuf subprotocols have no invocation messages");
  }
  return SendRawBinary(pb::EncodeUpstreamMessage(request).span());
}

Status WsClient::JoinGroup(std::string_view group, std::optional<uint64_t> ack_id) {
  return SendRequest(wps::JoinGroupRequest{std::string(group), ack_id});
}
Status WsClient::LeaveGroup(std::string_view group, std::optional<uint64_t> ack_id) {
  return SendRequest(wps::LeaveGroupRequest{std::string(group), ack_id});
}
Status WsClient::SendToGroup(std::string_view group, const wps::Payload& payload,
                             std::optional<uint64_t> ack_id, bool no_echo,
                             std::optional<uint32_t> ttl_seconds) {
  if (!protobuf()) {
    return SendJson(wps::EncodeSendToGroupRequest(group, payload, ack_id, no_echo, ttl_seconds));
  }
  return SendRawBinary(
      pb::EncodeSendToGroupRequest(group, payload, ack_id, no_echo, ttl_seconds).span());
}
Status WsClient::SendEvent(std::string_view event, const wps::Payload& payload,
                           std::optional<uint64_t> ack_id) {
  return SendRequest(wps::EventRequest{std::string(event), ack_id, payload});
}
Status WsClient::SequenceAck(uint64_t sequence_id) {
  return SendRequest(wps::SequenceAckRequest{sequence_id});
}
Status WsClient::Ping() { return SendRequest(wps::PingRequest{}); }
Status WsClient::Invoke(const wps::InvokeRequest& request) { return SendRequest(request); }
Status WsClient::CancelInvocation(std::string_view invocation_id) {
  return SendRequest(wps::CancelInvocationRequest{std::string(invocation_id)});
}
Status WsClient::StreamStart(const wps::StreamStartRequest& request) {
  return SendRequest(request);
}
Status WsClient::StreamData(const wps::StreamDataRequest& request) { return SendRequest(request); }
Status WsClient::StreamEnd(const wps::StreamEndRequest& request) { return SendRequest(request); }
Status WsClient::SendRawText(std::string_view text) {
  if (!connection_ || !connection_->open()) return MakeError("not_open", "the client is not open");
  return connection_->SendText(text);
}
Status WsClient::SendRawBinary(std::span<const uint8_t> bytes) {
  if (!connection_ || !connection_->open()) return MakeError("not_open", "the client is not open");
  return connection_->SendBinary(bytes);
}

void WsClient::Record(Observation o) {
  o.time = runtime_.Now();
  if (!options_.record_observations) {
    if (on_observation) on_observation(o);
    return;
  }
  observations_.push_back(std::move(o));
  if (on_observation) on_observation(observations_.back());
}

void WsClient::OnOpen(ws::Connection&) {
  last_transport_sequence_id_ = 0;
  Observation o;
  o.kind = recovering_ ? Observation::Kind::kRecovered : Observation::Kind::kOpened;
  o.subprotocol = connection_ ? connection_->subprotocol() : std::string();
  recovering_ = false;
  Record(std::move(o));
  if (reliable()) ArmSequenceAck();
}

void WsClient::OnMessage(ws::Connection&, ws::Opcode opcode, std::span<const uint8_t> payload) {
  if (options_.kind == WsClientKind::kRaw) {
    Observation o;
    o.kind = Observation::Kind::kRawMessage;
    o.payload = opcode == ws::Opcode::kText ? wps::Payload::Text(AsString(payload))
                                            : wps::Payload::Binary(payload);
    Record(std::move(o));
    return;
  }
  if (protobuf()) {
    // A protobuf client reads binary DownstreamMessages only; text frames are ignored.
    if (opcode != ws::Opcode::kBinary) return;
    Result<wps::ServiceMessage> decoded = pb::DecodeDownstreamMessage(payload);
    if (decoded.ok()) HandleDecoded(decoded.value());
    return;
  }
  HandleServiceMessage(AsString(payload));
}

void WsClient::HandleServiceMessage(std::string_view text) {
  Result<wps::ServiceMessage> decoded = wps::DecodeServiceMessage(text);
  if (!decoded.ok()) return;  // the SDK ignores what it cannot parse
  HandleDecoded(decoded.value());
}

void WsClient::HandleDecoded(wps::ServiceMessage& message) {
  Observation o;
  if (auto* ack = std::get_if<wps::AckMessage>(&message)) {
    o.kind = Observation::Kind::kAck;
    o.ack_id = ack->ack_id;
    o.success = ack->success;
    if (ack->error) {
      o.error_name = ack->error->name;
      o.text = ack->error->message;
    }
  } else if (auto* g = std::get_if<wps::GroupDataMessage>(&message)) {
    o.kind = Observation::Kind::kGroupMessage;
    o.group = g->group;
    o.from_user_id = g->from_user_id;
    o.payload = g->payload;
    o.sequence_id = g->sequence_id;
    if (g->stream) {
      o.stream_id = g->stream->stream_id;
      o.stream_sequence_id = g->stream->stream_sequence_id;
      o.end_of_stream = g->stream->end_of_stream;
      if (g->stream->error) {
        o.error_name = g->stream->error->name;
        o.text = g->stream->error->message.value_or("");
        o.user_error_code = g->stream->error->user_error_code.value_or("");
      }
    }
    if (g->sequence_id && !AcceptSequence(*g->sequence_id, o)) return;
  } else if (auto* s = std::get_if<wps::ServerDataMessage>(&message)) {
    o.kind = Observation::Kind::kServerMessage;
    o.payload = s->payload;
    o.sequence_id = s->sequence_id;
    if (s->sequence_id && !AcceptSequence(*s->sequence_id, o)) return;
  } else if (auto* c = std::get_if<wps::ConnectedMessage>(&message)) {
    o.kind = Observation::Kind::kConnected;
    o.connection_id = c->connection_id;
    o.user_id = c->user_id;
    o.reconnection_token = c->reconnection_token.value_or("");
    connection_id_ = c->connection_id;
    if (c->reconnection_token) reconnection_token_ = *c->reconnection_token;
  } else if (auto* d = std::get_if<wps::DisconnectedMessage>(&message)) {
    o.kind = Observation::Kind::kDisconnected;
    o.text = d->message;
  } else if (std::holds_alternative<wps::PongMessage>(message)) {
    o.kind = Observation::Kind::kPong;
  } else if (auto* r = std::get_if<wps::InvokeResponseMessage>(&message)) {
    o.kind = Observation::Kind::kInvokeResponse;
    o.invocation_id = r->invocation_id;
    o.success = r->success;
    if (r->payload) o.payload = *r->payload;
    if (r->error) {
      o.error_name = r->error->name;
      o.text = r->error->message;
    }
  } else if (auto* a = std::get_if<wps::StreamAckMessage>(&message)) {
    o.kind = Observation::Kind::kStreamAck;
    o.stream_id = a->stream_id;
    o.expected_sequence_id = a->expected_sequence_id;
  } else if (auto* n = std::get_if<wps::StreamNackMessage>(&message)) {
    o.kind = Observation::Kind::kStreamNack;
    o.stream_id = n->stream_id;
    o.error_name = n->name;
    o.text = n->message;
    o.expected_sequence_id = n->expected_sequence_id;
  } else if (auto* sc = std::get_if<wps::StreamClosedMessage>(&message)) {
    o.kind = Observation::Kind::kStreamClosed;
    o.stream_id = sc->stream_id;
    o.success = !sc->error;
    if (sc->error) {
      o.error_name = sc->error->name;
      o.text = sc->error->message;
    }
  } else {
    return;  // unknown: ignored
  }
  Record(std::move(o));
}

// @azure/web-pubsub-client 1.1.0 (SequenceId.tryUpdate): every sequenced data message marks the
// sequence id for the next sequenceAck; one at or below the largest seen is dropped ("drop
// duplicated message"), whichever transport it came on. The largest is reset only by a new
// connection, never by a recovery.
bool WsClient::AcceptSequence(uint64_t sequence_id, Observation& o) {
  if (!CheckTransportSequence(sequence_id)) return false;
  sequence_updated_ = true;
  if (sequence_id > max_sequence_id_) {
    const uint64_t diff = sequence_id - max_sequence_id_;
    max_sequence_id_ = sequence_id;
    // The SDK's quickSequenceAckDiff: a jump of more than 300 ids acks at once rather than at
    // the next tick, so that the service's buffer is released before it fills.
    if (options_.auto_sequence_ack && diff > kQuickSequenceAckDiff && open() &&
        SequenceAck(max_sequence_id_).ok()) {
      sequence_updated_ = false;
    }
    return true;
  }
  o.kind = Observation::Kind::kReplayDropped;
  Record(std::move(o));
  return false;
}

bool WsClient::CheckTransportSequence(uint64_t sequence_id) {
  // Within one transport the service sends each sequence id once, in increasing order; a
  // replay after recovery starts a new transport. The SDK silently drops repeats, so record
  // them here or a duplicating service would go unnoticed.
  if (sequence_id <= last_transport_sequence_id_) {
    Observation o;
    o.kind = Observation::Kind::kSequenceRepeated;
    o.sequence_id = sequence_id;
    o.text = "after " + std::to_string(last_transport_sequence_id_);
    Record(std::move(o));
    return false;
  }
  last_transport_sequence_id_ = sequence_id;
  return true;
}

void WsClient::OnClosed(ws::Connection& connection, const ws::CloseInfo& info) {
  if (&connection != connection_.get()) return;
  Observation o = CloseObservation(info, stopping_);
  const bool was_recovering = recovering_;
  dead_.push_back(std::move(connection_));
  runtime_.Post([this, alive = alive_] {
    if (*alive) dead_.clear();
  });
  Record(std::move(o));
  if (!reliable() || !options_.auto_recover || stopping_ || connection_id_.empty()) {
    return;
  }
  if (info.code == ws::close_code::kPolicyViolation) return;  // 1008: not recoverable
  if (!was_recovering) {
    recovering_ = true;
    recovery_started_ = runtime_.Now();
  }
  // The SDK (_handleConnectionClose) dials the recovery at once and waits 1 s only after an
  // attempt failed; so does Kill().
  RecoverNow();
}

void WsClient::RecoverNow() {
  if (recovery_timer_ != 0) runtime_.CancelTimer(recovery_timer_);
  recovery_timer_ = runtime_.SetTimer(runtime_.Now(), [this] {
    recovery_timer_ = 0;
    Dial(true);
  });
}

void WsClient::TryRecover() {
  if (runtime_.Now() - recovery_started_ >= options_.recovery_budget) {
    recovering_ = false;
    return;
  }
  recovery_timer_ = runtime_.SetTimer(runtime_.Now() + options_.recovery_retry_interval, [this] {
    recovery_timer_ = 0;
    Dial(true);
  });
}

void WsClient::ArmSequenceAck() {
  if (!options_.auto_sequence_ack || sequence_ack_timer_ != 0) return;
  sequence_ack_timer_ =
      runtime_.SetTimer(runtime_.Now() + options_.sequence_ack_interval, [this] {
        sequence_ack_timer_ = 0;
        if (!open()) return;
        // Like the SDK: a failed send leaves the id marked, to be sent at the next tick.
        if (sequence_updated_ && SequenceAck(max_sequence_id_).ok()) sequence_updated_ = false;
        ArmSequenceAck();
      });
}

}  // namespace wpsim::clients
