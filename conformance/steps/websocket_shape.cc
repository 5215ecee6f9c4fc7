// The connection family's YAML shape: connect, disconnect, kill, ping and send_raw (every
// WebSocket-based client kind; MQTT CONNECT/DISCONNECT options included).
#include "conformance/shape/steps.h"
#include "conformance/steps/mqtt_shape.h"

namespace wpsim::conformance::shape {
namespace {

constexpr std::initializer_list<ClientKind> kConnections = {
    ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable, ClientKind::kMqtt311,
    ClientKind::kMqtt5};
constexpr std::initializer_list<ClientKind> kMqtt = {ClientKind::kMqtt311, ClientKind::kMqtt5};

nlohmann::json IntRange(int min, int max) {
  return {{"type", "integer"}, {"minimum", min}, {"maximum", max}};
}

const Table<ConnectStep>& ConnectTable() {
  using S = ConnectStep;
  static const Table<S> t = {
      Opt("subprotocols", &S::subprotocols, SubprotocolList(),
          "override the offered subprotocols ([] offers none)"),
      Opt("token", &S::token, TokenValue(false), "override the client's token options"),
      Opt("clean_start", &S::clean_start, Boolean(), "MQTT Clean Start / Clean Session"),
      Opt("session_expiry", &S::session_expiry_s, SecondsValue(true),
          "MQTT 5.0 Session Expiry Interval"),
      Opt("keepalive", &S::keepalive_s, KeepaliveValue(), "MQTT Keep Alive"),
      Declared<S>("expect_status", "integer 400..599", IntRange(400, 599),
                  "check: the upgrade is refused with this status"),
      Declared<S>("expect_connack", "reason code or mapping",
                  {{"anyOf", {IntRange(0, 255), {{"type", "object"}}}}},
                  "check: the CONNACK (a reason code, or {reason_code, session_present, "
                  "assigned_client_id, "
                  "user_properties})"),
      Declared<S>("expect_close", "integer 1000..4999", IntRange(1000, 4999),
                  "check: the connection is closed with this code"),
  };
  return t;
}

bool ReadConnect(StepInput& in) {
  Context& c = in.c;
  ConnectStep s;
  if (!ReadClientsStep(in, ConnectTable(), kConnections, s)) return false;
  if (in.map) {
    const Map& m = *in.map;
    if (m.Has("clean_start") || m.Has("session_expiry") || m.Has("keepalive")) {
      c.CheckKinds(s.clients, m.node(), kMqtt, "clean_start/session_expiry/keepalive");
    }
    c.RequireMqtt5(s.clients, m, {"session_expiry"});
    if (auto v = m.Get("expect_status"))
      InlineClose(in, *v, s.clients, "expect_status", 400, 599, true);
    if (auto v = m.Get("expect_connack")) {
      c.CheckKinds(s.clients, *v, kMqtt, "expect_connack");
      if (auto e = ReadConnack(c, *v, s.clients)) in.Inline(*v, *e);
    }
    if (auto v = m.Get("expect_close"))
      InlineClose(in, *v, s.clients, "expect_close", 1000, 4999, false);
  }
  in.step.args = std::move(s);
  return true;
}

const Table<DisconnectStep>& DisconnectTable() {
  using S = DisconnectStep;
  static const Table<S> t = {
      Custom<S>("code", "close code or none",
                {{"anyOf", {IntRange(1000, 4999), {{"const", "none"}}}}},
                "WebSocket close code (default 1000; none sends no status)",
                [](Context& c, const Node& v, S& s) {
                  if (v.IsScalar() && v.Scalar() == "none") {
                    s.code.reset();
                    s.send_code = false;
                  } else if (auto code = c.Uint(v, "close code", 1000, 4999)) {
                    s.code = static_cast<uint16_t>(*code);
                  }
                }),
      Opt("reason", &S::reason, String(), "close reason"),
      Opt("reason_code", &S::mqtt_reason_code, Integer(0, 255), "MQTT 5.0 DISCONNECT reason code"),
      Opt("session_expiry", &S::session_expiry_s, SecondsValue(true),
          "MQTT 5.0 Session Expiry Interval"),
      Opt("user_properties", &S::user_properties, UserPropertiesValue(),
          "MQTT 5.0 user properties"),
  };
  return t;
}

bool ReadDisconnect(StepInput& in) {
  DisconnectStep s;
  s.code = 1000;
  if (!ReadClientsStep(in, DisconnectTable(), kConnections, s)) return false;
  if (in.map) {
    const Map& m = *in.map;
    if (m.Has("reason_code") || m.Has("session_expiry") || m.Has("user_properties")) {
      in.c.CheckKinds(s.clients, m.node(), kMqtt, "reason_code/session_expiry/user_properties");
    }
    in.c.RequireMqtt5(s.clients, m, {"reason_code", "session_expiry", "user_properties"});
  }
  in.step.args = std::move(s);
  return true;
}

// Steps that take clients only.
template <typename S>
bool ReadClientsOnly(StepInput& in, std::initializer_list<ClientKind> kinds) {
  auto ref = in.ClientsOf({});
  if (!ref) return false;
  in.c.CheckKinds(*ref, in.value, kinds, in.what());
  in.step.args = S{*ref};
  return true;
}
bool ReadKill(StepInput& in) { return ReadClientsOnly<KillStep>(in, kConnections); }
bool ReadPing(StepInput& in) {
  return ReadClientsOnly<PingStep>(in, {ClientKind::kJson, ClientKind::kReliable});
}

const Table<SendRawStep>& SendRawTable() {
  using S = SendRawStep;
  static const Table<S> t = {
      Declared<S>("client", "client reference", SchemaRef("clientRef"), "the sending clients",
                  true),
      Opt("text", &S::bytes, String(), "a text frame with this text"),
      Custom<S>("binary", "base64", {{"type", "string"}}, "a binary frame with these bytes",
                [](Context& c, const Node& v, S& s) {
                  s.binary = true;
                  if (auto b = c.Base64Bytes(v, "binary")) s.bytes = *b;
                }),
  };
  return t;
}

bool ReadSendRaw(StepInput& in) {
  Context& c = in.c;
  std::optional<ClientRef> ref;
  if (!in.NeedMapWithClient(KeysOf(SendRawTable()), ref)) return false;
  const Map& m = *in.map;
  SendRawStep s;
  if (m.Has("text") && m.Has("binary")) {
    c.Error(*m.Key("binary"), "give either 'text' or 'binary', not both");
  } else if (!m.Has("text") && !m.Has("binary")) {
    c.Error(m.node(), "send_raw needs 'text' or 'binary'");
  } else {
    ReadFields(c, m, SendRawTable(), s);
  }
  if (!ref) return false;
  s.clients = *ref;
  c.CheckKinds(s.clients, *m.Get("client"),
               {ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable}, in.what());
  in.step.args = std::move(s);
  return true;
}

}  // namespace

std::vector<StepShape> WebSocketSteps() {
  return {
      {"connect",
       StepKind::kConnect,
       ReadConnect,
       "open the connection (completes when it is established or refused); overrides apply to this "
       "connect only",
       WithClient(DocsOf(ConnectTable())),
       {"CONNECT"}},
      {"disconnect",
       StepKind::kDisconnect,
       ReadDisconnect,
       "clean close (close frame, MQTT DISCONNECT)",
       WithClient(DocsOf(DisconnectTable())),
       {"DISCONNECT"}},
      {"kill",
       StepKind::kKill,
       ReadKill,
       "abrupt: no close frame, no DISCONNECT",
       WithClient({}),
       {}},
      {"ping",
       StepKind::kPing,
       ReadPing,
       "JSON kinds: a ping request (pong expected)",
       WithClient({}),
       {}},
      {"send_raw",
       StepKind::kSendRaw,
       ReadSendRaw,
       "a raw frame: plain clients' messages, malformed JSON requests",
       DocsOf(SendRawTable()),
       {}},
  };
}

}  // namespace wpsim::conformance::shape
