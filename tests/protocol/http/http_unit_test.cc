#include <gtest/gtest.h>

#include "base/shared_bytes.h"
#include "protocol/http/message.h"
#include "protocol/http/server_connection.h"
#include "protocol/http/url.h"

namespace wpsim::protocol::http {
namespace {

TEST(HttpHeaders, LookupIsCaseInsensitiveAndOrderIsKept) {
  Headers h;
  h.Add("Content-Type", "a");
  h.Add("X-One", "1");
  h.Add("content-type", "b");
  EXPECT_EQ(h.Get("CONTENT-TYPE"), "a");
  EXPECT_EQ(h.GetAll("Content-Type"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(h[1].name, "X-One");
  h.Set("content-TYPE", "c");
  EXPECT_EQ(h.GetAll("Content-Type"), std::vector<std::string_view>{"c"});
  EXPECT_FALSE(h.Get("Missing").has_value());
}

TEST(HttpHeaders, ListsSplitOnCommasAcrossRepeatedHeaders) {
  Headers h;
  h.Add("Connection", "keep-alive,  Upgrade ");
  h.Add("Connection", ",close");
  EXPECT_EQ(h.GetList("connection"),
            (std::vector<std::string_view>{"keep-alive", "Upgrade", "close"}));
  EXPECT_TRUE(h.HasToken("Connection", "upgrade"));
  EXPECT_FALSE(h.HasToken("Connection", "upgrad"));
}

TEST(HttpSerialize, ChunkedResponseBodyRoundTripsThroughTheClientParser) {
  Response r;
  r.chunked = true;
  r.body = std::string(40000, 'q');
  const std::string wire = SerializeResponse(r);
  EXPECT_NE(wire.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(wire.find("\r\n4000\r\n"), std::string::npos);  // 16 KiB chunks in hex
  Parser p(Parser::Type::kResponse, Limits{});
  p.ExpectResponse(false);
  EXPECT_EQ(p.Feed(AsBytes(wire)), wire.size());
  ASSERT_TRUE(p.HasEvent());
  EXPECT_EQ(p.Next().message.body, r.body);
}

TEST(HttpSerialize, ChunkedRequestBodyIsReassembledByTheServer) {
  Request req;
  req.method = "POST";
  req.target = "/x";
  req.chunked = true;
  req.body = "hello chunked";
  ServerConnection server;
  server.Receive(AsBytes(SerializeRequest(req)));
  auto ev = server.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_TRUE(ev->request.chunked);
  EXPECT_EQ(ev->request.body, "hello chunked");
}

Request WithTargetAndHosts(std::string target, std::vector<std::string> hosts) {
  Request r;
  r.target = std::move(target);
  for (std::string& h : hosts) r.headers.Add("Host", std::move(h));
  return r;
}

std::string NormalizeError(Request r) {
  std::optional<HttpError> e = NormalizeServerRequest(r);
  return e ? std::to_string(e->status) + " " + e->code : "ok " + r.target;
}

TEST(HttpServerRequestNormalisation, AbsoluteFormBecomesOriginFormWithItsAuthorityAsHost) {
  Request r = WithTargetAndHosts("http://service:80/api/hubs/h/:send?x=1#frag", {"other"});
  ASSERT_FALSE(NormalizeServerRequest(r).has_value());
  EXPECT_EQ(r.target, "/api/hubs/h/:send?x=1");
  EXPECT_EQ(r.headers.GetAll("Host"), std::vector<std::string_view>{"service:80"});
  Request bare = WithTargetAndHosts("HTTPS://example.test", {});
  ASSERT_FALSE(NormalizeServerRequest(bare).has_value());
  EXPECT_EQ(bare.target, "/");
  EXPECT_EQ(bare.headers.Get("Host"), "example.test");
  Request query_only = WithTargetAndHosts("http://h?q=1", {"h"});
  ASSERT_FALSE(NormalizeServerRequest(query_only).has_value());
  EXPECT_EQ(query_only.target, "/?q=1");
}

TEST(HttpServerRequestNormalisation, BadAbsoluteFormTargetsAre400) {
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("ftp://h/x", {"h"})), "400 bad_target_scheme");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("http://u:p@h/x", {"h"})),
            "400 bad_target_userinfo");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("http:///x", {"h"})), "400 bad_target_authority");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("http://h:port/x", {"h"})),
            "400 bad_target_authority");
}

TEST(HttpServerRequestNormalisation, HostMustBePresentOnceAndValid) {  // RFC 9112 §3.2
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"h:80"})), "ok /x");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"[::1]:8080"})), "ok /x");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {})), "400 missing_host");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {""})), "400 invalid_host");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"h", "h"})), "400 repeated_host");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"a", "b"})), "400 repeated_host");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"a, b"})), "400 invalid_host");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"a b"})), "400 invalid_host");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"h:"})), "400 invalid_host");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"h:123456"})), "400 invalid_host");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"h/x"})), "400 invalid_host");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"u@h"})), "400 invalid_host");
  EXPECT_EQ(NormalizeError(WithTargetAndHosts("/x", {"[zz]"})), "400 invalid_host");
}

TEST(HttpServer, ResponsesForUnknownIdsAreIgnored) {
  ServerConnection server;
  server.Respond(7, Response{});
  EXPECT_FALSE(server.HasOutput());
}

TEST(HttpServer, FailedParserStaysFailedWithLlhttpReason) {
  ServerConnection server;
  server.Receive(AsBytes("GET / HTTP/1.1\r\nBad Header\r\n\r\n"));
  auto ev = server.PollEvent();
  ASSERT_TRUE(ev.has_value());
  ASSERT_EQ(ev->kind, ServerEvent::Kind::kError);
  EXPECT_EQ(ev->error.status, 400);
  EXPECT_EQ(ev->error.code, "HPE_INVALID_HEADER_TOKEN");
  EXPECT_FALSE(ev->error.reason.empty());
  EXPECT_TRUE(server.parser().failed());
  server.Receive(AsBytes("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(server.PollEvent().has_value());
}

TEST(HttpUrl, TargetSplitsIntoPathAndQuery) {
  const TargetParts t = SplitTarget("/api/hubs/h1/:send?api-version=2024-12-01#frag");
  EXPECT_EQ(t.path, "/api/hubs/h1/:send");
  EXPECT_EQ(t.query, "api-version=2024-12-01");
  EXPECT_EQ(SplitTarget("?a=1").path, "/");
  EXPECT_EQ(SplitPath("/api/hubs/h1"), (std::vector<std::string_view>{"api", "hubs", "h1"}));
  EXPECT_EQ(SplitPath("/a//b/"), (std::vector<std::string_view>{"a", "", "b", ""}));
}

TEST(HttpUrl, PathSegmentsKeepEncodedSlashAndPlus) {
  // PROTOCOL.md §13: %2F stays literal, %20 becomes a space, '+' stays '+'.
  EXPECT_EQ(DecodePathSegment("user%2Fone"), "user%2Fone");
  EXPECT_EQ(DecodePathSegment("user%2fone"), "user%2fone");
  EXPECT_EQ(DecodePathSegment("a%20b+c"), "a b+c");
  EXPECT_EQ(DecodePathSegment("%E4%BD%A0"), "\xe4\xbd\xa0");
  EXPECT_EQ(DecodePathSegment("bad%G1%"), "bad%G1%");
}

TEST(HttpUrl, QueryPairsDecodePlusAsSpaceAndKeepOrder) {
  const QueryPairs q = ParseQuery("group=a%20b&excluded=c1&group=x+y&flag&=v&&userId=%2B1");
  ASSERT_EQ(q.size(), 6u);  // the empty piece between "&&" is skipped
  EXPECT_EQ(FindAllQuery(q, "group"), (std::vector<std::string>{"a b", "x y"}));
  EXPECT_EQ(*FindQuery(q, "flag"), "");
  EXPECT_EQ(*FindQuery(q, ""), "v");
  EXPECT_EQ(*FindQuery(q, "userId"), "+1");
  EXPECT_EQ(FindQuery(q, "missing"), nullptr);
}

TEST(HttpUrl, PercentEncodeMatchesEncodeUriComponent) {
  EXPECT_EQ(PercentEncode("a b/c?d=e&f+g~h*'()!"), "a%20b%2Fc%3Fd%3De%26f%2Bg~h*'()!");
  EXPECT_EQ(DecodeQueryComponent(PercentEncode("x y+z/é")), "x y+z/é");
}

}  // namespace
}  // namespace wpsim::protocol::http
