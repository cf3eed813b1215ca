// SparseIndex's search: MaxScore over per-(segment, term) cursors for the
// similarities, an exhaustive accumulation for euclidean. See
// sparse_index.hpp for why the result equals brute force exactly.
#include <algorithm>
#include <cmath>
#include <limits>

#include "index/sparse_index.hpp"

namespace caflow {

struct SparseIndex::Cursor {
  const uint32_t* slots;
  const float* values;
  uint32_t n;
  uint32_t i = 0;
  float q;           // the query's value for this term
  uint32_t qpos;     // the term's position in the query
  double bound;      // an upper bound of q * value, at least 0 (absent = 0)
  double magnitude;  // an upper bound of |q * value|

  [[nodiscard]] uint32_t current() const noexcept {
    return i < n ? slots[i] : std::numeric_limits<uint32_t>::max();
  }

  /// Moves to the first posting at or after `target` (galloping search).
  void seek(uint32_t target) noexcept {
    if (i >= n || slots[i] >= target)
      return;
    uint32_t lo = i;
    uint32_t step = 1;
    while (lo + step < n && slots[lo + step] < target) {
      lo += step;
      step *= 2;
    }
    uint32_t hi = std::min(n, lo + step + 1);
    i = static_cast<uint32_t>(std::lower_bound(slots + lo + 1, slots + hi, target) - slots);
  }
};

namespace {

SparseIndex::Cursor make_cursor(const uint32_t* slots, const float* values, size_t n, float max,
                                float min, float q, uint32_t qpos) {
  double hi = q > 0 ? double{q} * max : double{q} * min;
  double magnitude = std::max(std::abs(double{q} * max), std::abs(double{q} * min));
  return {slots, values, static_cast<uint32_t>(n), 0, q, qpos, std::max(0.0, hi), magnitude};
}

}  // namespace

std::vector<Hit> SparseIndex::search(const std::vector<uint32_t>& indices,
                                     std::vector<float> values, size_t k,
                                     const TieBreak& tie) const {
  if (k == 0 || slot_of_.empty())
    return {};
  normalize_in_place(values, metric_);
  std::vector<Cursor> cursors;
  for (size_t p = 0; p < indices.size(); ++p) {
    float q = values[p];
    if (q == 0)
      continue;  // adds nothing to any score, and matches nothing
    auto qpos = static_cast<uint32_t>(p);
    if (const auto* b = base_.find(indices[p]))
      cursors.push_back(make_cursor(base_.slots.data() + b->begin, base_.values.data() + b->begin,
                                    b->end - b->begin, b->max, b->min, q, qpos));
    if (auto d = delta_.find(indices[p]); d != delta_.end())
      cursors.push_back(make_cursor(d->second.slots.data(), d->second.values.data(),
                                    d->second.slots.size(), d->second.max, d->second.min, q, qpos));
  }
  if (cursors.empty())
    return {};  // no query term occurs in the index: nothing matches
  if (metric_ == Metric::euclidean)
    return search_euclidean(cursors, values, k, tie);
  return search_maxscore(cursors, values.size(), k, tie);
}

std::vector<Hit> SparseIndex::search_maxscore(std::vector<Cursor>& cursors, size_t terms, size_t k,
                                              const TieBreak& tie) const {
  // Cursors by bound ascending; prefix[j] bounds what cursors 0..j can add.
  std::sort(cursors.begin(), cursors.end(),
            [](const Cursor& a, const Cursor& b) { return a.bound < b.bound; });
  const size_t m = cursors.size();
  std::vector<double> prefix(m);
  double magnitude = 0;
  for (size_t j = 0; j < m; ++j) {
    prefix[j] = (j > 0 ? prefix[j - 1] : 0.0) + cursors[j].bound;
    magnitude += cursors[j].magnitude;
  }
  // A float sum of `terms` products is within (terms + 2) * 2^-24 * sum|x|
  // of the exact one: prune only candidates that miss by more than that.
  const double margin = static_cast<double>(terms + 2) * std::ldexp(1.0, -23) * magnitude;

  TopK top(k, /*higher_better=*/true, &tie);
  std::vector<float> contrib(terms, 0.0f);  // by query position, for the exact sum
  std::vector<uint32_t> touched;
  double theta = -std::numeric_limits<double>::infinity();
  size_t essential = 0;  // cursors [0, essential) cannot produce a candidate
  constexpr uint32_t end = std::numeric_limits<uint32_t>::max();
  for (;;) {
    uint32_t d = end;
    for (size_t j = essential; j < m; ++j)
      d = std::min(d, cursors[j].current());
    if (d == end)
      break;
    const bool alive = slots_[d].alive;
    double partial = 0;
    touched.clear();
    for (size_t j = essential; j < m; ++j) {
      auto& c = cursors[j];
      if (c.current() != d)
        continue;
      if (alive) {
        float x = c.q * c.values[c.i];
        contrib[c.qpos] = x;
        touched.push_back(c.qpos);
        partial += x;
      }
      ++c.i;
    }
    if (!alive)
      continue;
    bool pruned = false;
    for (size_t j = essential; j-- > 0;) {
      if (partial + prefix[j] + margin < theta) {
        pruned = true;
        break;
      }
      auto& c = cursors[j];
      c.seek(d);
      if (c.current() == d) {
        float x = c.q * c.values[c.i];
        contrib[c.qpos] = x;
        touched.push_back(c.qpos);
        partial += x;
        ++c.i;
      }
    }
    if (!pruned) {
      // In query order, as brute force adds them (absent terms add +0).
      float score = 0;
      for (float x : contrib)
        score += x;
      top.push(slots_[d].label, score);
      if (top.full()) {
        theta = top.worst();
        while (essential < m && prefix[essential] + margin < theta)
          ++essential;
      }
    }
    for (auto p : touched)
      contrib[p] = 0;
  }
  return std::move(top).take();
}

std::vector<Hit> SparseIndex::search_euclidean(std::vector<Cursor>& cursors,
                                               const std::vector<float>& values, size_t k,
                                               const TieBreak& tie) const {
  // Every vector has a distance. |x|^2 + |q|^2 - 2 x.q in float loses the
  // distance of close pairs (a self-match would score ~1e-3), so the dot
  // products are accumulated in double, term by term (cursors are in query
  // order), as the norms were summed: a self-match scores exactly 0.
  std::vector<double> dots(slots_.size(), 0.0);
  bool shared = false;  // a live vector has a query term
  for (const auto& c : cursors)
    for (uint32_t i = 0; i < c.n; ++i) {
      dots[c.slots[i]] += double{c.q} * c.values[i];
      shared = shared || slots_[c.slots[i]].alive;
    }
  if (!shared)
    return {};
  double q2 = 0;
  for (float v : values)
    if (v != 0)
      q2 += double{v} * v;
  TopK top(k, /*higher_better=*/false, &tie);
  for (size_t s = 0; s < slots_.size(); ++s)
    if (slots_[s].alive)
      top.push(slots_[s].label,
               static_cast<float>(std::sqrt(std::max(0.0, slots_[s].norm2 + q2 - 2 * dots[s]))));
  return std::move(top).take();
}

}  // namespace caflow
