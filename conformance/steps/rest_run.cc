#include "conformance/steps/rest_run.h"

#include <algorithm>

#include "base/encoding.h"
#include "conformance/steps/auth_run.h"
#include "protocol/http/url.h"
#include "protocol/rest/router.h"

namespace wpsim::conformance {
namespace {

std::string ConnectionIdOf(RunContext& cx, const ConnectionTarget& t) {
  if (t.literal_id) return *t.literal_id;
  if (t.client && !t.client->members.empty()) return cx.members[t.client->members[0]].connection_id;
  return "";
}

clients::RestClient& RestClientFor(RunContext& cx, uint32_t m) {
  MemberState& ms = cx.members[m];
  if (!ms.rest) {
    clients::RestClientOptions o;
    o.service = cx.env.ServiceAddress();
    o.connection_string = cx.env.connection_string();
    o.dial = cx.env.Dialer(m);
    o.record_observations = false;  // answers go to the step's RestRecord
    ms.rest =
        std::make_unique<clients::RestClient>(cx.env.ClientRuntime(m), cx.sc.members[m].name, o);
  }
  return *ms.rest;
}

// What a REST step changes in the SDK's request: headers, api-version, and the bearer token
// when the step or its client asks for a fault, another audience form or lifetime.
clients::RestCallOptions RestCallOptionsFor(RunContext& cx, const RestStep& r,
                                            const IterContext& ctx) {
  clients::RestCallOptions call;
  for (const auto& [k, v] : r.request_headers) call.headers.emplace_back(k, cx.Template(v, ctx));
  call.omit_api_version = r.omit_api_version;
  call.api_version = r.api_version;
  const TokenOptions& tok = r.auth ? *r.auth : cx.sc.ClientOf(r.client).token;
  if (r.auth || tok.fault != TokenFault::kNone || tok.audience || tok.lifetime_ns ||
      tok.rest_audience != RestAudienceForm::kFullUrl || !tok.claims.empty()) {
    call.token = [&cx, m = r.client, tok](const std::string& url) {
      TokenOptions t = tok;
      if (!t.audience) {
        t.audience =
            t.rest_audience == RestAudienceForm::kWithoutQuery ? url.substr(0, url.find('?')) : url;
      }
      return Token(cx, m, t);
    };
  }
  return call;
}

std::function<bool()> Rest(RunContext& cx, uint32_t step, const RestStep& r,
                           const IterContext& ctx) {
  namespace http = protocol::http;
  namespace rest = protocol::rest;
  std::string method, path, content_type, body;
  std::vector<std::pair<std::string, std::string>> query;
  auto enc = [](const std::string& s) { return http::PercentEncode(s); };
  if (r.op == RestOp::kRequest) {
    method = r.method;
    path = Replace(cx.Template(r.path, ctx), "{hub}", enc(cx.sc.hub));
    for (const auto& [k, v] : r.query_params) query.emplace_back(k, cx.Template(v, ctx));
  } else {
    const rest::Operation op = *RestOperationOf(r.op);
    method = std::string(rest::OperationMethod(op));
    path = std::string(rest::OperationPath(op));
    path = Replace(path, "{hub}", enc(cx.sc.hub));
    if (r.group) path = Replace(path, "{group}", enc(cx.Template(*r.group, ctx)));
    if (r.connection)
      path = Replace(path, "{connectionId}", enc(ConnectionIdOf(cx, *r.connection)));
    if (r.user) path = Replace(path, "{userId}", enc(cx.Template(*r.user, ctx)));
    if (r.permission)
      path = Replace(path, "{permission}", std::string(PermissionWireName(*r.permission)));
    if (r.excluded) {
      for (uint32_t m : r.excluded->members)
        query.emplace_back("excluded", cx.members[m].connection_id);
    }
    for (const std::string& id : r.excluded_ids)
      query.emplace_back("excluded", cx.Template(id, ctx));
    const bool groups_op = r.op == RestOp::kAddToGroups || r.op == RestOp::kRemoveFromGroups;
    if (r.filter && !groups_op) query.emplace_back("filter", cx.Template(*r.filter, ctx));
    if (r.message_ttl_seconds)
      query.emplace_back("messageTtlSeconds", std::to_string(*r.message_ttl_seconds));
    if (r.reason) query.emplace_back("reason", cx.Template(*r.reason, ctx));
    if (r.target_name) query.emplace_back("targetName", cx.Template(*r.target_name, ctx));
    if (r.max_page_size) query.emplace_back("maxpagesize", std::to_string(*r.max_page_size));
    if (r.top) query.emplace_back("top", std::to_string(*r.top));
    if (r.continuation_token) query.emplace_back("continuationToken", *r.continuation_token);
    if (r.op == RestOp::kGenerateToken) {
      if (r.user) query.emplace_back("userId", cx.Template(*r.user, ctx));
      for (const std::string& role : r.roles) query.emplace_back("role", role);
      for (const std::string& g : r.groups) query.emplace_back("group", g);
      if (r.minutes_to_expire)
        query.emplace_back("minutesToExpire", std::to_string(*r.minutes_to_expire));
      if (r.client_type) query.emplace_back("clientType", *r.client_type);
    }
    if (groups_op && !r.has_body) {
      nlohmann::json b = {{"groups", r.groups}};
      if (r.filter) b["filter"] = cx.Template(*r.filter, ctx);
      body = b.dump();
      content_type = "application/json";
    }
  }
  if (r.has_body) {
    body = cx.Template(r.body, ctx);
    content_type = r.content_type.empty() ? "application/json" : r.content_type;
  }
  std::string target = path;
  for (size_t i = 0; i < query.size(); ++i) {
    target += i == 0 ? "?" : "&";
    target += enc(query[i].first) + "=" + enc(query[i].second);
  }
  const int64_t now = cx.env.Now();
  const std::string label =
      "s" + std::to_string(step) + "#" + std::to_string(cx.rest_records.size());
  const size_t index = cx.rest_records.size();
  cx.rest_records.push_back(RestRecord{r.client, label, now});
  cx.step_rest[step].push_back(index);
  const bool is_send = r.op == RestOp::kSendToAll || r.op == RestOp::kSendToGroup ||
                       r.op == RestOp::kSendToUser || r.op == RestOp::kSendToConnection;
  if (is_send) {
    std::string key = body;
    if (content_type.rfind("application/octet-stream", 0) == 0) {
      key = Base64Encode(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
    }
    std::string p(r.op == RestOp::kSendToAll     ? reports::kPathServerToAll
                  : r.op == RestOp::kSendToGroup ? reports::kPathServerToGroup
                  : r.op == RestOp::kSendToUser  ? reports::kPathServerToUser
                                                 : reports::kPathServerToConnection);
    cx.RecordPublish(r.client, key, ctx.intended_ns.value_or(now), p);
    if (key == body) {
      // MQTT 3.1.1 receivers (and MQTT 5 ones without a content type) see the body as binary,
      // which PayloadText keys by its base64 (as RecordMqttPublish does the other way round).
      const std::string b64 = Base64Encode(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
      if (b64 != key) {
        cx.publishes[b64].push_back(PublishRecord{r.client, ctx.intended_ns.value_or(now), p,
                                                  cx.publish_counter[r.client] - 1,
                                                  cx.issuing_intended});
      }
    }
  }
  cx.Arrow(now, cx.sc.members[r.client].name, "service", method + " " + path);
  cx.result.Count(reports::kCounterOperations);
  cx.result.Count(reports::kCounterRestCalls);
  clients::RestCallOptions call = RestCallOptionsFor(cx, r, ctx);
  // all_pages: follow nextLink and record one response whose `value` holds every page's.
  auto pages = std::make_shared<nlohmann::json>(nlohmann::json::array());
  auto on_response = std::make_shared<clients::RestClient::ResponseFn>();
  *on_response = [&cx, index, intended = ctx.intended_ns.value_or(now), all = r.all_pages, call,
                  pages, weak = std::weak_ptr<clients::RestClient::ResponseFn>(on_response),
                  member = r.client](const protocol::http::Response& resp) {
    RestRecord& rec = cx.rest_records[index];
    rec.time_ns = cx.env.Now();
    cx.result.Latency(reports::Metric::kRestCall, reports::ClientKind::kRest)
        .histogram.Record(std::max<int64_t>(1, rec.time_ns - intended));
    if (resp.status >= 400) cx.result.Count(reports::kCounterErrors);
    cx.Arrow(rec.time_ns, "service", cx.sc.members[rec.member].name, std::to_string(resp.status));
    if (all && resp.status == 200) {
      nlohmann::json page = nlohmann::json::parse(resp.body, nullptr, false);
      if (page.is_object() && page.contains("value") && page["value"].is_array()) {
        for (const nlohmann::json& v : page["value"]) pages->push_back(v);
        if (page.contains("nextLink") && page["nextLink"].is_string()) {
          // nextLink is absolute and carries api-version: call its path and query as is.
          std::string link = page["nextLink"].get<std::string>();
          const size_t scheme = link.find("://");
          const size_t slash = link.find('/', scheme == std::string::npos ? 0 : scheme + 3);
          link = slash == std::string::npos ? "/" : link.substr(slash);
          clients::RestCallOptions next = call;
          next.omit_api_version = true;
          if (auto self = weak.lock()) {
            RestClientFor(cx, member).Call("GET", link, "", "", rec.label, *self, next);
            return;
          }
        }
        rec.body = nlohmann::json{{"value", *pages}}.dump();
      } else {
        rec.body = resp.body;
      }
    } else {
      rec.body = resp.body;
    }
    rec.done = true;
    rec.status = resp.status;
    if (auto v = resp.headers.Get("x-ms-error-code")) rec.error_code = std::string(*v);
  };
  cx.rest_callbacks.push_back(on_response);
  RestClientFor(cx, r.client).Call(method, target, content_type, body, label, *on_response, call);
  return [&cx, index] { return cx.rest_records[index].done; };
}

void IssueRest(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  out.push_back(cx.Awaiting(s, Rest(cx, s.id, s.As<RestStep>(), ctx)));
}

// http_status: the answers to the step's REST calls (a connect step: its upgrade's status).
class HttpStatusEvaluator : public Evaluator {
 public:
  HttpStatusEvaluator(RunContext& cx, const Expectation& e) : cx_(cx), e_(e) {}

  void Finish() override {
    const Expectation& e = e_;
    const auto& h = e.As<HttpStatusExpect>();
    auto it = cx_.step_rest.find(h.step);
    if (it == cx_.step_rest.end()) {
      // A connect step's expect_status: the upgrade's status.
      const Step& s = cx_.sc.steps[h.step];
      if (s.kind() == StepKind::kConnect) {
        for (uint32_t m : s.As<ConnectStep>().clients.members) {
          const int status = cx_.members[m].first_upgrade_status;
          if (std::find(h.statuses.begin(), h.statuses.end(), status) == h.statuses.end()) {
            cx_.Fail(cx_.Where(e) + ": " + cx_.sc.members[m].name + " upgrade answered " +
                         std::to_string(status),
                     "HTTP " + JoinStatuses(h.statuses), "HTTP " + std::to_string(status),
                     e.case_id);
          }
        }
        return;
      }
      cx_.Fail(cx_.Where(e) + ": the step made no HTTP call", "HTTP " + JoinStatuses(h.statuses),
               "none", e.case_id);
      return;
    }
    for (size_t index : it->second) {
      const RestRecord& r = cx_.rest_records[index];
      if (!r.done) {
        cx_.Fail(cx_.Where(e) + ": no response", "HTTP " + JoinStatuses(h.statuses), "no response",
                 e.case_id);
        continue;
      }
      if (std::find(h.statuses.begin(), h.statuses.end(), r.status) == h.statuses.end()) {
        cx_.Fail(cx_.Where(e) + ": " + cx_.sc.steps[h.step].label + " answered " +
                     std::to_string(r.status),
                 "HTTP " + JoinStatuses(h.statuses),
                 "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 200), e.case_id);
        continue;
      }
      if (h.error_code && r.error_code != *h.error_code) {
        cx_.Fail(cx_.Where(e) + ": wrong x-ms-error-code", *h.error_code,
                 r.error_code.empty() ? "(none)" : r.error_code, e.case_id);
      }
      if (h.body) {
        // String values may name run-time ids: "${alice.connection_id}".
        const nlohmann::json want = cx_.Templated(*h.body);
        nlohmann::json got = nlohmann::json::parse(r.body, nullptr, false);
        if (got.is_discarded() || !JsonSubset(want, got)) {
          cx_.Fail(cx_.Where(e) + ": response body differs", want.dump(), r.body.substr(0, 300),
                   e.case_id);
        }
      }
    }
  }

 private:
  RunContext& cx_;
  const Expectation& e_;
};

std::unique_ptr<Evaluator> MakeHttpStatus(RunContext& cx, const Expectation& e) {
  return std::make_unique<HttpStatusEvaluator>(cx, e);
}

}  // namespace

void RegisterRestFamily(FamilyRegistry& r) {
  r.AddStep(StepKind::kRest, IssueRest);
  r.AddExpectation(ExpectKind::kHttpStatus, MakeHttpStatus);
}

}  // namespace wpsim::conformance
