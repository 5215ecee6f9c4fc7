// Re-emitted scenario YAML (conformance/shape/emit.h, explore's CanonicalYaml) loads to the same
// model: quoted scalars with control and non-ASCII characters at every UTF-8 length edge survive.
#include "conformance/shape/emit.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "conformance/explore.h"
#include "conformance/loader.h"
#include "conformance/runner.h"
#include "reports/model.h"
#include "tests/conformance/scenario_dump.h"

namespace wpsim::conformance {
namespace {

// The model without source positions (re-emitted text has its own lines and columns).
nlohmann::json WithoutPositions(nlohmann::json j) {
  if (j.is_object()) {
    j.erase("pos");
    j.erase("name_pos");
    for (auto& [k, v] : j.items()) v = WithoutPositions(v);
  } else if (j.is_array()) {
    for (auto& v : j) v = WithoutPositions(v);
  }
  return j;
}

TEST(EmitYaml, DoubleQuotedAsciiKeepsEveryCodePointAtTheUtf8LengthEdges) {
  // U+0001, U+007F, U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFD, U+10000, U+10FFFF, and the
  // characters a double-quoted scalar escapes.
  const std::string text =
      "\x01\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBD\xF0\x90\x80\x80"
      "\xF4\x8F\xBF\xBF \"quoted\" back\\slash \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80";
  const std::string quoted = shape::DoubleQuotedAscii(text);
  for (char c : quoted) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << quoted;
  EXPECT_EQ(YAML::Load(quoted).Scalar(), text) << quoted;
  EXPECT_EQ(YAML::Load("k: " + quoted)["k"].Tag(), "!");
}

TEST(EmitYaml, ReEmittedEscapesAndNonAsciiMqttPropertiesLoadAndRunLikeTheOriginal) {
  // What scenarios/mqtt/malformed-topics-close-the-connection.yaml once held: a topic made of the
  // first and last character of every UTF-8 length, and non-ASCII MQTT 5 properties.
  const std::string yaml = R"(name: utf8-edges
description: d
hub: h
clients:
  wide: {kind: mqtt5, roles: [webpubsub.joinLeaveGroup, webpubsub.sendToGroup]}
steps:
  - connect: wide
  - subscribe:
      client: wide
      topics: [{topic: "\x01\x7F\u0080\u07FF\u0800\uD7FF\uE000\uFFFD\U00010000\U0010FFFF", qos: 1}]
      user_properties: [{name: "\u00E9t\u00E9", value: "\U0001F600"}]
      expect_suback: 1
  - publish:
      client: wide
      topic: "\x01\x7F\u0080\u07FF\u0800\uD7FF\uE000\uFFFD\U00010000\U0010FFFF"
      payload: edges
      qos: 1
      content_type: "text/\u00E9"
      user_properties: [{name: "\u0800", value: "\U0010FFFF"}]
      expect_puback: 0
    as: p_wide
expect:
  - receive:
      client: wide
      topic: "\x01\x7F\u0080\u07FF\u0800\uD7FF\uE000\uFFFD\U00010000\U0010FFFF"
      payload: edges
      content_type: "text/\u00E9"
      user_properties: [{name: "\u0800", value: "\U0010FFFF"}]
      after: p_wide
      count: 1
)";
  LoadResult original = LoadScenarioText(yaml, "utf8-edges.yaml");
  ASSERT_TRUE(original.ok()) << FormatDiagnostics(original.diagnostics);
  Result<std::string> text = CanonicalYaml(yaml);
  ASSERT_TRUE(text.ok()) << text.error().message;
  LoadResult again = LoadScenarioText(text.value(), "utf8-edges.yaml");
  ASSERT_TRUE(again.ok()) << FormatDiagnostics(again.diagnostics) << text.value();
  EXPECT_EQ(WithoutPositions(DumpScenario(*original.scenario)),
            WithoutPositions(DumpScenario(*again.scenario)))
      << text.value();
  RunnerOptions o;
  o.seed = 3;
  reports::ScenarioResult a;
  reports::ScenarioResult b;
  RunScenario(*original.scenario, o, a);
  RunScenario(*again.scenario, o, b);
  EXPECT_EQ(a.status, reports::Outcome::kPass);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  EXPECT_EQ(a.status, b.status);
}

}  // namespace
}  // namespace wpsim::conformance
