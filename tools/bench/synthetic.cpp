#include "bench/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace caflow::bench {

SyntheticCorpus::SyntheticCorpus(size_t n) : cdf_(vocabulary), idf_(vocabulary) {
  // Zipf-Mandelbrot: p(r) ~ 1 / (r + 2.7)^1.07.
  double total = 0;
  for (uint32_t r = 0; r < vocabulary; ++r)
    total += cdf_[r] = 1.0 / std::pow(r + 2.7, 1.07);
  double mean_tokens = 400;
  double acc = 0;
  for (uint32_t r = 0; r < vocabulary; ++r) {
    double p = cdf_[r] / total;
    acc += p;
    cdf_[r] = acc;
    double df = static_cast<double>(n) * (1 - std::pow(1 - p, mean_tokens));
    idf_[r] = static_cast<float>(std::log((1.0 + n) / (1.0 + df)) + 1.0);
  }
  cdf_.back() = 1.0;
}

Document SyntheticCorpus::document(std::mt19937& rng, size_t tokens, bool text) const {
  if (tokens == 0)
    tokens = std::uniform_int_distribution<size_t>(150, 650)(rng);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::map<uint32_t, uint32_t> tf;
  Document d;
  if (text)
    d.text.reserve(tokens * 7);
  for (size_t i = 0; i < tokens; ++i) {
    auto r = static_cast<uint32_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u(rng))
                                   - cdf_.begin());
    r = std::min(r, vocabulary - 1);
    ++tf[r];
    if (!text)
      continue;
    d.text += 't';
    d.text += std::to_string(r);
    d.text += ' ';
  }
  std::vector<uint32_t> idx;
  std::vector<float> val;
  double n2 = 0;
  for (auto [term, count] : tf) {
    idx.push_back(term);
    val.push_back(static_cast<float>(count) * idf_[term]);
    n2 += double{val.back()} * val.back();
  }
  auto norm = static_cast<float>(std::sqrt(n2));
  for (auto& x : val)
    x /= norm;
  d.embedding = Embedding::sparse_vector(vocabulary, std::move(idx), std::move(val));
  return d;
}

}  // namespace caflow::bench
