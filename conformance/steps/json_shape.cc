// The JSON subprotocol family's YAML shape (json.webpubsub.azure.v1 and the reliable variant):
// join, leave, send_to_group, event.
#include "conformance/steps/json_shape.h"

#include "conformance/shape/steps.h"

namespace wpsim::conformance::shape {
namespace {

constexpr std::initializer_list<ClientKind> kJsonKinds = {ClientKind::kJson, ClientKind::kReliable};

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
};

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
Table<Request> PayloadFields() {
  return {
      Declared<Request>(
          "data", "any value", nlohmann::json::object(),
          "the payload: the YAML value as JSON; text: a string; binary/protobuf: base64"),
      Declared<Request>(
          "data_type", "one of json, text, binary, protobuf",
          {{"enum", {"json", "text", "binary", "protobuf"}}},
          "dataType on the wire (omitted when not given: the service default is json)"),
      Declared<Request>("payload_size", "size", SchemaRef("size"),
                        "a generated payload of this size instead of data"),
  };
}

const Table<Request>& GroupTable() {
  static const Table<Request> t = {ClientField(), TargetField("group", "the group"), AckField(),
                                   ExpectAckField()};
  return t;
}
const Table<Request>& SendToGroupTable() {
  static const Table<Request> t = Join<Request>(
      Join<Request>({ClientField(), TargetField("group", "the group")}, PayloadFields()),
      {AckField(), ExpectAckField(),
       Opt("no_echo", &Request::no_echo, Boolean(), "noEcho: the sender does not receive it")});
  return t;
}
const Table<Request>& EventTable() {
  static const Table<Request> t = Join<Request>(
      Join<Request>({ClientField(), TargetField("event", "the user event name")}, PayloadFields()),
      {AckField(), ExpectAckField()});
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
  if (with_payload) payload = c.ReadPayload(m, true);
  if (!ref || (with_payload && !payload)) return std::nullopt;
  if (payload) r.payload = *payload;
  clients = *ref;
  c.CheckKinds(clients, *m.Get("client"), kJsonKinds, in.what());
  if (auto v = m.Get("expect_ack")) {
    if (auto e = InlineAck(c, *v, in.step, r.ack)) in.inline_expects.push_back(std::move(*e));
  }
  return r;
}

template <typename S>
bool ReadGroupStep(StepInput& in) {
  S s;
  auto r = ReadRequest(in, GroupTable(), false, s.clients);
  if (!r) return false;
  s.group = r->target;
  s.ack = r->ack;
  in.step.args = std::move(s);
  return true;
}
bool ReadJoin(StepInput& in) { return ReadGroupStep<JoinStep>(in); }
bool ReadLeave(StepInput& in) { return ReadGroupStep<LeaveStep>(in); }

bool ReadSendToGroup(StepInput& in) {
  SendToGroupStep s;
  auto r = ReadRequest(in, SendToGroupTable(), true, s.clients);
  if (!r) return false;
  s.group = r->target;
  s.payload = r->payload;
  s.ack = r->ack;
  s.no_echo = r->no_echo;
  in.step.args = std::move(s);
  return true;
}

bool ReadEvent(StepInput& in) {
  EventStep s;
  auto r = ReadRequest(in, EventTable(), true, s.clients);
  if (!r) return false;
  s.event = r->target;
  s.payload = r->payload;
  s.ack = r->ack;
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

std::vector<StepShape> JsonSteps() {
  return {
      {"join",
       StepKind::kJoin,
       ReadJoin,
       "joinGroup; completes on the ack when `ack` is given",
       DocsOf(GroupTable()),
       {"joinGroup"}},
      {"leave",
       StepKind::kLeave,
       ReadLeave,
       "leaveGroup; completes on the ack when `ack` is given",
       DocsOf(GroupTable()),
       {"leaveGroup"}},
      {"send_to_group",
       StepKind::kSendToGroup,
       ReadSendToGroup,
       "sendToGroup; completes on the ack when `ack` is given",
       DocsOf(SendToGroupTable()),
       {"sendToGroup", "groupSend"}},
      {"event",
       StepKind::kEvent,
       ReadEvent,
       "a user event to the upstream (sendEvent)",
       DocsOf(EventTable()),
       {"sendEvent", "userEvent"}},
  };
}

}  // namespace wpsim::conformance::shape
