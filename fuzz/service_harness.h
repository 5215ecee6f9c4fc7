// The whole-service fuzz harness (issue 20): one input drives the reference service in
// simulation with arbitrary bytes on connections of every kind (plain HTTP and REST, WebSocket
// clients of the raw, json and reliable subprotocols, MQTT over WebSocket) *and* arbitrary
// event-handler behaviour (validation answer, per-event status, headers, body, connection
// state, delay, reset, no answer), and checks the service's invariants after every step.
//
// Used by fuzz/service.cc (libFuzzer) and by tests/service/service_fuzz_test.cc, which replays
// the seed corpus and a few hundred seeded pseudo-random inputs in every build (also under
// ASan + UBSan), so the harness itself cannot rot when the fuzz build is not run.
//
// Input: a header byte (validation status, limits variant), then steps of one opcode byte and
// operands. Every step is bounded (at most kStepsMax steps, bounded virtual time each), so a
// run is short whatever the input.
//
// Invariants (a violation aborts with a message):
//  * the simulated network never fails (no assertion, no event budget exhausted);
//  * a bystander client on another hub stays open through everything and receives every
//    message the service accepted for it (REST send answered 202) in order, with nothing lost
//    (checked after every step and at the end). A send the service refused is not expected:
//    with connections_max = 16 the fuzzed connections may fill the service, and a send refused
//    there with 503 (docs/reliability.md) was never accepted; PROTOCOL.md §11 makes 202 the
//    answer that means "accepted for delivery". The final send must be accepted and delivered;
//  * the service keeps its connection count within ConnectionLimits::connections_max;
//  * a fresh REST health probe is answered 200 at the end (the service still serves).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/shared_bytes.h"
#include "clients/app_server.h"
#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"
#include "protocol/websocket/frame.h"
#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"

namespace wpsim::fuzzing {

[[noreturn]] inline void InvariantFailed(const char* what, const std::string& detail) {
  std::fprintf(stderr, "service fuzz invariant violated: %s %s\n", what, detail.c_str());
  std::abort();
}

// Reads operands from the input; past the end everything is zero / empty.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // A length-prefixed byte string (length byte, at most `max`).
  std::string Bytes(size_t max = 255) {
    size_t n = Byte();
    if (n > max) n = max;
    n = std::min(n, size_ - std::min(pos_, size_));
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A raw client stream: writes whatever the input says and discards what comes back (counting
// it, so the service's answers are consumed like a real client's would be).
class RawConnection : public sim::StreamHandler {
 public:
  void OnData(std::span<const uint8_t> data) override { received += data.size(); }
  void OnEnd() override { ended = true; }
  void OnClosed(sim::CloseReason, std::string_view) override { closed = true; }
  std::unique_ptr<sim::Stream> stream;
  size_t received = 0;
  bool ended = false;
  bool closed = false;
};

class ServiceHarness {
 public:
  static constexpr int kStepsMax = 48;
  static constexpr size_t kConnectionsMax = 12;

  ServiceHarness(const uint8_t* data, size_t size) : in_(data, size) {}

  void Run() {
    Setup(in_.Byte());
    for (int step = 0; step < kStepsMax && !in_.empty(); ++step) {
      Step(in_.Byte());
      Advance(20 * sim::kMillisecond);
      CheckInvariants("after a step");
    }
    // Liveness: whatever happened, the bystander still gets a message and REST still answers.
    const size_t last = SendToBystander();
    Advance(2 * sim::kSecond);
    CheckInvariants("at the end");
    if (std::find(acked_.begin(), acked_.end(), last) == acked_.end()) {
      InvariantFailed("the final send to the bystander was not answered 202", "");
    }
    CheckAllAckedDelivered("at the end");
    clients::RestClient& probe = Rest();
    const size_t before = 0;
    probe.Call("HEAD", "/api/health", "", "", "health");
    Advance(sim::kSecond);
    if (probe.observations().size() != before + 1 ||
        probe.observations().back().http_status != 200) {
      InvariantFailed("REST health probe not answered 200 at the end",
                      probe.observations().size() == before
                          ? std::string("(no answer)")
                          : std::to_string(probe.observations().back().http_status) + " " +
                                probe.observations().back().text);
    }
  }

 private:
  void Setup(uint8_t header) {
    service_host_ = net_.AddHost("service").value();
    client_host_ = net_.AddHost("client").value();
    bystander_host_ = net_.AddHost("bystander").value();
    app_host_ = net_.AddHost("app").value();
    options_.hubs["hub"].event_handlers = {
        {"http://app/api/{event}", "*", {"connect", "connected", "disconnected"}}};
    options_.upstream.request_timeout = 2 * sim::kSecond;
    // Small limits so that inputs reach them.
    options_.limits.groups_per_connection_max = 4;
    options_.limits.pipelined_requests_max = 4;
    options_.limits.connections_per_peer_max = 8;
    options_.limits.connections_max = 16;
    options_.limits.request_read_timeout = 500 * sim::kMillisecond;
    options_.limits.http_idle_timeout = 2 * sim::kSecond;
    options_.websocket_keepalive = 300 * sim::kMillisecond;
    options_.message_bytes_max = 4096;
    service_ = std::make_unique<service::Service>(*service_host_, options_);
    if (std::getenv("WPSIM_FUZZ_LOG") != nullptr) {  // the service's access log, for triage
      service_->log = [](std::string_view line) {
        std::fprintf(stderr, "service: %.*s\n", static_cast<int>(line.size()), line.data());
      };
    }
    if (!service_->Listen(sim::Address{"service", 80}).ok()) InvariantFailed("listen", "");
    clients::AppServerOptions app_options;
    app_options.access_keys = options_.access_keys;
    static constexpr int kValidation[] = {200, 200, 400, 404, 500, 200, 401, 200};
    app_options.validation.status = kValidation[header & 7];
    if ((header & 8) != 0) app_options.validation.allowed_origin = "";
    if ((header & 16) != 0) app_options.validation.delay = 300 * sim::kMillisecond;
    app_ = std::make_unique<clients::AppServer>(*app_host_, "app", app_options);
    if (!app_->Listen().ok()) InvariantFailed("app listen", "");
    cs_.scheme = "http";
    cs_.host = "service";
    cs_.port = 80;
    cs_.access_key = std::string(service::kDefaultAccessKey);

    clients::WsClientOptions o;
    o.kind = clients::WsClientKind::kJson;
    o.service = sim::Address{"service", 80};
    o.hub = "quiet";
    o.access_token = Token("quiet", "bystander", protocol::auth::ClientType::kDefault);
    bystander_ = std::make_unique<clients::WsClient>(*bystander_host_, "bystander", o);
    bystander_->Connect();
    Advance(sim::kSecond);
    if (!bystander_->open()) InvariantFailed("bystander did not connect", "");
  }

  std::string Token(std::string_view hub, std::string user, protocol::auth::ClientType type) {
    protocol::auth::ClientTokenOptions t;
    t.user_id = std::move(user);
    t.roles = {"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"};
    t.issued_at = client_host_->UnixNow() / sim::kSecond;
    t.expires_at = t.issued_at + 3600;
    t.client_type = type;
    return protocol::auth::BuildClientToken(cs_, hub, t);
  }

  // A fresh REST client on the bystander's host for each call: a kept-alive connection may be
  // closed by the service's idle deadline just as a request goes out (an ordinary HTTP race
  // that a client retries), which would look like a lost message here. Clients that have their
  // answer are dropped first, closing their connection: kept open until the idle deadline they
  // filled the bystander host's connections_per_peer_max (8) after seven sends 20 ms apart, and
  // the eighth send was refused with 503 (fuzz/findings/service-bystander-lost-message).
  clients::RestClient& Rest() {
    std::erase_if(rest_, [](const std::unique_ptr<clients::RestClient>& r) { return r->idle(); });
    clients::RestClientOptions o;
    o.service = sim::Address{"service", 80};
    o.connection_string = cs_;
    rest_.push_back(std::make_unique<clients::RestClient>(*bystander_host_, "rest", o));
    return *rest_.back();
  }

  void Advance(sim::Nanos d) {
    Status s = net_.RunFor(d, 2'000'000);
    if (!s.ok()) InvariantFailed("network", s.error().message);
  }

  // Sends message number n ("m<n>") to the bystander's hub; n goes to acked_ when the service
  // answers 202.
  size_t SendToBystander() {
    const size_t n = ++sent_to_bystander_;
    Rest().Call("POST", "/api/hubs/quiet/:send", "text/plain", "m" + std::to_string(n), "bystander",
                [this, n](const protocol::http::Response& r) {
                  if (r.status == 202) acked_.push_back(n);
                });
    return n;
  }

  // The numbers the bystander received, checked to be increasing (in send order, none twice).
  std::vector<size_t> Received() {
    std::vector<size_t> received;
    for (const clients::Observation& o : bystander_->observations()) {
      if (o.kind != clients::Observation::Kind::kServerMessage) continue;
      const std::string_view text = o.payload.data.view();
      size_t n = 0;
      if (text.size() < 2 || text[0] != 'm') {
        InvariantFailed("bystander received a message nobody sent", std::string(text));
      }
      for (char c : text.substr(1)) n = n * 10 + static_cast<size_t>(c - '0');
      if (!received.empty() && n <= received.back()) {
        InvariantFailed("bystander message out of order or repeated", std::string(text));
      }
      received.push_back(n);
    }
    return received;
  }

  void CheckAllAckedDelivered(const char* when) {
    const std::vector<size_t> received = Received();
    for (size_t n : acked_) {
      if (!std::binary_search(received.begin(), received.end(), n)) {
        InvariantFailed("bystander lost a message", std::string(when) + ": m" + std::to_string(n));
      }
    }
  }

  void CheckInvariants(const char* when) {
    if (!bystander_->open()) InvariantFailed("bystander closed", when);
    const std::vector<size_t> received = Received();
    // Everything accepted at least one step ago has arrived (REST over the simulated link is
    // fast: the 202 and the delivery are within the same 20 ms step).
    for (size_t i = 0; i < acked_checked_; ++i) {
      if (!std::binary_search(received.begin(), received.end(), acked_[i])) {
        InvariantFailed("bystander lost a message",
                        std::string(when) + ": m" + std::to_string(acked_[i]));
      }
    }
    acked_checked_ = acked_.size();
    if (service_->front_count() > options_.limits.connections_max) {
      InvariantFailed("more connections than connections_max", when);
    }
  }

  RawConnection* Conn(uint8_t index) {
    if (conns_.empty()) return nullptr;
    return conns_[index % conns_.size()].get();
  }

  void Open(std::string first_bytes) {
    if (conns_.size() >= kConnectionsMax) return;
    conns_.push_back(std::make_unique<RawConnection>());
    RawConnection* c = conns_.back().get();
    client_host_->Dial(sim::Address{"service", 80},
                       [c, bytes = std::move(first_bytes)](Result<std::unique_ptr<sim::Stream>> s) {
                         if (!s.ok()) return;
                         c->stream = std::move(s.value());
                         c->stream->SetHandler(c);
                         if (!bytes.empty()) c->stream->Write(AsBytes(bytes));
                       });
  }

  std::string Upgrade(uint8_t kind) {
    static constexpr std::string_view kProtocols[] = {"", "json.webpubsub.azure.v1",
                                                      "json.reliable.webpubsub.azure.v1", "mqtt"};
    const std::string_view protocol = kProtocols[kind & 3];
    const bool mqtt = protocol == "mqtt";
    const std::string hub = (kind & 4) != 0 ? "other" : "hub";
    std::string target =
        (mqtt ? "/clients/mqtt/hubs/" : "/client/hubs/") + hub + "?access_token=" +
        Token(hub, "u" + std::to_string(kind),
              mqtt ? protocol::auth::ClientType::kMqtt : protocol::auth::ClientType::kDefault);
    std::string r = "GET " + target +
                    " HTTP/1.1\r\nHost: service\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    if (!protocol.empty()) r += "Sec-WebSocket-Protocol: " + std::string(protocol) + "\r\n";
    return r + "\r\n";
  }

  // A masked client frame with arbitrary opcode, FIN and RSV bits (mostly valid ones).
  static std::string Frame(uint8_t bits, const std::string& payload) {
    static constexpr protocol::websocket::Opcode kOps[] = {
        protocol::websocket::Opcode::kText, protocol::websocket::Opcode::kBinary,
        protocol::websocket::Opcode::kText, protocol::websocket::Opcode::kBinary,
        protocol::websocket::Opcode::kContinuation, protocol::websocket::Opcode::kPing,
        protocol::websocket::Opcode::kPong, protocol::websocket::Opcode::kClose};
    protocol::websocket::FrameSpec spec;
    spec.opcode = kOps[bits & 7];
    spec.fin = (bits & 8) == 0;
    spec.rsv = (bits & 0x70) == 0x70 ? 1 : 0;
    spec.masked = (bits & 0x80) == 0 || (bits & 0x70) != 0x60;
    spec.mask = {0x12, 0x34, 0x56, bits};
    std::string out;
    protocol::websocket::AppendFrame(out, spec, AsBytes(payload));
    return out;
  }

  // A JSON subprotocol request with fuzz-chosen fields (reaches the request handlers).
  static std::string JsonRequest(uint8_t kind, const std::string& text) {
    std::string escaped;
    for (char c : text) {
      if (c == '"' || c == '\\') escaped += '\\';
      if (static_cast<uint8_t>(c) < 0x20) continue;
      escaped += c;
    }
    switch (kind % 6) {
      case 0: return R"({"type":"joinGroup","group":")" + escaped + R"(","ackId":1})";
      case 1: return R"({"type":"leaveGroup","group":")" + escaped + R"("})";
      case 2:
        return R"({"type":"sendToGroup","group":"g","dataType":"text","data":")" + escaped +
               R"(","ackId":2})";
      case 3:
        return R"({"type":"event","event":")" + escaped +
               R"(","dataType":"json","data":{"x":1},"ackId":3})";
      case 4: return R"({"type":"sequenceAck","sequenceId":)" + std::to_string(text.size()) + "}";
      default: return text;
    }
  }

  static std::string HeaderSafe(std::string s) {
    std::string out;
    for (char c : s) {
      if (c != '\r' && c != '\n' && c != '\0') out += c;
    }
    return out;
  }

  void ScriptReply(uint8_t bits, const std::string& body) {
    static constexpr std::string_view kEvents[] = {"connect", "connected", "disconnected", "*"};
    static constexpr int kStatus[] = {200, 204, 400, 401, 403, 404, 500, 503,
                                      200, 200, 408, 429, 302, 200, 999, 100};
    clients::AppServerReply reply;
    reply.status = kStatus[(bits >> 2) & 15];
    if (reply.status < 200) reply.status = 200;
    if (reply.status > 599) reply.status = 599;
    switch ((bits >> 6) & 3) {
      case 0: break;
      case 1: reply.delay = 700 * sim::kMillisecond; break;
      case 2: reply.action = clients::AppServerReply::Action::kFail; break;
      default: reply.action = clients::AppServerReply::Action::kTimeout; break;
    }
    if (!body.empty()) {
      reply.content_type = (body[0] & 1) != 0 ? "application/json" : "text/plain";
      reply.body = body;
      if ((body[0] & 2) != 0) reply.connection_state = HeaderSafe(body.substr(1, 40));
      if ((body[0] & 4) != 0) reply.headers.push_back({"X-Fuzz", HeaderSafe(body.substr(1, 80))});
    }
    app_->SetDefault(std::string(kEvents[bits & 3]), std::move(reply));
  }

  void RestCall(uint8_t bits, const std::string& text) {
    static constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "DELETE", "HEAD"};
    static constexpr std::string_view kPaths[] = {
        "/api/hubs/hub/:send",
        "/api/hubs/hub/groups/g/:send",
        "/api/hubs/hub/:closeConnections?reason=",
        "/api/hubs/hub/groups/g/:closeConnections?reason=",
        "/api/hubs/hub/users/u1/:closeConnections?reason=",
        "/api/hubs/hub/groups/",
        "/api/hubs/hub/:addToGroups",
        "/api/hubs/",
    };
    const std::string_view method = kMethods[bits % 5];
    std::string path(kPaths[(bits >> 3) & 7]);
    path += protocol::http::PercentEncode(text);
    const std::string content = (bits & 0x40) != 0 ? "application/json" : "text/plain";
    if (!rest_fuzz_) {
      clients::RestClientOptions o;
      o.service = sim::Address{"service", 80};
      o.connection_string = cs_;
      rest_fuzz_ = std::make_unique<clients::RestClient>(*client_host_, "rest-fuzz", o);
    }
    rest_fuzz_->Call(std::string(method), path, content, text, "fuzz");
  }

  void Step(uint8_t op) {
    switch (op % 10) {
      case 0: Open(in_.Bytes()); break;  // plain HTTP bytes
      case 1: Open(Upgrade(in_.Byte())); break;
      case 2: {
        RawConnection* c = Conn(in_.Byte());
        std::string bytes = in_.Bytes();
        if (c != nullptr && c->stream) c->stream->Write(AsBytes(bytes));
        break;
      }
      case 3: {
        RawConnection* c = Conn(in_.Byte());
        const uint8_t bits = in_.Byte();
        std::string frame = Frame(bits, in_.Bytes());
        if (c != nullptr && c->stream) c->stream->Write(AsBytes(frame));
        break;
      }
      case 4: {
        RawConnection* c = Conn(in_.Byte());
        const uint8_t bits = in_.Byte();
        std::string frame = Frame(bits & 0xF8, JsonRequest(bits, in_.Bytes()));
        if (c != nullptr && c->stream) c->stream->Write(AsBytes(frame));
        break;
      }
      case 5: {
        RawConnection* c = Conn(in_.Byte());
        const uint8_t how = in_.Byte();
        if (c != nullptr && c->stream) {
          if ((how & 1) != 0) {
            c->stream->Reset();
          } else {
            c->stream->Close();
          }
          c->stream.reset();
        }
        break;
      }
      case 6: {
        const uint8_t bits = in_.Byte();
        ScriptReply(bits, in_.Bytes());
        break;
      }
      case 7: {
        const uint8_t bits = in_.Byte();
        RestCall(bits, in_.Bytes());
        break;
      }
      case 8: Advance((in_.Byte() % 32) * 100 * sim::kMillisecond); break;
      default: SendToBystander(); break;
    }
  }

  Reader in_;
  sim::SimNetwork net_;
  sim::SimRuntime* service_host_ = nullptr;
  sim::SimRuntime* client_host_ = nullptr;
  sim::SimRuntime* bystander_host_ = nullptr;
  sim::SimRuntime* app_host_ = nullptr;
  service::ServiceOptions options_;
  std::unique_ptr<service::Service> service_;
  std::unique_ptr<clients::AppServer> app_;
  protocol::auth::ConnectionString cs_;
  std::unique_ptr<clients::WsClient> bystander_;
  std::vector<std::unique_ptr<clients::RestClient>> rest_;
  std::unique_ptr<clients::RestClient> rest_fuzz_;
  std::vector<std::unique_ptr<RawConnection>> conns_;
  size_t sent_to_bystander_ = 0;
  std::vector<size_t> acked_;  // numbers answered 202, in the order of the answers
  size_t acked_checked_ = 0;   // acked_[0, acked_checked_) were acked before the last check
};

inline void RunServiceInput(const uint8_t* data, size_t size) {
  ServiceHarness harness(data, size);
  harness.Run();
}

}  // namespace wpsim::fuzzing
