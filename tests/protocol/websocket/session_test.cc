#include "protocol/websocket/session.h"

#include <gtest/gtest.h>

#include "tests/protocol/websocket/frame_decoder.h"

namespace wpsim::protocol::websocket {
namespace {

std::string TakeAll(Session& s) {
  std::vector<uint8_t> bytes;
  s.output().CopyTo(bytes);
  s.output().Consume(bytes.size());
  return std::string(bytes.begin(), bytes.end());
}

TEST(WebSocketFrames, ServerFrameEncodingMatchesRfc6455Examples) {
  // RFC 6455 §5.7: unmasked "Hello", 256 bytes and 64 KiB binary.
  EXPECT_EQ(EncodeServerFrame(Opcode::kText, "Hello").view(), std::string_view("\x81\x05Hello", 7));
  const std::string p256(256, 'x');
  const SharedBytes f256 = EncodeServerFrame(Opcode::kBinary, p256);
  EXPECT_EQ(f256.view().substr(0, 4), std::string_view("\x82\x7e\x01\x00", 4));
  EXPECT_EQ(f256.size(), 260u);
  const std::string p64k(65536, 'y');
  const SharedBytes f64k = EncodeServerFrame(Opcode::kBinary, p64k);
  EXPECT_EQ(f64k.view().substr(0, 10), std::string_view("\x82\x7f\0\0\0\0\0\x01\0\0", 10));
  EXPECT_EQ(f64k.size(), 65546u);
  EXPECT_EQ(f64k.view().substr(10), p64k);
}

TEST(WebSocketFrames, HandWrittenMaskedFrameMatchesRfc6455Example) {
  std::string out;
  FrameSpec spec;
  spec.masked = true;
  spec.mask = {0x37, 0xfa, 0x21, 0x3d};
  AppendFrame(out, spec, AsBytes("Hello"));
  EXPECT_EQ(out, std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"));
}

TEST(WebSocketSession, ClientMasksWithKeysFromItsRng) {
  Session client(Role::kClient, SessionOptions{}, sim::Rng(99));
  ASSERT_TRUE(client.SendText("Hello").ok());
  // The session draws one 64-bit value per frame and uses its low four bytes as the key.
  sim::Rng rng(99);
  const uint64_t r = rng.Next();
  FrameSpec spec;
  spec.masked = true;
  for (int i = 0; i < 4; ++i) spec.mask[i] = static_cast<uint8_t>(r >> (8 * i));
  std::string want;
  AppendFrame(want, spec, AsBytes("Hello"));
  EXPECT_EQ(wpsim::testing::Escape(TakeAll(client)), wpsim::testing::Escape(want));
}

TEST(WebSocketSession, ClientAndServerTalkThroughEachOther) {
  Session client(Role::kClient, SessionOptions{}, sim::Rng(5));
  Session server(Role::kServer, SessionOptions{});
  ASSERT_TRUE(client.SendText("ping?").ok());
  server.Receive(0, AsBytes(TakeAll(client)));
  auto ev = server.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->text(), "ping?");
  ASSERT_TRUE(server.SendText("pong!").ok());
  client.Receive(0, AsBytes(TakeAll(server)));
  ev = client.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->text(), "pong!");
}

TEST(WebSocketSession, PreEncodedFramesGoOutInOrderWithoutCopies) {
  Session s(Role::kServer, SessionOptions{});
  const SharedBytes shared = EncodeServerFrame(Opcode::kText, "fan-out");
  ASSERT_TRUE(s.SendText("before").ok());
  ASSERT_TRUE(s.SendEncoded(shared).ok());
  ASSERT_TRUE(s.SendText("after").ok());
  EXPECT_EQ(shared.use_count(), 2u);  // queued by reference
  EXPECT_EQ(s.output().chunks(), 3u);
  // The middle chunk is the very same buffer.
  s.output().Consume(s.output().Front().size());
  ASSERT_NE(s.output().FrontShared(), nullptr);
  EXPECT_EQ(s.output().FrontShared()->data(), shared.data());
  s.output().Consume(shared.size());
  EXPECT_EQ(shared.use_count(), 1u);
  EXPECT_EQ(wpsim::testing::DescribeFrames(TakeAll(s)), std::vector<std::string>{"text \"after\""});
}

TEST(WebSocketSession, SteadyStateFanOutReusesQueueCapacity) {
  Session s(Role::kServer, SessionOptions{});
  const SharedBytes shared = EncodeServerFrame(Opcode::kText, "x");
  // Warm up, then check that queueing and draining many rounds keeps the same storage.
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(s.SendEncoded(shared).ok());
  s.output().Consume(s.output().bytes());
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(s.SendEncoded(shared).ok());
    ASSERT_EQ(s.output().FrontShared()->data(), shared.data());
    s.output().Consume(s.output().bytes());
  }
  EXPECT_EQ(shared.use_count(), 1u);
}

TEST(WebSocketSession, OutgoingMessagesAreFragmentedWhenAsked) {
  SessionOptions o;
  o.fragment_bytes_max = 4;
  Session s(Role::kServer, o);
  ASSERT_TRUE(s.SendText("abcdefghij").ok());
  EXPECT_EQ(wpsim::testing::DescribeFrames(TakeAll(s)),
            (std::vector<std::string>{"text nofin \"abcd\"", "continuation nofin \"efgh\"",
                                      "continuation \"ij\""}));
}

TEST(WebSocketSession, BackpressureRefusesDataButNotControlFrames) {
  SessionOptions o;
  o.output_bytes_max = 16;
  Session s(Role::kServer, o);
  ASSERT_TRUE(s.SendText("0123456789").ok());  // 12 bytes queued
  const Status refused = s.SendText("0123456789");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "backpressure");
  EXPECT_TRUE(s.Ping().ok());
  s.output().Consume(s.output().bytes());
  EXPECT_TRUE(s.SendText("0123456789").ok());
}

TEST(WebSocketSession, InvalidUtf8TextIsNotSent) {
  Session s(Role::kServer, SessionOptions{});
  EXPECT_EQ(s.SendText("\xff").error().code, "invalid_utf8");
  EXPECT_FALSE(s.HasOutput());
}

TEST(WebSocketSession, LocalCloseWaitsForThePeerThenTimesOut) {
  SessionOptions o;
  o.close_timeout = 5 * kSecondNs;
  Session s(Role::kServer, o);
  s.Start(0);
  s.Close(100, close_code::kNormal, "bye");
  EXPECT_EQ(s.state(), State::kClosing);
  EXPECT_EQ(wpsim::testing::DescribeFrames(TakeAll(s)),
            std::vector<std::string>{"close 1000 \"bye\""});
  EXPECT_EQ(s.SendText("late").error().code, "closed");
  ASSERT_EQ(s.NextDeadline(), 100 + 5 * kSecondNs);
  s.HandleTimeout(100 + 5 * kSecondNs - 1);
  EXPECT_FALSE(s.PollEvent().has_value());
  s.HandleTimeout(100 + 5 * kSecondNs);
  auto ev = s.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->kind, Event::Kind::kClosed);
  EXPECT_EQ(ev->cause, CloseCause::kTimeout);
  EXPECT_EQ(ev->close_code, close_code::kAbnormal);
  EXPECT_TRUE(s.Finished());
  EXPECT_FALSE(s.NextDeadline().has_value());
}

TEST(WebSocketSession, LocalCloseAnsweredByThePeerIsClean) {
  Session client(Role::kClient, SessionOptions{}, sim::Rng(3));
  Session server(Role::kServer, SessionOptions{});
  server.Close(0, 4000, "app");
  client.Receive(0, AsBytes(TakeAll(server)));
  auto cev = client.PollEvent();
  ASSERT_TRUE(cev.has_value());
  EXPECT_EQ(cev->cause, CloseCause::kPeerClosed);
  EXPECT_EQ(cev->close_code, 4000);
  EXPECT_EQ(cev->close_reason, "app");
  server.Receive(0, AsBytes(TakeAll(client)));
  auto sev = server.PollEvent();
  ASSERT_TRUE(sev.has_value());
  EXPECT_EQ(sev->cause, CloseCause::kLocalClosed);
  EXPECT_EQ(sev->close_code, 4000);
  EXPECT_TRUE(sev->clean);
}

TEST(WebSocketCloseReason, LongReasonIsCutTo123BytesAtACodePointBoundary) {
  EXPECT_EQ(CloseReasonForFrame(""), "");
  EXPECT_EQ(CloseReasonForFrame("bye"), "bye");
  const std::string ascii(200, 'r');
  EXPECT_EQ(CloseReasonForFrame(ascii), ascii.substr(0, 123));
  // "é" is 2 bytes: 61 of them are 122 bytes; the 62nd would end at byte 124.
  std::string two_byte;
  for (int i = 0; i < 100; ++i) two_byte += "\xc3\xa9";
  EXPECT_EQ(CloseReasonForFrame(two_byte), two_byte.substr(0, 122));
  // A 4-byte code point straddling byte 123 is left out whole.
  const std::string straddle = std::string(121, 'x') + "\xf0\x9f\x98\x80" + "tail";
  EXPECT_EQ(CloseReasonForFrame(straddle), std::string(121, 'x'));
}

TEST(WebSocketCloseReason, InvalidUtf8EndsTheReasonBeforeTheFirstBadByte) {
  EXPECT_EQ(CloseReasonForFrame("ok\xff then more"), "ok");
  EXPECT_EQ(CloseReasonForFrame("\xc3"), "");  // truncated code point
  EXPECT_EQ(CloseReasonForFrame("ab\xed\xa0\x80"), "ab");  // a surrogate
}

TEST(WebSocketSession, CloseWithAnOverlongOrInvalidReasonSendsTheCutReason) {
  Session s(Role::kServer, SessionOptions{});
  s.Start(0);
  const std::string reason = std::string(130, 'z') + "\xff";
  s.Close(0, close_code::kNormal, reason);
  EXPECT_EQ(s.state(), State::kClosing);
  EXPECT_EQ(wpsim::testing::DescribeFrames(TakeAll(s)),
            std::vector<std::string>{"close 1000 \"" + std::string(123, 'z') + "\""});
  Session bad(Role::kServer, SessionOptions{});
  bad.Start(0);
  bad.Close(0, close_code::kNormal, "ok\xc3");
  EXPECT_EQ(wpsim::testing::DescribeFrames(TakeAll(bad)),
            std::vector<std::string>{"close 1000 \"ok\""});
}

// 1005 is never sent on the wire (RFC 6455 §7.1.5): asked for it, the session sends an empty
// Close frame, which the peer reports as 1005.
TEST(WebSocketSession, CloseWithNoStatusSendsAnEmptyCloseFrame) {
  Session client(Role::kClient, SessionOptions{}, sim::Rng(5));
  Session server(Role::kServer, SessionOptions{});
  client.Close(0, close_code::kNoStatus, "ignored");
  EXPECT_EQ(client.state(), State::kClosing);
  server.Receive(0, AsBytes(TakeAll(client)));
  auto ev = server.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->cause, CloseCause::kPeerClosed);
  EXPECT_EQ(ev->close_code, close_code::kNoStatus);
  EXPECT_EQ(ev->close_reason, "");
}

TEST(WebSocketSession, OversizedFrameHeaderIsRefusedWith1009BeforeAnyPayload) {
  SessionOptions o;
  o.message_bytes_max = 1024;
  Session s(Role::kServer, o);
  s.Start(0);
  // FIN + binary, masked, 64-bit length 2^62, mask key; no payload byte follows.
  const std::string header("\x82\xff\x40\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04", 14);
  s.Receive(0, AsBytes(header));
  auto ev = s.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->kind, Event::Kind::kClosed);
  EXPECT_EQ(ev->close_code, close_code::kMessageTooBig);
  EXPECT_EQ(wpsim::testing::DescribeFrames(TakeAll(s)),
            std::vector<std::string>{"close 1009 \"message exceeds the size limit\""});
}

TEST(WebSocketSession, OversizedContinuationHeaderIsRefusedWith1009BeforeAnyPayload) {
  SessionOptions o;
  o.message_bytes_max = 1024;
  Session s(Role::kServer, o);
  s.Start(0);
  std::string first;
  FrameSpec spec;
  spec.opcode = Opcode::kText;
  spec.fin = false;
  spec.masked = true;
  AppendFrame(first, spec, AsBytes(std::string(1000, 'a')));
  s.Receive(0, AsBytes(first));
  EXPECT_FALSE(s.PollEvent().has_value());
  // A continuation announcing 100 more bytes would end at 1100 > 1024.
  s.Receive(0, AsBytes(std::string("\x80\xe4\x01\x02\x03\x04", 6)));
  auto ev = s.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->close_code, close_code::kMessageTooBig);
}

TEST(WebSocketSession, OversizedContinuationHeaderInTheSameReadAsTheFirstFragmentIsRefused) {
  SessionOptions o;
  o.message_bytes_max = 100000;
  std::string bytes;
  FrameSpec spec;
  spec.opcode = Opcode::kBinary;
  spec.fin = false;
  spec.masked = true;
  AppendFrame(bytes, spec, AsBytes(std::string(70000, 'a')));
  // Continuation announcing 40,000 more bytes (over the limit), header and mask key only.
  bytes += std::string("\x80\xfe\x9c\x40\x01\x02\x03\x04", 8);
  for (size_t step : {size_t{1} << 20, size_t{4096}, size_t{1000}, size_t{7}}) {
    Session t(Role::kServer, o);
    t.Start(0);
    std::optional<Event> ev;
    for (size_t at = 0; at < bytes.size() && !ev; at += step) {
      t.Receive(0, AsBytes(std::string_view(bytes).substr(at, step)));
      ev = t.PollEvent();
    }
    ASSERT_TRUE(ev.has_value()) << "step " << step;
    EXPECT_EQ(ev->close_code, close_code::kMessageTooBig) << "step " << step;
  }
}

TEST(WebSocketSession, PeerThatAnswersNoKeepalivePingIsClosedAfterTheConfiguredCount) {
  SessionOptions o;
  o.keepalive_interval = 20 * kSecondNs;
  o.keepalive_unanswered_max = 3;
  Session s(Role::kServer, o);
  s.Start(0);
  for (int i = 1; i <= 3; ++i) {
    s.HandleTimeout(i * 20 * kSecondNs);
    EXPECT_FALSE(s.PollEvent().has_value());
  }
  EXPECT_EQ(wpsim::testing::DescribeFrames(TakeAll(s)),
            (std::vector<std::string>{"ping \"\"", "ping \"\"", "ping \"\""}));
  s.HandleTimeout(4 * 20 * kSecondNs);
  auto ev = s.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->kind, Event::Kind::kClosed);
  EXPECT_EQ(ev->cause, CloseCause::kTimeout);
  EXPECT_EQ(ev->close_code, close_code::kGoingAway);
  EXPECT_EQ(wpsim::testing::DescribeFrames(TakeAll(s)),
            std::vector<std::string>{"close 1001 \"keep-alive timeout: pings unanswered\""});
}

TEST(WebSocketSession, AnyByteFromThePeerResetsTheUnansweredPingCount) {
  SessionOptions o;
  o.keepalive_interval = 20 * kSecondNs;
  o.keepalive_unanswered_max = 2;
  Session client(Role::kClient, SessionOptions{}, sim::Rng(2));
  Session s(Role::kServer, o);
  s.Start(0);
  for (int i = 1; i <= 6; ++i) {
    s.HandleTimeout(i * 20 * kSecondNs);
    ASSERT_TRUE(client.Ping().ok());  // the peer answers with a ping of its own each round
    s.Receive(i * 20 * kSecondNs + 1, AsBytes(TakeAll(client)));
    while (auto ev = s.PollEvent()) EXPECT_NE(ev->kind, Event::Kind::kClosed);
  }
  EXPECT_EQ(s.state(), State::kOpen);
}

TEST(WebSocketSession, KeepaliveDeadlinesAreData) {
  SessionOptions o;
  o.keepalive_interval = 20 * kSecondNs;
  Session s(Role::kServer, o);
  s.Start(1000);
  ASSERT_EQ(s.NextDeadline(), 1000 + 20 * kSecondNs);
  s.HandleTimeout(1000 + 20 * kSecondNs);
  EXPECT_EQ(wpsim::testing::DescribeFrames(TakeAll(s)), std::vector<std::string>{"ping \"\""});
  EXPECT_EQ(s.NextDeadline(), 1000 + 40 * kSecondNs);
}

TEST(WebSocketSession, IdleTimeoutRestartsWithEveryReceive) {
  SessionOptions o;
  o.idle_timeout = 10 * kSecondNs;
  Session s(Role::kServer, o);
  s.Start(0);
  const std::string ping("\x89\x80\0\0\0\0", 6);
  s.Receive(8 * kSecondNs, AsBytes(ping));
  while (s.PollEvent()) {
  }
  EXPECT_EQ(s.NextDeadline(), 18 * kSecondNs);
  s.HandleTimeout(18 * kSecondNs);
  auto ev = s.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->cause, CloseCause::kTimeout);
  EXPECT_EQ(ev->close_code, close_code::kGoingAway);
}

TEST(WebSocketSession, LargeFragmentedMessageIsReassembledAcrossWslayChunks) {
  Session s(Role::kServer, SessionOptions{});
  std::string input;
  std::string payload;
  for (int i = 0; i < 100000; ++i) payload += static_cast<char>('a' + i % 26);
  FrameSpec first;
  first.opcode = Opcode::kText;
  first.fin = false;
  first.masked = true;
  first.mask = {1, 2, 3, 4};
  AppendFrame(input, first, AsBytes(std::string_view(payload).substr(0, 60000)));
  FrameSpec last = first;
  last.opcode = Opcode::kContinuation;
  last.fin = true;
  AppendFrame(input, last, AsBytes(std::string_view(payload).substr(60000)));
  s.Receive(0, AsBytes(input));
  auto ev = s.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->kind, Event::Kind::kMessage);
  EXPECT_EQ(ev->text(), payload);
}

TEST(WebSocketSession, IdleSessionsHoldNoFrameContextAndResumeSplitFramesAfterSharingThePool) {
  // Two servers parse interleaved byte-by-byte input (frames of 1 to 300 bytes: 7-bit and
  // 16-bit lengths, a ping between the fragments of a message). A session keeps wslay's
  // context while a frame is half-read and gives it back to the per-thread pool at every
  // frame boundary, so the two keep swapping pooled contexts; both must still decode everything.
  std::string input;
  std::vector<std::string> payloads;
  FrameSpec spec;
  spec.masked = true;
  spec.mask = {9, 8, 7, 6};
  for (size_t n : {1u, 125u, 126u, 300u}) {
    payloads.push_back(std::string(n, static_cast<char>('a' + n % 26)));
    spec.opcode = Opcode::kText;
    AppendFrame(input, spec, AsBytes(payloads.back()));
  }
  FrameSpec part = spec;
  part.fin = false;
  AppendFrame(input, part, AsBytes("frag"));
  FrameSpec ping = spec;
  ping.opcode = Opcode::kPing;
  AppendFrame(input, ping, AsBytes("p"));
  FrameSpec rest = spec;
  rest.opcode = Opcode::kContinuation;
  AppendFrame(input, rest, AsBytes("mented"));
  payloads.push_back("fragmented");

  Session a(Role::kServer, SessionOptions{});
  Session b(Role::kServer, SessionOptions{});
  EXPECT_FALSE(a.holds_frame_context());
  std::vector<std::string> got_a, got_b;
  bool a_held_mid_frame = false;
  auto drain = [](Session& s, std::vector<std::string>& got) {
    while (auto ev = s.PollEvent()) {
      if (ev->kind == Event::Kind::kMessage) got.emplace_back(ev->text());
    }
  };
  for (size_t i = 0; i < input.size(); ++i) {
    a.Receive(0, AsBytes(std::string_view(input).substr(i, 1)));
    drain(a, got_a);
    a_held_mid_frame = a_held_mid_frame || a.holds_frame_context();
    b.Receive(0, AsBytes(std::string_view(input).substr(i, 1)));
    drain(b, got_b);
  }
  EXPECT_TRUE(a_held_mid_frame);
  EXPECT_EQ(got_a, payloads);
  EXPECT_EQ(got_b, payloads);
  EXPECT_FALSE(a.holds_frame_context());
  EXPECT_FALSE(b.holds_frame_context());
  // Sending borrows a context and gives it back; the pong for the ping went out too.
  ASSERT_TRUE(a.SendText("out").ok());
  EXPECT_FALSE(a.holds_frame_context());
  const std::string out = TakeAll(a);
  EXPECT_NE(out.find(std::string("\x8a\x01p", 3)), std::string::npos);
  EXPECT_NE(out.find(std::string("\x81\x03out", 5)), std::string::npos);
}

TEST(WebSocketSession, DefaultMessageLimitIsOneMebibyte) {
  EXPECT_EQ(SessionOptions{}.message_bytes_max, 1024u * 1024u);
  Session s(Role::kServer, SessionOptions{});
  std::string input;
  FrameSpec spec;
  spec.opcode = Opcode::kBinary;
  spec.masked = true;
  AppendFrame(input, spec, AsBytes(std::string(1024 * 1024 + 1, 'z')));
  s.Receive(0, AsBytes(input));
  auto ev = s.PollEvent();
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->close_code, close_code::kMessageTooBig);
}

TEST(WebSocketCloseCodes, ValidityFollowsRfc6455AndTheIanaRegistry) {
  for (uint16_t c : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999}) {
    EXPECT_TRUE(IsValidCloseCode(c)) << c;
  }
  for (uint16_t c : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    EXPECT_FALSE(IsValidCloseCode(c)) << c;
  }
}

}  // namespace
}  // namespace wpsim::protocol::websocket
