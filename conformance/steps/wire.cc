// The wire family: how http_request, ws_frame and mqtt_packet are read and run (over
// clients/wire_client.h, on the simulated network or a real socket). How the wire expectation
// (their inline `expect`) is judged is in wire_judge.cc.
#include "conformance/steps/wire.h"

#include "clients/wire_client.h"
#include "conformance/driver.h"
#include "conformance/shape/steps.h"
#include "conformance/steps/auth.h"
#include "conformance/steps/internal.h"
#include "conformance/yaml_json.h"
#include "protocol/http/url.h"
#include "protocol/webpubsub/client_requests.h"

namespace wpsim::conformance::shape {
namespace {

constexpr std::initializer_list<ClientKind> kSocketKinds = {
    ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable, ClientKind::kMqtt311,
    ClientKind::kMqtt5};

// Hex bytes, white space between them allowed: "82 7e 00 7e".
std::optional<std::string> HexBytes(Context& c, const Node& n, std::string_view what) {
  auto s = c.Str(n, what);
  if (!s) return std::nullopt;
  std::string out;
  int high = -1;
  for (char ch : *s) {
    if (ch == ' ' || ch == '\n' || ch == '\t' || ch == ':') continue;
    int d = ch >= '0' && ch <= '9'   ? ch - '0'
            : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
            : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                     : -1;
    if (d < 0) {
      c.Error(n, std::string(what) + ": expected hex digits, got " + Q(std::string(1, ch)));
      return std::nullopt;
    }
    if (high < 0) {
      high = d;
    } else {
      out.push_back(static_cast<char>(high * 16 + d));
      high = -1;
    }
  }
  if (high >= 0) {
    c.Error(n, std::string(what) + ": an odd number of hex digits");
    return std::nullopt;
  }
  return out;
}

const std::vector<EnumName<uint8_t>> kOpcodes = {
    {"continuation", 0}, {"text", 1}, {"binary", 2}, {"close", 8}, {"ping", 9}, {"pong", 10}};

// An opcode: a name or a number 0..15 (reserved ones included).
std::optional<uint8_t> Opcode(Context& c, const Node& n) {
  if (n.IsScalar() && !n.Scalar().empty() && n.Scalar()[0] >= '0' && n.Scalar()[0] <= '9') {
    auto v = c.Uint(n, "opcode", 0, 15);
    if (!v) return std::nullopt;
    return static_cast<uint8_t>(*v);
  }
  return c.Enum(n, "opcode", kOpcodes);
}

nlohmann::json OpcodeSchema() {
  return {{"anyOf",
           {{{"type", "integer"}, {"minimum", 0}, {"maximum", 15}},
            {{"enum", {"continuation", "text", "binary", "close", "ping", "pong"}}}}}};
}

// ---- expect --------------------------------------------------------------------------------

const Table<WireResponseCheck>& ResponseTable() {
  using R = WireResponseCheck;
  static const Table<R> t = {
      Custom<R>("status", "status or list", SchemaRef("statusList"),
                "the response status (any of a list)",
                [](Context& c, const Node& v, R& r) {
                  if (auto st = c.Statuses(v)) r.statuses = *st;
                }),
      Custom<R>("headers", "mapping", {{"type", "object"}},
                "response headers with these exact values (names case-insensitive)",
                [](Context& c, const Node& v, R& r) {
                  if (auto p = c.StrPairs(v, "headers")) {
                    for (auto& [k, val] : *p)
                      r.headers.push_back({k, WireHeaderCheck::Kind::kEquals, val});
                  }
                }),
      Custom<R>("header_contains", "mapping", {{"type", "object"}},
                "response headers whose values contain these strings",
                [](Context& c, const Node& v, R& r) {
                  if (auto p = c.StrPairs(v, "header_contains")) {
                    for (auto& [k, val] : *p)
                      r.headers.push_back({k, WireHeaderCheck::Kind::kContains, val});
                  }
                }),
      Custom<R>("headers_present", "string or list", {{"type", "array"}},
                "response headers that must be present",
                [](Context& c, const Node& v, R& r) {
                  if (auto l = c.StrList(v, "headers_present")) {
                    for (auto& k : *l) r.headers.push_back({k, WireHeaderCheck::Kind::kPresent, ""});
                  }
                }),
      Custom<R>("headers_absent", "string or list", {{"type", "array"}},
                "response headers that must be absent",
                [](Context& c, const Node& v, R& r) {
                  if (auto l = c.StrList(v, "headers_absent")) {
                    for (auto& k : *l) r.headers.push_back({k, WireHeaderCheck::Kind::kAbsent, ""});
                  }
                }),
      Opt("body", &R::body, String(), "the response body, exactly"),
      Opt("body_contains", &R::body_contains, String(), "a part of the response body"),
      Custom<R>("json", "mapping", {{"type", "object"}},
                "JSON pointer -> value the response body (JSON) holds there",
                [](Context& c, const Node& v, R& r) {
                  if (!v.IsMap()) {
                    c.Error(v, "json: expected a mapping of JSON pointers to values, got " +
                                   Describe(v));
                    return;
                  }
                  for (auto it = v.begin(); it != v.end(); ++it) {
                    auto k = c.Str(it->first, "JSON pointer");
                    if (!k) continue;
                    if (!k->empty() && (*k)[0] != '/') {
                      c.Error(it->first, "a JSON pointer starts with '/', got " + Q(*k));
                      continue;
                    }
                    r.json.emplace_back(*k, YamlToJson(it->second));
                  }
                }),
  };
  return t;
}

const Table<WireFrameCheck>& FrameCheckTable() {
  using F = WireFrameCheck;
  static const Table<F> t = {
      Custom<F>("opcode", "opcode", OpcodeSchema(), "the frame's opcode (name or 0..15)",
                [](Context& c, const Node& v, F& f) { f.opcode = Opcode(c, v); }),
      Opt("fin", &F::fin, Boolean(), "the FIN bit"),
      Opt("payload", &F::payload, String(), "the payload, exactly (text)"),
      Custom<F>("payload_hex", "hex bytes", {{"type", "string"}}, "the payload, exactly (hex)",
                [](Context& c, const Node& v, F& f) { f.payload = HexBytes(c, v, "payload_hex"); }),
      Opt("payload_contains", &F::payload_contains, String(), "a part of the payload"),
  };
  return t;
}

const Table<WireFrameCheck>& CloseCheckTable() {
  using F = WireFrameCheck;
  static const Table<F> t = {
      Custom<F>("code", "close code or none", {{"anyOf", {{{"type", "integer"}}, {{"const", "none"}}}}},
                "the status code (none: a close frame without one)",
                [](Context& c, const Node& v, F& f) {
                  if (v.IsScalar() && v.Scalar() == "none") {
                    f.close_code = 0;
                  } else if (auto code = c.Uint(v, "close code", 1000, 4999)) {
                    f.close_code = static_cast<uint16_t>(*code);
                  }
                }),
      Opt("reason", &F::reason, String(), "the close reason, exactly (\"\" = none)"),
      Opt("reason_contains", &F::reason_contains, String(), "a part of the close reason"),
  };
  return t;
}

const Table<WireMqttCheck>& PacketTable() {
  using P = WireMqttCheck;
  static const Table<P> t = {
      Custom<P>("type", "packet type", {{"type", "string"}},
                "connack, publish, puback, pubrec, pubrel, pubcomp, suback, unsuback, pingresp, "
                "disconnect, auth (or 1..15)",
                [](Context& c, const Node& v, P& p) {
                  static const std::vector<EnumName<uint8_t>> kTypes = {
                      {"connack", 2}, {"publish", 3},  {"puback", 4},    {"pubrec", 5},
                      {"pubrel", 6},  {"pubcomp", 7},  {"suback", 9},    {"unsuback", 11},
                      {"pingresp", 13}, {"disconnect", 14}, {"auth", 15}};
                  if (v.IsScalar() && !v.Scalar().empty() && v.Scalar()[0] >= '0' &&
                      v.Scalar()[0] <= '9') {
                    if (auto n = c.Uint(v, "packet type", 1, 15)) p.type = static_cast<uint8_t>(*n);
                  } else {
                    p.type = c.Enum(v, "packet type", kTypes);
                  }
                }),
      Opt("flags", &P::flags, Integer(0, 15), "the fixed header's low four bits (DUP, QoS, RETAIN)"),
      Opt("packet_id", &P::packet_id, Integer(1, 65535), "the packet identifier"),
      Custom<P>("reason_code", "integer 0..255", {{"type", "integer"}},
                "the reason code (CONNACK: the return code for 3.1.1)",
                [](Context& c, const Node& v, P& p) {
                  if (auto n = c.Uint(v, "reason_code", 0, 255))
                    p.reason_codes = {static_cast<uint8_t>(*n)};
                }),
      Custom<P>("reason_codes", "list of integers", {{"type", "array"}},
                "SUBACK / UNSUBACK: every reason code, in order",
                [](Context& c, const Node& v, P& p) {
                  if (auto r = c.ReasonCodes(v)) p.reason_codes = *r;
                }),
      Opt("session_present", &P::session_present, Boolean(), "CONNACK: Session Present"),
      Custom<P>("properties_present", "list of integers", {{"type", "array"}},
                "5.0 property identifiers the packet carries (e.g. 0x22 Topic Alias Maximum)",
                [](Context& c, const Node& v, P& p) {
                  if (auto r = c.ReasonCodes(v)) p.properties_present = *r;
                }),
      Custom<P>("properties_absent", "list of integers", {{"type", "array"}},
                "5.0 property identifiers the packet must not carry",
                [](Context& c, const Node& v, P& p) {
                  if (auto r = c.ReasonCodes(v)) p.properties_absent = *r;
                }),
      Opt("v5", &P::v5, Boolean(), "whether the packet has 5.0 properties (default true)"),
  };
  return t;
}

template <typename T>
void ReadOneOrList(Context& c, const Node& v, const Table<T>& table, std::string_view what,
                   std::vector<T>& out, T proto = {}) {
  auto one = [&](const Node& n) {
    Map m(c, n, std::string(what), KeysOf(table));
    if (!m.ok()) return;
    T t = proto;
    ReadFields(c, m, table, t);
    out.push_back(std::move(t));
  };
  if (v.IsSequence()) {
    for (const Node& n : v) one(n);
  } else {
    one(v);
  }
}

const Keys& ExpectKeys() {
  static const Keys k = [] {
    Keys keys = KeysOf(ResponseTable());
    for (std::string_view s : {"responses", "frame", "frames", "close", "packet", "packets",
                               "nothing_within", "ends"})
      keys.push_back(s);
    return keys;
  }();
  return k;
}

void ReadExpect(StepInput& in, const Node& v, const ClientRef& clients) {
  Context& c = in.c;
  Map m(c, v, "expect", ExpectKeys());
  if (!m.ok()) return;
  WireExpect e;
  e.clients = clients;
  bool response_keys = false;
  for (std::string_view k : KeysOf(ResponseTable())) response_keys = response_keys || m.Has(k);
  if (response_keys && m.Has("responses")) {
    c.Error(*m.Key("responses"), "give the response fields or 'responses', not both");
  } else if (response_keys) {
    WireResponseCheck r;
    ReadFields(c, m, ResponseTable(), r);
    e.responses.push_back(std::move(r));
  } else if (auto r = m.Get("responses")) {
    ReadOneOrList(c, *r, ResponseTable(), "response check", e.responses);
  }
  if (auto f = m.Get("frame")) ReadOneOrList(c, *f, FrameCheckTable(), "frame check", e.frames);
  if (auto f = m.Get("frames")) ReadOneOrList(c, *f, FrameCheckTable(), "frame check", e.frames);
  if (auto f = m.Get("close")) {
    WireFrameCheck proto;
    proto.opcode = 8;
    ReadOneOrList(c, *f, CloseCheckTable(), "close check", e.frames, proto);
  }
  if (auto p = m.Get("packet")) ReadOneOrList(c, *p, PacketTable(), "packet check", e.packets);
  if (auto p = m.Get("packets")) ReadOneOrList(c, *p, PacketTable(), "packet check", e.packets);
  if (auto n = m.Get("nothing_within")) e.nothing_within_ns = c.PositiveDuration(*n, "nothing_within");
  if (auto n = m.Get("ends")) e.ends = c.Bool(*n, "ends").value_or(false);
  in.Inline(v, std::move(e));
}

// ---- http_request ----------------------------------------------------------------------------

ValueType<std::vector<WireHeader>> HeadersValue() {
  return {[](Context& c, const Node& n, std::string_view) -> std::optional<std::vector<WireHeader>> {
            auto p = c.StrPairs(n, "headers");
            if (!p) return std::nullopt;
            std::vector<WireHeader> out;
            for (auto& [k, v] : *p) out.push_back({k, v});
            return out;
          },
          "mapping of strings",
          {{"type", "object"}}};
}

const Table<HttpRequestStep>& HttpTable() {
  using S = HttpRequestStep;
  static const Table<S> t = {
      Opt("upgrade", &S::upgrade, Boolean(),
          "a WebSocket upgrade built from the client's settings (hub, token, subprotocols)"),
      Opt("subprotocols", &S::subprotocols, SubprotocolList(), "upgrade: the offered subprotocols"),
      Opt("token", &S::token, TokenValue(false), "the token options (upgrade, rest_auth)"),
      Opt("rest_auth", &S::rest_auth, Boolean(),
          "Authorization: Bearer with a REST token whose aud is the target's URL"),
      Opt("method", &S::method, NonEmptyString(), "the method, verbatim (default GET)"),
      Opt("target", &S::target, String(),
          "the request target, verbatim ({hub}, {token}, {host}, {endpoint}); absolute-form allowed"),
      Opt("headers", &S::headers, HeadersValue(),
          "headers in this order and case (a default of the same name is replaced)"),
      Opt("omit_headers", &S::omit_headers, StringList(),
          "default headers not sent (Host, Content-Length, Upgrade, Connection, Sec-WebSocket-*)"),
      Opt("body", &S::body, String(), "the body (Content-Length added)"),
      Opt("raw", &S::raw, String(), "the whole request, verbatim ({host}, {hub}, {token})"),
      Opt("pipeline", &S::pipeline, Integer(1, 100), "the request written this many times at once"),
      Opt("send_bytes", &S::send_bytes, Integer(0, 1u << 30),
          "write only the first n bytes, then stall"),
      Opt("same_connection", &S::same_connection, Boolean(),
          "write on the member's open wire connection (default: a new one)"),
  };
  return t;
}

bool ReadHttpRequest(StepInput& in) {
  Context& c = in.c;
  Keys keys = KeysOf(HttpTable());
  keys.push_back("expect");
  auto ref = in.ClientsOf(keys, RefOptions{.single = true, .allow_rest = true});
  if (!ref) return false;
  HttpRequestStep s;
  s.clients = *ref;
  if (!in.map) {
    c.Error(in.value, "http_request needs a mapping (client, and target, raw or upgrade)");
    return false;
  }
  const Map& m = *in.map;
  ReadFields(c, m, HttpTable(), s);
  if (s.raw && (m.Has("method") || m.Has("target") || m.Has("headers") || m.Has("body") ||
                m.Has("upgrade") || m.Has("omit_headers"))) {
    c.Error(*m.Key("raw"), "'raw' is the whole request: no method, target, headers, body or upgrade");
  }
  if (!s.raw && !s.upgrade && s.target.empty())
    c.Error(m.node(), "http_request needs 'target', 'raw' or 'upgrade: true'");
  if (s.upgrade) c.CheckKinds(s.clients, *m.Get("client"), kSocketKinds, "an upgrade");
  if (auto v = m.Get("expect")) ReadExpect(in, *v, s.clients);
  in.step.args = std::move(s);
  return true;
}

// ---- ws_frame ------------------------------------------------------------------------------

const Table<WireFrameArgs>& FrameTable() {
  using F = WireFrameArgs;
  static const Table<F> t = {
      Custom<F>("opcode", "opcode", OpcodeSchema(), "name or 0..15 (default text)",
                [](Context& c, const Node& v, F& f) {
                  if (auto o = Opcode(c, v)) f.opcode = *o;
                }),
      Opt("fin", &F::fin, Boolean(), "the FIN bit (default true)"),
      Opt("rsv", &F::rsv, Integer(0, 7), "RSV1..3 as a number 0..7 (4 = RSV1)"),
      Opt("mask", &F::mask, Boolean(), "mask the payload (default true, as clients must)"),
      Opt("text", &F::payload, String(), "the payload as text"),
      Custom<F>("hex", "hex bytes", {{"type", "string"}}, "the payload as hex bytes",
                [](Context& c, const Node& v, F& f) {
                  if (auto b = HexBytes(c, v, "hex")) f.payload = *b;
                }),
      Custom<F>("fill", "mapping", {{"type", "object"}},
                "the payload as {byte: 0..255, count: n} (one byte repeated)",
                [](Context& c, const Node& v, F& f) {
                  Map m(c, v, "fill", {"byte", "count"});
                  if (!m.ok()) return;
                  auto b = m.Required(c, "byte");
                  auto n = m.Required(c, "count");
                  if (!b || !n) return;
                  auto byte = c.Uint(*b, "byte", 0, 255);
                  auto count = c.Uint(*n, "count", 0, 16u << 20);
                  if (byte && count) f.payload.assign(*count, static_cast<char>(*byte));
                }),
      Custom<F>("code", "close code", {{"type", "integer"}},
                "a close frame's status code (the payload starts with it)",
                [](Context& c, const Node& v, F& f) {
                  if (auto code = c.Uint(v, "code", 0, 65535)) {
                    std::string p;
                    p.push_back(static_cast<char>(*code >> 8));
                    p.push_back(static_cast<char>(*code & 0xff));
                    f.payload = p + f.payload;
                  }
                }),
      Custom<F>("reason", "string", {{"type", "string"}}, "a close frame's reason (after code)",
                [](Context& c, const Node& v, F& f) {
                  if (auto r = c.Str(v, "reason")) f.payload += *r;
                }),
      Opt("length", &F::length, Integer(0, ~uint64_t{0} >> 1),
          "the announced payload length, when it should differ from the payload's"),
      Custom<F>("raw", "hex bytes", {{"type", "string"}},
                "the whole frame as hex bytes, verbatim (header included: non-minimal lengths)",
                [](Context& c, const Node& v, F& f) { f.raw = HexBytes(c, v, "raw"); }),
  };
  return t;
}

// The frame fields of `m` (a frame of `frames:`, or the step's own mapping).
bool ReadFrame(Context& c, const Map& m, WireFrameArgs& f) {
  if (m.Has("raw")) {
    for (const std::string& k : m.PresentKeys()) {
      if (k != "raw" && Contains(KeysOf(FrameTable()), k)) {
        c.Error(*m.Key(k), "'raw' is the whole frame: no other frame field with it");
        return false;
      }
    }
  }
  int payloads = m.Has("text") + m.Has("hex") + m.Has("fill");
  if (payloads > 1) {
    c.Error(m.node(), "give one of 'text', 'hex' and 'fill'");
    return false;
  }
  if ((m.Has("code") || m.Has("reason")) && payloads > 0) {
    c.Error(m.node(), "'code'/'reason' build a close payload: no 'text', 'hex' or 'fill' with them");
    return false;
  }
  if (m.Has("reason") && !m.Has("code")) {
    c.Error(*m.Key("reason"), "a close reason needs a 'code' before it");
    return false;
  }
  // code before reason whatever the key order
  ReadFields(c, m, Without(FrameTable(), {"reason"}), f);
  if (auto r = m.Get("reason")) {
    if (auto s = c.Str(*r, "reason")) f.payload += *s;
  }
  if (m.Has("code") && !m.Has("opcode")) f.opcode = 8;
  return true;
}

bool ReadWsFrame(StepInput& in) {
  Context& c = in.c;
  Keys keys = KeysOf(FrameTable());
  keys.push_back("frames");
  keys.push_back("expect");
  auto ref = in.ClientsOf(keys, RefOptions{.single = true});
  if (!ref) return false;
  WsFrameStep s;
  s.clients = *ref;
  c.CheckKinds(s.clients, in.value, kSocketKinds, in.what());
  if (!in.map) {
    c.Error(in.value, "ws_frame needs a mapping (client and the frame, or frames)");
    return false;
  }
  const Map& m = *in.map;
  if (auto fs = m.Get("frames")) {
    for (const std::string& k : m.PresentKeys()) {
      if (Contains(KeysOf(FrameTable()), k))
        c.Error(*m.Key(k), "give the frame's fields or 'frames', not both");
    }
    if (!fs->IsSequence()) {
      c.Error(*fs, "frames: expected a list of frames, got " + Describe(*fs));
    } else {
      for (const Node& n : *fs) {
        Map fm(c, n, "frame", KeysOf(FrameTable()));
        WireFrameArgs f;
        if (fm.ok() && ReadFrame(c, fm, f)) s.frames.push_back(std::move(f));
      }
    }
  } else {
    WireFrameArgs f;
    if (ReadFrame(c, m, f)) s.frames.push_back(std::move(f));
  }
  if (auto v = m.Get("expect")) ReadExpect(in, *v, s.clients);
  in.step.args = std::move(s);
  return true;
}

// ---- mqtt_packet -----------------------------------------------------------------------------

bool ReadMqttPacket(StepInput& in) {
  Context& c = in.c;
  auto ref = in.ClientsOf({"hex", "expect"}, RefOptions{.single = true});
  if (!ref) return false;
  MqttPacketStep s;
  s.clients = *ref;
  c.CheckKinds(s.clients, in.value, kSocketKinds, in.what());
  if (!in.map) {
    c.Error(in.value, "mqtt_packet needs a mapping (client, hex)");
    return false;
  }
  const Map& m = *in.map;
  if (auto h = m.Required(c, "hex")) {
    if (auto b = HexBytes(c, *h, "hex")) s.bytes = *b;
  }
  if (auto v = m.Get("expect")) ReadExpect(in, *v, s.clients);
  in.step.args = std::move(s);
  return true;
}

FieldDoc ExpectDoc() {
  return FieldDoc{"expect", false, "mapping",
                  "check: what arrives next on the connection (see the wire expectation)",
                  nlohmann::json::object(), 0};
}

}  // namespace

// The documented fields of the three wire steps (their registration lines are at the end).
std::vector<FieldDoc> HttpRequestDocs() {
  std::vector<FieldDoc> http = WithClient(DocsOf(HttpTable()));
  http.push_back(ExpectDoc());
  return http;
}

std::vector<FieldDoc> WsFrameDocs() {
  std::vector<FieldDoc> frame = WithClient(DocsOf(FrameTable()));
  frame.push_back(FieldDoc{"frames", false, "list",
                           "several frames written at once (each with the frame fields)",
                           nlohmann::json::object(), 0});
  frame.push_back(ExpectDoc());
  return frame;
}

std::vector<FieldDoc> MqttPacketDocs() {
  return WithClient({FieldDoc{"hex", true, "hex bytes", "the MQTT packet's bytes (one binary frame)",
                              nlohmann::json::object(), 0},
                     ExpectDoc()});
}

}  // namespace wpsim::conformance::shape

namespace wpsim::conformance {
namespace {

using clients::WireEvent;

std::string Substitute(RunContext& cx, uint32_t m, std::string s, const std::string& token) {
  const protocol::auth::ConnectionString& cs = cx.env.connection_string();
  const std::string host = cs.host + (cs.port ? ":" + std::to_string(*cs.port) : "");
  s = Replace(std::move(s), "{endpoint}", cs.Endpoint());  // scheme://host[:port][/prefix]
  s = Replace(std::move(s), "{host}", host);
  s = Replace(std::move(s), "{hub}", protocol::http::PercentEncode(cx.sc.hub));
  s = Replace(std::move(s), "{token}", protocol::http::PercentEncode(token));
  (void)m;
  return s;
}

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// The request bytes of step h for member m, and its method.
std::string BuildRequest(RunContext& cx, uint32_t m, const HttpRequestStep& h, std::string& method) {
  const Client& cl = cx.sc.ClientOf(m);
  const TokenOptions& topt = h.token ? *h.token : cl.token;
  std::string token;
  if (h.upgrade || h.raw || h.target.find("{token}") != std::string::npos)
    token = Token(cx, m, topt);
  if (h.raw) {
    method = h.raw->substr(0, h.raw->find(' '));
    return Substitute(cx, m, *h.raw, token);
  }
  method = h.method;
  const protocol::auth::ConnectionString& cs = cx.env.connection_string();
  std::string target = h.target;
  std::vector<WireHeader> defaults;
  defaults.push_back({"Host", cs.host + (cs.port ? ":" + std::to_string(*cs.port) : "")});
  if (h.upgrade) {
    if (target.empty()) {
      target = IsMqtt(cl.kind) ? "/clients/mqtt/hubs/{hub}" : "/client/hubs/{hub}";
      std::string q;
      if (topt.via == TokenPlacement::kQuery && !token.empty()) q = "access_token={token}";
      for (const auto& [k, v] : cl.query) {
        q += (q.empty() ? "" : "&") + protocol::http::PercentEncode(k) + "=" +
             protocol::http::PercentEncode(v);
      }
      if (!q.empty()) target += "?" + q;
    }
    defaults.push_back({"Upgrade", "websocket"});
    defaults.push_back({"Connection", "Upgrade"});
    defaults.push_back({"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="});  // RFC 6455's sample
    defaults.push_back({"Sec-WebSocket-Version", "13"});
    std::vector<std::string> offer;
    if (h.subprotocols) {
      offer = *h.subprotocols;
    } else if (cl.subprotocols) {
      offer = *cl.subprotocols;
    } else if (cl.kind == ClientKind::kJson) {
      offer = {std::string(protocol::webpubsub::kJsonSubprotocol)};
    } else if (cl.kind == ClientKind::kReliable) {
      offer = {std::string(protocol::webpubsub::kReliableJsonSubprotocol)};
    } else if (IsMqtt(cl.kind)) {
      offer = {"mqtt"};
    }
    if (!offer.empty()) {
      std::string joined;
      for (const std::string& p : offer) joined += (joined.empty() ? "" : ", ") + p;
      defaults.push_back({"Sec-WebSocket-Protocol", joined});
    }
    if (topt.via == TokenPlacement::kHeader && !token.empty())
      defaults.push_back({"Authorization", "Bearer " + token});
    for (const auto& [k, v] : cl.headers) defaults.push_back({k, v});
  }
  target = Substitute(cx, m, target, token);
  if (h.rest_auth) {
    TokenOptions t = topt;
    if (!t.audience) {
      const std::string url = target.find("://") != std::string::npos ? target : cs.Endpoint() + target;
      t.audience = url;
    }
    defaults.push_back({"Authorization", "Bearer " + Token(cx, m, t)});
  }
  if (h.body) defaults.push_back({"Content-Length", std::to_string(h.body->size())});
  std::vector<WireHeader> headers;
  for (const WireHeader& d : defaults) {
    bool omitted = false;
    for (const std::string& o : h.omit_headers) omitted = omitted || SameName(o, d.name);
    bool replaced = false;
    for (const WireHeader& u : h.headers) replaced = replaced || SameName(u.name, d.name);
    if (!omitted && !replaced) headers.push_back(d);
  }
  for (const WireHeader& u : h.headers) headers.push_back({u.name, Substitute(cx, m, u.value, token)});
  std::string out = h.method + " " + target + " HTTP/1.1\r\n";
  for (const WireHeader& hd : headers) out += hd.name + ": " + hd.value + "\r\n";
  out += "\r\n";
  if (h.body) out += *h.body;
  return out;
}

// The wire expectation of step s, if it has one (its inline `expect`).
const WireExpect* ExpectOf(RunContext& cx, const Step& s) {
  for (const Expectation& e : cx.sc.expectations) {
    if (e.from_step == s.id && e.kind() == ExpectKind::kWire) return &e.As<WireExpect>();
  }
  return nullptr;
}

size_t Needed(const WireExpect& e) { return e.responses.size() + e.frames.size() + e.packets.size(); }

// Records where step s's checks start on member m's wire connection and appends the wait for
// what they need: the events, the end of the stream, or the silence they ask for.
void MarkAndWait(RunContext& cx, const Step& s, uint32_t m, PendingList& out) {
  MemberState& ms = cx.members[m];
  ms.wire_marks[s.id] = WireMark{ms.wire, ms.wire->events().size(), cx.env.Now()};
  const WireExpect* e = ExpectOf(cx, s);
  if (!e) return;
  std::shared_ptr<clients::WireClient> wire = ms.wire;
  const size_t start = ms.wire->events().size();
  const size_t need = Needed(*e);
  const bool ends = e->ends;
  const std::optional<int64_t> quiet = e->nothing_within_ns;
  const int64_t issued = cx.env.Now();
  sim::Runtime& rt = cx.env.ClientRuntime(m);
  auto wake = std::make_shared<std::optional<int64_t>>();
  out.push_back(cx.Awaiting(s, [wire, start, need, ends, quiet, issued, &rt, wake] {
    const auto& ev = wire->events();
    size_t got = 0;
    int64_t last = issued;
    for (size_t i = start; i < ev.size() && got < need; ++i) {
      if (ev[i].kind == WireEvent::Kind::kEnd || ev[i].kind == WireEvent::Kind::kFailed) break;
      ++got;
      last = ev[i].time_ns;
    }
    if (got < need && !wire->ended()) return false;
    if (ends && !wire->ended()) return false;
    if (quiet && !wire->ended()) {
      const int64_t until = last + *quiet;
      if (rt.Now() < until) {
        if (!*wake || **wake != until) {
          *wake = until;
          rt.SetTimer(until, [] {});  // wakes the run to see the silence through
        }
        return false;
      }
    }
    return true;
  }));
}

void Attach(RunContext& cx, uint32_t m, const Step& s) {
  MemberState& ms = cx.members[m];
  if (ms.wire) ms.wire->on_event = nullptr;
  ms.wire = std::make_shared<clients::WireClient>(cx.env.ClientRuntime(m), cx.env.ServiceAddress(),
                                                  cx.env.Dialer(m));
  clients::WireClient* w = ms.wire.get();
  const std::string who = cx.sc.members[m].name;
  ms.wire->on_event = [&cx, w, who] {
    cx.Arrow(cx.env.Now(), "service", who, clients::DescribeWireEvent(w->events().back()));
  };
  (void)s;
  ms.wire->Open();
}

void IssueHttpRequest(RunContext& cx, const Step& s, const IterContext& ctx, PendingList& out) {
  const auto& h = s.As<HttpRequestStep>();
  (void)ctx;
  for (uint32_t m : h.clients.members) {
    MemberState& ms = cx.members[m];
    if (!h.same_connection || !ms.wire || ms.wire->ended()) Attach(cx, m, s);
    std::string method;
    std::string one = BuildRequest(cx, m, h, method);
    std::string bytes;
    std::vector<std::string> methods;
    for (uint32_t i = 0; i < h.pipeline; ++i) {
      bytes += one;
      methods.push_back(method);
    }
    if (h.send_bytes && *h.send_bytes < bytes.size()) bytes.resize(*h.send_bytes);
    MarkAndWait(cx, s, m, out);
    ms.wire->Write(std::move(bytes), std::move(methods));
    cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service",
             h.upgrade ? "upgrade (wire)" : method + " (wire)");
  }
}

// A step on the member's upgraded wire connection; a failure when there is none.
clients::WireClient* Upgraded(RunContext& cx, const Step& s, uint32_t m) {
  MemberState& ms = cx.members[m];
  if (ms.wire && ms.wire->websocket()) return ms.wire.get();
  cx.Fail(FormatPos(s.pos) + ": " + std::string(StepKindName(s.kind())) + ": " +
              cx.sc.members[m].name + " has no upgraded wire connection",
          "an http_request with upgrade: true answered 101 first", "none", s.case_id);
  return nullptr;
}

void IssueWsFrame(RunContext& cx, const Step& s, const IterContext&, PendingList& out) {
  const auto& f = s.As<WsFrameStep>();
  for (uint32_t m : f.clients.members) {
    clients::WireClient* w = Upgraded(cx, s, m);
    if (!w) continue;
    std::string bytes;
    for (const WireFrameArgs& a : f.frames) {
      bytes += a.raw ? *a.raw
                     : clients::EncodeWireFrame(clients::WireFrameSpec{a.fin, a.rsv, a.opcode,
                                                                       a.mask, a.payload, a.length});
    }
    MarkAndWait(cx, s, m, out);
    w->Write(std::move(bytes));
    std::string label;
    for (const WireFrameArgs& a : f.frames)
      label += (label.empty() ? "" : ", ") + std::string(clients::WireOpcodeName(a.opcode));
    cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", label + " (wire)");
  }
}

void IssueMqttPacket(RunContext& cx, const Step& s, const IterContext&, PendingList& out) {
  const auto& p = s.As<MqttPacketStep>();
  for (uint32_t m : p.clients.members) {
    clients::WireClient* w = Upgraded(cx, s, m);
    if (!w) continue;
    MarkAndWait(cx, s, m, out);
    w->Write(clients::EncodeWireFrame(clients::WireFrameSpec{true, 0, 2, true, p.bytes, {}}));
    cx.Arrow(cx.env.Now(), cx.sc.members[m].name, "service", "mqtt packet (wire)");
  }
}

}  // namespace

void RegisterWireFamily(FamilyRegistry& r) {
  using namespace shape;  // the readers and docs above
  r.AddStep<HttpRequestStep>(
      {"http_request",
       ReadHttpRequest,
       "a hand-made HTTP/1.1 request (or a WebSocket upgrade) on a new wire connection",
       HttpRequestDocs(),
       {}},
      IssueHttpRequest);
  r.AddStep<WsFrameStep>({"ws_frame",
                          ReadWsFrame,
                          "individual WebSocket frames on the member's upgraded wire connection",
                          WsFrameDocs(),
                          {}},
                         IssueWsFrame);
  r.AddStep<MqttPacketStep>(
      {"mqtt_packet",
       ReadMqttPacket,
       "raw MQTT bytes in one binary frame on the member's upgraded wire connection",
       MqttPacketDocs(),
       {}},
      IssueMqttPacket);
  r.AddExpectation(ExpectKind::kWire, MakeWireEvaluator);  // wire_judge.cc
}

}  // namespace wpsim::conformance
