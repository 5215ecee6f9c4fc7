// Web PubSub codec micro-benchmarks: request decode, group-message encode for both JSON
// subprotocols (the reliable one split into a shared tail and a per-receiver head), and JWT
// verification. Results are recorded in docs/performance.md ("Web PubSub codecs").
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "protocol/auth/connection_string.h"
#include "protocol/auth/jwt.h"
#include "protocol/auth/tokens.h"
#include "protocol/webpubsub/client_requests.h"
#include "protocol/webpubsub/service_messages.h"

namespace {

namespace wps = wpsim::protocol::webpubsub;
namespace auth = wpsim::protocol::auth;

// 64 bytes each.
constexpr std::string_view kSendText =
    R"({"type":"sendToGroup","group":"g1","dataType":"text","data":"h"})";
constexpr std::string_view kSendJson =
    R"({"type":"sendToGroup","group":"g1","data":{"msg":"hello world"}})";
static_assert(kSendText.size() == 64 && kSendJson.size() == 64);

// A 64-byte text payload, as a publisher's message would carry.
wps::Payload Payload64() { return wps::Payload::Text(std::string(64, 'x')); }

void BM_DecodeSendToGroupText64(benchmark::State& state) {
  for (auto _ : state) {
    auto r = wps::DecodeRequest(kSendText);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kSendText.size()));
}
BENCHMARK(BM_DecodeSendToGroupText64);

void BM_DecodeSendToGroupJson64(benchmark::State& state) {
  for (auto _ : state) {
    auto r = wps::DecodeRequest(kSendJson);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kSendJson.size()));
}
BENCHMARK(BM_DecodeSendToGroupJson64);

// Once per published message, json.webpubsub.azure.v1: the bytes every subscriber shares.
void BM_EncodeGroupMessageJson(benchmark::State& state) {
  const wps::Payload payload = Payload64();
  for (auto _ : state) {
    wpsim::SharedBytes m = wps::EncodeGroupMessage("g1", "user1", payload);
    benchmark::DoNotOptimize(m.data());
  }
}
BENCHMARK(BM_EncodeGroupMessageJson);

// Once per published message, reliable: the shared tail.
void BM_EncodeGroupMessageReliableTail(benchmark::State& state) {
  const wps::Payload payload = Payload64();
  for (auto _ : state) {
    wps::SequencedMessage m = wps::EncodeSequencedGroupMessage("g1", "user1", payload);
    benchmark::DoNotOptimize(m.tail().data());
  }
}
BENCHMARK(BM_EncodeGroupMessageReliableTail);

// Per receiver, reliable: full message into a reusable buffer (no allocation).
void BM_ReliablePerReceiverRenderInto(benchmark::State& state) {
  const wps::SequencedMessage m = wps::EncodeSequencedGroupMessage("g1", "user1", Payload64());
  std::string buffer;
  uint64_t sequence_id = 1000;
  for (auto _ : state) {
    m.RenderInto(++sequence_id, buffer);
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReliablePerReceiverRenderInto);

// Per receiver, reliable, gather-write style: only the head is written; the tail is shared.
void BM_ReliablePerReceiverHeadOnly(benchmark::State& state) {
  const wps::SequencedMessage m = wps::EncodeSequencedGroupMessage("g1", "user1", Payload64());
  char head[wps::kSequenceHeadBytesMax];
  uint64_t sequence_id = 1000;
  for (auto _ : state) {
    const size_t n = wps::SequencedMessage::WriteHead(++sequence_id, head);
    wpsim::SharedBytes tail = m.tail();
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(tail.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReliablePerReceiverHeadOnly);

// Baseline the split avoids: re-serialising the whole message for every receiver.
void BM_ReliablePerReceiverNaiveReencode(benchmark::State& state) {
  const wps::Payload payload = Payload64();
  uint64_t sequence_id = 1000;
  for (auto _ : state) {
    wpsim::SharedBytes m =
        wps::EncodeSequencedGroupMessage("g1", "user1", payload).Render(++sequence_id);
    benchmark::DoNotOptimize(m.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReliablePerReceiverNaiveReencode);

// One publish to 10,000 reliable subscribers: encode once, render per receiver.
void BM_ReliableFanOut10k(benchmark::State& state) {
  const wps::Payload payload = Payload64();
  std::string buffer;
  for (auto _ : state) {
    const wps::SequencedMessage m = wps::EncodeSequencedGroupMessage("g1", "user1", payload);
    for (uint64_t receiver = 0; receiver < 10000; ++receiver) {
      m.RenderInto(receiver + 1, buffer);
      benchmark::DoNotOptimize(buffer.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_ReliableFanOut10k);

// One publish to 10,000 json.webpubsub.azure.v1 subscribers: encode once, share per receiver.
void BM_JsonFanOut10k(benchmark::State& state) {
  const wps::Payload payload = Payload64();
  std::vector<wpsim::SharedBytes> queues(10000);
  for (auto _ : state) {
    const wpsim::SharedBytes m = wps::EncodeGroupMessage("g1", "user1", payload);
    for (auto& q : queues) q = m;
    benchmark::DoNotOptimize(queues.data());
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_JsonFanOut10k);

std::string SdkLikeToken(const auth::ConnectionString& cs) {
  auth::ClientTokenOptions o;
  o.user_id = "user1";
  o.roles = std::vector<std::string>{"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"};
  o.groups = std::vector<std::string>{"group1"};
  o.issued_at = 1767225600;
  o.expires_at = o.issued_at + 3600;
  return auth::BuildClientToken(cs, "chat", o);
}

void BM_JwtVerifyClientToken(benchmark::State& state) {
  const auto cs = auth::ParseConnectionString(
      "Endpoint=https://wpsim.webpubsub.azure.com;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;");
  const std::string token = SdkLikeToken(*cs);
  auth::VerifyOptions o;
  o.now_unix_seconds = 1767225700;
  o.clock_skew_seconds = 300;
  o.audiences = {auth::ClientAudience(*cs, "chat", auth::ClientType::kDefault)};
  o.audience_match = auth::AudienceMatch::kCaseInsensitive;
  for (auto _ : state) {
    auto r = auth::Verify(token, cs->access_key, o);
    if (!r.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_JwtVerifyClientToken);

void BM_JwtBuildClientToken(benchmark::State& state) {
  const auto cs = auth::ParseConnectionString(
      "Endpoint=https://wpsim.webpubsub.azure.com;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;");
  for (auto _ : state) {
    std::string token = SdkLikeToken(*cs);
    benchmark::DoNotOptimize(token.data());
  }
}
BENCHMARK(BM_JwtBuildClientToken);

}  // namespace
