#include "service/front.h"

#include "service/client_connection.h"
#include "service/service.h"
#include "service/trace.h"

namespace wpsim::service {

namespace http = protocol::http;
namespace ws = protocol::websocket;

namespace {
http::Limits HttpLimits(const ServiceOptions& options) {
  http::Limits limits;
  if (options.limits.pipelined_requests_max > 0) {
    limits.pipelined_requests_max = options.limits.pipelined_requests_max;
  } else {
    limits.pipelined_requests_max = SIZE_MAX;
  }
  return limits;
}
}  // namespace

Front::Front(Service& service, uint64_t id, std::unique_ptr<sim::Stream> stream)
    : service_(service),
      id_(id),
      peer_(stream->PeerAddress()),
      stream_(std::move(stream)),
      http_(std::make_unique<http::ServerConnection>(HttpLimits(service.options()))),
      last_input_at_(service.runtime().Now()) {
  stream_->SetHandler(this);
  ArmHttpTimer();
}

Front::~Front() {
  CancelHttpTimer();
  if (stream_) stream_->SetHandler(nullptr);
}

void Front::OnData(std::span<const uint8_t> data) {
  if (finished_ || ws_) return;
  const sim::Nanos now = service_.runtime().Now();
  last_input_at_ = now;
  if (!http_->request_in_progress()) request_started_at_ = now;
  http_->Receive(data);
  PumpHttp();
}

std::optional<sim::Nanos> Front::HttpDeadline() const {
  if (finished_ || ws_ || !http_) return std::nullopt;
  const ConnectionLimits& limits = service_.options().limits;
  if (http_->request_in_progress()) {
    if (limits.request_read_timeout <= 0) return std::nullopt;
    return request_started_at_ + limits.request_read_timeout;
  }
  // Answers still owed (an upgrade waiting for its connect event) are bounded elsewhere.
  if (http_->outstanding() > 0 || http_->HasOutput()) return std::nullopt;
  if (limits.http_idle_timeout <= 0) return std::nullopt;
  return last_input_at_ + limits.http_idle_timeout;
}

void Front::ArmHttpTimer() {
  const std::optional<sim::Nanos> deadline = HttpDeadline();
  if (!deadline) return;  // a timer still armed re-checks when it fires
  if (http_timer_ != 0 && http_timer_at_ <= *deadline) return;
  CancelHttpTimer();
  http_timer_at_ = *deadline;
  http_timer_ = service_.runtime().SetTimer(*deadline, [this] { OnHttpTimer(); });
}

void Front::CancelHttpTimer() {
  if (http_timer_ == 0) return;
  service_.runtime().CancelTimer(http_timer_);
  http_timer_ = 0;
}

void Front::OnHttpTimer() {
  http_timer_ = 0;
  const std::optional<sim::Nanos> deadline = HttpDeadline();
  if (!deadline) return;
  if (*deadline > service_.runtime().Now()) {
    ArmHttpTimer();
    return;
  }
  if (http_->request_in_progress()) {
    service_.Log("http request from " + peer_.ToString() + " timed out: 408");
    if (service_.tracer() != nullptr) TraceRefused("request not complete in time: 408");
    http_->TimeOut();
    PumpHttp();
    return;
  }
  service_.Log("http connection from " + peer_.ToString() + " idle: closed");
  if (service_.tracer() != nullptr) TraceRefused("HTTP connection idle: closed");
  Finish();
}

void Front::FlushHttp() {
  if (finished_ || ws_) return;
  PumpHttp();
}

void Front::OnEnd() {
  if (finished_ || ws_) return;
  http_->ReceiveEof();
  PumpHttp();
}

void Front::OnClosed(sim::CloseReason, std::string_view) {
  if (finished_) return;
  finished_ = true;
  CancelHttpTimer();
  stream_->SetHandler(nullptr);
  service_.Bury(service_.TakeFront(this));
}

void Front::PumpHttp() {
  while (!ws_ && !finished_) {
    std::optional<http::ServerEvent> event = http_->PollEvent();
    if (!event) break;
    if (event->kind == http::ServerEvent::Kind::kError) {
      service_.Log("http error from " + peer_.ToString() + ": " + event->error.reason);
      if (service_.tracer() != nullptr) TraceRefused(event->error.reason);
      continue;  // the connection has already queued the error response
    }
    if (event->kind == http::ServerEvent::Kind::kContinue) {
      http_->Continue(event->request.id);
      continue;
    }
    http::Request& request = event->request;
    // RFC 9112 §3.2/§3.2.2 before routing and audience checks: absolute-form targets become
    // origin-form with their authority as Host; a missing, empty, invalid or repeated Host is 400.
    if (std::optional<http::HttpError> bad = http::NormalizeServerRequest(request)) {
      service_.Log("http error from " + peer_.ToString() + ": " + bad->reason);
      if (service_.tracer() != nullptr) TraceRefused(bad->reason);
      http_->Respond(request.id, http::ErrorResponse(*bad));
      continue;
    }
    if (TraceObserver* tracer = service_.tracer()) {
      if (tracer->HandleHttp(*this, request)) continue;  // the trace page itself: not traced
      TraceEvent e;
      e.kind = TraceKind::kHttpRequest;
      e.front = id_;
      e.request = request.id;
      e.method = request.method;
      e.target = request.target;
      tracer->OnTrace(e);
    }
    if (!HandleClientEndpoint(service_, *this, request)) {
      HandleRestRequest(service_, *this, request);
    }
  }
  WriteHttpOutput();
  if (ws_) {
    http_.reset();  // upgraded: the HTTP connection's state is no longer needed
    CancelHttpTimer();
  } else {
    ArmHttpTimer();
  }
}

void Front::WriteHttpOutput() {
  if (finished_ || ws_ || !stream_) return;
  if (http_->HasOutput()) {
    std::span<const uint8_t> out = http_->PeekOutput();
    stream_->Write(out);
    http_->ConsumeOutput(out.size());
  }
  if (http_->WantsClose()) Finish();
}

void Front::RespondHttp(uint64_t request_id, http::Response response) {
  if (!http_) return;
  if (TraceObserver* tracer = service_.tracer()) {
    TraceEvent e;
    e.kind = TraceKind::kHttpResponse;
    e.front = id_;
    e.request = request_id;
    e.status = response.status;
    e.payload = AsBytes(response.body);
    tracer->OnTrace(e);
  }
  http_->Respond(request_id, std::move(response));
}

void Front::RespondUntraced(uint64_t request_id, http::Response response) {
  if (http_) http_->Respond(request_id, std::move(response));
}

void Front::StartWebSocket(uint64_t request_id, http::Response response, std::string subprotocol) {
  if (TraceObserver* tracer = service_.tracer()) {
    TraceEvent e;
    e.kind = TraceKind::kHttpResponse;
    e.front = id_;
    e.request = request_id;
    e.status = response.status;
    e.subprotocol = subprotocol;
    tracer->OnTrace(e);
  }
  StartWebSocketWith(request_id, std::move(response), std::move(subprotocol),
                     service_.options().connection_output_bytes_max);
}

void Front::StartViewerWebSocket(uint64_t request_id, http::Response response,
                                 size_t output_bytes_max, TraceFeed* feed) {
  viewer_of_ = feed;
  StartWebSocketWith(request_id, std::move(response), "", output_bytes_max);
}

void Front::StartWebSocketWith(uint64_t request_id, http::Response response,
                               std::string subprotocol, size_t output_bytes_max) {
  std::vector<uint8_t> initial = http_->AcceptUpgrade(request_id, std::move(response));
  // The 101 goes out before any frame.
  std::span<const uint8_t> out = http_->PeekOutput();
  stream_->Write(out);
  http_->ConsumeOutput(out.size());
  ws::SessionOptions options;
  options.message_bytes_max = service_.options().message_bytes_max;
  options.output_bytes_max = output_bytes_max;
  options.keepalive_interval = service_.options().websocket_keepalive;
  options.keepalive_unanswered_max = service_.options().limits.websocket_pings_unanswered_max;
  stream_->SetHandler(nullptr);
  ws_ = std::make_unique<ws::Connection>(service_.runtime(), std::move(stream_), this, options,
                                         std::move(subprotocol), initial);
  ws_->SetFlushBatch(&service_.flush_batch());
}

void Front::OnMessage(ws::Connection&, ws::Opcode opcode, std::span<const uint8_t> payload) {
  if (connection_ == nullptr) return;
  if (service_.tracer() != nullptr) TraceFrame(true, payload, opcode == ws::Opcode::kBinary);
  connection_->OnMessage(opcode, payload);
}

void Front::OnClosed(ws::Connection&, const ws::CloseInfo& info) {
  const bool client_closed = info.cause == ws::CloseCause::kPeerClosed &&
                             (info.code == ws::close_code::kNormal ||
                              info.code == ws::close_code::kNoStatus);
  ReportTransportClosed(client_closed, info.reason);
  if (viewer_of_ != nullptr) viewer_of_->OnViewerClosed(*this);
  finished_ = true;
  service_.Bury(service_.TakeFront(this));
}

void Front::ReportTransportClosed(bool client_closed, std::string_view reason) {
  if (connection_ == nullptr) return;
  ClientConnection* c = connection_;
  connection_ = nullptr;
  c->OnTransportClosed(client_closed, reason);
}

Status Front::SendEncoded(const SharedBytes& frame) {
  if (!ws_ || finished_) return MakeError("closed", "transport closed");
  if (service_.tracer() != nullptr) TraceFrameOut(frame.span());
  return ws_->SendEncoded(frame);
}

Result<std::span<uint8_t>> Front::SendEncodedCopy(std::span<const uint8_t> frame) {
  if (!ws_ || finished_) return MakeError("closed", "transport closed");
  return ws_->SendEncodedCopy(frame);
}

Status Front::SendText(std::string_view text) {
  if (!ws_ || finished_) return MakeError("closed", "transport closed");
  if (service_.tracer() != nullptr) TraceFrame(false, AsBytes(text), false);
  return ws_->SendText(text);
}

Status Front::SendBinary(std::span<const uint8_t> bytes) {
  if (!ws_ || finished_) return MakeError("closed", "transport closed");
  if (service_.tracer() != nullptr) TraceFrame(false, bytes, true);
  return ws_->SendBinary(bytes);
}

void Front::TraceFrameOut(std::span<const uint8_t> frame) {
  if (service_.tracer() == nullptr) return;
  bool binary = false;
  const std::span<const uint8_t> payload = ServerFramePayload(frame, &binary);
  TraceFrame(false, payload, binary);
}

void Front::TraceFrame(bool incoming, std::span<const uint8_t> payload, bool binary) {
  if (connection_ == nullptr) return;  // trace pages' own feeds are not traced
  TraceEvent e;
  e.kind = incoming ? TraceKind::kFrameIn : TraceKind::kFrameOut;
  e.front = id_;
  e.hub = connection_->hub().name();
  e.connection_id = connection_->connection_id;
  if (connection_->user_id) e.user_id = *connection_->user_id;
  e.subprotocol = connection_->subprotocol();
  e.payload = payload;
  e.binary = binary;
  service_.tracer()->OnTrace(e);
}

void Front::TraceRefused(std::string_view reason) {
  TraceEvent e;
  e.kind = TraceKind::kRefused;
  e.front = id_;
  e.text = reason;
  service_.tracer()->OnTrace(e);
}

void Front::CloseWebSocket(uint16_t code, std::string_view reason) {
  connection_ = nullptr;
  if (!ws_ || finished_) return;
  ws_->Close(code, reason);
}

void Front::Finish() {
  if (finished_) return;
  finished_ = true;
  CancelHttpTimer();
  stream_->SetHandler(nullptr);
  stream_->Close();
  service_.Bury(service_.TakeFront(this));
}

}  // namespace wpsim::service
