// The upstream family: how the scripted application server (the `upstream` section: event
// handlers, abuse-protection reply, scripted responses) and the upstream_event check are read,
// how the server answers the service's requests, and how upstream_event is judged.
#include "conformance/steps/upstream.h"

#include <algorithm>

#include "conformance/driver.h"
#include "conformance/shape/sections.h"

namespace wpsim::conformance::shape {
namespace {

const std::vector<EnumName<ValidationReply>> kValidation = {
    {"allow", ValidationReply::kAllowAny},
    {"origin", ValidationReply::kAllowOrigin},
    {"deny", ValidationReply::kDeny}};
const Keys kSystemEvents = {"connect", "connected", "disconnected"};
const Keys kResponseActions = {"accept", "reject", "reply", "fail", "timeout"};

const Table<UpstreamHandler>& HandlerTable() {
  using H = UpstreamHandler;
  static const Table<H> t = {
      Custom<H>(
          "url", "URL template", {{"type", "string"}, {"pattern", "^https?://"}},
          "http(s) URL; may contain {event} and {hub}",
          [](Context& c, const Node& v, H& h) {
            auto s = c.NonEmptyStr(v, "url");
            if (!s) return;
            h.url_template = *s;
            if (s->rfind("http://", 0) != 0 && s->rfind("https://", 0) != 0) {
              c.Error(v, "a handler url must start with http:// or https://, got " + Q(*s));
            }
          },
          true),
      Opt("user_events", &H::user_event_pattern, String(),
          "user events: \"*\", \"a\", \"a,b\" (default none)"),
      Custom<H>("system_events", "string or list", SchemaRef("stringList"),
                "connect, connected, disconnected",
                [](Context& c, const Node& v, H& h) {
                  auto l = c.StrList(v, "system_events");
                  if (!l) return;
                  for (const std::string& e : *l) {
                    if (!Contains(kSystemEvents, e))
                      c.Error(v, "unknown system event " + Q(e) + c.Suggest(e, kSystemEvents));
                  }
                  h.system_events = *l;
                }),
  };
  return t;
}

void ReadHandlers(Context& c, const Node& v, UpstreamSettings& u) {
  if (!v.IsSequence() || v.size() == 0) {
    c.Error(v, "expected a non-empty list of handlers, got " + Describe(v));
    return;
  }
  for (const Node& item : v) {
    Map hm(c, item, "handler", KeysOf(HandlerTable()));
    if (!hm.ok()) continue;
    UpstreamHandler h;
    h.pos = c.Pos(item);
    ReadFields(c, hm, HandlerTable(), h);
    u.handlers.push_back(std::move(h));
  }
}

using R = UpstreamResponse;

const Table<UpstreamMatch>& MatchTable() {
  using M = UpstreamMatch;
  static const Table<M> t = {
      Opt("client", &M::clients, ClientRefValue(RefOptions{}),
          "the event's connection is one of these members"),
      Opt("user", &M::user_id, String(), "ce-userId"),
      Opt("data_contains", &M::data_contains, String(), "a substring of the request body"),
      Opt("subprotocol", &M::subprotocol, String(), "offered (connect) or selected (others)"),
  };
  return t;
}

nlohmann::json StatusSchema(int min, int max) {
  return {{"type", "integer"}, {"minimum", min}, {"maximum", max}};
}

const Table<R>& AcceptTable() {
  static const Table<R> t = {
      Opt("user", &R::user_id, String(), "connect: the user id"),
      Opt("groups", &R::groups, StringList(), "connect: groups to join"),
      Opt("roles", &R::roles, SubprotocolList(), "connect: roles ([] grants none)"),
      Opt("subprotocol", &R::subprotocol, String(), "connect: the selected subprotocol"),
  };
  return t;
}

void ReadAccept(Context& c, const Node& v, R& r) {
  r.action = UpstreamActionKind::kAccept;
  r.status = 204;
  if (v.IsMap()) {
    Map am(c, v, "accept", KeysOf(AcceptTable()));
    if (!am.ok()) return;
    r.status = 200;
    ReadFields(c, am, AcceptTable(), r);
  } else if (auto b = c.Bool(v, "accept"); b && !*b) {
    c.Error(v, "'accept: false' is not an action; use reject");
  }
}

void ReadReject(Context& c, const Node& v, R& r) {
  r.action = UpstreamActionKind::kReject;
  if (v.IsScalar()) {
    if (auto s = c.Uint(v, "reject status", 400, 599)) r.status = static_cast<int>(*s);
    return;
  }
  Map rm(c, v, "reject", {"status", "body", "content_type"});
  if (!rm.ok()) return;
  if (auto x = rm.Required(c, "status")) {
    if (auto s = c.Uint(*x, "reject status", 400, 599)) r.status = static_cast<int>(*s);
  }
  if (rm.Has("body")) c.Body(rm, r.body, r.content_type, "text/plain");
}

void ReadReply(Context& c, const Node& v, R& r) {
  r.action = UpstreamActionKind::kReply;
  r.status = 200;
  if (v.IsScalar()) {
    r.body = v.Scalar();
    r.content_type = "text/plain";
    return;
  }
  Map rm(c, v, "reply", {"status", "body", "body_raw", "content_type"});
  if (!rm.ok()) return;
  if (auto x = rm.Get("status")) {
    if (auto s = c.Uint(*x, "reply status", 200, 299)) r.status = static_cast<int>(*s);
  }
  if (!rm.Has("body") && !rm.Has("body_raw")) {
    rm.Required(c, "body");
  } else {
    c.Body(rm, r.body, r.content_type, "application/json");
  }
}

void ReadFail(Context& c, const Node& v, R& r) {
  r.action = UpstreamActionKind::kFail;
  if (!(v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "reset"))) {
    c.Error(v, "expected 'fail: true' or 'fail: reset', got " + Describe(v));
  }
}

void ReadTimeout(Context& c, const Node& v, R& r) {
  r.action = UpstreamActionKind::kTimeout;
  if (auto b = c.Bool(v, "timeout"); b && !*b) c.Error(v, "'timeout: false' is not an action");
}

const Table<R>& ResponseTable() {
  static const Table<R> t = {
      Custom<R>(
          "on", "event name or list", SchemaRef("stringList"),
          "the event names (\"*\" matches every event)",
          [](Context& c, const Node& v, R& r) {
            auto l = c.StrList(v, "on");
            if (!l) return;
            for (const std::string& e : *l) {
              if (e != "*" && !IsIdentifier(e, true)) c.Error(v, "invalid event name " + Q(e));
            }
            r.events = *l;
          },
          true),
      In(&R::match, Section("match", "match", &MatchTable(),
                            "select requests: client, user, data_contains, subprotocol")),
      Declared<R>("accept", "true or mapping",
                  {{"anyOf", {{{"const", true}}, ObjectSchema(DocsOf(AcceptTable()))}}},
                  "204, or 200 with connect overrides {user, groups, roles, subprotocol}"),
      Declared<R>("reject", "status or mapping",
                  {{"anyOf",
                    {StatusSchema(400, 599),
                     {{"type", "object"},
                      {"additionalProperties", false},
                      {"required", {"status"}},
                      {"properties",
                       {{"status", StatusSchema(400, 599)},
                        {"body", nlohmann::json::object()},
                        {"content_type", SchemaRef("scalar")}}}}}}},
                  "status 400-599, or {status, body, content_type}"),
      Declared<R>("reply", "text or mapping",
                  {{"anyOf",
                    {SchemaRef("scalar"),
                     {{"type", "object"},
                      {"additionalProperties", false},
                      {"anyOf", {{{"required", {"body"}}}, {{"required", {"body_raw"}}}}},
                      {"properties",
                       {{"status", StatusSchema(200, 299)},
                        {"body", nlohmann::json::object()},
                        {"body_raw", SchemaRef("scalar")},
                        {"content_type", SchemaRef("scalar")}}}}}}},
                  "200 with a body: text shorthand or {status, body, body_raw, content_type}"),
      Declared<R>("fail", "true or reset", {{"enum", {true, "reset"}}},
                  "the transport fails: connection reset, no response"),
      Declared<R>("timeout", "true", {{"const", true}},
                  "never answers (the service's upstream timeout decides)"),
      Opt("delay", &R::delay_ns, DurationValue(), "answer after this long"),
      Opt("times", &R::times, Integer(1, 1000000000),
          "the rule applies to the first N matching events only"),
      Opt("headers", &R::headers, StringMap(), "response headers"),
      Opt("state", &R::connection_state, String(), "ce-connectionState response header"),
  };
  return t;
}

void ReadResponse(Context& c, const Node& item) {
  Map m(c, item, "upstream response", KeysOf(ResponseTable()));
  if (!m.ok()) return;
  R r;
  r.pos = c.Pos(item);
  ReadFields(c, m, ResponseTable(), r);
  std::vector<std::string> actions;
  for (std::string_view a : kResponseActions) {
    if (m.Has(a)) actions.emplace_back(a);
  }
  if (actions.empty()) {
    c.Error(item, "an upstream response needs one of: accept, reject, reply, fail, timeout");
  } else if (actions.size() > 1) {
    c.Error(*m.Key(actions[1]), "an upstream response has one action; found " + Q(actions[0]) +
                                    " and " + Q(actions[1]));
  } else {
    static const std::vector<std::pair<std::string_view, void (*)(Context&, const Node&, R&)>>
        kReaders = {{"accept", ReadAccept},
                    {"reject", ReadReject},
                    {"reply", ReadReply},
                    {"fail", ReadFail},
                    {"timeout", ReadTimeout}};
    for (const auto& [name, read] : kReaders) {
      if (name == actions[0]) read(c, *m.Get(name), r);
    }
  }
  c.scenario().upstream.responses.push_back(std::move(r));
}

}  // namespace

const Table<UpstreamSettings>& UpstreamTable() {
  using U = UpstreamSettings;
  static const Table<U> t = {
      Custom<U>("handlers", "list", {{"type", "array"}, {"minItems", 1}},
                "event handlers: {url, user_events, system_events}", ReadHandlers, true),
      Opt("validation", &U::validation, EnumValue(&kValidation, "validation reply"),
          "abuse-protection reply: allow (*), origin (exact), deny"),
      Custom<U>("responses", "list", {{"type", "array"}, {"items", SchemaRef("upstreamResponse")}},
                "scripted responses; first match wins, no match = accept (204)",
                [](Context& c, const Node& v, U&) {
                  if (!v.IsSequence()) {
                    c.Error(v, "expected a list of scripted responses, got " + Describe(v));
                    return;
                  }
                  for (const Node& item : v) ReadResponse(c, item);
                }),
  };
  return t;
}

void ReadUpstream(Context& c, const Node& n) {
  Map m(c, n, "upstream", KeysOf(UpstreamTable()));
  if (!m.ok()) return;
  c.scenario().upstream.present = true;
  ReadFields(c, m, UpstreamTable(), c.scenario().upstream);
}

nlohmann::json UpstreamResponseSchema() {
  nlohmann::json schema = ObjectSchema(DocsOf(ResponseTable()));
  nlohmann::json one = nlohmann::json::array();
  for (std::string_view a : kResponseActions) one.push_back({{"required", {a}}});
  schema["oneOf"] = one;
  return schema;
}

const Table<UpstreamEventExpect>& UpstreamEventTable() {
  using U = UpstreamEventExpect;
  static const Table<U> t = {
      Req("event", &U::event, NonEmptyString(),
          "connect, connected, disconnected or a user event name"),
      Opt("client", &U::clients, ClientRefValue(RefOptions{}), "only events of these members"),
      Custom<U>("count", "count", SchemaRef("count"),
                "per member (or in total without client); default at_least 1",
                [](Context& c, const Node& v, U& u) {
                  if (auto n = c.Count(v)) u.count = *n;
                }),
      Opt("body", &U::body, JsonValue(), "a JSON subset of the request body"),
      Opt("body_text", &U::body_text, String(), "the exact request body"),
      Opt("headers", &U::headers, StringMap(), "headers that must be present, exact value"),
  };
  return t;
}

void ReadUpstreamEvent(Context& c, const Map& m, const Node& kind_node, UpstreamEventExpect& u) {
  ReadFields(c, m, UpstreamEventTable(), u);
  if (u.count.empty()) u.count.at_least = 1;
  c.ReadWindow(m, u.window);
  if (!c.scenario().upstream.present) {
    c.Error(kind_node,
            "upstream_event needs an 'upstream' section (the scripted application server)");
  }
}

}  // namespace wpsim::conformance::shape

namespace wpsim::conformance {

std::string_view UpstreamActionKindName(UpstreamActionKind kind) {
  switch (kind) {
    case UpstreamActionKind::kAccept:
      return "accept";
    case UpstreamActionKind::kReject:
      return "reject";
    case UpstreamActionKind::kReply:
      return "reply";
    case UpstreamActionKind::kFail:
      return "fail";
    case UpstreamActionKind::kTimeout:
      return "timeout";
  }
  return "?";
}
namespace {

// Whether an upstream request concerns member m: its ce-connectionId is one the member had;
// else its ce-userId is the member's user and the request is a connect (the member learns its
// id later, if ever) or the member never learns connection ids (raw WebSocket clients).
bool RequestIsFrom(const RunContext& cx, const clients::AppServerRequest& r, uint32_t m) {
  const std::string cid = r.Header("ce-connectionId");
  if (!cid.empty() && cx.members[m].all_connection_ids.count(cid)) return true;
  if (r.event_name != "connect" && !cx.members[m].all_connection_ids.empty()) return false;
  const std::optional<std::string>& user = cx.sc.members[m].user;
  return user && *user == r.Header("ce-userId");
}

clients::AppServerReply ReplyOf(const UpstreamResponse& r) {
  clients::AppServerReply out;
  switch (r.action) {
    case UpstreamActionKind::kAccept:
      if (r.user_id || r.groups || r.roles || r.subprotocol) {
        out = clients::AppServerReply::ConnectWith(r.user_id, r.groups, r.roles, r.subprotocol);
      } else {
        out = clients::AppServerReply::Accept();
      }
      break;
    case UpstreamActionKind::kReject:
    case UpstreamActionKind::kReply:
      out.status = r.status;
      out.body = r.body;
      out.content_type = r.content_type;
      break;
    case UpstreamActionKind::kFail:
      out = clients::AppServerReply::Fail();
      break;
    case UpstreamActionKind::kTimeout:
      out = clients::AppServerReply::Timeout();
      break;
  }
  for (const auto& [name, value] : r.headers) out.headers.push_back({name, value});
  if (r.connection_state) out.connection_state = *r.connection_state;
  out.delay = r.delay_ns;
  return out;
}

bool ResponseMatches(const RunContext& cx, const UpstreamResponse& r,
                     const clients::AppServerRequest& q) {
  if (std::find(r.events.begin(), r.events.end(), "*") == r.events.end() &&
      std::find(r.events.begin(), r.events.end(), q.event_name) == r.events.end()) {
    return false;
  }
  const UpstreamMatch& m = r.match;
  if (m.clients) {
    bool any = false;
    for (uint32_t member : m.clients->members) any = any || RequestIsFrom(cx, q, member);
    if (!any) return false;
  }
  if (m.user_id && q.Header("ce-userId") != *m.user_id) return false;
  if (m.data_contains && q.body.find(*m.data_contains) == std::string::npos) return false;
  if (m.subprotocol) {
    // connect: offered in the body's "subprotocols"; other events: ce-subprotocol.
    std::string sub = q.Header("ce-subprotocol");
    if (q.event_name == "connect") {
      nlohmann::json body = nlohmann::json::parse(q.body, nullptr, false);
      bool offered = false;
      if (body.is_object() && body.contains("subprotocols") && body["subprotocols"].is_array()) {
        for (const auto& v : body["subprotocols"]) offered = offered || v == *m.subprotocol;
      }
      if (!offered) return false;
    } else if (sub != *m.subprotocol) {
      return false;
    }
  }
  return true;
}

// The scenario's responses decide every reply (first match wins, `times` limits a rule);
// no match falls through to the AppServer's default (204). Each request is an arrow.
void ProgramAppServer(RunContext& cx) {
  clients::AppServer* app = cx.env.app_server();
  if (!app) return;
  // Per upstream response: how often it answered.
  auto uses = std::make_shared<std::vector<uint32_t>>(cx.sc.upstream.responses.size(), 0);
  app->handler =
      [&cx, uses](const clients::AppServerRequest& q) -> std::optional<clients::AppServerReply> {
    if (q.method != "POST") return std::nullopt;
    for (size_t i = 0; i < cx.sc.upstream.responses.size(); ++i) {
      const UpstreamResponse& r = cx.sc.upstream.responses[i];
      if (r.times && (*uses)[i] >= *r.times) continue;
      if (!ResponseMatches(cx, r, q)) continue;
      ++(*uses)[i];
      clients::AppServerReply reply = ReplyOf(r);
      // Drawn when decided (arrows stay in time order); a delay is part of the label.
      const int64_t t = cx.env.Now();
      const std::string after = reply.delay > 0 ? " after " + FormatDuration(reply.delay) : "";
      switch (reply.action) {
        case clients::AppServerReply::Action::kRespond:
          cx.Arrow(t, "app", "service", std::to_string(reply.status) + " " + q.event_name + after);
          break;
        case clients::AppServerReply::Action::kFail:
          cx.Arrow(t, "app", "service", "reset " + q.event_name);
          break;
        case clients::AppServerReply::Action::kTimeout:
          break;
      }
      return reply;
    }
    cx.Arrow(cx.env.Now(), "app", "service", "204 " + q.event_name);  // the AppServer's default
    return std::nullopt;
  };
  app->on_request = [&cx](const clients::AppServerRequest& q) {
    cx.Arrow(q.time, "service", "app",
             q.method == "POST" ? "POST " + q.event_name : q.method + " (validation)");
    if (q.method == "OPTIONS") {  // the abuse-protection answer (ValidationReply)
      switch (cx.sc.upstream.validation) {
        case ValidationReply::kAllowAny:
          cx.Arrow(q.time, "app", "service", "200 WebHook-Allowed-Origin: *");
          break;
        case ValidationReply::kAllowOrigin:
          cx.Arrow(q.time, "app", "service", "200 WebHook-Allowed-Origin: service");
          break;
        case ValidationReply::kDeny:
          cx.Arrow(q.time, "app", "service", "401 (validation denied)");
          break;
      }
    }
  };
}

// upstream_event: the application server's requests of one event in the window (per member,
// or in total), with the headers and body asked for.
class UpstreamEventEvaluator : public Evaluator {
 public:
  UpstreamEventEvaluator(RunContext& cx, const Expectation& e) : cx_(cx), e_(e) {}

  void Finish() override {
    const Expectation& e = e_;
    const auto& u = e.As<UpstreamEventExpect>();
    const clients::AppServer* app = cx_.env.app_server();
    if (!app) {
      cx_.Fail(cx_.Where(e) + ": no scripted application server in this environment", "", "",
               e.case_id);
      return;
    }
    const Window w = cx_.WindowOf(u.window);
    CountSpec c = u.count;
    if (c.empty()) c.at_least = 1;
    auto evaluate = [&](std::optional<uint32_t> member, const std::string& who) {
      uint64_t n = 0;
      std::string seen;
      for (const clients::AppServerRequest& r : app->requests()) {
        if (r.time < w.open || r.time > w.close || r.event_name != u.event) continue;
        if (member && !RequestIsFrom(cx_, r, *member)) continue;
        std::string why;
        for (const auto& [name, value] : u.headers) {
          if (r.Header(name) != value) why = name + ": \"" + r.Header(name) + "\"";
        }
        if (u.body_text && r.body != *u.body_text) why = "body \"" + r.body.substr(0, 80) + "\"";
        if (u.body) {
          nlohmann::json got = nlohmann::json::parse(r.body, nullptr, false);
          if (got.is_discarded() || !JsonSubset(*u.body, got))
            why = "body " + r.body.substr(0, 120);
        }
        if (why.empty()) {
          ++n;
        } else if (seen.size() < 300) {
          seen += (seen.empty() ? "" : "; ") + why;
        }
      }
      if (!c.Accepts(n)) {
        std::string want = c.exactly ? "exactly " + std::to_string(*c.exactly)
                           : c.at_least && c.at_most
                               ? std::to_string(*c.at_least) + ".." + std::to_string(*c.at_most)
                           : c.at_least ? "at least " + std::to_string(*c.at_least)
                                        : "at most " + std::to_string(*c.at_most);
        cx_.Fail(cx_.Where(e) + ": the application server received " + std::to_string(n) +
                     " matching \"" + u.event + "\" event(s)" + who,
                 want + " in " + RunContext::DescribeWindow(w),
                 std::to_string(n) + (seen.empty() ? "" : "; non-matching: " + seen), e.case_id);
      }
    };
    if (!u.clients) {
      evaluate(std::nullopt, "");
      return;
    }
    for (uint32_t m : u.clients->members) evaluate(m, " for " + cx_.sc.members[m].name);
  }

 private:
  RunContext& cx_;
  const Expectation& e_;
};

}  // namespace

void RegisterUpstreamFamily(FamilyRegistry& r) {
  r.AddExpectation<UpstreamEventEvaluator>(ExpectKind::kUpstreamEvent);
  r.on_start.push_back(ProgramAppServer);
}

}  // namespace wpsim::conformance
