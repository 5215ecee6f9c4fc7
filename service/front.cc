#include "service/front.h"

#include "service/client_connection.h"
#include "service/service.h"

namespace wpsim::service {

namespace http = protocol::http;
namespace ws = protocol::websocket;

Front::Front(Service& service, uint64_t id, std::unique_ptr<sim::Stream> stream)
    : service_(service), id_(id), peer_(stream->PeerAddress()), stream_(std::move(stream)) {
  stream_->SetHandler(this);
}

Front::~Front() {
  if (stream_) stream_->SetHandler(nullptr);
}

void Front::OnData(std::span<const uint8_t> data) {
  if (finished_ || ws_) return;
  http_->Receive(data);
  PumpHttp();
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
  stream_->SetHandler(nullptr);
  service_.Bury(service_.TakeFront(this));
}

void Front::PumpHttp() {
  while (!ws_ && !finished_) {
    std::optional<http::ServerEvent> event = http_->PollEvent();
    if (!event) break;
    if (event->kind == http::ServerEvent::Kind::kError) {
      service_.Log("http error from " + peer_.ToString() + ": " + event->error.reason);
      continue;  // the connection has already queued the error response
    }
    if (event->kind == http::ServerEvent::Kind::kContinue) {
      http_->Continue(event->request.id);
      continue;
    }
    const http::Request& request = event->request;
    if (!HandleClientEndpoint(service_, *this, request)) {
      HandleRestRequest(service_, *this, request);
    }
  }
  WriteHttpOutput();
  if (ws_) http_.reset();  // upgraded: the HTTP connection's state is no longer needed
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
  if (http_) http_->Respond(request_id, std::move(response));
}

void Front::StartWebSocket(uint64_t request_id, http::Response response, std::string subprotocol) {
  std::vector<uint8_t> initial = http_->AcceptUpgrade(request_id, std::move(response));
  // The 101 goes out before any frame.
  std::span<const uint8_t> out = http_->PeekOutput();
  stream_->Write(out);
  http_->ConsumeOutput(out.size());
  ws::SessionOptions options;
  options.message_bytes_max = service_.options().message_bytes_max;
  options.output_bytes_max = service_.options().connection_output_bytes_max;
  options.keepalive_interval = service_.options().websocket_keepalive;
  stream_->SetHandler(nullptr);
  ws_ = std::make_unique<ws::Connection>(service_.runtime(), std::move(stream_), this, options,
                                         std::move(subprotocol), initial);
  ws_->SetFlushBatch(&service_.flush_batch());
}

void Front::OnMessage(ws::Connection&, ws::Opcode opcode, std::span<const uint8_t> payload) {
  if (connection_ != nullptr) connection_->OnMessage(opcode, payload);
}

void Front::OnClosed(ws::Connection&, const ws::CloseInfo& info) {
  const bool client_closed = info.cause == ws::CloseCause::kPeerClosed &&
                             (info.code == ws::close_code::kNormal ||
                              info.code == ws::close_code::kNoStatus);
  ReportTransportClosed(client_closed, info.reason);
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
  return ws_->SendEncoded(frame);
}

Result<std::span<uint8_t>> Front::SendEncodedCopy(std::span<const uint8_t> frame) {
  if (!ws_ || finished_) return MakeError("closed", "transport closed");
  return ws_->SendEncodedCopy(frame);
}

Status Front::SendText(std::string_view text) {
  if (!ws_ || finished_) return MakeError("closed", "transport closed");
  return ws_->SendText(text);
}

Status Front::SendBinary(std::span<const uint8_t> bytes) {
  if (!ws_ || finished_) return MakeError("closed", "transport closed");
  return ws_->SendBinary(bytes);
}

void Front::CloseWebSocket(uint16_t code, std::string_view reason) {
  connection_ = nullptr;
  if (!ws_ || finished_) return;
  ws_->Close(code, reason);
}

void Front::Finish() {
  if (finished_) return;
  finished_ = true;
  stream_->SetHandler(nullptr);
  stream_->Close();
  service_.Bury(service_.TakeFront(this));
}

}  // namespace wpsim::service
