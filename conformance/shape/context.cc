// The loader's context: diagnostics, the checked mapping view and the shared readers.
#include "conformance/shape/context.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "base/encoding.h"
#include "conformance/yaml_json.h"
#include "sim/distribution.h"

namespace wpsim::conformance::shape {

const Keys kStepModifiers = {"as", "at", "timeout", "async", "case"};

const std::vector<EnumName<DataType>> kDataTypes = {{"json", DataType::kJson},
                                                    {"text", DataType::kText},
                                                    {"binary", DataType::kBinary},
                                                    {"protobuf", DataType::kProtobuf}};

std::string Q(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string JoinKeys(const Keys& keys) {
  std::string out;
  for (std::string_view k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

Keys Concat(std::initializer_list<const Keys*> lists) {
  Keys out;
  for (const Keys* l : lists) out.insert(out.end(), l->begin(), l->end());
  return out;
}

bool Contains(const Keys& keys, std::string_view k) {
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

bool IsIdentifier(std::string_view s, bool allow_dash_dot) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
              (allow_dash_dot && (c == '-' || c == '.'));
    if (!ok) return false;
  }
  return true;
}

// Conformance case ids: "JSON-ACK-003", "MQTT-3.1.2-4".
bool IsValidCaseId(std::string_view s) {
  size_t dash = s.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == s.size()) return false;
  if (!std::isupper(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    bool ok = std::isupper(static_cast<unsigned char>(c)) ||
              std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    if (!ok) return false;
  }
  return s.back() != '-' && s.find("--") == std::string_view::npos;
}

std::string Describe(const Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Scalar:
      return Q(n.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
  }
  return "?";
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Map

Map::Map(Context& l, const Node& n, std::string what, const Keys& allowed)
    : node_(n), what_(std::move(what)) {
  if (!n.IsMap()) {
    l.Error(n, "expected a mapping for " + what_ + ", got " + Describe(n));
    ok_ = false;
    return;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar()) {
      l.Error(it->first, "keys must be plain names in " + what_);
      continue;
    }
    const std::string& key = it->first.Scalar();
    if (!Contains(allowed, key)) {
      std::string suggestion = SuggestClosest(key, allowed);
      if (!suggestion.empty()) suggested_.push_back(suggestion);
      std::string hint = suggestion.empty() ? "" : " (did you mean " + Q(suggestion) + "?)";
      if (hint.empty()) hint = " in " + what_ + " (valid keys: " + JoinKeys(allowed) + ")";
      l.Error(it->first, "unknown key " + Q(key) + hint);
      continue;
    }
    bool dup = false;
    for (const auto& e : entries_) dup = dup || std::get<0>(e) == key;
    if (!dup) entries_.emplace_back(key, it->first, it->second);
  }
}

std::optional<Node> Map::Get(std::string_view key) const {
  for (const auto& e : entries_) {
    if (std::get<0>(e) == key) return std::get<2>(e);
  }
  return std::nullopt;
}

std::optional<Node> Map::Key(std::string_view key) const {
  for (const auto& e : entries_) {
    if (std::get<0>(e) == key) return std::get<1>(e);
  }
  return std::nullopt;
}

std::optional<Node> Map::Required(Context& l, std::string_view key) const {
  auto v = Get(key);
  // A misspelt key already reported with this key as its suggestion says it all.
  bool explained = std::find(suggested_.begin(), suggested_.end(), key) != suggested_.end();
  if (!v && ok_ && !explained) l.Error(node_, "missing required key " + Q(key) + " in " + what_);
  return v;
}

std::vector<std::string> Map::PresentKeys() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(std::get<0>(e));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Context

SourcePos Context::Pos(const Node& n) const {
  YAML::Mark m = n.Mark();
  if (m.line < 0) return SourcePos{file_, 0, 0};
  return SourcePos{file_, m.line + 1, m.column + 1};
}

void Context::Report(SourcePos pos, std::string message) {
  if (pos.line <= 0) pos = SourcePos{file_, 1, 1};
  diags_.push_back(Diagnostic{std::move(pos), std::move(message)});
}

LoadResult Context::Finish() {
  LoadResult r;
  std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
  });
  // The same problem found twice at one position (e.g. via two paths) is reported once.
  diags_.erase(std::unique(diags_.begin(), diags_.end(),
                           [](const Diagnostic& a, const Diagnostic& b) {
                             return a.pos.line == b.pos.line && a.pos.column == b.pos.column &&
                                    a.message == b.message;
                           }),
               diags_.end());
  r.diagnostics = std::move(diags_);
  if (r.diagnostics.empty()) r.scenario = std::move(sc_);
  return r;
}

std::string Context::Suggest(std::string_view word, const Keys& candidates) {
  std::string s = SuggestClosest(word, candidates);
  return s.empty() ? "" : " (did you mean " + Q(s) + "?)";
}

std::optional<std::string> Context::Str(const Node& n, std::string_view what) {
  if (!n.IsScalar()) {
    Error(n, "expected a string for " + std::string(what) + ", got " + Describe(n));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<std::string> Context::NonEmptyStr(const Node& n, std::string_view what) {
  auto s = Str(n, what);
  if (s && s->empty()) {
    Error(n, std::string(what) + " must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<bool> Context::Bool(const Node& n, std::string_view what) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  Error(n, "expected true or false for " + std::string(what) + ", got " + Describe(n));
  return std::nullopt;
}

std::optional<uint64_t> Context::Uint(const Node& n, std::string_view what, uint64_t min,
                                      uint64_t max) {
  std::string range = "from " + std::to_string(min) + " to " + std::to_string(max);
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    bool digits = !s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    if (digits) {
      errno = 0;
      unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
      if (errno == 0 && v >= min && v <= max) return static_cast<uint64_t>(v);
      Error(n, std::string(what) + " must be " + range + ", got " + Q(s));
      return std::nullopt;
    }
  }
  Error(n, "expected an integer " + range + " for " + std::string(what) + ", got " + Describe(n));
  return std::nullopt;
}

std::optional<int64_t> Context::Duration(const Node& n, std::string_view what) {
  if (!n.IsScalar()) {
    Error(n, "expected a duration like 5ms for " + std::string(what) + ", got " + Describe(n));
    return std::nullopt;
  }
  auto r = ParseDuration(n.Scalar());
  if (!r.ok()) {
    Error(n, r.error().message);
    return std::nullopt;
  }
  return *r;
}

std::optional<int64_t> Context::PositiveDuration(const Node& n, std::string_view what) {
  auto d = Duration(n, what);
  if (d && *d <= 0) {
    Error(n, std::string(what) + " must be longer than zero");
    return std::nullopt;
  }
  return d;
}

std::optional<uint32_t> Context::Seconds(const Node& n, std::string_view what, bool allow_never) {
  if (allow_never && n.IsScalar() && n.Scalar() == "never") return 0xFFFFFFFFu;
  auto d = Duration(n, what);
  if (!d) return std::nullopt;
  if (*d % kNanosPerSecond != 0) {
    Error(n, std::string(what) + " must be a whole number of seconds, got " + Q(n.Scalar()));
    return std::nullopt;
  }
  int64_t s = *d / kNanosPerSecond;
  if (s > 0xFFFFFFFFll) {
    Error(n, std::string(what) + " is too large");
    return std::nullopt;
  }
  return static_cast<uint32_t>(s);
}

std::optional<std::vector<std::string>> Context::StrList(const Node& n, std::string_view what) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) {
    Error(n, "expected a string or a list of strings for " + std::string(what) + ", got " +
                 Describe(n));
    return std::nullopt;
  }
  bool ok = true;
  for (const Node& item : n) {
    auto s = Str(item, what);
    if (s) {
      out.push_back(*s);
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> Context::StrPairs(
    const Node& n, std::string_view what) {
  if (!n.IsMap()) {
    Error(n, "expected a mapping of names to strings for " + std::string(what) + ", got " +
                 Describe(n));
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto k = Str(it->first, what);
    auto v = Str(it->second, what);
    if (k && v) out.emplace_back(*k, *v);
  }
  return out;
}

std::optional<std::string> Context::Base64Bytes(const Node& n, std::string_view what) {
  auto s = Str(n, what);
  if (!s) return std::nullopt;
  auto bytes = Base64Decode(*s);
  if (!bytes) {
    Error(n, "expected base64 for " + std::string(what) + ", got " + Q(*s));
    return std::nullopt;
  }
  return std::string(bytes->begin(), bytes->end());
}

std::optional<std::string> Context::CaseId(const Node& n) {
  auto s = Str(n, "case");
  if (!s) return std::nullopt;
  if (!IsValidCaseId(*s)) {
    Error(n, "expected a case id like JSON-ACK-003, got " + Q(*s));
    return std::nullopt;
  }
  return s;
}

std::optional<std::vector<MqttUserProperty>> Context::UserProperties(const Node& n) {
  std::vector<MqttUserProperty> out;
  if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto k = Str(it->first, "user property name");
      auto v = Str(it->second, "user property value");
      if (k && v) out.push_back({*k, *v});
    }
    return out;
  }
  if (n.IsSequence()) {
    // A list of {name, value} allows repeated names (MQTT permits them).
    for (const Node& item : n) {
      Map m(*this, item, "user property", {"name", "value"});
      if (!m.ok()) continue;
      auto k = m.Required(*this, "name");
      auto v = m.Required(*this, "value");
      std::optional<std::string> ks, vs;
      if (k) ks = Str(*k, "user property name");
      if (v) vs = Str(*v, "user property value");
      if (ks && vs) out.push_back({*ks, *vs});
    }
    return out;
  }
  Error(n, "expected a mapping or a list of {name, value} for user_properties, got " + Describe(n));
  return std::nullopt;
}

bool Context::RefText(std::string_view text, const Node& at, const RefOptions& opt,
                      std::vector<uint32_t>& out) {
  if (text == "all") {
    if (!opt.allow_all) {
      Error(at, "'all' is not allowed here; name the clients");
      return false;
    }
    for (uint32_t i = 0; i < sc_.members.size(); ++i) {
      if (sc_.ClientOf(i).kind != ClientKind::kRest) out.push_back(i);
    }
    return true;
  }
  std::string_view name = text;
  std::optional<std::pair<uint64_t, uint64_t>> range;
  size_t bracket = text.find('[');
  if (bracket != std::string_view::npos) {
    name = text.substr(0, bracket);
    if (text.back() != ']') {
      Error(at,
            "malformed client reference " + Q(text) + " (expected name, name[i] or name[i..j])");
      return false;
    }
    std::string_view inner = text.substr(bracket + 1, text.size() - bracket - 2);
    size_t dots = inner.find("..");
    auto parse_index = [](std::string_view s) -> std::optional<uint64_t> {
      if (s.empty() || s.size() > 9) return std::nullopt;
      uint64_t v = 0;
      for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
      }
      return v;
    };
    std::optional<uint64_t> lo =
        parse_index(dots == std::string_view::npos ? inner : inner.substr(0, dots));
    std::optional<uint64_t> hi =
        dots == std::string_view::npos ? lo : parse_index(inner.substr(dots + 2));
    if (!lo || !hi || *lo > *hi) {
      Error(at,
            "malformed client reference " + Q(text) + " (expected name, name[i] or name[i..j])");
      return false;
    }
    range = std::make_pair(*lo, *hi);
  }
  auto ci = sc_.FindClient(name);
  if (!ci) {
    UndefinedClient(at, name);
    return false;
  }
  const Client& c = sc_.clients[*ci];
  if (c.kind == ClientKind::kRest && !opt.allow_rest) {
    Error(at, "client " + Q(c.name) + " is a rest client; it has no connection to use here");
    return false;
  }
  if (range) {
    if (!c.is_cohort) {
      Error(at,
            "client " + Q(c.name) + " is not a cohort; write " + Q(c.name) + " without an index");
      return false;
    }
    if (range->second >= c.count) {
      Error(at, "cohort index " + std::to_string(range->second) + " out of range for " + Q(c.name) +
                    " (count " + std::to_string(c.count) + ": indices 0.." +
                    std::to_string(c.count - 1) + ")");
      return false;
    }
    for (uint64_t i = range->first; i <= range->second; ++i)
      out.push_back(c.first_member + static_cast<uint32_t>(i));
  } else {
    for (uint32_t i = 0; i < c.count; ++i) out.push_back(c.first_member + i);
  }
  return true;
}

void Context::UndefinedClient(const Node& at, std::string_view name) {
  Keys names;
  for (const Client& c : sc_.clients) {
    if (c.pos.line > 0) names.push_back(c.name);  // not the implied rest client
  }
  std::string hint = Suggest(name, names);
  if (hint.empty() && names.empty()) hint = " (no clients are declared)";
  if (hint.empty() && names.size() <= 12) hint = " (clients: " + JoinKeys(names) + ")";
  Error(at, "undefined client " + Q(name) + hint);
}

std::optional<ClientRef> Context::Ref(const Node& n, const RefOptions& opt) {
  ClientRef ref;
  ref.pos = Pos(n);
  std::vector<uint32_t> members;
  bool ok = true;
  if (n.IsScalar()) {
    ref.text = n.Scalar();
    ok = RefText(n.Scalar(), n, opt, members);
  } else if (n.IsSequence() && n.size() > 0) {
    for (const Node& item : n) {
      if (!item.IsScalar()) {
        Error(item, "expected a client name, got " + Describe(item));
        ok = false;
        continue;
      }
      ref.text += (ref.text.empty() ? "" : ", ") + item.Scalar();
      ok = RefText(item.Scalar(), item, opt, members) && ok;
    }
  } else {
    Error(n, "expected a client name or a list of client names, got " + Describe(n));
    return std::nullopt;
  }
  if (!ok) return std::nullopt;
  // First occurrence wins; a flag per member keeps this linear (a 100,000-client cohort).
  std::vector<bool> seen(sc_.members.size());
  for (uint32_t m : members) {
    if (!seen[m]) {
      seen[m] = true;
      ref.members.push_back(m);
    }
  }
  if (opt.single && ref.members.size() != 1) {
    Error(n, Q(ref.text) + " names " + std::to_string(ref.members.size()) +
                 " connections; exactly one is needed here (for a cohort write name[i])");
    return std::nullopt;
  }
  return ref;
}

bool Context::CheckKinds(const ClientRef& ref, const Node& at,
                         std::initializer_list<ClientKind> kinds, std::string_view what) {
  std::set<uint32_t> reported;
  bool ok = true;
  for (uint32_t m : ref.members) {
    uint32_t ci = sc_.members[m].client;
    const Client& c = sc_.clients[ci];
    if (broken_clients.count(ci) || reported.count(ci)) continue;
    if (std::find(kinds.begin(), kinds.end(), c.kind) == kinds.end()) {
      std::string names;
      for (ClientKind k : kinds)
        names += (names.empty() ? "" : " or ") + std::string(ClientKindName(k));
      Error(at, std::string(what) + " needs a " + names + " client, but " + Q(c.name) + " is " +
                    std::string(ClientKindName(c.kind)));
      reported.insert(ci);
      ok = false;
    }
  }
  return ok;
}

bool Context::AllMqtt5(const ClientRef& ref) {
  for (uint32_t m : ref.members) {
    if (sc_.ClientOf(m).kind == ClientKind::kMqtt311) return false;
  }
  return true;
}

void Context::RequireMqtt5(const ClientRef& ref, const Map& m, const Keys& keys) {
  if (AllMqtt5(ref)) return;
  for (std::string_view k : keys) {
    if (auto key = m.Key(k)) {
      Error(*key, Q(k) + " is an MQTT 5.0 feature; " + Q(ref.text) + " includes an mqtt311 client");
    }
  }
}

std::optional<ClientRef> Context::ClientKey(const Map& m, const RefOptions& opt) {
  auto v = m.Required(*this, "client");
  if (!v) return std::nullopt;
  return Ref(*v, opt);
}

bool Context::RegisterLabel(const Node& n, const std::string& label) {
  if (!IsIdentifier(label, true)) {
    Error(n, "a label must be a name like join_1 (letters, digits, _ - .), got " + Q(label));
    return false;
  }
  auto it = label_pos_.find(label);
  if (it != label_pos_.end()) {
    Error(n, "label " + Q(label) + " is already used at " + std::to_string(it->second.line) + ":" +
                 std::to_string(it->second.column));
    return false;
  }
  label_pos_.emplace(label, Pos(n));
  return true;
}

std::optional<uint32_t> Context::StepLabel(const Node& n) {
  auto s = Str(n, "step label");
  if (!s) return std::nullopt;
  auto id = sc_.FindStep(*s);
  if (!id) {
    Keys labels;
    for (const auto& [label, step] : sc_.step_labels) labels.push_back(label);
    Error(n, "undefined step label " + Q(*s) + Suggest(*s, labels));
  }
  return id;
}

void Context::CheckTemplates(const Node& n, std::string_view s) {
  size_t pos = 0;
  while ((pos = s.find("${", pos)) != std::string_view::npos) {
    size_t close = s.find('}', pos);
    if (close == std::string_view::npos) {
      Error(n, "unterminated template in " + Q(s) +
                   " (expected ${client.connection_id}, ${client.user} or ${i})");
      return;
    }
    std::string_view inner = s.substr(pos + 2, close - pos - 2);
    pos = close + 1;
    if (std::find(index_vars.begin(), index_vars.end(), inner) != index_vars.end()) continue;
    size_t dot = inner.rfind('.');
    std::string_view field = dot == std::string_view::npos ? "" : inner.substr(dot + 1);
    if (dot == std::string_view::npos || (field != "connection_id" && field != "user")) {
      Error(n, "unknown template ${" + std::string(inner) +
                   "} (expected ${client.connection_id}, ${client.user} or a repeat index)");
      continue;
    }
    std::vector<uint32_t> members;
    if (RefText(inner.substr(0, dot), n, RefOptions{}, members) && members.size() != 1) {
      Error(n, "template ${" + std::string(inner) +
                   "} must name exactly one connection (write name[i])");
    }
  }
}

std::optional<std::string> Context::TemplStr(const Node& n, std::string_view what) {
  auto s = Str(n, what);
  if (s) CheckTemplates(n, *s);
  return s;
}

void Context::AddClient(Client c, uint32_t index, bool broken) {
  c.first_member = static_cast<uint32_t>(sc_.members.size());
  for (uint32_t i = 0; i < c.count; ++i) {
    Member mem;
    mem.client = index;
    mem.index = i;
    mem.name = c.is_cohort ? c.name + "[" + std::to_string(i) + "]" : c.name;
    if (c.user) mem.user = ReplaceAll(*c.user, "{i}", std::to_string(i));
    sc_.members.push_back(std::move(mem));
  }
  if (broken) broken_clients.insert(index);
  sc_.clients.push_back(std::move(c));
}

bool Context::Body(const Map& m, std::string& body, std::string& content_type,
                   const std::string& default_type) {
  content_type = default_type;
  if (auto v = m.Get("content_type")) {
    if (auto s = Str(*v, "content_type")) content_type = *s;
  }
  auto raw = m.Get("body_raw");
  auto val = m.Get("body");
  if (raw && val) {
    Error(*m.Key("body_raw"), "give either 'body' or 'body_raw', not both");
    return false;
  }
  if (raw) {
    auto s = Str(*raw, "body_raw");
    if (!s) return false;
    body = *s;
    return true;
  }
  if (!val) return false;
  const std::string ct = content_type.substr(0, content_type.find(';'));
  if (ct == "application/json") {
    if (val->IsScalar()) CheckTemplates(*val, val->Scalar());
    body = YamlToJson(*val).dump();
    return true;
  }
  if (ct == "application/octet-stream") {
    auto b = Base64Bytes(*val, "an application/octet-stream body");
    if (!b) return false;
    body = *b;
    return true;
  }
  auto s = TemplStr(*val, "body");
  if (!s) return false;
  body = *s;
  return true;
}

void Context::TakeModifiers(const Map& m, Modifiers& mods) {
  auto take = [&](std::string_view key, std::optional<Node>& slot) {
    if (auto v = m.Get(key)) {
      if (slot) {
        Error(*m.Key(key), Q(key) + " is given both outside and inside the step");
      } else {
        slot = *v;
      }
    }
  };
  take("as", mods.as);
  take("at", mods.at);
  take("timeout", mods.timeout);
  take("async", mods.async);
  take("case", mods.case_id);
}

std::optional<AckSpec> Context::Ack(const Node& n) {
  AckSpec a;
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s == "auto" || s == "true") {
      a.mode = AckSpec::Mode::kAuto;
      return a;
    }
    if (s == "none" || s == "false") return a;
    if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        })) {
      if (auto v = Uint(n, "ack", 0, UINT64_MAX)) {
        a.mode = AckSpec::Mode::kExplicit;
        a.id = *v;
        return a;
      }
      return std::nullopt;
    }
  }
  Error(n, "expected 'auto', 'none' or an ackId number for ack, got " + Describe(n));
  return std::nullopt;
}

std::optional<Payload> Context::ReadPayload(const Map& m, bool require) {
  Payload p;
  if (auto v = m.Get("data_type")) p.data_type = Enum(*v, "data type", kDataTypes);
  auto data = m.Get("data");
  if (auto v = m.Get("payload_size")) {
    if (auto s = Str(*v, "payload_size")) {
      auto b = ParseByteSize(*s);
      if (b.ok()) {
        p.filler_bytes = *b;
      } else {
        Error(*v, b.error().message);
      }
    }
    if (data) Error(*m.Key("payload_size"), "give either 'data' or 'payload_size', not both");
    p.data = "";
    return p;
  }
  if (!data) {
    if (require) m.Required(*this, "data");
    p.has_data = false;
    return require ? std::nullopt : std::optional<Payload>(p);
  }
  DataType t = p.data_type.value_or(DataType::kJson);
  switch (t) {
    case DataType::kJson:
      if (data->IsScalar()) CheckTemplates(*data, data->Scalar());
      p.data = YamlToJson(*data);
      break;
    case DataType::kText:
      if (auto s = TemplStr(*data, "text data")) p.data = *s;
      break;
    case DataType::kBinary:
    case DataType::kProtobuf:
      if (auto b = Base64Bytes(*data, "binary data")) p.data = data->Scalar();
      break;
  }
  return p;
}

std::optional<std::vector<uint8_t>> Context::ReasonCodes(const Node& n) {
  std::vector<uint8_t> out;
  if (n.IsScalar()) {
    if (auto c = Uint(n, "reason code", 0, 255)) {
      out.push_back(static_cast<uint8_t>(*c));
      return out;
    }
    return std::nullopt;
  }
  if (!n.IsSequence() || n.size() == 0) {
    Error(n, "expected a reason code or a list of reason codes, got " + Describe(n));
    return std::nullopt;
  }
  for (const Node& item : n) {
    if (auto c = Uint(item, "reason code", 0, 255)) out.push_back(static_cast<uint8_t>(*c));
  }
  return out;
}

std::optional<std::vector<int>> Context::Statuses(const Node& n) {
  std::vector<int> out;
  std::vector<Node> items;
  if (n.IsSequence()) {
    for (const Node& item : n) items.push_back(item);
  } else {
    items.push_back(n);
  }
  for (const Node& item : items) {
    if (auto s = Uint(item, "HTTP status", 100, 599)) out.push_back(static_cast<int>(*s));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool Context::ReadWindow(const Map& m, TimeWindow& w) {
  if (auto v = m.Get("after")) w.after_step = StepLabel(*v);
  if (auto v = m.Get("until")) {
    if (!(v->IsScalar() && v->Scalar() == "end")) w.until_step = StepLabel(*v);
  }
  if (auto v = m.Get("within")) w.within_ns = PositiveDuration(*v, "within");
  return true;
}

std::optional<CountSpec> Context::Count(const Node& n) {
  CountSpec c;
  if (n.IsScalar()) {
    if (auto v = Uint(n, "count", 0, UINT64_MAX)) {
      c.exactly = *v;
      return c;
    }
    return std::nullopt;
  }
  Map m(*this, n, "count", {"exactly", "at_least", "at_most"});
  if (!m.ok()) return std::nullopt;
  if (auto v = m.Get("exactly")) c.exactly = Uint(*v, "exactly", 0, UINT64_MAX);
  if (auto v = m.Get("at_least")) c.at_least = Uint(*v, "at_least", 0, UINT64_MAX);
  if (auto v = m.Get("at_most")) c.at_most = Uint(*v, "at_most", 0, UINT64_MAX);
  if (c.empty()) Error(n, "count needs exactly, at_least or at_most");
  if (c.exactly && (c.at_least || c.at_most))
    Error(n, "count: give 'exactly' alone, or at_least/at_most");
  if (c.at_least && c.at_most && *c.at_least > *c.at_most)
    Error(n, "count: at_least is greater than at_most");
  return c;
}

std::optional<NullableString> Context::NullableStr(const Node& n, std::string_view what) {
  if (n.IsNull()) return NullableString{true, ""};
  auto s = Str(n, what);
  if (!s) return std::nullopt;
  return NullableString{false, *s};
}

}  // namespace wpsim::conformance::shape
