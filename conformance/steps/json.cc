// The json family (json.webpubsub.azure.v1 and the reliable variant): how join, leave,
// send_to_group and event are read and run (ackIds, payloads), how the ack expectation is
// judged, and the client SDK 1.1 steps (invoke, cancel_invocation, stream_start, stream_data,
// stream_end) whose answers the receive matcher checks.
#include "conformance/steps/json.h"

#include "base/encoding.h"
#include "conformance/driver.h"
#include "conformance/shape/steps.h"
#include "conformance/steps/internal.h"

namespace wpsim::conformance::shape {
namespace {

// The JSON kinds and their protobuf twins send the same requests (PROTOCOL.md §7); invocations
// exist in JSON only.
constexpr std::initializer_list<ClientKind> kJsonKinds = {
    ClientKind::kJson, ClientKind::kReliable, ClientKind::kProtobuf, ClientKind::kReliableProtobuf};
constexpr std::initializer_list<ClientKind> kInvokeKinds = {ClientKind::kJson,
                                                            ClientKind::kReliable};

// expect_ack: "success", an error name, or the ack fields.
std::optional<Expectation> InlineAck(Context& c, const Node& n, const Step& step,
                                     const AckSpec& ack) {
  if (ack.mode == AckSpec::Mode::kNone) {
    c.Error(n, "expect_ack needs an ackId on the request (add 'ack: auto')");
    return std::nullopt;
  }
  AckExpect a;
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "success" || s == "true") {
      a.success = true;
    } else if (s == "false" || s.empty()) {
      c.Error(n, "expect_ack takes 'success' or an error name like Forbidden, got " + Describe(n));
      return std::nullopt;
    } else {
      a.success = false;
      a.error = s;
    }
  } else {
    Map m(c, n, "expect_ack", KeysOf(AckFieldsTable()));
    if (!m.ok()) return std::nullopt;
    ReadAckFields(c, m, a);
  }
  a.step = step.id;
  return Expectation{c.Pos(n), "", "", std::nullopt, a};
}

// The fields every request step shares, read into a GroupStep-like struct.
struct Request {
  std::string target;  // group or event
  Payload payload;
  AckSpec ack;
  std::optional<bool> no_echo;
  MetadataSpec metadata;
  std::optional<uint64_t> ttl_seconds;
};

const Table<MetadataFill>& MetadataFillTable() {
  static const Table<MetadataFill> t = {
      Opt("entries", &MetadataFill::entries, Integer(1, 1000), "how many pairs (default 1)"),
      Opt("key_bytes", &MetadataFill::key_bytes, Integer(1, 100000),
          "each key's length: its index, then 'k' padding (default 1)"),
      Opt("value_bytes", &MetadataFill::value_bytes, Integer(0, 100000),
          "each value's length, all 'v' (default 0)"),
  };
  return t;
}

Table<Request> MetadataFields() {
  return {
      Custom<Request>("metadata", "mapping of strings",
                      {{"type", "object"}, {"additionalProperties", SchemaRef("scalar")}},
                      "message metadata (PROTOCOL.md §9.4), sent as the request's `metadata`",
                      [](Context& c, const Node& v, Request& r) {
                        if (auto pairs = c.StrPairs(v, "metadata")) r.metadata.pairs = *pairs;
                      }),
      Custom<Request>(
          "metadata_fill", "mapping",
          {{"type", "object"},
           {"additionalProperties", false},
           {"properties",
            {{"entries", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}}},
             {"key_bytes", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100000}}},
             {"value_bytes", {{"type", "integer"}, {"minimum", 0}, {"maximum", 100000}}}}}},
          "generated metadata after `metadata`: {entries, key_bytes, value_bytes} "
          "(boundary cases of the §9.4 limits)",
          [](Context& c, const Node& v, Request& r) {
            Map m(c, v, "metadata_fill", KeysOf(MetadataFillTable()));
            if (!m.ok()) return;
            MetadataFill fill;
            ReadFields(c, m, MetadataFillTable(), fill);
            r.metadata.fill = fill;
          }),
  };
}

Field<Request> AckField() {
  return Custom<Request>("ack", "auto, none or a number", SchemaRef("ack"),
                         "ackId: auto (allocated per connection), none (default) or a number",
                         [](Context& c, const Node& v, Request& r) {
                           if (auto a = c.Ack(v)) r.ack = *a;
                         });
}
Field<Request> ExpectAckField() {
  return Declared<Request>(
      "expect_ack", "success, an error name or a mapping",
      {{"anyOf", {{{"type", "string"}}, {{"type", "object"}}}}},
      "check: the ack (success, or an error name like Forbidden, or {success, error, message, "
      "message_contains})");
}
Field<Request> ClientField() {
  return Declared<Request>("client", "client reference", SchemaRef("clientRef"),
                           "the sending clients", true);
}
Field<Request> TargetField(std::string_view key, std::string doc) {
  return Req(key, &Request::target, NonEmptyString(), std::move(doc));
}
template <typename T>
Table<T> PayloadFieldsOf(std::string_view data_doc =
                             "the payload: the YAML value as JSON; text: a string; "
                             "binary/protobuf: base64") {
  return {
      Declared<T>("data", "any value", nlohmann::json::object(), std::string(data_doc)),
      Declared<T>("data_type", "one of json, text, binary, protobuf",
                  {{"enum", {"json", "text", "binary", "protobuf"}}},
                  "dataType on the wire (omitted when not given: the service default is json)"),
      Declared<T>("payload_size", "size", SchemaRef("size"),
                  "a generated payload of this size instead of data"),
  };
}
Table<Request> PayloadFields() { return PayloadFieldsOf<Request>(); }

const Table<Request>& GroupTable() {
  static const Table<Request> t = {ClientField(), TargetField("group", "the group"), AckField(),
                                   ExpectAckField()};
  return t;
}
const Table<Request>& SendToGroupTable() {
  static const Table<Request> t = Join<Request>(
      Join<Request>(
          Join<Request>({ClientField(), TargetField("group", "the group")}, PayloadFields()),
          {AckField(), ExpectAckField(),
           Opt("no_echo", &Request::no_echo, Boolean(), "noEcho: the sender does not receive it"),
           Opt("ttl_seconds", &Request::ttl_seconds, Integer(0, UINT32_MAX),
               "ttlSeconds (PROTOCOL.md §9.4; the service accepts 0..300)")}),
      MetadataFields());
  return t;
}
const Table<Request>& EventTable() {
  static const Table<Request> t = Join<Request>(
      Join<Request>(Join<Request>({ClientField(), TargetField("event", "the user event name")},
                                  PayloadFields()),
                    {AckField(), ExpectAckField()}),
      MetadataFields());
  return t;
}

// Reads a request step: the target, the payload (when `with_payload`), the ack; checks kinds and
// the inline ack check.
std::optional<Request> ReadRequest(StepInput& in, const Table<Request>& table, bool with_payload,
                                   ClientRef& clients) {
  Context& c = in.c;
  std::optional<ClientRef> ref;
  if (!in.NeedMapWithClient(KeysOf(table), ref)) return std::nullopt;
  const Map& m = *in.map;
  Request r;
  ReadFields(c, m, table, r);
  std::optional<Payload> payload;
  // A request with metadata may leave out its data (the service sends empty text, §9.4).
  if (with_payload) payload = c.ReadPayload(m, !m.Has("metadata") && !m.Has("metadata_fill"));
  if (!ref || (with_payload && !payload)) return std::nullopt;
  if (payload) r.payload = *payload;
  clients = *ref;
  c.CheckKinds(clients, *m.Get("client"), kJsonKinds, in.what());
  if (auto v = m.Get("expect_ack")) {
    if (auto e = InlineAck(c, *v, in.step, r.ack)) in.inline_expects.push_back(std::move(*e));
  }
  return r;
}

// The whole reader of a request step S read through `table`: the request's target goes to
// `target` (the group or the event name); the payload and noEcho when S has them.
template <typename S>
bool ReadRequestStep(StepInput& in, const Table<Request>& table, std::string S::*target) {
  S s;
  constexpr bool kWithPayload = requires(S & x) { x.payload; };
  auto r = ReadRequest(in, table, kWithPayload, s.clients);
  if (!r) return false;
  s.*target = r->target;
  s.ack = r->ack;
  if constexpr (kWithPayload) s.payload = r->payload;
  if constexpr (requires(S & x) { x.no_echo; }) s.no_echo = r->no_echo;
  if constexpr (requires(S & x) { x.metadata; }) s.metadata = r->metadata;
  if constexpr (requires(S & x) { x.ttl_seconds; }) s.ttl_seconds = r->ttl_seconds;
  in.step.args = std::move(s);
  return true;
}
bool ReadJoin(StepInput& in) {
  return ReadRequestStep<JoinStep>(in, GroupTable(), &JoinStep::group);
}
bool ReadLeave(StepInput& in) {
  return ReadRequestStep<LeaveStep>(in, GroupTable(), &LeaveStep::group);
}
bool ReadSendToGroup(StepInput& in) {
  return ReadRequestStep(in, SendToGroupTable(), &SendToGroupStep::group);
}
bool ReadEvent(StepInput& in) { return ReadRequestStep(in, EventTable(), &EventStep::event); }

// ---- Client SDK 1.1 requests: invoke, cancel_invocation, stream_* (PROTOCOL.md §9.1, §9.2)

template <typename T>
Field<T> SenderField() {
  return Declared<T>("client", "client reference", SchemaRef("clientRef"), "the sending clients",
                     true);
}

const Table<InvokeStep>& InvokeTable() {
  static const Table<InvokeStep> t = Join<InvokeStep>(
      {SenderField<InvokeStep>(),
       Req("invocation_id", &InvokeStep::invocation_id, TemplateString(),
           "invocationId (the SDK numbers them 1, 2, ... per client)"),
       Req("event", &InvokeStep::event, TemplateString(), "the user event the handler answers"),
       Opt("target", &InvokeStep::target, String(),
           "the invocation target (default event, the only one the SDK sends)")},
      PayloadFieldsOf<InvokeStep>("the payload (omitted: the request carries no dataType/data)"));
  return t;
}
const Table<CancelInvocationStep>& CancelInvocationTable() {
  static const Table<CancelInvocationStep> t = {
      SenderField<CancelInvocationStep>(),
      Req("invocation_id", &CancelInvocationStep::invocation_id, TemplateString(),
          "the invocationId to cancel")};
  return t;
}
const Table<StreamStartStep>& StreamStartTable() {
  static const Table<StreamStartStep> t = {
      SenderField<StreamStartStep>(),
      Req("group", &StreamStartStep::group, TemplateString(), "the group the stream publishes to"),
      Req("stream_id", &StreamStartStep::stream_id, TemplateString(), "streamId"),
      Opt("idle_timeout_ms", &StreamStartStep::idle_timeout_ms, Integer(0, UINT64_MAX),
          "idleTimeoutMs (default 300000, as the SDK sends)"),
      Opt("no_echo", &StreamStartStep::no_echo, Boolean(),
          "noEcho: the publisher does not receive its own fragments")};
  return t;
}
const Table<StreamDataStep>& StreamDataTable() {
  static const Table<StreamDataStep> t = Join<StreamDataStep>(
      {SenderField<StreamDataStep>(),
       Req("stream_id", &StreamDataStep::stream_id, TemplateString(), "streamId"),
       Opt("sequence", &StreamDataStep::sequence, Integer(0, UINT64_MAX),
           "streamSequenceId of the fragment (with data); omitted with data: a keepalive")},
      PayloadFieldsOf<StreamDataStep>("the fragment's payload (needs sequence)"));
  return t;
}
const Table<StreamEndStep>& StreamEndTable() {
  static const Table<StreamEndStep> t = {
      SenderField<StreamEndStep>(),
      Req("stream_id", &StreamEndStep::stream_id, TemplateString(), "streamId"),
      Opt("error_message", &StreamEndStep::error_message, String(),
          "error.message: the publisher ends the stream with an error (UserError)"),
      Opt("user_error_code", &StreamEndStep::user_error_code, String(), "error.userErrorCode")};
  return t;
}

// Reads the mapping of a client SDK 1.1 step into `s` (its `clients`, its table's fields and,
// when `payload` is given, the optional payload).
template <typename S>
bool ReadSdk11Step(StepInput& in, const Table<S>& table, S& s, Payload* payload,
                   std::initializer_list<ClientKind> kinds = kJsonKinds) {
  Context& c = in.c;
  std::optional<ClientRef> ref;
  if (!in.NeedMapWithClient(KeysOf(table), ref)) return false;
  const Map& m = *in.map;
  ReadFields(c, m, table, s);
  if (payload) {
    std::optional<Payload> p = c.ReadPayload(m, false);
    if (!p) return false;
    *payload = *p;
  }
  if (!ref) return false;
  s.clients = *ref;
  c.CheckKinds(s.clients, *m.Get("client"), kinds, in.what());
  return true;
}

// The whole reader of a client SDK 1.1 step without rules across its fields (the payload when
// the step has one).
template <typename S>
bool ReadSdk11(StepInput& in, const Table<S>& table,
               std::initializer_list<ClientKind> kinds = kJsonKinds) {
  S s;
  Payload* payload = nullptr;
  if constexpr (requires(S & x) { x.payload; }) payload = &s.payload;
  if (!ReadSdk11Step(in, table, s, payload, kinds)) return false;
  in.step.args = std::move(s);
  return true;
}
bool ReadInvoke(StepInput& in) { return ReadSdk11(in, InvokeTable(), kInvokeKinds); }
bool ReadCancelInvocation(StepInput& in) {
  return ReadSdk11(in, CancelInvocationTable(), kInvokeKinds);
}
bool ReadStreamStart(StepInput& in) { return ReadSdk11(in, StreamStartTable()); }
bool ReadStreamEnd(StepInput& in) { return ReadSdk11(in, StreamEndTable()); }
bool ReadStreamData(StepInput& in) {
  StreamDataStep s;
  if (!ReadSdk11Step(in, StreamDataTable(), s, &s.payload)) return false;
  const Map& m = *in.map;
  const bool has_payload = s.payload.has_data || s.payload.filler_bytes;
  if (s.sequence && !has_payload) {
    in.c.Error(*m.Key("sequence"), "a fragment needs its payload: add 'data' or 'payload_size'");
  } else if (!s.sequence && (has_payload || m.Has("data_type"))) {
    in.c.Error(m.node(),
               "a keepalive (no 'sequence') carries no payload: add 'sequence' for a fragment");
  }
  in.step.args = std::move(s);
  return true;
}

}  // namespace

const Table<AckExpect>& AckFieldsTable() {
  static const Table<AckExpect> t = {
      Opt("success", &AckExpect::success, Boolean(), "the ack's success (default true)"),
      Declared<AckExpect>("error", "non-empty string", {{"type", "string"}, {"minLength", 1}},
                          "the ack's error name (implies success: false)"),
      Opt("message", &AckExpect::message, String(), "the error message, exactly"),
      Opt("message_contains", &AckExpect::message_contains, String(),
          "a substring of the error message"),
  };
  return t;
}

void ReadAckFields(Context& c, const Map& m, AckExpect& a) {
  ReadFields(c, m, AckFieldsTable(), a);
  if (auto v = m.Get("error")) {
    a.error = c.NonEmptyStr(*v, "error");
    if (m.Has("success") && a.success)
      c.Error(*v, "an ack with an error cannot have success: true");
    a.success = false;
  }
}

}  // namespace wpsim::conformance::shape

namespace wpsim::conformance {
namespace {

using clients::Observation;
namespace wps = protocol::webpubsub;

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
    if (TransportEnded(o)) rec->transport_ended = true;
    return false;
  });
  return [rec] { return rec->settled(); };
}

// Explicit ackIds are kept out of the automatic sequence (before the run, for a request step S).
template <typename S>
void ReserveAck(RunContext& cx, const Step& s) {
  const S& r = s.As<S>();
  if (r.ack.mode != AckSpec::Mode::kExplicit) return;
  for (uint32_t m : r.clients.members) cx.members[m].explicit_acks.insert(r.ack.id);
}
void PrepareJoin(RunContext& cx, const Step& s) { ReserveAck<JoinStep>(cx, s); }
void PrepareLeave(RunContext& cx, const Step& s) { ReserveAck<LeaveStep>(cx, s); }
void PrepareSendToGroup(RunContext& cx, const Step& s) { ReserveAck<SendToGroupStep>(cx, s); }
void PrepareEvent(RunContext& cx, const Step& s) { ReserveAck<EventStep>(cx, s); }
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

// The metadata pairs a step sends: the listed ones, then the generated ones.
wps::Metadata MetadataOf(const MetadataSpec& spec) {
  wps::Metadata out(spec.pairs.begin(), spec.pairs.end());
  if (spec.fill) {
    for (uint64_t i = 0; i < spec.fill->entries; ++i) {
      std::string key = std::to_string(i);
      if (key.size() < spec.fill->key_bytes) key.append(spec.fill->key_bytes - key.size(), 'k');
      out.emplace_back(std::move(key), std::string(spec.fill->value_bytes, 'v'));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Steps

// " ackId:N" for an arrow's label when the request carries one.
std::string AckFlag(std::optional<uint64_t> ack) {
  return ack ? " ackId:" + std::to_string(*ack) : std::string();
}

void IssueGroupStep(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const bool join = s.Is<JoinStep>();
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
    const wps::Metadata metadata = MetadataOf(g.metadata);
    // JSON kinds write the request as the scenario gave it (omitted dataType or data stay
    // omitted); protobuf kinds always send MessageData (json when no data type is given).
    const bool protobuf = IsProtobufKind(cx.sc.ClientOf(m).kind);
    if (!protobuf && (!g.payload.data_type || !g.payload.has_data)) {
      nlohmann::json req = {{"type", "sendToGroup"}, {"group", group}};
      if (g.payload.data_type) req["dataType"] = DataTypeName(*g.payload.data_type);
      if (g.payload.has_data) req["data"] = PayloadJson(g.payload, ctx);
      if (ack) req["ackId"] = *ack;
      if (g.no_echo) req["noEcho"] = *g.no_echo;
      if (!metadata.empty()) {
        nlohmann::json md = nlohmann::json::object();
        for (const auto& [k, v] : metadata) md[k] = v;
        req["metadata"] = md;
      }
      if (g.ttl_seconds) req["ttlSeconds"] = *g.ttl_seconds;
      st = ms.ws->SendRawText(req.dump());
    } else {
      wps::Payload payload = g.payload.has_data || g.payload.filler_bytes
                                 ? ToWire(g.payload, ctx)
                                 : wps::Payload::Text("");  // protobuf: metadata only
      payload.metadata = metadata;
      std::optional<uint32_t> ttl;
      if (g.ttl_seconds) ttl = static_cast<uint32_t>(*g.ttl_seconds);
      st = ms.ws->SendToGroup(group, payload, ack, g.no_echo.value_or(false), ttl);
    }
    cx.RecordPublish(m, WireText(g.payload, ctx), ctx.intended_ns.value_or(now),
                     std::string(reports::kPathClientToGroup));
    // The request's flags that change what the service must do are part of the label.
    cx.Arrow(now, cx.sc.members[m].name, "service",
             "sendToGroup " + group + AckFlag(ack) +
                 (g.no_echo ? std::string(" noEcho:") + (*g.no_echo ? "true" : "false") : "") +
                 (g.ttl_seconds ? " ttlSeconds:" + std::to_string(*g.ttl_seconds) : "") +
                 (metadata.empty() ? "" : " metadata:" + std::to_string(metadata.size())));
    PublishRecord& published = cx.publishes[WireText(g.payload, ctx)].back();
    published.group = group;
    if (st.ok() && ack) {
      out.push_back(cx.Awaiting(s, AwaitAck(cx, s.id, m, *ack, ctx.intended_ns.value_or(now))));
      published.ack = cx.step_acks[s.id].back();
    }
  }
}

void IssueEvent(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& e = s.As<EventStep>();
  const int64_t now = cx.env.Now();
  for (uint32_t m : e.clients.members) {
    std::optional<uint64_t> ack = AckIdFor(cx, m, e.ack);
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    wps::Payload payload = e.payload.has_data || e.payload.filler_bytes ? ToWire(e.payload, ctx)
                                                                        : wps::Payload::Text("");
    payload.metadata = MetadataOf(e.metadata);
    Status st;
    if (!e.payload.has_data && !e.payload.filler_bytes && !payload.metadata.empty() &&
        !IsProtobufKind(cx.sc.ClientOf(m).kind)) {
      // metadata without data (§9.4: the service sends empty text)
      nlohmann::json req = {{"type", "event"}, {"event", ctx.Apply(e.event)}};
      if (ack) req["ackId"] = *ack;
      nlohmann::json md = nlohmann::json::object();
      for (const auto& [k, v] : payload.metadata) md[k] = v;
      req["metadata"] = md;
      st = ms.ws->SendRawText(req.dump());
    } else {
      st = ms.ws->SendEvent(ctx.Apply(e.event), payload, ack);
    }
    cx.Arrow(now, cx.sc.members[m].name, "service", "event " + e.event + AckFlag(ack));
    if (st.ok() && ack) out.push_back(cx.Awaiting(s, AwaitAck(cx, s.id, m, *ack, now)));
  }
}

// ---------------------------------------------------------------------------------------------
// Client SDK 1.1 requests (PROTOCOL.md §9.1, §9.2)

// Completion: the first observation of member m that `answer` accepts, or its transport's end.
// Added before the request is sent.
std::function<bool()> UntilAnswer(RunContext& cx, uint32_t m,
                                  std::function<bool(const Observation&)> answer) {
  return cx.Until(m, [answer = std::move(answer)](const ObservedEvent& ev) {
    return answer(ev.observation) || TransportEnded(ev.observation);
  });
}

std::function<bool(const Observation&)> StreamAnswer(std::string stream_id,
                                                     bool closed_only = false) {
  return [stream_id = std::move(stream_id), closed_only](const Observation& o) {
    if (o.stream_id != stream_id) return false;
    if (o.kind == Observation::Kind::kStreamClosed) return true;
    return !closed_only &&
           (o.kind == Observation::Kind::kStreamAck || o.kind == Observation::Kind::kStreamNack);
  };
}

void IssueInvoke(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& v = s.As<InvokeStep>();
  const int64_t now = cx.env.Now();
  wps::InvokeRequest req;
  req.invocation_id = ctx.Apply(v.invocation_id);
  req.target = v.target;
  req.event = ctx.Apply(v.event);
  if (v.payload.has_data || v.payload.filler_bytes) req.payload = ToWire(v.payload, ctx);
  for (uint32_t m : v.clients.members) {
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    auto done = UntilAnswer(cx, m, [id = req.invocation_id](const Observation& o) {
      return o.kind == Observation::Kind::kInvokeResponse && o.invocation_id == id;
    });
    Status st = ms.ws->Invoke(req);
    cx.Arrow(now, cx.sc.members[m].name, "service",
             "invoke " + req.event + " invocationId:" + req.invocation_id);
    if (st.ok()) out.push_back(cx.Awaiting(s, std::move(done)));
  }
}

void IssueCancelInvocation(RunContext& cx, const Step& s, const IterContext& ctx, PendingList&) {
  const auto& v = s.As<CancelInvocationStep>();
  const int64_t now = cx.env.Now();
  const std::string id = ctx.Apply(v.invocation_id);
  for (uint32_t m : v.clients.members) {
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    (void)ms.ws->CancelInvocation(id);
    cx.Arrow(now, cx.sc.members[m].name, "service", "cancelInvocation invocationId:" + id);
  }
}

void IssueStreamStart(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& v = s.As<StreamStartStep>();
  const int64_t now = cx.env.Now();
  wps::StreamStartRequest req;
  req.group = ctx.Apply(v.group);
  req.stream_id = ctx.Apply(v.stream_id);
  req.idle_timeout_ms = v.idle_timeout_ms;
  req.no_echo = v.no_echo;
  for (uint32_t m : v.clients.members) {
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    auto done = UntilAnswer(cx, m, StreamAnswer(req.stream_id));
    Status st = ms.ws->StreamStart(req);
    cx.Arrow(now, cx.sc.members[m].name, "service",
             "sendToGroup " + req.group + " stream:" + req.stream_id +
                 (v.no_echo ? " noEcho:true" : ""));
    if (st.ok()) out.push_back(cx.Awaiting(s, std::move(done)));
  }
}

void IssueStreamData(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& v = s.As<StreamDataStep>();
  const int64_t now = cx.env.Now();
  wps::StreamDataRequest req;
  req.stream_id = ctx.Apply(v.stream_id);
  req.stream_sequence_id = v.sequence;
  if (v.sequence) req.payload = ToWire(v.payload, ctx);
  for (uint32_t m : v.clients.members) {
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    std::function<bool()> done;
    if (v.sequence) done = UntilAnswer(cx, m, StreamAnswer(req.stream_id));
    Status st = ms.ws->StreamData(req);
    cx.Arrow(now, cx.sc.members[m].name, "service",
             "streamData " + req.stream_id +
                 (v.sequence ? " #" + std::to_string(*v.sequence) : std::string(" keepalive")));
    if (st.ok() && done) out.push_back(cx.Awaiting(s, std::move(done)));
  }
}

void IssueStreamEnd(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& v = s.As<StreamEndStep>();
  const int64_t now = cx.env.Now();
  wps::StreamEndRequest req;
  req.stream_id = ctx.Apply(v.stream_id);
  if (v.error_message || v.user_error_code) {
    req.error = wps::StreamEndError{v.error_message, v.user_error_code};
  }
  for (uint32_t m : v.clients.members) {
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    auto done = UntilAnswer(cx, m, StreamAnswer(req.stream_id, true));
    Status st = ms.ws->StreamEnd(req);
    cx.Arrow(now, cx.sc.members[m].name, "service",
             "streamEnd " + req.stream_id + (req.error ? " error" : ""));
    if (st.ok()) out.push_back(cx.Awaiting(s, std::move(done)));
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

}  // namespace

void RegisterJsonFamily(FamilyRegistry& r) {
  using namespace shape;  // the readers, tables and docs above
  r.AddStep<JoinStep>({"join",
                       ReadJoin,
                       "joinGroup; completes on the ack when `ack` is given",
                       DocsOf(GroupTable()),
                       {"joinGroup"}},
                      IssueGroupStep, PrepareJoin);
  r.AddStep<LeaveStep>({"leave",
                        ReadLeave,
                        "leaveGroup; completes on the ack when `ack` is given",
                        DocsOf(GroupTable()),
                        {"leaveGroup"}},
                       IssueGroupStep, PrepareLeave);
  r.AddStep<SendToGroupStep>({"send_to_group",
                              ReadSendToGroup,
                              "sendToGroup; completes on the ack when `ack` is given",
                              DocsOf(SendToGroupTable()),
                              {"sendToGroup", "groupSend"}},
                             IssueSendToGroup, PrepareSendToGroup);
  r.AddStep<EventStep>({"event",
                        ReadEvent,
                        "a user event to the upstream (sendEvent)",
                        DocsOf(EventTable()),
                        {"sendEvent", "userEvent"}},
                       IssueEvent, PrepareEvent);
  r.AddStep<InvokeStep>({"invoke",
                         ReadInvoke,
                         "invoke (client SDK 1.1 invokeEvent); completes on its invokeResponse",
                         DocsOf(InvokeTable()),
                         {"invokeEvent"}},
                        IssueInvoke);
  r.AddStep<CancelInvocationStep>({"cancel_invocation",
                                   ReadCancelInvocation,
                                   "cancelInvocation for a pending invoke; completes on issue",
                                   DocsOf(CancelInvocationTable()),
                                   {"cancelInvocation"}},
                                  IssueCancelInvocation);
  r.AddStep<StreamStartStep>(
      {"stream_start",
       ReadStreamStart,
       "opens a group stream (a sendToGroup carrying `stream`); completes on the first answer "
       "for the stream (streamAck, streamNack or streamClosed)",
       DocsOf(StreamStartTable()),
       {"openGroupStream"}},
      IssueStreamStart);
  r.AddStep<StreamDataStep>(
      {"stream_data",
       ReadStreamData,
       "streamData: a fragment (completes on the next answer for its stream) or, without "
       "`sequence`, a keepalive (completes on issue)",
       DocsOf(StreamDataTable()),
       {"streamData"}},
      IssueStreamData);
  r.AddStep<StreamEndStep>(
      {"stream_end",
       ReadStreamEnd,
       "streamEnd, with the publisher's error when given; completes on the streamClosed",
       DocsOf(StreamEndTable()),
       {"streamEnd"}},
      IssueStreamEnd);
  r.AddExpectation<AckEvaluator>(ExpectKind::kAck);
}

}  // namespace wpsim::conformance
