#include "protocol/webpubsub/payload.h"

#include <gtest/gtest.h>

#include <string>

namespace wpsim::protocol::webpubsub {
namespace {

std::string JsonData(const Payload& p) {
  std::string out;
  AppendJsonData(out, p);
  return out;
}

TEST(PayloadJsonRendering, FollowsTheDataTypeRules) {
  EXPECT_EQ(JsonData(Payload::Json("{\"a\":1}")), R"("dataType":"json","data":{"a":1})");
  EXPECT_EQ(JsonData(Payload::Json("\"Hello\"")), R"("dataType":"json","data":"Hello")");
  EXPECT_EQ(JsonData(Payload::Json("")), R"("dataType":"json","data":null)");
  EXPECT_EQ(JsonData(Payload::Text("a\"b\n")), R"("dataType":"text","data":"a\"b\n")");
  const uint8_t bytes[] = {'h', 'i'};
  EXPECT_EQ(JsonData(Payload::Binary(bytes)), R"("dataType":"binary","data":"aGk=")");
}

TEST(PayloadJsonRendering, AppendsMetadataInOrderAfterTheData) {
  Payload p = Payload::Text("x");
  p.metadata = {{"b", "2"}, {"A", "1\""}};
  EXPECT_EQ(JsonData(p), R"("dataType":"text","data":"x","metadata":{"b":"2","A":"1\""})");
}

Metadata Pairs(size_t entries, size_t key_bytes, size_t value_bytes) {
  Metadata m;
  for (size_t i = 0; i < entries; ++i) {
    std::string key = std::to_string(i);
    key.append(key_bytes - key.size(), 'k');
    m.emplace_back(key, std::string(value_bytes, 'v'));
  }
  return m;
}

TEST(MessageMetadata, LimitsHoldOnBothSidesOfEachBoundary) {
  EXPECT_EQ(ValidateMetadata({}), std::nullopt);
  EXPECT_EQ(ValidateMetadata(Pairs(1, 256, 0)), std::nullopt);
  EXPECT_EQ(ValidateMetadata(Pairs(1, 257, 0)),
            "Metadata key '" + Pairs(1, 257, 0)[0].first + "' exceeds 256 bytes.");
  EXPECT_EQ(ValidateMetadata(Pairs(1, 1, 1024)), std::nullopt);
  EXPECT_EQ(ValidateMetadata(Pairs(1, 1, 1025)), "Metadata value for key '0' exceeds 1024 bytes.");
  EXPECT_EQ(ValidateMetadata(Pairs(8, 4, 1020)), std::nullopt);  // 8192 bytes
  Metadata over = Pairs(8, 4, 1020);
  over.emplace_back("x", "");  // 8193
  EXPECT_EQ(ValidateMetadata(over), "Metadata exceeds 8192 bytes.");
}

TEST(MessageMetadata, KeysAreHttpTokensAndValuesPrintableAscii) {
  EXPECT_EQ(ValidateMetadata({{"A-Z_a.z!#$%&'*+^`|~09", "ok \t~"}}), std::nullopt);
  EXPECT_EQ(ValidateMetadata({{"", "v"}}), "Metadata key '' contains invalid characters.");
  EXPECT_EQ(ValidateMetadata({{"a b", "v"}}), "Metadata key 'a b' contains invalid characters.");
  EXPECT_EQ(ValidateMetadata({{"a:b", "v"}}), "Metadata key 'a:b' contains invalid characters.");
  EXPECT_EQ(ValidateMetadata({{"k", "\xc3\xa9"}}), "Metadata value for key 'k' must be ASCII.");
  EXPECT_EQ(ValidateMetadata({{"k", "a\r\nb"}}),
            "Metadata value for key 'k' contains a control character.");
  EXPECT_EQ(ValidateMetadata({{"k", "\x7f"}}),
            "Metadata value for key 'k' contains a control character.");
}

TEST(MessageMetadata, HeaderNamesAreCaseInsensitiveAndKeysLowerCased) {
  EXPECT_EQ(MetadataKeyFromHeaderName("X-WebPubSub-Metadata-TraceId"), "traceid");
  EXPECT_EQ(MetadataKeyFromHeaderName("x-webpubsub-metadata-"), "");
  EXPECT_EQ(MetadataKeyFromHeaderName("X-WebPubSub-Meta"), std::nullopt);
  EXPECT_EQ(MetadataKeyFromHeaderName("Content-Type"), std::nullopt);
  struct H {
    std::string name, value;
  };
  const std::vector<H> headers = {{"X-WebPubSub-Metadata-A", " 1 "},
                                  {"Host", "x"},
                                  {"x-webpubsub-metadata-b", "2"},
                                  {"X-WEBPUBSUB-METADATA-a", "3"}};
  EXPECT_EQ(MetadataFromHeaders(headers), (Metadata{{"a", "3"}, {"b", "2"}}));
  EXPECT_EQ(MetadataForHeaders({{"Trace", "1"}, {"x", "2"}, {"TRACE", "3"}}),
            (Metadata{{"trace", "3"}, {"x", "2"}}));
}

TEST(PayloadRawRendering, SharesBytesAndPicksTheFrameType) {
  const Payload text = Payload::Text("hi");
  const RawFrame t = RenderRaw(text);
  EXPECT_EQ(t.type, FrameType::kText);
  EXPECT_EQ(t.data.data(), text.data.data());  // no copy
  const RawFrame j = RenderRaw(Payload::Json("\"Hello\""));
  EXPECT_EQ(j.type, FrameType::kText);
  EXPECT_EQ(j.data.view(), "\"Hello\"");  // a JSON string keeps its quotes for raw clients
  const uint8_t bytes[] = {0, 1};
  EXPECT_EQ(RenderRaw(Payload::Binary(bytes)).type, FrameType::kBinary);
  EXPECT_EQ(RenderRaw(Payload::Protobuf(bytes)).type, FrameType::kBinary);
}

TEST(PayloadContentTypes, MapMqttAndHttpContentTypes) {
  EXPECT_EQ(MqttContentType(DataType::kJson), "application/json");
  EXPECT_EQ(MqttContentType(DataType::kText), "text/plain");
  EXPECT_EQ(MqttContentType(DataType::kBinary), "application/octet-stream");
  EXPECT_EQ(MqttContentType(DataType::kProtobuf), "application/x-protobuf");
  EXPECT_EQ(DataTypeFromMqttContentType(std::nullopt), DataType::kBinary);
  EXPECT_EQ(DataTypeFromMqttContentType("Application/JSON; charset=utf-8"), DataType::kJson);
  EXPECT_EQ(DataTypeFromMqttContentType("text/plain"), DataType::kText);
  EXPECT_EQ(DataTypeFromMqttContentType("application/x-protobuf"), DataType::kProtobuf);
  EXPECT_EQ(DataTypeFromMqttContentType("image/png"), DataType::kBinary);
  EXPECT_EQ(DataTypeFromHttpContentType("text/plain; charset=utf-8"), DataType::kText);
  EXPECT_EQ(DataTypeFromHttpContentType("application/octet-stream"), DataType::kBinary);
  EXPECT_EQ(DataTypeFromHttpContentType("image/png"), std::nullopt);
  EXPECT_EQ(HttpContentType(DataType::kJson), "application/json");
}

TEST(DataTypeNames, ParseCaseInsensitivelyAndPrintLowerCase) {
  EXPECT_EQ(ParseDataTypeName("JSON"), DataType::kJson);
  EXPECT_EQ(ParseDataTypeName("Binary"), DataType::kBinary);
  EXPECT_EQ(ParseDataTypeName("xml"), std::nullopt);
  EXPECT_EQ(DataTypeName(DataType::kProtobuf), "protobuf");
}

}  // namespace
}  // namespace wpsim::protocol::webpubsub
