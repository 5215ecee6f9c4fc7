#include "conformance/steps/upstream_run.h"

#include <algorithm>

namespace wpsim::conformance {
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

std::unique_ptr<Evaluator> MakeUpstreamEvent(RunContext& cx, const Expectation& e) {
  return std::make_unique<UpstreamEventEvaluator>(cx, e);
}

}  // namespace

void RegisterUpstreamFamily(FamilyRegistry& r) {
  r.AddExpectation(ExpectKind::kUpstreamEvent, MakeUpstreamEvent);
  r.on_start.push_back(ProgramAppServer);
}

}  // namespace wpsim::conformance
