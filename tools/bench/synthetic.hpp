// Synthetic TF-IDF documents with a mail corpus's shape, for benchmarks at
// sizes the real corpus does not reach: a 176,000-term vocabulary drawn from
// a Zipf-Mandelbrot law (a few terms in most documents, as mail headers
// are), 150-650 tokens per document, smooth idf from the law's expected
// document frequencies, l2-normalised. Texts spell the tokens ("t123"), so
// storage holds text bytes of a realistic size. Deterministic per seed.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "caflow/document.hpp"

namespace caflow::bench {

/// Generates documents and queries (see the file comment).
class SyntheticCorpus {
 public:
  static constexpr uint32_t vocabulary = 176000;

  /// `n` is the corpus size the idf weights assume.
  explicit SyntheticCorpus(size_t n);

  /// A document: `tokens` drawn tokens (0: 150-650 at random); its text only
  /// when `text`.
  Document document(std::mt19937& rng, size_t tokens = 0, bool text = true) const;
  /// A query: the first ~100 tokens of a fresh document, without text.
  Document query(std::mt19937& rng) const { return document(rng, 100, false); }

 private:
  std::vector<double> cdf_;
  std::vector<float> idf_;
};

}  // namespace caflow::bench
