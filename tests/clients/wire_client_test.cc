// The wire client's own readers and frame encoder (clients/wire_client.h): the oracle of the wire
// steps must not depend on the service's protocol/ code, so it is checked here byte by byte.
#include "clients/wire_client.h"

#include <gtest/gtest.h>

#include <string>

#include "sim/sim_network.h"
#include "sim/sim_runtime.h"

namespace wpsim::clients {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class WireClientReader : public ::testing::Test {
 protected:
  sim::SimNetwork net;
  sim::SimRuntime* rt = net.AddHost("client").value();
  WireClient client{*rt, sim::Address{"service", 80}, {}};
};

TEST(WireFrameEncoding, MasksWithTheFixedKeyAndUsesTheAnnouncedLength) {
  const std::string f = EncodeWireFrame(WireFrameSpec{true, 0, 1, true, "Hi", std::nullopt});
  const std::string masked = {static_cast<char>('H' ^ 0x37), static_cast<char>('i' ^ 0xfa)};
  EXPECT_EQ(f, std::string("\x81\x82\x37\xfa\x21\x3d", 6) + masked);
  const std::string g = EncodeWireFrame(WireFrameSpec{false, 4, 2, false, "", 70000});
  EXPECT_EQ(g, std::string("\x42\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
  const std::string h = EncodeWireFrame(WireFrameSpec{true, 0, 9, false, std::string(126, 'a'), {}});
  EXPECT_EQ(h.substr(0, 4), std::string("\x89\x7e\x00\x7e", 4));
}

TEST_F(WireClientReader, ReadsPipelinedResponsesWithLengthChunksAndHeadAndThenFrames) {
  client.Write("", {"GET", "HEAD", "GET"});
  client.OnData(Bytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: 1\r\n\r\nabcHTTP/1.1 200 OK\r\n"
                      "Content-Length: 9\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked"
                      "\r\n\r\n2\r\nhe\r\n3;x=y\r\nllo\r\n0\r\n\r\n"));
  ASSERT_EQ(client.events().size(), 3u);
  EXPECT_EQ(client.events()[0].response.body, "abc");
  EXPECT_EQ(client.events()[0].response.Header("x-a"), "1");
  EXPECT_EQ(client.events()[1].response.body, "");  // HEAD: no body despite Content-Length
  EXPECT_EQ(client.events()[2].response.status, 201);
  EXPECT_EQ(client.events()[2].response.body, "hello");
  client.OnData(Bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x88\x05\x03"));
  EXPECT_TRUE(client.websocket());
  EXPECT_EQ(client.events().size(), 4u);  // the close frame is not complete yet
  client.OnData(Bytes(std::string("\xe9" "bye", 4)));
  ASSERT_EQ(client.events().size(), 5u);
  const WireFrame& close = client.events()[4].frame;
  EXPECT_EQ(close.opcode, 8);
  EXPECT_EQ(close.close_code, 1001);
  EXPECT_EQ(close.close_reason, "bye");
  client.OnEnd();
  EXPECT_TRUE(client.ended());
  EXPECT_EQ(client.events().back().kind, WireEvent::Kind::kEnd);
}

TEST_F(WireClientReader, AResponseWithoutALengthRunsToTheEndOfTheStream) {
  client.OnData(Bytes("HTTP/1.0 400 Bad Request\r\n\r\npartial"));
  EXPECT_TRUE(client.events().empty());
  client.OnEnd();
  ASSERT_EQ(client.events().size(), 2u);
  EXPECT_EQ(client.events()[0].response.status, 400);
  EXPECT_EQ(client.events()[0].response.body, "partial");
}

}  // namespace
}  // namespace wpsim::clients
