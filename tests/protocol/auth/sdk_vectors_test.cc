// Checks wpsim's token and URL code against tests/data/jwt/sdk_vectors.json, which
// tools/jwt-vectors/generate.js produced with the real @azure/web-pubsub SDK.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "protocol/auth/connection_string.h"
#include "protocol/auth/jwt.h"
#include "protocol/auth/tokens.h"

namespace wpsim::protocol::auth {
namespace {

const nlohmann::json& Vectors() {
  static const nlohmann::json vectors = [] {
    std::ifstream in(WPSIM_SOURCE_DIR "/tests/data/jwt/sdk_vectors.json");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return nlohmann::json::parse(buffer.str());
  }();
  return vectors;
}

ClientType TypeOf(const nlohmann::json& options) {
  const std::string protocol = options.value("clientProtocol", "");
  if (protocol == "mqtt") return ClientType::kMqtt;
  if (protocol == "socketio") return ClientType::kSocketIo;
  return ClientType::kDefault;
}

std::optional<std::vector<std::string>> OptionalList(const nlohmann::json& options,
                                                     const char* name) {
  if (!options.contains(name)) return std::nullopt;
  return options[name].get<std::vector<std::string>>();
}

TEST(SdkVectors, FileHoldsClientAndRestTokens) {
  EXPECT_GE(Vectors()["client_tokens"].size(), 10u);
  EXPECT_GE(Vectors()["rest_tokens"].size(), 3u);
  EXPECT_EQ(Vectors()["sdk"], "@azure/web-pubsub@1.2.0");
}

TEST(SdkVectors, ClientTokensVerifyWithTheSdkClaims) {
  for (const auto& v : Vectors()["client_tokens"]) {
    if (v["quirk"].get<bool>()) continue;
    SCOPED_TRACE(v["name"].get<std::string>());
    auto cs = ParseConnectionString(v["connection_string"].get<std::string>());
    ASSERT_TRUE(cs.ok());
    const std::string hub = v["hub"];
    const nlohmann::json& options = v["options"];
    const nlohmann::json& payload = v["payload"];
    const ClientType type = TypeOf(options);

    VerifyOptions vo;
    vo.now_unix_seconds = payload["iat"].get<int64_t>() + 1;
    vo.audiences = {ClientAudience(*cs, hub, type)};
    auto claims = Verify(v["token"].get<std::string>(), cs->access_key, vo);
    ASSERT_TRUE(claims.ok()) << claims.error().code << " " << claims.error().message;
    EXPECT_EQ(claims->audiences, std::vector<std::string>{payload["aud"].get<std::string>()});
    EXPECT_EQ(claims->expires_at, payload["exp"].get<int64_t>());
    EXPECT_EQ(claims->issued_at, payload["iat"].get<int64_t>());
    const std::string user = options.value("userId", "");
    if (user.empty()) {
      EXPECT_EQ(claims->subject, std::nullopt);
    } else {
      EXPECT_EQ(claims->subject, user);
    }
    EXPECT_EQ(claims->roles, OptionalList(options, "roles").value_or(std::vector<std::string>{}));
    EXPECT_EQ(claims->groups,
              OptionalList(options, "groups").value_or(std::vector<std::string>{}));
    if (options.contains("expirationTimeInMinutes")) {
      EXPECT_EQ(*claims->expires_at - *claims->issued_at,
                options["expirationTimeInMinutes"].get<int64_t>() * 60);
    }

    vo.now_unix_seconds = payload["exp"].get<int64_t>();
    EXPECT_EQ(Verify(v["token"].get<std::string>(), cs->access_key, vo).error().code,
              kJwtExpired);
  }
}

TEST(SdkVectors, ClientUrlsMatchTheSdk) {
  for (const auto& v : Vectors()["client_tokens"]) {
    if (v["quirk"].get<bool>()) continue;
    SCOPED_TRACE(v["name"].get<std::string>());
    auto cs = ParseConnectionString(v["connection_string"].get<std::string>());
    ASSERT_TRUE(cs.ok());
    const ClientType type = TypeOf(v["options"]);
    const std::string hub = v["hub"];
    EXPECT_EQ(cs->Endpoint() + "/", v["sdk_endpoint"].get<std::string>());
    EXPECT_EQ(ClientBaseUrl(*cs, hub, type), v["base_url"].get<std::string>());
    EXPECT_EQ(ClientUrl(*cs, hub, type, v["token"].get<std::string>()),
              v["url"].get<std::string>());
    EXPECT_EQ(ClientAudience(*cs, hub, type), v["payload"]["aud"].get<std::string>());
  }
}

TEST(SdkVectors, BuildClientTokenIsByteIdenticalToTheSdk) {
  for (const auto& v : Vectors()["client_tokens"]) {
    if (v["quirk"].get<bool>()) continue;
    SCOPED_TRACE(v["name"].get<std::string>());
    auto cs = ParseConnectionString(v["connection_string"].get<std::string>());
    ASSERT_TRUE(cs.ok());
    const nlohmann::json& options = v["options"];
    ClientTokenOptions o;
    if (options.contains("userId")) o.user_id = options["userId"].get<std::string>();
    o.roles = OptionalList(options, "roles");
    o.groups = OptionalList(options, "groups");
    o.issued_at = v["payload"]["iat"];
    o.expires_at = v["payload"]["exp"];
    o.client_type = TypeOf(options);
    EXPECT_EQ(BuildClientToken(*cs, v["hub"].get<std::string>(), o), v["token"].get<std::string>());
  }
}

// The SDK mangles an upper-case scheme (see connection_string.h); wpsim parses it properly.
TEST(SdkVectors, UpperCaseSchemeQuirkIsNotCopied) {
  bool seen = false;
  for (const auto& v : Vectors()["client_tokens"]) {
    if (!v["quirk"].get<bool>()) continue;
    seen = true;
    EXPECT_NE(v["base_url"].get<std::string>().find("https//"), std::string::npos);
    auto cs = ParseConnectionString(v["connection_string"].get<std::string>());
    ASSERT_TRUE(cs.ok());
    EXPECT_EQ(ClientBaseUrl(*cs, "chat", ClientType::kDefault),
              "wss://wpsim-vectors.webpubsub.azure.com/client/hubs/chat");
  }
  EXPECT_TRUE(seen);
}

TEST(SdkVectors, RestBearerTokensUseTheFullRequestUrlAsAudience) {
  for (const auto& v : Vectors()["rest_tokens"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    auto cs = ParseConnectionString(v["connection_string"].get<std::string>());
    ASSERT_TRUE(cs.ok());
    const std::string url = v["request_url"];
    EXPECT_EQ(url.rfind(cs->Endpoint() + "/api/hubs/" + v["hub"].get<std::string>() + "/", 0), 0u)
        << "REST base URL";
    EXPECT_NE(url.find("?api-version="), std::string::npos);
    VerifyOptions vo;
    vo.now_unix_seconds = v["payload"]["iat"].get<int64_t>();
    vo.audiences = {url};
    auto claims = Verify(v["token"].get<std::string>(), cs->access_key, vo);
    ASSERT_TRUE(claims.ok()) << claims.error().code;
    EXPECT_EQ(claims->subject, std::nullopt);
    EXPECT_EQ(BuildRestToken(url, v["payload"]["iat"], v["payload"]["exp"], cs->access_key),
              v["token"].get<std::string>());
  }
}

}  // namespace
}  // namespace wpsim::protocol::auth
