// Autobahn|Testsuite fuzzingclient cases 1-7 (framing, pings/pongs, reserved bits, opcodes,
// fragmentation, UTF-8 handling, close handling) as a table. The session under test is what
// Autobahn tests: a server that echoes every message. Each row lists the client frames
// (masked, as Autobahn sends them), how the bytes are chopped, and the frames the server must
// send back; a close is written with its code only ("close 1002"). Where Autobahn accepts
// either "fail fast" or "fail at message end" for UTF-8 (6.4.x), we require fail fast.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/websocket/frame.h"
#include "protocol/websocket/session.h"
#include "tests/protocol/websocket/frame_decoder.h"

namespace wpsim::protocol::websocket {
namespace {

struct F {
  uint8_t op;
  std::string payload;
  bool fin = true;
  uint8_t rsv = 0;
};

struct Row {
  std::string id;
  std::string what;
  std::vector<F> frames;
  size_t chop;  // 0: all bytes in one Receive; n: pieces of n bytes
  std::vector<std::string> expect;
};

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(wpsim::testing::HexDigit(hex[i]) * 16 +
                             wpsim::testing::HexDigit(hex[i + 1]));
  }
  return out;
}

std::string Bytes(size_t n, char c = '*') { return std::string(n, c); }

std::string Describe(const wpsim::testing::DecodedFrame& f) {
  std::string s = wpsim::testing::DescribeFrame(f);
  if (f.opcode == 8) s = s.substr(0, s.find(" \""));  // close: code only
  return s;
}

std::vector<std::string> EchoServer(const Row& row) {
  std::string input;
  for (const F& f : row.frames) {
    FrameSpec spec;
    spec.opcode = static_cast<Opcode>(f.op);
    spec.fin = f.fin;
    spec.rsv = f.rsv;
    spec.masked = true;
    spec.mask = {0x11, 0x22, 0x33, 0x44};
    AppendFrame(input, spec, AsBytes(f.payload));
  }
  Session s(Role::kServer, SessionOptions{});
  s.Start(0);
  const size_t step = row.chop == 0 ? input.size() : row.chop;
  std::string output;
  for (size_t pos = 0; pos < input.size(); pos += step) {
    s.Receive(0, AsBytes(std::string_view(input).substr(pos, step)));
    while (auto ev = s.PollEvent()) {
      if (ev->kind == Event::Kind::kMessage) {
        EXPECT_TRUE(s.Send(ev->opcode, ev->payload).ok());
      }
    }
  }
  std::vector<uint8_t> bytes;
  s.output().CopyTo(bytes);
  output.assign(bytes.begin(), bytes.end());
  std::vector<std::string> lines;
  for (const auto& f : wpsim::testing::DecodeFrames(output)) lines.push_back(Describe(f));
  return lines;
}

constexpr uint8_t kCont = 0, kText = 1, kBin = 2, kClose = 8, kPing = 9, kPong = 10;

std::string CloseBody(uint16_t code, std::string reason = "") {
  std::string s;
  s += static_cast<char>(code >> 8);
  s += static_cast<char>(code & 0xFF);
  return s + reason;
}

std::vector<Row> Rows() {
  std::vector<Row> r;
  // 1.x framing: echo of text and binary messages of every length class.
  const size_t lens[] = {0, 125, 126, 127, 128, 65535, 65536};
  for (int i = 0; i < 7; ++i) {
    const size_t n = lens[i];
    const std::string echo = n > 64 ? " <" + std::to_string(n) + " bytes>" : " \"" + Bytes(n) + "\"";
    r.push_back({"1.1." + std::to_string(i + 1), "text message, payload " + std::to_string(n),
                 {{kText, Bytes(n)}}, 0, {"text" + echo}});
    r.push_back({"1.2." + std::to_string(i + 1), "binary message, payload " + std::to_string(n),
                 {{kBin, Bytes(n)}}, 0, {"binary" + echo}});
  }
  r.push_back({"1.1.8", "text 65536 in chops of 997", {{kText, Bytes(65536)}}, 997,
               {"text <65536 bytes>"}});
  r.push_back({"1.2.8", "binary 65536 in chops of 997", {{kBin, Bytes(65536)}}, 997,
               {"binary <65536 bytes>"}});

  // 2.x pings and pongs.
  r.push_back({"2.1", "ping without payload", {{kPing, ""}}, 0, {"pong \"\""}});
  r.push_back({"2.2", "ping with small text payload", {{kPing, "Hello, world!"}}, 0,
               {"pong \"Hello, world!\""}});
  r.push_back({"2.3", "ping with small binary payload", {{kPing, Hex("00fffefdfcfb00ff")}}, 0,
               {"pong \"\\x00\\xff\\xfe\\xfd\\xfc\\xfb\\x00\\xff\""}});
  r.push_back({"2.4", "ping with 125-byte payload", {{kPing, Bytes(125)}}, 0,
               {"pong <125 bytes>"}});
  r.push_back({"2.5", "ping with 126-byte payload", {{kPing, Bytes(126)}}, 0, {"close 1002"}});
  r.push_back({"2.6", "ping with 125-byte payload in chops of 1", {{kPing, Bytes(125)}}, 1,
               {"pong <125 bytes>"}});
  r.push_back({"2.7", "unsolicited pong without payload", {{kPong, ""}}, 0, {}});
  r.push_back({"2.8", "unsolicited pong with payload", {{kPong, "unsolicited pong payload"}}, 0, {}});
  r.push_back({"2.9", "unsolicited pong, then ping", {{kPong, "unsolicited pong payload"},
                                                      {kPing, "ping payload"}}, 0,
               {"pong \"ping payload\""}});
  {
    Row ten{"2.10", "10 pings", {}, 0, {}};
    for (int i = 0; i < 10; ++i) {
      ten.frames.push_back({kPing, "payload-" + std::to_string(i)});
      ten.expect.push_back("pong \"payload-" + std::to_string(i) + "\"");
    }
    r.push_back(ten);
    ten.id = "2.11";
    ten.what = "10 pings in chops of 1";
    ten.chop = 1;
    r.push_back(ten);
  }

  // 3.x reserved bits: the connection fails; messages before the bad frame are echoed.
  r.push_back({"3.1", "text with RSV=1", {{kText, "Hello, world!", true, 1}}, 0, {"close 1002"}});
  r.push_back({"3.2", "text, text with RSV=2, ping",
               {{kText, "Hello, world!"}, {kText, "Hello, world!", true, 2}, {kPing, ""}}, 0,
               {"text \"Hello, world!\"", "close 1002"}});
  r.push_back({"3.3", "text, text with RSV=3, ping (frame-wise)",
               {{kText, "Hello, world!"}, {kText, "Hello, world!", true, 3}, {kPing, ""}}, 1,
               {"text \"Hello, world!\"", "close 1002"}});
  r.push_back({"3.4", "text, text with RSV=4, ping (in chops)",
               {{kText, "Hello, world!"}, {kText, "Hello, world!", true, 4}, {kPing, ""}}, 3,
               {"text \"Hello, world!\"", "close 1002"}});
  r.push_back({"3.5", "binary with RSV=5", {{kBin, Hex("00fffe"), true, 5}}, 0, {"close 1002"}});
  r.push_back({"3.6", "ping with RSV=6", {{kPing, "Hello, world!", true, 6}}, 0, {"close 1002"}});
  r.push_back({"3.7", "close with RSV=7", {{kClose, CloseBody(1000), true, 7}}, 0, {"close 1002"}});

  // 4.x reserved opcodes.
  const uint8_t data_ops[] = {3, 4, 5, 6, 7};
  const uint8_t ctrl_ops[] = {11, 12, 13, 14, 15};
  for (int i = 0; i < 5; ++i) {
    const bool with_echo = i >= 2;
    Row d{"4.1." + std::to_string(i + 1), "reserved non-control opcode " + std::to_string(data_ops[i]),
          {}, 0, {}};
    Row c{"4.2." + std::to_string(i + 1), "reserved control opcode " + std::to_string(ctrl_ops[i]),
          {}, 0, {}};
    if (with_echo) {
      d.frames.push_back({kText, "Hello, world!"});
      c.frames.push_back({kText, "Hello, world!"});
      d.expect.push_back("text \"Hello, world!\"");
      c.expect.push_back("text \"Hello, world!\"");
    }
    d.frames.push_back({data_ops[i], i == 0 ? "" : "reserved payload"});
    c.frames.push_back({ctrl_ops[i], i == 0 ? "" : "reserved payload"});
    if (with_echo) {
      d.frames.push_back({kPing, ""});
      c.frames.push_back({kPing, ""});
    }
    d.expect.push_back("close 1002");
    c.expect.push_back("close 1002");
    r.push_back(d);
    r.push_back(c);
  }

  // 5.x fragmentation.
  r.push_back({"5.1", "ping in 2 fragments", {{kPing, "fragment1", false}, {kCont, "fragment2"}}, 0,
               {"close 1002"}});
  r.push_back({"5.2", "pong in 2 fragments", {{kPong, "fragment1", false}, {kCont, "fragment2"}}, 0,
               {"close 1002"}});
  for (auto [id, chop] : {std::pair{"5.3", 0}, {"5.4", 7}, {"5.5", 1}}) {
    r.push_back({id, "text in 2 fragments", {{kText, "fragment1", false}, {kCont, "fragment2"}},
                 static_cast<size_t>(chop), {"text \"fragment1fragment2\""}});
  }
  for (auto [id, chop] : {std::pair{"5.6", 0}, {"5.7", 7}, {"5.8", 1}}) {
    r.push_back({id, "text in 2 fragments with a ping between",
                 {{kText, "fragment1", false}, {kPing, "ping payload"}, {kCont, "fragment2"}},
                 static_cast<size_t>(chop),
                 {"pong \"ping payload\"", "text \"fragment1fragment2\""}});
  }
  for (auto [id, chop] : {std::pair{"5.9", 0}, {"5.10", 7}, {"5.11", 1}}) {
    r.push_back({id, "continuation (FIN) with nothing to continue, then text",
                 {{kCont, "non-continuation payload"}, {kText, "Hello, world!"}},
                 static_cast<size_t>(chop), {"close 1002"}});
  }
  for (auto [id, chop] : {std::pair{"5.12", 0}, {"5.13", 7}, {"5.14", 1}}) {
    r.push_back({id, "continuation (no FIN) with nothing to continue, then text",
                 {{kCont, "non-continuation payload", false}, {kText, "Hello, world!"}},
                 static_cast<size_t>(chop), {"close 1002"}});
  }
  r.push_back({"5.15", "text in 2 fragments, then continuation with nothing to continue",
               {{kText, "fragment1", false}, {kCont, "fragment2"}, {kCont, "fragment3", false},
                {kText, "fragment4"}}, 0, {"text \"fragment1fragment2\"", "close 1002"}});
  r.push_back({"5.16", "continuation, text fragment, continuation (twice)",
               {{kCont, "fragment1", false}, {kText, "fragment2", false}, {kCont, "fragment3"},
                {kCont, "fragment1", false}, {kText, "fragment2", false}, {kCont, "fragment3"}},
               0, {"close 1002"}});
  r.push_back({"5.17", "continuation (FIN), text fragment, continuation (twice)",
               {{kCont, "fragment1"}, {kText, "fragment2", false}, {kCont, "fragment3"},
                {kCont, "fragment1"}, {kText, "fragment2", false}, {kCont, "fragment3"}},
               0, {"close 1002"}});
  r.push_back({"5.18", "text in 2 fragments, both with opcode text",
               {{kText, "fragment1", false}, {kText, "fragment2"}}, 0, {"close 1002"}});
  for (auto [id, chop] : {std::pair{"5.19", 0}, {"5.20", 1}}) {
    r.push_back({id, "text in 5 fragments with pings after the 1st and 3rd",
                 {{kText, "fragment1", false}, {kPing, "pongme 1!"}, {kCont, "fragment2", false},
                  {kCont, "fragment3", false}, {kPing, "pongme 2!"}, {kCont, "fragment4", false},
                  {kCont, "fragment5"}},
                 static_cast<size_t>(chop),
                 {"pong \"pongme 1!\"", "pong \"pongme 2!\"",
                  "text \"fragment1fragment2fragment3fragment4fragment5\""}});
  }

  // 6.x UTF-8 handling.
  r.push_back({"6.1.1", "empty text", {{kText, ""}}, 0, {"text \"\""}});
  r.push_back({"6.1.2", "3 empty text fragments", {{kText, "", false}, {kCont, "", false}, {kCont, ""}},
               0, {"text \"\""}});
  r.push_back({"6.1.3", "empty, non-empty, empty fragments",
               {{kText, "", false}, {kCont, "middle frame payload", false}, {kCont, ""}}, 0,
               {"text \"middle frame payload\""}});
  const std::string hello_utf8 = Hex("48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121");
  r.push_back({"6.2.1", "valid UTF-8 in one frame", {{kText, hello_utf8}}, 0,
               {"text \"Hello-\\xc2\\xb5@\\xc3\\x9f\\xc3\\xb6\\xc3\\xa4\\xc3\\xbc\\xc3\\xa0\\xc3\\xa1-UTF-8!!\""}});
  {
    Row frag{"6.2.3", "valid UTF-8 fragmented into single octets", {}, 0,
             {"text \"Hello-\\xc2\\xb5@\\xc3\\x9f\\xc3\\xb6\\xc3\\xa4\\xc3\\xbc\\xc3\\xa0\\xc3\\xa1-UTF-8!!\""}};
    for (size_t i = 0; i < hello_utf8.size(); ++i) {
      frag.frames.push_back({i == 0 ? kText : kCont, hello_utf8.substr(i, 1), i + 1 == hello_utf8.size()});
    }
    r.push_back(frag);
  }
  const std::string kosme = Hex("cebae1bdb9cf83cebcceb5");
  r.push_back({"6.5.1", "valid UTF-8 (kosme)", {{kText, kosme}}, 0,
               {"text \"\\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83\\xce\\xbc\\xce\\xb5\""}});
  const std::string invalid = Hex("cebae1bdb9cf83cebcceb5eda080656469746564");
  r.push_back({"6.3.1", "invalid UTF-8 text", {{kText, invalid}}, 0, {"close 1007"}});
  {
    Row frag{"6.3.2", "invalid UTF-8 text in single-octet fragments", {}, 0, {"close 1007"}};
    for (size_t i = 0; i < invalid.size(); ++i) {
      frag.frames.push_back({i == 0 ? kText : kCont, invalid.substr(i, 1), i + 1 == invalid.size()});
    }
    r.push_back(frag);
  }
  r.push_back({"6.4.1", "fail fast: invalid second fragment, third never needed",
               {{kText, Hex("cebae1bdb9cf83cebcceb5"), false}, {kCont, Hex("f4908080"), false},
                {kCont, Hex("656469746564")}}, 0, {"close 1007"}});
  r.push_back({"6.4.2", "fail fast: invalid sequence split across fragments",
               {{kText, Hex("cebae1bdb9cf83cebcceb5f4"), false}, {kCont, Hex("90"), false},
                {kCont, Hex("8080656469746564")}}, 0, {"close 1007"}});
  r.push_back({"6.4.3", "fail fast within a chopped frame",
               {{kText, Hex("cebae1bdb9cf83cebcceb5f4908080656469746564")}}, 1, {"close 1007"}});
  // Single sequences: valid ones are echoed, invalid ones fail with 1007.
  const std::pair<const char*, const char*> valid[] = {
      {"6.6.2", "ceba"}, {"6.6.5", "cebae1bdb9"}, {"6.7.1", "00"}, {"6.7.2", "c280"},
      {"6.7.3", "e0a080"}, {"6.7.4", "f0908080"}, {"6.9.1", "7f"}, {"6.9.2", "dfbf"},
      {"6.9.3", "efbfbf"}, {"6.9.4", "f48fbfbf"}, {"6.11.1", "ed9fbf"}, {"6.11.2", "ee8080"},
      {"6.11.3", "efbfbd"}, {"6.11.4", "f48fbfbf"}, {"6.22.1", "efbfbe"}, {"6.22.34", "f48fbfbe"},
      {"6.23.1", "efbfbd"}};
  for (const auto& [id, hex] : valid) {
    const std::string p = Hex(hex);
    r.push_back({id, std::string("valid sequence ") + hex, {{kText, p}}, 0,
                 {"text \"" + wpsim::testing::Escape(p) + "\""}});
  }
  const std::pair<const char*, const char*> bad[] = {
      {"6.6.1", "ce"}, {"6.6.3", "cebae1"}, {"6.6.4", "cebae1bd"}, {"6.8.1", "f888808080"},
      {"6.8.2", "fc8480808080"}, {"6.10.1", "f7bfbfbf"}, {"6.10.2", "fbbfbfbfbf"},
      {"6.10.3", "fdbfbfbfbfbf"}, {"6.11.5", "f4908080"}, {"6.12.1", "80"}, {"6.12.2", "bf"},
      {"6.12.3", "80bf"}, {"6.13.1", "c020c120c220"}, {"6.14.1", "c0"}, {"6.14.2", "e080"},
      {"6.15.1", "c0e080f08080f8808080fc80808080df"}, {"6.16.1", "fe"}, {"6.16.2", "ff"},
      {"6.16.3", "fefeffff"}, {"6.17.1", "c0af"}, {"6.17.2", "e080af"}, {"6.17.3", "f08080af"},
      {"6.18.1", "c1bf"}, {"6.18.2", "e09fbf"}, {"6.18.3", "f08fbfbf"}, {"6.19.1", "c080"},
      {"6.19.2", "e08080"}, {"6.19.3", "f0808080"}, {"6.20.1", "eda080"}, {"6.20.7", "edbfbf"},
      {"6.21.1", "eda080edb080"}, {"6.21.8", "edbfbfedbfbf"}};
  for (const auto& [id, hex] : bad) {
    r.push_back({id, std::string("invalid sequence ") + hex, {{kText, Hex(hex)}}, 0, {"close 1007"}});
  }

  // 7.x close handling.
  r.push_back({"7.1.1", "text, then close", {{kText, "Hello World!"}, {kClose, CloseBody(1000)}}, 0,
               {"text \"Hello World!\"", "close 1000"}});
  r.push_back({"7.1.2", "close twice", {{kClose, CloseBody(1000)}, {kClose, CloseBody(1000)}}, 0,
               {"close 1000"}});
  r.push_back({"7.1.3", "close, then ping", {{kClose, CloseBody(1000)}, {kPing, "Hello World!"}}, 0,
               {"close 1000"}});
  r.push_back({"7.1.4", "close, then text", {{kClose, CloseBody(1000)}, {kText, "Hello World!"}}, 0,
               {"close 1000"}});
  r.push_back({"7.1.5", "text fragment, close, continuation",
               {{kText, "fragment1", false}, {kClose, CloseBody(1000)}, {kCont, "fragment2"}}, 0,
               {"close 1000"}});
  r.push_back({"7.1.6", "256 KiB text, small text, close",
               {{kText, Bytes(256 * 1024, 'B')}, {kText, "Hello World!"}, {kClose, CloseBody(1000)}},
               0, {"text <262144 bytes>", "text \"Hello World!\"", "close 1000"}});
  r.push_back({"7.3.1", "close with empty payload", {{kClose, ""}}, 0, {"close"}});
  r.push_back({"7.3.2", "close with 1-byte payload", {{kClose, "a"}}, 0, {"close 1002"}});
  r.push_back({"7.3.3", "close with code 1000 only", {{kClose, CloseBody(1000)}}, 0, {"close 1000"}});
  r.push_back({"7.3.4", "close with code and reason", {{kClose, CloseBody(1000, "Hello World!")}}, 0,
               {"close 1000"}});
  r.push_back({"7.3.5", "close with 123-byte reason", {{kClose, CloseBody(1000, Bytes(123))}}, 0,
               {"close 1000"}});
  r.push_back({"7.3.6", "close with 124-byte reason (payload 126)",
               {{kClose, CloseBody(1000, Bytes(124))}}, 0, {"close 1002"}});
  r.push_back({"7.5.1", "close reason not UTF-8",
               {{kClose, CloseBody(1000, Hex("cebae1bdb9cf83cebcceb5eda080656469746564"))}}, 0,
               {"close 1007"}});
  const uint16_t good_codes[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                 3000, 3999, 4000, 4999};
  for (int i = 0; i < 13; ++i) {
    r.push_back({"7.7." + std::to_string(i + 1), "valid close code " + std::to_string(good_codes[i]),
                 {{kClose, CloseBody(good_codes[i])}}, 0,
                 {"close " + std::to_string(good_codes[i])}});
  }
  const uint16_t bad_codes[] = {0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999};
  for (int i = 0; i < 9; ++i) {
    r.push_back({"7.9." + std::to_string(i + 1), "invalid close code " + std::to_string(bad_codes[i]),
                 {{kClose, CloseBody(bad_codes[i])}}, 0, {"close 1002"}});
  }
  r.push_back({"7.13.1", "close code 5000", {{kClose, CloseBody(5000)}}, 0, {"close 1002"}});
  r.push_back({"7.13.2", "close code 65535", {{kClose, CloseBody(65535)}}, 0, {"close 1002"}});
  return r;
}

void PrintTo(const Row& row, std::ostream* os) { *os << row.id; }

class Autobahn : public ::testing::TestWithParam<Row> {};

TEST_P(Autobahn, EchoServerAnswersAsTheSuiteExpects) {
  const Row& row = GetParam();
  SCOPED_TRACE("Autobahn case " + row.id + ": " + row.what);
  EXPECT_EQ(EchoServer(row), row.expect);
}

std::string RowName(const ::testing::TestParamInfo<Row>& info) {
  std::string name = "Case_";
  for (char c : info.param.id) name += c == '.' ? '_' : c;
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases1To7, Autobahn, ::testing::ValuesIn(Rows()), RowName);

}  // namespace
}  // namespace wpsim::protocol::websocket
