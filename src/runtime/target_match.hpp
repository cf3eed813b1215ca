/// Jina's `targetExecutor`: which deployment a request names, exactly or as
/// a regular expression over the deployment names. Pure; no actors.
///
/// The pattern comes from the client, so both its size and the cost of
/// matching it are bounded: ICU's regex engine (already linked for the
/// tokenizer) compiles with an explicit, heap-allocated parse stack (20,000
/// nested parentheses cannot overflow the thread's stack as std::regex's
/// recursive compiler did), and its matcher takes a step limit and a
/// backtracking-stack limit, so a catastrophically backtracking pattern
/// fails with an error instead of spinning. Unlike RE2 (not a Debian
/// dependency here) ICU keeps Perl/Python syntax, back-references included.
///
///   TargetMatcher m{"index.*"};            // compiled once
///   auto hit = m.first_match(names);       // expected<optional<size_t>>
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace caflow::detail {

/// Bounds on a targetExecutor pattern.
struct TargetLimits {
  /// Longest pattern in bytes. Deployment names are short; a longer pattern
  /// is refused (errc::invalid_argument). Default: 256
  size_t max_pattern_bytes = 256;
  /// Matching steps per deployment name, in ICU's units of 10,000 steps
  /// (RegexMatcher::setTimeLimit; a count of steps, so deterministic, not a
  /// clock). Default: 10 (100,000 steps)
  int32_t step_limit = 10;
  /// Backtracking stack of the matcher in bytes. Default: 64 KiB
  int32_t stack_limit = 64 * 1024;
};

/// One compiled targetExecutor (see the file comment). Not thread-safe.
class TargetMatcher {
 public:
  /// Compiles `pattern` unless it is empty. Errors (too long, malformed)
  /// are reported by first_match.
  explicit TargetMatcher(std::string_view pattern, TargetLimits limits = {});
  ~TargetMatcher();
  TargetMatcher(const TargetMatcher&) = delete;
  TargetMatcher& operator=(const TargetMatcher&) = delete;

  /// The index of the first name equal to the pattern, else of the first
  /// name the whole pattern matches (ICU `matches()`, like std::regex_match);
  /// nullopt when none does. errc::invalid_argument, naming the pattern,
  /// when it is too long, malformed, or too costly to match.
  [[nodiscard]] caf::expected<std::optional<size_t>> first_match(
    const std::vector<std::string>& names);

  /// How many times the pattern was compiled (0 or 1), for tests.
  [[nodiscard]] int compilations() const noexcept { return compilations_; }

 private:
  struct Impl;
  caf::error compile();

  std::string pattern_;
  TargetLimits limits_;
  std::unique_ptr<Impl> impl_;
  caf::error error_;
  int compilations_ = 0;
  bool tried_ = false;
};

}  // namespace caflow::detail
