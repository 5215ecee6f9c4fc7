#include "protocol/rest/odata_filter.h"

#include <array>
#include <cstdint>

#include "base/encoding.h"

namespace wpsim::protocol::rest {
namespace {

enum CompareOp : uint8_t { kEq, kNe, kGt, kGe, kLt, kLe };
constexpr std::array<std::string_view, 6> kCompareNames = {"eq", "ne", "gt", "ge", "lt", "le"};

enum Identifier : uint8_t { kUserId, kConnectionId, kGroups, kProtocol };
constexpr std::array<std::string_view, 4> kIdentifierNames = {"userId", "connectionId", "groups",
                                                              "protocol"};

enum Function : uint8_t {
  kLength,
  kToLower,
  kToUpper,
  kTrim,
  kSubstring,
  kConcat,
  kIndexOf,
  kStartsWith,
  kEndsWith,
  kContains,
  kUnknownFunction,
};
struct FunctionInfo {
  std::string_view name;
  uint32_t min_args;
  uint32_t max_args;
};
constexpr std::array<FunctionInfo, 10> kFunctions = {{
    {"length", 1, 1},
    {"tolower", 1, 1},
    {"toupper", 1, 1},
    {"trim", 1, 1},
    {"substring", 2, 3},
    {"concat", 2, 2},
    {"indexof", 2, 2},
    {"startswith", 2, 2},
    {"endswith", 2, 2},
    {"contains", 2, 2},
}};

constexpr uint8_t kInList = 0;
constexpr uint8_t kInCollection = 1;

bool IsIdentStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// UTF-16 helpers over (assumed valid) UTF-8: .NET measures strings in UTF-16 code units.
bool IsContinuation(char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; }
size_t SequenceLength(char lead) {
  const auto b = static_cast<uint8_t>(lead);
  return b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}
size_t UnitsOf(char lead) { return static_cast<uint8_t>(lead) >= 0xF0 ? 2 : 1; }

int64_t Utf16Length(std::string_view s) {
  int64_t units = 0;
  for (char c : s) {
    if (!IsContinuation(c)) units += static_cast<int64_t>(UnitsOf(c));
  }
  return units;
}

// Byte offset of UTF-16 unit `unit`, or nullopt when it falls inside a surrogate pair.
std::optional<size_t> ByteOffsetOfUnit(std::string_view s, int64_t unit) {
  size_t i = 0;
  int64_t units = 0;
  while (units < unit && i < s.size()) {
    const auto u = static_cast<int64_t>(UnitsOf(s[i]));
    if (units + u > unit) return std::nullopt;
    units += u;
    i += SequenceLength(s[i]);
  }
  if (units != unit) return std::nullopt;
  return std::min(i, s.size());
}

uint32_t DecodeAt(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  const size_t n = SequenceLength(s[i]);
  if (n == 1 || i + n > s.size()) return b0;
  uint32_t cp = b0 & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
  return cp;
}

// .NET char.IsWhiteSpace.
bool IsWhiteSpace(uint32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

std::string_view Trim(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size() && IsWhiteSpace(DecodeAt(s, begin))) begin += SequenceLength(s[begin]);
  size_t end = s.size();
  while (end > begin) {
    size_t lead = end - 1;
    while (lead > begin && IsContinuation(s[lead])) --lead;
    if (!IsWhiteSpace(DecodeAt(s, lead))) break;
    end = lead;
  }
  return s.substr(begin, end - begin);
}

std::string Quote(std::string_view text) {
  if (text.size() <= kFilterQuoteMax) return std::string(text);
  size_t cut = kFilterQuoteMax;
  while (cut > 0 && IsContinuation(text[cut])) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

}  // namespace

// Prints nodes the way the emulator's FilterTokenPrinter prints OData tokens (binary operands
// that are operators are parenthesised, bools print as .NET does: True/False).
class FilterPrinter {
 public:
  using Node = ODataFilter::Node;
  using Kind = ODataFilter::Kind;
  using Type = ODataFilter::Type;

  explicit FilterPrinter(const ODataFilter& filter) : f_(filter), text_(filter.source_) {}

  std::string Print(uint32_t index) const {
    const Node& n = f_.nodes_[index];
    switch (n.kind) {
      case Kind::kOr:
      case Kind::kAnd:
      case Kind::kCompare: {
        const std::string_view op = n.kind == Kind::kOr    ? "or"
                                    : n.kind == Kind::kAnd ? "and"
                                                           : kCompareNames[n.op];
        return Wrap(f_.Child(n, 0)) + " " + std::string(op) + " " + Wrap(f_.Child(n, 1));
      }
      case Kind::kNot:
        return "not " + Wrap(f_.Child(n, 0));
      case Kind::kIn:
        return Print(f_.Child(n, 0)) + " in " + Print(f_.Child(n, 1));
      case Kind::kList:
        return std::string(text_.substr(n.begin, n.end - n.begin));
      case Kind::kLiteral:
        switch (n.type) {
          case Type::kNull:
            return "null";
          case Type::kBool:
            return n.bool_value ? "True" : "False";  // .NET bool.ToString()
          case Type::kInt:
            return std::to_string(n.int_value);
          default:
            // The emulator prints a string that looks like a parenthesised list verbatim.
            if (n.text.size() > 2 && n.text.front() == '(' && n.text.back() == ')') return n.text;
            return "'" + n.text + "'";
        }
      case Kind::kIdentifier:
      case Kind::kUnsupported:
        return n.text;
      case Kind::kFunction: {
        std::string out = n.text + "(";
        for (uint32_t k = 0; k < n.child_count; ++k) {
          if (k != 0) out.push_back(',');
          out += Print(f_.Child(n, k));
        }
        return out + ")";
      }
    }
    return {};
  }

 private:
  std::string Wrap(uint32_t index) const {
    const Kind kind = f_.nodes_[index].kind;
    const bool wrap = kind == Kind::kOr || kind == Kind::kAnd || kind == Kind::kCompare ||
                      kind == Kind::kNot || kind == Kind::kIn;
    return wrap ? "(" + Print(index) + ")" : Print(index);
  }

  const ODataFilter& f_;
  std::string_view text_;
};

// Lexer, recursive-descent parser and type checker. One instance compiles one filter.
class FilterParser {
 public:
  using Node = ODataFilter::Node;
  using Kind = ODataFilter::Kind;
  using Type = ODataFilter::Type;

  explicit FilterParser(ODataFilter& filter) : f_(filter), text_(filter.source_) {}

  std::optional<FilterError> Run() {
    if (text_.size() > kFilterLengthMax) {
      return Error(0, "The filter is longer than " + std::to_string(kFilterLengthMax) + " bytes.");
    }
    if (!IsValidUtf8(text_)) return Error(0, "The filter is not valid UTF-8.");
    Next();
    const int32_t root = ParseOr();
    if (error_) return error_;
    if (token_.kind != Tok::kEnd) {
      return Error(token_.begin,
                   "Syntax error at position " + std::to_string(token_.begin) + " in '" +
                       Quote(text_) + "'.");
    }
    if (!Check(static_cast<uint32_t>(root), -1)) return error_;
    if (!ExpectBool(static_cast<uint32_t>(root), root)) return error_;
    f_.root_ = root;
    f_.scratch_.resize(f_.nodes_.size());
    return std::nullopt;
  }

 private:
  std::string Print(uint32_t index) const { return FilterPrinter(f_).Print(index); }

  enum class Tok { kEnd, kLParen, kRParen, kComma, kString, kInt, kIdent };
  struct Token {
    Tok kind = Tok::kEnd;
    uint32_t begin = 0, end = 0;
    std::string text;  // string value (unescaped) or identifier
    int64_t value = 0;
    bool overflow = false;  // integer outside int32
  };

  // ---- errors ----
  FilterError Error(size_t position, std::string detail) const {
    return FilterError{position, "Invalid syntax for '" + Quote(text_) + "': " + detail +
                                     " (Parameter 'filter')"};
  }
  void SyntaxError(size_t position, std::string detail) {
    if (!error_) error_ = Error(position, std::move(detail));
  }
  std::string At(size_t position) const {
    return " at position " + std::to_string(position) + " in '" + Quote(text_) + "'.";
  }
  // A semantic error reported the way the emulator does: in the context of the token whose
  // visitor raised or caught it (`context` < 0: the whole filter text).
  bool Fail(int32_t context, size_t position, const std::string& detail) {
    const std::string where =
        context < 0 ? Quote(text_) : Quote(Print(static_cast<uint32_t>(context)));
    error_ = FilterError{position,
                         "Invalid syntax for '" + where + "': " + detail + " (Parameter 'filter')"};
    return false;
  }
  bool failed() const { return error_.has_value(); }

  // ---- lexer ----
  void Next() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
    token_ = Token();
    token_.begin = static_cast<uint32_t>(pos_);
    if (pos_ >= text_.size()) {
      token_.end = token_.begin;
      return;
    }
    const char c = text_[pos_];
    if (c == '(' || c == ')' || c == ',') {
      token_.kind = c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : Tok::kComma;
      ++pos_;
    } else if (c == '\'') {
      token_.kind = Tok::kString;
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) {
          SyntaxError(token_.begin, "Unterminated string literal" + At(token_.begin));
          token_.kind = Tok::kEnd;
          return;
        }
        if (text_[pos_] == '\'') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\'') {
            token_.text.push_back('\'');
            pos_ += 2;
            continue;
          }
          ++pos_;
          break;
        }
        token_.text.push_back(text_[pos_++]);
      }
    } else if (IsDigit(c) || ((c == '+' || c == '-') && pos_ + 1 < text_.size() &&
                              IsDigit(text_[pos_ + 1]))) {
      token_.kind = Tok::kInt;
      const bool negative = c == '-';
      if (!IsDigit(c)) ++pos_;
      int64_t value = 0;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) {
        if (value <= INT64_MAX / 100) value = value * 10 + (text_[pos_] - '0');
        else token_.overflow = true;
        ++pos_;
      }
      token_.value = negative ? -value : value;
      if (token_.value > INT32_MAX || token_.value < INT32_MIN) token_.overflow = true;
      token_.text = std::string(text_.substr(token_.begin, pos_ - token_.begin));
    } else if (IsIdentStart(c)) {
      token_.kind = Tok::kIdent;
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      token_.text = std::string(text_.substr(token_.begin, pos_ - token_.begin));
    } else {
      const size_t n = std::min(SequenceLength(c), text_.size() - pos_);
      SyntaxError(pos_, "Syntax error: character '" + std::string(text_.substr(pos_, n)) +
                            "' is not valid" + At(pos_));
      token_.kind = Tok::kEnd;
      return;
    }
    token_.end = static_cast<uint32_t>(pos_);
  }
  bool IsKeyword(std::string_view word) const {
    return token_.kind == Tok::kIdent && token_.text == word;
  }

  // ---- AST construction ----
  int32_t Add(Node node, std::initializer_list<int32_t> children) {
    std::vector<int32_t> list(children);
    return Add(std::move(node), list);
  }
  int32_t Add(Node node, const std::vector<int32_t>& children) {
    if (f_.nodes_.size() >= kFilterNodesMax) {
      SyntaxError(node.begin, "The filter has more than " + std::to_string(kFilterNodesMax) +
                                  " terms.");
      return -1;
    }
    node.first_child = static_cast<uint32_t>(f_.children_.size());
    node.child_count = static_cast<uint32_t>(children.size());
    for (int32_t child : children) f_.children_.push_back(static_cast<uint32_t>(child));
    f_.nodes_.push_back(std::move(node));
    return static_cast<int32_t>(f_.nodes_.size() - 1);
  }
  void CountClause(size_t position) {
    if (++f_.clauses_ > kFilterClausesMax) {
      SyntaxError(position,
                  "The filter has more than " + std::to_string(kFilterClausesMax) + " clauses.");
    }
  }
  // `and`/`or` chains of literals contain no clauses; bounding the operators too keeps the
  // tree (and the recursion of checking, printing and evaluating it) shallow.
  void CountLogical(size_t position) {
    if (++logical_ > kFilterClausesMax) {
      SyntaxError(position,
                  "The filter has more than " + std::to_string(kFilterClausesMax) + " clauses.");
    }
  }
  bool Enter(size_t position) {
    if (++depth_ > kFilterDepthMax) {
      SyntaxError(position, "The filter is nested more than " + std::to_string(kFilterDepthMax) +
                                " levels deep.");
      return false;
    }
    return true;
  }
  Node Binary(Kind kind, uint8_t op, int32_t left, int32_t right) const {
    Node n;
    n.kind = kind;
    n.op = op;
    n.begin = f_.nodes_[static_cast<size_t>(left)].begin;
    n.end = f_.nodes_[static_cast<size_t>(right)].end;
    return n;
  }

  // ---- parser (precedence loosest first: or, and, comparison, not, in, primary) ----
  int32_t ParseOr() {
    int32_t left = ParseAnd();
    while (!failed() && IsKeyword("or")) {
      Next();
      const int32_t right = ParseAnd();
      if (failed()) return -1;
      CountLogical(f_.nodes_[static_cast<size_t>(right)].begin);
      left = Add(Binary(Kind::kOr, 0, left, right), {left, right});
    }
    return failed() ? -1 : left;
  }

  int32_t ParseAnd() {
    int32_t left = ParseComparison();
    while (!failed() && IsKeyword("and")) {
      Next();
      const int32_t right = ParseComparison();
      if (failed()) return -1;
      CountLogical(f_.nodes_[static_cast<size_t>(right)].begin);
      left = Add(Binary(Kind::kAnd, 0, left, right), {left, right});
    }
    return failed() ? -1 : left;
  }

  int32_t ParseComparison() {
    int32_t left = ParseUnary();
    while (!failed() && token_.kind == Tok::kIdent) {
      const auto it = std::find(kCompareNames.begin(), kCompareNames.end(), token_.text);
      if (it == kCompareNames.end()) break;
      const size_t at = token_.begin;
      Next();
      const int32_t right = ParseUnary();
      if (failed()) return -1;
      CountClause(at);
      left = Add(Binary(Kind::kCompare, static_cast<uint8_t>(it - kCompareNames.begin()), left,
                        right),
                 {left, right});
    }
    return failed() ? -1 : left;
  }

  int32_t ParseUnary() {
    if (!IsKeyword("not")) return ParseIn();
    const uint32_t begin = token_.begin;
    if (!Enter(begin)) return -1;
    Next();
    const int32_t operand = ParseUnary();
    --depth_;
    if (failed()) return -1;
    Node n;
    n.kind = Kind::kNot;
    n.begin = begin;
    n.end = f_.nodes_[static_cast<size_t>(operand)].end;
    return Add(std::move(n), {operand});
  }

  int32_t ParseIn() {
    int32_t left = ParsePrimary();
    while (!failed() && IsKeyword("in")) {
      const size_t at = token_.begin;
      Next();
      const int32_t right = token_.kind == Tok::kLParen ? ParseList() : ParsePrimary();
      if (failed()) return -1;
      CountClause(at);
      left = Add(Binary(Kind::kIn, kInList, left, right), {left, right});
    }
    return failed() ? -1 : left;
  }

  // '(' expr (',' expr)* ')' after `in`; a single collection item is resolved in Check.
  int32_t ParseList() {
    const uint32_t begin = token_.begin;
    if (!Enter(begin)) return -1;
    Next();
    std::vector<int32_t> items;
    while (true) {
      const int32_t item = ParseOr();
      if (failed()) return -1;
      items.push_back(item);
      if (token_.kind == Tok::kComma) {
        Next();
        continue;
      }
      if (token_.kind != Tok::kRParen) {
        SyntaxError(token_.begin, "')' or ',' expected" + At(token_.begin));
        return -1;
      }
      break;
    }
    --depth_;
    Node n;
    n.kind = Kind::kList;
    n.begin = begin;
    n.end = token_.end;
    Next();
    return Add(std::move(n), items);
  }

  int32_t ParsePrimary() {
    if (failed()) return -1;
    switch (token_.kind) {
      case Tok::kLParen: {
        if (!Enter(token_.begin)) return -1;
        Next();
        const int32_t inner = ParseOr();
        if (failed()) return -1;
        if (token_.kind != Tok::kRParen) {
          SyntaxError(token_.begin, "')' or operator expected" + At(token_.begin));
          return -1;
        }
        --depth_;
        Next();
        return inner;
      }
      case Tok::kString: {
        Node n;
        n.kind = Kind::kLiteral;
        n.type = Type::kString;
        n.text = std::move(token_.text);
        n.begin = token_.begin;
        n.end = token_.end;
        Next();
        return Add(std::move(n), {});
      }
      case Tok::kInt: {
        Node n;
        n.kind = token_.overflow ? Kind::kUnsupported : Kind::kLiteral;
        n.type = Type::kInt;
        n.int_value = token_.value;
        n.text = std::move(token_.text);
        n.begin = token_.begin;
        n.end = token_.end;
        Next();
        return Add(std::move(n), {});
      }
      case Tok::kIdent:
        return ParseNameOrCall();
      default:
        SyntaxError(token_.begin, "Expression expected" + At(token_.begin));
        return -1;
    }
  }

  int32_t ParseNameOrCall() {
    Node n;
    n.text = token_.text;
    n.begin = token_.begin;
    n.end = token_.end;
    static constexpr std::array<std::string_view, 10> kReserved = {
        "and", "or", "not", "in", "eq", "ne", "gt", "ge", "lt", "le"};
    if (std::find(kReserved.begin(), kReserved.end(), n.text) != kReserved.end()) {
      SyntaxError(token_.begin, "Expression expected" + At(token_.begin));
      return -1;
    }
    Next();
    if (token_.kind == Tok::kLParen) {
      if (!Enter(n.begin)) return -1;
      n.kind = Kind::kFunction;
      n.op = kUnknownFunction;
      for (size_t k = 0; k < kFunctions.size(); ++k) {
        if (kFunctions[k].name == n.text) n.op = static_cast<uint8_t>(k);
      }
      if (n.op == kStartsWith || n.op == kEndsWith || n.op == kContains) CountClause(n.begin);
      Next();
      std::vector<int32_t> args;
      if (token_.kind != Tok::kRParen) {
        while (true) {
          const int32_t arg = ParseOr();
          if (failed()) return -1;
          args.push_back(arg);
          if (token_.kind == Tok::kComma) {
            Next();
            continue;
          }
          break;
        }
      }
      if (token_.kind != Tok::kRParen) {
        SyntaxError(token_.begin, "')' or ',' expected" + At(token_.begin));
        return -1;
      }
      --depth_;
      n.end = token_.end;
      Next();
      return Add(std::move(n), args);
    }
    if (n.text == "null" || n.text == "true" || n.text == "false") {
      n.kind = Kind::kLiteral;
      n.type = n.text == "null" ? Type::kNull : Type::kBool;
      n.nullable = n.validation_null = n.text == "null";
      n.bool_value = n.text == "true";
      return Add(std::move(n), {});
    }
    n.kind = Kind::kUnsupported;
    for (size_t k = 0; k < kIdentifierNames.size(); ++k) {
      if (EqualsIgnoreCase(kIdentifierNames[k], n.text)) {
        n.kind = Kind::kIdentifier;
        n.op = static_cast<uint8_t>(k);
        n.type = k == kGroups ? Type::kCollection : Type::kString;
        n.nullable = n.validation_null = k == kUserId || k == kProtocol;
      }
    }
    return Add(std::move(n), {});
  }

  // ---- type checker ----
  static std::string_view TypeName(Type type) {
    switch (type) {
      case Type::kNull:
        return "null";
      case Type::kBool:
        return "bool";
      case Type::kInt:
        return "int";
      case Type::kString:
        return "string";
      case Type::kCollection:
        return "collection";
    }
    return "null";
  }
  // The type the emulator sees for `n` in its validation model, where a null user id is a
  // null *string* but a function of it is the null type.
  std::string_view ValidationTypeName(const Node& n) const {
    if (n.validation_null) return n.kind == Kind::kIdentifier ? "string" : "null";
    return TypeName(n.type);
  }
  std::string Expect(std::string_view actual, std::string_view expected) const {
    return "Type '" + std::string(actual) + "', expect '" + std::string(expected) + "'.";
  }
  const Node& N(uint32_t index) const { return f_.nodes_[index]; }

  bool ExpectBool(uint32_t index, int32_t context) {
    const Node& n = N(index);
    if (n.type == Type::kBool) return true;
    return Fail(context, n.begin, Expect(ValidationTypeName(n), "bool"));
  }
  // Operand of gt/ge/lt/le: an integer, possibly null.
  bool ExpectComparable(uint32_t index, int32_t context) {
    const Node& n = N(index);
    if (n.type == Type::kInt || n.type == Type::kNull) return true;
    return Fail(context, n.begin, Expect(TypeName(n.type), "int"));
  }
  // substring's start and length: an integer that is never null.
  bool ExpectInt(uint32_t index, int32_t context) {
    const Node& n = N(index);
    if (n.type == Type::kInt && !n.nullable) return true;
    const bool null = n.type == Type::kNull || (n.type == Type::kInt && n.nullable);
    return Fail(context, n.begin, Expect(null ? "null" : TypeName(n.type), "int"));
  }
  // A string argument; null is fine (functions propagate it).
  bool ExpectString(uint32_t index, int32_t context) {
    const Node& n = N(index);
    if (n.type == Type::kString || n.type == Type::kNull) return true;
    return Fail(context, n.begin, Expect(TypeName(n.type), "string"));
  }
  static bool MaybeNull(const Node& n) { return n.nullable || n.type == Type::kNull; }

  // Checks children first, left to right, then the node itself: the order in which the
  // emulator's visitor would meet the problems. `context` is the nearest enclosing node whose
  // visitor catches "not supported" errors (binary operators, `in`, functions).
  bool Check(uint32_t index, int32_t context) {
    Node& node = f_.nodes_[index];
    const auto self = static_cast<int32_t>(index);
    const uint32_t count = node.child_count;
    auto child = [&](uint32_t k) { return f_.Child(f_.nodes_[index], k); };
    switch (node.kind) {
      case Kind::kLiteral:
      case Kind::kIdentifier:
        return true;
      case Kind::kUnsupported:
        return Fail(context, node.begin, "Token '" + node.text + "' is not supported.");
      case Kind::kList:  // checked by its `in`
        return true;
      case Kind::kOr:
      case Kind::kAnd:
        if (!Check(child(0), self) || !Check(child(1), self)) return false;
        if (!ExpectBool(child(0), self) || !ExpectBool(child(1), self)) return false;
        f_.nodes_[index].type = Type::kBool;
        return true;
      case Kind::kNot:
        if (!Check(child(0), context) || !ExpectBool(child(0), self)) return false;
        f_.nodes_[index].type = Type::kBool;
        return true;
      case Kind::kCompare: {
        if (!Check(child(0), self) || !Check(child(1), self)) return false;
        const uint8_t op = N(index).op;
        if (op != kEq && op != kNe && N(child(0)).type != Type::kNull &&
            N(child(1)).type != Type::kNull) {
          if (!ExpectComparable(child(0), self) || !ExpectComparable(child(1), self)) return false;
        }
        f_.nodes_[index].type = Type::kBool;
        return true;
      }
      case Kind::kIn: {
        if (!Check(child(0), self)) return false;
        const uint32_t right = child(1);
        if (N(right).kind == Kind::kList) {
          const uint32_t items = N(right).child_count;
          for (uint32_t k = 0; k < items; ++k) {
            if (!Check(f_.Child(N(right), k), self)) return false;
          }
          if (items == 1 && N(f_.Child(N(right), 0)).type == Type::kCollection) {
            f_.nodes_[index].op = kInCollection;
          }
        } else {
          if (!Check(right, self)) return false;
          if (N(right).type != Type::kCollection) {
            return Fail(self, N(right).begin, "Invalid token '" + Print(right) + "'.");
          }
          f_.nodes_[index].op = kInCollection;
        }
        f_.nodes_[index].type = Type::kBool;
        return true;
      }
      case Kind::kFunction:
        return CheckFunction(index, self, count);
    }
    return true;
  }

  bool CheckFunction(uint32_t index, int32_t self, uint32_t count) {
    const uint8_t fn = N(index).op;
    if (fn == kUnknownFunction) {
      return Fail(self, N(index).begin, "Token '" + Print(index) + "' is not supported.");
    }
    if (count < kFunctions[fn].min_args || count > kFunctions[fn].max_args) {
      return Fail(self, N(index).begin, "Invalid token '" + Print(index) + "'.");
    }
    auto arg = [&](uint32_t k) { return f_.Child(N(index), k); };
    for (uint32_t k = 0; k < count; ++k) {
      if (!Check(arg(k), self)) return false;
    }
    Type type = Type::kString;
    bool nullable = false;
    bool validation_null = false;
    switch (fn) {
      case kLength: {
        const Node& a = N(arg(0));
        if (a.type != Type::kString && a.type != Type::kNull && a.type != Type::kCollection) {
          return Fail(self, N(index).begin, "Invalid token '" + Print(index) + "'.");
        }
        type = Type::kInt;
        nullable = MaybeNull(a);
        validation_null = a.validation_null;
        break;
      }
      case kToLower:
      case kToUpper:
      case kTrim:
        if (!ExpectString(arg(0), self)) return false;
        nullable = MaybeNull(N(arg(0)));
        validation_null = N(arg(0)).validation_null;
        break;
      case kSubstring:
        if (!ExpectInt(arg(1), self)) return false;
        if (count == 3 && !ExpectInt(arg(2), self)) return false;
        if (!ExpectString(arg(0), self)) return false;
        nullable = true;  // out of range gives null
        validation_null = N(arg(0)).validation_null;
        break;
      case kConcat:
        if (!ExpectString(arg(0), self) || !ExpectString(arg(1), self)) return false;
        nullable = MaybeNull(N(arg(0))) && MaybeNull(N(arg(1)));
        validation_null = N(arg(0)).validation_null && N(arg(1)).validation_null;
        break;
      case kIndexOf:
        if (!ExpectString(arg(0), self) || !ExpectString(arg(1), self)) return false;
        type = Type::kInt;
        break;
      default:  // startswith, endswith, contains
        if (!ExpectString(arg(0), self) || !ExpectString(arg(1), self)) return false;
        type = Type::kBool;
        break;
    }
    Node& n = f_.nodes_[index];
    n.type = type;
    n.nullable = nullable;
    n.validation_null = validation_null;
    return true;
  }

  ODataFilter& f_;
  std::string_view text_;
  size_t pos_ = 0;
  Token token_;
  size_t depth_ = 0;
  size_t logical_ = 0;
  std::optional<FilterError> error_;
};

FilterCompileResult ODataFilter::Compile(std::string_view text) {
  ODataFilter filter;
  if (text.empty()) return filter;
  filter.source_ = std::string(text);
  FilterParser parser(filter);
  if (std::optional<FilterError> error = parser.Run()) return std::move(*error);
  return filter;
}

std::string ODataFilter::ToString() const {
  if (root_ < 0) return {};
  return FilterPrinter(*this).Print(static_cast<uint32_t>(root_));
}

bool ODataFilter::Matches(const FilterSubject& subject) const {
  if (root_ < 0) return true;
  return Eval(static_cast<uint32_t>(root_), subject).b;
}

ODataFilter::Value ODataFilter::Eval(uint32_t index, const FilterSubject& subject) const {
  const Node& n = nodes_[index];
  auto boolean = [](bool b) {
    Value v;
    v.type = Type::kBool;
    v.is_null = false;
    v.b = b;
    return v;
  };
  auto integer = [](int64_t i) {
    Value v;
    v.type = Type::kInt;
    v.is_null = false;
    v.i = i;
    return v;
  };
  auto string = [](std::string_view s) {
    Value v;
    v.type = Type::kString;
    v.is_null = false;
    v.s = s;
    return v;
  };
  auto equal = [](const Value& a, const Value& b) {
    if (a.is_null || b.is_null) return a.is_null && b.is_null;
    if (a.type != b.type) return false;
    switch (a.type) {
      case Type::kBool:
        return a.b == b.b;
      case Type::kInt:
        return a.i == b.i;
      case Type::kString:
        return a.s == b.s;
      default:
        return true;  // the subject's one collection equals itself
    }
  };

  switch (n.kind) {
    case Kind::kLiteral:
      switch (n.type) {
        case Type::kBool:
          return boolean(n.bool_value);
        case Type::kInt:
          return integer(n.int_value);
        case Type::kString:
          return string(n.text);
        default:
          return Value();
      }
    case Kind::kIdentifier: {
      Value v;
      switch (n.op) {
        case kUserId:
          v.type = Type::kString;
          if (subject.user_id) v = string(*subject.user_id);
          return v;
        case kConnectionId:
          return string(subject.connection_id);
        case kProtocol:
          v.type = Type::kString;
          if (subject.protocol) v = string(*subject.protocol);
          return v;
        default:
          v.type = Type::kCollection;
          v.is_null = false;
          return v;
      }
    }
    case Kind::kOr:
      return boolean(Eval(Child(n, 0), subject).b || Eval(Child(n, 1), subject).b);
    case Kind::kAnd:
      return boolean(Eval(Child(n, 0), subject).b && Eval(Child(n, 1), subject).b);
    case Kind::kNot:
      return boolean(!Eval(Child(n, 0), subject).b);
    case Kind::kCompare: {
      const Value a = Eval(Child(n, 0), subject);
      const Value b = Eval(Child(n, 1), subject);
      switch (n.op) {
        case kEq:
          return boolean(equal(a, b));
        case kNe:
          return boolean(!equal(a, b));
        default:
          if (a.is_null || b.is_null) return boolean(false);
          if (n.op == kGt) return boolean(a.i > b.i);
          if (n.op == kGe) return boolean(a.i >= b.i);
          if (n.op == kLt) return boolean(a.i < b.i);
          return boolean(a.i <= b.i);
      }
    }
    case Kind::kIn: {
      const Value left = Eval(Child(n, 0), subject);
      if (n.op == kInCollection) {
        if (left.type != Type::kString || left.is_null || subject.groups == nullptr) {
          return boolean(false);
        }
        return boolean(subject.groups->Contains(left.s));
      }
      const Node& list = nodes_[Child(n, 1)];
      for (uint32_t k = 0; k < list.child_count; ++k) {
        if (equal(left, Eval(Child(list, k), subject))) return boolean(true);
      }
      return boolean(false);
    }
    case Kind::kFunction:
      break;
    default:
      return Value();
  }

  // Functions.
  std::string& scratch = scratch_[index];
  const Value a = Eval(Child(n, 0), subject);
  switch (n.op) {
    case kLength:
      if (a.type == Type::kCollection) {
        return integer(subject.groups == nullptr ? 0 : static_cast<int64_t>(subject.groups->Count()));
      }
      if (a.is_null) return Value();
      return integer(Utf16Length(a.s));
    case kToLower:
    case kToUpper: {
      if (a.is_null) return Value();
      scratch.assign(a.s);
      const bool lower = n.op == kToLower;
      for (char& c : scratch) {
        if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      return string(scratch);
    }
    case kTrim:
      if (a.is_null) return Value();
      return string(Trim(a.s));
    case kSubstring: {
      const int64_t start = Eval(Child(n, 1), subject).i;
      std::optional<int64_t> length;
      if (n.child_count == 3) length = Eval(Child(n, 2), subject).i;
      if (a.is_null) return Value();
      const int64_t units = Utf16Length(a.s);
      if (start < 0 || start > units || (length && (*length < 0 || *length > units - start))) {
        return Value();
      }
      const std::optional<size_t> from = ByteOffsetOfUnit(a.s, start);
      const std::optional<size_t> to = ByteOffsetOfUnit(a.s, length ? start + *length : units);
      if (!from || !to) return Value();  // would split a surrogate pair
      return string(a.s.substr(*from, *to - *from));
    }
    default:
      break;
  }
  const Value b = Eval(Child(n, 1), subject);
  switch (n.op) {
    case kConcat:
      if (a.is_null && b.is_null) return Value();
      if (a.is_null) return string(b.s);
      if (b.is_null) return string(a.s);
      scratch.assign(a.s);
      scratch.append(b.s);
      return string(scratch);
    case kIndexOf: {
      if (a.is_null || b.is_null) return integer(-1);
      const size_t at = a.s.find(b.s);
      if (at == std::string_view::npos) return integer(-1);
      return integer(Utf16Length(a.s.substr(0, at)));
    }
    case kStartsWith:
      return boolean(!a.is_null && !b.is_null && a.s.starts_with(b.s));
    case kEndsWith:
      return boolean(!a.is_null && !b.is_null && a.s.ends_with(b.s));
    default:  // contains
      return boolean(!a.is_null && !b.is_null && a.s.find(b.s) != std::string_view::npos);
  }
}

}  // namespace wpsim::protocol::rest
