// The OData `filter` language of the REST send and group operations (PROTOCOL.md §11.5,
// DOC:reference-odata-filter.md, DOC-INC:filter.ebnf): compile once, evaluate many times.
//
// Theory of operation: ODataFilter::Compile lexes and parses the text into a flat AST (nodes in
// one vector, children by index), then type-checks it. Precedence, loosest first: `or`, `and`,
// comparisons (`eq ne gt ge lt le`, left-associative), `not`, `in`, primaries — so
// `not length(userId) gt 5` is `(not length(userId)) gt 5`, a type error, exactly as the
// documentation warns. Type checking is static and total: every error the Microsoft emulator
// would raise while validating against its empty model ("userId null, connectionId '', no
// groups") is raised here with the same message shape, and so is every error it would only hit
// later during fan-out (e.g. `tolower(userId) gt 1` once a connection has a user id). Hence
// Matches() cannot fail: a filter that compiled evaluates to true or false for every subject.
//
// Evaluation walks the AST with string views into the subject; functions that build strings
// (tolower, concat, ...) write into per-node scratch buffers owned by the filter, so after the
// first few evaluations nothing allocates. Matches() is therefore not reentrant and a filter
// must not be evaluated from two threads at once (wpsim is single-threaded).
//
// Semantics follow the emulator (EMU:ODataFilterExecutor.cs): identifiers userId,
// connectionId, groups, protocol are case-insensitive; keywords and function names are
// case-sensitive; string comparison is ordinal; `eq`/`ne` compare any values (null equals
// null, 1 never equals '1'); `gt ge lt le` need integers and are false when either side is
// null; string functions propagate null (length(null) is null, contains(null,x) is false,
// indexof(null,x) is -1, concat(null,'a') is 'a', substring out of range is null). Lengths and
// indexes count UTF-16 code units like .NET; tolower/toupper map ASCII letters only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace wpsim::protocol::rest {

inline constexpr size_t kFilterLengthMax = 16 * 1024;  // bytes of filter text
inline constexpr size_t kFilterDepthMax = 100;         // nesting, as the emulator's MaxDepth
// Comparisons, `in` and boolean function calls. The docs only say filters "over 100 clauses"
// risk the (undocumented) limit.
inline constexpr size_t kFilterClausesMax = 200;
inline constexpr size_t kFilterNodesMax = 4096;
// Error messages quote at most this much of the filter text.
inline constexpr size_t kFilterQuoteMax = 1024;

// The groups of the connection being tested. Implementations must not allocate.
class FilterGroups {
 public:
  virtual ~FilterGroups() = default;
  virtual bool Contains(std::string_view group) const = 0;
  virtual size_t Count() const = 0;
};

// Groups in a sorted (ordinal) span, e.g. a sorted std::vector<std::string>.
class SortedGroups final : public FilterGroups {
 public:
  explicit SortedGroups(std::span<const std::string> sorted) : sorted_(sorted) {}
  bool Contains(std::string_view group) const override {
    return std::binary_search(sorted_.begin(), sorted_.end(), group,
                              [](std::string_view a, std::string_view b) { return a < b; });
  }
  size_t Count() const override { return sorted_.size(); }

 private:
  std::span<const std::string> sorted_;
};

// Any ordered associative container keyed by std::string with a transparent comparator, such
// as std::set<std::string, std::less<>> or std::map<std::string, T, std::less<>>.
template <typename Container>
class ContainerGroups final : public FilterGroups {
 public:
  explicit ContainerGroups(const Container& groups) : groups_(groups) {}
  bool Contains(std::string_view group) const override {
    return groups_.find(group) != groups_.end();
  }
  size_t Count() const override { return groups_.size(); }

 private:
  const Container& groups_;
};

struct FilterSubject {
  std::string_view connection_id;
  std::optional<std::string_view> user_id;
  std::optional<std::string_view> protocol;  // the negotiated subprotocol (emulator extension)
  const FilterGroups* groups = nullptr;       // nullptr: in no group
};

struct FilterError {
  size_t position = 0;  // byte offset in the filter text where the problem is
  // E.g. "Invalid syntax for 'not length(userId)': Type 'null', expect 'bool'. (Parameter
  // 'filter')" — the shape of the documentation and the emulator.
  std::string message;
};

class FilterCompileResult;

class ODataFilter {
 public:
  // The empty text compiles to a filter that matches every connection (the emulator treats an
  // empty filter as absent).
  static FilterCompileResult Compile(std::string_view text);

  bool Matches(const FilterSubject& subject) const;
  bool matches_all() const { return root_ < 0; }
  size_t node_count() const { return nodes_.size(); }
  size_t clause_count() const { return clauses_; }
  // The filter printed the way the emulator prints tokens in its messages, e.g.
  // "(userId eq 'a') and (not ('g' in groups))".
  std::string ToString() const;

 private:
  friend class FilterParser;
  friend class FilterPrinter;
  enum class Type : uint8_t { kNull, kBool, kInt, kString, kCollection };
  enum class Kind : uint8_t {
    kOr, kAnd, kNot, kCompare, kIn, kList, kLiteral, kIdentifier, kFunction, kUnsupported
  };
  struct Node {
    Kind kind = Kind::kLiteral;
    uint8_t op = 0;  // CompareOp, Identifier or Function, by kind
    Type type = Type::kNull;
    bool nullable = false;         // may be null when evaluated
    bool validation_null = false;  // null in the emulator's validation model
    uint32_t begin = 0, end = 0;   // source span
    uint32_t first_child = 0, child_count = 0;  // into children_
    int64_t int_value = 0;
    bool bool_value = false;
    std::string text;  // string literal value, identifier or function name as written
  };

  struct Value {
    Type type = Type::kNull;
    bool is_null = true;
    bool b = false;
    int64_t i = 0;
    std::string_view s;
  };
  Value Eval(uint32_t index, const FilterSubject& subject) const;
  uint32_t Child(const Node& node, uint32_t k) const { return children_[node.first_child + k]; }

  std::string source_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> children_;
  int32_t root_ = -1;
  size_t clauses_ = 0;
  // One reusable buffer per node for computed strings (see the file comment).
  mutable std::vector<std::string> scratch_;
};

class [[nodiscard]] FilterCompileResult {
 public:
  FilterCompileResult(ODataFilter filter) : v_(std::move(filter)) {}  // NOLINT
  FilterCompileResult(FilterError error) : v_(std::move(error)) {}    // NOLINT
  bool ok() const { return v_.index() == 0; }
  ODataFilter& value() { return std::get<0>(v_); }
  const ODataFilter& value() const { return std::get<0>(v_); }
  const FilterError& error() const { return std::get<1>(v_); }

 private:
  std::variant<ODataFilter, FilterError> v_;
};

}  // namespace wpsim::protocol::rest
