// The bad-input catalogue (tests/data/bad-inputs/*.tsv, issue 20): every case sends one bad input
// to a fresh reference service and names the answer it must get; around it, a bystander client
// on another hub receives one message before and one after, and must lose nothing and stay open.
// The same runner drives the service in simulation (tests/service/bad_inputs_test.cc, every
// case) and a real `wpsim serve` over loopback sockets (tests/service_uv/bad_inputs_uv_test.cc).
//
// Line format (tab-separated; '#' starts a comment line; fields use the C escapes of
// tests/protocol/http/case_file.h: \r \n \t \0 \\ \" \xHH \s):
//   name <TAB> kind <TAB> expected <TAB> input [<TAB> seconds to wait, default 2]
// Kinds and their inputs / observed answers:
//   http         raw bytes on a fresh TCP connection          status:N (first response) | closed
//   rest         METHOD|path?query|content-type|body, sent     status:N
//                with a valid REST token for that URL
//   token        the access_token of a json client upgrade    status:N (the refused upgrade)
//   json         a text message from an open json client      ack:ok | ack:ErrorName | close:N | open
//   ws           raw bytes from an open json client (frames   close:N | open
//                written by hand, masked with a zero key)
//   protobuf     a binary message (an UpstreamMessage) from   ack:ok | ack:ErrorName | close:N | open
//                an open protobuf.webpubsub.azure.v1 client
//   mqttconnect  the first binary message of an MQTT client   connack:0xNN | close:N
//   mqtt         a binary message after a successful CONNECT  disconnect:0xNN | suback:0xNN |
//                                                             puback:0xNN | close:N | open
//
// Waiting: in simulation every wait runs its whole length (the runs stay exactly as they were
// recorded). Over sockets a wait ends as soon as the answer equals the expected one (a wrong
// answer waits the whole length, then fails), and "open" is watched for `open_watch`.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"
#include "protocol/protobuf/messages.h"
#include "protocol/websocket/frame.h"
#include "service/options.h"
#include "sim/seam.h"
#include "tests/protocol/http/case_file.h"
#include "tests/protocol/websocket/frame_decoder.h"

namespace wpsim::service::bad_inputs {

struct BadInput {
  std::string file;
  int line = 0;
  std::string name;
  std::string kind;
  std::string expected;
  std::string input;  // unescaped
  sim::Nanos wait = 2 * sim::kSecond;
};

inline std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return out;
}

inline std::vector<BadInput> LoadCatalogue() {
  std::vector<BadInput> out;
  const std::filesystem::path dir =
      std::filesystem::path(WPSIM_SOURCE_DIR) / "tests/data/bad-inputs";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".tsv") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string> f = SplitTabs(line);
      if (f.size() < 4 || f.size() > 5) {
        throw std::runtime_error(path.string() + ":" + std::to_string(number) +
                                 ": expected 4 or 5 tab-separated fields");
      }
      BadInput c;
      c.file = path.stem().string();
      c.line = number;
      c.name = f[0];
      c.kind = f[1];
      c.expected = f[2];
      c.input = testing::Unescape(f[3]);
      if (f.size() == 5) c.wait = std::stoll(f[4]) * sim::kSecond;
      out.push_back(std::move(c));
    }
  }
  return out;
}

inline const std::vector<BadInput>& Catalogue() {
  static const std::vector<BadInput> cases = LoadCatalogue();
  return cases;
}

inline std::string CaseName(const BadInput& c) {
  std::string out = c.file + "_" + c.name;
  for (char& ch : out) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return out;
}

// A raw client stream: writes bytes, records everything the service answers.
class RawStream : public sim::StreamHandler {
 public:
  RawStream(sim::Runtime& runtime, sim::Address service) : runtime_(runtime), service_(service) {}
  ~RawStream() override {
    if (stream_) stream_->SetHandler(nullptr);
  }
  void Open(std::string first) {
    runtime_.Dial(service_, [this, first = std::move(first)](
                                Result<std::unique_ptr<sim::Stream>> s) {
      ASSERT_TRUE(s.ok()) << s.error().message;
      stream_ = std::move(s.value());
      stream_->SetHandler(this);
      if (!first.empty()) stream_->Write(AsBytes(first));
    });
  }
  void Write(const std::string& bytes) {
    if (stream_) stream_->Write(AsBytes(bytes));
  }
  void OnData(std::span<const uint8_t> data) override {
    received.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  void OnEnd() override { ended = true; }
  void OnClosed(sim::CloseReason, std::string_view) override { ended = true; }
  // Bytes after the 101 response's head (the WebSocket frames), or "" before it.
  std::string Frames() const {
    const size_t head = received.find("\r\n\r\n");
    if (received.rfind("HTTP/1.1 101", 0) != 0 || head == std::string::npos) return "";
    return received.substr(head + 4);
  }
  int FirstStatus() const {
    if (received.rfind("HTTP/1.", 0) != 0 || received.size() < 12) return 0;
    return std::stoi(received.substr(9, 3));
  }
  // The first response's head has arrived whole.
  bool HasHead() const { return received.find("\r\n\r\n") != std::string::npos; }

  std::string received;
  bool ended = false;

 private:
  sim::Runtime& runtime_;
  sim::Address service_;
  std::unique_ptr<sim::Stream> stream_;
};

inline std::string MaskedFrame(protocol::websocket::Opcode opcode, const std::string& payload) {
  protocol::websocket::FrameSpec spec;
  spec.opcode = opcode;
  spec.masked = true;
  spec.mask = {0x11, 0x22, 0x33, 0x44};
  std::string out;
  protocol::websocket::AppendFrame(out, spec, AsBytes(payload));
  return out;
}

inline std::string Hex2(uint8_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[v >> 4] + kHex[v & 15];
}

// Where a case runs. In simulation `client` and `bystander` are different simulated hosts and
// the service is "service":80; over sockets both are the test's loopback runtime and the
// service is `wpsim serve` on 127.0.0.1.
struct Target {
  sim::Runtime* client = nullptr;
  sim::Runtime* bystander = nullptr;
  sim::Address service;
  // For the bystander's WebSocket and REST clients (their Host and audience follow `service`).
  protocol::auth::ConnectionString bystander_cs;
  // Runs the network for at most `cap`, stopping early when `done` holds (over sockets; in
  // simulation always the whole `cap`). Returns false when the network failed.
  std::function<bool(const std::function<bool()>& done, sim::Nanos cap)> run;
  bool exact_waits = true;  // simulation
  sim::Nanos open_watch = 0;
};

// One catalogue case against one fresh service: bystander, the bad input, the answer, the
// bystander again. Catalogue inputs name the service "service" (Host header, token audiences),
// whatever address it really has.
class CaseRunner {
 public:
  explicit CaseRunner(Target target) : t_(std::move(target)) {
    cs_.scheme = "http";
    cs_.host = "service";
    cs_.port = 80;
    cs_.access_key = std::string(kDefaultAccessKey);
  }
  ~CaseRunner() {
    streams_.clear();
    bystander_.reset();
    rest_.reset();
  }

  // Connects the bystander and sends it "before"; false (with a test failure) if it failed.
  bool StartBystander() {
    clients::WsClientOptions o;
    o.kind = clients::WsClientKind::kJson;
    o.service = t_.service;
    o.hub = "quiet";
    protocol::auth::ClientTokenOptions tok;
    tok.user_id = "bystander";
    tok.issued_at = t_.bystander->UnixNow() / sim::kSecond;
    tok.expires_at = tok.issued_at + 3600;
    o.access_token = protocol::auth::BuildClientToken(t_.bystander_cs, "quiet", tok);
    bystander_ = std::make_unique<clients::WsClient>(*t_.bystander, "bystander", o);
    bystander_->Connect();
    clients::RestClientOptions r;
    r.service = t_.service;
    r.connection_string = t_.bystander_cs;
    rest_ = std::make_unique<clients::RestClient>(*t_.bystander, "rest", r);
    if (!Run([&] { return bystander_->connection_id() != ""; }, sim::kSecond)) return false;
    EXPECT_TRUE(bystander_->open());
    if (!bystander_->open()) return false;
    rest_->Call("POST", "/api/hubs/quiet/:send", "text/plain", "before", "before");
    return Run([&] { return BystanderGot().size() == 1; }, sim::kSecond);
  }

  // Sends "after" and checks the bystander got both messages and is still open.
  void CheckBystander() {
    rest_->Call("POST", "/api/hubs/quiet/:send", "text/plain", "after", "after");
    Run([&] { return BystanderGot().size() >= 2; }, t_.exact_waits ? sim::kSecond : 5 * sim::kSecond);
    EXPECT_TRUE(bystander_->open());
    EXPECT_EQ(BystanderGot(), (std::vector<std::string>{"before", "after"}));
  }

  // What the service answered, in the vocabulary of the `expected` column.
  std::string Observe(const BadInput& c) {
    if (c.kind == "http") {
      RawStream& s = NewStream();
      s.Open(c.input);
      auto probe = [&s] {
        if (s.FirstStatus() != 0) return "status:" + std::to_string(s.FirstStatus());
        return std::string(s.ended ? "closed" : "open");
      };
      Await(c, probe);
      return probe();
    }
    if (c.kind == "rest") {
      std::vector<std::string> f;
      std::stringstream in(c.input);
      std::string part;
      while (std::getline(in, part, '|')) f.push_back(part);
      while (f.size() < 4) f.emplace_back();
      const int64_t now = t_.client->UnixNow() / sim::kSecond;
      const std::string token =
          protocol::auth::BuildRestToken("http://service" + f[1], now, now + 3600, kDefaultAccessKey);
      std::string r = f[0] + " " + f[1] + " HTTP/1.1\r\nHost: service\r\nAuthorization: Bearer " +
                      token + "\r\n";
      if (!f[2].empty()) r += "Content-Type: " + f[2] + "\r\n";
      r += "Content-Length: " + std::to_string(f[3].size()) + "\r\n\r\n" + f[3];
      RawStream& s = NewStream();
      s.Open(r);
      auto probe = [&s] {
        return s.FirstStatus() != 0 ? "status:" + std::to_string(s.FirstStatus()) : std::string("none");
      };
      Await(c, probe);
      return probe();
    }
    if (c.kind == "token") {
      RawStream& s = NewStream();
      s.Open(Upgrade("/client/hubs/hub?access_token=" + protocol::http::PercentEncode(c.input),
                     "json.webpubsub.azure.v1"));
      auto probe = [&s] { return "status:" + std::to_string(s.FirstStatus()); };
      Await(c, probe);
      return probe();
    }
    if (c.kind == "json" || c.kind == "ws" || c.kind == "protobuf") {
      const bool pb = c.kind == "protobuf";
      RawStream& s = NewStream();
      s.Open(Upgrade("/client/hubs/hub?access_token=" + Token(protocol::auth::ClientType::kDefault),
                     pb ? "protobuf.webpubsub.azure.v1" : "json.webpubsub.azure.v1"));
      // The 101 and the connected message.
      Run([&s] {
        return s.ended || (s.FirstStatus() != 0 && s.FirstStatus() != 101) ||
               !testing::DecodeFrames(s.Frames()).empty();
      }, sim::kSecond);
      if (s.FirstStatus() != 101) return "upgrade failed: " + std::to_string(s.FirstStatus());
      const size_t before = testing::DecodeFrames(s.Frames()).size();
      if (c.kind == "json") {
        s.Write(MaskedFrame(protocol::websocket::Opcode::kText, c.input));
      } else if (pb) {
        s.Write(MaskedFrame(protocol::websocket::Opcode::kBinary, c.input));
      } else {
        s.Write(c.input);
      }
      auto probe = [&s, before, pb] {
        const std::vector<testing::DecodedFrame> frames = testing::DecodeFrames(s.Frames());
        for (size_t i = before; i < frames.size(); ++i) {
          const testing::DecodedFrame& f = frames[i];
          if (f.opcode == 0x8) return CloseOf(f);
          if (pb && f.opcode == 0x2) {
            auto m = protocol::protobuf::DecodeDownstreamMessage(AsBytes(f.payload));
            if (!m.ok()) return std::string("undecodable downstream message");
            if (const auto* ack = std::get_if<protocol::webpubsub::AckMessage>(&m.value())) {
              if (ack->success) return std::string("ack:ok");
              return "ack:" + (ack->error ? ack->error->name : std::string("?"));
            }
            continue;
          }
          if (f.opcode != 0x1) continue;
          nlohmann::json j = nlohmann::json::parse(f.payload, nullptr, false);
          if (j.is_object() && j.value("type", "") == "ack") {
            if (j.value("success", false)) return std::string("ack:ok");
            return "ack:" + j["error"].value("name", "?");
          }
        }
        return std::string(s.ended ? "closed" : "open");
      };
      Await(c, probe);
      return probe();
    }
    if (c.kind == "mqtt" || c.kind == "mqttconnect") {
      RawStream& s = NewStream();
      s.Open(Upgrade("/clients/mqtt/hubs/hub?access_token=" + Token(protocol::auth::ClientType::kMqtt),
                     "mqtt"));
      Run([&s] { return s.ended || (s.FirstStatus() != 0 && s.HasHead()); }, sim::kSecond);
      if (s.FirstStatus() != 101) return "upgrade failed: " + std::to_string(s.FirstStatus());
      size_t before = 0;
      if (c.kind == "mqtt") {
        // A valid MQTT 5 CONNECT: clean start, keep-alive 60 s, client id "bad1".
        const std::string connect("\x10\x11\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x04" "bad1", 19);
        s.Write(MaskedFrame(protocol::websocket::Opcode::kBinary, connect));
        Run([&s] { return s.ended || !testing::DecodeFrames(s.Frames()).empty(); }, sim::kSecond);
        const auto frames = testing::DecodeFrames(s.Frames());
        if (frames.empty() || frames[0].payload.size() < 4 ||
            static_cast<uint8_t>(frames[0].payload[0]) != 0x20 || frames[0].payload[3] != 0) {
          return "connect failed";
        }
        before = frames.size();
      }
      s.Write(MaskedFrame(protocol::websocket::Opcode::kBinary, c.input));
      auto probe = [&s, before] {
        const auto frames = testing::DecodeFrames(s.Frames());
        for (size_t i = before; i < frames.size(); ++i) {
          const testing::DecodedFrame& f = frames[i];
          if (f.opcode == 0x8) return CloseOf(f);
          if (f.opcode != 0x2 || f.payload.empty()) continue;
          const uint8_t type = static_cast<uint8_t>(f.payload[0]) >> 4;
          const std::string& p = f.payload;
          auto byte_at = [&](size_t i2) { return i2 < p.size() ? static_cast<uint8_t>(p[i2]) : 0; };
          if (type == 2) return "connack:" + Hex2(byte_at(3));
          if (type == 14) return "disconnect:" + Hex2(byte_at(2));
          if (type == 9) return "suback:" + Hex2(byte_at(p.size() - 1));
          if (type == 4) return "puback:" + Hex2(p.size() > 4 ? byte_at(4) : 0);
        }
        return std::string(s.ended ? "closed" : "open");
      };
      Await(c, probe);
      return probe();
    }
    return "unknown kind '" + c.kind + "'";
  }

 private:
  static std::string CloseOf(const testing::DecodedFrame& f) {
    if (f.payload.size() < 2) return "close:none";
    return "close:" + std::to_string((static_cast<uint8_t>(f.payload[0]) << 8) |
                                     static_cast<uint8_t>(f.payload[1]));
  }

  bool Run(const std::function<bool()>& done, sim::Nanos cap) {
    const bool ok = t_.run(done, cap);
    EXPECT_TRUE(ok) << "the network failed";
    return ok;
  }

  // Waits for the case's answer: the whole case wait in simulation; over sockets until the
  // expected answer is there (or the wait is over), and `open_watch` for an expected "open".
  void Await(const BadInput& c, const std::function<std::string()>& probe) {
    if (t_.exact_waits) {
      Run([] { return false; }, c.wait);
    } else if (c.expected == "open") {
      Run([] { return false; }, t_.open_watch);
    } else {
      Run([&] { return probe() == c.expected; }, c.wait);
    }
  }

  std::vector<std::string> BystanderGot() const {
    std::vector<std::string> got;
    for (const clients::Observation& o : bystander_->observations()) {
      if (o.kind == clients::Observation::Kind::kServerMessage) {
        got.emplace_back(o.payload.data.view());
      }
    }
    return got;
  }

  std::string Token(protocol::auth::ClientType type) {
    protocol::auth::ClientTokenOptions t;
    t.user_id = "user";
    t.roles = {"webpubsub.joinLeaveGroup.allowed", "webpubsub.sendToGroup.allowed"};
    t.issued_at = t_.client->UnixNow() / sim::kSecond;
    t.expires_at = t.issued_at + 3600;
    t.client_type = type;
    return protocol::auth::BuildClientToken(cs_, "hub", t);
  }

  static std::string Upgrade(const std::string& target, const std::string& protocol) {
    std::string r = "GET " + target +
                    " HTTP/1.1\r\nHost: service\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    if (!protocol.empty()) r += "Sec-WebSocket-Protocol: " + protocol + "\r\n";
    return r + "\r\n";
  }

  RawStream& NewStream() {
    streams_.push_back(std::make_unique<RawStream>(*t_.client, t_.service));
    return *streams_.back();
  }

  Target t_;
  protocol::auth::ConnectionString cs_;
  std::unique_ptr<clients::WsClient> bystander_;
  std::unique_ptr<clients::RestClient> rest_;
  std::vector<std::unique_ptr<RawStream>> streams_;
};

}  // namespace wpsim::service::bad_inputs
