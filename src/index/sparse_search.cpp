// SparseIndex's search: block-max MaxScore over per-(segment, term)
// cursors for the similarities, an exhaustive accumulation for euclidean.
// See sparse_index.hpp for why the result equals brute force exactly.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include "index/sparse_index.hpp"

namespace caflow {

struct SparseIndex::Cursor {
  const uint32_t* slots;  // nullptr: dense (values[j] is slot first + j's, 0 = absent)
  const float* values;
  uint32_t n;
  uint32_t i = 0;
  float q;           // the query's value for this term
  uint32_t qpos;     // the term's position in the query
  double bound;      // an upper bound of q * value, at least 0 (absent = 0)
  double magnitude;  // an upper bound of |q * value|
  // Blocks [block0, block_end) hold its postings; bmax[b - block0] is the
  // largest |value| in block b (nullptr: only `bound` is known).
  const float* bmax = nullptr;
  uint32_t block0 = 0, block_end = 0;
  uint32_t low = 0, high = 0;  // the slots of its first and last posting
  uint32_t look = 0;           // lookup()'s position
  uint32_t first = 0;          // dense: the slot of values[0]
  // Sparse, with block maxima: bbegin[b - block0] is the position of its
  // first posting in block b (nullptr: found by seek()).
  const uint32_t* bbegin = nullptr;

  [[nodiscard]] bool dense() const noexcept { return slots == nullptr; }

  /// True when the window [w0, w1) (within one block and one segment's
  /// slots) may hold some of its postings; then all of its postings of
  /// that block are there, its segment's slots being the window's.
  [[nodiscard]] bool in(uint32_t w0, uint32_t w1) const noexcept { return low < w1 && high >= w0; }

  /// An upper bound of what it adds to a document of block `b` (>= 0), when
  /// in() a window of it.
  [[nodiscard]] double block_bound(uint32_t b) const noexcept {
    if (bmax == nullptr)
      return bound;
    return std::min(bound, std::abs(double{q}) * bmax[b - block0]);
  }

  /// Moves `at` to the first posting at or after `target` (galloping).
  void seek(uint32_t& at, uint32_t target) const noexcept {
    if (dense()) {
      if (target > first)
        at = std::max(at, std::min(n, target - first));
      return;
    }
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

  /// q * value of `slot` (±0 when absent), by a second position that only
  /// moves forward: calls must come in ascending slot order.
  float lookup(uint32_t slot) noexcept {
    if (dense())
      return slot >= first && slot - first < n ? q * values[slot - first] : 0.0f;
    seek(look, slot);
    return look < n && slots[look] == slot ? q * values[look] : 0.0f;
  }

  /// Adds q * value of its postings in [w0, w1) to acc[slot - w0] (float
  /// sums, as brute force's; a dense array's absent slots add ±0, which
  /// changes no sum), marking them in seen[] when `mark`; from position i,
  /// which it leaves at the first posting at or after w1.
  /// The positions [lo, hi) of its postings in block `b` ([w0, w1)), from
  /// position i on (which it then leaves at hi).
  std::pair<uint32_t, uint32_t> range(uint32_t b, uint32_t w0, uint32_t w1) noexcept {
    if (dense()) {
      const uint32_t lo = std::max(w0, first);
      const uint32_t hi = std::max(lo, std::min(w1, first + n));
      i = hi - first;
      return {lo - first, hi - first};
    }
    if (bbegin != nullptr) {
      const uint32_t lo = bbegin[b - block0];
      i = b + 1 < block_end ? bbegin[b + 1 - block0] : n;
      return {lo, i};
    }
    // By the postings themselves (sequential reads), not by a galloping
    // search that waits on memory each step.
    seek(i, w0);
    const uint32_t lo = i;
    while (i < n && slots[i] < w1)
      ++i;
    return {lo, i};
  }

  /// How many entries summing block `b` ([w0, w1)) reads (an estimate for a
  /// list without block positions: its average per block).
  [[nodiscard]] uint32_t entries_in(uint32_t b, uint32_t w0, uint32_t w1) const noexcept {
    if (dense())
      return std::min(w1, first + n) - std::max(w0, first);
    if (bbegin != nullptr)
      return (b + 1 < block_end ? bbegin[b + 1 - block0] : n) - bbegin[b - block0];
    return n / (block_end - block0) + 1;
  }

  /// Adds q * value of its postings in block `b` ([w0, w1)) to
  /// acc[slot - w0] (float sums, as brute force's; a dense array's absent
  /// slots add +-0, which changes no sum), marking them in seen[] when
  /// `mark`.
  template <bool mark>
  void add_block(float* __restrict acc, uint8_t* __restrict seen, uint32_t b, uint32_t w0,
                 uint32_t w1) noexcept {
    const auto [lo, hi] = range(b, w0, w1);
    const float qv = q;
    const float* __restrict v = values;
    if (dense()) {
      float* __restrict a = acc + (first + lo - w0);
      const uint32_t len = hi - lo;
      v += lo;
      for (uint32_t j = 0; j < len; ++j)
        a[j] += qv * v[j];
      if constexpr (mark) {
        uint8_t* __restrict m = seen + (first + lo - w0);
        for (uint32_t j = 0; j < len; ++j)
          m[j] = static_cast<uint8_t>(m[j] | (v[j] != 0.0f));
      }
      return;
    }
    const uint32_t* __restrict sl = slots;
    for (uint32_t at = lo; at < hi; ++at) {
      const uint32_t s = sl[at] - w0;
      acc[s] += qv * v[at];
      if constexpr (mark)
        seen[s] = 1;
    }
  }

  /// add_block() for a list without block positions (a delta's): one pass
  /// that finds the block's end by the postings themselves.
  template <bool mark>
  void add_block_unindexed(float* __restrict acc, uint8_t* __restrict seen, uint32_t w0,
                           uint32_t w1) noexcept {
    seek(i, w0);
    const float qv = q;
    const uint32_t* __restrict sl = slots;
    const float* __restrict v = values;
    uint32_t at = i;
    for (; at < n && sl[at] < w1; ++at) {
      const uint32_t s = sl[at] - w0;
      acc[s] += qv * v[at];
      if constexpr (mark)
        seen[s] = 1;
    }
    i = at;
  }

  /// Adds q * value of slot w0 + docs[x] to part[x], for the `count`
  /// ascending documents `docs` of block `b` ([w0, w1)); absent ones add
  /// nothing. Leaves i at or before its first posting at or after w1.
  void add_to(uint32_t b, uint32_t w0, uint32_t w1, const uint32_t* __restrict docs,
              float* __restrict part, size_t count) noexcept {
    const float qv = q;
    if (dense()) {
      const uint32_t lo = std::max(w0, first) - w0;
      const uint32_t hi = std::min(w1, first + n) - w0;  // in(w0, w1): > lo
      for (size_t x = 0; x < count; ++x)
        if (const uint32_t s = docs[x]; s >= lo && s < hi)
          part[x] += qv * values[w0 + s - first];
      return;
    }
    uint32_t at, end = n;
    if (bbegin != nullptr) {
      at = bbegin[b - block0];
      end = b + 1 < block_end ? bbegin[b + 1 - block0] : n;
    } else {
      seek(i, w0);
      at = i;
    }
    // A walk along the postings when they are few beside the documents,
    // else a galloping search per document.
    const bool walk = bbegin != nullptr && end - at <= 4 * count;
    for (size_t x = 0; x < count && at < end; ++x) {
      const uint32_t d = w0 + docs[x];
      if (walk)
        while (at < end && slots[at] < d)
          ++at;
      else
        seek(at, d);
      if (at < end && slots[at] == d)
        part[x] += qv * values[at];
    }
    if (bbegin == nullptr)
      i = at;
  }

  /// Calls fn(slot, value) for every posting.
  template <class F>
  void for_each(F&& fn) const {
    for (uint32_t j = 0; j < n; ++j)
      if (!dense())
        fn(slots[j], values[j]);
      else if (values[j] != 0.0f)
        fn(first + j, values[j]);
  }
};

namespace {

SparseIndex::Cursor make_cursor(const uint32_t* slots, const float* values, size_t n, float max,
                                float min, float q, uint32_t qpos, const float* bmax,
                                uint32_t block_bits, uint32_t first = 0,
                                const uint32_t* bbegin = nullptr) {
  double hi = q > 0 ? double{q} * max : double{q} * min;
  double magnitude = std::max(std::abs(double{q} * max), std::abs(double{q} * min));
  SparseIndex::Cursor c{slots, values, static_cast<uint32_t>(n), 0,
                        q,     qpos,   std::max(0.0, hi),        magnitude};
  c.bmax = bmax;
  c.first = first;
  c.bbegin = slots != nullptr && bmax != nullptr ? bbegin : nullptr;
  c.low = slots != nullptr ? slots[0] : first;
  c.high = slots != nullptr ? slots[n - 1] : first + c.n - 1;
  c.block0 = c.low >> block_bits;
  c.block_end = (c.high >> block_bits) + 1;
  return c;
}

/// The bucket of a non-negative bound for the per-block ordering: about two
/// buckets per octave (the float's exponent and first mantissa bit), 1..63
/// (0 and tiny bounds share bucket 1).
inline uint32_t bucket_of(double u) noexcept {
  auto bits = std::bit_cast<uint32_t>(static_cast<float>(u));
  int b = static_cast<int>(bits >> 22) - (static_cast<int>(0x3f800000u >> 22) - 50);
  return static_cast<uint32_t>(std::clamp(b, 1, 63));  // 2^-25 .. 2^6
}

}  // namespace

std::vector<Hit> SparseIndex::search(const std::vector<uint32_t>& indices,
                                     std::vector<float> values, size_t k,
                                     const TieBreak& tie) const {
  if (k == 0 || slot_of_.empty())
    return {};
  normalize_in_place(values, metric_);
  std::vector<Cursor> cursors;
  auto add_base = [&](const BaseSegment& base, uint32_t term, float q, uint32_t qpos) {
    if (const auto* b = base.find(term))
      cursors.push_back(make_cursor(
        b->dense ? nullptr : base.slots.data() + b->begin,
        (b->dense ? base.dense.data() : base.values.data()) + b->begin, b->end - b->begin, b->max,
        b->min, q, qpos,
        b->blocks == BaseSegment::no_blocks ? nullptr : base.block_max.data() + b->blocks,
        block_bits_, b->first,
        b->blocks == BaseSegment::no_blocks ? nullptr : base.block_begin.data() + b->blocks));
  };
  auto add_delta = [&](const DeltaSegment& delta, uint32_t term, float q, uint32_t qpos) {
    if (auto d = delta.find(term); d != delta.end()) {
      const auto& list = d->second;
      cursors.push_back(
        make_cursor(list.slots.data(), list.values.data(), list.slots.size(), list.max, list.min, q,
                    qpos, list.block_max.empty() ? nullptr : list.block_max.data(), block_bits_));
    }
  };
  for (size_t p = 0; p < indices.size(); ++p) {
    float q = values[p];
    if (q == 0)
      continue;  // adds nothing to any score, and matches nothing
    auto qpos = static_cast<uint32_t>(p);
    add_base(*base_, indices[p], q, qpos);
    add_base(*mid_, indices[p], q, qpos);
    if (frozen_)
      add_delta(*frozen_, indices[p], q, qpos);
    add_delta(delta_, indices[p], q, qpos);
  }
  if (cursors.empty())
    return {};  // no query term occurs in the index: nothing matches
  if (metric_ == Metric::euclidean)
    return search_euclidean(cursors, values, k, tie);
  return search_blockmax(cursors, values.size(), k, tie);
}

std::vector<Hit> SparseIndex::search_blockmax(std::vector<Cursor>& cursors, size_t terms, size_t k,
                                              const TieBreak& tie) const {
  const size_t m = cursors.size();
  double magnitude = 0;
  for (const auto& c : cursors)
    magnitude += c.magnitude;
  // A float sum of `terms` products is within (terms + 2) * 2^-24 * sum|x|
  // of the exact one: prune only candidates that miss by more than that.
  const double margin = static_cast<double>(terms + 2) * std::ldexp(1.0, -23) * magnitude;
  // Exact scores sum every term in query order, as brute force does.
  std::vector<uint32_t> by_qpos(m);
  for (size_t j = 0; j < m; ++j)
    by_qpos[j] = static_cast<uint32_t>(j);
  std::stable_sort(by_qpos.begin(), by_qpos.end(),
                   [&](uint32_t a, uint32_t b) { return cursors[a].qpos < cursors[b].qpos; });

  TopK top(k, /*higher_better=*/true, &tie);
  double theta = -std::numeric_limits<double>::infinity();
  const uint32_t block = uint32_t{1} << block_bits_;
  // Exhaustive windows: exact float sums; pruned windows: partial sums.
  std::vector<float> scores(block, 0.0f);
  std::vector<uint8_t> touched(block, 0);
  // Pruned blocks: the documents left to look up, and their partial sums.
  std::vector<uint32_t> left;
  std::vector<float> left_partial;
  // Pruned blocks: the cursors present, in the order they are taken, what
  // each gains per entry read, and the bounds of seq[t..] summed.
  std::vector<uint32_t> seq;
  std::vector<double> gain(m);
  std::vector<double> tail;
  // Per block: the cursors with postings there, ordered by their block
  // bound ascending (a counting sort on buckets: O(m)), and prefix[t] the
  // summed bounds of order[first..t].
  std::vector<double> bound(m);
  std::vector<uint32_t> bucket(m);
  std::vector<uint32_t> order(m);
  std::vector<double> prefix(m);

  auto offer = [&](uint32_t d, float score) {
    if (!slots_[d].alive || score < theta)
      return;
    top.push(slots_[d].label, score);
    if (top.full())
      theta = top.worst();
  };
  // Every present cursor's postings of [w0, w1), term by term in query
  // order: exact scores without lookups.
  auto exhaustive = [&](uint32_t b, uint32_t w0, uint32_t w1) {
    // When theta > 0 an untouched document (score 0) cannot enter: no marks.
    const bool mark = !top.full() || theta <= 0;
    for (size_t x = 0; x < by_qpos.size(); ++x) {
      auto& c = cursors[by_qpos[x]];
      if (!c.in(w0, w1))
        continue;
      const bool indexed = c.dense() || c.bbegin != nullptr;
      if (mark && indexed)
        c.add_block<true>(scores.data(), touched.data(), b, w0, w1);
      else if (indexed)
        c.add_block<false>(scores.data(), touched.data(), b, w0, w1);
      else if (mark)
        c.add_block_unindexed<true>(scores.data(), touched.data(), w0, w1);
      else
        c.add_block_unindexed<false>(scores.data(), touched.data(), w0, w1);
    }
    const auto floor = static_cast<float>(theta);  // exact: theta is a float score
    for (uint32_t s = 0; s < w1 - w0; ++s) {
      float score = scores[s];
      scores[s] = 0.0f;
      if (mark) {
        if (!touched[s])
          continue;
        touched[s] = 0;
      } else if (!(score >= floor)) {
        continue;
      }
      offer(w0 + s, score);
    }
  };

  // Cursors' postings of [w0, w1) summed into scores[] (any order: partial
  // sums, for pruning only) while the bounds of those not yet summed
  // (`rest`) could lift any document to theta, then while more than `few`
  // documents are still in reach. Those are then looked up in the others,
  // largest bound first while the bounds left leave room, and the survivors
  // scored exactly (in query order). As theta rises with the index, fewer
  // cursors are summed: the common terms' postings are only looked up, for
  // few documents. few = 1/64 of the block and the order by bound per entry
  // read (against by bound: 18% fewer entries read at 120k) measured with
  // `caflow-bench sparse` against 1/8, 1/16, 1/32, 1/128, 1/256.
  auto pruned = [&](uint32_t b, uint32_t w0, uint32_t w1, size_t first) {
    const uint32_t n = w1 - w0;
    const uint32_t few = n / 64;
    // Summed first: the cursors whose bound is largest for what summing them
    // reads (a rare term's few postings before a common term's array).
    seq.assign(order.begin() + static_cast<ptrdiff_t>(first), order.end());
    for (uint32_t j : seq)
      gain[j] = bound[j] / (static_cast<double>(cursors[j].entries_in(b, w0, w1)) + 64.0);
    std::sort(seq.begin(), seq.end(), [&](uint32_t x, uint32_t y) { return gain[x] > gain[y]; });
    const size_t live = seq.size();
    tail.resize(live + 1);
    auto tails = [&](size_t from) {  // tail[t]: the bounds of seq[t..] summed
      tail[live] = 0;
      for (size_t t = live; t-- > from;)
        tail[t] = tail[t + 1] + bound[seq[t]];
    };
    tails(0);
    left.clear();
    left_partial.clear();
    size_t t = 0;  // summed: seq[0..t)
    while (t < live) {
      auto& c = cursors[seq[t++]];
      if (c.dense() || c.bbegin != nullptr)
        c.add_block<false>(scores.data(), touched.data(), b, w0, w1);
      else
        c.add_block_unindexed<false>(scores.data(), touched.data(), w0, w1);
      const double rest = tail[t];
      if (t < live && rest + margin >= theta)
        continue;
      // In reach: partial + rest + margin >= theta, with the float
      // threshold rounded down (a partial sum is a float).
      const float need = std::nextafter(static_cast<float>(theta - margin - rest),
                                        -std::numeric_limits<float>::infinity());
      // Estimated on every 16th document (the choice only, not the result).
      if (t < live) {
        uint32_t reach = 0;
        for (uint32_t s = 0; s < n; s += 16)
          reach += scores[s] >= need ? 1u : 0u;
        if (16 * reach > few)
          continue;
      }
      for (uint32_t s = 0; s < n; ++s)
        if (scores[s] >= need) {
          left.push_back(s);
          left_partial.push_back(scores[s]);
        }
      break;
    }
    std::fill(scores.begin(), scores.begin() + n, 0.0f);
    // The others term by term, largest bound first; after each, the
    // documents its bound and those left no longer lift to theta drop out.
    std::sort(seq.begin() + static_cast<ptrdiff_t>(t), seq.end(),
              [&](uint32_t x, uint32_t y) { return bound[x] > bound[y]; });
    tails(t);
    for (size_t u = t; u < live && !left.empty(); ++u) {
      cursors[seq[u]].add_to(b, w0, w1, left.data(), left_partial.data(), left.size());
      const double rest = tail[u + 1];
      size_t kept = 0;
      for (size_t x = 0; x < left.size(); ++x)
        if (double{left_partial[x]} + rest + margin >= theta) {
          left[kept] = left[x];
          left_partial[kept++] = left_partial[x];
        }
      left.resize(kept);
      left_partial.resize(kept);
    }
    for (uint32_t s : left) {
      const uint32_t d = w0 + s;
      // In query order, as brute force adds them (absent terms add +0).
      float score = 0;
      for (uint32_t j : by_qpos)
        score += cursors[j].lookup(d);
      offer(d, score);
    }
  };

  // Windows: the blocks, cut where one segment's slots end and the next
  // one's begin. A window then holds one segment's postings only, and its
  // bounds are those of one cursor per term (a block across base and mid
  // would add a term's bound in both).
  const auto n_slots = static_cast<uint32_t>(slots_.size());
  const std::array<uint32_t, 3> cuts{base_slots_, mid_end_, frozen_ ? frozen_end_ : 0};
  for (uint32_t w0 = 0, w1 = 0; w0 < n_slots; w0 = w1) {
    const uint32_t b = w0 >> block_bits_;
    w1 = static_cast<uint32_t>(std::min<uint64_t>(n_slots, (uint64_t{b} + 1) << block_bits_));
    for (uint32_t cut : cuts)
      w1 = cut > w0 && cut < w1 ? cut : w1;
    std::array<uint32_t, 65> count{};
    size_t live = 0;
    for (size_t j = 0; j < m; ++j) {
      const auto& c = cursors[j];
      const bool in = c.in(w0, w1);
      bound[j] = in ? c.block_bound(b) : 0.0;
      bucket[j] = in ? bucket_of(bound[j]) : 0;
      ++count[bucket[j] + 1];
      live += in;
    }
    if (live == 0)
      continue;
    for (size_t x = 1; x < count.size(); ++x)
      count[x] += count[x - 1];
    for (size_t j = 0; j < m; ++j)
      order[count[bucket[j]]++] = static_cast<uint32_t>(j);
    // Cursors without postings here come first; skip them.
    const size_t first = m - live;
    double sum = 0;
    size_t essential = m;
    for (size_t t = first; t < m; ++t) {
      sum += bound[order[t]];
      prefix[t] = sum;
      if (essential == m && sum + margin >= theta)
        essential = t;
    }
    if (essential == m)
      continue;  // even every cursor together cannot reach theta here
    if (essential == first || !(theta > 0)) {
      exhaustive(b, w0, w1);
      continue;
    }
    pruned(b, w0, w1, first);
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
    c.for_each([&](uint32_t slot, float v) {
      dots[slot] += double{c.q} * v;
      shared = shared || slots_[slot].alive;
    });
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
