// Every case of tests/data/mqtt/malformed.md: bytes a receiver must refuse, with the reason
// code, reaction and normative statement the refusal must carry. Each case is a test of its
// own (MqttMalformed/Refuses.Packet/<case>), fed whole and one byte at a time.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "protocol/mqtt/decoder.h"
#include "tests/protocol/mqtt/test_util.h"

namespace wpsim::protocol::mqtt {
namespace {

struct Case {
  std::string name;
  std::string why;
  DecoderOptions options;
  std::vector<uint8_t> bytes;
  uint8_t reason = 0;
  Reaction reaction = Reaction::kCloseConnection;
  std::string statement;
  std::optional<ProtocolVersion> reply_version;
};

ProtocolVersion ParseVersion(const std::string& word) {
  if (word == "3.1.1") return ProtocolVersion::kV311;
  if (word == "5") return ProtocolVersion::kV5;
  if (word == "any") return ProtocolVersion::kUnknown;
  ADD_FAILURE() << "bad version " << word;
  return ProtocolVersion::kUnknown;
}

std::vector<Case> LoadCases() {
  std::ifstream file(WPSIM_SOURCE_DIR "/tests/data/mqtt/malformed.md");
  std::vector<Case> cases;
  std::string line;
  Case* current = nullptr;
  while (std::getline(file, line)) {
    if (line.rfind("## ", 0) == 0) {
      current = &cases.emplace_back();
      current->name = line.substr(3);
      continue;
    }
    if (current == nullptr) continue;
    std::istringstream words;
    std::string word;
    if (line.rfind("decoder: ", 0) == 0) {
      words.str(line.substr(9));
      words >> word;
      bool fresh = word.size() > 4 && word.substr(word.size() - 4) == "-new";
      std::string role = fresh ? word.substr(0, word.size() - 4) : word;
      current->options.role = role == "client" ? Role::kClient : Role::kServer;
      current->options.handshake_done = !fresh;
      words >> word;
      current->options.version = ParseVersion(word);
      while (words >> word) {
        if (word.rfind("max=", 0) == 0) {
          current->options.max_packet_size = static_cast<uint32_t>(std::stoul(word.substr(4)));
        }
      }
    } else if (line.rfind("bytes: ", 0) == 0) {
      current->bytes = testing::Hex(line.substr(7));
    } else if (line.rfind("expect: ", 0) == 0) {
      words.str(line.substr(8));
      words >> word;
      current->reason = static_cast<uint8_t>(std::stoul(word, nullptr, 16));
      words >> word;
      current->reaction = word == "connack"      ? Reaction::kSendConnackAndClose
                          : word == "disconnect" ? Reaction::kSendDisconnectAndClose
                                                 : Reaction::kCloseConnection;
      words >> current->statement;
      while (words >> word) {
        if (word.rfind("reply=", 0) == 0) current->reply_version = ParseVersion(word.substr(6));
      }
    } else if (!line.empty() && current->why.empty()) {
      current->why = line;
    }
  }
  return cases;
}

// gtest prints parameters on failure; the name is what identifies a case.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class MqttMalformed : public ::testing::TestWithParam<Case> {};

void ExpectRefusal(const Case& c, const DecodeError& e, const std::string& how) {
  EXPECT_EQ(static_cast<int>(e.reason_code), c.reason) << how << ": " << e.message;
  EXPECT_EQ(e.reaction, c.reaction) << how << ": " << ReactionName(e.reaction) << " / "
                                    << e.message;
  EXPECT_EQ(e.statement, c.statement) << how << ": " << e.message;
  if (c.reply_version) {
    EXPECT_EQ(e.reply_version, *c.reply_version) << how;
  }
  EXPECT_EQ(e.stream_offset, 0u) << how;
}

TEST_P(MqttMalformed, RefusesThePacketWithTheReplyTheSpecRequires) {
  const Case& c = GetParam();
  SCOPED_TRACE(c.why);
  ASSERT_FALSE(c.bytes.empty());
  if (c.options.role == Role::kClient || c.options.handshake_done) {
    ASSERT_NE(c.options.version, ProtocolVersion::kUnknown);
  }
  // Whole.
  {
    Decoder decoder(c.options);
    Packet packet;
    std::span<const uint8_t> in(c.bytes);
    ASSERT_EQ(decoder.Decode(&in, &packet), DecodeStatus::kError) << "accepted";
    ExpectRefusal(c, decoder.error(), "whole");
    // Sticky: the same error, whatever follows.
    std::vector<uint8_t> more = {0xC0, 0x00};
    std::span<const uint8_t> next(more);
    EXPECT_EQ(decoder.Decode(&next, &packet), DecodeStatus::kError);
    EXPECT_EQ(decoder.error().statement, c.statement);
    EXPECT_TRUE(decoder.failed());
  }
  // One byte at a time.
  {
    Decoder decoder(c.options);
    Packet packet;
    DecodeStatus status = DecodeStatus::kNeedMore;
    for (size_t i = 0; i < c.bytes.size() && status == DecodeStatus::kNeedMore; ++i) {
      std::span<const uint8_t> in(&c.bytes[i], 1);
      status = decoder.Decode(&in, &packet);
      ASSERT_NE(status, DecodeStatus::kPacket) << "accepted at byte " << i;
    }
    ASSERT_EQ(status, DecodeStatus::kError) << "not refused byte by byte";
    ExpectRefusal(c, decoder.error(), "byte by byte");
  }
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Refuses, MqttMalformed, ::testing::ValuesIn(LoadCases()), CaseName);

TEST(MqttMalformedCatalogue, HoldsEveryCaseWithBytesAndAnExpectation) {
  std::vector<Case> cases = LoadCases();
  EXPECT_GE(cases.size(), 150u);
  for (const Case& c : cases) {
    EXPECT_FALSE(c.bytes.empty()) << c.name;
    EXPECT_FALSE(c.statement.empty()) << c.name;
    EXPECT_FALSE(c.why.empty()) << c.name;
  }
}

}  // namespace
}  // namespace wpsim::protocol::mqtt
