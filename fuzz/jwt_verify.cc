// Fuzzes JWT verification. The first input byte picks what the rest is:
//   0: a whole token (shape, base64url, header and signature checks);
//   1: a payload JSON text, signed with the test key, so claim parsing is reached;
//   2: "<header>\n<payload>" texts, signed, so header checks on valid signatures are reached.
// Invariants: Verify never crashes; a token made by Sign from an object payload never fails
// with a signature error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/encoding.h"
#include "base/result.h"
#include "base/shared_bytes.h"
#include "protocol/auth/hmac.h"
#include "protocol/auth/jwt.h"

namespace auth = wpsim::protocol::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr std::string_view kKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";
  auth::VerifyOptions options;
  options.now_unix_seconds = 1767225600;
  options.clock_skew_seconds = 300;
  options.audiences = {"https://h/client/hubs/chat"};
  options.audience_match = (data[0] & 0x10) ? auth::AudienceMatch::kCaseInsensitive
                                            : auth::AudienceMatch::kExact;
  options.require_exp = (data[0] & 0x20) == 0;
  options.accept_group_claim = (data[0] & 0x40) != 0;
  switch (data[0] % 3) {
    case 0: {
      auto r = auth::Verify(rest, kKey, options);
      (void)r;
      break;
    }
    case 1: {
      auto r = auth::Verify(auth::Sign(rest, kKey), kKey, options);
      WPSIM_ASSERT(r.ok() || r.error().code != auth::kJwtBadSignature);
      break;
    }
    default: {
      const size_t nl = rest.find('\n');
      const std::string_view header = rest.substr(0, nl);
      const std::string_view payload = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
      std::string token = wpsim::Base64UrlEncode(wpsim::AsBytes(header)) + "." +
                          wpsim::Base64UrlEncode(wpsim::AsBytes(payload));
      token += "." + wpsim::Base64UrlEncode(auth::HmacSha256(kKey, token));
      auto r = auth::Verify(token, kKey, options);
      WPSIM_ASSERT(r.ok() || r.error().code != auth::kJwtBadSignature);
      break;
    }
  }
  return 0;
}
