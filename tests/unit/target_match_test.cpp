// targetExecutor patterns: exact names, regular expressions, and patterns
// built to hurt (deep nesting, catastrophic backtracking, huge sizes), which
// must fail with a clear error instead of crashing or spinning.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "caflow/errors.hpp"
#include "runtime/target_match.hpp"

using caflow::detail::TargetLimits;
using caflow::detail::TargetMatcher;

namespace {

const std::vector<std::string> names{"vectorizer", "indexer", "index"};

// The index matched, -1 for none, -2 for an error.
int64_t hit(TargetMatcher& m, const std::vector<std::string>& among = names) {
  auto r = m.first_match(among);
  if (!r)
    return -2;
  return *r ? static_cast<int64_t>(**r) : -1;
}

std::string message_of(TargetMatcher& m) {
  auto r = m.first_match(names);
  REQUIRE_FALSE(r);
  CHECK(caflow::is(r.error(), caflow::errc::invalid_argument));
  return caflow::error_message(r.error());
}

}  // namespace

TEST_CASE("targetExecutor: an exact name wins, else the first full regex match") {
  TargetMatcher exact{"index"};
  CHECK(hit(exact) == 2);
  CHECK(exact.compilations() == 0);  // an exact name needs no regex
  TargetMatcher re{"index.*"};
  CHECK(hit(re) == 1);
  TargetMatcher partial{"vector"};  // a full match, as std::regex_match was
  CHECK(hit(partial) == -1);
  TargetMatcher none{"nobody|nothing"};
  CHECK(hit(none) == -1);
  TargetMatcher unicode{"v.ctorizer"};
  CHECK(hit(unicode, {"vëctorizer"}) == 0);  // '.' is a code point
}

TEST_CASE("targetExecutor: compiled at most once, however many names and calls") {
  TargetMatcher m{"(idx|index)er"};
  std::vector<std::string> many(500, "vectorizer");
  many.push_back("indexer");
  CHECK(hit(m, many) == 500);
  CHECK(hit(m, many) == 500);
  CHECK(m.compilations() == 1);
  TargetMatcher bad{"(unclosed"};
  CHECK_FALSE(bad.first_match(names));
  CHECK_FALSE(bad.first_match(names));
  CHECK(bad.compilations() == 1);
}

TEST_CASE("targetExecutor: hostile patterns are refused with a message") {
  SUBCASE("20,000 nested parentheses (overflowed std::regex's stack: exit 139)") {
    TargetMatcher m{std::string(20000, '(') + "indexer" + std::string(20000, ')')};
    auto said = message_of(m);
    CHECK(said.find("longer than 256 bytes") != std::string::npos);
    CHECK(said.size() < 300);  // the pattern is not echoed whole
    CHECK(m.compilations() == 0);
  }
  SUBCASE("nesting beyond ICU's depth of ~100 groups is refused, not a crash") {
    TargetMatcher m{std::string(120, '(') + "indexer" + std::string(120, ')')};
    CHECK(message_of(m).find("valid regular expression") != std::string::npos);
  }
  SUBCASE("deep nesting within the limits compiles and matches") {
    TargetMatcher m{std::string(90, '(') + "indexer" + std::string(90, ')')};
    auto r = m.first_match(names);
    REQUIRE_MESSAGE(r, caflow::describe(r));
    CHECK(*r == std::optional<size_t>{1});
  }
  SUBCASE("malformed") {
    for (const char* p : {"(", "[a-", "*index", "a{2,1}", "(?<", "\\"}) {
      INFO(p);
      TargetMatcher m{p};
      CHECK(message_of(m).find("neither a deployment name nor a valid regular expression")
            != std::string::npos);
    }
  }
  SUBCASE("catastrophic backtracking hits the step limit") {
    // Nested quantifiers over a 40-character name that cannot match at the
    // end: exponential for a backtracking engine.
    std::vector<std::string> long_name{std::string(40, 'a') + "!"};
    TargetMatcher m{"(a|a?)+(a|a?)+(a|a?)+b"};
    auto r = m.first_match(long_name);
    REQUIRE_FALSE(r);
    CHECK(caflow::error_message(r.error()).find("too costly") != std::string::npos);
  }
  SUBCASE("a deep backtracking stack hits the stack limit or the step limit") {
    std::vector<std::string> long_name{std::string(200, 'a')};
    TargetMatcher m{"(?:(a)|b)*c", TargetLimits{.stack_limit = 1024}};
    auto r = m.first_match(long_name);
    REQUIRE_FALSE(r);
    CHECK(caflow::error_message(r.error()).find("too costly") != std::string::npos);
  }
  SUBCASE("a repetition count ICU refuses") {
    TargetMatcher m{"a{99999999999}"};
    CHECK_FALSE(m.first_match(names));
  }
  SUBCASE("the limit is configurable") {
    TargetMatcher m{"indexer", TargetLimits{.max_pattern_bytes = 3}};
    // An exact name needs no pattern, whatever its length.
    CHECK(hit(m) == 1);
    TargetMatcher r{"ind.*", TargetLimits{.max_pattern_bytes = 3}};
    CHECK_FALSE(r.first_match(names));
  }
}
