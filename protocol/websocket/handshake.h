// The WebSocket opening handshake (RFC 6455 §4) on top of protocol/http.
//
// Server: ValidateUpgradeRequest() checks a parsed request (GET, HTTP/1.1, Host, Upgrade:
// websocket, Connection: upgrade, a Sec-WebSocket-Key of 16 base64 bytes, version 13) and
// lists the offered subprotocols; the owner picks one (or none) and answers with
// AcceptResponse() — handed to http::ServerConnection::AcceptUpgrade — or with
// RejectResponse() (400, or 426 with "Sec-WebSocket-Version: 13" for another version).
// Client: ClientHandshake builds the upgrade request (key from 16 caller bytes or a sim::Rng)
// and validates the 101 answer: status, Upgrade/Connection tokens, the Accept value, and that
// a chosen subprotocol was one we offered and no extension was forced on us.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "protocol/http/message.h"
#include "sim/rng.h"

namespace wpsim::protocol::websocket {

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), RFC 6455 §4.2.2.
std::string ComputeAcceptKey(std::string_view key);

struct UpgradeOffer {
  bool ok = false;
  // When !ok: the status to answer (400 or 426) and a sentence saying why.
  int reject_status = 0;
  std::string reject_reason;
  // When ok:
  std::string key;                        // Sec-WebSocket-Key as sent
  std::vector<std::string> subprotocols;  // Sec-WebSocket-Protocol elements, in offer order

  bool Offers(std::string_view subprotocol) const;
};

UpgradeOffer ValidateUpgradeRequest(const http::Request& request);
// The 101 response. `subprotocol` must be empty (none chosen) or one of offer.subprotocols.
http::Response AcceptResponse(const UpgradeOffer& offer, std::string_view subprotocol = {});
// 400 / 426 for a failed offer (426 carries Sec-WebSocket-Version: 13), with Connection: close.
http::Response RejectResponse(const UpgradeOffer& offer);

class ClientHandshake {
 public:
  // `host` is the Host header value ("localhost:8080"); `target` the request target
  // ("/client/hubs/chat?access_token=..."); `key_bytes` 16 bytes drawn by the caller.
  ClientHandshake(std::string host, std::string target, std::vector<std::string> subprotocols,
                  const std::array<uint8_t, 16>& key_bytes);
  // The key's 16 bytes come from `rng` (two draws).
  static ClientHandshake WithRng(std::string host, std::string target,
                                 std::vector<std::string> subprotocols, sim::Rng& rng);

  // The GET request; `extra` headers (Authorization, Origin, ...) are appended.
  http::Request BuildRequest(const http::Headers& extra = {}) const;
  // Checks the server's answer; returns the chosen subprotocol ("" when none). Error codes:
  // "status" (not 101; message has it), "upgrade_header", "connection_header", "accept",
  // "subprotocol" (not one we offered), "extension" (we offered none).
  Result<std::string> ValidateResponse(const http::Response& response) const;

  const std::string& key() const { return key_; }
  const std::vector<std::string>& subprotocols() const { return subprotocols_; }

 private:
  std::string host_;
  std::string target_;
  std::vector<std::string> subprotocols_;
  std::string key_;
};

}  // namespace wpsim::protocol::websocket
