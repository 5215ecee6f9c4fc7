// Shared pieces of the reference-service benchmarks (bench/service, bench/service_mqtt): a
// SinkStream (a sim::Stream whose peer is the benchmark: writes are counted and dropped, and the
// benchmark feeds it client bytes), masked client frames, and a ServiceBed — one Service on a
// simulated host with the default access key, able to mint client tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/shared_bytes.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "protocol/websocket/frame.h"
#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"

namespace wpsim::bench {

// A stream whose peer is the benchmark: writes are counted and dropped.
class SinkStream final : public sim::Stream {
 public:
  explicit SinkStream(uint64_t id) : id_(id), peer_{"client", static_cast<uint16_t>(id)} {}
  void SetHandler(sim::StreamHandler* handler) override { handler_ = handler; }
  bool Write(std::span<const uint8_t> data) override { return Count(data.size()); }
  bool Write(SharedBytes data) override { return Count(data.size()); }
  bool Writable() const override { return !closed_; }
  size_t BufferedBytes() const override { return 0; }
  void Shutdown() override {}
  void Close() override { closed_ = true; }
  void Reset() override { closed_ = true; }
  void SetReadPaused(bool) override {}
  const sim::Address& LocalAddress() const override { return local_; }
  const sim::Address& PeerAddress() const override { return peer_; }
  uint64_t Id() const override { return id_; }

  // The client sends `data` (as if it arrived from the network).
  void Feed(std::span<const uint8_t> data) {
    if (handler_ != nullptr) handler_->OnData(data);
  }
  void Feed(std::string_view s) { Feed(AsBytes(s)); }
  bool closed() const { return closed_; }
  uint64_t writes = 0;
  uint64_t bytes = 0;

 private:
  bool Count(size_t n) {
    if (closed_) return false;
    ++writes;
    bytes += n;
    return true;
  }
  uint64_t id_;
  sim::Address local_{"service", 80};
  sim::Address peer_;
  sim::StreamHandler* handler_ = nullptr;
  bool closed_ = false;
};

// One masked client frame carrying `payload`.
inline std::string MaskedFrame(protocol::websocket::Opcode opcode,
                               std::span<const uint8_t> payload) {
  std::string out;
  protocol::websocket::FrameSpec spec;
  spec.opcode = opcode;
  spec.masked = true;
  spec.mask = {0x12, 0x34, 0x56, 0x78};
  protocol::websocket::AppendFrame(out, spec, payload);
  return out;
}
inline std::string MaskedTextFrame(std::string_view text) {
  return MaskedFrame(protocol::websocket::Opcode::kText, AsBytes(text));
}

// A Service on simulated host "service" (port 80, default access key).
class ServiceBed {
 public:
  ServiceBed() {
    host_ = net_.AddHost("service").value();
    // Every bench client comes from one simulated host: no per-peer or total connection cap.
    service::ServiceOptions options;
    options.limits.connections_max = 0;
    options.limits.connections_per_peer_max = 0;
    service_ = std::make_unique<service::Service>(*host_, options);
    cs_.scheme = "http";
    cs_.host = "service";
    cs_.port = 80;
    cs_.access_key = std::string(service::kDefaultAccessKey);
  }

  // A client access token for hub "hub", valid for a day from now.
  std::string Token(protocol::auth::ClientTokenOptions o) {
    o.issued_at = host_->UnixNow() / sim::kSecond;
    o.expires_at = o.issued_at + 24 * 3600;
    return protocol::auth::BuildClientToken(cs_, "hub", o);
  }
  // An upgrade request for `path_and_query` (which must end in "access_token=").
  static std::string Upgrade(std::string_view path_and_query, std::string_view token,
                             std::string_view subprotocol) {
    std::string req = "GET " + std::string(path_and_query) + std::string(token) +
                      " HTTP/1.1\r\nHost: service\r\nUpgrade: websocket\r\nConnection: "
                      "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n";
    if (!subprotocol.empty()) req += "Sec-WebSocket-Protocol: " + std::string(subprotocol) + "\r\n";
    return req + "\r\n";
  }

  // Hands a new SinkStream to the service and feeds it `request`.
  SinkStream* Connect(std::unique_ptr<SinkStream> stream, std::string_view request) {
    SinkStream* raw = stream.get();
    service_->Accept(std::move(stream));
    raw->Feed(request);
    return raw;
  }

  // Runs every event due now (the zero-delay flushes), not the keepalive timers.
  void Turn() { (void)net_.RunFor(0); }
  service::Hub& hub() { return service_->GetHub("hub"); }
  sim::SimNetwork& net() { return net_; }

 private:
  sim::SimNetwork net_;
  sim::SimRuntime* host_ = nullptr;
  std::unique_ptr<service::Service> service_;
  protocol::auth::ConnectionString cs_;
};

}  // namespace wpsim::bench
