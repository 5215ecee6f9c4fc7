// The wire family: steps below the protocol clients, portable to real targets (the bytes go over
// the simulated network or a real socket alike), in the manner of Autobahn's and h2spec's cases.
// http_request writes a hand-made HTTP/1.1 request (or a WebSocket upgrade built from a client's
// settings); ws_frame writes individual WebSocket frames on that upgraded connection; mqtt_packet
// writes raw MQTT bytes in a binary frame (MQTT over WebSocket). Their inline `expect` checks
// what arrives next on that connection, one event per check, in order (the wire expectation).
//
// Types: part of the scenario model (scenario.h includes this); the rest: conformance/steps/wire.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conformance/scenario_types.h"

namespace wpsim::conformance {

struct WireHeader {
  std::string name;  // as written (case kept)
  std::string value;
};

struct HttpRequestStep {
  ClientRef clients;  // one member: its wire connection (and, for upgrades, its settings)
  bool upgrade = false;  // a WebSocket upgrade request built from the client's settings
  std::optional<std::vector<std::string>> subprotocols;  // upgrade: override the client's offer
  std::optional<TokenOptions> token;                     // upgrade / rest_auth: token options
  bool rest_auth = false;  // Authorization: Bearer <a REST token whose aud is the target's URL>
  std::string method = "GET";
  std::string target;  // {hub} and {token} substituted; upgrade default: the client's URL
  std::vector<WireHeader> headers;        // after the defaults; a same-named default is replaced
  std::vector<std::string> omit_headers;  // defaults not sent (Host, Content-Length, Upgrade...)
  std::optional<std::string> body;
  std::optional<std::string> raw;  // the whole request, verbatim ({host}, {hub}, {token})
  uint32_t pipeline = 1;           // the request written this many times in one write
  std::optional<uint64_t> send_bytes;  // write only the first n bytes, then stall
  bool same_connection = false;  // write on the member's open wire connection, not a new one
};

struct WireFrameArgs {
  bool fin = true;
  uint8_t rsv = 0;
  uint8_t opcode = 1;
  bool mask = true;
  std::string payload;
  std::optional<uint64_t> length;  // announced length (default: the payload's)
  std::optional<std::string> raw;  // the whole frame's bytes, verbatim (the rest is ignored)
};

struct WsFrameStep {
  ClientRef clients;
  std::vector<WireFrameArgs> frames;  // written in one go (fragments, interleaved controls)
};

struct MqttPacketStep {
  ClientRef clients;
  std::string bytes;  // one binary frame holding these bytes
};

// The checks of a wire expectation.
struct WireHeaderCheck {
  std::string name;
  enum class Kind { kEquals, kContains, kPresent, kAbsent } kind = Kind::kEquals;
  std::string value;
};

struct WireResponseCheck {
  std::vector<int> statuses;  // any of; empty: any status
  std::vector<WireHeaderCheck> headers;
  std::optional<std::string> body;
  std::optional<std::string> body_contains;
  std::vector<std::pair<std::string, nlohmann::json>> json;  // JSON pointer -> value
};

struct WireFrameCheck {
  std::optional<uint8_t> opcode;
  std::optional<bool> fin;
  std::optional<std::string> payload;
  std::optional<std::string> payload_contains;
  // Close frames: `code` (0: a close without a status code) and the reason, exact or part.
  std::optional<uint16_t> close_code;
  std::optional<std::string> reason;
  std::optional<std::string> reason_contains;
};

struct WireMqttCheck {
  std::optional<uint8_t> type;   // control packet type 1..15
  std::optional<uint8_t> flags;  // the low four bits of the fixed header
  std::optional<uint16_t> packet_id;
  std::vector<uint8_t> reason_codes;  // CONNACK / PUBACK / DISCONNECT: one; SUBACK: each
  std::optional<bool> session_present;
  std::vector<uint8_t> properties_present;  // 5.0 property identifiers
  std::vector<uint8_t> properties_absent;
  bool v5 = true;  // whether the packet carries 5.0 properties
};

// What a wire step expects next on its member's wire connection: each check judges exactly one
// event (responses, frames, MQTT packets in that order), the events that arrived after the step
// was issued, first to last; `nothing_within` then requires silence; `ends` the end of the stream.
struct WireExpect {
  ClientRef clients;
  std::vector<WireResponseCheck> responses;
  std::vector<WireFrameCheck> frames;
  std::vector<WireMqttCheck> packets;
  std::optional<int64_t> nothing_within_ns;
  bool ends = false;
};

// How its steps run and its expectation is judged (conformance/driver.h).
void RegisterWireFamily(FamilyRegistry& r);

}  // namespace wpsim::conformance
