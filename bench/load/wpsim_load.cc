// wpsim-load: an external fan-out load driver — one process, one thread, epoll, non-blocking
// sockets — for comparing `wpsim serve` with a peer broker from the outside (issue 15, `make
// bench-compare`, docs/performance.md "Peer comparison").
//
// N subscribers join one group (Web PubSub: through the token's `webpubsub.group` claim; MQTT:
// SUBSCRIBE to the topic), a publisher sends M messages to it, and every subscriber counts what
// it receives. Each payload starts with a marker "M<seq:8 hex><send time:16 hex>" (padded with
// 'x' to --size), so a delivery is matched to its message and timed on arrival with one
// monotonic clock (publisher and subscribers share the process).
//
// Two load shapes, as in wpsim bench:
//   closed loop (default): at most --inflight messages not yet delivered to every subscriber; the
//     result is the maximum sustainable delivery rate;
//   open loop (--rate R): message k is due at start + k/R and timed from that instant, not from
//     when the driver got round to sending it (no coordinated omission).
//
// Client kinds (--sub): websocket (no subprotocol: the payload is the frame), json
// (json.webpubsub.azure.v1: the payload is the message's `data`), mqtt311 / mqtt5 (over
// WebSocket at /clients/mqtt/hubs/<hub> for ws:// targets, over plain TCP for mqtt:// targets).
// Publishers (--pub): json (sendToGroup from a json.webpubsub.azure.v1 connection), rest
// (POST .../groups/<g>/:send, text/plain, keep-alive, pipelined), mqtt (PUBLISH QoS 0).
//
// Exit status: 0 when every message reached every subscriber and nothing failed, 1 otherwise, 2
// on a usage error. The summary is one line on stdout; --json writes the figures as JSON.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <strings.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"
#include "reports/histogram.h"

namespace {

namespace auth = wpsim::protocol::auth;

int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int64_t UnixSeconds() { return static_cast<int64_t>(time(nullptr)); }

enum class SubKind { kWebSocket, kJson, kMqtt311, kMqtt5 };
enum class PubKind { kJson, kRest, kMqtt };

struct Options {
  std::string target = "ws://127.0.0.1:8080";
  std::string access_key;
  std::string hub = "load";
  std::string group = "load";
  std::string sub = "json";
  std::string pub = "json";
  uint32_t subscribers = 100;
  uint32_t publishers = 1;
  uint32_t messages = 1000;
  uint32_t size = 64;
  uint32_t inflight = 32;
  double rate = 0;  // messages per second; 0: closed loop
  double timeout_s = 120;
  uint32_t connect_batch = 200;
  uint32_t settle_ms = 200;
  std::string json_out;
  std::string label;
};

// Where to connect: host, port, and whether MQTT runs over plain TCP (mqtt://).
struct Target {
  std::string host;
  uint16_t port = 0;
  bool mqtt_tcp = false;
};

bool ParseTarget(const std::string& text, Target* out, std::string* error) {
  std::string rest;
  if (text.rfind("ws://", 0) == 0) {
    rest = text.substr(5);
  } else if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else if (text.rfind("mqtt://", 0) == 0) {
    rest = text.substr(7);
    out->mqtt_tcp = true;
  } else {
    *error = "--target must start with ws://, http:// or mqtt:// (TLS is not supported by this driver)";
    return false;
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) {
    *error = "--target needs an explicit port, e.g. ws://127.0.0.1:8080";
    return false;
  }
  out->host = rest.substr(0, colon);
  const long port = std::strtol(rest.c_str() + colon + 1, nullptr, 10);
  if (port <= 0 || port > 65535) {
    *error = "--target has an invalid port in '" + text + "'";
    return false;
  }
  out->port = static_cast<uint16_t>(port);
  return true;
}

// ---- payload marker ---------------------------------------------------------------------------

constexpr size_t kMarkerSize = 1 + 8 + 16;

void WriteHex(char* out, uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kHex[value & 0xf];
    value >>= 4;
  }
}

bool ReadHex(const char* in, int digits, uint64_t* value) {
  uint64_t v = 0;
  for (int i = 0; i < digits; ++i) {
    const char c = in[i];
    uint64_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  *value = v;
  return true;
}

std::string MakePayload(uint32_t seq, int64_t sent_ns, uint32_t size) {
  std::string p(std::max<size_t>(size, kMarkerSize), 'x');
  p[0] = 'M';
  WriteHex(p.data() + 1, seq, 8);
  WriteHex(p.data() + 9, static_cast<uint64_t>(sent_ns), 16);
  return p;
}

// ---- wire helpers -----------------------------------------------------------------------------

void AppendVarint(std::string* out, size_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    if (value) byte |= 0x80;
    out->push_back(static_cast<char>(byte));
  } while (value);
}

void AppendU16(std::string* out, size_t value) {
  out->push_back(static_cast<char>((value >> 8) & 0xff));
  out->push_back(static_cast<char>(value & 0xff));
}

void AppendMqttString(std::string* out, std::string_view s) {
  AppendU16(out, s.size());
  out->append(s);
}

std::string MqttPacket(uint8_t first_byte, const std::string& body) {
  std::string out(1, static_cast<char>(first_byte));
  AppendVarint(&out, body.size());
  out += body;
  return out;
}

constexpr int kMqttKeepAliveSeconds = 120;
constexpr int64_t kMqttPingIntervalNs = 60'000'000'000;

std::string MqttConnect(bool v5, const std::string& client_id) {
  std::string body;
  AppendMqttString(&body, "MQTT");
  body.push_back(static_cast<char>(v5 ? 5 : 4));
  body.push_back(0x02);  // clean session / clean start
  AppendU16(&body, kMqttKeepAliveSeconds);  // wpsim refuses 0 on 3.1.1 (1-180 s)
  if (v5) body.push_back(0);
  AppendMqttString(&body, client_id);
  return MqttPacket(0x10, body);
}

std::string MqttSubscribe(bool v5, const std::string& topic) {
  std::string body;
  AppendU16(&body, 1);
  if (v5) body.push_back(0);
  AppendMqttString(&body, topic);
  body.push_back(0);  // QoS 0
  return MqttPacket(0x82, body);
}

std::string MqttPublish(bool v5, const std::string& topic, const std::string& payload) {
  std::string body;
  AppendMqttString(&body, topic);
  if (v5) body.push_back(0);
  body += payload;
  return MqttPacket(0x30, body);
}

// A masked client frame (RFC 6455 §5.3); the masking key is fixed, which servers accept.
void AppendClientFrame(std::string* out, uint8_t opcode, std::string_view payload) {
  static constexpr uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};
  out->push_back(static_cast<char>(0x80 | opcode));
  const size_t n = payload.size();
  if (n < 126) {
    out->push_back(static_cast<char>(0x80 | n));
  } else if (n < 65536) {
    out->push_back(static_cast<char>(0x80 | 126));
    AppendU16(out, n);
  } else {
    out->push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((uint64_t{n} >> (8 * i)) & 0xff));
  }
  out->append(reinterpret_cast<const char*>(kMask), 4);
  const size_t start = out->size();
  out->append(payload);
  for (size_t i = 0; i < n; ++i) (*out)[start + i] = static_cast<char>((*out)[start + i] ^ kMask[i & 3]);
}

// ---- the driver -------------------------------------------------------------------------------

enum class Wire { kWebSocket, kMqttTcp, kHttp };

struct Conn {
  int fd = -1;
  bool publisher = false;
  Wire wire = Wire::kWebSocket;
  bool mqtt = false;   // MQTT packets (over WebSocket binary frames or TCP)
  bool json = false;   // json.webpubsub.azure.v1
  bool connecting = true;
  bool upgraded = false;
  bool ready = false;
  bool closed = false;
  bool want_write = false;
  uint32_t rest_outstanding = 0;
  std::string in;
  size_t in_off = 0;
  std::string mqtt_in;  // MQTT byte stream carried by WebSocket frames
  std::string fragment;
  std::string out;
  size_t out_off = 0;
  std::string request;  // the upgrade or first request, sent once connected
};

class Driver {
 public:
  Driver(Options options, Target target, SubKind sub, PubKind pub)
      : o_(std::move(options)), t_(std::move(target)), sub_(sub), pub_(pub),
        counts_(o_.messages, 0) {}

  int Run();

 private:
  bool Dial(Conn* c);
  void Close(Conn* c, const std::string& why);
  void Flush(Conn* c);
  void Send(Conn* c, std::string_view bytes);
  void OnReadable(Conn* c);
  void OnConnected(Conn* c);
  void Parse(Conn* c);
  size_t ParseFrames(Conn* c, std::string_view data);
  bool ParseHttpResponse(Conn* c);
  void OnFrame(Conn* c, uint8_t opcode, std::string_view payload);
  void OnMqttBytes(Conn* c, std::string_view bytes);
  void OnPayload(std::string_view payload);
  void MarkReady(Conn* c);
  void Publish(uint32_t seq, int64_t sent_ns);
  std::string UpgradeRequest(bool publisher) const;
  std::string ClientToken(bool publisher) const;
  void Watch(Conn* c);

  Options o_;
  Target t_;
  SubKind sub_;
  PubKind pub_;
  int epoll_ = -1;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> publishers_;
  std::vector<uint32_t> counts_;
  wpsim::reports::Histogram latency_{3};
  uint64_t delivered_ = 0;
  uint64_t completed_ = 0;
  uint64_t unknown_ = 0;
  uint64_t errors_ = 0;
  uint64_t closed_ = 0;
  uint32_t sent_ = 0;
  uint32_t ready_subs_ = 0;
  uint32_t ready_pubs_ = 0;
  uint32_t next_pub_ = 0;
  std::string first_error_;
  int64_t first_send_ns_ = 0;
  int64_t last_delivery_ns_ = 0;
  int64_t now_ns_ = 0;  // arrival time of the bytes being parsed (one clock read per recv)
  std::vector<char> rbuf_ = std::vector<char>(256 * 1024);
  std::string unmasked_;  // scratch for the rare masked server frame
};

std::string Driver::ClientToken(bool publisher) const {
  auth::ConnectionString cs;
  cs.scheme = "http";
  cs.host = t_.host;
  cs.port = t_.port;
  cs.access_key = o_.access_key;
  auth::ClientTokenOptions opts;
  opts.issued_at = UnixSeconds();
  opts.expires_at = opts.issued_at + 3600;
  const bool mqtt = publisher ? pub_ == PubKind::kMqtt : (sub_ == SubKind::kMqtt311 || sub_ == SubKind::kMqtt5);
  if (mqtt) opts.client_type = auth::ClientType::kMqtt;
  if (publisher) {
    opts.roles = std::vector<std::string>{"webpubsub.sendToGroup", "webpubsub.joinLeaveGroup"};
  } else if (mqtt) {
    opts.roles = std::vector<std::string>{"webpubsub.joinLeaveGroup"};
  } else {
    opts.groups = std::vector<std::string>{o_.group};
  }
  return auth::BuildClientToken(cs, o_.hub, opts);
}

std::string Driver::UpgradeRequest(bool publisher) const {
  const bool mqtt = publisher ? pub_ == PubKind::kMqtt : (sub_ == SubKind::kMqtt311 || sub_ == SubKind::kMqtt5);
  std::string path = mqtt ? "/clients/mqtt/hubs/" : "/client/hubs/";
  path += wpsim::protocol::http::PercentEncode(o_.hub) + "?access_token=" + wpsim::protocol::http::PercentEncode(ClientToken(publisher));
  std::string protocol;
  if (mqtt) {
    protocol = "mqtt";
  } else if (publisher || sub_ == SubKind::kJson) {
    protocol = "json.webpubsub.azure.v1";
  }
  std::string r = "GET " + path + " HTTP/1.1\r\nHost: " + t_.host + ":" + std::to_string(t_.port) +
                  "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (!protocol.empty()) r += "Sec-WebSocket-Protocol: " + protocol + "\r\n";
  return r + "\r\n";
}

bool Driver::Dial(Conn* c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    first_error_ = std::string("socket: ") + strerror(errno);
    return false;
  }
  const int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(t_.port);
  if (inet_pton(AF_INET, t_.host.c_str(), &addr.sin_addr) != 1) {
    first_error_ = "--target host must be an IPv4 address, got '" + t_.host + "'";
    return false;
  }
  if (connect(c->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    first_error_ = std::string("connect: ") + strerror(errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.ptr = c;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, c->fd, &ev);
  c->want_write = true;
  return true;
}

void Driver::Watch(Conn* c) {
  const bool want = c->connecting || c->out_off < c->out.size();
  if (want == c->want_write || c->closed) return;
  c->want_write = want;
  epoll_event ev{};
  ev.events = want ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  ev.data.ptr = c;
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c->fd, &ev);
}

void Driver::Close(Conn* c, const std::string& why) {
  if (c->closed) return;
  c->closed = true;
  ++closed_;
  if (first_error_.empty()) first_error_ = why;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, c->fd, nullptr);
  close(c->fd);
}

void Driver::Flush(Conn* c) {
  while (c->out_off < c->out.size()) {
    const ssize_t n = ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c->out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Close(c, std::string("send: ") + strerror(errno));
    return;
  }
  if (c->out_off == c->out.size()) {
    c->out.clear();
    c->out_off = 0;
  } else if (c->out_off > (1u << 20)) {
    c->out.erase(0, c->out_off);
    c->out_off = 0;
  }
  Watch(c);
}

void Driver::Send(Conn* c, std::string_view bytes) {
  if (c->closed) return;
  c->out.append(bytes);
  Flush(c);
}

void Driver::OnConnected(Conn* c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    Close(c, std::string("connect: ") + strerror(err));
    return;
  }
  c->connecting = false;
  if (c->wire == Wire::kHttp) {
    MarkReady(c);
  } else if (c->wire == Wire::kMqttTcp) {
    c->upgraded = true;
    Send(c, MqttConnect(sub_ == SubKind::kMqtt5 || (c->publisher && sub_ != SubKind::kMqtt311),
                        (c->publisher ? "pub" : "sub") + std::to_string(c->fd)));
  } else {
    Send(c, c->request);
  }
  Watch(c);
}

void Driver::MarkReady(Conn* c) {
  if (c->ready) return;
  c->ready = true;
  if (c->publisher) {
    ++ready_pubs_;
  } else {
    ++ready_subs_;
  }
}

void Driver::OnReadable(Conn* c) {
  // The hot path: an upgraded WebSocket or MQTT/TCP connection whose previous read ended on a
  // frame boundary (the common case) is parsed straight out of the shared receive buffer; only a
  // trailing partial frame is copied into the connection's own buffer.
  for (;;) {
    const ssize_t n = ::recv(c->fd, rbuf_.data(), rbuf_.size(), 0);
    if (n > 0) {
      now_ns_ = NowNs();
      const std::string_view got(rbuf_.data(), static_cast<size_t>(n));
      if (c->upgraded && c->wire != Wire::kHttp && c->in_off == c->in.size()) {
        c->in.clear();
        c->in_off = 0;
        const size_t used = c->wire == Wire::kMqttTcp ? (OnMqttBytes(c, got), got.size()) : ParseFrames(c, got);
        if (c->closed) return;
        c->in.assign(got.substr(used));
      } else {
        c->in.append(got);
        Parse(c);
        if (c->closed) return;
      }
      if (static_cast<size_t>(n) < rbuf_.size()) return;
      continue;
    }
    if (n == 0) {
      Close(c, "connection closed by the server");
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    Close(c, std::string("recv: ") + strerror(errno));
    return;
  }
}

bool Driver::ParseHttpResponse(Conn* c) {
  // One response: status line, headers, Content-Length body (the service answers with lengths).
  const size_t end = c->in.find("\r\n\r\n", c->in_off);
  if (end == std::string::npos) return false;
  const std::string_view head(c->in.data() + c->in_off, end - c->in_off);
  size_t body = 0;
  for (size_t pos = 0; pos < head.size();) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = head.size();
    std::string_view line = head.substr(pos, eol - pos);
    if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0) {
      body = std::strtoul(std::string(line.substr(15)).c_str(), nullptr, 10);
    }
    pos = eol + 2;
  }
  if (c->in.size() < end + 4 + body) return false;
  const bool ok = head.size() > 12 && head[9] == '2';
  if (!ok) {
    ++errors_;
    if (first_error_.empty()) first_error_ = "REST send answered " + std::string(head.substr(0, head.find("\r\n")));
  }
  c->in_off = end + 4 + body;
  if (c->rest_outstanding > 0) --c->rest_outstanding;
  return true;
}

void Driver::Parse(Conn* c) {
  if (c->wire == Wire::kHttp) {
    while (ParseHttpResponse(c)) {
    }
  } else if (c->wire == Wire::kMqttTcp) {
    OnMqttBytes(c, std::string_view(c->in).substr(c->in_off));
    c->in_off = c->in.size();
  } else {
    if (!c->upgraded) {
      const size_t end = c->in.find("\r\n\r\n");
      if (end == std::string::npos) return;
      if (c->in.compare(0, 12, "HTTP/1.1 101") != 0) {
        ++errors_;
        Close(c, "upgrade refused: " + c->in.substr(0, c->in.find("\r\n")));
        return;
      }
      c->upgraded = true;
      c->in_off = end + 4;
      if (c->mqtt) {
        std::string frame;
        AppendClientFrame(&frame, 2,
                          MqttConnect(c->publisher ? sub_ != SubKind::kMqtt311 : sub_ == SubKind::kMqtt5,
                                      (c->publisher ? "pub" : "sub") + std::to_string(c->fd)));
        Send(c, frame);
      } else if (!c->json) {
        MarkReady(c);  // plain WebSocket: in the group from the token once upgraded
      }
    }
    c->in_off += ParseFrames(c, std::string_view(c->in).substr(c->in_off));
    if (c->closed) return;
  }
  if (c->in_off == c->in.size()) {
    c->in.clear();
    c->in_off = 0;
  } else if (c->in_off > (1u << 20)) {
    c->in.erase(0, c->in_off);
    c->in_off = 0;
  }
}

// Parses whole WebSocket frames from `data`; returns the bytes consumed (a partial frame stays).
size_t Driver::ParseFrames(Conn* c, std::string_view data) {
  size_t off = 0;
  for (;;) {
    const size_t avail = data.size() - off;
    if (avail < 2) break;
    const auto* p = reinterpret_cast<const uint8_t*>(data.data() + off);
    const bool fin = p[0] & 0x80;
    const uint8_t opcode = p[0] & 0x0f;
    const bool masked = p[1] & 0x80;
    uint64_t len = p[1] & 0x7f;
    size_t header = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      header = 10;
    }
    const size_t mask_at = header;
    if (masked) header += 4;
    if (avail < header || avail - header < len) break;
    std::string_view payload(reinterpret_cast<const char*>(p) + header, static_cast<size_t>(len));
    if (masked) {  // servers do not mask (RFC 6455 5.1); unmask a copy anyway
      unmasked_.assign(payload);
      for (size_t i = 0; i < unmasked_.size(); ++i) unmasked_[i] = static_cast<char>(unmasked_[i] ^ p[mask_at + (i & 3)]);
      payload = unmasked_;
    }
    off += header + static_cast<size_t>(len);
    if (opcode == 0) {
      c->fragment += payload;
      if (fin) {
        OnFrame(c, 1, c->fragment);
        c->fragment.clear();
      }
    } else if (!fin && opcode < 8) {
      c->fragment = payload;
    } else {
      OnFrame(c, opcode, payload);
    }
    if (c->closed) break;
  }
  return off;
}

void Driver::OnFrame(Conn* c, uint8_t opcode, std::string_view payload) {
  if (opcode == 8) {
    ++errors_;
    Close(c, "server closed the WebSocket" +
                 (payload.size() >= 2 ? " with " + std::to_string((uint8_t(payload[0]) << 8) | uint8_t(payload[1])) : ""));
    return;
  }
  if (opcode == 9) {
    std::string pong;
    AppendClientFrame(&pong, 10, payload);
    Send(c, pong);
    return;
  }
  if (opcode == 10) return;
  if (c->mqtt) {
    OnMqttBytes(c, payload);
    return;
  }
  if (c->publisher) {
    // json publisher: acks are not asked for; an error message means a refused send.
    if (payload.find("\"type\":\"ack\"") != std::string_view::npos && payload.find("\"success\":false") != std::string_view::npos) ++errors_;
    if (payload.find("\"event\":\"connected\"") != std::string_view::npos) MarkReady(c);
    return;
  }
  if (c->json) {
    if (!c->ready) {
      if (payload.find("\"event\":\"connected\"") != std::string_view::npos) MarkReady(c);
      return;
    }
    const size_t at = payload.find("\"data\":\"");
    if (at == std::string_view::npos) return;
    if (payload.find("\"dataType\":\"binary\"") != std::string_view::npos) {
      // Binary data (e.g. from an MQTT publisher) reaches a JSON subscriber base64-encoded.
      const size_t close = payload.find('"', at + 8);
      if (close == std::string_view::npos) return;
      const auto bytes = wpsim::Base64Decode(payload.substr(at + 8, close - at - 8));
      if (!bytes) {
        ++unknown_;
        return;
      }
      OnPayload(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
      return;
    }
    OnPayload(payload.substr(at + 8));
    return;
  }
  OnPayload(payload);
}

void Driver::OnMqttBytes(Conn* c, std::string_view bytes) {
  // Parse in place when no partial packet is pending; keep only a trailing partial packet.
  std::string& pending = c->mqtt_in;
  const bool direct = pending.empty();
  if (!direct) pending.append(bytes);
  const std::string_view s = direct ? bytes : std::string_view(pending);
  size_t off = 0;
  const bool v5 = c->publisher ? sub_ != SubKind::kMqtt311 : sub_ == SubKind::kMqtt5;
  while (s.size() - off >= 2) {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data() + off);
    const size_t avail = s.size() - off;
    size_t len = 0;
    size_t i = 1;
    int shift = 0;
    bool complete = false;
    for (; i < avail && i <= 4; ++i) {
      len |= size_t{p[i] & 0x7fu} << shift;
      shift += 7;
      if (!(p[i] & 0x80)) {
        complete = true;
        ++i;
        break;
      }
    }
    if (!complete || avail < i + len) break;
    const uint8_t type = p[0] >> 4;
    const uint8_t* body = p + i;
    if (type == 2) {  // CONNACK
      const uint8_t code = len >= 2 ? body[1] : 0xff;
      if (code != 0) {
        ++errors_;
        Close(c, "CONNACK refused with code " + std::to_string(code));
        return;
      }
      if (c->publisher) {
        MarkReady(c);
      } else {
        std::string sub = MqttSubscribe(v5, o_.group);
        if (c->wire == Wire::kWebSocket) {
          std::string frame;
          AppendClientFrame(&frame, 2, sub);
          Send(c, frame);
        } else {
          Send(c, sub);
        }
      }
    } else if (type == 9) {  // SUBACK
      const uint8_t code = len >= 3 ? body[len - 1] : 0xff;
      if (code >= 0x80) {
        ++errors_;
        Close(c, "SUBACK refused with code " + std::to_string(code));
        return;
      }
      MarkReady(c);
    } else if (type == 3) {  // PUBLISH
      const uint8_t qos = (p[0] >> 1) & 3;
      size_t at = 2 + ((size_t{body[0]} << 8) | body[1]);
      if (qos > 0) at += 2;
      if (v5 && at < len) {
        size_t plen = 0;
        int sh = 0;
        while (at < len) {
          const uint8_t b = body[at++];
          plen |= size_t{b & 0x7fu} << sh;
          sh += 7;
          if (!(b & 0x80)) break;
        }
        at += plen;
      }
      if (at <= len) OnPayload(std::string_view(reinterpret_cast<const char*>(body) + at, len - at));
    }
    off += i + len;
  }
  if (direct) {
    pending.assign(s.substr(off));
  } else {
    pending.erase(0, off);
  }
}

void Driver::OnPayload(std::string_view payload) {
  uint64_t seq = 0;
  uint64_t sent = 0;
  if (payload.size() < kMarkerSize || payload[0] != 'M' || !ReadHex(payload.data() + 1, 8, &seq) ||
      !ReadHex(payload.data() + 9, 16, &sent) || seq >= counts_.size()) {
    ++unknown_;
    return;
  }
  const int64_t now = now_ns_;
  latency_.Record(now - static_cast<int64_t>(sent));
  ++delivered_;
  last_delivery_ns_ = now;
  if (++counts_[seq] == o_.subscribers) ++completed_;
}

void Driver::Publish(uint32_t seq, int64_t sent_ns) {
  Conn* c = publishers_[next_pub_++ % publishers_.size()];
  const std::string payload = MakePayload(seq, sent_ns, o_.size);
  std::string bytes;
  switch (pub_) {
    case PubKind::kJson: {
      const std::string msg = "{\"type\":\"sendToGroup\",\"group\":\"" + o_.group +
                              "\",\"dataType\":\"text\",\"data\":\"" + payload + "\"}";
      AppendClientFrame(&bytes, 1, msg);
      break;
    }
    case PubKind::kMqtt: {
      const std::string packet = MqttPublish(sub_ != SubKind::kMqtt311, o_.group, payload);
      if (c->wire == Wire::kWebSocket) {
        AppendClientFrame(&bytes, 2, packet);
      } else {
        bytes = packet;
      }
      break;
    }
    case PubKind::kRest: {
      const std::string path = "/api/hubs/" + wpsim::protocol::http::PercentEncode(o_.hub) + "/groups/" + wpsim::protocol::http::PercentEncode(o_.group) +
                               "/:send?api-version=2024-01-01";
      const std::string url = "http://" + t_.host + ":" + std::to_string(t_.port) + path;
      // One bearer token per second of the run is plenty; tokens are cheap to mint here.
      const int64_t now_s = UnixSeconds();
      const std::string token = auth::BuildRestToken(url, now_s, now_s + 3600, o_.access_key);
      bytes = "POST " + path + " HTTP/1.1\r\nHost: " + t_.host + ":" + std::to_string(t_.port) +
              "\r\nAuthorization: Bearer " + token + "\r\nContent-Type: text/plain\r\nContent-Length: " +
              std::to_string(payload.size()) + "\r\n\r\n" + payload;
      ++c->rest_outstanding;
      break;
    }
  }
  if (first_send_ns_ == 0) first_send_ns_ = NowNs();
  Send(c, bytes);
}

int Driver::Run() {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  const bool sub_mqtt = sub_ == SubKind::kMqtt311 || sub_ == SubKind::kMqtt5;
  if (t_.mqtt_tcp && (!sub_mqtt || pub_ != PubKind::kMqtt)) {
    fprintf(stderr, "wpsim-load: an mqtt:// target needs --sub mqtt311|mqtt5 and --pub mqtt\n");
    return 2;
  }
  if (!t_.mqtt_tcp && o_.access_key.empty()) {
    fprintf(stderr, "wpsim-load: a ws:// target needs --access-key (or --connection-string)\n");
    return 2;
  }
  const uint32_t total = o_.subscribers + o_.publishers;
  conns_.reserve(total);
  for (uint32_t i = 0; i < total; ++i) {
    auto c = std::make_unique<Conn>();
    c->publisher = i >= o_.subscribers;
    const bool mqtt = c->publisher ? pub_ == PubKind::kMqtt : sub_mqtt;
    c->mqtt = mqtt;
    c->json = !mqtt && (c->publisher || sub_ == SubKind::kJson);
    if (c->publisher && pub_ == PubKind::kRest) {
      c->wire = Wire::kHttp;
      c->json = false;
    } else if (mqtt && t_.mqtt_tcp) {
      c->wire = Wire::kMqttTcp;
    } else {
      c->request = UpgradeRequest(c->publisher);
    }
    if (c->publisher) publishers_.push_back(c.get());
    conns_.push_back(std::move(c));
  }

  const int64_t start = NowNs();
  const int64_t deadline = start + static_cast<int64_t>(o_.timeout_s * 1e9);
  size_t dialled = 0;
  int64_t all_ready_ns = 0;
  int64_t load_start_ns = 0;
  std::vector<epoll_event> events(1024);
  int64_t last_ping_ns = start;
  const uint32_t expected_ready_subs = o_.subscribers;
  bool finished = false;
  while (!finished) {
    const int64_t now = NowNs();
    if (now > deadline) {
      if (first_error_.empty()) first_error_ = "timed out";
      break;
    }
    // Setup: keep at most connect_batch connections in their handshake at once.
    while (dialled < conns_.size() && dialled - (ready_subs_ + ready_pubs_ + closed_) < o_.connect_batch) {
      if (!Dial(conns_[dialled].get())) {
        fprintf(stderr, "wpsim-load: %s\n", first_error_.c_str());
        return 1;
      }
      ++dialled;
    }
    if (closed_ > 0 && all_ready_ns == 0) break;  // a connection failed during setup
    if (all_ready_ns == 0 && ready_subs_ == expected_ready_subs && ready_pubs_ == o_.publishers) {
      all_ready_ns = now;
    }
    if (all_ready_ns != 0 && load_start_ns == 0 && now - all_ready_ns >= int64_t{o_.settle_ms} * 1'000'000) {
      load_start_ns = now;
    }
    int timeout_ms = 1;
    if (load_start_ns != 0) {
      if (o_.rate > 0) {
        const auto due = static_cast<uint32_t>(std::min<double>(o_.messages, (now - load_start_ns) * 1e-9 * o_.rate + 1));
        while (sent_ < due) {
          Publish(sent_, load_start_ns + static_cast<int64_t>(sent_ * 1e9 / o_.rate));
          ++sent_;
        }
        timeout_ms = 0;
      } else {
        while (sent_ < o_.messages && sent_ - completed_ < o_.inflight) {
          bool room = true;
          if (pub_ == PubKind::kRest) {
            // Stay below the service's pipelining bound (32 unanswered requests per connection).
            room = publishers_[next_pub_ % publishers_.size()]->rest_outstanding < 16;
          }
          if (!room) break;
          Publish(sent_, NowNs());
          ++sent_;
        }
      }
      if (sent_ == o_.messages && completed_ == o_.messages) {
        bool answered = true;
        for (Conn* p : publishers_) answered = answered && p->rest_outstanding == 0;
        finished = answered;
        if (finished) break;
      }
    }
    if (now - last_ping_ns >= kMqttPingIntervalNs) {
      last_ping_ns = now;
      for (auto& c : conns_) {
        if (!c->mqtt || !c->ready || c->closed) continue;
        static constexpr char kPingreq[2] = {static_cast<char>(0xc0), 0};
        if (c->wire == Wire::kWebSocket) {
          std::string frame;
          AppendClientFrame(&frame, 2, std::string_view(kPingreq, 2));
          Send(c.get(), frame);
        } else {
          Send(c.get(), std::string_view(kPingreq, 2));
        }
      }
    }
    const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int i = 0; i < n; ++i) {
      Conn* c = static_cast<Conn*>(events[i].data.ptr);
      if (c->closed) continue;
      if (c->connecting) {
        if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) OnConnected(c);
        continue;
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) OnReadable(c);
      if (!c->closed && (events[i].events & EPOLLOUT)) Flush(c);
    }
  }
  const int64_t end = NowNs();
  for (auto& c : conns_) {
    if (!c->closed && c->fd >= 0) close(c->fd);
  }
  close(epoll_);

  const uint64_t expected = uint64_t{o_.messages} * o_.subscribers;
  const double load_s = (load_start_ns && last_delivery_ns_ > load_start_ns) ? (last_delivery_ns_ - load_start_ns) * 1e-9 : 0;
  const double rate = load_s > 0 ? delivered_ / load_s : 0;
  const double setup_s = ((all_ready_ns ? all_ready_ns : end) - start) * 1e-9;
  double loadavg[3] = {0, 0, 0};
  if (FILE* f = fopen("/proc/loadavg", "r")) {
    if (fscanf(f, "%lf %lf %lf", &loadavg[0], &loadavg[1], &loadavg[2]) != 3) loadavg[0] = 0;
    fclose(f);
  }
  const double pcts[] = {50, 90, 99, 99.9};
  const auto q = latency_.ValuesAtPercentiles(pcts);
  const bool ok = finished && delivered_ == expected && errors_ == 0 && unknown_ == 0;
  printf("%s%s%s sub=%s pub=%s subscribers=%u messages=%u size=%u %s: delivered %" PRIu64 "/%" PRIu64
         " in %.3f s = %.0f deliveries/s; latency p50 %.3f ms p99 %.3f ms p99.9 %.3f ms max %.3f ms; setup %.2f s;"
         " errors %" PRIu64 "; unmatched payloads %" PRIu64 "; load %.2f%s%s\n",
         o_.label.empty() ? "" : "[", o_.label.c_str(), o_.label.empty() ? "" : "] ", o_.sub.c_str(), o_.pub.c_str(),
         o_.subscribers, o_.messages, o_.size,
         o_.rate > 0 ? ("open loop " + std::to_string(static_cast<long>(o_.rate)) + " msg/s").c_str()
                     : ("closed loop, " + std::to_string(o_.inflight) + " in flight").c_str(),
         delivered_, expected, load_s, rate, q[0] / 1e6, q[2] / 1e6, q[3] / 1e6, latency_.max() / 1e6, setup_s,
         errors_, unknown_, loadavg[0], first_error_.empty() ? "" : "; first error: ", first_error_.c_str());
  if (!o_.json_out.empty()) {
    nlohmann::json j = {
        {"label", o_.label},
        {"target", o_.target},
        {"sub", o_.sub},
        {"pub", o_.pub},
        {"subscribers", o_.subscribers},
        {"publishers", o_.publishers},
        {"messages", o_.messages},
        {"size", o_.size},
        {"mode", o_.rate > 0 ? "open" : "closed"},
        {"rate_msgs_per_s", o_.rate},
        {"inflight", o_.inflight},
        {"sent", sent_},
        {"delivered", delivered_},
        {"expected", expected},
        {"unknown_payloads", unknown_},
        {"errors", errors_},
        {"first_error", first_error_},
        {"load_seconds", load_s},
        {"deliveries_per_s", rate},
        {"setup_seconds", setup_s},
        {"latency_ns", {{"p50", q[0]}, {"p90", q[1]}, {"p99", q[2]}, {"p99_9", q[3]}, {"max", latency_.max()}}},
        {"loadavg_1m", loadavg[0]},
        {"ok", ok},
    };
    std::ofstream(o_.json_out) << j.dump(2) << "\n";
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Options o;
  std::string connection_string;
  CLI::App app{"wpsim-load: external fan-out load driver (epoll, one process) for wpsim serve or an MQTT broker"};
  app.add_option("--target", o.target, "ws://HOST:PORT (Web PubSub service) or mqtt://HOST:PORT (MQTT over TCP)")
      ->capture_default_str();
  app.add_option("--connection-string", connection_string,
                 "Endpoint=http://HOST:PORT;AccessKey=...;Version=1.0; (sets --target and --access-key)");
  app.add_option("--access-key", o.access_key, "Access key the tokens are signed with");
  app.add_option("--hub", o.hub, "Hub")->capture_default_str();
  app.add_option("--group", o.group, "Group (MQTT: topic)")->capture_default_str();
  app.add_option("--sub", o.sub, "Subscriber kind: websocket | json | mqtt311 | mqtt5")->capture_default_str();
  app.add_option("--pub", o.pub, "Publisher kind: json | rest | mqtt")->capture_default_str();
  app.add_option("-c,--subscribers", o.subscribers, "Subscriber connections")->capture_default_str()->check(CLI::Range(1u, 100000u));
  app.add_option("--publishers", o.publishers, "Publisher connections (round robin)")->capture_default_str()->check(CLI::Range(1u, 64u));
  app.add_option("-n,--messages", o.messages, "Messages to send")->capture_default_str()->check(CLI::Range(1u, 100000000u));
  app.add_option("--size", o.size, "Payload bytes (at least 25: the marker)")->capture_default_str()->check(CLI::Range(25u, 1u << 20));
  app.add_option("--inflight", o.inflight, "Closed loop: messages not yet delivered to every subscriber")
      ->capture_default_str()->check(CLI::Range(1u, 100000u));
  app.add_option("--rate", o.rate, "Open loop: messages per second (0: closed loop)")->capture_default_str()->check(CLI::Range(0.0, 1e7));
  app.add_option("--timeout", o.timeout_s, "Give up after this many seconds")->capture_default_str()->check(CLI::Range(1.0, 86400.0));
  app.add_option("--connect-batch", o.connect_batch, "Connections in their handshake at once")->capture_default_str()->check(CLI::Range(1u, 10000u));
  app.add_option("--settle-ms", o.settle_ms, "Pause between the last subscriber being ready and the first message")->capture_default_str();
  app.add_option("--json", o.json_out, "Write the figures as JSON");
  app.add_option("--label", o.label, "Label printed with the summary");
  CLI11_PARSE(app, argc, argv);

  if (!connection_string.empty()) {
    auto cs = auth::ParseConnectionString(connection_string);
    if (!cs.ok()) {
      fprintf(stderr, "wpsim-load: --connection-string: %s\n", cs.error().message.c_str());
      return 2;
    }
    if (cs->scheme != "http") {
      fprintf(stderr, "wpsim-load: --connection-string: only http:// endpoints (no TLS in this driver)\n");
      return 2;
    }
    o.target = "ws://" + cs->host + ":" + std::to_string(cs->port.value_or(80));
    o.access_key = cs->access_key;
  }
  Target t;
  std::string error;
  if (!ParseTarget(o.target, &t, &error)) {
    fprintf(stderr, "wpsim-load: %s\n", error.c_str());
    return 2;
  }
  SubKind sub;
  if (o.sub == "websocket") {
    sub = SubKind::kWebSocket;
  } else if (o.sub == "json") {
    sub = SubKind::kJson;
  } else if (o.sub == "mqtt311") {
    sub = SubKind::kMqtt311;
  } else if (o.sub == "mqtt5") {
    sub = SubKind::kMqtt5;
  } else {
    fprintf(stderr, "wpsim-load: unknown --sub '%s' (websocket, json, mqtt311, mqtt5)\n", o.sub.c_str());
    return 2;
  }
  PubKind pub;
  if (o.pub == "json") {
    pub = PubKind::kJson;
  } else if (o.pub == "rest") {
    pub = PubKind::kRest;
  } else if (o.pub == "mqtt") {
    pub = PubKind::kMqtt;
  } else {
    fprintf(stderr, "wpsim-load: unknown --pub '%s' (json, rest, mqtt)\n", o.pub.c_str());
    return 2;
  }
  Driver driver(std::move(o), std::move(t), sub, pub);
  return driver.Run();
}
