// Runs the HTTP case files in tests/data/http/ (format: tests/protocol/http/case_file.h).
// Every input is fed whole, then 1, 2, 3, ... bytes at a time; the event trace and the output
// (drained one byte per call, to force partial writes) must be identical for every split.
//
// Server cases: the fixture answers each request by the case's policy:
//   respond: now (default) | reverse (answer all requests at the end, newest first)
//   status: <code> (default 200); the body echoes the request body, or "ok" when empty
//   continue: accept (default) | reject (answer 417 before the body)
//   upgrade: accept (default: 101 Upgrade: websocket) | reject (400)
//   limits: url=N header=N count=N body=N pipelined=N
//   eof: yes (the peer half-closes after the input)
// Client cases: the "requests" block lists "METHOD target" lines sent before any input.
#include <gtest/gtest.h>

#include <sstream>

#include "base/shared_bytes.h"
#include "protocol/http/client_connection.h"
#include "protocol/http/server_connection.h"
#include "tests/protocol/http/case_file.h"

namespace wpsim::protocol::http {
namespace {

using wpsim::testing::DataCase;
using wpsim::testing::Escape;

Limits ParseLimits(const std::string& spec) {
  Limits l;
  std::istringstream in(spec);
  std::string item;
  while (in >> item) {
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const size_t v = std::stoul(item.substr(eq + 1));
    if (key == "url") l.url_bytes_max = v;
    else if (key == "header") l.header_bytes_max = v;
    else if (key == "count") l.header_count_max = v;
    else if (key == "body") l.body_bytes_max = v;
    else if (key == "pipelined") l.pipelined_requests_max = v;
    else if (key == "upgrade") l.upgrade_buffer_bytes_max = v;
    else throw std::runtime_error("unknown limit " + key);
  }
  return l;
}

void TraceHeaders(std::vector<std::string>& trace, const Headers& headers) {
  for (const Header& h : headers) trace.push_back("header " + Escape(h.name) + ": " + Escape(h.value));
}

struct Outcome {
  std::vector<std::string> trace;
  std::string output;
};

template <typename Conn>
void DrainOneByte(Conn& conn, std::string& out) {
  // A sink that accepts one byte per call.
  while (conn.HasOutput()) {
    out += static_cast<char>(conn.PeekOutput()[0]);
    conn.ConsumeOutput(1);
  }
}

Outcome RunServer(const DataCase& c, const std::string& input, size_t step) {
  Outcome o;
  ServerConnection conn(ParseLimits(c.Scalar("limits")));
  const bool reverse = c.Scalar("respond", "now") == "reverse";
  const int status = std::stoi(c.Scalar("status", "200"));
  std::vector<Request> deferred;
  std::string upgrade_bytes;
  bool upgraded = false;

  auto answer = [&](const Request& r) {
    Response resp;
    resp.status = status;
    resp.headers.Add("Content-Type", "text/plain");
    resp.body = r.body.empty() ? "ok" : r.body;
    conn.Respond(r.id, std::move(resp));
  };
  auto poll = [&] {
    while (auto ev = conn.PollEvent()) {
      switch (ev->kind) {
        case ServerEvent::Kind::kRequest: {
          const Request& r = ev->request;
          std::string line = "request " + std::to_string(r.id) + " " + r.method + " " +
                             Escape(r.target) + " HTTP/1." + std::to_string(r.version_minor) +
                             (r.keep_alive ? " keep-alive" : " close");
          if (r.upgrade) line += " upgrade";
          if (r.expect_continue) line += " expect-continue";
          if (r.chunked) line += " chunked";
          o.trace.push_back(line);
          TraceHeaders(o.trace, r.headers);
          if (!r.body.empty()) o.trace.push_back("body \"" + Escape(r.body) + "\"");
          if (r.upgrade) {
            if (c.Scalar("upgrade", "accept") == "accept") {
              Response resp;
              resp.status = 101;
              resp.headers.Add("Upgrade", "websocket");
              resp.headers.Add("Connection", "Upgrade");
              std::vector<uint8_t> rest = conn.AcceptUpgrade(r.id, std::move(resp));
              upgrade_bytes.assign(rest.begin(), rest.end());
              upgraded = true;
            } else {
              Response resp;
              resp.status = 400;
              conn.Respond(r.id, std::move(resp));
            }
          } else if (reverse) {
            deferred.push_back(r);
          } else {
            answer(r);
          }
          break;
        }
        case ServerEvent::Kind::kContinue: {
          const Request& r = ev->request;
          o.trace.push_back("continue " + std::to_string(r.id) + " " + r.method + " " +
                            Escape(r.target));
          if (c.Scalar("continue", "accept") == "accept") {
            conn.Continue(r.id);
          } else {
            Response resp;
            resp.status = 417;
            conn.Respond(r.id, std::move(resp));
          }
          break;
        }
        case ServerEvent::Kind::kError:
          o.trace.push_back("error " + std::to_string(ev->error.status) + " " + ev->error.code +
                            " @" + std::to_string(ev->error.offset));
          break;
      }
    }
  };

  for (size_t pos = 0; pos < input.size(); pos += step) {
    const std::string_view piece = std::string_view(input).substr(pos, step);
    if (upgraded) {
      upgrade_bytes.append(piece);  // the next protocol's bytes: the owner keeps them
    } else {
      conn.Receive(wpsim::AsBytes(piece));
    }
    poll();
    DrainOneByte(conn, o.output);
  }
  if (c.Scalar("eof") == "yes") {
    conn.ReceiveEof();
    poll();
  }
  for (auto it = deferred.rbegin(); it != deferred.rend(); ++it) answer(*it);
  DrainOneByte(conn, o.output);
  if (upgraded) o.trace.push_back("upgraded \"" + Escape(upgrade_bytes) + "\"");
  if (conn.WantsClose()) o.trace.push_back("close");
  return o;
}

Outcome RunClient(const DataCase& c, const std::string& input, size_t step) {
  Outcome o;
  ClientConnection conn(ParseLimits(c.Scalar("limits")));
  for (const std::string& line : c.Block("requests")) {
    std::istringstream in(line);
    Request r;
    in >> r.method >> r.target;
    r.headers.Add("Host", "wpsim.test");
    conn.SendRequest(r);
  }
  DrainOneByte(conn, o.output);
  auto poll = [&] {
    while (auto ev = conn.PollEvent()) {
      if (ev->kind == ClientEvent::Kind::kError) {
        o.trace.push_back("error " + std::to_string(ev->error.status) + " " + ev->error.code +
                          " @" + std::to_string(ev->error.offset));
        continue;
      }
      const Response& r = ev->response;
      std::string line = "response " + std::to_string(r.status) + " " + Escape(r.reason) +
                         " HTTP/1." + std::to_string(r.version_minor) +
                         (r.keep_alive ? " keep-alive" : " close");
      if (r.upgrade) line += " upgrade";
      if (r.chunked) line += " chunked";
      o.trace.push_back(line);
      TraceHeaders(o.trace, r.headers);
      if (!r.body.empty()) o.trace.push_back("body \"" + Escape(r.body) + "\"");
    }
  };
  for (size_t pos = 0; pos < input.size(); pos += step) {
    conn.Receive(wpsim::AsBytes(std::string_view(input).substr(pos, step)));
    poll();
  }
  if (c.Scalar("eof") == "yes") {
    conn.ReceiveEof();
    poll();
  }
  if (conn.upgraded()) {
    std::vector<uint8_t> rest = conn.TakeUpgradeBytes();
    o.trace.push_back("upgraded \"" + Escape(std::string(rest.begin(), rest.end())) + "\"");
  }
  o.trace.push_back("outstanding " + std::to_string(conn.outstanding()));
  return o;
}

std::vector<DataCase> AllCases() {
  std::vector<DataCase> all;
  for (const char* f : {"http/server.md", "http/client.md"}) {
    for (DataCase& c : wpsim::testing::LoadCases(wpsim::testing::DataPath(f))) {
      all.push_back(std::move(c));
    }
  }
  return all;
}

class HttpCaseFile : public ::testing::TestWithParam<DataCase> {};

TEST_P(HttpCaseFile, TraceAndOutputMatchForEverySplit) {
  const DataCase& c = GetParam();
  SCOPED_TRACE(c.Where() + ": " + c.reason);
  const std::string input = wpsim::testing::JoinBytes(c.Block("input"));
  const std::string want_output = wpsim::testing::JoinBytes(c.Block("output"));
  const std::vector<std::string>& want_trace = c.Block("trace");
  ASSERT_TRUE(c.HasBlock("trace")) << "case has no trace block";
  const bool server = c.Scalar("mode", "server") == "server";
  const size_t whole = std::max<size_t>(input.size(), 1);
  for (size_t step = whole; step >= 1; --step) {
    Outcome o = server ? RunServer(c, input, step) : RunClient(c, input, step);
    ASSERT_EQ(o.trace, want_trace) << "split into pieces of " << step << " bytes";
    ASSERT_EQ(Escape(o.output), Escape(want_output)) << "split into pieces of " << step << " bytes";
  }
}

std::string CaseName(const ::testing::TestParamInfo<DataCase>& info) {
  std::string name = info.param.file.substr(0, info.param.file.find('.')) + "_";
  for (char ch : info.param.title) {
    name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  }
  return name + "_L" + std::to_string(info.param.line);
}

INSTANTIATE_TEST_SUITE_P(Data, HttpCaseFile, ::testing::ValuesIn(AllCases()), CaseName);

}  // namespace
}  // namespace wpsim::protocol::http
