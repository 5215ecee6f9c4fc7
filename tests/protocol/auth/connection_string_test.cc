#include "protocol/auth/connection_string.h"

#include <gtest/gtest.h>

namespace wpsim::protocol::auth {
namespace {

ConnectionString MustParse(std::string_view text) {
  auto r = ParseConnectionString(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : ConnectionString{};
}

TEST(ConnectionStringParse, ReadsTheAzurePortalForm) {
  auto cs = MustParse("Endpoint=https://abc.webpubsub.azure.com;AccessKey=k3y==;Version=1.0;");
  EXPECT_EQ(cs.scheme, "https");
  EXPECT_EQ(cs.host, "abc.webpubsub.azure.com");
  EXPECT_EQ(cs.port, std::nullopt);
  EXPECT_EQ(cs.path, "");
  EXPECT_EQ(cs.access_key, "k3y==");  // value split at the first '=' only
  EXPECT_EQ(cs.version, "1.0");
  EXPECT_EQ(cs.Endpoint(), "https://abc.webpubsub.azure.com");
}

TEST(ConnectionStringParse, KeysAreCaseInsensitiveAndValuesTrimmed) {
  auto cs = MustParse(" ENDPOINT = http://LocalHost:8080/ ; accesskey= abc ;VERSION=1.0");
  EXPECT_EQ(cs.Endpoint(), "http://localhost:8080");
  EXPECT_EQ(cs.access_key, "abc");
}

TEST(ConnectionStringParse, PortKeyOverridesAndDefaultPortsDisappear) {
  EXPECT_EQ(MustParse("Endpoint=http://h;Port=8080;AccessKey=k").Endpoint(), "http://h:8080");
  EXPECT_EQ(MustParse("Endpoint=http://h:1234;Port=8080;AccessKey=k").Endpoint(),
            "http://h:8080");
  EXPECT_EQ(MustParse("Endpoint=https://h;Port=443;AccessKey=k").Endpoint(), "https://h");
  EXPECT_EQ(MustParse("Endpoint=http://h:80;AccessKey=k").Endpoint(), "http://h");
  EXPECT_EQ(MustParse("Endpoint=http://h;Port=443;AccessKey=k").Endpoint(), "http://h:443");
}

TEST(ConnectionStringParse, AddsHttpsWhenTheSchemeIsMissing) {
  EXPECT_EQ(MustParse("Endpoint=abc.example.com;AccessKey=k").Endpoint(),
            "https://abc.example.com");
}

TEST(ConnectionStringParse, KeepsAPathPrefixWithoutTrailingSlashes) {
  EXPECT_EQ(MustParse("Endpoint=https://p.example.com/wps//;AccessKey=k").Endpoint(),
            "https://p.example.com/wps");
}

TEST(ConnectionStringParse, AcceptsIpv6Literals) {
  EXPECT_EQ(MustParse("Endpoint=http://[::1]:8080;AccessKey=k").Endpoint(), "http://[::1]:8080");
}

TEST(ConnectionStringParse, RejectsBrokenStrings) {
  const char* bad[] = {
      "",
      "AccessKey=k",
      "Endpoint=https://h",
      "Endpoint=https://h;AccessKey=",
      "Endpoint=;AccessKey=k",
      "Endpoint=https://h;AccessKey=k;accesskey=k2",  // duplicate key
      "Endpoint=https://h;AccessKey=k;Port=0",
      "Endpoint=https://h;AccessKey=k;Port=65536",
      "Endpoint=https://h;AccessKey=k;Port=80a",
      "Endpoint=https://h:99999;AccessKey=k",
      "Endpoint=ftp://h;AccessKey=k",
      "Endpoint=https://;AccessKey=k",
      "Endpoint=https://h?x=1;AccessKey=k",
      "Endpoint=https://user@h;AccessKey=k",
      "Endpoint=https://h;AccessKey=k;junk",
      "Endpoint=https://[::1;AccessKey=k",
      "Endpoint=https://h o;AccessKey=k",
  };
  for (const char* text : bad) {
    auto r = ParseConnectionString(text);
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, kConnectionStringInvalid);
    }
  }
  EXPECT_FALSE(ParseConnectionString(std::string(kConnectionStringBytesMax + 1, 'a')).ok());
}

TEST(ConnectionStringPrint, RoundTripsThroughParse) {
  const char* inputs[] = {
      "Endpoint=https://abc.webpubsub.azure.com;AccessKey=k3y==;Version=1.0;",
      "endpoint=http://localhost;port=8080;accesskey=abc;Custom=x;",
      "Endpoint=https://p.example.com/wps/;AccessKey=k",
  };
  for (const char* in : inputs) {
    const ConnectionString cs = MustParse(in);
    const std::string printed = PrintConnectionString(cs);
    auto again = ParseConnectionString(printed);
    ASSERT_TRUE(again.ok()) << printed;
    EXPECT_EQ(*again, cs) << printed;
  }
  EXPECT_EQ(PrintConnectionString(MustParse("endpoint=http://localhost;port=8080;accesskey=abc")),
            "Endpoint=http://localhost:8080;AccessKey=abc;");
}

TEST(ClientUrls, DeriveWebSocketUrlsAndHttpAudiences) {
  const ConnectionString cs = MustParse("Endpoint=https://h.example.com;AccessKey=k");
  EXPECT_EQ(ClientBaseUrl(cs, "chat", ClientType::kDefault), "wss://h.example.com/client/hubs/chat");
  EXPECT_EQ(ClientBaseUrl(cs, "chat", ClientType::kMqtt),
            "wss://h.example.com/clients/mqtt/hubs/chat");
  EXPECT_EQ(ClientAudience(cs, "chat", ClientType::kDefault),
            "https://h.example.com/client/hubs/chat");
  EXPECT_EQ(ClientAudience(cs, "chat", ClientType::kMqtt),
            "https://h.example.com/clients/mqtt/hubs/chat");
  EXPECT_EQ(ClientUrl(cs, "chat", ClientType::kDefault, "T"),
            "wss://h.example.com/client/hubs/chat?access_token=T");
  const ConnectionString local = MustParse("Endpoint=http://localhost;Port=8080;AccessKey=k");
  EXPECT_EQ(ClientBaseUrl(local, "a b", ClientType::kDefault),
            "ws://localhost:8080/client/hubs/a b");  // the hub is not escaped, like the JS SDK
}

}  // namespace
}  // namespace wpsim::protocol::auth
