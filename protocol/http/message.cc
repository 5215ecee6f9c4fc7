#include "protocol/http/message.h"

#include <algorithm>
#include <cctype>

#include "base/result.h"

namespace wpsim::protocol::http {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

void AppendHeaders(std::string& out, const Headers& headers) {
  for (const Header& h : headers) {
    WPSIM_ASSERT(!h.name.empty() && !HasCrLf(h.name) && !HasCrLf(h.value));
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
}

void AppendChunked(std::string& out, std::string_view body) {
  static constexpr char kHex[] = "0123456789abcdef";
  while (!body.empty()) {
    const size_t n = std::min(body.size(), kChunkBytesMax);
    char buf[16];
    size_t len = 0;
    for (size_t v = n; v != 0; v >>= 4) buf[len++] = kHex[v & 15];
    for (size_t i = len; i > 0; --i) out += buf[i - 1];
    out += "\r\n";
    out.append(body.substr(0, n));
    out += "\r\n";
    body.remove_prefix(n);
  }
  out += "0\r\n\r\n";
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

void Headers::Add(std::string name, std::string value) {
  items_.push_back(Header{std::move(name), std::move(value)});
}

void Headers::Set(std::string_view name, std::string value) {
  Remove(name);
  items_.push_back(Header{std::string(name), std::move(value)});
}

void Headers::Remove(std::string_view name) {
  std::erase_if(items_, [&](const Header& h) { return EqualsIgnoreCase(h.name, name); });
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const Header& h : items_) {
    if (EqualsIgnoreCase(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::vector<std::string_view> Headers::GetAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Header& h : items_) {
    if (EqualsIgnoreCase(h.name, name)) out.push_back(h.value);
  }
  return out;
}

std::vector<std::string_view> Headers::GetList(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Header& h : items_) {
    if (!EqualsIgnoreCase(h.name, name)) continue;
    std::string_view rest = h.value;
    while (true) {
      const size_t comma = rest.find(',');
      std::string_view item = Trim(rest.substr(0, comma));
      if (!item.empty()) out.push_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool Headers::HasToken(std::string_view name, std::string_view token) const {
  for (std::string_view item : GetList(name)) {
    if (EqualsIgnoreCase(item, token)) return true;
  }
  return false;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void AppendRequest(std::string& out, const Request& request) {
  WPSIM_ASSERT(!request.method.empty() && !HasCrLf(request.method));
  WPSIM_ASSERT(!request.target.empty() && !HasCrLf(request.target) &&
               request.target.find(' ') == std::string::npos);
  out += request.method;
  out += ' ';
  out += request.target;
  out += request.version_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
  AppendHeaders(out, request.headers);
  const bool framed =
      request.headers.Has("Content-Length") || request.headers.Has("Transfer-Encoding");
  const bool wants_length = !request.body.empty() || request.method == "POST" ||
                            request.method == "PUT" || request.method == "PATCH";
  if (request.chunked) {
    if (!request.headers.Has("Transfer-Encoding")) out += "Transfer-Encoding: chunked\r\n";
    out += "\r\n";
    AppendChunked(out, request.body);
    return;
  }
  if (!framed && wants_length) {
    out += "Content-Length: ";
    out += std::to_string(request.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += request.body;
}

void AppendResponse(std::string& out, const Response& response, bool head_only) {
  WPSIM_ASSERT(response.status >= 100 && response.status <= 999);
  WPSIM_ASSERT(!HasCrLf(response.reason));
  out += response.version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += response.reason.empty() ? ReasonPhrase(response.status) : response.reason;
  out += "\r\n";
  AppendHeaders(out, response.headers);
  const bool no_body =
      response.status < 200 || response.status == 204 || response.status == 304;
  if (no_body) {
    out += "\r\n";
    return;
  }
  const bool framed =
      response.headers.Has("Content-Length") || response.headers.Has("Transfer-Encoding");
  if (response.chunked) {
    if (!response.headers.Has("Transfer-Encoding")) out += "Transfer-Encoding: chunked\r\n";
    out += "\r\n";
    if (!head_only) AppendChunked(out, response.body);
    return;
  }
  if (!framed) {
    out += "Content-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  if (!head_only) out += response.body;
}

std::string SerializeRequest(const Request& request) {
  std::string out;
  AppendRequest(out, request);
  return out;
}

std::string SerializeResponse(const Response& response, bool head_only) {
  std::string out;
  AppendResponse(out, response, head_only);
  return out;
}

Response ErrorResponse(const HttpError& error) {
  Response r;
  r.status = error.status;
  r.headers.Add("Content-Type", "text/plain; charset=utf-8");
  r.headers.Add("Connection", "close");
  r.body = std::string(ReasonPhrase(error.status));
  r.body += '\n';
  return r;
}

bool IsValidHostValue(std::string_view host) {
  if (host.empty()) return false;
  std::string_view name = host;
  std::string_view port;
  if (host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : host.substr(1, close - 1)) {
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                      c == ':' || c == '.';
      if (!ok) return false;
    }
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
    name = {};
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  if (host.front() != '[' && name.empty()) return false;
  // reg-name: unreserved / pct-encoded / sub-delims (RFC 3986 §3.2.2); '%' only as %HH.
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    const bool sub_delim = std::string_view("!$&'()*+;=").find(c) != std::string_view::npos;
    if (unreserved || sub_delim) continue;
    if (c == '%' && i + 2 < name.size() &&
        std::isxdigit(static_cast<unsigned char>(name[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(name[i + 2]))) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

std::optional<HttpError> NormalizeServerRequest(Request& request) {
  auto bad = [](std::string code, std::string reason) {
    return HttpError{400, std::move(code), std::move(reason), 0};
  };
  const std::string_view target = request.target;
  const size_t scheme_end = target.find("://");
  const bool absolute_form = !target.empty() && target.front() != '/' && target != "*" &&
                             scheme_end != std::string_view::npos &&
                             target.substr(0, scheme_end).find_first_of("/?#") ==
                                 std::string_view::npos;
  if (absolute_form) {
    const std::string_view scheme = target.substr(0, scheme_end);
    if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https")) {
      return bad("bad_target_scheme", "an absolute-form target must use http or https");
    }
    const std::string_view after = target.substr(scheme_end + 3);
    const size_t authority_end = std::min(after.find_first_of("/?#"), after.size());
    const std::string_view authority = after.substr(0, authority_end);
    if (authority.find('@') != std::string_view::npos) {
      return bad("bad_target_userinfo", "an absolute-form target must not carry userinfo");
    }
    if (!IsValidHostValue(authority)) {
      return bad("bad_target_authority", "the absolute-form target has no valid authority");
    }
    std::string_view rest = after.substr(authority_end);
    if (const size_t hash = rest.find('#'); hash != std::string_view::npos) {
      rest = rest.substr(0, hash);
    }
    std::string origin_form = rest.empty() || rest.front() != '/' ? "/" + std::string(rest)
                                                                  : std::string(rest);
    std::string host(authority);
    request.target = std::move(origin_form);
    request.headers.Set("Host", std::move(host));  // §3.2.2: the target's authority wins
    return std::nullopt;
  }
  const std::vector<std::string_view> hosts = request.headers.GetAll("Host");
  if (hosts.empty()) return bad("missing_host", "the request has no Host header (RFC 9112 §3.2)");
  if (hosts.size() > 1) {
    return bad("repeated_host", "the request has more than one Host header (RFC 9112 §3.2)");
  }
  if (!IsValidHostValue(Trim(hosts[0]))) {
    return bad("invalid_host", "the Host header is empty or not a valid host[:port]");
  }
  return std::nullopt;
}

}  // namespace wpsim::protocol::http
