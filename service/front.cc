#include "service/front.h"

#include "service/service.h"

namespace wpsim::service {

namespace http = protocol::http;
namespace ws = protocol::websocket;

Front::Front(Service& service, uint64_t id, std::unique_ptr<sim::Stream> stream)
    : service_(service), id_(id), stream_(std::move(stream)) {
  stream_->SetHandler(this);
}

Front::~Front() {
  if (timer_ != 0) service_.runtime().CancelTimer(timer_);
  if (stream_) stream_->SetHandler(nullptr);
}

void Front::OnData(std::span<const uint8_t> data) {
  if (finished_) return;
  if (ws_) {
    ws_->Receive(service_.runtime().Now(), data);
    PumpWebSocket();
  } else {
    http_.Receive(data);
    PumpHttp();
  }
}

void Front::OnEnd() {
  if (finished_) return;
  if (ws_) {
    ws_->ReceiveEof();
    PumpWebSocket();
  } else {
    http_.ReceiveEof();
    PumpHttp();
  }
}

void Front::OnClosed(sim::CloseReason reason, std::string_view detail) {
  if (finished_) return;
  if (connection_ != nullptr && !transport_closed_reported_) {
    transport_closed_reported_ = true;
    ClientConnection* c = connection_;
    connection_ = nullptr;
    c->OnTransportClosed(false, std::string(sim::CloseReasonName(reason)) + ": " + std::string(detail));
  }
  finished_ = true;
  stream_->SetHandler(nullptr);
  service_.Bury(service_.TakeFront(this));
}

void Front::PumpHttp() {
  while (auto event = http_.PollEvent()) {
    if (event->kind == http::ServerEvent::Kind::kError) {
      service_.Log("http error from " + peer().ToString() + ": " + event->error.reason);
      continue;  // the connection has already queued the error response
    }
    if (event->kind == http::ServerEvent::Kind::kContinue) {
      http_.Continue(event->request.id);
      continue;
    }
    const http::Request& request = event->request;
    if (!HandleClientEndpoint(service_, *this, request)) {
      HandleRestRequest(service_, *this, request);
    }
    if (ws_) {
      PumpWebSocket();  // bytes that followed the upgrade request
      return;
    }
  }
  WriteHttpOutput();
}

void Front::WriteHttpOutput() {
  if (finished_) return;
  if (http_.HasOutput()) {
    std::span<const uint8_t> out = http_.PeekOutput();
    stream_->Write(out);
    http_.ConsumeOutput(out.size());
  }
  if (!ws_ && http_.WantsClose()) Finish();
}

void Front::RespondHttp(uint64_t request_id, http::Response response) {
  http_.Respond(request_id, std::move(response));
}

ws::Session* Front::StartWebSocket(uint64_t request_id, http::Response response,
                                   ClientConnection* connection) {
  std::vector<uint8_t> rest = http_.AcceptUpgrade(request_id, std::move(response));
  WriteHttpOutput();  // the 101 goes out before any frame
  ws::SessionOptions options;
  options.message_bytes_max = service_.options().message_bytes_max;
  options.output_bytes_max = service_.options().connection_output_bytes_max;
  options.keepalive_interval = service_.options().websocket_keepalive;
  ws_ = std::make_unique<ws::Session>(ws::Role::kServer, options);
  ws_->Start(service_.runtime().Now());
  connection_ = connection;
  if (!rest.empty()) ws_->Receive(service_.runtime().Now(), rest);
  return ws_.get();
}

void Front::PumpWebSocket() {
  while (!finished_) {
    std::optional<ws::Event> event = ws_->PollEvent();
    if (!event) break;
    switch (event->kind) {
      case ws::Event::Kind::kMessage:
        if (connection_ != nullptr) connection_->OnMessage(event->opcode, event->payload);
        break;
      case ws::Event::Kind::kPing:
      case ws::Event::Kind::kPong:
        break;  // the session answers pings itself
      case ws::Event::Kind::kClosed: {
        if (connection_ != nullptr && !transport_closed_reported_) {
          transport_closed_reported_ = true;
          ClientConnection* c = connection_;
          connection_ = nullptr;
          const bool client_closed =
              event->cause == ws::CloseCause::kPeerClosed &&
              (event->close_code == ws::close_code::kNormal || event->close_code == ws::close_code::kNoStatus);
          c->OnTransportClosed(client_closed, event->close_reason);
        }
        break;
      }
    }
  }
  service_.MarkDirty(this);
}

Status Front::SendEncoded(const SharedBytes& frame) {
  if (!ws_ || finished_) return MakeError("closed", "transport closed");
  Status s = ws_->SendEncoded(frame);
  if (s.ok()) service_.MarkDirty(this);
  return s;
}

Status Front::SendText(std::string_view text) {
  if (!ws_ || finished_) return MakeError("closed", "transport closed");
  Status s = ws_->SendText(text);
  if (s.ok()) service_.MarkDirty(this);
  return s;
}

void Front::CloseWebSocket(uint16_t code, std::string_view reason) {
  connection_ = nullptr;
  if (!ws_ || finished_) return;
  ws_->Close(service_.runtime().Now(), code, reason);
  service_.MarkDirty(this);
}

void Front::Flush() {
  if (finished_ || !ws_) return;
  ws::OutputQueue& out = ws_->output();
  while (!out.empty()) {
    if (const SharedBytes* shared = out.FrontShared()) {
      const size_t n = shared->size();
      stream_->Write(*shared);
      out.Consume(n);
    } else {
      std::span<const uint8_t> chunk = out.Front();
      stream_->Write(chunk);
      out.Consume(chunk.size());
    }
  }
  // Events produced by the close handshake are reported through PollEvent.
  if (ws_->state() == ws::State::kClosed) {
    while (auto event = ws_->PollEvent()) {
      if (event->kind == ws::Event::Kind::kClosed && connection_ != nullptr &&
          !transport_closed_reported_) {
        transport_closed_reported_ = true;
        ClientConnection* c = connection_;
        connection_ = nullptr;
        c->OnTransportClosed(false, event->close_reason);
      }
    }
  }
  if (ws_->Finished()) {
    Finish();
    return;
  }
  ArmTimer();
}

void Front::ArmTimer() {
  std::optional<sim::Nanos> deadline = ws_ ? ws_->NextDeadline() : std::nullopt;
  if (!deadline) {
    if (timer_ != 0) service_.runtime().CancelTimer(timer_);
    timer_ = 0;
    return;
  }
  if (timer_ != 0 && timer_deadline_ == *deadline) return;
  if (timer_ != 0) service_.runtime().CancelTimer(timer_);
  timer_deadline_ = *deadline;
  timer_ = service_.runtime().SetTimer(*deadline, [this] {
    timer_ = 0;
    if (finished_ || !ws_) return;
    ws_->HandleTimeout(service_.runtime().Now());
    PumpWebSocket();
  });
}

void Front::Finish() {
  if (finished_) return;
  finished_ = true;
  if (connection_ != nullptr && !transport_closed_reported_) {
    transport_closed_reported_ = true;
    ClientConnection* c = connection_;
    connection_ = nullptr;
    c->OnTransportClosed(false, "transport closed");
  }
  stream_->SetHandler(nullptr);
  stream_->Close();
  service_.Bury(service_.TakeFront(this));
}

}  // namespace wpsim::service
