#include "protocol/websocket/handshake.h"

#include <mbedtls/sha1.h>

#include "base/encoding.h"
#include "base/shared_bytes.h"

namespace wpsim::protocol::websocket {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// RFC 9110 token characters (subprotocol names must be tokens, RFC 6455 §4.1).
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

UpgradeOffer Reject(int status, std::string reason) {
  UpgradeOffer o;
  o.reject_status = status;
  o.reject_reason = std::move(reason);
  return o;
}

}  // namespace

std::string ComputeAcceptKey(std::string_view key) {
  std::string input(key);
  input += kGuid;
  unsigned char digest[20];
  WPSIM_ASSERT(mbedtls_sha1_ret(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                                digest) == 0);
  return Base64Encode(std::span<const uint8_t>(digest, sizeof(digest)));
}

bool UpgradeOffer::Offers(std::string_view subprotocol) const {
  for (const std::string& s : subprotocols) {
    if (s == subprotocol) return true;
  }
  return false;
}

UpgradeOffer ValidateUpgradeRequest(const http::Request& request) {
  if (request.method != "GET") return Reject(400, "a WebSocket handshake must be a GET");
  if (request.version_minor < 1) return Reject(400, "a WebSocket handshake needs HTTP/1.1");
  if (!request.headers.Has("Host")) return Reject(400, "missing Host header");
  if (!request.headers.HasToken("Upgrade", "websocket")) {
    return Reject(400, "Upgrade header does not name websocket");
  }
  if (!request.headers.HasToken("Connection", "upgrade")) {
    return Reject(400, "Connection header does not contain upgrade");
  }
  const std::vector<std::string_view> keys = request.headers.GetAll("Sec-WebSocket-Key");
  if (keys.size() != 1) return Reject(400, "expected exactly one Sec-WebSocket-Key header");
  const auto decoded = Base64Decode(keys[0]);
  if (!decoded || decoded->size() != 16) {
    return Reject(400, "Sec-WebSocket-Key is not 16 bytes in base64");
  }
  const std::vector<std::string_view> versions = request.headers.GetAll("Sec-WebSocket-Version");
  if (versions.size() != 1 || versions[0] != "13") {
    return Reject(426, "unsupported Sec-WebSocket-Version (only 13 is spoken)");
  }
  UpgradeOffer o;
  for (std::string_view p : request.headers.GetList("Sec-WebSocket-Protocol")) {
    if (!IsToken(p)) return Reject(400, "Sec-WebSocket-Protocol element is not a token");
    o.subprotocols.emplace_back(p);
  }
  o.ok = true;
  o.key = std::string(keys[0]);
  return o;
}

http::Response AcceptResponse(const UpgradeOffer& offer, std::string_view subprotocol) {
  WPSIM_ASSERT(offer.ok);
  WPSIM_ASSERT(subprotocol.empty() || offer.Offers(subprotocol));
  http::Response r;
  r.status = 101;
  r.headers.Add("Upgrade", "websocket");
  r.headers.Add("Connection", "Upgrade");
  r.headers.Add("Sec-WebSocket-Accept", ComputeAcceptKey(offer.key));
  if (!subprotocol.empty()) r.headers.Add("Sec-WebSocket-Protocol", std::string(subprotocol));
  return r;
}

http::Response RejectResponse(const UpgradeOffer& offer) {
  WPSIM_ASSERT(!offer.ok);
  http::Response r;
  r.status = offer.reject_status;
  if (offer.reject_status == 426) r.headers.Add("Sec-WebSocket-Version", "13");
  r.headers.Add("Content-Type", "text/plain; charset=utf-8");
  r.headers.Add("Connection", "close");
  r.body = offer.reject_reason;
  return r;
}

ClientHandshake::ClientHandshake(std::string host, std::string target,
                                 std::vector<std::string> subprotocols,
                                 const std::array<uint8_t, 16>& key_bytes)
    : host_(std::move(host)),
      target_(std::move(target)),
      subprotocols_(std::move(subprotocols)),
      key_(Base64Encode(key_bytes)) {
  for (const std::string& p : subprotocols_) WPSIM_ASSERT(IsToken(p));
}

ClientHandshake ClientHandshake::WithRng(std::string host, std::string target,
                                         std::vector<std::string> subprotocols, sim::Rng& rng) {
  std::array<uint8_t, 16> key{};
  for (size_t i = 0; i < 16; i += 8) {
    uint64_t r = rng.Next();
    for (size_t j = 0; j < 8; ++j) {
      key[i + j] = static_cast<uint8_t>(r);
      r >>= 8;
    }
  }
  return ClientHandshake(std::move(host), std::move(target), std::move(subprotocols), key);
}

http::Request ClientHandshake::BuildRequest(const http::Headers& extra) const {
  http::Request r;
  r.method = "GET";
  r.target = target_;
  r.headers.Add("Host", host_);
  r.headers.Add("Upgrade", "websocket");
  r.headers.Add("Connection", "Upgrade");
  r.headers.Add("Sec-WebSocket-Key", key_);
  r.headers.Add("Sec-WebSocket-Version", "13");
  if (!subprotocols_.empty()) {
    std::string list;
    for (const std::string& p : subprotocols_) {
      if (!list.empty()) list += ", ";
      list += p;
    }
    r.headers.Add("Sec-WebSocket-Protocol", std::move(list));
  }
  for (const http::Header& h : extra) r.headers.Add(h.name, h.value);
  return r;
}

Result<std::string> ClientHandshake::ValidateResponse(const http::Response& response) const {
  if (response.status != 101) {
    return MakeError("status", "server answered " + std::to_string(response.status) +
                                   " instead of 101");
  }
  if (!response.headers.HasToken("Upgrade", "websocket")) {
    return MakeError("upgrade_header", "101 without Upgrade: websocket");
  }
  if (!response.headers.HasToken("Connection", "upgrade")) {
    return MakeError("connection_header", "101 without Connection: upgrade");
  }
  const auto accept = response.headers.Get("Sec-WebSocket-Accept");
  if (!accept || *accept != ComputeAcceptKey(key_)) {
    return MakeError("accept", "Sec-WebSocket-Accept does not match our key");
  }
  if (response.headers.Has("Sec-WebSocket-Extensions")) {
    return MakeError("extension", "server selected an extension we did not offer");
  }
  const std::vector<std::string_view> chosen = response.headers.GetList("Sec-WebSocket-Protocol");
  if (chosen.empty()) return std::string();
  if (chosen.size() != 1) return MakeError("subprotocol", "server selected several subprotocols");
  for (const std::string& p : subprotocols_) {
    if (p == chosen[0]) return std::string(chosen[0]);
  }
  return MakeError("subprotocol", "server selected subprotocol '" + std::string(chosen[0]) +
                                      "' that we did not offer");
}

}  // namespace wpsim::protocol::websocket
