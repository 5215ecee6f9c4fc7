// Request-target helpers: split a target into path and query, decode path segments and query
// components, parse a query string into ordered pairs, and percent-encode for clients.
//
// Decoding rules (PROTOCOL.md §13, matching the ASP.NET Core runtime behind the service):
//  * Path segments: "%XX" decodes to the byte XX, except "%2F"/"%2f" which stays literally
//    "%2F"/"%2f" (an encoded slash must not become a path separator, and ASP.NET Core leaves it
//    encoded); '+' stays '+' (it means space only in form-encoded queries).
//  * Query components: '+' decodes to a space. The Azure SDKs never send a raw '+': the JS SDK
//    escapes query values with encodeURIComponent and .NET with Uri.EscapeDataString, so a
//    literal plus always arrives as "%2B" and spaces as "%20". Browsers and form-encoders send
//    '+' for a space, and ASP.NET Core (QueryHelpers) decodes it as one; doing the same is
//    therefore harmless for SDK clients and right for everyone else.
//  * Malformed escapes ("%G1", a trailing "%") are kept literally rather than rejected, like
//    Uri.UnescapeDataString; decoded bytes are not required to be UTF-8 (callers that need text
//    validate).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wpsim::protocol::http {

struct TargetParts {
  std::string_view path;   // "/api/hubs/h1" ("/" when the target has no path)
  std::string_view query;  // after '?', without it; empty when absent
};
// Splits an origin-form target; a "#fragment" (never sent by clients) is dropped.
TargetParts SplitTarget(std::string_view target);

// "/a//b/" -> {"a", "", "b", ""}: the leading '/' is dropped, every other '/' separates.
std::vector<std::string_view> SplitPath(std::string_view path);

std::string DecodePathSegment(std::string_view segment);
std::string DecodeQueryComponent(std::string_view component);

using QueryPairs = std::vector<std::pair<std::string, std::string>>;
// "a=1&b=x%20y&a=2&flag" -> {(a,1), (b,"x y"), (a,2), (flag,"")}; empty pieces are skipped.
QueryPairs ParseQuery(std::string_view query);
// The first value for `key` (exact, case-sensitive match), or nullptr.
const std::string* FindQuery(const QueryPairs& pairs, std::string_view key);
// Every value for `key`, in order (repeatable parameters such as `group` or `excluded`).
std::vector<std::string> FindAllQuery(const QueryPairs& pairs, std::string_view key);

// encodeURIComponent: keeps A-Z a-z 0-9 - _ . ! ~ * ' ( ) and escapes every other byte.
std::string PercentEncode(std::string_view text);

}  // namespace wpsim::protocol::http
