// The reliable family (json.reliable.webpubsub.azure.v1): how recover and sequence_ack are read
// and run.
#include "conformance/steps/reliable.h"

#include "conformance/driver.h"
#include "conformance/shape/steps.h"
#include "conformance/steps/internal.h"
#include "protocol/http/url.h"

namespace wpsim::conformance::shape {
namespace {

const std::vector<EnumName<RecoverFault>> kRecoverFaults = {
    {"none", RecoverFault::kNone},
    {"bad_token", RecoverFault::kBadToken},
    {"unknown_connection", RecoverFault::kUnknownConnection}};

const Table<RecoverStep>& RecoverTable() {
  static const Table<RecoverStep> t = {
      Opt("fault", &RecoverStep::fault, EnumValue(&kRecoverFaults, "recover fault"),
          "spoil the reconnect: bad_token or unknown_connection"),
      Declared<RecoverStep>("expect_close", "integer 1000..4999",
                            {{"type", "integer"}, {"minimum", 1000}, {"maximum", 4999}},
                            "check: the recovery is refused with this close code"),
  };
  return t;
}

bool ReadRecover(StepInput& in) {
  RecoverStep s;
  if (!ReadClientsStep(in, RecoverTable(), {ClientKind::kReliable, ClientKind::kReliableProtobuf},
                       s)) {
    return false;
  }
  if (auto v = in.map ? in.map->Get("expect_close") : std::nullopt) {
    InlineClose(in, *v, s.clients, "expect_close", 1000, 4999, false);
  }
  in.step.args = std::move(s);
  return true;
}

const Table<SequenceAckStep>& SequenceAckTable() {
  static const Table<SequenceAckStep> t = {
      Custom<SequenceAckStep>(
          "sequence_id", "integer or latest",
          {{"anyOf", {{{"type", "integer"}, {"minimum", 0}}, {{"const", "latest"}}}}},
          "the sequenceId to acknowledge (default latest: the highest received)",
          [](Context& c, const Node& v, SequenceAckStep& s) {
            if (!(v.IsScalar() && v.Scalar() == "latest")) {
              s.sequence_id = c.Uint(v, "sequence_id", 0, UINT64_MAX);
            }
          }),
  };
  return t;
}

bool ReadSequenceAck(StepInput& in) {
  SequenceAckStep s;
  if (!ReadClientsStep(in, SequenceAckTable(),
                       {ClientKind::kReliable, ClientKind::kReliableProtobuf}, s)) {
    return false;
  }
  in.step.args = std::move(s);
  return true;
}

}  // namespace

}  // namespace wpsim::conformance::shape

namespace wpsim::conformance {
namespace {

using clients::Observation;

std::function<bool()> Recover(RunContext& cx, uint32_t m, RecoverFault fault) {
  MemberState& ms = cx.members[m];
  clients::WsClientOptions o = WsOptions(cx, m, nullptr);
  o.access_token.clear();
  o.auto_recover = false;
  // The SDK keeps its sequence id across a recovery: the new client object drops what the old
  // one already delivered (the service's replays of un-acked messages).
  o.initial_sequence_id = ms.ws ? ms.ws->max_sequence_id() : 0;
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
    return TransportEnded(ev.observation) || k == Observation::Kind::kOpened ||
           k == Observation::Kind::kRecovered;
  });
  ms.ws->Connect();
  cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", "recover");
  return done;
}

// Members addressed by a `recover` step recover explicitly, not by themselves.
void PrepareRecover(RunContext& cx, const Step& s) {
  for (uint32_t m : s.As<RecoverStep>().clients.members) cx.members[m].auto_recover = false;
}

void IssueRecover(RunContext& cx, const Step& s, const IterContext&, PendingList& out) {
  const auto& r = s.As<RecoverStep>();
  for (uint32_t m : r.clients.members) out.push_back(cx.Awaiting(s, Recover(cx, m, r.fault)));
}

void IssueSequenceAck(RunContext& cx, const Step& s, const IterContext&, PendingList&) {
  const auto& a = s.As<SequenceAckStep>();
  for (uint32_t m : a.clients.members) {
    MemberState& ms = cx.members[m];
    if (!ms.ws) continue;
    (void)ms.ws->SequenceAck(a.sequence_id.value_or(ms.max_sequence_id));
  }
}

}  // namespace

void RegisterReliableFamily(FamilyRegistry& r) {
  using namespace shape;  // the readers, tables and docs above
  r.AddStep<RecoverStep>({"recover",
                          ReadRecover,
                          "reliable reconnect with awps_connection_id and the reconnection token",
                          WithClient(DocsOf(RecoverTable())),
                          {},
                          {SchemaRef("clientRef")}},
                         IssueRecover, PrepareRecover);
  r.AddStep<SequenceAckStep>({"sequence_ack",
                              ReadSequenceAck,
                              "a sequenceAck request (reliable only)",
                              WithClient(DocsOf(SequenceAckTable())),
                              {"sequenceAck"},
                              {SchemaRef("clientRef")}},
                             IssueSequenceAck);
}

}  // namespace wpsim::conformance
