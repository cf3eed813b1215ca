// The status of a request several shards answered, when some failed: a
// deterministic input error (the same bad request fails the same way on
// every try) must not be reported as 503 "retry" or 500 "server fault".
// Pure; used by the head when it joins shard answers.
#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>

#include "caflow/errors.hpp"

namespace caflow::detail {

/// True for the errors a client must fix (HTTP 400): invalid_argument,
/// invalid_json, dimension_mismatch.
inline bool is_input_error(const caf::error& err) {
  return is(err, errc::invalid_argument) || is(err, errc::invalid_json)
         || is(err, errc::dimension_mismatch);
}

/// The code a fan-out fails with: the shards' own code when every failure is
/// an input error of that one code, invalid_argument when they are input
/// errors of several codes, else `otherwise` (e.g. unavailable, or
/// all_shards_failed). No failures: `otherwise`.
inline errc fan_out_code(const std::vector<caf::error>& failures, errc otherwise) {
  if (failures.empty())
    return otherwise;
  for (const auto& f : failures)
    if (!is_input_error(f))
      return otherwise;
  auto first = static_cast<errc>(failures.front().code());
  for (const auto& f : failures)
    if (static_cast<errc>(f.code()) != first)
      return errc::invalid_argument;
  return first;
}

/// The shards' failure messages joined with "; ", for a fan-out's error.
inline std::string join_failures(const std::vector<std::string>& failures) {
  std::string why;
  for (const auto& f : failures)
    why += (why.empty() ? "" : "; ") + f;
  return why;
}

}  // namespace caflow::detail
