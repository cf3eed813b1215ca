// SparseIndex's merges: the delta (frozen) and the base into a new base,
// built by a MergeJob off the lock, then installed with the writes that
// arrived meanwhile carried over. See sparse_index.hpp.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <iostream>
#include <limits>

#include <malloc.h>

#include "caflow/errors.hpp"
#include "index/sparse_index.hpp"

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

constexpr uint32_t dead = std::numeric_limits<uint32_t>::max();

// Tells jobs of one index from those of another or of before a clear().
std::atomic<uint64_t> generations{0};

// Recomputes a list's block maxima after its slots moved (when it has them).
void rebuild_block_max(PostingList& list, uint32_t block_bits) {
  if (list.block_max.empty() || list.slots.empty())
    return;
  const uint32_t first = list.slots.front() >> block_bits;
  list.block_max.assign((list.slots.back() >> block_bits) - first + 1, 0.0f);
  for (size_t i = 0; i < list.slots.size(); ++i) {
    float& m = list.block_max[(list.slots[i] >> block_bits) - first];
    m = std::max(m, std::abs(list.values[i]));
  }
}

}  // namespace

struct SparseIndex::MergeJob final : IndexJob {
  // Input: what begin_merge() froze or copied.
  uint64_t generation = 0;
  uint32_t block_bits = 0;
  std::shared_ptr<const BaseSegment> base;
  std::shared_ptr<const DeltaSegment> frozen;
  std::vector<Slot> slots;  // slots [0, frozen_end) as they were
  size_t live_nnz = 0;      // live postings then (a reserve hint)
  std::atomic<bool> cancelled{false};

  // Output of run().
  bool done = false;
  BaseSegment next;
  std::vector<uint32_t> renumber;  // old slot -> new one, or dead
  std::vector<Slot> next_slots;
  std::unordered_map<uint64_t, uint32_t> next_slot_of;

  // What finish_merge() replaced, freed with the job.
  std::vector<Slot> old_slots;
  std::unordered_map<uint64_t, uint32_t> old_slot_of;
  size_t freed = 0;

  void run() override;
  void cancel() noexcept override { cancelled = true; }

  ~MergeJob() override {
    base.reset();
    frozen.reset();
    old_slots = {};
    old_slot_of = {};
    if (freed >= trim_bytes)
      malloc_trim(0);
  }
};

void SparseIndex::MergeJob::run() {
  if (cancelled)
    return;
  // Live slots keep their order under new, dense numbers; base slots all
  // precede frozen ones, so each term's merged list stays ascending.
  renumber.assign(slots.size(), dead);
  next_slots.reserve(slots.size());
  for (size_t s = 0; s < slots.size(); ++s)
    if (slots[s].alive) {
      renumber[s] = static_cast<uint32_t>(next_slots.size());
      next_slots.push_back(slots[s]);
    }
  next_slot_of.reserve(next_slots.size());
  for (uint32_t s = 0; s < next_slots.size(); ++s)
    next_slot_of.emplace(next_slots[s].label, s);
  // Terms of both segments, ascending.
  std::vector<uint32_t> terms;
  terms.reserve(base->terms.size() + frozen->size());
  for (const auto& t : base->terms)
    terms.push_back(t.term);
  for (const auto& [term, list] : *frozen)
    terms.push_back(term);
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());

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
  size_t since_check = 0;
  for (uint32_t term : terms) {
    if (++since_check == 1024) {
      since_check = 0;
      if (cancelled)
        return;
    }
    BaseSegment::Term t{term, static_cast<uint32_t>(next.slots.size()), 0, 0, 0};
    if (const auto* b = base->find(term))
      append(t, base->slots.data() + b->begin, base->values.data() + b->begin, b->end - b->begin);
    if (auto d = frozen->find(term); d != frozen->end())
      append(t, d->second.slots.data(), d->second.values.data(), d->second.slots.size());
    if (next.slots.size() > std::numeric_limits<uint32_t>::max())
      throw Error(errc::invalid_argument, "sparse index: more than 2^32 postings");
    t.end = static_cast<uint32_t>(next.slots.size());
    if (t.end == t.begin)
      continue;
    const uint32_t first = next.slots[t.begin] >> block_bits;
    const size_t blocks = (next.slots[t.end - 1] >> block_bits) - first + 1;
    if (block_maxima_pay(t.end - t.begin, blocks)) {
      t.blocks = static_cast<uint32_t>(next.block_max.size());
      next.block_max.resize(next.block_max.size() + blocks, 0.0f);
      float* bm = next.block_max.data() + t.blocks;
      for (uint32_t i = t.begin; i < t.end; ++i) {
        float& m = bm[(next.slots[i] >> block_bits) - first];
        m = std::max(m, std::abs(next.values[i]));
      }
    }
    next.terms.push_back(t);
  }
  next.block_max.shrink_to_fit();
  done = true;
}

bool SparseIndex::merge_due() const noexcept {
  if (merging() || postings() < retry_at_)
    return false;
  bool delta_due = delta_nnz_ >= std::max(min_delta, base_->slots.size() / delta_share);
  bool dead_due = dead_nnz_ >= min_delta && 2 * dead_nnz_ >= postings();
  return delta_due || dead_due;
}

void SparseIndex::maybe_merge() {
  if (!background_ && merge_due())
    merge();
}

void SparseIndex::merge() {
  auto job = begin_merge(/*force=*/true);
  if (!job)
    return;
  try {
    job->run();
  } catch (...) {
    finish_merge(job);  // installs nothing: the delta is back as it was
    throw;
  }
  finish_merge(job);
}

std::shared_ptr<IndexJob> SparseIndex::begin_merge(bool force) {
  if (merging() || (!force && !merge_due()))
    return nullptr;
  auto job = std::make_shared<MergeJob>();
  job->generation = merge_generation_ = ++generations;
  job->block_bits = block_bits_;
  job->live_nnz = postings() - dead_nnz_;
  frozen_ = std::make_shared<const DeltaSegment>(std::move(delta_));
  delta_ = {};
  frozen_nnz_ = delta_nnz_;
  delta_nnz_ = 0;
  frozen_end_ = static_cast<uint32_t>(slots_.size());
  job->base = base_;
  job->frozen = frozen_;
  job->slots = slots_;
  merge_kills_.clear();
  merge_touched_.clear();
  return job;
}

void SparseIndex::unfreeze() {
  // Frozen slots all precede the delta's: each term's list is the frozen
  // one followed by the delta's. (A copy: the job may still hold the frozen
  // segment. Only after a cancelled or failed merge.)
  DeltaSegment delta = *frozen_;
  frozen_ = nullptr;
  for (auto& [term, later] : delta_) {
    auto& list = delta[term];
    for (size_t i = 0; i < later.slots.size(); ++i)
      list.add(later.slots[i], later.values[i], block_bits_);
  }
  delta_ = std::move(delta);
  delta_nnz_ += frozen_nnz_;
  frozen_nnz_ = 0;
  frozen_end_ = 0;
}

void SparseIndex::finish_merge(const std::shared_ptr<IndexJob>& any) {
  auto job = std::dynamic_pointer_cast<MergeJob>(any);
  if (!job || job->generation != merge_generation_ || !merging())
    return;  // not this index's, or handed out before a clear()
  merge_generation_ = 0;
  if (!job->done) {
    // Cancelled or failed: back to one delta; no retry before the index
    // has grown by half.
    unfreeze();
    retry_at_ = postings() + postings() / 2;
    merge_kills_ = {};
    merge_touched_ = {};
    return;
  }
  retry_at_ = 0;
  const uint32_t merged = frozen_end_;
  auto& next_slots = job->next_slots;
  const auto merged_live = static_cast<uint32_t>(next_slots.size());
  const uint32_t shift = merged - merged_live;  // slots past the merged ones move down by this
  size_t dead_nnz = 0;
  // Writes since begin_merge(): tombstones of merged slots ...
  for (uint32_t s : merge_kills_) {
    auto& slot = next_slots[job->renumber[s]];
    slot.alive = false;
    dead_nnz += slot.nnz;
  }
  // ... and slots written since, with their postings and labels.
  next_slots.insert(next_slots.end(), slots_.begin() + merged, slots_.end());
  for (size_t s = merged_live; s < next_slots.size(); ++s)
    dead_nnz += next_slots[s].alive ? 0 : next_slots[s].nnz;
  if (shift != 0)
    for (auto& [term, list] : delta_) {
      for (auto& s : list.slots)
        s -= shift;
      rebuild_block_max(list, block_bits_);
    }
  for (uint64_t label : merge_touched_) {
    if (auto it = slot_of_.find(label); it != slot_of_.end())
      job->next_slot_of[label] = it->second - shift;  // written since: past the merged slots
    else
      job->next_slot_of.erase(label);
  }
  job->freed = (base_->slots.size() + frozen_nnz_) * 8 + slots_.size() * sizeof(Slot);
  job->old_slots = std::exchange(slots_, std::move(next_slots));
  job->old_slot_of = std::exchange(slot_of_, std::move(job->next_slot_of));
  base_ = std::make_shared<const BaseSegment>(std::move(job->next));
  frozen_ = nullptr;  // the job holds the old base and frozen delta
  frozen_nnz_ = 0;
  frozen_end_ = 0;
  base_slots_ = merged_live;
  dead_nnz_ = dead_nnz;
  merge_kills_ = {};
  merge_touched_ = {};
}

}  // namespace caflow
