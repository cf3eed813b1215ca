// Gaussian random vectors for the tests that index documents: one
// definition of "a vector of `dim` standard normal floats", which the unit,
// runtime and storage suites each used to spell out in their own loop.
//
// Each vector takes a fresh distribution, so a vector depends only on the
// generator's state; for the even dimensions the tests use this draws the
// same numbers as one distribution shared across vectors (libstdc++'s
// normal_distribution makes its values in pairs).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "caflow/document.hpp"

namespace caflow::test {

/// A dense vector of `dim` standard normal floats from `rng`.
inline Embedding gaussian_vector(std::mt19937& rng, uint32_t dim) {
  std::normal_distribution<float> g;
  std::vector<float> v(dim);
  for (auto& x : v)
    x = g(rng);
  return Embedding::dense_vector(std::move(v));
}

}  // namespace caflow::test
