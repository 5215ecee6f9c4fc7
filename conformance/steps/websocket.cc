// The websocket family: how connect, disconnect, kill, ping and send_raw are read (every
// WebSocket-based client kind; MQTT CONNECT/DISCONNECT options included) and run, and how the
// closed and connected expectations are judged.
#include "conformance/steps/websocket.h"

#include <algorithm>

#include "conformance/driver.h"
#include "conformance/shape/steps.h"
#include "conformance/steps/auth.h"
#include "conformance/steps/internal.h"
#include "protocol/http/url.h"

namespace wpsim::conformance::shape {
namespace {

constexpr std::initializer_list<ClientKind> kConnections = {
    ClientKind::kWebSocket,       ClientKind::kJson,  ClientKind::kReliable,
    ClientKind::kMqtt311,         ClientKind::kMqtt5, ClientKind::kProtobuf,
    ClientKind::kReliableProtobuf};
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
      Opt("auto_ack", &S::auto_ack, Boolean(),
          "MQTT: answer incoming QoS 1/2 at once (overrides the client's)"),
      Opt("auto_ping", &S::auto_ping, Boolean(),
          "MQTT: PINGREQ every Keep Alive while idle (overrides the client's)"),
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
    if (m.Has("clean_start") || m.Has("session_expiry") || m.Has("keepalive") ||
        m.Has("auto_ack") || m.Has("auto_ping")) {
      c.CheckKinds(s.clients, m.node(), kMqtt,
                   "clean_start/session_expiry/keepalive/auto_ack/auto_ping");
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
  return ReadClientsOnly<PingStep>(in, {ClientKind::kJson, ClientKind::kReliable,
                                        ClientKind::kProtobuf, ClientKind::kReliableProtobuf});
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
               {ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable,
                ClientKind::kProtobuf, ClientKind::kReliableProtobuf},
               in.what());
  in.step.args = std::move(s);
  return true;
}

}  // namespace

}  // namespace wpsim::conformance::shape

namespace wpsim::conformance {

using clients::Observation;

// ---------------------------------------------------------------------------------------------
// The member's WebSocket client (also reliable.cc's, through conformance/steps/internal.h)

clients::WsClientOptions WsOptions(RunContext& cx, uint32_t m, const ConnectStep* c) {
  const Client& cl = cx.sc.ClientOf(m);
  clients::WsClientOptions o;
  switch (cl.kind) {
    case ClientKind::kWebSocket:
      o.kind = clients::WsClientKind::kRaw;
      break;
    case ClientKind::kReliable:
      o.kind = clients::WsClientKind::kReliable;
      break;
    case ClientKind::kProtobuf:
      o.kind = clients::WsClientKind::kProtobuf;
      break;
    case ClientKind::kReliableProtobuf:
      o.kind = clients::WsClientKind::kReliableProtobuf;
      break;
    default:
      o.kind = clients::WsClientKind::kJson;
      break;
  }
  FillUpgrade(cx, o, m, c);
  o.subprotocols = c && c->subprotocols ? c->subprotocols : cl.subprotocols;
  std::string q;
  for (const auto& [k, v] : cl.query) {
    if (!q.empty()) q += "&";
    q += protocol::http::PercentEncode(k) + "=" + protocol::http::PercentEncode(v);
  }
  o.extra_query = q;
  o.auto_sequence_ack = cl.sequence_ack == SequenceAckMode::kAuto;
  o.auto_recover = cx.members[m].auto_recover;
  o.record_observations = false;  // the runner's evaluators keep what they need
  return o;
}

void Attach(RunContext& cx, uint32_t m, std::unique_ptr<clients::WsClient> client) {
  MemberState& ms = cx.members[m];
  if (ms.ws) {
    ms.ws->on_observation = nullptr;
    ms.old_ws.push_back(std::move(ms.ws));
  }
  ms.ws = std::move(client);
  ms.ws->on_observation = cx.ObserverFor(m);
}

namespace {

std::function<bool()> Connect(RunContext& cx, uint32_t m, const ConnectStep& c, const Step& s) {
  if (IsMqtt(cx.sc.ClientOf(m).kind)) return ConnectMqtt(cx, m, c, s);
  MemberState& ms = cx.members[m];
  Attach(cx, m,
         std::make_unique<clients::WsClient>(cx.env.ClientRuntime(m), cx.sc.members[m].name,
                                             WsOptions(cx, m, &c)));
  ms.transport++;
  ms.connect_issued_ns = cx.env.Now();
  const bool json = cx.sc.ClientOf(m).kind != ClientKind::kWebSocket;
  std::function<bool()> done = cx.Until(m, [json](const ObservedEvent& ev) {
    const Observation::Kind k = ev.observation.kind;
    return TransportEnded(ev.observation) || k == Observation::Kind::kConnected ||
           (!json && k == Observation::Kind::kOpened);
  });
  ms.ws->Connect();
  cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", "connect");
  return done;
}

// ---------------------------------------------------------------------------------------------
// Steps

void IssueConnect(RunContext& cx, const Step& s, const IterContext&, PendingList& out) {
  const auto& c = s.As<ConnectStep>();
  for (uint32_t m : c.clients.members) out.push_back(cx.Awaiting(s, Connect(cx, m, c, s)));
}

void IssueDisconnect(RunContext& cx, const Step& s, const IterContext&, PendingList& out) {
  const auto& d = s.As<DisconnectStep>();
  const int64_t now = cx.env.Now();
  for (uint32_t m : d.clients.members) {
    MemberState& ms = cx.members[m];
    if (ms.mqtt) {
      DisconnectMqtt(cx, s.id, m, d, out);
      continue;
    }
    if (!ms.ws) continue;
    const bool was_open = ms.ws->open();
    std::function<bool()> closed = cx.Until(m, [](const ObservedEvent& ev) {
      return ev.observation.kind == Observation::Kind::kClosed;
    });
    uint16_t code = d.send_code ? d.code.value_or(1000) : 1005;
    ms.ws->Close(code, d.reason);
    cx.Arrow(now, cx.sc.members[m].name, "service", "close " + std::to_string(code));
    if (was_open) out.push_back(cx.Awaiting(s, std::move(closed)));
  }
}

void IssueKill(RunContext& cx, const Step& s, const IterContext&, PendingList&) {
  for (uint32_t m : s.As<KillStep>().clients.members) {
    if (cx.members[m].ws) cx.members[m].ws->Kill();
    if (cx.members[m].mqtt) cx.members[m].mqtt->Kill();
    cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", "kill");
  }
}

void IssuePing(RunContext& cx, const Step& s, const IterContext&, PendingList& out) {
  for (uint32_t m : s.As<PingStep>().clients.members) {
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    std::shared_ptr<Waiter> pong = cx.Wait(
        m, [](const ObservedEvent& ev) { return ev.observation.kind == Observation::Kind::kPong; });
    if (ms.ws->Ping().ok()) {
      out.push_back(cx.Awaiting(s, [pong] { return pong->done; }));
    } else {
      pong->done = true;  // nothing to wait for
    }
  }
}

void IssueSendRaw(RunContext& cx, const Step& s, const IterContext& ctx, PendingList&) {
  const auto& r = s.As<SendRawStep>();
  for (uint32_t m : r.clients.members) {
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    std::string bytes = ctx.Apply(r.bytes);
    if (r.binary) {
      (void)ms.ws->SendRawBinary(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    } else {
      (void)ms.ws->SendRawText(bytes);
    }
    cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", "raw frame");
  }
}

// ---------------------------------------------------------------------------------------------
// Expectations

// closed: judges the FIRST ending of the connection in the window, exactly. An ending is what
// one transport's end reports: a refused upgrade, a refusing CONNACK or a server DISCONNECT
// (MQTT), and the close itself (code, reason, who started it); a new upgrade starts the next
// ending. Each condition must hold for an event of that first ending. When the first ending does
// not fit but a later one in the window does, the failure says "ambiguous" (the close meant is
// not the one that came), as the wire checks do.
class ClosedEvaluator : public Evaluator {
 public:
  ClosedEvaluator(RunContext& cx, const Expectation& e) : cx_(cx), e_(e), c_(e.As<ClosedExpect>()) {
    // An inline check (`expect_close`, `expect_status` on a step) judges what follows its step.
    TimeWindow window = c_.window;
    if (e.from_step && !window.after_step) window.after_step = e.from_step;
    after_step_ = window.after_step;
    for (uint32_t m : c_.clients.members) {
      per_.emplace(m, PerMember{WindowFilter(cx_, window), RecentMessages(5)});
      cx_.Listen(m, this);
    }
  }

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    PerMember& p = per_.at(m);
    if (p.decided) return;
    // Arrival order: a close that came before the window's step was issued (at the same
    // instant, too) is not in the window.
    if (after_step_ && cx_.step_issued[*after_step_] < 0) return;
    const ClientKind kind = cx_.sc.ClientOf(m).kind;
    p.window.Feed(ev, [&](const ObservedEvent& in) { Take(p, kind, in); });
  }

  void Finish() override {
    std::string want = c_.http_status
                           ? "upgrade refused with HTTP " + std::to_string(*c_.http_status)
                       : c_.code ? "closed with code " + std::to_string(*c_.code)
                                 : "closed";
    if (c_.mqtt_reason_code)
      want += " with MQTT reason code " + std::to_string(*c_.mqtt_reason_code);
    if (c_.reason) want += " reason \"" + *c_.reason + "\"";
    if (c_.reason_contains) want += " reason containing \"" + *c_.reason_contains + "\"";
    if (c_.by_service)
      want += *c_.by_service ? ", started by the service" : ", started by the client";
    for (uint32_t m : c_.clients.members) {
      PerMember& p = per_.at(m);
      const ClientKind kind = cx_.sc.ClientOf(m).kind;
      if (!p.decided) p.window.Flush([&](const ObservedEvent& in) { Take(p, kind, in); });
      const std::string& who = cx_.sc.members[m].name;
      if (p.endings.empty()) {
        cx_.Fail(cx_.Where(e_) + ": " + who + " was not closed", want,
                 "still open; recent: " + p.recent.Describe(5), e_.case_id);
        continue;
      }
      const Ending& first = p.endings.front();
      const std::string why = Misfit(first);
      if (why.empty()) continue;
      cx_.Highlight(m, first.events.front().time_ns);
      std::optional<size_t> later;
      for (size_t i = 1; i < p.endings.size() && !later; ++i) {
        if (Misfit(p.endings[i]).empty()) later = i;
      }
      if (later) {
        cx_.Fail(cx_.Where(e_) + ": " + who + ": ambiguous: close " + std::to_string(*later + 1) +
                     " in the window fits, not the first",
                 want + " (the first close in the window)",
                 Describe(first) + " came first (" + why + "); then " + Describe(p.endings[*later]),
                 e_.case_id);
      } else {
        cx_.Fail(cx_.Where(e_) + ": " + who + " closed differently", want,
                 Describe(first) + " (" + why + ")", e_.case_id);
      }
    }
  }

 private:
  // The end events of one transport, in arrival order.
  struct Ending {
    std::vector<KeptEvent> events;
  };
  struct PerMember {
    WindowFilter window;
    RecentMessages recent;
    std::vector<Ending> endings;  // in the window, in order
    bool open_since_end = false;  // an upgrade opened since the last end event
    bool decided = false;         // a later ending fits or too many were kept: stop listening
  };
  static constexpr size_t kEndingsKept = 16;

  static bool MqttEnd(const Observation& o) {
    return o.mqtt && (o.kind == Observation::Kind::kDisconnected ||
                      o.kind == Observation::Kind::kHandshakeFailed);
  }

  void Take(PerMember& p, ClientKind kind, const ObservedEvent& ev) {
    if (p.decided) return;
    if (IsMessage(ev, kind)) p.recent.Add(ev);
    const Observation& o = ev.observation;
    if (o.kind == Observation::Kind::kOpened || o.kind == Observation::Kind::kRecovered) {
      p.open_since_end = true;
      return;
    }
    if (o.kind != Observation::Kind::kClosed && o.kind != Observation::Kind::kHandshakeFailed &&
        !MqttEnd(o))
      return;
    const bool same = !p.endings.empty() && !p.open_since_end &&
                      p.endings.back().events.back().transport == ev.transport;
    p.open_since_end = false;
    if (!same) {
      // The ending before is complete: once the first fits, or a later one does, the verdict
      // cannot change.
      if (!p.endings.empty() && (Misfit(p.endings.front()).empty() ||
                                 (p.endings.size() >= 2 && Misfit(p.endings.back()).empty()))) {
        p.decided = true;
        return;
      }
      if (p.endings.size() >= kEndingsKept) {
        p.decided = true;
        return;
      }
      p.endings.emplace_back();
    }
    p.endings.back().events.emplace_back(ev);
  }

  // Why the ending does not fit ("" when it does): each condition must hold for one of its
  // events.
  std::string Misfit(const Ending& end) const {
    auto any = [&](auto pred) {
      return std::any_of(end.events.begin(), end.events.end(),
                         [&](const KeptEvent& k) { return pred(k.observation); });
    };
    const Observation* close = nullptr;
    for (const KeptEvent& k : end.events) {
      if (k.observation.kind == Observation::Kind::kClosed) close = &k.observation;
    }
    if (c_.mqtt_reason_code && !any([&](const Observation& o) {
          return MqttEnd(o) && !o.mqtt->reason_codes.empty() &&
                 static_cast<uint8_t>(o.mqtt->reason_codes[0]) == *c_.mqtt_reason_code;
        }))
      return "no MQTT reason code " + std::to_string(*c_.mqtt_reason_code);
    if (c_.http_status && !any([&](const Observation& o) {
          return o.kind == Observation::Kind::kHandshakeFailed && o.http_status == *c_.http_status;
        }))
      return "no refusal with HTTP " + std::to_string(*c_.http_status);
    if (c_.code && (!close || close->close_code != *c_.code))
      return close ? "code " + std::to_string(close->close_code) : "no close frame";
    if (c_.reason && (!close || close->text != *c_.reason))
      return close ? "reason \"" + close->text + "\"" : "no close reason";
    if (c_.reason_contains && !any([&](const Observation& o) {
          return o.text.find(*c_.reason_contains) != std::string::npos;
        }))
      return "no reason containing \"" + *c_.reason_contains + "\"";
    // Who started it: a refused upgrade or CONNACK and a server DISCONNECT are the service's.
    if (c_.by_service && !any([&](const Observation& o) {
          const bool by_service = o.kind == Observation::Kind::kClosed ? o.by_peer : true;
          return by_service == *c_.by_service;
        }))
      return *c_.by_service ? "started by the client" : "started by the service";
    return "";
  }

  static std::string Describe(const Ending& end) {
    std::string out;
    for (const KeptEvent& k : end.events) {
      if (!out.empty()) out += ", then ";
      out += DescribeObservation(k.observation);
    }
    return out;
  }

  RunContext& cx_;
  const Expectation& e_;
  const ClosedExpect& c_;
  std::optional<uint32_t> after_step_;
  std::map<uint32_t, PerMember> per_;
};

// connected: the first open (plain WebSocket) or system/connected message in the window, with
// the negotiated subprotocol of the upgrade that carried it.
class ConnectedEvaluator : public Evaluator {
 public:
  ConnectedEvaluator(RunContext& cx, const Expectation& e)
      : cx_(cx), e_(e), c_(e.As<ConnectedExpect>()) {
    for (uint32_t m : c_.clients.members) {
      per_.emplace(m, PerMember{WindowFilter(cx_, c_.window), RecentMessages(5)});
      cx_.Listen(m, this);
    }
  }

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    PerMember& p = per_.at(m);
    if (p.got) return;
    // The negotiated subprotocol is on the upgrade (kOpened), also for JSON kinds.
    if (ev.observation.kind == Observation::Kind::kOpened) p.selected = ev.observation.subprotocol;
    p.last.emplace(ev);
    p.window.Feed(ev, [&](const ObservedEvent& in) { Take(p, m, in); });
  }

  void Finish() override {
    for (uint32_t m : c_.clients.members) {
      PerMember& p = per_.at(m);
      if (!p.got) p.window.Flush([&](const ObservedEvent& in) { Take(p, m, in); });
      const std::string& who = cx_.sc.members[m].name;
      const bool raw = cx_.sc.ClientOf(m).kind == ClientKind::kWebSocket;
      if (!p.got) {
        cx_.Fail(cx_.Where(e_) + ": " + who + " did not connect", "connected",
                 p.recent.Describe(5) +
                     (p.last ? "; last: " + DescribeObservation(p.last->observation) : ""),
                 e_.case_id);
        continue;
      }
      const Observation& got = p.got->observation;
      std::string why;
      if (c_.subprotocol && p.selected_at_got != *c_.subprotocol)
        why = "subprotocol \"" + p.selected_at_got + "\"";
      if (raw) {
        if (!why.empty())
          cx_.Fail(cx_.Where(e_) + ": " + who + " connected differently", "as specified", why,
                   e_.case_id);
        continue;
      }
      if (c_.user_id) {
        const bool match = c_.user_id->is_null ? !got.user_id || got.user_id->empty()
                                               : got.user_id && *got.user_id == c_.user_id->value;
        if (!match) why = "user_id " + (got.user_id ? *got.user_id : std::string("null"));
      }
      if (c_.reconnection_token && *c_.reconnection_token == got.reconnection_token.empty()) {
        why = got.reconnection_token.empty() ? "no reconnection token" : "a reconnection token";
      }
      if (c_.connection_id && got.connection_id != *c_.connection_id)
        why = "connection id " + got.connection_id;
      if (!why.empty())
        cx_.Fail(cx_.Where(e_) + ": " + who + " connected differently", "as specified", why,
                 e_.case_id);
    }
  }

 private:
  struct PerMember {
    WindowFilter window;
    RecentMessages recent;
    std::optional<KeptEvent> got;
    std::optional<KeptEvent> last;  // the member's last observation (while not connected)
    std::string selected;           // the latest upgrade's subprotocol
    std::string selected_at_got;
  };

  void Take(PerMember& p, uint32_t m, const ObservedEvent& ev) {
    if (p.got) return;
    const ClientKind kind = cx_.sc.ClientOf(m).kind;
    if (IsMessage(ev, kind)) p.recent.Add(ev);
    const bool raw = kind == ClientKind::kWebSocket;
    if (ev.observation.kind == (raw ? Observation::Kind::kOpened : Observation::Kind::kConnected)) {
      p.got.emplace(ev);
      p.selected_at_got = p.selected;
    }
  }

  RunContext& cx_;
  const Expectation& e_;
  const ConnectedExpect& c_;
  std::map<uint32_t, PerMember> per_;
};

}  // namespace

void RegisterWebSocketFamily(FamilyRegistry& r) {
  using namespace shape;  // the readers, tables and docs above
  r.AddStep<ConnectStep>(
      {"connect",
       ReadConnect,
       "open the connection (completes when it is established or refused); overrides apply to this "
       "connect only",
       WithClient(DocsOf(ConnectTable())),
       {"CONNECT"},
       {SchemaRef("clientRef")}},
      IssueConnect);
  r.AddStep<DisconnectStep>({"disconnect",
                             ReadDisconnect,
                             "clean close (close frame, MQTT DISCONNECT)",
                             WithClient(DocsOf(DisconnectTable())),
                             {"DISCONNECT"},
                             {SchemaRef("clientRef")}},
                            IssueDisconnect);
  r.AddStep<KillStep>({"kill",
                       ReadKill,
                       "abrupt: no close frame, no DISCONNECT",
                       WithClient({}),
                       {},
                       {SchemaRef("clientRef")}},
                      IssueKill);
  r.AddStep<PingStep>({"ping",
                       ReadPing,
                       "JSON kinds: a ping request (pong expected)",
                       WithClient({}),
                       {},
                       {SchemaRef("clientRef")}},
                      IssuePing);
  r.AddStep<SendRawStep>({"send_raw",
                          ReadSendRaw,
                          "a raw frame: plain clients' messages, malformed JSON requests",
                          DocsOf(SendRawTable()),
                          {}},
                         IssueSendRaw);
  r.AddExpectation<ClosedEvaluator>(ExpectKind::kClosed);
  r.AddExpectation<ConnectedEvaluator>(ExpectKind::kConnected);
}

}  // namespace wpsim::conformance
