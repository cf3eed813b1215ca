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

  /// Moves `at` to the first posting at or after `target` (galloping).
  void seek(uint32_t& at, uint32_t target) const noexcept {
    if (at >= n || slots[at] >= target)
      return;
    uint32_t lo = at;
    uint32_t step = 1;
    while (lo + step < n && slots[lo + step] < target) {
      lo += step;
      step *= 2;
    }
    uint32_t hi = std::min(n, lo + step + 1);
    at = static_cast<uint32_t>(std::lower_bound(slots + lo + 1, slots + hi, target) - slots);
  }
  void seek(uint32_t target) noexcept { seek(i, target); }

  /// q * value of `slot` (0 when absent), by a second position that only
  /// moves forward: calls must come in ascending slot order.
  float lookup(uint32_t slot) noexcept {
    seek(look, slot);
    return look < n && slots[look] == slot ? q * values[look] : 0.0f;
  }

  uint32_t look = 0;  // lookup()'s position
};

namespace {

SparseIndex::Cursor make_cursor(const uint32_t* slots, const float* values, size_t n, float max,
                                float min, float q, uint32_t qpos) {
  double hi = q > 0 ? double{q} * max : double{q} * min;
  double magnitude = std::max(std::abs(double{q} * max), std::abs(double{q} * min));
  return {slots, values, static_cast<uint32_t>(n), 0, q, qpos, std::max(0.0, hi), magnitude, 0};
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
  // Cursors below `essential` cannot lift a document into the top k on
  // their own, so only the others produce candidates.
  const size_t m = cursors.size();
  std::sort(cursors.begin(), cursors.end(),
            [](const Cursor& a, const Cursor& b) { return a.bound < b.bound; });
  std::vector<double> prefix(m);
  double magnitude = 0;
  for (size_t j = 0; j < m; ++j) {
    prefix[j] = (j > 0 ? prefix[j - 1] : 0.0) + cursors[j].bound;
    magnitude += cursors[j].magnitude;
  }
  // A float sum of `terms` products is within (terms + 2) * 2^-24 * sum|x|
  // of the exact one: prune only candidates that miss by more than that.
  const double margin = static_cast<double>(terms + 2) * std::ldexp(1.0, -23) * magnitude;
  // The exact score sums every term in query order (as brute force does).
  std::vector<size_t> by_qpos(m);
  for (size_t j = 0; j < m; ++j)
    by_qpos[j] = j;
  std::stable_sort(by_qpos.begin(), by_qpos.end(),
                   [&](size_t a, size_t b) { return cursors[a].qpos < cursors[b].qpos; });

  TopK top(k, /*higher_better=*/true, &tie);
  double theta = -std::numeric_limits<double>::infinity();
  size_t essential = 0;
  // Slots are taken in windows: the essential cursors' postings of a window
  // are summed term at a time (a tight loop), then only the documents whose
  // partial sum plus the other cursors' bounds can reach the k-th score are
  // looked up in those cursors and scored exactly.
  constexpr uint32_t max_window = 4096;
  std::vector<double> partial(max_window, 0.0);
  std::vector<uint8_t> touched(max_window, 0);
  std::vector<size_t> lookups;  // non-essential cursors looked up, not scanned
  std::vector<double> lookup_prefix;
  const auto n_slots = static_cast<uint32_t>(slots_.size());
  uint32_t window = 256;  // small at first, while the top k fills
  for (uint32_t w0 = 0; w0 < n_slots; w0 += window, window = std::min(max_window, window * 2)) {
    const uint32_t w1 = std::min(n_slots, w0 + window);
    const size_t ess = essential;  // fixed for this window
    size_t candidates = 0;
    auto scan = [&](Cursor& c, uint32_t end) {
      // Locals: the stores to partial/touched cannot alias them.
      const uint32_t* slots = c.slots;
      const float* values = c.values;
      const float q = c.q;
      double* acc = partial.data();
      uint8_t* seen = touched.data();
      size_t fresh = 0;
      for (uint32_t i = c.i; i < end; ++i) {
        uint32_t s = slots[i] - w0;
        acc[s] += q * values[i];
        fresh += seen[s] ^ 1u;
        seen[s] = 1;
      }
      c.i = end;
      candidates += fresh;
    };
    for (size_t j = ess; j < m; ++j) {
      auto& c = cursors[j];
      uint32_t end = c.i;
      c.seek(end, w1);
      scan(c, end);
    }
    if (candidates == 0) {
      for (size_t j = 0; j < ess; ++j)
        cursors[j].seek(w1);
      continue;
    }
    // A non-essential cursor is scanned too when that costs about what
    // looking the candidates up in it would (its postings are dense here);
    // the others are looked up only for candidates their bounds cannot rule out.
    lookups.clear();
    lookup_prefix.clear();
    for (size_t j = 0; j < ess; ++j) {
      auto& c = cursors[j];
      uint32_t end = c.i;
      c.seek(end, w1);
      if (end - c.i <= 4 * candidates) {
        scan(c, end);
      } else {
        c.i = end;
        lookups.push_back(j);
        lookup_prefix.push_back((lookup_prefix.empty() ? 0.0 : lookup_prefix.back()) + c.bound);
      }
    }
    for (uint32_t s = 0; s < w1 - w0; ++s) {
      if (!touched[s])
        continue;
      double p = partial[s];
      touched[s] = 0;
      partial[s] = 0;
      const uint32_t d = w0 + s;
      if (!slots_[d].alive)
        continue;
      bool pruned = false;
      for (size_t t = lookups.size(); t-- > 0;) {
        if (p + lookup_prefix[t] + margin < theta) {
          pruned = true;
          break;
        }
        p += cursors[lookups[t]].lookup(d);
      }
      if (pruned || p + margin < theta)
        continue;
      // In query order, as brute force adds them (absent terms add +0).
      float score = 0;
      for (size_t j : by_qpos)
        score += cursors[j].lookup(d);
      top.push(slots_[d].label, score);
      if (top.full()) {
        theta = top.worst();
        while (essential < m && prefix[essential] + margin < theta)
          ++essential;
      }
    }
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
