#include "index/sparse_index.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <malloc.h>

#include "caflow/errors.hpp"

namespace caflow {

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
  if (merge_kind_ == MergeKind::major)
    merge_touched_.push_back(label);
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
  if (merge_kind_ == MergeKind::major)
    merge_touched_.push_back(label);
  maybe_merge();
  return true;
}

void SparseIndex::clear() {
  base_ = std::make_shared<const BaseSegment>();
  mid_ = std::make_shared<const BaseSegment>();
  frozen_ = nullptr;
  delta_ = {};
  frozen_nnz_ = delta_nnz_ = dead_nnz_ = 0;
  base_slots_ = mid_end_ = frozen_end_ = 0;
  slots_ = {};
  slot_of_ = {};
  merge_generation_ = 0;  // a job out is ignored when it comes back
  merge_kind_ = MergeKind::none;
  merge_kills_ = {};
  merge_touched_ = {};
  retry_at_ = 0;
  malloc_trim(0);
}

void SparseIndex::kill(uint32_t slot) {
  auto& s = slots_[slot];
  s.alive = false;
  dead_nnz_ += s.nnz;
  if (merge_kind_ == MergeKind::major && slot < frozen_end_)
    merge_kills_.push_back(slot);
}

}  // namespace caflow
