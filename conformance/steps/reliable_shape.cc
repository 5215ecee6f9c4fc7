// The reliable subprotocol family's YAML shape (json.reliable.webpubsub.azure.v1): recover and
// sequence_ack.
#include "conformance/shape/steps.h"

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
  if (!ReadClientsStep(in, RecoverTable(), {ClientKind::kReliable}, s)) return false;
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
  if (!ReadClientsStep(in, SequenceAckTable(), {ClientKind::kReliable}, s)) return false;
  in.step.args = std::move(s);
  return true;
}

}  // namespace

std::vector<StepShape> ReliableSteps() {
  return {
      {"recover",
       StepKind::kRecover,
       ReadRecover,
       "reliable reconnect with awps_connection_id and the reconnection token",
       WithClient(DocsOf(RecoverTable())),
       {}},
      {"sequence_ack",
       StepKind::kSequenceAck,
       ReadSequenceAck,
       "a sequenceAck request (reliable only)",
       WithClient(DocsOf(SequenceAckTable())),
       {"sequenceAck"}},
  };
}

}  // namespace wpsim::conformance::shape
