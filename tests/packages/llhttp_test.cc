#include <gtest/gtest.h>
#include <llhttp.h>

#include <string>

namespace {

struct Seen {
  std::string url, body, upgrade_value, last_field;
  bool complete = false;
};

int OnUrl(llhttp_t* p, const char* at, size_t n) {
  static_cast<Seen*>(p->data)->url.append(at, n);
  return 0;
}
int OnBody(llhttp_t* p, const char* at, size_t n) {
  static_cast<Seen*>(p->data)->body.append(at, n);
  return 0;
}
int OnField(llhttp_t* p, const char* at, size_t n) {
  static_cast<Seen*>(p->data)->last_field.assign(at, n);
  return 0;
}
int OnValue(llhttp_t* p, const char* at, size_t n) {
  auto* s = static_cast<Seen*>(p->data);
  if (s->last_field == "Upgrade") s->upgrade_value.append(at, n);
  return 0;
}
int OnComplete(llhttp_t* p) {
  static_cast<Seen*>(p->data)->complete = true;
  return 0;
}

TEST(LlhttpPackage, ParsesARequestWithBodyAndUpgradeHeader) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_url = OnUrl;
  settings.on_body = OnBody;
  settings.on_header_field = OnField;
  settings.on_header_value = OnValue;
  settings.on_message_complete = OnComplete;
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &settings);
  Seen seen;
  parser.data = &seen;
  const std::string req =
      "POST /api/hubs/chat/:send?api-version=2024-12-01 HTTP/1.1\r\n"
      "Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Content-Length: 5\r\n\r\nhello";
  llhttp_errno_t err = llhttp_execute(&parser, req.data(), req.size());
  // A request with Upgrade pauses the parser after the headers/body: HPE_PAUSED_UPGRADE.
  EXPECT_TRUE(err == HPE_OK || err == HPE_PAUSED_UPGRADE) << llhttp_errno_name(err);
  EXPECT_EQ(seen.url, "/api/hubs/chat/:send?api-version=2024-12-01");
  EXPECT_EQ(seen.body, "hello");
  EXPECT_EQ(seen.upgrade_value, "websocket");
  EXPECT_TRUE(seen.complete);
  EXPECT_EQ(llhttp_get_method(&parser), HTTP_POST);
  EXPECT_EQ(llhttp_get_upgrade(&parser), 1);
}

}  // namespace
