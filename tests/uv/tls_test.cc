// TLS streams (sim/tls) over UvRuntime loopback TCP, with certificates generated in the test.
#include "sim/tls/tls.h"

#include <gtest/gtest.h>

#include <ctime>
#include <optional>
#include <string>

#include "sim/uv/uv_runtime.h"
#include "tests/uv/uv_test_util.h"

namespace wpsim::sim {
namespace {

using testing::PatternBytes;
using testing::Recorder;

// Forwards everything to a UvRuntime but reports another wall-clock time.
class ClockShiftedRuntime final : public Runtime {
 public:
  ClockShiftedRuntime(UvRuntime& base, Nanos unix_now) : base_(base), unix_now_(unix_now) {}
  Nanos Now() const override { return base_.Now(); }
  Nanos UnixNow() const override { return unix_now_; }
  TimerId SetTimer(Nanos d, std::function<void()> fn) override {
    return base_.SetTimer(d, std::move(fn));
  }
  void CancelTimer(TimerId id) override { base_.CancelTimer(id); }
  void Post(std::function<void()> fn) override { base_.Post(std::move(fn)); }
  Rng ForkRng(std::string_view name) override { return base_.ForkRng(name); }
  Result<std::unique_ptr<Listener>> Listen(const Address& a, AcceptFn fn) override {
    return base_.Listen(a, std::move(fn));
  }
  void Dial(const Address& a, DialFn fn) override { base_.Dial(a, std::move(fn)); }
  std::string_view HostName() const override { return base_.HostName(); }
  Trace* trace() override { return base_.trace(); }

 private:
  UvRuntime& base_;
  Nanos unix_now_;
};

CertAndKey MakeCert(uint64_t seed, std::string_view cn = "wpsim test",
                    std::vector<std::string> names = {"localhost"}) {
  Rng rng(seed);
  auto cert = GenerateSelfSignedCert(cn, std::move(names), rng);
  EXPECT_TRUE(cert.ok()) << cert.error().message;
  return cert.ok() ? cert.value() : CertAndKey{};
}

std::shared_ptr<const TlsConfig> ServerConfig(const CertAndKey& cert,
                                              std::vector<std::string> alpn = {}) {
  auto config = TlsConfig::Server(
      TlsServerOptions{.cert_pem = cert.cert_pem, .key_pem = cert.key_pem, .alpn = alpn});
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? config.value() : nullptr;
}

std::shared_ptr<const TlsConfig> ClientConfig(const std::string& ca_pem,
                                              const std::string& name = "localhost",
                                              std::vector<std::string> alpn = {}) {
  auto config =
      TlsConfig::Client(TlsClientOptions{.server_name = name, .ca_pem = ca_pem, .alpn = alpn});
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? config.value() : nullptr;
}

// A TLS server on 127.0.0.1:0 whose accepted streams are kept with recorders.
struct TlsServer {
  std::unique_ptr<Listener> listener;
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::unique_ptr<Recorder>> recorders;
  bool echo = false;

  void Start(Runtime& rt, std::shared_ptr<const TlsConfig> config) {
    auto l = ListenTls(rt, Address{"127.0.0.1", 0}, std::move(config),
                       [this](std::unique_ptr<Stream> s) {
                         auto rec = std::make_unique<Recorder>();
                         Stream* raw = s.get();
                         if (echo) {
                           rec->on_data = [raw](std::span<const uint8_t> b) { raw->Write(b); };
                           rec->on_end = [raw] { raw->Close(); };
                         }
                         s->SetHandler(rec.get());
                         streams.push_back(std::move(s));
                         recorders.push_back(std::move(rec));
                       });
    ASSERT_TRUE(l.ok()) << l.error().message;
    listener = std::move(l.value());
  }
};

// Dials with TLS and runs until the dial completes; returns the stream or the error.
Result<std::unique_ptr<Stream>> DialAndWait(UvRuntime& loop, Runtime& rt, const Address& address,
                                            std::shared_ptr<const TlsConfig> config) {
  std::optional<Result<std::unique_ptr<Stream>>> result;
  DialTls(rt, address, std::move(config),
          [&](Result<std::unique_ptr<Stream>> r) { result.emplace(std::move(r)); });
  if (!loop.RunUntil([&] { return result.has_value(); }, 10 * kSecond)) {
    return MakeError("test_timeout", "dial did not finish");
  }
  return std::move(*result);
}

TEST(TlsSelfSignedCert, IsDeterministicInTheRngAndUsableAsServerIdentity) {
  const CertAndKey a = MakeCert(1);
  const CertAndKey b = MakeCert(1);
  const CertAndKey c = MakeCert(2);
  EXPECT_EQ(a.cert_pem, b.cert_pem);
  EXPECT_EQ(a.key_pem, b.key_pem);
  EXPECT_NE(a.cert_pem, c.cert_pem);
  EXPECT_NE(a.key_pem, c.key_pem);
  EXPECT_EQ(a.cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_NE(a.key_pem.find("PRIVATE KEY-----"), std::string::npos);
  EXPECT_NE(ServerConfig(a), nullptr);
  // A key that does not belong to the certificate is rejected.
  auto mismatched =
      TlsConfig::Server(TlsServerOptions{.cert_pem = a.cert_pem, .key_pem = c.key_pem});
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.error().code, "tls_config");
}

TEST(TlsSelfSignedCert, RejectsCommonNamesThatWouldInjectSubjectFields) {
  Rng rng(1);
  EXPECT_FALSE(GenerateSelfSignedCert("evil,O=x", {}, rng).ok());
  EXPECT_FALSE(GenerateSelfSignedCert("", {}, rng).ok());
}

TEST(TlsConfigErrors, AreReportedAsValues) {
  EXPECT_FALSE(TlsConfig::Client(TlsClientOptions{.server_name = "", .ca_pem = "x"}).ok());
  EXPECT_FALSE(TlsConfig::Client(TlsClientOptions{.server_name = "h", .ca_pem = "garbage"}).ok());
  EXPECT_FALSE(
      TlsConfig::Client(TlsClientOptions{.server_name = "h", .ca_file = "/nonexistent/ca.pem"})
          .ok());
  EXPECT_FALSE(TlsConfig::Server(TlsServerOptions{}).ok());
  EXPECT_TRUE(TlsConfig::Client(TlsClientOptions{.server_name = "h", .verify = false}).ok());
}

TEST(TlsConfigErrors, SystemCaStoreLoads) {
  auto config = TlsConfig::Client(TlsClientOptions{.server_name = "example.org"});
  EXPECT_TRUE(config.ok()) << config.error().message;
}

TEST(TlsStreamOverUv, HandshakesAndEchoesWithAGeneratedCertificate) {
  UvRuntime rt(UvRuntimeOptions{.seed = 11});
  const CertAndKey cert = MakeCert(3);
  TlsServer server;
  server.echo = true;
  server.Start(rt, ServerConfig(cert));
  auto client = DialAndWait(rt, rt, server.listener->address(), ClientConfig(cert.cert_pem));
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto* tls = dynamic_cast<TlsStream*>(client->get());
  ASSERT_NE(tls, nullptr);
  EXPECT_TRUE(tls->handshake_done());
  Recorder rec;
  (*client)->SetHandler(&rec);
  const std::string payload = PatternBytes(1'000'000, 4);
  for (size_t off = 0; off < payload.size(); off += 10'000) {
    ASSERT_TRUE((*client)->Write(AsBytes(std::string_view(payload).substr(off, 10'000))));
  }
  (*client)->Shutdown();
  ASSERT_TRUE(rt.RunUntil([&] { return rec.ended; }, 20 * kSecond));
  EXPECT_EQ(rec.data.size(), payload.size());
  EXPECT_TRUE(rec.data == payload);
  EXPECT_FALSE(rec.closed);
  EXPECT_EQ((*client)->PeerAddress().host, "127.0.0.1");
}

TEST(TlsStreamOverUv, WrongHostnameFailsVerification) {
  UvRuntime rt;
  const CertAndKey cert = MakeCert(3);
  TlsServer server;
  server.Start(rt, ServerConfig(cert));
  auto client = DialAndWait(rt, rt, server.listener->address(),
                            ClientConfig(cert.cert_pem, "not-localhost.example"));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, "tls_handshake_failed");
  EXPECT_NE(client.error().message.find("CN"), std::string::npos) << client.error().message;
  rt.RunFor(20 * kMillisecond);
  EXPECT_TRUE(server.streams.empty());  // the server never hands out a failed handshake
}

TEST(TlsStreamOverUv, UntrustedCertificateFailsVerification) {
  UvRuntime rt;
  const CertAndKey cert = MakeCert(3);
  const CertAndKey other = MakeCert(5);
  TlsServer server;
  server.Start(rt, ServerConfig(cert));
  auto client = DialAndWait(rt, rt, server.listener->address(), ClientConfig(other.cert_pem));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, "tls_handshake_failed");
  EXPECT_NE(client.error().message.find("not correctly signed"), std::string::npos)
      << client.error().message;
}

TEST(TlsStreamOverUv, VerificationOffAcceptsAnyCertificate) {
  UvRuntime rt;
  const CertAndKey cert = MakeCert(3);
  TlsServer server;
  server.Start(rt, ServerConfig(cert));
  auto config = TlsConfig::Client(TlsClientOptions{.server_name = "anything", .verify = false});
  ASSERT_TRUE(config.ok());
  auto client = DialAndWait(rt, rt, server.listener->address(), config.value());
  ASSERT_TRUE(client.ok()) << client.error().message;
}

TEST(TlsStreamOverUv, CertificateValidityIsJudgedByTheRuntimeClock) {
  UvRuntime rt;
  const CertAndKey cert = MakeCert(3);  // valid 1970..2099
  TlsServer server;
  server.Start(rt, ServerConfig(cert));
  ClockShiftedRuntime in_2150(rt, Nanos{5'680'000'000} * kSecond);
  auto late = DialAndWait(rt, in_2150, server.listener->address(), ClientConfig(cert.cert_pem));
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message.find("expired"), std::string::npos) << late.error().message;
  ClockShiftedRuntime in_1980(rt, Nanos{315'532'800} * kSecond);
  auto early = DialAndWait(rt, in_1980, server.listener->address(), ClientConfig(cert.cert_pem));
  EXPECT_TRUE(early.ok()) << early.error().message;
}

TEST(TlsStreamOverUv, AlpnSelectsACommonProtocol) {
  UvRuntime rt;
  const CertAndKey cert = MakeCert(3);
  TlsServer server;
  server.Start(rt, ServerConfig(cert, {"mqtt", "http/1.1"}));
  auto client = DialAndWait(rt, rt, server.listener->address(),
                            ClientConfig(cert.cert_pem, "localhost", {"http/1.1"}));
  ASSERT_TRUE(client.ok()) << client.error().message;
  EXPECT_EQ(dynamic_cast<TlsStream&>(**client).alpn_protocol(), "http/1.1");
}

TEST(TlsStreamOverUv, HalfCloseSendsEndAndTheReplyStillArrives) {
  UvRuntime rt;
  const CertAndKey cert = MakeCert(3);
  TlsServer server;
  server.Start(rt, ServerConfig(cert));
  auto client = DialAndWait(rt, rt, server.listener->address(), ClientConfig(cert.cert_pem));
  ASSERT_TRUE(client.ok()) << client.error().message;
  Recorder rec;
  (*client)->SetHandler(&rec);
  (*client)->Write(AsBytes("question"));
  (*client)->Shutdown();
  EXPECT_FALSE((*client)->Write(AsBytes("late")));
  ASSERT_TRUE(rt.RunUntil([&] { return !server.recorders.empty() && server.recorders[0]->ended; },
                          5 * kSecond));
  EXPECT_EQ(server.recorders[0]->data, "question");
  server.streams[0]->Write(AsBytes("answer"));
  server.streams[0]->Close();
  ASSERT_TRUE(rt.RunUntil([&] { return rec.ended; }, 5 * kSecond));
  EXPECT_EQ(rec.data, "answer");
  (*client)->Close();
  ASSERT_TRUE(rt.RunUntil([&] { return rt.open_connections() == 0; }, 5 * kSecond));
}

TEST(TlsStreamOverUv, ResetIsSeenByThePeer) {
  UvRuntime rt;
  const CertAndKey cert = MakeCert(3);
  TlsServer server;
  server.Start(rt, ServerConfig(cert));
  auto client = DialAndWait(rt, rt, server.listener->address(), ClientConfig(cert.cert_pem));
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE(rt.RunUntil([&] { return !server.streams.empty(); }, 5 * kSecond));
  (*client)->Reset();
  ASSERT_TRUE(rt.RunUntil([&] { return server.recorders[0]->closed; }, 5 * kSecond));
  EXPECT_EQ(server.recorders[0]->reason, CloseReason::kReset);
}

TEST(TlsStreamOverUv, SmallWritesInOneTurnBecomeOneRecordInOneFlush) {
  UvRuntime rt;
  const CertAndKey cert = MakeCert(3);
  TlsServer server;
  server.Start(rt, ServerConfig(cert));
  auto client = DialAndWait(rt, rt, server.listener->address(), ClientConfig(cert.cert_pem));
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE(rt.RunUntil([&] { return !server.streams.empty(); }, 5 * kSecond));
  rt.RunFor(5 * kMillisecond);
  const UvStats before = rt.stats();
  bool written = false;
  rt.Post([&] {
    for (int i = 0; i < 100; ++i) (*client)->Write(AsBytes("0123456789"));
    written = true;
  });
  ASSERT_TRUE(rt.RunUntil([&] { return written && server.recorders[0]->data.size() == 1000; },
                          5 * kSecond));
  const UvStats after = rt.stats();
  // One record: 1000 bytes plus one header, IV and tag, not 100 of them.
  EXPECT_LT(after.bytes_written - before.bytes_written, 1100u);
  // The client's one flush (the server wrote nothing).
  EXPECT_EQ(after.flushes - before.flushes, 1u);
}

TEST(TlsStreamOverUv, DestroyingAfterCloseDuringTheHandshakeStillDeliversTheQueuedBytes) {
  UvRuntime rt;
  const CertAndKey cert = MakeCert(3);
  TlsServer server;
  server.Start(rt, ServerConfig(cert));
  std::unique_ptr<Stream> tcp;
  rt.Dial(server.listener->address(), [&](Result<std::unique_ptr<Stream>> r) {
    ASSERT_TRUE(r.ok());
    tcp = std::move(r.value());
  });
  ASSERT_TRUE(rt.RunUntil([&] { return tcp != nullptr; }, 5 * kSecond));
  Rng rng = TlsRngFor(rt, *tcp);
  auto tls = std::make_unique<TlsStream>(rt, std::move(tcp), ClientConfig(cert.cert_pem), rng);
  EXPECT_FALSE(tls->handshake_done());
  ASSERT_TRUE(tls->Write(AsBytes("sent before the handshake")));
  tls->Close();
  tls.reset();
  ASSERT_TRUE(rt.RunUntil([&] { return !server.recorders.empty() && server.recorders[0]->ended; },
                          5 * kSecond));
  EXPECT_EQ(server.recorders[0]->data, "sent before the handshake");
  EXPECT_FALSE(server.recorders[0]->closed);
}

// An inner stream that only records what is written to it.
class RecordingStream final : public Stream {
 public:
  void SetHandler(StreamHandler*) override {}
  bool Write(std::span<const uint8_t> data) override {
    written.append(AsString(data));
    return true;
  }
  bool Write(SharedBytes data) override { return Write(data.span()); }
  bool Writable() const override { return true; }
  size_t BufferedBytes() const override { return 0; }
  void Shutdown() override {}
  void Close() override {}
  void Reset() override {}
  void SetReadPaused(bool) override {}
  const Address& LocalAddress() const override { return address; }
  const Address& PeerAddress() const override { return address; }
  uint64_t Id() const override { return 1; }
  std::string written;
  Address address{"recorder", 1};
};

TEST(TlsStreamClock, HelloRandomCarriesTheRuntimeClockNotTheWallClock) {
  UvRuntime base;
  // 2001-09-09T01:46:40Z, far from the machine's real time.
  ClockShiftedRuntime rt(base, Nanos{1'000'000'000} * kSecond);
  auto inner = std::make_unique<RecordingStream>();
  RecordingStream* recorder = inner.get();
  auto config = TlsConfig::Client(TlsClientOptions{.server_name = "x", .verify = false});
  ASSERT_TRUE(config.ok());
  TlsStream tls(rt, std::move(inner), config.value(), Rng(1));
  ASSERT_TRUE(base.RunUntil([&] { return recorder->written.size() > 43; }, 5 * kSecond));
  // Record header (5), handshake header (4), client_version (2), then random.gmt_unix_time.
  const auto* b = reinterpret_cast<const uint8_t*>(recorder->written.data());
  ASSERT_EQ(b[0], 22);  // handshake record
  ASSERT_EQ(b[5], 1);   // ClientHello
  const uint32_t gmt_unix_time =
      (uint32_t{b[11]} << 24) | (uint32_t{b[12]} << 16) | (uint32_t{b[13]} << 8) | uint32_t{b[14]};
  EXPECT_EQ(gmt_unix_time, 1'000'000'000u);
  // Outside calls into mbedTLS, time() is the wall clock.
  EXPECT_GT(time(nullptr), 1'600'000'000);
}

TEST(TlsStreamOverUv, HandshakeAgainstASilentPeerTimesOut) {
  UvRuntime rt;
  std::vector<std::unique_ptr<Stream>> silent;
  auto listener = rt.Listen(Address{"127.0.0.1", 0},
                            [&](std::unique_ptr<Stream> s) { silent.push_back(std::move(s)); });
  ASSERT_TRUE(listener.ok());
  auto config = TlsConfig::Client(TlsClientOptions{
      .server_name = "x", .verify = false, .handshake_timeout = 100 * kMillisecond});
  ASSERT_TRUE(config.ok());
  const Nanos start = rt.Now();
  auto client = DialAndWait(rt, rt, (*listener)->address(), config.value());
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, "tls_handshake_failed");
  EXPECT_NE(client.error().message.find("timed out"), std::string::npos);
  EXPECT_GE(rt.Now() - start, 100 * kMillisecond);
}

TEST(TlsStreamOverUv, PausedTlsReaderPushesBackOnTheWriter) {
  UvRuntime rt;
  const CertAndKey cert = MakeCert(3);
  TlsServer server;
  server.Start(rt, ServerConfig(cert));
  auto client = DialAndWait(rt, rt, server.listener->address(), ClientConfig(cert.cert_pem));
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE(rt.RunUntil([&] { return !server.streams.empty(); }, 5 * kSecond));
  Stream& reader = *server.streams[0];
  Recorder& reader_rec = *server.recorders[0];
  reader.SetReadPaused(true);
  Recorder writer_rec;
  (*client)->SetHandler(&writer_rec);
  uint64_t sent = 0, sent_sum = 0;
  Rng rng(8);
  std::vector<uint8_t> block(32 * 1024);
  auto pump = [&] {
    while ((*client)->Writable() && sent < (24u << 20)) {
      for (auto& b : block) {
        b = static_cast<uint8_t>(rng.Next());
        sent_sum = sent_sum * 31 + b;
      }
      (*client)->Write(block);
      sent += block.size();
    }
  };
  writer_rec.on_writable = pump;
  pump();
  // Stuck: unwritable, and nothing more written for 200 ms (a slow build may spend longer than
  // that producing one burst, so progress restarts the clock).
  Nanos stuck_since = rt.Now();
  uint64_t sent_then = sent;
  ASSERT_TRUE(rt.RunUntil(
      [&] {
        if ((*client)->Writable() || sent != sent_then) {
          sent_then = sent;
          stuck_since = rt.Now();
          return false;
        }
        return rt.Now() - stuck_since > 200 * kMillisecond;
      },
      30 * kSecond));
  EXPECT_LT(sent, 24u << 20);
  uint64_t received = 0, received_sum = 0;
  reader_rec.on_data = [&](std::span<const uint8_t> b) {
    for (uint8_t c : b) received_sum = received_sum * 31 + c;
    received += b.size();
  };
  reader.SetReadPaused(false);
  ASSERT_TRUE(rt.RunUntil([&] { return sent >= (24u << 20) && received == sent; }, 60 * kSecond));
  EXPECT_EQ(received_sum, sent_sum);
  EXPECT_GT(writer_rec.writable_calls, 0);
}

}  // namespace
}  // namespace wpsim::sim
