// Token options: how a client's (or a rest call's) access token is built or spoiled.
#include "conformance/shape/sections.h"
#include "conformance/yaml_json.h"

namespace wpsim::conformance::shape {
namespace {

const std::vector<EnumName<TokenFault>> kTokenFaults = {
    {"none", TokenFault::kNone},
    {"expired", TokenFault::kExpired},
    {"not_yet_valid", TokenFault::kNotYetValid},
    {"wrong_key", TokenFault::kWrongKey},
    {"wrong_audience", TokenFault::kWrongAudience},
    {"alg_none", TokenFault::kAlgNone},
    {"bad_signature", TokenFault::kBadSignature},
    {"malformed", TokenFault::kMalformed},
    {"missing", TokenFault::kMissing},
    {"no_expiry", TokenFault::kNoExpiry},
    {"four_segments", TokenFault::kFourSegments},
    {"bad_signature_first_byte", TokenFault::kSignatureFirstByte}};
const std::vector<EnumName<TokenPlacement>> kTokenPlacements = {
    {"query", TokenPlacement::kQuery}, {"header", TokenPlacement::kHeader}};
const std::vector<EnumName<RestAudienceForm>> kAudienceForms = {
    {"full_url", RestAudienceForm::kFullUrl}, {"without_query", RestAudienceForm::kWithoutQuery}};

using T = TokenOptions;

void ReadGroupClaim(Context& c, const Node& v, T& t) {
  auto s = c.Str(v, "group_claim");
  if (!s) return;
  if (*s == "webpubsub.group" || *s == "group") {
    t.group_claim = *s;
  } else {
    c.Error(v, "group_claim must be 'webpubsub.group' or 'group', got " + Q(*s));
  }
}

void ReadClaims(Context& c, const Node& v, T& t) {
  if (!v.IsMap()) {
    c.Error(v, "expected a mapping of claim names to values, got " + Describe(v));
    return;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (auto k = c.Str(it->first, "claim name")) t.claims.emplace_back(*k, YamlToJson(it->second));
  }
}

void ReadHeader(Context& c, const Node& v, T& t) {
  if (!v.IsMap()) {
    c.Error(v, "expected a mapping (the JOSE header), got " + Describe(v));
    return;
  }
  t.header = YamlToJson(v).dump();
}

}  // namespace

const Table<T>& TokenTable() {
  static const Table<T> t = {
      Opt("fault", &T::fault, EnumValue(&kTokenFaults, "token fault"),
          "spoil the token (negative cases)"),
      Opt("via", &T::via, EnumValue(&kTokenPlacements, "token placement"),
          "`query` (`?access_token=`, default) or `header` (`Authorization: Bearer`); connections "
          "only"),
      Opt("lifetime", &T::lifetime_ns, PositiveDurationValue(), "`exp - iat` (default 1h)",
          "token lifetime"),
      Opt("audience", &T::audience, String(), "explicit `aud`"),
      Opt("role_as_string", &T::role_as_string, Boolean(), "one `role` string instead of an array"),
      Custom<T>("group_claim", "webpubsub.group or group", {{"enum", {"webpubsub.group", "group"}}},
                "`webpubsub.group` (default) or `group` (the MQTT how-to's spelling)",
                ReadGroupClaim),
      Custom<T>("claims", "mapping", {{"type", "object"}}, "extra claims, e.g. `{custom: [a, b]}`",
                ReadClaims),
      Custom<T>("header", "mapping", {{"type", "object"}},
                "the JOSE header, e.g. `{alg: hs256, typ: JWT}` (signed with HS256 whatever "
                "`alg` says)",
                ReadHeader),
      Opt("omit", &T::omit, StringList(),
          "registered claims left out (`aud`, `exp`, `iat`, `sub`, `role`, `webpubsub.group`)"),
      Opt("pad_to", &T::pad_to_bytes, ByteSizeValue(true),
          "pad the payload (a `pad` claim) until the token is at least this long, e.g. `64KiB`",
          "token size"),
      Opt("audience_form", &T::rest_audience, EnumValue(&kAudienceForms, "audience form"),
          "rest clients: `full_url` (with `?api-version`, as the SDKs do) or `without_query`"),
  };
  return t;
}

std::optional<TokenOptions> ReadToken(Context& c, const Node& n, bool rest) {
  TokenOptions t;
  if (n.IsScalar()) {
    auto f = c.Enum(n, "token fault", kTokenFaults);
    if (!f) return std::nullopt;
    t.fault = *f;
    return t;
  }
  Map m(c, n, "token", KeysOf(TokenTable()));
  if (!m.ok()) return std::nullopt;
  ReadFields(c, m, TokenTable(), t);
  if (auto v = m.Get("via"); v && rest) {
    c.Error(*v, "'via' does not apply to rest clients (they always use the Authorization header)");
  }
  if (auto v = m.Get("omit")) {
    static const Keys kOmittable = {"aud",  "exp", "iat", "nbf", "sub", "role", "webpubsub.group",
                                    "group"};
    for (const std::string& claim : t.omit) {
      if (!Contains(kOmittable, claim)) {
        c.Error(*v, "omit: " + Q(claim) + " is not a claim the token carries (one of " +
                        JoinKeys(kOmittable) + ")");
      }
    }
  }
  if (auto v = m.Get("audience_form"); v && !rest)
    c.Error(*v, "'audience_form' applies only to rest clients");
  return t;
}

}  // namespace wpsim::conformance::shape
