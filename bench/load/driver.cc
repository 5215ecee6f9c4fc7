#include "bench/load/driver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/encoding.h"
#include "protocol/auth/connection_string.h"
#include "protocol/auth/tokens.h"
#include "protocol/http/url.h"

namespace wpsim::load {

namespace auth = protocol::auth;
namespace http = protocol::http;

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


Driver::Driver(Options options, Target target, SubKind sub, PubKind pub)
    : o_(std::move(options)), t_(std::move(target)), sub_(sub), pub_(pub), realtime_(o_.start_at_unix > 0),
      counts_(o_.messages, 0) {
  own_total_ = o_.shard_index < o_.messages ? (o_.messages - o_.shard_index + o_.shard_count - 1) / o_.shard_count : 0;
}

Driver::~Driver() {
  for (auto& c : conns_) {
    if (!c->closed && c->fd >= 0) close(c->fd);
  }
  if (epoll_ >= 0) close(epoll_);
}

std::string CheckOptions(const Options& o, const Target& t, SubKind sub, PubKind pub) {
  const bool sub_mqtt = sub == SubKind::kMqtt311 || sub == SubKind::kMqtt5;
  if (t.mqtt_tcp && (!sub_mqtt || pub != PubKind::kMqtt)) return "an mqtt:// target needs --sub mqtt311|mqtt5 and --pub mqtt";
  if (!t.mqtt_tcp && o.access_key.empty()) return "a ws:// target needs --access-key (or --connection-string)";
  if (o.shard_count == 0 || o.shard_index >= o.shard_count) return "the shard index must be below the shard count";
  if (o.subscribers == 0) return "every shard needs at least one subscriber";
  if (o.publishers == 0) return "every shard needs at least one publisher";
  return "";
}

// Unique across the workers and shards of one load (each has its own file descriptors); letters
// and digits only (MQTT 3.1.1 3.1.3.1).
std::string Driver::MqttClientId(const Conn* c) const {
  return std::string(c->publisher ? "pub" : "sub") + std::to_string(o_.shard_index) + "n" + std::to_string(c->fd);
}

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
  path += http::PercentEncode(o_.hub) + "?access_token=" + http::PercentEncode(ClientToken(publisher));
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
                        MqttClientId(c)));
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
      now_ns_ = NowNs(realtime_);
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
                                      MqttClientId(c)));
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
  if (++counts_[seq] == o_.subscribers) {
    ++completed_;
    if (Own(seq)) ++own_completed_;
  }
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
      const std::string path = "/api/hubs/" + http::PercentEncode(o_.hub) + "/groups/" + http::PercentEncode(o_.group) +
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
  Send(c, bytes);
}

// Workers: tell the parent this worker is ready, then wait for the common start instant.
bool Driver::StartBarrier(int64_t* start_ns) {
  const char ready = 'r';
  if (write(o_.ready_fd, &ready, 1) != 1) {
    first_error_ = std::string("start barrier: ") + strerror(errno);
    return false;
  }
  int64_t at = 0;
  size_t got = 0;
  while (got < sizeof at) {
    const ssize_t n = read(o_.go_fd, reinterpret_cast<char*>(&at) + got, sizeof at - got);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      first_error_ = "start barrier: the parent gave no start (another worker failed during setup)";
      return false;
    }
  }
  *start_ns = at;
  return true;
}

reports::LoadReport Driver::Run() {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  const bool sub_mqtt = sub_ == SubKind::kMqtt311 || sub_ == SubKind::kMqtt5;
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

  const int64_t start = NowNs(realtime_);
  const int64_t wall_offset = NowNs(true) - start;  // this clock -> wall clock
  const int64_t deadline = start + static_cast<int64_t>(o_.timeout_s * 1e9);
  const int64_t start_at_ns = o_.start_at_unix > 0 ? static_cast<int64_t>(std::llround(o_.start_at_unix * 1e9)) : 0;
  size_t dialled = 0;
  int64_t all_ready_ns = 0;
  int64_t load_start_ns = 0;
  std::vector<epoll_event> events(1024);
  int64_t last_ping_ns = start;
  bool finished = false;
  bool failed = false;
  while (!finished) {
    int64_t now = NowNs(realtime_);
    if (now > deadline) {
      if (first_error_.empty()) first_error_ = "timed out";
      break;
    }
    // Setup: keep at most connect_batch connections in their handshake at once.
    while (dialled < conns_.size() && dialled - (ready_subs_ + ready_pubs_ + closed_) < o_.connect_batch) {
      if (!Dial(conns_[dialled].get())) {
        failed = true;
        break;
      }
      ++dialled;
    }
    if (failed) break;
    if (closed_ > 0 && all_ready_ns == 0) break;  // a connection failed during setup
    if (all_ready_ns == 0 && ready_subs_ == o_.subscribers && ready_pubs_ == o_.publishers) {
      all_ready_ns = now;
      if (o_.ready_fd >= 0) {
        if (!StartBarrier(&load_start_ns)) break;
        now = NowNs(realtime_);
      } else if (start_at_ns > 0) {
        if (now > start_at_ns) {
          first_error_ = "shard " + std::to_string(o_.shard_index) + "/" + std::to_string(o_.shard_count) +
                         ": subscribers ready at --start-at + " + std::to_string((now - start_at_ns) / 1'000'000) +
                         " ms (start later)";
          break;
        }
        load_start_ns = start_at_ns;
      }
    }
    if (start_at_ns > 0 && all_ready_ns == 0 && now >= start_at_ns) {
      first_error_ = "shard " + std::to_string(o_.shard_index) + "/" + std::to_string(o_.shard_count) + ": " +
                     std::to_string(ready_subs_) + " of " + std::to_string(o_.subscribers) +
                     " subscribers ready at --start-at (start later)";
      break;
    }
    if (all_ready_ns != 0 && load_start_ns == 0 && now - all_ready_ns >= int64_t{o_.settle_ms} * 1'000'000) {
      load_start_ns = now;
    }
    int timeout_ms = 1;
    if (load_start_ns != 0 && now >= load_start_ns) {
      if (o_.rate > 0) {
        // Message s is due at start + s / rate whichever shard sends it.
        while (sent_ < own_total_) {
          const uint32_t seq = OwnSeq(sent_);
          const int64_t due = load_start_ns + static_cast<int64_t>(seq * 1e9 / o_.rate);
          if (due > now) break;
          Publish(seq, due);
          ++sent_;
        }
        timeout_ms = 0;
      } else {
        while (sent_ < own_total_ && sent_ - own_completed_ < o_.inflight) {
          if (pub_ == PubKind::kRest && publishers_[next_pub_ % publishers_.size()]->rest_outstanding >= 16) {
            break;  // stay below the service's pipelining bound (32 unanswered requests per connection)
          }
          Publish(OwnSeq(sent_), NowNs(realtime_));
          ++sent_;
        }
      }
      if (sent_ == own_total_ && completed_ == o_.messages) {
        bool answered = true;
        for (Conn* p : publishers_) answered = answered && p->rest_outstanding == 0;
        finished = answered;
        if (finished) break;
      }
    } else if (load_start_ns != 0) {
      timeout_ms = static_cast<int>(std::clamp<int64_t>((load_start_ns - now) / 1'000'000, 0, 1));
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
  const int64_t end = NowNs(realtime_);

  reports::LoadReport r;
  r.label = o_.label;
  r.target = o_.target;
  r.sub = o_.sub;
  r.pub = o_.pub;
  r.mode = o_.rate > 0 ? "open" : "closed";
  r.subscribers = o_.subscribers;
  r.publishers = o_.publishers;
  r.messages = o_.messages;
  r.size = o_.size;
  r.rate_msgs_per_s = o_.rate;
  r.inflight = o_.inflight;
  r.shard_index = o_.shard_index;
  r.shard_count = o_.shard_count;
  r.clock = realtime_ ? "realtime" : "monotonic";
  r.sent = sent_;
  r.delivered = delivered_;
  r.expected = uint64_t{o_.messages} * o_.subscribers;
  r.unknown_payloads = unknown_;
  r.errors = errors_;
  r.first_error = first_error_;
  if (load_start_ns != 0) r.load_start_unix_ns = load_start_ns + wall_offset;
  if (last_delivery_ns_ != 0) r.last_delivery_unix_ns = last_delivery_ns_ + wall_offset;
  r.setup_seconds = static_cast<double>((all_ready_ns ? all_ready_ns : end) - start) * 1e-9;
  if (FILE* f = fopen("/proc/loadavg", "r")) {
    if (fscanf(f, "%lf", &r.loadavg_1m) != 1) r.loadavg_1m = 0;
    fclose(f);
  }
  r.finished = finished;
  r.latency = std::move(latency_);
  return r;
}

}  // namespace wpsim::load
