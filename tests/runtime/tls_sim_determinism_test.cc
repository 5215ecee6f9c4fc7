// TLS over the simulated network is reproducible from the seed, ciphertext included: the
// DRBG is seeded from the runtime's Rng, and mbedTLS's own time() reads the runtime clock.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sim/sim_network.h"
#include "sim/sim_runtime.h"
#include "sim/tls/tls.h"
#include "sim/trace.h"

namespace wpsim::sim {
namespace {

class Echo : public StreamHandler {
 public:
  void OnData(std::span<const uint8_t> b) override {
    got.append(AsString(b));
    if (echo_to != nullptr) echo_to->Write(b);
  }
  void OnEnd() override {}
  void OnClosed(CloseReason, std::string_view) override {}
  Stream* echo_to = nullptr;
  std::string got;
};

struct Outcome {
  uint64_t hash = 0;
  uint64_t events = 0;
  std::string received;
};

Outcome RunTlsEcho(uint64_t seed) {
  Trace trace;
  SimNetwork net(NetworkOptions{.seed = seed, .trace = &trace});
  SimRuntime& service = *net.AddHost("service").value();
  SimRuntime& client = *net.AddHost("client").value();
  Rng cert_rng = service.ForkRng("cert");
  auto cert = GenerateSelfSignedCert("service", {"service"}, cert_rng);
  auto server_config =
      TlsConfig::Server(TlsServerOptions{.cert_pem = cert->cert_pem, .key_pem = cert->key_pem});
  auto client_config =
      TlsConfig::Client(TlsClientOptions{.server_name = "service", .ca_pem = cert->cert_pem});
  std::unique_ptr<Stream> server_stream;
  std::unique_ptr<Stream> client_stream;
  Echo server_echo;
  Echo client_echo;
  auto listener = ListenTls(service, Address{"service", 443}, server_config.value(),
                            [&](std::unique_ptr<Stream> s) {
                              server_stream = std::move(s);
                              server_echo.echo_to = server_stream.get();
                              server_stream->SetHandler(&server_echo);
                            });
  EXPECT_TRUE(listener.ok());
  DialTls(client, (*listener)->address(), client_config.value(),
          [&](Result<std::unique_ptr<Stream>> r) {
            ASSERT_TRUE(r.ok()) << r.error().message;
            client_stream = std::move(r.value());
            client_stream->SetHandler(&client_echo);
            for (int i = 0; i < 20; ++i)
              client_stream->Write(AsBytes("message " + std::to_string(i)));
          });
  EXPECT_TRUE(net.RunUntilIdle().ok());
  return Outcome{trace.hash(), trace.count(), client_echo.got};
}

TEST(TlsOverSimRuntime, SameSeedGivesTheSameTraceHashAndAnotherSeedAnother) {
  const Outcome a = RunTlsEcho(17);
  const Outcome b = RunTlsEcho(17);
  const Outcome c = RunTlsEcho(18);
  EXPECT_EQ(a.received.size(),
            std::string("message 0").size() * 10 + std::string("message 10").size() * 10);
  EXPECT_GT(a.events, 10u);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.received, c.received);  // the same plaintext...
  EXPECT_NE(a.hash, c.hash);          // ...under different keys and randoms
}

}  // namespace
}  // namespace wpsim::sim
