// The wire family's judging half: the wire expectation (the inline `expect` of http_request,
// ws_frame and mqtt_packet; read and run in wire.cc). Check i judges the i-th event after the
// step's mark (WireMark, recorded when the step was issued).
#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clients/wire_client.h"
#include "conformance/driver.h"
#include "conformance/steps/internal.h"
#include "conformance/steps/wire.h"

namespace wpsim::conformance {
namespace {

using clients::WireEvent;

std::string Hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    if (!out.empty()) out += ' ';
    out += d[static_cast<uint8_t>(c) >> 4];
    out += d[static_cast<uint8_t>(c) & 15];
  }
  return out;
}

// "" when the response fits, else what differs.
std::string CheckResponse(const WireResponseCheck& c, const WireEvent& ev) {
  if (ev.kind != WireEvent::Kind::kResponse) return "not a response";
  const clients::WireHttpResponse& r = ev.response;
  if (!c.statuses.empty() &&
      std::find(c.statuses.begin(), c.statuses.end(), r.status) == c.statuses.end())
    return "status " + std::to_string(r.status);
  for (const WireHeaderCheck& h : c.headers) {
    const std::optional<std::string> v = r.Header(h.name);
    switch (h.kind) {
      case WireHeaderCheck::Kind::kEquals:
        if (v != h.value) return h.name + ": " + (v ? "\"" + *v + "\"" : "absent");
        break;
      case WireHeaderCheck::Kind::kContains:
        if (!v || v->find(h.value) == std::string::npos)
          return h.name + ": " + (v ? "\"" + *v + "\"" : "absent");
        break;
      case WireHeaderCheck::Kind::kPresent:
        if (!v) return h.name + " absent";
        break;
      case WireHeaderCheck::Kind::kAbsent:
        if (v) return h.name + ": \"" + *v + "\" (present)";
        break;
    }
  }
  if (c.body && r.body != *c.body) return "body \"" + r.body.substr(0, 200) + "\"";
  if (c.body_contains && r.body.find(*c.body_contains) == std::string::npos)
    return "body \"" + r.body.substr(0, 200) + "\"";
  if (!c.json.empty()) {
    nlohmann::json got = nlohmann::json::parse(r.body, nullptr, false);
    if (got.is_discarded()) return "a body that is not JSON: \"" + r.body.substr(0, 200) + "\"";
    for (const auto& [ptr, want] : c.json) {
      nlohmann::json::json_pointer p(ptr);
      if (!got.contains(p)) return ptr + " missing in " + got.dump().substr(0, 200);
      if (got.at(p) != want) return ptr + " = " + got.at(p).dump();
    }
  }
  return "";
}

std::string CheckFrame(const WireFrameCheck& c, const WireEvent& ev) {
  if (ev.kind != WireEvent::Kind::kFrame) return "not a frame";
  const clients::WireFrame& f = ev.frame;
  if (c.opcode && f.opcode != *c.opcode) return "opcode " + std::to_string(f.opcode);
  if (c.fin && f.fin != *c.fin) return f.fin ? "fin=1" : "fin=0";
  if (c.payload && f.payload != *c.payload) return "payload \"" + f.payload.substr(0, 200) + "\"";
  if (c.payload_contains && f.payload.find(*c.payload_contains) == std::string::npos)
    return "payload \"" + f.payload.substr(0, 200) + "\"";
  if (c.close_code) {
    if (*c.close_code == 0 ? f.close_code.has_value() : f.close_code != *c.close_code)
      return f.close_code ? "code " + std::to_string(*f.close_code) : "no code";
  }
  if (c.reason && f.close_reason != *c.reason) return "reason \"" + f.close_reason + "\"";
  if (c.reason_contains && f.close_reason.find(*c.reason_contains) == std::string::npos)
    return "reason \"" + f.close_reason + "\"";
  return "";
}

// A variable byte integer at `pos` (MQTT 1.5.5), or nullopt.
std::optional<uint32_t> Vbi(std::string_view b, size_t& pos) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    if (pos >= b.size()) return std::nullopt;
    const uint8_t x = static_cast<uint8_t>(b[pos++]);
    v |= static_cast<uint32_t>(x & 0x7f) << (7 * i);
    if (!(x & 0x80)) return v;
  }
  return std::nullopt;
}

// The 5.0 property identifiers in props (a property block without its length), or nullopt when
// it cannot be walked.
std::optional<std::vector<uint8_t>> PropertyIds(std::string_view props) {
  std::vector<uint8_t> ids;
  size_t pos = 0;
  while (pos < props.size()) {
    const uint8_t id = static_cast<uint8_t>(props[pos++]);
    ids.push_back(id);
    auto need = [&](size_t n) { return pos + n <= props.size(); };
    auto two = [&]() -> size_t {
      return (static_cast<size_t>(static_cast<uint8_t>(props[pos])) << 8) |
             static_cast<uint8_t>(props[pos + 1]);
    };
    switch (id) {
      case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a:
        if (!need(1)) return std::nullopt;
        pos += 1;
        break;
      case 0x13: case 0x21: case 0x22: case 0x23:
        if (!need(2)) return std::nullopt;
        pos += 2;
        break;
      case 0x02: case 0x11: case 0x18: case 0x27:
        if (!need(4)) return std::nullopt;
        pos += 4;
        break;
      case 0x0b:
        if (!Vbi(props, pos)) return std::nullopt;
        break;
      case 0x03: case 0x08: case 0x09: case 0x12: case 0x15: case 0x16: case 0x1a: case 0x1c:
      case 0x1f:
        if (!need(2) || !need(2 + two())) return std::nullopt;
        pos += 2 + two();
        break;
      case 0x26:
        for (int k = 0; k < 2; ++k) {
          if (!need(2) || !need(2 + two())) return std::nullopt;
          pos += 2 + two();
        }
        break;
      default:
        return std::nullopt;
    }
  }
  return ids;
}

std::string CheckPacket(const WireMqttCheck& c, const WireEvent& ev) {
  if (ev.kind != WireEvent::Kind::kFrame) return "not a frame";
  const std::string_view b = ev.frame.payload;
  if (ev.frame.opcode != 2) return "a " + std::string(clients::WireOpcodeName(ev.frame.opcode)) + " frame";
  if (b.empty()) return "an empty binary frame";
  const uint8_t type = static_cast<uint8_t>(b[0]) >> 4;
  const uint8_t flags = static_cast<uint8_t>(b[0]) & 15;
  size_t pos = 1;
  const std::optional<uint32_t> rl = Vbi(b, pos);
  if (!rl || pos + *rl != b.size()) return "a malformed packet: " + Hex(b.substr(0, 40));
  if (c.type && type != *c.type) return "packet type " + std::to_string(type) + ": " + Hex(b.substr(0, 40));
  if (c.flags && flags != *c.flags) return "flags " + std::to_string(flags);
  std::string_view rest = b.substr(pos);
  auto u16 = [&](size_t at) -> std::optional<uint16_t> {
    if (at + 2 > rest.size()) return std::nullopt;
    return static_cast<uint16_t>((static_cast<uint8_t>(rest[at]) << 8) | static_cast<uint8_t>(rest[at + 1]));
  };
  // Where the variable header's fields are, per type.
  std::optional<uint16_t> packet_id;
  std::vector<uint8_t> codes;
  std::optional<std::string_view> props;
  std::optional<bool> session_present;
  size_t at = 0;
  switch (type) {
    case 2:  // CONNACK: flags, code, [props]
      if (rest.size() < 2) return "a short CONNACK";
      session_present = (static_cast<uint8_t>(rest[0]) & 1) != 0;
      codes = {static_cast<uint8_t>(rest[1])};
      at = 2;
      break;
    case 4: case 5: case 6: case 7:  // PUBACK..PUBCOMP: id, [code, [props]]
      packet_id = u16(0);
      at = 2;
      if (rest.size() > 2) {
        codes = {static_cast<uint8_t>(rest[2])};
        at = 3;
      } else if (c.v5) {
        codes = {0};  // 5.0: no reason code means Success
      }
      break;
    case 9: case 11:  // SUBACK / UNSUBACK: id, [props], codes
      packet_id = u16(0);
      at = 2;
      break;
    case 14: case 15:  // DISCONNECT / AUTH: [code, [props]]
      if (!rest.empty()) {
        codes = {static_cast<uint8_t>(rest[0])};
        at = 1;
      } else {
        codes = {0};
      }
      break;
    default:
      at = rest.size();
      break;
  }
  if (c.v5 && at < rest.size() && type != 3 && type != 13) {
    size_t p = at;
    const std::optional<uint32_t> plen = Vbi(rest, p);
    if (!plen || p + *plen > rest.size()) return "a malformed property length: " + Hex(b.substr(0, 40));
    props = rest.substr(p, *plen);
    at = p + *plen;
  }
  if (type == 9 || type == 11) {
    for (size_t i = at; i < rest.size(); ++i) codes.push_back(static_cast<uint8_t>(rest[i]));
  }
  if (c.packet_id && packet_id != *c.packet_id)
    return "packet id " + (packet_id ? std::to_string(*packet_id) : std::string("none"));
  if (!c.reason_codes.empty() && codes != c.reason_codes) {
    std::string got;
    for (uint8_t x : codes) got += (got.empty() ? "" : ", ") + std::to_string(x);
    return "reason code(s) " + (got.empty() ? std::string("none") : got);
  }
  if (c.session_present && session_present != *c.session_present)
    return session_present.value_or(false) ? "session present" : "no session present";
  if (!c.properties_present.empty() || !c.properties_absent.empty()) {
    std::vector<uint8_t> ids;
    if (props) {
      auto parsed = PropertyIds(*props);
      if (!parsed) return "properties that cannot be read: " + Hex(*props);
      ids = *parsed;
    }
    for (uint8_t id : c.properties_present) {
      if (std::find(ids.begin(), ids.end(), id) == ids.end())
        return "no property " + std::to_string(id) + " (properties: " + Hex(props.value_or("")) + ")";
    }
    for (uint8_t id : c.properties_absent) {
      if (std::find(ids.begin(), ids.end(), id) != ids.end())
        return "property " + std::to_string(id) + " present";
    }
  }
  return "";
}

// The wire expectation: check i judges the i-th event after the step's mark (responses, then
// frames, then packets). A check that fails on its own event but fits a later one is reported
// as ambiguous: the event it was meant for is not the one that came.
class WireEvaluator : public Evaluator {
 public:
  WireEvaluator(RunContext& cx, const Expectation& e) : cx_(cx), e_(e), w_(e.As<WireExpect>()) {}

  void Finish() override {
    const uint32_t step = *e_.from_step;
    for (uint32_t m : w_.clients.members) {
      const std::string who = cx_.sc.members[m].name;
      auto it = cx_.members[m].wire_marks.find(step);
      if (it == cx_.members[m].wire_marks.end() || !it->second.client) {
        cx_.Fail(cx_.Where(e_) + ": " + who + ": the step sent nothing", "a wire exchange",
                 "no wire connection", e_.case_id);
        continue;
      }
      const WireMark& mark = it->second;
      const std::vector<WireEvent>& ev = mark.client->events();
      std::vector<const WireEvent*> after;
      const WireEvent* end = nullptr;
      for (size_t i = mark.index; i < ev.size(); ++i) {
        if (ev[i].kind == WireEvent::Kind::kEnd || ev[i].kind == WireEvent::Kind::kFailed) {
          if (!end) end = &ev[i];
          continue;
        }
        if (!end) after.push_back(&ev[i]);
      }
      // The checks in order, each with its judge.
      std::vector<std::pair<std::string, std::function<std::string(const WireEvent&)>>> checks;
      for (const WireResponseCheck& c : w_.responses)
        checks.emplace_back("response", [&c](const WireEvent& x) { return CheckResponse(c, x); });
      for (const WireFrameCheck& c : w_.frames)
        checks.emplace_back(c.opcode == 8 ? "close frame" : "frame",
                            [&c](const WireEvent& x) { return CheckFrame(c, x); });
      for (const WireMqttCheck& c : w_.packets)
        checks.emplace_back("MQTT packet", [&c](const WireEvent& x) { return CheckPacket(c, x); });
      bool ok = true;
      int64_t last = mark.time_ns;
      for (size_t i = 0; i < checks.size() && ok; ++i) {
        const std::string what = checks[i].first + " " + std::to_string(i + 1);
        if (i >= after.size()) {
          ok = false;
          cx_.Fail(cx_.Where(e_) + ": " + who + ": " + what + " did not arrive", checks[i].first,
                   end ? DescribeWireEvent(*end) : "nothing (still open)", e_.case_id);
          break;
        }
        const std::string why = checks[i].second(*after[i]);
        if (why.empty()) {
          last = after[i]->time_ns;
          continue;
        }
        ok = false;
        cx_.Highlight(m, after[i]->time_ns);
        std::optional<size_t> later;
        for (size_t j = i + 1; j < after.size() && !later; ++j) {
          if (checks[i].second(*after[j]).empty()) later = j;
        }
        if (later) {
          cx_.Fail(cx_.Where(e_) + ": " + who + ": ambiguous: " + what +
                       " fits event " + std::to_string(*later + 1) + " after the step, not event " +
                       std::to_string(i + 1),
                   checks[i].first + " as event " + std::to_string(i + 1),
                   DescribeWireEvent(*after[i]) + " came first (" + why + ")", e_.case_id);
        } else {
          cx_.Fail(cx_.Where(e_) + ": " + who + ": " + what + " differs", checks[i].first,
                   DescribeWireEvent(*after[i]) + " (" + why + ")", e_.case_id);
        }
      }
      if (!ok) continue;
      if (w_.nothing_within_ns) {
        const size_t n = checks.size();
        if (after.size() > n && after[n]->time_ns <= last + *w_.nothing_within_ns) {
          cx_.Highlight(m, after[n]->time_ns);
          cx_.Fail(cx_.Where(e_) + ": " + who + ": something more arrived",
                   "nothing within " + std::to_string(*w_.nothing_within_ns / 1000000) + " ms",
                   DescribeWireEvent(*after[n]), e_.case_id);
          continue;
        }
      }
      if (w_.ends && !end) {
        cx_.Fail(cx_.Where(e_) + ": " + who + ": the stream did not end", "end of stream",
                 after.size() > checks.size() ? DescribeWireEvent(*after[checks.size()])
                                              : "still open",
                 e_.case_id);
      } else if (w_.ends && after.size() > checks.size()) {
        cx_.Fail(cx_.Where(e_) + ": " + who + ": more arrived before the end", "end of stream",
                 DescribeWireEvent(*after[checks.size()]), e_.case_id);
      }
    }
  }

 private:
  RunContext& cx_;
  const Expectation& e_;
  const WireExpect& w_;
};

}  // namespace

std::unique_ptr<Evaluator> MakeWireEvaluator(RunContext& cx, const Expectation& e) {
  return std::make_unique<WireEvaluator>(cx, e);
}

}  // namespace wpsim::conformance
