#include "service/trace.h"

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "protocol/auth/hmac.h"
#include "protocol/http/url.h"
#include "protocol/mqtt/types.h"
#include "protocol/websocket/handshake.h"
#include "service/front.h"
#include "service/service.h"

namespace wpsim::service {

namespace http = protocol::http;
namespace ws = protocol::websocket;
using Json = nlohmann::json;

std::string_view TraceKindName(TraceKind kind) {
  switch (kind) {
    case TraceKind::kHttpRequest:
      return "http.request";
    case TraceKind::kHttpResponse:
      return "http.response";
    case TraceKind::kRefused:
      return "refused";
    case TraceKind::kConnected:
      return "connected";
    case TraceKind::kClosed:
      return "closed";
    case TraceKind::kFrameIn:
      return "frame.in";
    case TraceKind::kFrameOut:
      return "frame.out";
    case TraceKind::kGroupJoin:
      return "group.join";
    case TraceKind::kGroupLeave:
      return "group.leave";
    case TraceKind::kUpstreamRequest:
      return "upstream.request";
    case TraceKind::kUpstreamResponse:
      return "upstream.response";
  }
  return "unknown";
}

std::string RedactTarget(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q + 1));
  std::string_view query = target.substr(q + 1);
  bool first = true;
  while (true) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    if (eq != std::string_view::npos && (name == "access_token" || name == "token")) {
      out.append(name);
      out += "=<redacted>";
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return out;
}

std::span<const uint8_t> ServerFramePayload(std::span<const uint8_t> frame, bool* binary) {
  *binary = false;
  if (frame.size() < 2) return {};
  const uint8_t opcode = frame[0] & 0x0F;
  if (opcode != 0x1 && opcode != 0x2 && opcode != 0x0) return {};
  *binary = opcode == 0x2;
  size_t header = 2;
  uint64_t length = frame[1] & 0x7F;
  if (length == 126) {
    if (frame.size() < 4) return {};
    length = (uint64_t{frame[2]} << 8) | frame[3];
    header = 4;
  } else if (length == 127) {
    if (frame.size() < 10) return {};
    length = 0;
    for (size_t i = 2; i < 10; ++i) length = (length << 8) | frame[i];
    header = 10;
  }
  if ((frame[1] & 0x80) != 0) header += 4;  // masked (never written by a server)
  if (header > frame.size()) return {};
  return frame.subspan(header, std::min<uint64_t>(length, frame.size() - header));
}

namespace {

bool IsUtf8(std::span<const uint8_t> bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const uint8_t c = bytes[i];
    size_t extra = 0;
    if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      extra = 1;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (extra > 0 && i + extra >= bytes.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

// The string at `*at` of an MQTT packet (two-byte length prefix), advancing `*at`.
std::optional<std::string> MqttString(std::span<const uint8_t> p, size_t* at) {
  if (*at + 2 > p.size()) return std::nullopt;
  const size_t n = (size_t{p[*at]} << 8) | p[*at + 1];
  if (*at + 2 + n > p.size()) return std::nullopt;
  std::string s(reinterpret_cast<const char*>(p.data() + *at + 2), n);
  *at += 2 + n;
  return s;
}

// "PUBLISH qos=1 id=3 topic=t" and the like: the packet type and the fields that tell packets
// apart on a trace (MQTT-over-WebSocket carries whole packets in binary messages).
std::string MqttSummary(std::span<const uint8_t> p, std::string* topic) {
  if (p.empty()) return "empty message";
  using protocol::mqtt::PacketType;
  const auto type = static_cast<PacketType>(p[0] >> 4);
  std::string out(protocol::mqtt::PacketTypeName(type));
  size_t at = 1;
  uint32_t remaining = 0;
  for (int shift = 0; at < p.size() && shift <= 21; shift += 7) {
    const uint8_t b = p[at++];
    remaining |= static_cast<uint32_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) break;
  }
  (void)remaining;
  if (type == PacketType::kPublish) {
    const int qos = (p[0] >> 1) & 3;
    out += " qos=" + std::to_string(qos);
    if ((p[0] & 1) != 0) out += " retain";
    if ((p[0] & 8) != 0) out += " dup";
    if (std::optional<std::string> t = MqttString(p, &at)) {
      if (qos > 0 && at + 2 <= p.size()) {
        out += " id=" + std::to_string((size_t{p[at]} << 8) | p[at + 1]);
      }
      out += " topic=" + *t;
      *topic = *t;
    }
  } else if (type == PacketType::kPuback || type == PacketType::kPubrec ||
             type == PacketType::kPubrel || type == PacketType::kPubcomp ||
             type == PacketType::kSubscribe || type == PacketType::kSuback ||
             type == PacketType::kUnsubscribe || type == PacketType::kUnsuback) {
    if (at + 2 <= p.size()) out += " id=" + std::to_string((size_t{p[at]} << 8) | p[at + 1]);
    if ((type == PacketType::kPuback || type == PacketType::kPubrec) && at + 3 <= p.size()) {
      out += " reason=" + std::to_string(p[at + 2]);
    }
  } else if (type == PacketType::kConnack && at + 2 <= p.size()) {
    out += " code=" + std::to_string(p[at + 1]);
  } else if (type == PacketType::kConnect) {
    if (std::optional<std::string> name = MqttString(p, &at); name && at < p.size()) {
      out += " v" + std::to_string(p[at]);
    }
  }
  return out;
}

// Hub and group named by a REST or client-endpoint target.
void HubAndGroupOfTarget(std::string_view target, std::string* hub, std::string* group) {
  const http::TargetParts parts = http::SplitTarget(target);
  const std::vector<std::string_view> segments = http::SplitPath(parts.path);
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    if (segments[i] == "hubs" && hub->empty()) *hub = http::DecodePathSegment(segments[i + 1]);
    if (segments[i] == "groups" && group->empty()) {
      *group = http::DecodePathSegment(segments[i + 1]);
    }
  }
  if (hub->empty()) {
    const http::QueryPairs query = http::ParseQuery(parts.query);
    if (const std::string* h = http::FindQuery(query, "hub")) *hub = *h;
  }
}

void PutPayload(Json& j, std::span<const uint8_t> payload, bool binary) {
  j["bytes"] = payload.size();
  const std::span<const uint8_t> shown =
      payload.first(std::min(payload.size(), kTracePayloadBytesMax));
  if (shown.size() < payload.size()) j["truncated"] = true;
  if (!binary && IsUtf8(shown)) {
    j["text"] = std::string(reinterpret_cast<const char*>(shown.data()), shown.size());
  } else {
    j["base64"] = Base64Encode(shown);
  }
}

}  // namespace

std::string EncodeTraceEvent(const TraceEvent& e, uint64_t seq, sim::Nanos at) {
  Json j = Json::object();
  j["seq"] = seq;
  j["at_ms"] = static_cast<double>(at) / 1e6;
  j["kind"] = TraceKindName(e.kind);
  std::string hub(e.hub);
  std::string group(e.group);
  if (e.front != 0) j["front"] = e.front;
  if (e.request != 0) j["request"] = e.request;
  if (!e.connection_id.empty()) j["connection"] = e.connection_id;
  if (!e.user_id.empty()) j["user"] = e.user_id;
  if (!e.subprotocol.empty()) j["subprotocol"] = e.subprotocol;
  if (!e.method.empty()) j["method"] = e.method;
  if (!e.target.empty()) {
    j["target"] = RedactTarget(e.target);
    if (e.kind == TraceKind::kHttpRequest) HubAndGroupOfTarget(e.target, &hub, &group);
  }
  if (e.status != 0) j["status"] = e.status;
  if (!e.text.empty()) j["reason"] = e.text;
  const bool frame = e.kind == TraceKind::kFrameIn || e.kind == TraceKind::kFrameOut;
  if (frame) {
    const std::string_view sp = e.subprotocol;
    if (sp == "mqtt") {
      std::string topic;
      j["summary"] = MqttSummary(e.payload, &topic);
      PutPayload(j, e.payload, true);
    } else if (!e.binary && sp.starts_with("json.") && e.payload.size() <= kTracePayloadBytesMax) {
      Json parsed = Json::parse(e.payload.begin(), e.payload.end(), nullptr, false);
      if (!parsed.is_discarded()) {
        if (parsed.is_object()) {
          if (auto g = parsed.find("group"); g != parsed.end() && g->is_string() && group.empty()) {
            group = g->get<std::string>();
          }
          if (auto t = parsed.find("type"); t != parsed.end() && t->is_string()) {
            std::string summary = t->get<std::string>();
            if (auto ev = parsed.find("event"); ev != parsed.end() && ev->is_string()) {
              summary += " " + ev->get<std::string>();
            }
            j["summary"] = summary;
          }
        }
        j["json"] = std::move(parsed);
        j["bytes"] = e.payload.size();
      } else {
        PutPayload(j, e.payload, e.binary);
      }
    } else {
      PutPayload(j, e.payload, e.binary);
    }
  } else if (!e.payload.empty()) {
    PutPayload(j, e.payload, e.binary);
  }
  if (!hub.empty()) j["hub"] = hub;
  if (!group.empty()) j["group"] = group;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void TraceConnected(Service& service, uint64_t front, std::string_view hub,
                    std::string_view connection_id, const std::optional<std::string>& user_id,
                    std::string_view subprotocol) {
  TraceObserver* tracer = service.tracer();
  if (tracer == nullptr) return;
  TraceEvent e;
  e.kind = TraceKind::kConnected;
  e.front = front;
  e.hub = hub;
  e.connection_id = connection_id;
  if (user_id) e.user_id = *user_id;
  e.subprotocol = subprotocol;
  tracer->OnTrace(e);
}

void TraceClosed(Service& service, std::string_view hub, std::string_view connection_id,
                 const std::optional<std::string>& user_id, std::string_view reason) {
  TraceObserver* tracer = service.tracer();
  if (tracer == nullptr) return;
  TraceEvent e;
  e.kind = TraceKind::kClosed;
  e.hub = hub;
  e.connection_id = connection_id;
  if (user_id) e.user_id = *user_id;
  e.text = reason;
  tracer->OnTrace(e);
}

void TraceRefused(Service& service, uint64_t front, std::string_view reason) {
  TraceObserver* tracer = service.tracer();
  if (tracer == nullptr) return;
  TraceEvent e;
  e.kind = TraceKind::kRefused;
  e.front = front;
  e.text = reason;
  tracer->OnTrace(e);
}

// --- TraceFeed ---

TraceFeed::TraceFeed(Service& service, TraceFeedOptions options)
    : service_(service), options_(std::move(options)) {}

TraceFeed::~TraceFeed() = default;

bool TraceFeed::Authorized(const http::Request& request) const {
  if (options_.token.empty()) return true;
  const http::TargetParts parts = http::SplitTarget(request.target);
  const http::QueryPairs query = http::ParseQuery(parts.query);
  const std::string* token = http::FindQuery(query, "token");
  if (token == nullptr) return false;
  return protocol::auth::ConstantTimeEqual(AsBytes(*token), AsBytes(options_.token));
}

bool TraceFeed::HandleHttp(Front& front, const http::Request& request) {
  const http::TargetParts parts = http::SplitTarget(request.target);
  if (parts.path != "/trace" && parts.path != "/trace/" && parts.path != "/trace/ws") return false;
  auto text = [](int status, std::string body, std::string_view type) {
    http::Response r;
    r.status = status;
    r.headers.Add("Content-Type", std::string(type));
    r.headers.Add("Cache-Control", "no-store");
    r.body = std::move(body);
    return r;
  };
  if (!Authorized(request)) {
    front.RespondUntraced(request.id,
                          text(401,
                               "The trace page needs the token printed by `wpsim serve --trace-ui` "
                               "(?token=...).\n",
                               "text/plain; charset=utf-8"));
    return true;
  }
  if (parts.path != "/trace/ws") {
    if (request.method != "GET" && request.method != "HEAD") {
      front.RespondUntraced(request.id, text(405, "GET only\n", "text/plain; charset=utf-8"));
      return true;
    }
    http::Response page = text(200, options_.page_html, "text/html; charset=utf-8");
    // The page is self-contained: nothing may load from elsewhere.
    page.headers.Add("Content-Security-Policy",
                     "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                     "connect-src 'self'");
    page.headers.Add("X-Content-Type-Options", "nosniff");
    front.RespondUntraced(request.id, std::move(page));
    return true;
  }
  ws::UpgradeOffer offer = ws::ValidateUpgradeRequest(request);
  if (!offer.ok) {
    front.RespondUntraced(request.id, ws::RejectResponse(offer));
    return true;
  }
  front.StartViewerWebSocket(request.id, ws::AcceptResponse(offer),
                             options_.viewer_output_bytes_max, this);
  viewers_.insert(front.id());
  // What happened before the page opened: the open connections and their groups, then the
  // newest events of the ring, within half the page's queue bound (so a full ring of large
  // messages cannot get every new page dropped at once).
  const sim::Nanos now = service_.runtime().Now();
  size_t budget = options_.viewer_output_bytes_max / 2;
  auto fits = [&budget](size_t bytes) {
    if (bytes > budget) return false;
    budget -= bytes;
    return true;
  };
  for (const auto& [id, connected] : live_) {
    if (!fits(connected.size())) break;
    SendTo(front, connected);
    auto groups = live_groups_.find(id);
    if (groups == live_groups_.end()) continue;
    auto hub = live_hub_.find(id);
    for (const std::string& group : groups->second) {
      TraceEvent join;
      join.kind = TraceKind::kGroupJoin;
      join.connection_id = id;
      join.group = group;
      if (hub != live_hub_.end()) join.hub = hub->second;
      const std::string encoded = EncodeTraceEvent(join, 0, now);
      if (!fits(encoded.size())) break;
      SendTo(front, encoded);
    }
  }
  size_t first = ring_.size();
  while (first > 0 && fits(ring_[first - 1].size())) --first;
  for (size_t i = first; i < ring_.size(); ++i) SendTo(front, ring_[i]);
  return true;
}

void TraceFeed::SendTo(Front& front, const std::string& encoded) {
  if (!viewers_.count(front.id())) return;
  if (front.SendText(encoded).ok()) return;
  // Too slow (its queue passed viewer_output_bytes_max) or already closing: drop it.
  viewers_.erase(front.id());
  ++dropped_viewers_;
  front.CloseWebSocket(ws::close_code::kPolicyViolation, "trace viewer too slow");
}

void TraceFeed::OnViewerClosed(Front& front) { viewers_.erase(front.id()); }

void TraceFeed::OnTrace(const TraceEvent& event) {
  const uint64_t seq = next_seq_++;
  std::string encoded = EncodeTraceEvent(event, seq, service_.runtime().Now());
  const std::string id(event.connection_id);
  switch (event.kind) {
    case TraceKind::kConnected:
      live_[id] = encoded;
      live_hub_[id] = std::string(event.hub);
      break;
    case TraceKind::kClosed:
      live_.erase(id);
      live_groups_.erase(id);
      live_hub_.erase(id);
      break;
    case TraceKind::kGroupJoin:
      if (live_.count(id)) live_groups_[id].insert(std::string(event.group));
      break;
    case TraceKind::kGroupLeave:
      if (auto it = live_groups_.find(id); it != live_groups_.end()) {
        it->second.erase(std::string(event.group));
      }
      break;
    default:
      break;
  }
  // Copy the id set: a viewer that is dropped leaves it while we walk.
  const std::vector<uint64_t> viewers(viewers_.begin(), viewers_.end());
  for (uint64_t viewer : viewers) {
    if (Front* front = service_.FindFront(viewer)) {
      SendTo(*front, encoded);
    } else {
      viewers_.erase(viewer);
    }
  }
  Push(std::move(encoded));
}

void TraceFeed::Push(std::string encoded) {
  ring_bytes_ += encoded.size();
  ring_.push_back(std::move(encoded));
  while (!ring_.empty() &&
         (ring_.size() > options_.ring_events_max || ring_bytes_ > options_.ring_bytes_max)) {
    ring_bytes_ -= ring_.front().size();
    ring_.pop_front();
  }
}

}  // namespace wpsim::service
