#include "index/sparse_index.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <malloc.h>

#include "caflow/errors.hpp"

namespace caflow {

namespace {

// A merge is due when the delta holds this share of the base's postings (or
// at least min_delta postings), or when tombstones make up half of all.
constexpr size_t min_delta = size_t{1} << 16;
constexpr size_t delta_share = 4;  // delta >= base / 4

// After a merge that freed this much, glibc is asked to give the pages back
// (its arenas otherwise keep them: freed vectors are below the adaptive
// mmap threshold after the first large free).
constexpr size_t trim_bytes = size_t{64} << 20;

}  // namespace

void PostingList::add(uint32_t slot, float value, uint32_t block_bits) {
  if (slots.empty()) {
    max = min = value;
  } else {
    max = value > max ? value : max;
    min = value < min ? value : min;
  }
  slots.push_back(slot);
  values.push_back(value);
  const uint32_t first = slots.front() >> block_bits;
  const size_t blocks = (slot >> block_bits) - first + 1;
  if (block_max.empty()) {
    // Checked at powers of two only: amortised O(1) per posting.
    size_t n = slots.size();
    if ((n & (n - 1)) != 0 || !block_maxima_pay(n, blocks))
      return;
    block_max.assign(blocks, 0.0f);
    for (size_t i = 0; i < n; ++i) {
      float& m = block_max[(slots[i] >> block_bits) - first];
      m = std::max(m, std::abs(values[i]));
    }
    return;
  }
  if (block_max.size() < blocks)
    block_max.resize(blocks, 0.0f);
  float& m = block_max[blocks - 1];
  m = std::max(m, std::abs(value));
}

const BaseSegment::Term* BaseSegment::find(uint32_t term) const {
  auto it = std::lower_bound(terms.begin(), terms.end(), term,
                             [](const Term& t, uint32_t x) { return t.term < x; });
  return it != terms.end() && it->term == term ? &*it : nullptr;
}

void SparseIndex::upsert(uint64_t label, const std::vector<uint32_t>& indices,
                         std::vector<float> values) {
  if (slots_.size() >= std::numeric_limits<uint32_t>::max() - 1)
    merge();  // renumbers densely
  if (slots_.size() >= std::numeric_limits<uint32_t>::max() - 1)
    throw Error(errc::invalid_argument, "sparse index: more than 2^32 vectors");
  normalize_in_place(values, metric_);
  auto slot = static_cast<uint32_t>(slots_.size());
  double norm2 = 0;
  for (float x : values)
    norm2 += double{x} * x;
  if (auto it = slot_of_.find(label); it != slot_of_.end()) {
    kill(it->second);
    it->second = slot;
  } else {
    slot_of_.emplace(label, slot);
  }
  slots_.push_back(Slot{label, norm2, static_cast<uint32_t>(indices.size()), true});
  for (size_t i = 0; i < indices.size(); ++i)
    delta_[indices[i]].add(slot, values[i], block_bits_);
  delta_nnz_ += indices.size();
  maybe_merge();
}

bool SparseIndex::remove(uint64_t label) {
  auto it = slot_of_.find(label);
  if (it == slot_of_.end())
    return false;
  kill(it->second);
  slot_of_.erase(it);
  maybe_merge();
  return true;
}

void SparseIndex::clear() {
  base_ = BaseSegment{};
  delta_ = {};
  delta_nnz_ = dead_nnz_ = 0;
  base_slots_ = 0;
  slots_ = {};
  slot_of_ = {};
  malloc_trim(0);
}

void SparseIndex::kill(uint32_t slot) {
  auto& s = slots_[slot];
  s.alive = false;
  dead_nnz_ += s.nnz;
}

void SparseIndex::maybe_merge() {
  size_t total = postings();
  bool delta_due = delta_nnz_ >= std::max(min_delta, base_.slots.size() / delta_share);
  bool dead_due = dead_nnz_ >= min_delta && 2 * dead_nnz_ >= total;
  if (delta_due || dead_due)
    merge();
}

void SparseIndex::merge() {
  // Live slots keep their order under new, dense numbers; base slots all
  // precede delta slots, so each term's merged list stays ascending.
  constexpr uint32_t dead = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> renumber(slots_.size(), dead);
  std::vector<Slot> slots;
  slots.reserve(slot_of_.size());
  for (size_t s = 0; s < slots_.size(); ++s)
    if (slots_[s].alive) {
      renumber[s] = static_cast<uint32_t>(slots.size());
      slots.push_back(slots_[s]);
    }
  // Terms of both segments, ascending.
  std::vector<uint32_t> terms;
  terms.reserve(base_.terms.size() + delta_.size());
  for (const auto& t : base_.terms)
    terms.push_back(t.term);
  for (const auto& [term, list] : delta_)
    terms.push_back(term);
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());

  size_t live_nnz = postings() - dead_nnz_;
  BaseSegment next;
  next.slots.reserve(live_nnz);
  next.values.reserve(live_nnz);
  next.terms.reserve(terms.size());
  auto append = [&](BaseSegment::Term& t, const uint32_t* ss, const float* vs, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      uint32_t s = renumber[ss[i]];
      if (s == dead)
        continue;
      if (next.slots.size() == t.begin) {
        t.max = t.min = vs[i];
      } else {
        t.max = std::max(t.max, vs[i]);
        t.min = std::min(t.min, vs[i]);
      }
      next.slots.push_back(s);
      next.values.push_back(vs[i]);
    }
  };
  for (uint32_t term : terms) {
    BaseSegment::Term t{term, static_cast<uint32_t>(next.slots.size()), 0, 0, 0};
    if (const auto* b = base_.find(term))
      append(t, base_.slots.data() + b->begin, base_.values.data() + b->begin, b->end - b->begin);
    if (auto d = delta_.find(term); d != delta_.end())
      append(t, d->second.slots.data(), d->second.values.data(), d->second.slots.size());
    t.end = static_cast<uint32_t>(next.slots.size());
    if (t.end == t.begin)
      continue;
    const uint32_t first = next.slots[t.begin] >> block_bits_;
    const size_t blocks = (next.slots[t.end - 1] >> block_bits_) - first + 1;
    if (block_maxima_pay(t.end - t.begin, blocks)) {
      t.blocks = static_cast<uint32_t>(next.block_max.size());
      next.block_max.resize(next.block_max.size() + blocks, 0.0f);
      float* bm = next.block_max.data() + t.blocks;
      for (uint32_t i = t.begin; i < t.end; ++i) {
        float& m = bm[(next.slots[i] >> block_bits_) - first];
        m = std::max(m, std::abs(next.values[i]));
      }
    }
    next.terms.push_back(t);
  }
  if (next.slots.size() > std::numeric_limits<uint32_t>::max())
    throw Error(errc::invalid_argument, "sparse index: more than 2^32 postings");
  next.block_max.shrink_to_fit();
  size_t freed = (base_.slots.size() + delta_nnz_) * 8 + slots_.size() * sizeof(Slot);
  base_ = std::move(next);
  delta_ = {};
  delta_nnz_ = 0;
  dead_nnz_ = 0;
  slots_ = std::move(slots);
  base_slots_ = static_cast<uint32_t>(slots_.size());
  for (auto& [label, slot] : slot_of_)
    slot = renumber[slot];
  if (freed >= trim_bytes)
    malloc_trim(0);
}

}  // namespace caflow
