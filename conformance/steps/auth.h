// The auth module: client credentials for the step families, the access token a member presents
// (with the scenario's token faults) and the upgrade settings WebSocket and MQTT clients share.
// (How token options are read is the binding engine's, conformance/shape/token.cc: clients and
// rest steps share it.)
#pragma once

#include <cstdint>
#include <string>

#include "conformance/driver.h"

namespace wpsim::conformance {

// Member m's access token under `t` (signed with the connection string's key unless the fault
// says otherwise; "" for a missing token).
std::string Token(RunContext& cx, uint32_t m, const TokenOptions& t);

// What WebSocket and MQTT clients share: where to dial, the Host header, the hub, the token
// (the connect step's token options over the client's) and the client's extra headers.
template <typename Options>
void FillUpgrade(RunContext& cx, Options& o, uint32_t m, const ConnectStep* c) {
  const Client& cl = cx.sc.ClientOf(m);
  o.service = cx.env.ServiceAddress();
  o.dial = cx.env.Dialer(m);
  const protocol::auth::ConnectionString& cs = cx.env.connection_string();
  o.host_header = cs.host + (cs.port ? ":" + std::to_string(*cs.port) : "");
  o.hub = cx.sc.hub;
  const TokenOptions& t = c && c->token ? *c->token : cl.token;
  o.access_token = Token(cx, m, t);
  o.token_in_header = t.via == TokenPlacement::kHeader;
  o.extra_headers = cl.headers;
}

}  // namespace wpsim::conformance
