// The crash tests' last word: every acknowledged document is found again
// by a search for it. One check for the daemon's and the cluster's kill -9
// tests, which query each acknowledged document with its own text or vector.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "caflow/document.hpp"

namespace caflow::testing {

/// Checks that the i-th answered query's best match is `ids[i]`, naming
/// what was found instead; `found` holds one answered query per id.
inline void check_best_matches(const DocumentArray& found, const std::vector<std::string>& ids) {
  REQUIRE(found.size() == ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& matches = found[i].matches;
    CHECK_MESSAGE(
      (!matches.empty() && matches[0].id == ids[i]),
      "searching " << ids[i] << " found " << (matches.empty() ? "nothing" : matches[0].id));
  }
}

}  // namespace caflow::testing
