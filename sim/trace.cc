#include "sim/trace.h"

#include <cstdio>

#include "sim/rng.h"

namespace wpsim::sim {
namespace {

uint64_t Mix(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (i * 8)) & 0xff;
    h *= 0x100000001b3ULL;
  }
  return h;
}

void JsonString(std::ostream& out, std::string_view s) {
  out << '"';
  for (char c : s) {
    switch (c) {
      case '"': out << "\\\""; break;
      case '\\': out << "\\\\"; break;
      case '\n': out << "\\n"; break;
      case '\r': out << "\\r"; break;
      case '\t': out << "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out << buf;
        } else {
          out << c;
        }
    }
  }
  out << '"';
}

}  // namespace

void Trace::Record(TraceEvent event) {
  uint64_t h = Mix(hash_, static_cast<uint64_t>(event.time));
  h = Fnv1a64(event.host, h);
  h = Mix(h, event.stream);
  h = Fnv1a64(event.kind, h);
  h = Mix(h, event.bytes);
  h = Mix(h, event.digest);
  h = Fnv1a64(event.detail, h);
  hash_ = h;
  ++count_;
  if (events_.size() < keep_max_) events_.push_back(std::move(event));
}

uint64_t Trace::Digest(std::span<const uint8_t> payload) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint8_t b : payload) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return h;
}

void Trace::WriteJsonLines(std::ostream& out) const {
  for (const TraceEvent& e : events_) {
    char digest[20];
    std::snprintf(digest, sizeof digest, "%016llx", static_cast<unsigned long long>(e.digest));
    out << "{\"t\":" << e.time << ",\"host\":";
    JsonString(out, e.host);
    out << ",\"stream\":" << e.stream << ",\"kind\":";
    JsonString(out, e.kind);
    out << ",\"bytes\":" << e.bytes << ",\"digest\":\"" << digest << "\",\"detail\":";
    JsonString(out, e.detail);
    out << "}\n";
  }
}

}  // namespace wpsim::sim
