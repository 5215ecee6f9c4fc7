// Runs the WebSocket case files in tests/data/websocket/ (format: tests/protocol/http/
// case_file.h). A session of the case's role is fed the input whole, then 1, 2, 3, ... bytes
// at a time; the event trace and the output (taken one byte per call) must be identical for
// every split.
//   role: server (default) | client
//   echo: yes — answer every message with the same message (Autobahn's test server does)
//   eof: yes — the transport ends after the input
//   message-max: N — SessionOptions::message_bytes_max
//   trace: one line per event: message text|binary "..." | ping "..." | pong "..." |
//          closed <cause> <code> "<reason>" clean|unclean
//   output: exact expected bytes; output-frames: the output decoded, one frame per line
//   (for client cases, whose masks come from the session's Rng).
#include <gtest/gtest.h>

#include "protocol/websocket/session.h"
#include "tests/protocol/http/case_file.h"
#include "tests/protocol/websocket/frame_decoder.h"

namespace wpsim::protocol::websocket {
namespace {

using wpsim::testing::DataCase;
using wpsim::testing::Escape;

std::string DescribeEvent(const Event& e) {
  switch (e.kind) {
    case Event::Kind::kMessage:
      if (e.payload.size() > 64) {
        return std::string("message ") + std::string(OpcodeName(e.opcode)) + " <" +
               std::to_string(e.payload.size()) + " bytes>";
      }
      return std::string("message ") + std::string(OpcodeName(e.opcode)) + " \"" +
             Escape(e.text()) + "\"";
    case Event::Kind::kPing: return "ping \"" + Escape(e.text()) + "\"";
    case Event::Kind::kPong: return "pong \"" + Escape(e.text()) + "\"";
    case Event::Kind::kClosed:
      return "closed " + std::string(CloseCauseName(e.cause)) + " " + std::to_string(e.close_code) +
             " \"" + Escape(e.close_reason) + "\" " + (e.clean ? "clean" : "unclean");
  }
  return "?";
}

struct Outcome {
  std::vector<std::string> trace;
  std::string output;
};

Outcome RunCase(const DataCase& c, const std::string& input, size_t step) {
  SessionOptions options;
  const std::string max = c.Scalar("message-max");
  if (!max.empty()) options.message_bytes_max = std::stoul(max);
  const Role role = c.Scalar("role", "server") == "client" ? Role::kClient : Role::kServer;
  Session s(role, options, sim::Rng(7));
  s.Start(0);
  const bool echo = c.Scalar("echo") == "yes";
  Outcome o;
  auto drain = [&] {
    while (s.HasOutput()) {  // a sink that takes one byte per call
      o.output += static_cast<char>(s.output().Front()[0]);
      s.output().Consume(1);
    }
  };
  auto poll = [&] {
    while (auto ev = s.PollEvent()) {
      o.trace.push_back(DescribeEvent(*ev));
      if (echo && ev->kind == Event::Kind::kMessage) {
        EXPECT_TRUE(s.Send(ev->opcode, ev->payload).ok());
      }
    }
    drain();
  };
  for (size_t pos = 0; pos < input.size(); pos += step) {
    s.Receive(0, AsBytes(std::string_view(input).substr(pos, step)));
    poll();
  }
  if (c.Scalar("eof") == "yes") {
    s.ReceiveEof();
    poll();
  }
  poll();
  return o;
}

std::vector<DataCase> AllCases() {
  std::vector<DataCase> all;
  for (const char* f : {"websocket/rfc6455.md", "websocket/session.md"}) {
    for (DataCase& c : wpsim::testing::LoadCases(wpsim::testing::DataPath(f))) {
      all.push_back(std::move(c));
    }
  }
  return all;
}

class WebSocketCaseFile : public ::testing::TestWithParam<DataCase> {};

TEST_P(WebSocketCaseFile, TraceAndOutputMatchForEverySplit) {
  const DataCase& c = GetParam();
  SCOPED_TRACE(c.Where() + ": " + c.reason);
  ASSERT_TRUE(c.HasBlock("trace")) << "case has no trace block";
  const std::string input = wpsim::testing::JoinBytes(c.Block("input"));
  const size_t whole = std::max<size_t>(input.size(), 1);
  // Large inputs: every split up to 64 bytes, then the whole input.
  std::vector<size_t> steps{whole};
  for (size_t step = std::min<size_t>(whole - (whole > 1 ? 1 : 0), 64); step >= 1; --step) {
    steps.push_back(step);
  }
  for (size_t step : steps) {
    Outcome o = RunCase(c, input, step);
    ASSERT_EQ(o.trace, c.Block("trace")) << "pieces of " << step << " bytes";
    if (c.HasBlock("output")) {
      ASSERT_EQ(Escape(o.output), Escape(wpsim::testing::JoinBytes(c.Block("output"))))
          << "pieces of " << step << " bytes";
    }
    if (c.HasBlock("output-frames")) {
      ASSERT_EQ(wpsim::testing::DescribeFrames(o.output), c.Block("output-frames"))
          << "pieces of " << step << " bytes";
    }
    ASSERT_TRUE(c.HasBlock("output") || c.HasBlock("output-frames")) << "no output expectation";
  }
}

std::string CaseName(const ::testing::TestParamInfo<DataCase>& info) {
  std::string name = info.param.file.substr(0, info.param.file.find('.')) + "_";
  for (char ch : info.param.title) {
    name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  }
  return name + "_L" + std::to_string(info.param.line);
}

INSTANTIATE_TEST_SUITE_P(Data, WebSocketCaseFile, ::testing::ValuesIn(AllCases()), CaseName);

}  // namespace
}  // namespace wpsim::protocol::websocket
