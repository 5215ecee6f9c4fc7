#include <gtest/gtest.h>
#include <wslay/wslay.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

// An in-memory byte pipe used as wslay's transport.
struct Pipe {
  std::vector<uint8_t> bytes;
  size_t read_pos = 0;
};

ssize_t SendToPipe(const uint8_t* data, size_t len, int /*flags*/, void* user) {
  auto* pipe = static_cast<Pipe*>(user);
  pipe->bytes.insert(pipe->bytes.end(), data, data + len);
  return static_cast<ssize_t>(len);
}

ssize_t RecvFromPipe(uint8_t* buf, size_t len, int /*flags*/, void* user) {
  auto* pipe = static_cast<Pipe*>(user);
  size_t n = std::min(len, pipe->bytes.size() - pipe->read_pos);
  std::memcpy(buf, pipe->bytes.data() + pipe->read_pos, n);
  pipe->read_pos += n;
  return static_cast<ssize_t>(n);
}

TEST(WslayPackage, EncodesAndDecodesAMaskedFragmentedFramePair) {
  Pipe pipe;
  wslay_frame_callbacks callbacks = {
      SendToPipe, RecvFromPipe,
      [](uint8_t* buf, size_t len, void*) -> int {
        std::memset(buf, 0x5a, len);  // a fixed mask key: deterministic output
        return 0;
      }};
  wslay_frame_context_ptr writer;
  ASSERT_EQ(wslay_frame_context_init(&writer, &callbacks, &pipe), 0);

  const std::string first = "Hel", second = "lo";
  wslay_frame_iocb f1{};
  f1.fin = 0;
  f1.opcode = WSLAY_TEXT_FRAME;
  f1.mask = 1;
  f1.payload_length = first.size();
  f1.data = reinterpret_cast<const uint8_t*>(first.data());
  f1.data_length = first.size();
  ASSERT_EQ(wslay_frame_send(writer, &f1), static_cast<ssize_t>(first.size()));
  wslay_frame_iocb f2 = f1;
  f2.fin = 1;
  f2.opcode = WSLAY_CONTINUATION_FRAME;
  f2.payload_length = second.size();
  f2.data = reinterpret_cast<const uint8_t*>(second.data());
  f2.data_length = second.size();
  ASSERT_EQ(wslay_frame_send(writer, &f2), static_cast<ssize_t>(second.size()));
  // Two frames of 2 header + 4 mask key + payload bytes each.
  EXPECT_EQ(pipe.bytes.size(), 2u * 6u + first.size() + second.size());
  EXPECT_EQ(pipe.bytes[0], 0x01);  // FIN=0, opcode text
  EXPECT_EQ(pipe.bytes[1] & 0x80, 0x80);  // masked

  wslay_frame_context_ptr reader;
  ASSERT_EQ(wslay_frame_context_init(&reader, &callbacks, &pipe), 0);
  std::string payload;
  std::vector<int> opcodes, fins;
  for (int i = 0; i < 2; ++i) {
    wslay_frame_iocb in{};
    ssize_t r = wslay_frame_recv(reader, &in);
    ASSERT_GT(r, 0);
    EXPECT_EQ(in.mask, 1);
    payload.append(reinterpret_cast<const char*>(in.data), in.data_length);
    opcodes.push_back(in.opcode);
    fins.push_back(in.fin);
  }
  EXPECT_EQ(payload, "Hello");  // wslay_frame_recv unmasks
  EXPECT_EQ(opcodes, (std::vector<int>{WSLAY_TEXT_FRAME, WSLAY_CONTINUATION_FRAME}));
  EXPECT_EQ(fins, (std::vector<int>{0, 1}));
  wslay_frame_context_free(writer);
  wslay_frame_context_free(reader);
}

}  // namespace
