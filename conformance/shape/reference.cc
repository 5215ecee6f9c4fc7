// Generates the reference tables of docs/scenarios.md from the shape tables.
#include "conformance/shape/reference.h"

#include "conformance/shape/expect.h"
#include "conformance/shape/sections.h"
#include "conformance/shape/steps.h"

namespace wpsim::conformance::shape {
namespace {

// A table cell: '|' would end the cell.
std::string Cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\";
    out += c;
  }
  return out;
}

std::string Code(std::string_view s) { return "`" + std::string(s) + "`"; }

std::string KindsText(unsigned kinds) {
  if (kinds == 0) return "all";
  std::string out;
  for (ClientKind k : {ClientKind::kWebSocket, ClientKind::kJson, ClientKind::kReliable,
                       ClientKind::kMqtt311, ClientKind::kMqtt5, ClientKind::kRest,
                       ClientKind::kProtobuf, ClientKind::kReliableProtobuf}) {
    if (kinds & KindBit(k)) out += (out.empty() ? "" : ", ") + Code(ClientKindName(k));
  }
  return out;
}

// "| key | required | type | meaning |" for the fields.
std::string KeyTable(const std::vector<FieldDoc>& fields, bool with_kinds) {
  std::string out = with_kinds ? "| key | clients | type | meaning |\n| --- | --- | --- | --- |\n"
                               : "| key | required | type | meaning |\n| --- | --- | --- | --- |\n";
  for (const FieldDoc& f : fields) {
    std::string second = with_kinds ? KindsText(f.kinds) : (f.required ? "yes" : "no");
    out +=
        "| " + Code(f.key) + " | " + second + " | " + Cell(f.type) + " | " + Cell(f.doc) + " |\n";
  }
  return out;
}

// "`a`, **`b`** (type), ...": the keys of a kind, required ones in bold.
std::string KeyList(const std::vector<FieldDoc>& fields) {
  std::string out;
  for (const FieldDoc& f : fields) {
    std::string key = f.required ? "**" + Code(f.key) + "**" : Code(f.key);
    out += (out.empty() ? "" : ", ") + key + " (" + f.type + ")";
  }
  return out.empty() ? "—" : out;
}

std::string StepKinds() {
  std::string out = "| kind | keys (required in bold) | what it does |\n| --- | --- | --- |\n";
  for (const StepShape& s : AllSteps()) {
    std::string doc = s.doc;
    if (!s.protocol_names.empty()) {
      std::string names;
      for (std::string_view p : s.protocol_names) names += (names.empty() ? "" : ", ") + Code(p);
      doc += " (protocol: " + names + ")";
    }
    out += "| " + Code(s.name) + " | " + Cell(KeyList(s.fields)) + " | " + Cell(doc) + " |\n";
  }
  return out;
}

std::string ExpectationKinds() {
  std::string out = "| kind | keys (required in bold) | passes when |\n| --- | --- | --- |\n";
  for (const ShapeDoc& e : ExpectationDocs()) {
    std::vector<FieldDoc> fields;
    bool matcher = false;
    for (const FieldDoc& f : e.fields) {
      if (f.kinds != 0) {
        matcher = true;  // matcher keys are listed in their own table
        continue;
      }
      fields.push_back(f);
    }
    std::string keys = KeyList(fields);
    if (matcher) keys += ", matcher keys";
    out += "| " + Code(e.name) + " | " + Cell(keys) + " | " + Cell(e.doc) + " |\n";
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> ReferenceTables() {
  std::vector<FieldDoc> clients = DocsOf(ClientTable());
  return {
      {"top-level-keys", KeyTable(DocsOf(RootTable()), false)},
      {"client-keys", KeyTable(clients, true)},
      {"token-keys", KeyTable(DocsOf(TokenTable()), false)},
      {"step-kinds", StepKinds()},
      {"expectation-kinds", ExpectationKinds()},
      {"matcher-keys", KeyTable(MatcherDocs(), true)},
  };
}

Result<std::string> FillGeneratedBlocks(std::string_view doc,
                                        const std::map<std::string, std::string>& blocks) {
  const std::string open = "<!-- generated: ";
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = doc.find(open, pos);
    if (start == std::string_view::npos) break;
    size_t name_end = doc.find(' ', start + open.size());
    size_t line_end = doc.find('\n', start);
    if (name_end == std::string_view::npos || line_end == std::string_view::npos) {
      return MakeError("reference", "unterminated generated-block marker");
    }
    std::string name(doc.substr(start + open.size(), name_end - start - open.size()));
    auto it = blocks.find(name);
    if (it == blocks.end()) return MakeError("reference", "unknown generated block '" + name + "'");
    const std::string close = "<!-- end generated: " + name + " -->";
    size_t end = doc.find(close, line_end);
    if (end == std::string_view::npos)
      return MakeError("reference", "generated block '" + name + "' is not closed");
    out += doc.substr(pos, line_end + 1 - pos);
    out += it->second;
    pos = end;
  }
  out += doc.substr(pos);
  return out;
}

}  // namespace wpsim::conformance::shape
