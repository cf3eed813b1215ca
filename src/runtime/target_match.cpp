#include "runtime/target_match.hpp"

#include <unicode/regex.h>
#include <unicode/unistr.h>
#include <unicode/utypes.h>

#include "caflow/errors.hpp"

namespace caflow::detail {

namespace {

// The pattern as quoted in messages: long ones cut, so that an error about a
// 40 KB pattern is not itself 40 KB.
std::string quoted(const std::string& pattern) {
  constexpr size_t shown = 60;
  if (pattern.size() <= shown)
    return "'" + pattern + "'";
  return "'" + pattern.substr(0, shown) + "...' (" + std::to_string(pattern.size()) + " bytes)";
}

}  // namespace

struct TargetMatcher::Impl {
  std::unique_ptr<icu::RegexPattern> pattern;
};

TargetMatcher::TargetMatcher(std::string_view pattern, TargetLimits limits)
  : pattern_(pattern), limits_(limits) {
}

TargetMatcher::~TargetMatcher() = default;

caf::error TargetMatcher::compile() {
  if (pattern_.size() > limits_.max_pattern_bytes)
    return make_error(errc::invalid_argument,
                      "targetExecutor " + quoted(pattern_) + " is longer than "
                        + std::to_string(limits_.max_pattern_bytes)
                        + " bytes: name a deployment or give a short regular expression");
  ++compilations_;
  UParseError where{};
  UErrorCode status = U_ZERO_ERROR;
  auto text = icu::UnicodeString::fromUTF8(pattern_);
  std::unique_ptr<icu::RegexPattern> re{icu::RegexPattern::compile(text, 0, where, status)};
  if (U_FAILURE(status) || !re)
    return make_error(errc::invalid_argument,
                      "targetExecutor " + quoted(pattern_)
                        + " is neither a deployment name nor a valid regular expression ("
                        + u_errorName(status) + " at offset " + std::to_string(where.offset) + ")");
  impl_ = std::make_unique<Impl>();
  impl_->pattern = std::move(re);
  return {};
}

caf::expected<std::optional<size_t>> TargetMatcher::first_match(
  const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == pattern_)
      return std::optional<size_t>{i};
  if (pattern_.empty())
    return std::optional<size_t>{};
  if (!tried_) {
    tried_ = true;
    error_ = compile();
  }
  if (error_)
    return error_;
  for (size_t i = 0; i < names.size(); ++i) {
    UErrorCode status = U_ZERO_ERROR;
    auto subject = icu::UnicodeString::fromUTF8(names[i]);
    std::unique_ptr<icu::RegexMatcher> m{impl_->pattern->matcher(subject, status)};
    if (U_SUCCESS(status))
      m->setTimeLimit(limits_.step_limit, status);
    if (U_SUCCESS(status))
      m->setStackLimit(limits_.stack_limit, status);
    bool hit = U_SUCCESS(status) && m->matches(status);
    if (status == U_REGEX_TIME_OUT || status == U_REGEX_STACK_OVERFLOW)
      return make_error(errc::invalid_argument,
                        "targetExecutor " + quoted(pattern_) + " is too costly to match (ICU regex "
                          + (status == U_REGEX_TIME_OUT ? "step" : "stack")
                          + " limit reached on deployment '" + names[i] + "')");
    if (U_FAILURE(status))
      return make_error(errc::invalid_argument, "targetExecutor " + quoted(pattern_)
                                                  + ": cannot match (" + u_errorName(status) + ")");
    if (hit)
      return std::optional<size_t>{i};
  }
  return std::optional<size_t>{};
}

}  // namespace caflow::detail
