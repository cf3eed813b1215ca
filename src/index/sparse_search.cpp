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
  const uint32_t* slots;
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
  uint32_t look = 0;  // lookup()'s position

  /// True when block `b` may hold some of its postings.
  [[nodiscard]] bool in(uint32_t b) const noexcept { return b >= block0 && b < block_end; }

  /// An upper bound of what it adds to a document of block `b` (>= 0), when in(b).
  [[nodiscard]] double block_bound(uint32_t b) const noexcept {
    if (bmax == nullptr)
      return bound;
    return std::min(bound, std::abs(double{q}) * bmax[b - block0]);
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

  /// q * value of `slot` (0 when absent), by a second position that only
  /// moves forward: calls must come in ascending slot order.
  float lookup(uint32_t slot) noexcept {
    seek(look, slot);
    return look < n && slots[look] == slot ? q * values[look] : 0.0f;
  }
};

namespace {

SparseIndex::Cursor make_cursor(const uint32_t* slots, const float* values, size_t n, float max,
                                float min, float q, uint32_t qpos, const float* bmax,
                                uint32_t block_bits) {
  double hi = q > 0 ? double{q} * max : double{q} * min;
  double magnitude = std::max(std::abs(double{q} * max), std::abs(double{q} * min));
  SparseIndex::Cursor c{slots, values, static_cast<uint32_t>(n), 0,
                        q,     qpos,   std::max(0.0, hi),        magnitude};
  c.bmax = bmax;
  c.block0 = slots[0] >> block_bits;
  c.block_end = (slots[n - 1] >> block_bits) + 1;
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
  const BaseSegment& base = *base_;
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
    if (const auto* b = base.find(indices[p]))
      cursors.push_back(make_cursor(
        base.slots.data() + b->begin, base.values.data() + b->begin, b->end - b->begin, b->max,
        b->min, q, qpos,
        b->blocks == BaseSegment::no_blocks ? nullptr : base.block_max.data() + b->blocks,
        block_bits_));
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
  std::vector<float> scores(block, 0.0f);   // exhaustive blocks: exact float sums
  std::vector<double> partial(block, 0.0);  // pruned blocks: the essential cursors' sums
  std::vector<uint8_t> touched(block, 0);
  std::vector<uint32_t> saved(m);
  // Per block: the cursors with postings there, ordered by their block
  // bound ascending (a counting sort on buckets: O(m)), and prefix[t] the
  // summed bounds of order[first..t]. The longest prefix whose sum cannot
  // reach theta is non-essential.
  std::vector<double> bound(m);
  std::vector<uint32_t> bucket(m);
  std::vector<uint32_t> order(m);
  std::vector<double> prefix(m);
  // Pruning is tried again after a block where it did not pay only after
  // `backoff` blocks (doubling while it keeps failing).
  uint32_t backoff = 0, skip_pruning = 0;

  auto offer = [&](uint32_t d, float score) {
    if (!slots_[d].alive)
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
    for (uint32_t j : by_qpos) {
      auto& c = cursors[j];
      if (!c.in(b))
        continue;
      c.seek(c.i, w0);
      // Up to the block's end by the postings themselves (sequential
      // reads), not by a galloping search that waits on memory each step.
      const uint32_t* slots = c.slots;
      const float* values = c.values;
      const float q = c.q;
      const uint32_t n = c.n;
      float* acc = scores.data();
      uint32_t i = c.i;
      if (mark) {
        uint8_t* seen = touched.data();
        for (; i < n && slots[i] < w1; ++i) {
          uint32_t s = slots[i] - w0;
          acc[s] += q * values[i];
          seen[s] = 1;
        }
      } else {
        for (; i < n && slots[i] < w1; ++i)
          acc[slots[i] - w0] += q * values[i];
      }
      c.i = i;
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

  const auto n_slots = static_cast<uint32_t>(slots_.size());
  const uint32_t n_blocks = (n_slots + block - 1) >> block_bits_;
  for (uint32_t b = 0; b < n_blocks; ++b) {
    const uint32_t w0 = b << block_bits_;
    const uint32_t w1 = std::min(n_slots, w0 + block);
    std::array<uint32_t, 65> count{};
    size_t live = 0;
    for (size_t j = 0; j < m; ++j) {
      const auto& c = cursors[j];
      const bool in = c.in(b);
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
    if (essential == first || skip_pruning > 0) {
      skip_pruning -= skip_pruning > 0;
      exhaustive(b, w0, w1);
      continue;
    }
    // Pruned: the essential cursors' postings summed (in any order), then
    // the candidates they produce looked up in the others while their
    // bounds leave room, then scored exactly.
    // Largest bounds first: the scan stops as soon as the candidates are too
    // many to look up, and the block is scored exhaustively instead.
    const uint32_t too_many = (w1 - w0) / 8;
    size_t candidates = 0;
    size_t scanned = m;
    while (scanned > essential && candidates <= too_many) {
      --scanned;
      auto& c = cursors[order[scanned]];
      c.seek(c.i, w0);
      saved[scanned] = c.i;
      const uint32_t* slots = c.slots;
      const float* values = c.values;
      const float q = c.q;
      const uint32_t n = c.n;
      double* acc = partial.data();
      uint8_t* seen = touched.data();
      size_t fresh = 0;
      uint32_t i = c.i;
      for (; i < n && slots[i] < w1; ++i) {
        uint32_t s = slots[i] - w0;
        acc[s] += q * values[i];
        fresh += seen[s] ^ 1u;
        seen[s] = 1;
      }
      c.i = i;
      candidates += fresh;
    }
    if (candidates > too_many) {
      for (size_t t = scanned; t < m; ++t)
        cursors[order[t]].i = saved[t];
      std::fill(partial.begin(), partial.end(), 0.0);
      std::fill(touched.begin(), touched.end(), uint8_t{0});
      backoff = std::min<uint32_t>(64, backoff == 0 ? 1 : backoff * 2);
      skip_pruning = backoff;
      exhaustive(b, w0, w1);
      continue;
    }
    backoff = 0;
    // What the non-essential cursors may add at most (all of them).
    const double rest = prefix[essential - 1];
    for (uint32_t s = 0; s < w1 - w0; ++s) {
      if (!touched[s])
        continue;
      double p = partial[s];
      touched[s] = 0;
      partial[s] = 0;
      const uint32_t d = w0 + s;
      if (p + rest + margin < theta || !slots_[d].alive)
        continue;
      // Looked up from the largest bound down, while the bounds of those
      // left could still lift it to theta.
      bool pruned = false;
      for (size_t t = essential; t-- > first;) {
        if (p + prefix[t] + margin < theta) {
          pruned = true;
          break;
        }
        p += cursors[order[t]].lookup(d);
      }
      if (pruned || p + margin < theta)
        continue;
      // In query order, as brute force adds them (absent terms add +0).
      float score = 0;
      for (uint32_t j : by_qpos)
        score += cursors[j].lookup(d);
      offer(d, score);
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
