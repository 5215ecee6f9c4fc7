#include "service/hub_config.h"

#include "protocol/http/message.h"
#include "protocol/http/url.h"
#include "service/names.h"

namespace wpsim::service {

namespace http = protocol::http;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

}  // namespace

bool IsSystemEventName(std::string_view event) {
  return event == "connect" || event == "connected" || event == "disconnected";
}

bool EventHandlerSettings::MatchesSystemEvent(std::string_view event) const {
  for (const std::string& e : system_events) {
    if (http::EqualsIgnoreCase(Trim(e), event)) return true;
  }
  return false;
}

namespace {

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Glob match, ASCII case-insensitive: '*' is any run of characters (also empty), '?' exactly one
// byte. Iterative with one backtrack point (the last '*'), so the cost is bounded by
// pattern x name length and there is no recursion on configured input.
bool GlobMatches(std::string_view pattern, std::string_view name) {
  size_t p = 0;
  size_t n = 0;
  size_t star = std::string_view::npos;
  size_t resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || AsciiLower(pattern[p]) == AsciiLower(name[n]))) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

bool EventHandlerSettings::MatchesUserEvent(std::string_view event) const {
  std::string_view rest = user_event_pattern;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view item = Trim(rest.substr(0, comma));
    if (!item.empty() && GlobMatches(item, event)) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

namespace {
// The settings of `hub`: its own key, else the longest pattern key (with `*` or `?`, e.g.
// "chat_*") that matches it, so the most specific pattern wins whatever the map order.
const HubSettings* FindHubSettings(const HubSettingsMap& hubs, std::string_view hub) {
  const std::string key = HubKey(hub);
  auto it = hubs.find(key);
  if (it != hubs.end()) return &it->second;
  const HubSettings* best = nullptr;
  size_t best_length = 0;
  for (const auto& [pattern, settings] : hubs) {
    if (pattern.find_first_of("*?") == std::string::npos) continue;
    if (GlobMatches(pattern, key) && (best == nullptr || pattern.size() > best_length)) {
      best = &settings;
      best_length = pattern.size();
    }
  }
  return best;
}
}  // namespace

const EventHandlerSettings* FindEventHandler(const HubSettingsMap& hubs, std::string_view hub,
                                             EventKind kind, std::string_view event) {
  const HubSettings* settings = FindHubSettings(hubs, hub);
  if (settings == nullptr) return nullptr;
  for (const EventHandlerSettings& handler : settings->event_handlers) {
    const bool match = kind == EventKind::kSystem ? handler.MatchesSystemEvent(event)
                                                  : handler.MatchesUserEvent(event);
    if (match) return &handler;
  }
  return nullptr;
}

bool AllowsAnonymous(const HubSettingsMap& hubs, std::string_view hub) {
  const HubSettings* settings = FindHubSettings(hubs, hub);
  return settings != nullptr && settings->allow_anonymous;
}

std::string ExpandUrlTemplate(std::string_view url_template, std::string_view hub,
                              std::string_view event) {
  std::string out(url_template);
  ReplaceAll(out, "{event}", http::PercentEncode(event));
  ReplaceAll(out, "{hub}", http::PercentEncode(hub));
  return out;
}

std::string HttpUrl::Origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(https ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  std::string_view rest;
  if (url.size() >= 7 && http::EqualsIgnoreCase(url.substr(0, 7), "http://")) {
    rest = url.substr(7);
  } else if (url.size() >= 8 && http::EqualsIgnoreCase(url.substr(0, 8), "https://")) {
    out.https = true;
    out.port = 443;
    rest = url.substr(8);
  } else {
    return MakeError("bad_url", "event handler URL must start with http:// or https://: '" +
                                    std::string(url) + "'");
  }
  const size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!out.target.empty() && out.target.front() == '?') out.target = "/" + out.target;
  if (authority.find('@') != std::string_view::npos) {
    return MakeError("bad_url", "user info is not supported in event handler URLs");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return MakeError("bad_url", "unclosed IPv6 literal");
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return MakeError("bad_url", "bad authority");
      port = authority.substr(close + 2);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return MakeError("bad_url", "event handler URL has no host: '" +
                                                    std::string(url) + "'");
  if (!port.empty()) {
    uint32_t p = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || p > 65535) return MakeError("bad_url", "bad port in '" +
                                                                           std::string(url) + "'");
      p = p * 10 + static_cast<uint32_t>(c - '0');
    }
    if (p == 0 || p > 65535) return MakeError("bad_url", "bad port in '" + std::string(url) + "'");
    out.port = static_cast<uint16_t>(p);
  }
  out.host = std::string(host);
  const bool v6 = out.host.find(':') != std::string::npos;
  out.host_header = v6 ? "[" + out.host + "]" : out.host;
  if (out.port != (out.https ? 443 : 80)) out.host_header += ":" + std::to_string(out.port);
  return out;
}

Status ValidateEventHandler(const EventHandlerSettings& handler) {
  const std::string& t = handler.url_template;
  const size_t scheme_end = t.find("://");
  const size_t path_start =
      scheme_end == std::string::npos ? std::string::npos : t.find_first_of("/?", scheme_end + 3);
  const std::string_view authority =
      std::string_view(t).substr(0, path_start == std::string::npos ? t.size() : path_start);
  if (authority.find('{') != std::string_view::npos) {
    return MakeError("bad_url", "placeholders are not allowed in the host part: '" + t + "'");
  }
  Result<HttpUrl> url = ParseHttpUrl(ExpandUrlTemplate(t, "hub", "event"));
  if (!url.ok()) return url.error();
  for (const std::string& e : handler.system_events) {
    if (!IsSystemEventName(Lower(Trim(e)))) {
      return MakeError("bad_event", "unknown system event '" + e +
                                        "' (expected connect, connected or disconnected)");
    }
  }
  return Status::Ok();
}

}  // namespace wpsim::service
