// ErrorDetail, the body of every non-success REST response (PROTOCOL.md §11.6, REST:models.tsp):
// { code?, message?, target?, details?: ErrorDetail[], inner?: { code?, inner? } }, sent with an
// `x-ms-error-code` header carrying the same code.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wpsim::protocol::rest {

// Codes we use. The service's own codes are not documented (PROTOCOL.md §18); these follow the
// Microsoft emulator where it has one.
inline constexpr std::string_view kErrorBadRequest = "Error.BadRequest";
inline constexpr std::string_view kErrorNotFound = "Error.NotFound";
inline constexpr std::string_view kErrorMethodNotAllowed = "Error.MethodNotAllowed";
inline constexpr std::string_view kErrorConnectionNotExisted = "Error.Connection.NotExisted";
inline constexpr std::string_view kWarningGroupNotExisted = "Warning.Group.NotExisted";
inline constexpr std::string_view kErrorNotSupported = "NotSupported";

struct ErrorDetail {
  std::optional<std::string> code;
  std::optional<std::string> message;
  std::optional<std::string> target;
  std::vector<ErrorDetail> details;
  // The `inner` chain, outermost first: {"inner":{"code":c0,"inner":{"code":c1}}}.
  std::vector<std::string> inner_codes;
};

// Compact JSON with members in the order code, message, target, details, inner; absent fields
// are omitted. Strings are escaped per RFC 8259; invalid UTF-8 becomes U+FFFD so the body is
// always valid JSON.
std::string ErrorDetailJson(const ErrorDetail& detail);

// Appends `text` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace wpsim::protocol::rest
