#include "tests/protocol/mqtt/test_util.h"

#include <cstdio>
#include <cstdlib>

#include "base/encoding.h"

namespace wpsim::protocol::mqtt::testing {

std::vector<uint8_t> Hex(std::string_view text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char ch : text) {
    int v;
    if (ch >= '0' && ch <= '9') {
      v = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      v = ch - 'a' + 10;
    } else if (ch >= 'A' && ch <= 'F') {
      v = ch - 'A' + 10;
    } else if (ch == ' ' || ch == '\t' || ch == '\n') {
      continue;
    } else {
      std::fprintf(stderr, "bad hex character '%c' in \"%.*s\"\n", ch,
                   static_cast<int>(text.size()), text.data());
      std::abort();
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high * 16 + v));
      high = -1;
    }
  }
  if (high >= 0) {
    std::fprintf(stderr, "odd number of hex digits in \"%.*s\"\n", static_cast<int>(text.size()),
                 text.data());
    std::abort();
  }
  return out;
}

std::string ToHex(const std::vector<uint8_t>& bytes) {
  return HexEncode(std::span<const uint8_t>(bytes.data(), bytes.size()));
}

namespace {

std::vector<uint8_t> B(std::string_view s) { return {s.begin(), s.end()}; }

Properties FullPublishProperties() {
  Properties p;
  p.payload_format_indicator = 1;
  p.message_expiry_interval = 3600;
  p.content_type = "application/json";
  p.response_topic = "replies/1";
  p.correlation_data = B("\x00\x01\xfe\xff");
  p.user_properties = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  return p;
}

}  // namespace

std::vector<Sample> ClientToServerSamples(ProtocolVersion version) {
  bool v5 = version == ProtocolVersion::kV5;
  std::vector<Sample> s;

  Connect connect;
  connect.clean_start = false;
  connect.keep_alive = 60;
  connect.client_id = "client1";
  Will will;
  will.qos = 1;
  will.retain = false;
  will.topic = "will/topic";
  will.payload = B("gone\x00\xff");
  if (v5) {
    connect.properties.session_expiry_interval = 30;
    connect.properties.receive_maximum = 20;
    connect.properties.maximum_packet_size = 1 << 20;
    connect.properties.topic_alias_maximum = 10;
    connect.properties.request_response_information = 1;
    connect.properties.request_problem_information = 0;
    connect.properties.user_properties = {{"k", "v"}};
    connect.properties.authentication_method = "SCRAM-SHA-1";
    connect.properties.authentication_data = B("client-first");
    will.properties.will_delay_interval = 5;
    will.properties.payload_format_indicator = 0;
    will.properties.message_expiry_interval = 100;
    will.properties.content_type = "text/plain";
    will.properties.response_topic = "r";
    will.properties.correlation_data = B("c");
    will.properties.user_properties = {{"w", "1"}};
  }
  connect.will = will;
  connect.username = "user";
  connect.password = B("p\x00ss");
  s.push_back({"connect", connect});

  Publish q0;
  q0.topic = "topic1";
  q0.payload = B("Hello World!");
  s.push_back({"publish_qos0", q0});

  Publish q1;
  q1.qos = 1;
  q1.retain = true;
  q1.topic = "a/b/c";
  q1.packet_id = 1;
  q1.payload = std::vector<uint8_t>(300, 0xAB);  // two-byte Remaining Length
  if (v5) q1.properties = FullPublishProperties();
  s.push_back({"publish_qos1_retain", q1});

  Publish q2;
  q2.qos = 2;
  q2.dup = true;
  q2.topic = "\xEF\xBB\xBF\xE2\x82\xAC/x";  // BOM and euro sign
  q2.packet_id = 65535;
  s.push_back({"publish_qos2_dup", q2});

  Publish empty;
  empty.topic = "e";
  s.push_back({"publish_empty_payload", empty});

  if (v5) {
    Publish alias;
    alias.topic = "";
    alias.properties.topic_alias = 3;
    alias.payload = B("by alias");
    s.push_back({"publish_topic_alias", alias});
  }

  Puback puback;
  puback.packet_id = 7;
  s.push_back({"puback", puback});
  if (v5) {
    Puback rich;
    rich.packet_id = 8;
    rich.reason_code = ReasonCode::kNoMatchingSubscribers;
    s.push_back({"puback_reason", rich});
    Puback props;
    props.packet_id = 9;
    props.reason_code = ReasonCode::kQuotaExceeded;
    props.properties.reason_string = "too many";
    props.properties.user_properties = {{"x", "y"}};
    s.push_back({"puback_properties", props});
  }
  Pubrec pubrec;
  pubrec.packet_id = 10;
  if (v5) pubrec.reason_code = ReasonCode::kImplementationSpecificError;
  s.push_back({"pubrec", pubrec});
  Pubrel pubrel;
  pubrel.packet_id = 11;
  if (v5) pubrel.reason_code = ReasonCode::kPacketIdentifierNotFound;
  s.push_back({"pubrel", pubrel});
  Pubcomp pubcomp;
  pubcomp.packet_id = 12;
  if (v5) pubcomp.properties.reason_string = "done";
  s.push_back({"pubcomp", pubcomp});

  Subscribe subscribe;
  subscribe.packet_id = 13;
  subscribe.subscriptions.push_back({"topic1", {1, false, false, 0}});
  subscribe.subscriptions.push_back({"a/+/c/#", {2, false, false, 0}});
  if (v5) {
    subscribe.properties.subscription_identifiers = {268'435'455};
    subscribe.properties.user_properties = {{"s", "t"}};
    subscribe.subscriptions.push_back({"$share/group/x", {0, false, true, 2}});
    subscribe.subscriptions.push_back({"y", {1, true, false, 1}});
  }
  s.push_back({"subscribe", subscribe});

  Unsubscribe unsubscribe;
  unsubscribe.packet_id = 14;
  unsubscribe.topic_filters = {"topic1", "a/+/c/#"};
  if (v5) unsubscribe.properties.user_properties = {{"u", "v"}};
  s.push_back({"unsubscribe", unsubscribe});

  s.push_back({"pingreq", Pingreq{}});

  if (v5) {
    Auth auth;
    auth.reason_code = ReasonCode::kContinueAuthentication;
    auth.properties.authentication_method = "SCRAM-SHA-1";
    auth.properties.authentication_data = B("client-final");
    auth.properties.reason_string = "step 2";
    s.push_back({"auth", auth});
    s.push_back({"auth_empty", Auth{}});
    Disconnect with_will;
    with_will.reason_code = ReasonCode::kDisconnectWithWillMessage;
    with_will.properties.session_expiry_interval = 0;
    with_will.properties.reason_string = "bye";
    s.push_back({"disconnect_with_will", with_will});
  }
  s.push_back({"disconnect", Disconnect{}});
  return s;
}

std::vector<Sample> ServerToClientSamples(ProtocolVersion version) {
  bool v5 = version == ProtocolVersion::kV5;
  std::vector<Sample> s;

  Connack connack;
  connack.session_present = true;
  if (v5) {
    Properties& p = connack.properties;
    p.session_expiry_interval = 30;
    p.receive_maximum = 100;
    p.maximum_qos = 1;
    p.retain_available = 0;
    p.maximum_packet_size = 1 << 20;
    p.assigned_client_identifier = "assigned-1";
    p.topic_alias_maximum = 0;
    p.reason_string = "welcome";
    p.user_properties = {{"region", "eu"}};
    p.wildcard_subscription_available = 0;
    p.subscription_identifier_available = 1;
    p.shared_subscription_available = 0;
    p.server_keep_alive = 120;
    p.response_information = "resp/";
    p.server_reference = "other:1883";
    p.authentication_method = "SCRAM-SHA-1";
    p.authentication_data = B("server-final");
  }
  s.push_back({"connack", connack});

  Publish publish;
  publish.qos = 1;
  publish.packet_id = 500;
  publish.topic = "$webpubsub/server/messages";
  publish.payload = B("{\"x\":1}");
  if (v5) {
    publish.properties = FullPublishProperties();
    publish.properties.subscription_identifiers = {1, 128, 16384, 268'435'455};
  }
  s.push_back({"publish", publish});

  Publish big;
  big.topic = "big";
  big.payload = std::vector<uint8_t>(20'000, 0x5A);  // three-byte Remaining Length
  s.push_back({"publish_3byte_length", big});

  Puback puback;
  puback.packet_id = 1;
  if (v5) puback.reason_code = ReasonCode::kNotAuthorized;
  s.push_back({"puback", puback});
  Pubrec pubrec;
  pubrec.packet_id = 2;
  s.push_back({"pubrec", pubrec});
  Pubrel pubrel;
  pubrel.packet_id = 3;
  s.push_back({"pubrel", pubrel});
  Pubcomp pubcomp;
  pubcomp.packet_id = 4;
  s.push_back({"pubcomp", pubcomp});

  Suback suback;
  suback.packet_id = 13;
  suback.reason_codes = {ReasonCode::kGrantedQos1, ReasonCode::kGrantedQos0,
                         ReasonCode::kGrantedQos2, ReasonCode::kUnspecifiedError};
  if (v5) {
    suback.reason_codes.push_back(ReasonCode::kWildcardSubscriptionsNotSupported);
    suback.reason_codes.push_back(ReasonCode::kNotAuthorized);
    suback.properties.reason_string = "partial";
  }
  s.push_back({"suback", suback});

  Unsuback unsuback;
  unsuback.packet_id = 14;
  if (v5) {
    unsuback.reason_codes = {ReasonCode::kSuccess, ReasonCode::kNoSubscriptionExisted};
    unsuback.properties.user_properties = {{"a", "b"}};
  }
  s.push_back({"unsuback", unsuback});

  s.push_back({"pingresp", Pingresp{}});

  if (v5) {
    Auth auth;
    auth.reason_code = ReasonCode::kReAuthenticate;
    auth.properties.authentication_method = "SCRAM-SHA-1";
    s.push_back({"auth", auth});
    Disconnect disconnect;
    disconnect.reason_code = ReasonCode::kSessionTakenOver;
    disconnect.properties.reason_string = "another connection";
    disconnect.properties.server_reference = "elsewhere";
    s.push_back({"disconnect_session_taken_over", disconnect});
    Disconnect keep_alive;
    keep_alive.reason_code = ReasonCode::kKeepAliveTimeout;
    s.push_back({"disconnect_reason_only", keep_alive});
  }
  return s;
}

std::vector<uint8_t> EncodeAll(const std::vector<Sample>& samples, ProtocolVersion version) {
  std::vector<uint8_t> out;
  for (const Sample& sample : samples) {
    Status status = Encode(sample.packet, version, &out);
    if (!status.ok()) {
      std::fprintf(stderr, "encoding %s failed: %s\n", sample.name.c_str(),
                   status.error().message.c_str());
      std::abort();
    }
  }
  return out;
}

std::vector<Packet> DecodeAll(const std::vector<uint8_t>& bytes, DecoderOptions options,
                              size_t chunk, DecodeError* error) {
  Decoder decoder(options);
  std::vector<Packet> packets;
  Packet packet;
  size_t pos = 0;
  if (chunk == 0) chunk = bytes.size() == 0 ? 1 : bytes.size();
  while (pos < bytes.size()) {
    size_t n = std::min(chunk, bytes.size() - pos);
    std::span<const uint8_t> in(bytes.data() + pos, n);
    pos += n;
    while (true) {
      DecodeStatus status = decoder.Decode(&in, &packet);
      if (status == DecodeStatus::kPacket) {
        packets.push_back(packet);
        continue;
      }
      if (status == DecodeStatus::kError) {
        if (error != nullptr) *error = decoder.error();
        return packets;
      }
      break;
    }
  }
  return packets;
}

std::string Describe(const Packet& packet) {
  std::string out(PacketTypeName(TypeOf(packet)));
  std::vector<uint8_t> bytes;
  if (Encode(packet, ProtocolVersion::kV5, &bytes).ok()) out += " " + ToHex(bytes);
  return out;
}

}  // namespace wpsim::protocol::mqtt::testing
