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
