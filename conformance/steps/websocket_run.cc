#include "conformance/steps/websocket_run.h"

#include <algorithm>

#include "base/encoding.h"
#include "conformance/steps/auth_run.h"
#include "conformance/steps/mqtt_run.h"
#include "protocol/http/url.h"

namespace wpsim::conformance {
namespace {

using clients::Observation;
namespace wps = protocol::webpubsub;

bool Ends(const Observation& o) {
  return o.kind == Observation::Kind::kClosed || o.kind == Observation::Kind::kHandshakeFailed;
}

// ---------------------------------------------------------------------------------------------
// Clients

clients::WsClientOptions WsOptions(RunContext& cx, uint32_t m, const ConnectStep* c) {
  const Client& cl = cx.sc.ClientOf(m);
  clients::WsClientOptions o;
  o.kind = cl.kind == ClientKind::kWebSocket  ? clients::WsClientKind::kRaw
           : cl.kind == ClientKind::kReliable ? clients::WsClientKind::kReliable
                                              : clients::WsClientKind::kJson;
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
    return Ends(ev.observation) || k == Observation::Kind::kConnected ||
           (!json && k == Observation::Kind::kOpened);
  });
  ms.ws->Connect();
  cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", "connect");
  return done;
}

std::function<bool()> Recover(RunContext& cx, uint32_t m, RecoverFault fault) {
  MemberState& ms = cx.members[m];
  clients::WsClientOptions o = WsOptions(cx, m, nullptr);
  o.access_token.clear();
  o.auto_recover = false;
  std::string id = ms.connection_id;
  std::string token = ms.reconnection_token;
  if (fault == RecoverFault::kBadToken) token = token.empty() ? "bad" : token + "x";
  if (fault == RecoverFault::kUnknownConnection) id = "0123456789abcdef0123456789abcdef";
  std::string q = "awps_connection_id=" + protocol::http::PercentEncode(id) +
                  "&awps_reconnection_token=" + protocol::http::PercentEncode(token);
  o.extra_query = o.extra_query.empty() ? q : q + "&" + o.extra_query;
  Attach(cx, m,
         std::make_unique<clients::WsClient>(cx.env.ClientRuntime(m), cx.sc.members[m].name, o));
  ms.transport++;
  std::function<bool()> done = cx.Until(m, [](const ObservedEvent& ev) {
    const Observation::Kind k = ev.observation.kind;
    return Ends(ev.observation) || k == Observation::Kind::kOpened ||
           k == Observation::Kind::kRecovered;
  });
  ms.ws->Connect();
  cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", "recover");
  return done;
}

// ---------------------------------------------------------------------------------------------
// Acks

std::optional<uint64_t> AckIdFor(RunContext& cx, uint32_t m, const AckSpec& a) {
  switch (a.mode) {
    case AckSpec::Mode::kNone:
      return std::nullopt;
    case AckSpec::Mode::kExplicit:
      return a.id;
    case AckSpec::Mode::kAuto: {
      MemberState& ms = cx.members[m];
      while (ms.explicit_acks.count(ms.next_auto_ack)) ++ms.next_auto_ack;
      return ms.next_auto_ack++;
    }
  }
  return std::nullopt;
}

// Records the request with `ack_id` member m just sent for step `step`: the first ack with that
// id from now on is its answer; the step waits for it or for the transport's end.
std::function<bool()> AwaitAck(RunContext& cx, uint32_t step, uint32_t m, uint64_t ack_id,
                               int64_t issued) {
  cx.members[m].ack_issued[ack_id] = issued;
  auto rec = std::make_shared<AckRecord>();
  rec->member = m;
  rec->ack_id = ack_id;
  rec->issued_ns = issued;
  cx.step_acks[step].push_back(rec);
  cx.Wait(m, [rec](const ObservedEvent& ev) {
    const Observation& o = ev.observation;
    if (o.kind == Observation::Kind::kAck && o.ack_id == rec->ack_id) {
      rec->ack.emplace(ev);
      return true;
    }
    if (Ends(o)) rec->transport_ended = true;
    return false;
  });
  return [rec] { return rec->settled(); };
}

// Members addressed by a `recover` step recover explicitly, not by themselves; explicit ackIds
// are kept out of the automatic sequence.
void PrepareRecover(RunContext& cx, const Step& s) {
  for (uint32_t m : s.As<RecoverStep>().clients.members) cx.members[m].auto_recover = false;
}

void ReserveAck(RunContext& cx, const ClientRef& clients, const AckSpec& ack) {
  if (ack.mode != AckSpec::Mode::kExplicit) return;
  for (uint32_t m : clients.members) cx.members[m].explicit_acks.insert(ack.id);
}
void PrepareJoin(RunContext& cx, const Step& s) {
  ReserveAck(cx, s.As<JoinStep>().clients, s.As<JoinStep>().ack);
}
void PrepareLeave(RunContext& cx, const Step& s) {
  ReserveAck(cx, s.As<LeaveStep>().clients, s.As<LeaveStep>().ack);
}
void PrepareSendToGroup(RunContext& cx, const Step& s) {
  ReserveAck(cx, s.As<SendToGroupStep>().clients, s.As<SendToGroupStep>().ack);
}
void PrepareEvent(RunContext& cx, const Step& s) {
  ReserveAck(cx, s.As<EventStep>().clients, s.As<EventStep>().ack);
}

// ---------------------------------------------------------------------------------------------
// Payloads

nlohmann::json PayloadJson(const Payload& p, const IterContext& ctx) {
  if (p.filler_bytes) return RunContext::Filler(*p.filler_bytes);
  nlohmann::json j = p.data;
  ctx.ApplyJson(j);
  return j;
}

wps::Payload ToWire(const Payload& p, const IterContext& ctx) {
  nlohmann::json j = PayloadJson(p, ctx);
  const DataType t = p.data_type.value_or(DataType::kJson);
  if (p.filler_bytes && t == DataType::kJson) return wps::Payload::Json(j.dump());
  switch (t) {
    case DataType::kJson:
      return wps::Payload::Json(j.dump());
    case DataType::kText:
      return wps::Payload::Text(j.is_string() ? j.get<std::string>() : j.dump());
    case DataType::kBinary:
    case DataType::kProtobuf: {
      std::vector<uint8_t> bytes;
      if (j.is_string()) {
        if (auto d = Base64Decode(j.get<std::string>())) bytes = std::move(*d);
      }
      return t == DataType::kBinary ? wps::Payload::Binary(bytes) : wps::Payload::Protobuf(bytes);
    }
  }
  return wps::Payload::Json(j.dump());
}

// The text a receiver's PayloadText() would show for this publish (latency matching key).
std::string WireText(const Payload& p, const IterContext& ctx) {
  wps::Payload w = ToWire(p, ctx);
  if (w.type == wps::DataType::kBinary || w.type == wps::DataType::kProtobuf) {
    std::string_view v = w.data.view();
    return Base64Encode(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
  }
  return std::string(w.data.view());
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

void IssueRecover(RunContext& cx, const Step& s, const IterContext&, PendingList& out) {
  const auto& r = s.As<RecoverStep>();
  for (uint32_t m : r.clients.members) out.push_back(cx.Awaiting(s, Recover(cx, m, r.fault)));
}

// " ackId:N" for an arrow's label when the request carries one.
std::string AckFlag(std::optional<uint64_t> ack) {
  return ack ? " ackId:" + std::to_string(*ack) : std::string();
}

void IssueGroupStep(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const bool join = s.kind() == StepKind::kJoin;
  const GroupStep& g = join ? static_cast<const GroupStep&>(s.As<JoinStep>())
                            : static_cast<const GroupStep&>(s.As<LeaveStep>());
  const int64_t now = cx.env.Now();
  const std::string group = ctx.Apply(g.group);
  for (uint32_t m : g.clients.members) {
    std::optional<uint64_t> ack = AckIdFor(cx, m, g.ack);
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    Status st = join ? ms.ws->JoinGroup(group, ack) : ms.ws->LeaveGroup(group, ack);
    cx.Arrow(now, cx.sc.members[m].name, "service",
             std::string(join ? "joinGroup " : "leaveGroup ") + group + AckFlag(ack));
    if (st.ok() && ack) out.push_back(cx.Awaiting(s, AwaitAck(cx, s.id, m, *ack, now)));
  }
}

void IssueSendToGroup(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& g = s.As<SendToGroupStep>();
  const int64_t now = cx.env.Now();
  const std::string group = ctx.Apply(g.group);
  for (uint32_t m : g.clients.members) {
    std::optional<uint64_t> ack = AckIdFor(cx, m, g.ack);
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    Status st;
    if (!g.payload.data_type || !g.payload.has_data) {
      nlohmann::json req = {{"type", "sendToGroup"}, {"group", group}};
      if (g.payload.data_type) req["dataType"] = DataTypeName(*g.payload.data_type);
      if (g.payload.has_data) req["data"] = PayloadJson(g.payload, ctx);
      if (ack) req["ackId"] = *ack;
      if (g.no_echo) req["noEcho"] = *g.no_echo;
      st = ms.ws->SendRawText(req.dump());
    } else {
      st = ms.ws->SendToGroup(group, ToWire(g.payload, ctx), ack, g.no_echo.value_or(false));
    }
    cx.RecordPublish(m, WireText(g.payload, ctx), ctx.intended_ns.value_or(now),
                     std::string(reports::kPathClientToGroup));
    // The request's flags that change what the service must do are part of the label.
    cx.Arrow(now, cx.sc.members[m].name, "service",
             "sendToGroup " + group + AckFlag(ack) +
                 (g.no_echo ? std::string(" noEcho:") + (*g.no_echo ? "true" : "false") : ""));
    if (st.ok() && ack)
      out.push_back(cx.Awaiting(s, AwaitAck(cx, s.id, m, *ack, ctx.intended_ns.value_or(now))));
  }
}

void IssueEvent(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& e = s.As<EventStep>();
  const int64_t now = cx.env.Now();
  for (uint32_t m : e.clients.members) {
    std::optional<uint64_t> ack = AckIdFor(cx, m, e.ack);
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    Status st = ms.ws->SendEvent(ctx.Apply(e.event), ToWire(e.payload, ctx), ack);
    cx.Arrow(now, cx.sc.members[m].name, "service", "event " + e.event + AckFlag(ack));
    if (st.ok() && ack) out.push_back(cx.Awaiting(s, AwaitAck(cx, s.id, m, *ack, now)));
  }
}

void IssueSequenceAck(RunContext& cx, const Step& s, const IterContext&, PendingList&) {
  const auto& a = s.As<SequenceAckStep>();
  for (uint32_t m : a.clients.members) {
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    (void)ms.ws->SequenceAck(a.sequence_id.value_or(ms.max_sequence_id));
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

// ack: the first ack with the request's id after it was sent (or, for client + ack_id, the
// first with that id in the run) must have the expected outcome.
class AckEvaluator : public Evaluator {
 public:
  AckEvaluator(RunContext& cx, const Expectation& e) : cx_(cx), e_(e), a_(e.As<AckExpect>()) {
    if (a_.step || !a_.client || !a_.ack_id) return;
    for (uint32_t m : a_.client->members) {
      auto rec = std::make_shared<AckRecord>();
      rec->member = m;
      rec->ack_id = *a_.ack_id;
      own_.push_back(rec);
      cx_.Listen(m, this);
    }
  }

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    const Observation& o = ev.observation;
    if (o.kind != Observation::Kind::kAck) return;
    for (auto& rec : own_) {
      if (rec->member == m && !rec->ack && o.ack_id == rec->ack_id) rec->ack.emplace(ev);
    }
  }

  void Finish() override {
    std::vector<std::shared_ptr<AckRecord>> targets = own_;
    if (a_.step) {
      auto it = cx_.step_acks.find(*a_.step);
      if (it != cx_.step_acks.end()) targets = it->second;
      if (targets.empty()) {
        cx_.Fail(cx_.Where(e_) + ": the step sent no request with an ackId", "an ack", "no request",
                 e_.case_id);
        return;
      }
    }
    const bool want_success = a_.success && !a_.error;
    for (const auto& t : targets) {
      std::string want = "ack " + std::to_string(t->ack_id) +
                         (want_success ? " success" : " error " + a_.error.value_or("(any)"));
      const std::string& who = cx_.sc.members[t->member].name;
      if (!t->ack) {
        cx_.Fail(cx_.Where(e_) + ": " + who + " got no ack " + std::to_string(t->ack_id), want,
                 "no ack", e_.case_id);
        continue;
      }
      const Observation& got = t->ack->observation;
      bool ok = got.success == want_success;
      if (ok && a_.error && got.error_name != *a_.error) ok = false;
      if (ok && a_.message && got.text != *a_.message) ok = false;
      if (ok && a_.message_contains && got.text.find(*a_.message_contains) == std::string::npos)
        ok = false;
      if (!ok) {
        cx_.Highlight(t->member, t->ack->time_ns);
        cx_.Fail(cx_.Where(e_) + ": " + who + " got the wrong ack", want,
                 DescribeObservation(got) + (got.text.empty() ? "" : " \"" + got.text + "\""),
                 e_.case_id);
      }
    }
  }

 private:
  RunContext& cx_;
  const Expectation& e_;
  const AckExpect& a_;
  std::vector<std::shared_ptr<AckRecord>> own_;  // client + ack_id form
};

// closed: some close (or refused upgrade, or MQTT server DISCONNECT) in the window fits; a
// kill and a refused recovery both close, so any fitting one passes.
class ClosedEvaluator : public Evaluator {
 public:
  ClosedEvaluator(RunContext& cx, const Expectation& e) : cx_(cx), e_(e), c_(e.As<ClosedExpect>()) {
    for (uint32_t m : c_.clients.members) {
      per_.emplace(m, PerMember{WindowFilter(cx_, c_.window), RecentMessages(5)});
      cx_.Listen(m, this);
    }
  }

  void OnObservation(uint32_t m, const ObservedEvent& ev) override {
    PerMember& p = per_.at(m);
    if (p.ok) return;
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
    if (c_.reason_contains) want += " reason containing \"" + *c_.reason_contains + "\"";
    if (c_.by_service)
      want += *c_.by_service ? ", started by the service" : ", started by the client";
    for (uint32_t m : c_.clients.members) {
      PerMember& p = per_.at(m);
      const ClientKind kind = cx_.sc.ClientOf(m).kind;
      if (!p.ok) p.window.Flush([&](const ObservedEvent& in) { Take(p, kind, in); });
      if (p.ok) continue;
      const std::string& who = cx_.sc.members[m].name;
      if (!p.last) {
        cx_.Fail(cx_.Where(e_) + ": " + who + " was not closed", want,
                 "still open; recent: " + p.recent.Describe(5), e_.case_id);
      } else {
        cx_.Highlight(m, p.last->time_ns);
        cx_.Fail(cx_.Where(e_) + ": " + who + " closed differently", want,
                 DescribeObservation(p.last->observation), e_.case_id);
      }
    }
  }

 private:
  struct PerMember {
    WindowFilter window;
    RecentMessages recent;
    std::optional<KeptEvent> last;  // the last close in the window
    bool ok = false;
  };

  void Take(PerMember& p, ClientKind kind, const ObservedEvent& ev) {
    if (p.ok) return;
    if (IsMessage(ev, kind)) p.recent.Add(ev);
    const Observation& o = ev.observation;
    // MQTT: a server DISCONNECT or a refusing CONNACK carries the reason code.
    const bool mqtt_end = o.mqtt && (o.kind == Observation::Kind::kDisconnected ||
                                     o.kind == Observation::Kind::kHandshakeFailed);
    if (o.kind != Observation::Kind::kClosed && o.kind != Observation::Kind::kHandshakeFailed &&
        !mqtt_end)
      return;
    p.last.emplace(ev);
    bool fits = true;
    if (c_.mqtt_reason_code &&
        (!mqtt_end || o.mqtt->reason_codes.empty() ||
         static_cast<uint8_t>(o.mqtt->reason_codes[0]) != *c_.mqtt_reason_code)) {
      fits = false;
    }
    if (c_.http_status &&
        (o.kind != Observation::Kind::kHandshakeFailed || o.http_status != *c_.http_status))
      fits = false;
    if (c_.code && (o.kind != Observation::Kind::kClosed || o.close_code != *c_.code)) fits = false;
    if (c_.reason_contains && o.text.find(*c_.reason_contains) == std::string::npos) fits = false;
    // Who started it: a refused upgrade or CONNACK and a server DISCONNECT are the service's.
    if (c_.by_service) {
      const bool by_service = o.kind == Observation::Kind::kClosed ? o.by_peer : true;
      if (by_service != *c_.by_service) fits = false;
    }
    if (fits) p.ok = true;
  }

  RunContext& cx_;
  const Expectation& e_;
  const ClosedExpect& c_;
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

template <typename T>
std::unique_ptr<Evaluator> Make(RunContext& cx, const Expectation& e) {
  return std::make_unique<T>(cx, e);
}

}  // namespace

void RegisterWebSocketFamily(FamilyRegistry& r) {
  r.AddStep(StepKind::kConnect, IssueConnect);
  r.AddStep(StepKind::kDisconnect, IssueDisconnect);
  r.AddStep(StepKind::kKill, IssueKill);
  r.AddStep(StepKind::kRecover, IssueRecover, PrepareRecover);
  r.AddStep(StepKind::kJoin, IssueGroupStep, PrepareJoin);
  r.AddStep(StepKind::kLeave, IssueGroupStep, PrepareLeave);
  r.AddStep(StepKind::kSendToGroup, IssueSendToGroup, PrepareSendToGroup);
  r.AddStep(StepKind::kEvent, IssueEvent, PrepareEvent);
  r.AddStep(StepKind::kSequenceAck, IssueSequenceAck);
  r.AddStep(StepKind::kPing, IssuePing);
  r.AddStep(StepKind::kSendRaw, IssueSendRaw);
  r.AddExpectation(ExpectKind::kAck, Make<AckEvaluator>);
  r.AddExpectation(ExpectKind::kClosed, Make<ClosedEvaluator>);
  r.AddExpectation(ExpectKind::kConnected, Make<ConnectedEvaluator>);
}

}  // namespace wpsim::conformance
