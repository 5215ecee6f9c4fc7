// The bad-input catalogue (tests/data/bad-inputs/*.tsv, issue 20): every case sends one bad input
// to the reference service in simulation and names the answer it must get; around it, a
// bystander client on another hub receives one message before and one after, and must lose
// nothing and stay open. One ctest case per catalogue line.
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
//   mqttconnect  the first binary message of an MQTT client   connack:0xNN | close:N
//   mqtt         a binary message after a successful CONNECT  disconnect:0xNN | suback:0xNN |
//                                                             puback:0xNN | close:N | open
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "clients/rest_client.h"
#include "clients/ws_client.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"
#include "protocol/websocket/frame.h"
#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "tests/protocol/http/case_file.h"
#include "tests/protocol/websocket/frame_decoder.h"

namespace wpsim::service {
namespace {

namespace auth = protocol::auth;
namespace ws = protocol::websocket;

struct BadInput {
  std::string file;
  int line = 0;
  std::string name;
  std::string kind;
  std::string expected;
  std::string input;  // unescaped
  sim::Nanos wait = 2 * sim::kSecond;
};

std::vector<std::string> SplitTabs(const std::string& line) {
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

std::vector<BadInput> LoadCatalogue() {
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

const std::vector<BadInput>& Catalogue() {
  static const std::vector<BadInput> cases = LoadCatalogue();
  return cases;
}

// A raw client stream: writes bytes, records everything the service answers.
class RawStream : public sim::StreamHandler {
 public:
  explicit RawStream(sim::Runtime& runtime) : runtime_(runtime) {}
  void Open(std::string first) {
    runtime_.Dial(sim::Address{"service", 80}, [this, first = std::move(first)](
                                                   Result<std::unique_ptr<sim::Stream>> s) {
      ASSERT_TRUE(s.ok());
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

  std::string received;
  bool ended = false;

 private:
  sim::Runtime& runtime_;
  std::unique_ptr<sim::Stream> stream_;
};

std::string MaskedFrame(ws::Opcode opcode, const std::string& payload) {
  ws::FrameSpec spec;
  spec.opcode = opcode;
  spec.masked = true;
  spec.mask = {0x11, 0x22, 0x33, 0x44};
  std::string out;
  ws::AppendFrame(out, spec, AsBytes(payload));
  return out;
}

std::string Hex2(uint8_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[v >> 4] + kHex[v & 15];
}

class BadInputCatalogue : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    service_host_ = net_.AddHost("service").value();
    client_host_ = net_.AddHost("client").value();
    bystander_host_ = net_.AddHost("bystander").value();
    service_ = std::make_unique<Service>(*service_host_, options_);
    ASSERT_TRUE(service_->Listen(sim::Address{"service", 80}).ok());
    cs_.scheme = "http";
    cs_.host = "service";
    cs_.port = 80;
    cs_.access_key = std::string(kDefaultAccessKey);
    clients::WsClientOptions o;
    o.kind = clients::WsClientKind::kJson;
    o.service = sim::Address{"service", 80};
    o.hub = "quiet";
    o.access_token = Token("quiet", auth::ClientType::kDefault);
    bystander_ = std::make_unique<clients::WsClient>(*bystander_host_, "bystander", o);
    bystander_->Connect();
    clients::RestClientOptions r;
    r.service = sim::Address{"service", 80};
    r.connection_string = cs_;
    rest_ = std::make_unique<clients::RestClient>(*bystander_host_, "rest", r);
    Run(sim::kSecond);
    ASSERT_TRUE(bystander_->open());
    rest_->Call("POST", "/api/hubs/quiet/:send", "text/plain", "before", "before");
    Run(sim::kSecond);
  }

  void Run(sim::Nanos d) {
    Status s = net_.RunFor(d);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  std::string Token(const std::string& hub, auth::ClientType type) {
    auth::ClientTokenOptions t;
    t.user_id = "user";
    t.roles = {"webpubsub.joinLeaveGroup.allowed", "webpubsub.sendToGroup.allowed"};
    t.issued_at = client_host_->UnixNow() / sim::kSecond;
    t.expires_at = t.issued_at + 3600;
    t.client_type = type;
    return auth::BuildClientToken(cs_, hub, t);
  }

  static std::string Upgrade(const std::string& target, const std::string& protocol) {
    std::string r = "GET " + target +
                    " HTTP/1.1\r\nHost: service\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    if (!protocol.empty()) r += "Sec-WebSocket-Protocol: " + protocol + "\r\n";
    return r + "\r\n";
  }

  RawStream& NewStream() {
    streams_.push_back(std::make_unique<RawStream>(*client_host_));
    return *streams_.back();
  }

  // What the service answered, in the vocabulary of the `expected` column.
  std::string Observe(const BadInput& c) {
    if (c.kind == "http") {
      RawStream& s = NewStream();
      s.Open(c.input);
      Run(c.wait);
      if (s.FirstStatus() != 0) return "status:" + std::to_string(s.FirstStatus());
      return s.ended ? "closed" : "open";
    }
    if (c.kind == "rest") {
      std::vector<std::string> f;
      std::stringstream in(c.input);
      std::string part;
      while (std::getline(in, part, '|')) f.push_back(part);
      while (f.size() < 4) f.emplace_back();
      const std::string token = auth::BuildRestToken(
          "http://service" + f[1], client_host_->UnixNow() / sim::kSecond,
          client_host_->UnixNow() / sim::kSecond + 3600, kDefaultAccessKey);
      std::string r = f[0] + " " + f[1] + " HTTP/1.1\r\nHost: service\r\nAuthorization: Bearer " +
                      token + "\r\n";
      if (!f[2].empty()) r += "Content-Type: " + f[2] + "\r\n";
      r += "Content-Length: " + std::to_string(f[3].size()) + "\r\n\r\n" + f[3];
      RawStream& s = NewStream();
      s.Open(r);
      Run(c.wait);
      return s.FirstStatus() != 0 ? "status:" + std::to_string(s.FirstStatus()) : "none";
    }
    if (c.kind == "token") {
      RawStream& s = NewStream();
      s.Open(Upgrade("/client/hubs/hub?access_token=" + protocol::http::PercentEncode(c.input),
                     "json.webpubsub.azure.v1"));
      Run(c.wait);
      return "status:" + std::to_string(s.FirstStatus());
    }
    if (c.kind == "json" || c.kind == "ws") {
      RawStream& s = NewStream();
      s.Open(Upgrade("/client/hubs/hub?access_token=" + Token("hub", auth::ClientType::kDefault),
                     "json.webpubsub.azure.v1"));
      Run(sim::kSecond);
      if (s.FirstStatus() != 101) return "upgrade failed: " + std::to_string(s.FirstStatus());
      const size_t before = testing::DecodeFrames(s.Frames()).size();
      s.Write(c.kind == "json" ? MaskedFrame(ws::Opcode::kText, c.input) : c.input);
      Run(c.wait);
      const std::vector<testing::DecodedFrame> frames = testing::DecodeFrames(s.Frames());
      for (size_t i = before; i < frames.size(); ++i) {
        const testing::DecodedFrame& f = frames[i];
        if (f.opcode == 0x8) {
          if (f.payload.size() < 2) return "close:none";
          return "close:" + std::to_string((static_cast<uint8_t>(f.payload[0]) << 8) |
                                           static_cast<uint8_t>(f.payload[1]));
        }
        if (f.opcode != 0x1) continue;
        nlohmann::json j = nlohmann::json::parse(f.payload, nullptr, false);
        if (j.is_object() && j.value("type", "") == "ack") {
          if (j.value("success", false)) return "ack:ok";
          return "ack:" + j["error"].value("name", "?");
        }
      }
      return s.ended ? "closed" : "open";
    }
    if (c.kind == "mqtt" || c.kind == "mqttconnect") {
      RawStream& s = NewStream();
      s.Open(Upgrade("/clients/mqtt/hubs/hub?access_token=" + Token("hub", auth::ClientType::kMqtt),
                     "mqtt"));
      Run(sim::kSecond);
      if (s.FirstStatus() != 101) return "upgrade failed: " + std::to_string(s.FirstStatus());
      size_t before = 0;
      if (c.kind == "mqtt") {
        // A valid MQTT 5 CONNECT: clean start, keep-alive 60 s, client id "bad1".
        const std::string connect("\x10\x11\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x04" "bad1", 19);
        s.Write(MaskedFrame(ws::Opcode::kBinary, connect));
        Run(sim::kSecond);
        const auto frames = testing::DecodeFrames(s.Frames());
        if (frames.empty() || frames[0].payload.size() < 4 ||
            static_cast<uint8_t>(frames[0].payload[0]) != 0x20 || frames[0].payload[3] != 0) {
          return "connect failed";
        }
        before = frames.size();
      }
      s.Write(MaskedFrame(ws::Opcode::kBinary, c.input));
      Run(c.wait);
      const auto frames = testing::DecodeFrames(s.Frames());
      for (size_t i = before; i < frames.size(); ++i) {
        const testing::DecodedFrame& f = frames[i];
        if (f.opcode == 0x8) {
          if (f.payload.size() < 2) return "close:none";
          return "close:" + std::to_string((static_cast<uint8_t>(f.payload[0]) << 8) |
                                           static_cast<uint8_t>(f.payload[1]));
        }
        if (f.opcode != 0x2 || f.payload.empty()) continue;
        const uint8_t type = static_cast<uint8_t>(f.payload[0]) >> 4;
        const std::string& p = f.payload;
        auto byte_at = [&](size_t i2) { return i2 < p.size() ? static_cast<uint8_t>(p[i2]) : 0; };
        if (type == 2) return "connack:" + Hex2(byte_at(3));
        if (type == 14) return "disconnect:" + Hex2(byte_at(2));
        if (type == 9) return "suback:" + Hex2(byte_at(p.size() - 1));
        if (type == 4) return "puback:" + Hex2(p.size() > 4 ? byte_at(4) : 0);
      }
      return s.ended ? "closed" : "open";
    }
    return "unknown kind '" + c.kind + "'";
  }

  ServiceOptions options_;
  sim::SimNetwork net_;
  sim::SimRuntime* service_host_ = nullptr;
  sim::SimRuntime* client_host_ = nullptr;
  sim::SimRuntime* bystander_host_ = nullptr;
  std::unique_ptr<Service> service_;
  auth::ConnectionString cs_;
  std::unique_ptr<clients::WsClient> bystander_;
  std::unique_ptr<clients::RestClient> rest_;
  std::vector<std::unique_ptr<RawStream>> streams_;
};

TEST_P(BadInputCatalogue, AnswersAsCataloguedAndTheBystanderLosesNothing) {
  const BadInput& c = Catalogue()[GetParam()];
  SCOPED_TRACE(c.file + ".tsv:" + std::to_string(c.line) + " " + c.name);
  EXPECT_EQ(Observe(c), c.expected);
  rest_->Call("POST", "/api/hubs/quiet/:send", "text/plain", "after", "after");
  Run(sim::kSecond);
  EXPECT_TRUE(bystander_->open());
  std::vector<std::string> got;
  for (const clients::Observation& o : bystander_->observations()) {
    if (o.kind == clients::Observation::Kind::kServerMessage) {
      got.emplace_back(o.payload.data.view());
    }
  }
  EXPECT_EQ(got, (std::vector<std::string>{"before", "after"}));
}

std::string CaseName(const ::testing::TestParamInfo<size_t>& info) {
  const BadInput& c = Catalogue()[info.param];
  std::string out = c.file + "_" + c.name;
  for (char& ch : out) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Catalogue, BadInputCatalogue,
                         ::testing::Range(size_t{0}, Catalogue().size()), CaseName);

TEST(BadInputCatalogueSize, HoldsAtLeastTwoHundredCasesInEveryCategory) {
  std::map<std::string, size_t> per_file;
  for (const BadInput& c : Catalogue()) ++per_file[c.file];
  EXPECT_GE(Catalogue().size(), 200u);
  for (const char* category : {"http", "websocket", "json", "mqtt", "auth", "rest"}) {
    EXPECT_GE(per_file[category], 10u) << category;
  }
}

}  // namespace
}  // namespace wpsim::service
