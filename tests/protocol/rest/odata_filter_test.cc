// The OData filter language (PROTOCOL.md §11.5; case IDs FILTER-001.. in docs/conformance.md).
// Examples are those of DOC:reference-odata-filter.md unless said otherwise.
#include "protocol/rest/odata_filter.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <new>
#include <set>
#include <string>
#include <vector>

namespace {
size_t g_allocations = 0;
}  // namespace

// Counts heap allocations so tests can pin "evaluation does not allocate".
void* operator new(size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // malloc-backed operator new above
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace wpsim::protocol::rest {
namespace {

// A connection for tests: groups kept sorted.
struct Conn {
  std::string connection_id = "conn1";
  std::optional<std::string> user_id;
  std::optional<std::string> protocol;
  std::vector<std::string> groups;

  bool Eval(const ODataFilter& filter) const {
    std::vector<std::string> sorted = groups;
    std::sort(sorted.begin(), sorted.end());
    SortedGroups group_set(sorted);
    FilterSubject subject;
    subject.connection_id = connection_id;
    if (user_id) subject.user_id = *user_id;
    if (protocol) subject.protocol = *protocol;
    subject.groups = &group_set;
    return filter.Matches(subject);
  }
};

Conn User(std::string user, std::vector<std::string> groups = {}) {
  Conn c;
  c.user_id = std::move(user);
  c.groups = std::move(groups);
  return c;
}
Conn Anonymous(std::vector<std::string> groups = {}) {
  Conn c;
  c.groups = std::move(groups);
  return c;
}

ODataFilter Compile(std::string_view text) {
  FilterCompileResult result = ODataFilter::Compile(text);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? std::move(result.value()) : ODataFilter();
}

bool Eval(std::string_view text, const Conn& conn) { return conn.Eval(Compile(text)); }

FilterError CompileError(std::string_view text) {
  FilterCompileResult result = ODataFilter::Compile(text);
  EXPECT_FALSE(result.ok()) << text;
  return result.ok() ? FilterError{} : result.error();
}
std::string ErrorMessage(std::string_view text) { return CompileError(text).message; }

TEST(ODataFilterExamples, SendToMultipleGroups) {  // FILTER-001
  const char* f = "'group1' in groups or 'group2' in groups or 'group3' in groups";
  EXPECT_TRUE(Eval(f, Anonymous({"group2"})));
  EXPECT_TRUE(Eval(f, Anonymous({"x", "group3"})));
  EXPECT_FALSE(Eval(f, Anonymous({"group4"})));
  EXPECT_FALSE(Eval(f, Anonymous()));
}

TEST(ODataFilterExamples, SendToSomeUsersInAGroup) {  // FILTER-001
  const char* f = "userId in ('user1', 'user2', 'user3') and 'group1' in groups";
  EXPECT_TRUE(Eval(f, User("user2", {"group1"})));
  EXPECT_FALSE(Eval(f, User("user2", {"group2"})));
  EXPECT_FALSE(Eval(f, User("user4", {"group1"})));
  EXPECT_FALSE(Eval(f, Anonymous({"group1"})));
}

TEST(ODataFilterExamples, SendToAUserButNotOneConnection) {  // FILTER-001
  const char* f = "userId eq 'user1' and connectionId ne '123'";
  Conn c = User("user1");
  EXPECT_TRUE(Eval(f, c));
  c.connection_id = "123";
  EXPECT_FALSE(Eval(f, c));
}

TEST(ODataFilterExamples, SendToAUserNotInAGroup) {  // FILTER-001
  const char* f = "userId eq 'user1' and (not ('group1' in groups))";
  EXPECT_TRUE(Eval(f, User("user1", {"group2"})));
  EXPECT_FALSE(Eval(f, User("user1", {"group1"})));
}

TEST(ODataFilterExamples, EscapesQuotesByDoubling) {  // FILTER-001
  EXPECT_TRUE(Eval("userId eq 'user''1'", User("user'1")));
  EXPECT_FALSE(Eval("userId eq 'user''1'", User("user1")));
  EXPECT_TRUE(Eval("userId eq ''''", User("'")));
  EXPECT_TRUE(Eval("userId ne ''", User("x")));
}

TEST(ODataFilterOperators, TableExamplesFromTheDocs) {  // FILTER-002
  Conn long_user = User("abcdefghijkl");
  Conn short_user = User("ab");
  EXPECT_TRUE(Eval("length(userId) le 10 and length(userId) gt 3", User("abcd")));
  EXPECT_FALSE(Eval("length(userId) le 10 and length(userId) gt 3", long_user));
  EXPECT_TRUE(Eval("length(userId) gt 10 or length(userId) le 3", long_user));
  EXPECT_TRUE(Eval("length(userId) gt 10 or length(userId) le 3", short_user));
  EXPECT_TRUE(Eval("not endswith(userId, 'milk')", User("cookie")));
  EXPECT_FALSE(Eval("not endswith(userId, 'milk')", User("oatmilk")));
  EXPECT_TRUE(Eval("userId eq null", Anonymous()));
  EXPECT_FALSE(Eval("userId eq null", User("u")));
  EXPECT_TRUE(Eval("userId ne null", User("u")));
  EXPECT_TRUE(Eval("length(userId) ge 10", User("0123456789")));
  EXPECT_TRUE(Eval("length(userId) lt 3", short_user));
  EXPECT_TRUE(Eval("userId eq 'user1' or (not (startswith(userId,'user2')))", User("x")));
  EXPECT_FALSE(Eval("userId eq 'user1' or (not (startswith(userId,'user2')))", User("user2a")));
}

TEST(ODataFilterOperators, ComparisonsWithNullAreFalseExceptEquality) {  // FILTER-002
  Conn anon = Anonymous();
  EXPECT_FALSE(Eval("length(userId) gt 5", anon));
  EXPECT_FALSE(Eval("length(userId) le 5", anon));
  EXPECT_TRUE(Eval("length(userId) eq null", anon));
  EXPECT_FALSE(Eval("null gt 1", anon));
  EXPECT_TRUE(Eval("null eq null", anon));
  EXPECT_FALSE(Eval("1 eq '1'", anon));  // values of different types are never equal
  EXPECT_TRUE(Eval("true eq startswith(connectionId, 'conn')", anon));
  EXPECT_TRUE(Eval("-5 lt +3 and -2147483648 lt 2147483647", anon));
}

TEST(ODataFilterPrecedence, AndBindsTighterThanOr) {  // FILTER-003
  const ODataFilter implicit = Compile(
      "length(userId) gt 0 and length(userId) lt 3 or length(userId) gt 7 and length(userId) lt 10");
  const ODataFilter expl = Compile(
      "((length(userId) gt 0) and (length(userId) lt 3)) or ((length(userId) gt 7) and "
      "(length(userId) lt 10))");
  EXPECT_EQ(implicit.ToString(), expl.ToString());
  for (int n = 0; n < 12; ++n) {
    const Conn c = User(std::string(static_cast<size_t>(n), 'u'));
    EXPECT_EQ(c.Eval(implicit), c.Eval(expl)) << n;
    EXPECT_EQ(c.Eval(implicit), (n > 0 && n < 3) || (n > 7 && n < 10)) << n;
  }
}

TEST(ODataFilterPrecedence, NotBindsTighterThanComparisons) {  // FILTER-003
  EXPECT_EQ(ErrorMessage("not length(userId) gt 5"),
            "Invalid syntax for 'not length(userId)': Type 'null', expect 'bool'. (Parameter "
            "'filter')");
  EXPECT_TRUE(Eval("not (length(userId) gt 5)", User("abc")));
  EXPECT_FALSE(Eval("not (length(userId) gt 5)", User("abcdefg")));
  // `in` binds tighter than `not`.
  EXPECT_EQ(Compile("not 'g' in groups").ToString(), "not ('g' in groups)");
  EXPECT_TRUE(Eval("not 'g' in groups", Anonymous({"h"})));
  // Comparisons are left-associative.
  EXPECT_EQ(Compile("1 eq 1 eq true").ToString(), "(1 eq 1) eq True");
  EXPECT_TRUE(Eval("1 eq 1 eq true", Anonymous()));
}

TEST(ODataFilterIn, ListsMayMixLiteralsIdentifiersAndNull) {  // FILTER-004
  EXPECT_TRUE(Eval("userId in ('a')", User("a")));
  EXPECT_TRUE(Eval("userId in ('x', null)", Anonymous()));
  EXPECT_FALSE(Eval("userId in ('x', 'y')", Anonymous()));
  EXPECT_TRUE(Eval("'conn1' in (userId, connectionId)", User("u")));
  EXPECT_TRUE(Eval("length(connectionId) in (1, 5)", Anonymous()));
  EXPECT_TRUE(Eval("tolower(userId) in ('abc')", User("ABC")));
}

TEST(ODataFilterIn, CollectionsWithOrWithoutParentheses) {  // FILTER-004
  EXPECT_TRUE(Eval("'g1' in groups", Anonymous({"g0", "g1"})));
  EXPECT_TRUE(Eval("'g1' in (groups)", Anonymous({"g1"})));
  EXPECT_TRUE(Eval("'g1' in ((groups))", Anonymous({"g1"})));
  EXPECT_FALSE(Eval("'G1' in groups", Anonymous({"g1"})));  // group names are case-sensitive
  EXPECT_TRUE(Eval("userId in groups", User("team", {"team"})));
  EXPECT_FALSE(Eval("userId in groups", Anonymous({"team"})));
  EXPECT_FALSE(Eval("5 in groups", Anonymous({"5"})));
  EXPECT_FALSE(Eval("'g' in groups", Anonymous()));
}

TEST(ODataFilterIn, WorksWithAnyOrderedGroupContainer) {  // FILTER-004
  const ODataFilter f = Compile("'b' in groups and length(groups) eq 2");
  std::map<std::string, uint64_t, std::less<>> joined = {{"a", 1}, {"b", 2}};
  ContainerGroups<decltype(joined)> groups(joined);
  FilterSubject subject;
  subject.connection_id = "c";
  subject.groups = &groups;
  EXPECT_TRUE(f.Matches(subject));
  joined.erase("b");
  EXPECT_FALSE(f.Matches(subject));
  subject.groups = nullptr;  // no group set at all: in no group
  EXPECT_FALSE(f.Matches(subject));
}

TEST(ODataFilterIdentifiers, AreCaseInsensitiveAndIncludeProtocol) {  // FILTER-005
  EXPECT_TRUE(Eval("USERID eq 'u' and ConnectionId eq 'conn1' and length(GROUPS) eq 0", User("u")));
  Conn c = User("u");
  c.protocol = "json.webpubsub.azure.v1";
  EXPECT_TRUE(Eval("protocol eq 'json.webpubsub.azure.v1'", c));
  EXPECT_TRUE(Eval("protocol eq null", User("u")));
  EXPECT_TRUE(Eval("startswith(Protocol, 'json.')", c));
}

TEST(ODataFilterIdentifiers, KeywordsAndFunctionNamesAreCaseSensitive) {  // FILTER-005
  EXPECT_EQ(ErrorMessage("userId eq 'a' AND true"),
            "Invalid syntax for 'userId eq 'a' AND true': Syntax error at position 14 in "
            "'userId eq 'a' AND true'. (Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("Length(userId) gt 1"),
            "Invalid syntax for 'Length(userId)': Token 'Length(userId)' is not supported. "
            "(Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("userId eq True"),
            "Invalid syntax for 'userId eq True': Token 'True' is not supported. (Parameter "
            "'filter')");
}

TEST(ODataFilterFunctions, StringFunctionsFromTheDocs) {  // FILTER-006
  EXPECT_TRUE(Eval("tolower(userId) eq 'user1'", User("USER1")));
  EXPECT_TRUE(Eval("toupper(userId) eq 'USER1'", User("user1")));
  EXPECT_TRUE(Eval("trim(userId) eq 'user1'", User(" \tuser1 \n")));
  EXPECT_TRUE(Eval("substring(userId,5,2) eq 'ab'", User("user-ab-de")));
  EXPECT_TRUE(Eval("endswith(userId,'de')", User("user-ab-de")));
  EXPECT_TRUE(Eval("startswith(userId,'user')", User("user-ab-de")));
  EXPECT_TRUE(Eval("indexof(userId,'-ab-') ge 0", User("user-ab-de")));
  EXPECT_TRUE(Eval("length(userId) gt 1", User("user-ab-de")));
  EXPECT_TRUE(Eval("length(groups) gt 1", Anonymous({"a", "b"})));
  EXPECT_FALSE(Eval("length(groups) gt 1", Anonymous({"a"})));
}

TEST(ODataFilterFunctions, SubstringConcatIndexofAndContains) {  // FILTER-006
  Conn c = User("hello");
  EXPECT_TRUE(Eval("substring(userId, 1) eq 'ello'", c));
  EXPECT_TRUE(Eval("substring(userId, 5) eq ''", c));
  EXPECT_TRUE(Eval("substring(userId, 6) eq null", c));   // out of range is null
  EXPECT_TRUE(Eval("substring(userId, -1) eq null", c));
  EXPECT_TRUE(Eval("substring(userId, 2, 4) eq null", c));
  EXPECT_TRUE(Eval("substring(userId, 0, 0) eq ''", c));
  EXPECT_TRUE(Eval("substring(userId, indexof(userId, 'l')) eq 'llo'", c));
  EXPECT_TRUE(Eval("concat(userId, '!') eq 'hello!'", c));
  EXPECT_TRUE(Eval("concat(concat('a', userId), concat('b', 'c')) eq 'ahellobc'", c));
  EXPECT_TRUE(Eval("indexof(userId, 'l') eq 2 and indexof(userId, 'z') eq -1", c));
  EXPECT_TRUE(Eval("indexof(userId, '') eq 0", c));
  EXPECT_TRUE(Eval("contains(userId, 'ell') and not contains(userId, 'xyz')", c));
  EXPECT_TRUE(Eval("contains(toupper(userId), 'ELL')", c));
}

TEST(ODataFilterFunctions, PropagateNullLikeTheEmulator) {  // FILTER-007
  Conn anon = Anonymous();
  EXPECT_TRUE(Eval("tolower(userId) eq null", anon));
  EXPECT_TRUE(Eval("trim(userId) eq null", anon));
  EXPECT_TRUE(Eval("substring(userId, 0) eq null", anon));
  EXPECT_TRUE(Eval("length(userId) eq null", anon));
  EXPECT_TRUE(Eval("indexof(userId, 'a') eq -1", anon));
  EXPECT_FALSE(Eval("contains(userId, 'a')", anon));
  EXPECT_FALSE(Eval("startswith(userId, '')", anon));
  EXPECT_FALSE(Eval("endswith('abc', userId)", anon));
  EXPECT_TRUE(Eval("concat(userId, 'x') eq 'x'", anon));
  EXPECT_TRUE(Eval("concat('x', null) eq 'x'", anon));
  EXPECT_TRUE(Eval("concat(userId, protocol) eq null", anon));
}

TEST(ODataFilterFunctions, CountUtf16UnitsLikeDotNet) {  // FILTER-008
  // U+00E9 is one UTF-16 unit, U+1F600 two.
  Conn c = User("\xC3\xA9\xF0\x9F\x98\x80x");
  EXPECT_TRUE(Eval("length(userId) eq 4", c));
  EXPECT_TRUE(Eval("indexof(userId, 'x') eq 3", c));
  EXPECT_TRUE(Eval("substring(userId, 1, 2) eq '\xF0\x9F\x98\x80'", c));
  EXPECT_TRUE(Eval("substring(userId, 2) eq null", c));  // would split the surrogate pair
  EXPECT_FALSE(Eval("trim(userId) eq userId", User("\xE3\x80\x80" "a" "\xC2\xA0")));
  EXPECT_TRUE(Eval("trim(userId) eq 'a'", User("\xE3\x80\x80" "a" "\xC2\xA0")));
}

TEST(ODataFilterLiterals, BooleansIntegersAndEmptyFilter) {  // FILTER-009
  EXPECT_TRUE(Eval("true", Anonymous()));
  EXPECT_FALSE(Eval("false", Anonymous()));
  EXPECT_TRUE(Eval("(true)", Anonymous()));
  EXPECT_TRUE(Eval("false or true and true", Anonymous()));
  const ODataFilter empty = Compile("");
  EXPECT_TRUE(empty.matches_all());
  EXPECT_TRUE(Anonymous().Eval(empty));
  EXPECT_EQ(ErrorMessage("   "),
            "Invalid syntax for '   ': Expression expected at position 3 in '   '. (Parameter "
            "'filter')");
}

TEST(ODataFilterTypeErrors, UseTheDocumentedMessageShape) {  // FILTER-010
  // Each message names the token whose evaluation would fail and the two types.
  EXPECT_EQ(ErrorMessage("userId"),
            "Invalid syntax for 'userId': Type 'string', expect 'bool'. (Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("length(connectionId)"),
            "Invalid syntax for 'length(connectionId)': Type 'int', expect 'bool'. (Parameter "
            "'filter')");
  EXPECT_EQ(ErrorMessage("true and 'x'"),
            "Invalid syntax for 'True and 'x'': Type 'string', expect 'bool'. (Parameter "
            "'filter')");
  EXPECT_EQ(ErrorMessage("userId gt 5"),
            "Invalid syntax for 'userId gt 5': Type 'string', expect 'int'. (Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("length(userId) gt 'a'"),
            "Invalid syntax for 'length(userId) gt 'a'': Type 'string', expect 'int'. (Parameter "
            "'filter')");
  EXPECT_EQ(ErrorMessage("tolower(5) eq 'a'"),
            "Invalid syntax for 'tolower(5)': Type 'int', expect 'string'. (Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("substring(userId, length(userId)) eq 'a'"),
            "Invalid syntax for 'substring(userId,length(userId))': Type 'null', expect 'int'. "
            "(Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("contains(groups, 'a')"),
            "Invalid syntax for 'contains(groups,'a')': Type 'collection', expect 'string'. "
            "(Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("not null"),
            "Invalid syntax for 'not null': Type 'null', expect 'bool'. (Parameter 'filter')");
}

TEST(ODataFilterTypeErrors, CatchErrorsTheEmulatorOnlyHitsDuringFanOut) {  // FILTER-010
  // With a user id, tolower(userId) is a string: the comparison can never be evaluated.
  EXPECT_EQ(ErrorMessage("tolower(userId) gt 1"),
            "Invalid syntax for 'tolower(userId) gt 1': Type 'string', expect 'int'. (Parameter "
            "'filter')");
  // length() of a possibly-null string is a possibly-null int: fine for gt (null is false) ...
  EXPECT_TRUE(ODataFilter::Compile("length(substring(connectionId, 3)) gt 1").ok());
  // ... but not as substring's start, which must never be null.
  EXPECT_FALSE(ODataFilter::Compile("substring('abc', length(substring(connectionId, 9))) eq 'c'").ok());
}

TEST(ODataFilterUnsupported, UnknownIdentifiersFunctionsAndArities) {  // FILTER-011
  EXPECT_EQ(ErrorMessage("name eq 'a'"),
            "Invalid syntax for 'name eq 'a'': Token 'name' is not supported. (Parameter "
            "'filter')");
  EXPECT_EQ(ErrorMessage("not name"),
            "Invalid syntax for 'not name': Token 'name' is not supported. (Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("tolower(userId, 'x') eq 'a'"),
            "Invalid syntax for 'tolower(userId,'x')': Invalid token 'tolower(userId,'x')'. "
            "(Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("substring('a') eq 'a'"),
            "Invalid syntax for 'substring('a')': Invalid token 'substring('a')'. (Parameter "
            "'filter')");
  EXPECT_EQ(ErrorMessage("length(5) eq 1"),
            "Invalid syntax for 'length(5)': Invalid token 'length(5)'. (Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("any(groups) eq 1"),
            "Invalid syntax for 'any(groups)': Token 'any(groups)' is not supported. (Parameter "
            "'filter')");
  EXPECT_EQ(ErrorMessage("userId in 'abc'"),
            "Invalid syntax for 'userId in 'abc'': Invalid token ''abc''. (Parameter 'filter')");
  EXPECT_EQ(ErrorMessage("length(userId) eq 2147483648"),
            "Invalid syntax for 'length(userId) eq 2147483648': Token '2147483648' is not "
            "supported. (Parameter 'filter')");
}

TEST(ODataFilterSyntaxErrors, CarryAPosition) {  // FILTER-012
  FilterError e = CompileError("userId eq");
  EXPECT_EQ(e.position, 9u);
  EXPECT_EQ(e.message,
            "Invalid syntax for 'userId eq': Expression expected at position 9 in 'userId eq'. "
            "(Parameter 'filter')");
  e = CompileError("userId eq 'abc");
  EXPECT_EQ(e.position, 10u);
  EXPECT_EQ(e.message,
            "Invalid syntax for 'userId eq 'abc': Unterminated string literal at position 10 in "
            "'userId eq 'abc'. (Parameter 'filter')");
  e = CompileError("(userId eq 'a'");
  EXPECT_EQ(e.position, 14u);
  EXPECT_NE(e.message.find("')' or operator expected at position 14"), std::string::npos);
  e = CompileError("userId eq 'a' #");
  EXPECT_EQ(e.position, 14u);
  EXPECT_NE(e.message.find("character '#' is not valid at position 14"), std::string::npos);
  EXPECT_EQ(CompileError("userId in ('a' 'b')").position, 15u);
  EXPECT_EQ(CompileError("userId in ()").position, 11u);
  EXPECT_EQ(CompileError("tolower(userId eq 'a'").position, 21u);
  EXPECT_EQ(CompileError("userId eq 'a')").position, 13u);
  EXPECT_EQ(CompileError("eq eq eq").position, 0u);
  EXPECT_EQ(CompileError("1.5 eq 1").position, 1u);
  // Problems found by the type checker point at the offending operand.
  EXPECT_EQ(CompileError("userId eq 'a' and length(userId)").position, 18u);
}

TEST(ODataFilterLimits, BoundDepthClausesLengthAndEncoding) {  // FILTER-013
  std::string deep;
  for (size_t i = 0; i < kFilterDepthMax; ++i) deep += "(";
  deep += "true";
  for (size_t i = 0; i < kFilterDepthMax; ++i) deep += ")";
  EXPECT_TRUE(ODataFilter::Compile(deep).ok());
  EXPECT_NE(ErrorMessage("(" + deep + ")").find("nested more than 100 levels"), std::string::npos);
  std::string nots;
  for (size_t i = 0; i < 150; ++i) nots += "not ";
  EXPECT_FALSE(ODataFilter::Compile(nots + "true").ok());

  std::string clauses = "userId eq 'u0'";
  for (size_t i = 1; i < kFilterClausesMax; ++i) clauses += " or userId eq 'u" + std::to_string(i) + "'";
  ODataFilter many = Compile(clauses);
  EXPECT_EQ(many.clause_count(), kFilterClausesMax);
  EXPECT_TRUE(User("u199").Eval(many));
  EXPECT_NE(ErrorMessage(clauses + " or true eq true").find("more than 200 clauses"),
            std::string::npos);

  // Chains of boolean literals contain no clauses but are bounded too (tree depth).
  std::string chain = "true";
  for (size_t i = 0; i < kFilterClausesMax; ++i) chain += " and true";
  EXPECT_TRUE(Eval(chain, Anonymous()));
  EXPECT_NE(ErrorMessage(chain + " or false").find("more than 200 clauses"), std::string::npos);

  std::string long_text = "userId eq '" + std::string(kFilterLengthMax, 'a') + "'";
  FilterError too_long = CompileError(long_text);
  EXPECT_NE(too_long.message.find("longer than 16384 bytes"), std::string::npos);
  EXPECT_LT(too_long.message.size(), kFilterQuoteMax + 200);  // the quote is cut
  EXPECT_EQ(ErrorMessage("userId eq '\xFF'"),
            "Invalid syntax for 'userId eq '\xFF'': The filter is not valid UTF-8. (Parameter "
            "'filter')");
}

TEST(ODataFilterPrinting, MatchesTheEmulatorsTokenPrinter) {  // FILTER-010
  EXPECT_EQ(Compile("userId eq 'a' and not ('g' in groups)").ToString(),
            "(userId eq 'a') and (not ('g' in groups))");
  EXPECT_EQ(Compile("userId in ( 'a' ,'b' )").ToString(), "userId in ( 'a' ,'b' )");
  EXPECT_EQ(Compile("concat(userId , 'x') eq 'it''s'").ToString(),
            "concat(userId,'x') eq 'it's'");
  EXPECT_EQ(Compile("false or -7 lt length(groups)").ToString(), "False or (-7 lt length(groups))");
}

TEST(ODataFilterEvaluation, DoesNotAllocateAfterWarmUp) {  // FILTER-014
  const ODataFilter f = Compile(
      "(tolower(userId) in ('alice', 'bob') or concat(userId, '-x') eq 'carol-x') and "
      "'room' in groups and length(trim(connectionId)) gt 2 and substring(userId, 1) ne 'zz'");
  std::vector<std::string> groups = {"lobby", "room"};
  SortedGroups group_set(groups);
  const std::string ids[] = {"ALICE", "bob", "carol", "dave"};
  FilterSubject subject;
  subject.connection_id = "conn-1";
  subject.groups = &group_set;
  int matched = 0;
  for (const std::string& id : ids) {  // warm the scratch buffers
    subject.user_id = id;
    matched += f.Matches(subject) ? 1 : 0;
  }
  EXPECT_EQ(matched, 3);
  const size_t before = g_allocations;
  for (int round = 0; round < 100; ++round) {
    for (const std::string& id : ids) {
      subject.user_id = id;
      matched += f.Matches(subject) ? 1 : 0;
    }
  }
  EXPECT_EQ(g_allocations, before);
  EXPECT_EQ(matched, 303);
}

TEST(ODataFilterEvaluation, MovedAndCopiedFiltersStayValid) {  // FILTER-014
  ODataFilter original = Compile("concat(userId, 'z') eq 'az'");
  ODataFilter copy = original;
  ODataFilter moved = std::move(original);
  EXPECT_TRUE(User("a").Eval(copy));
  EXPECT_TRUE(User("a").Eval(moved));
  EXPECT_FALSE(User("b").Eval(moved));
}

}  // namespace
}  // namespace wpsim::protocol::rest
