#include "protocol/websocket/handshake.h"

#include <gtest/gtest.h>

#include "base/shared_bytes.h"
#include "protocol/http/server_connection.h"

namespace wpsim::protocol::websocket {
namespace {

http::Request UpgradeRequest() {
  http::Request r;
  r.method = "GET";
  r.target = "/client/hubs/chat";
  r.headers.Add("Host", "server.example.com");
  r.headers.Add("Upgrade", "websocket");
  r.headers.Add("Connection", "Upgrade");
  r.headers.Add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  r.headers.Add("Sec-WebSocket-Version", "13");
  return r;
}

TEST(WebSocketHandshake, AcceptKeyMatchesRfc6455Example) {
  // RFC 6455 §1.3.
  EXPECT_EQ(ComputeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshake, GoodUpgradeIsAcceptedWith101) {
  const UpgradeOffer offer = ValidateUpgradeRequest(UpgradeRequest());
  ASSERT_TRUE(offer.ok) << offer.reject_reason;
  EXPECT_TRUE(offer.subprotocols.empty());
  EXPECT_EQ(http::SerializeResponse(AcceptResponse(offer)),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
}

TEST(WebSocketHandshake, TokensAreMatchedCaseInsensitivelyInLists) {
  http::Request r = UpgradeRequest();
  r.headers.Set("Connection", "keep-alive, UPGRADE");
  r.headers.Set("Upgrade", "WebSocket");
  EXPECT_TRUE(ValidateUpgradeRequest(r).ok);
}

TEST(WebSocketHandshake, MissingKeyIsRejectedWith400) {
  http::Request r = UpgradeRequest();
  r.headers.Remove("Sec-WebSocket-Key");
  const UpgradeOffer offer = ValidateUpgradeRequest(r);
  EXPECT_FALSE(offer.ok);
  EXPECT_EQ(offer.reject_status, 400);
  EXPECT_EQ(RejectResponse(offer).status, 400);
}

TEST(WebSocketHandshake, KeyThatIsNot16BytesIsRejectedWith400) {
  http::Request r = UpgradeRequest();
  r.headers.Set("Sec-WebSocket-Key", "c2hvcnQ=");  // "short"
  EXPECT_EQ(ValidateUpgradeRequest(r).reject_status, 400);
}

TEST(WebSocketHandshake, WrongVersionIsRejectedWith426NamingVersion13) {
  http::Request r = UpgradeRequest();
  r.headers.Set("Sec-WebSocket-Version", "8");
  const UpgradeOffer offer = ValidateUpgradeRequest(r);
  EXPECT_EQ(offer.reject_status, 426);
  const http::Response resp = RejectResponse(offer);
  EXPECT_EQ(resp.status, 426);
  EXPECT_EQ(resp.headers.Get("Sec-WebSocket-Version"), "13");
}

TEST(WebSocketHandshake, NonGetAndMissingUpgradeAreRejectedWith400) {
  http::Request post = UpgradeRequest();
  post.method = "POST";
  EXPECT_EQ(ValidateUpgradeRequest(post).reject_status, 400);
  http::Request plain = UpgradeRequest();
  plain.headers.Remove("Upgrade");
  EXPECT_EQ(ValidateUpgradeRequest(plain).reject_status, 400);
  http::Request no_conn = UpgradeRequest();
  no_conn.headers.Set("Connection", "keep-alive");
  EXPECT_EQ(ValidateUpgradeRequest(no_conn).reject_status, 400);
}

TEST(WebSocketHandshake, OfferedSubprotocolsKeepOrderAcrossRepeatedHeaders) {
  http::Request r = UpgradeRequest();
  r.headers.Add("Sec-WebSocket-Protocol", "json.reliable.webpubsub.azure.v1, json.webpubsub.azure.v1");
  r.headers.Add("Sec-WebSocket-Protocol", "mqtt");
  const UpgradeOffer offer = ValidateUpgradeRequest(r);
  ASSERT_TRUE(offer.ok);
  EXPECT_EQ(offer.subprotocols, (std::vector<std::string>{"json.reliable.webpubsub.azure.v1",
                                                          "json.webpubsub.azure.v1", "mqtt"}));
  const http::Response resp = AcceptResponse(offer, "json.webpubsub.azure.v1");
  EXPECT_EQ(resp.headers.Get("Sec-WebSocket-Protocol"), "json.webpubsub.azure.v1");
}

TEST(WebSocketHandshake, ClientRequestValidatesOnTheServerAndBack) {
  sim::Rng rng(42);
  const ClientHandshake client = ClientHandshake::WithRng(
      "localhost:8080", "/client/hubs/chat?access_token=abc", {"json.webpubsub.azure.v1", "mqtt"}, rng);
  http::Headers extra;
  extra.Add("Authorization", "Bearer t");
  const http::Request req = client.BuildRequest(extra);
  EXPECT_EQ(req.headers.Get("Sec-WebSocket-Protocol"), "json.webpubsub.azure.v1, mqtt");
  EXPECT_EQ(req.headers.Get("Authorization"), "Bearer t");
  // Round trip through the wire form and the server-side parser.
  http::ServerConnection server;
  server.Receive(AsBytes(http::SerializeRequest(req)));
  auto ev = server.PollEvent();
  ASSERT_TRUE(ev.has_value());
  ASSERT_TRUE(ev->request.upgrade);
  const UpgradeOffer offer = ValidateUpgradeRequest(ev->request);
  ASSERT_TRUE(offer.ok) << offer.reject_reason;
  EXPECT_EQ(offer.key, client.key());
  const auto chosen = client.ValidateResponse(AcceptResponse(offer, "mqtt"));
  ASSERT_TRUE(chosen.ok()) << chosen.error().message;
  EXPECT_EQ(*chosen, "mqtt");
  const auto none = client.ValidateResponse(AcceptResponse(offer));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
}

TEST(WebSocketHandshake, ClientKeysDependOnlyOnTheRngSeed) {
  sim::Rng a(1), b(1), c(2);
  EXPECT_EQ(ClientHandshake::WithRng("h", "/", {}, a).key(), ClientHandshake::WithRng("h", "/", {}, b).key());
  sim::Rng d(1);
  EXPECT_NE(ClientHandshake::WithRng("h", "/", {}, c).key(), ClientHandshake::WithRng("h", "/", {}, d).key());
}

TEST(WebSocketHandshake, ClientRejectsBadAccept) {
  std::array<uint8_t, 16> key{};
  const ClientHandshake client("h", "/", {}, key);
  http::Response r;
  r.status = 101;
  r.headers.Add("Upgrade", "websocket");
  r.headers.Add("Connection", "Upgrade");
  r.headers.Add("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // for another key
  const auto result = client.ValidateResponse(r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "accept");
}

TEST(WebSocketHandshake, ClientRejectsSubprotocolItDidNotOffer) {
  std::array<uint8_t, 16> key{};
  const ClientHandshake client("h", "/", {"json.webpubsub.azure.v1"}, key);
  http::Response r;
  r.status = 101;
  r.headers.Add("Upgrade", "websocket");
  r.headers.Add("Connection", "Upgrade");
  r.headers.Add("Sec-WebSocket-Accept", ComputeAcceptKey(client.key()));
  r.headers.Add("Sec-WebSocket-Protocol", "mqtt");
  const auto result = client.ValidateResponse(r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "subprotocol");
}

TEST(WebSocketHandshake, ClientRejectsNon101Answer) {
  std::array<uint8_t, 16> key{};
  const ClientHandshake client("h", "/", {}, key);
  http::Response r;
  r.status = 401;
  const auto result = client.ValidateResponse(r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "status");
}

}  // namespace
}  // namespace wpsim::protocol::websocket
