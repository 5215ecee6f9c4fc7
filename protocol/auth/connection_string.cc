#include "protocol/auth/connection_string.h"

#include <charconv>

namespace wpsim::protocol::auth {
namespace {

Error Invalid(std::string message) {
  return MakeError(kConnectionStringInvalid, std::move(message));
}

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

uint16_t DefaultPort(std::string_view scheme) { return scheme == "http" ? 80 : 443; }

std::optional<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

// Splits an endpoint ("https://host:port/path", scheme optional) into the parts of `out`.
Status ParseEndpoint(std::string_view endpoint, ConnectionString& out) {
  std::string_view rest = endpoint;
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string_view::npos) {
    out.scheme = "https";
  } else {
    out.scheme = Lower(endpoint.substr(0, scheme_end));
    rest = endpoint.substr(scheme_end + 3);
    if (out.scheme != "http" && out.scheme != "https") {
      return Invalid("endpoint scheme must be http or https");
    }
  }
  if (rest.find_first_of("?#@ \t") != std::string_view::npos) {
    return Invalid("endpoint must be scheme://host[:port][/path]");
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.path = std::string(path);

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid("unterminated IPv6 literal");
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Invalid("junk after IPv6 literal");
      port = after.substr(1);
    }
    for (char c : host.substr(1, host.size() - 2)) {
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                      c == ':' || c == '.';
      if (!ok) return Invalid("bad IPv6 literal");
    }
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  out.host = Lower(host);
  if (out.host.empty() || out.host == "[]") return Invalid("endpoint has no host");
  if (out.host.front() != '[') {
    for (char c : out.host) {
      if (!IsHostChar(c)) return Invalid("bad character in endpoint host");
    }
  }
  out.port.reset();
  if (!port.empty()) {
    out.port = ParsePort(port);
    if (!out.port) return Invalid("endpoint port must be 1..65535");
  }
  return Status::Ok();
}

}  // namespace

std::string ConnectionString::Endpoint() const {
  std::string out = scheme + "://" + host;
  if (port && *port != DefaultPort(scheme)) out += ":" + std::to_string(*port);
  out += path;
  return out;
}

Result<ConnectionString> ParseConnectionString(std::string_view text) {
  if (text.size() > kConnectionStringBytesMax) return Invalid("connection string too long");
  ConnectionString cs;
  std::optional<std::string> endpoint, port;
  bool have_key = false;
  std::vector<std::string> seen;
  while (!text.empty()) {
    const size_t semi = text.find(';');
    const std::string_view segment = Trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    if (segment.empty()) continue;
    const size_t eq = segment.find('=');
    if (eq == std::string_view::npos) return Invalid("segment without '='");
    const std::string key = Lower(Trim(segment.substr(0, eq)));
    const std::string_view value = Trim(segment.substr(eq + 1));
    if (key.empty()) return Invalid("empty key");
    for (const std::string& s : seen) {
      if (s == key) return Invalid("duplicate key '" + key + "'");
    }
    seen.push_back(key);
    if (key == "endpoint") {
      endpoint = std::string(value);
    } else if (key == "accesskey") {
      cs.access_key = std::string(value);
      have_key = true;
    } else if (key == "port") {
      port = std::string(value);
    } else if (key == "version") {
      cs.version = std::string(value);
    } else {
      cs.extra.emplace_back(std::string(Trim(segment.substr(0, eq))), std::string(value));
    }
  }
  if (!endpoint || endpoint->empty()) return Invalid("Endpoint is required");
  if (!have_key || cs.access_key.empty()) return Invalid("AccessKey is required");
  Status st = ParseEndpoint(*endpoint, cs);
  if (!st.ok()) return st.error();
  if (port) {
    cs.port = ParsePort(*port);
    if (!cs.port) return Invalid("Port must be 1..65535");
  }
  if (cs.port && *cs.port == DefaultPort(cs.scheme)) cs.port.reset();
  return cs;
}

std::string PrintConnectionString(const ConnectionString& cs) {
  std::string out = "Endpoint=" + cs.Endpoint() + ";AccessKey=" + cs.access_key + ";";
  if (cs.version) out += "Version=" + *cs.version + ";";
  for (const auto& [key, value] : cs.extra) out += key + "=" + value + ";";
  return out;
}

std::string ClientRelativePath(std::string_view hub, ClientType type) {
  std::string out;
  switch (type) {
    case ClientType::kDefault: out = "client/hubs/"; break;
    case ClientType::kMqtt: out = "clients/mqtt/hubs/"; break;
    case ClientType::kSocketIo: out = "clients/socketio/hubs/"; break;
  }
  out += hub;
  return out;
}

std::string ClientAudience(const ConnectionString& cs, std::string_view hub, ClientType type) {
  return cs.Endpoint() + "/" + ClientRelativePath(hub, type);
}

std::string ClientBaseUrl(const ConnectionString& cs, std::string_view hub, ClientType type) {
  // Endpoint() starts with "http" in both cases; "http" → "ws" keeps any trailing 's'.
  return "ws" + cs.Endpoint().substr(4) + "/" + ClientRelativePath(hub, type);
}

std::string ClientUrl(const ConnectionString& cs, std::string_view hub, ClientType type,
                      std::string_view token) {
  return ClientBaseUrl(cs, hub, type) + "?access_token=" + std::string(token);
}

}  // namespace wpsim::protocol::auth
