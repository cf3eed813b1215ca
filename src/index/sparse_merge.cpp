// SparseIndex's merges: the delta (frozen) and the mid into a new mid
// (minor), or all three tiers into a new base (major), built by a MergeJob
// off the lock, then installed with the writes that arrived meanwhile kept
// (carried over, renumbered, after a major one). See sparse_index.hpp and
// merge_policy.hpp.
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
  MergeKind kind = MergeKind::major;
  // Major: base and mid; minor: the mid. In slot order, all below frozen's.
  std::vector<std::shared_ptr<const BaseSegment>> segments;
  std::shared_ptr<const DeltaSegment> frozen;
  uint32_t origin = 0;      // the first slot merged: 0 (major) or the mid's
  std::vector<Slot> slots;  // slots [origin, frozen_end) as they were
  std::atomic<bool> cancelled{false};

  // Output of run().
  bool done = false;
  BaseSegment next;
  // Slot origin + i -> its number in `next`, or dead: dense renumbering
  // (major), the same number when alive (minor).
  std::vector<uint32_t> renumber;
  std::vector<Slot> next_slots;  // major only, as is next_slot_of
  std::unordered_map<uint64_t, uint32_t> next_slot_of;

  // What finish_merge() replaced, freed with the job.
  std::vector<Slot> old_slots;
  std::unordered_map<uint64_t, uint32_t> old_slot_of;
  size_t freed = 0;

  void run() override;
  void cancel() noexcept override { cancelled = true; }

  ~MergeJob() override {
    segments.clear();
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
  // Live slots keep their order; a major merge numbers them densely. The
  // segments' slots all precede frozen ones (and the base's the mid's), so
  // each term's merged list stays ascending.
  renumber.assign(slots.size(), dead);
  if (kind == MergeKind::major) {
    next_slots.reserve(slots.size());
    for (size_t s = 0; s < slots.size(); ++s)
      if (slots[s].alive) {
        renumber[s] = static_cast<uint32_t>(next_slots.size());
        next_slots.push_back(slots[s]);
      }
    next_slot_of.reserve(next_slots.size());
    for (uint32_t s = 0; s < next_slots.size(); ++s)
      next_slot_of.emplace(next_slots[s].label, s);
  } else {
    for (size_t s = 0; s < slots.size(); ++s)
      if (slots[s].alive)
        renumber[s] = origin + static_cast<uint32_t>(s);
  }
  // Terms of all segments, ascending.
  std::vector<uint32_t> terms;
  size_t all_terms = frozen->size();
  for (const auto& segment : segments)
    all_terms += segment->terms.size();
  terms.reserve(all_terms);
  for (const auto& segment : segments)
    for (const auto& t : segment->terms)
      terms.push_back(t.term);
  for (const auto& [term, list] : *frozen)
    terms.push_back(term);
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());

  // Two passes over the postings: first each term's live count and slot
  // range (to choose its form and size every array exactly), then the copy.
  struct Plan {
    uint32_t count = 0, first = 0, last = 0;
    bool nonzero = true;  // no stored value is 0 (a dense array's "absent")
  };
  std::vector<Plan> plans(terms.size());
  auto each = [&](uint32_t term, auto&& fn) {
    for (const auto& segment : segments)
      if (const auto* b = segment->find(term))
        segment->for_each(*b, fn);
    if (auto d = frozen->find(term); d != frozen->end())
      for (size_t i = 0; i < d->second.slots.size(); ++i)
        fn(d->second.slots[i], d->second.values[i]);
  };
  size_t sparse_total = 0, dense_total = 0;
  for (size_t j = 0; j < terms.size(); ++j) {
    if ((j & 1023) == 0 && cancelled)
      return;
    auto& p = plans[j];
    each(terms[j], [&](uint32_t slot, float v) {
      uint32_t s = renumber[slot - origin];
      if (s == dead)
        return;
      p.first = p.count == 0 ? s : p.first;
      p.last = s;
      p.nonzero = p.nonzero && v != 0;
      ++p.count;
    });
    if (p.count == 0)
      continue;
    if (p.nonzero && dense_pays(p.count, p.last - p.first + 1))
      dense_total += p.last - p.first + 1;
    else
      sparse_total += p.count;
  }
  if (sparse_total > std::numeric_limits<uint32_t>::max()
      || dense_total > std::numeric_limits<uint32_t>::max())
    throw Error(errc::invalid_argument, "sparse index: more than 2^32 postings");
  next.slots.reserve(sparse_total);
  next.values.reserve(sparse_total);
  next.dense.assign(dense_total, 0.0f);
  next.terms.reserve(terms.size());
  uint32_t dense_at = 0;
  for (size_t j = 0; j < terms.size(); ++j) {
    if ((j & 1023) == 0 && cancelled)
      return;
    const auto& p = plans[j];
    if (p.count == 0)
      continue;
    BaseSegment::Term t;
    t.term = terms[j];
    const uint32_t range = p.last - p.first + 1;
    t.dense = p.nonzero && dense_pays(p.count, range);
    t.first = p.first;
    t.begin = t.dense ? dense_at : static_cast<uint32_t>(next.slots.size());
    t.end = t.begin + (t.dense ? range : p.count);
    const uint32_t block0 = p.first >> block_bits;
    const size_t blocks = (p.last >> block_bits) - block0 + 1;
    float* bm = nullptr;
    if (block_maxima_pay(p.count, blocks)) {
      t.blocks = static_cast<uint32_t>(next.block_max.size());
      next.block_max.resize(next.block_max.size() + blocks, 0.0f);
      next.block_begin.resize(next.block_max.size(), 0);
      bm = next.block_max.data() + t.blocks;
    }
    bool any = false;
    each(t.term, [&](uint32_t slot, float v) {
      uint32_t s = renumber[slot - origin];
      if (s == dead)
        return;
      t.max = any ? std::max(t.max, v) : v;
      t.min = any ? std::min(t.min, v) : v;
      any = true;
      if (t.dense) {
        next.dense[dense_at + (s - p.first)] = v;
      } else {
        next.slots.push_back(s);
        next.values.push_back(v);
      }
      if (bm != nullptr) {
        float& m = bm[(s >> block_bits) - block0];
        m = std::max(m, std::abs(v));
      }
    });
    if (t.dense)
      dense_at += range;
    if (bm != nullptr && !t.dense) {
      uint32_t* bb = next.block_begin.data() + t.blocks;
      const uint32_t* ss = next.slots.data() + t.begin;
      uint32_t pos = 0;
      for (uint32_t j = 0; j < blocks; ++j) {
        while (pos < p.count && (ss[pos] >> block_bits) - block0 < j)
          ++pos;
        bb[j] = pos;
      }
    }
    next.nnz += p.count;
    next.terms.push_back(t);
  }
  next.block_max.shrink_to_fit();
  next.block_begin.shrink_to_fit();
  done = true;
}

MergeKind SparseIndex::merge_due() const noexcept {
  if (merging() || postings() < retry_at_)
    return MergeKind::none;
  return policy_.due(base_->nnz, mid_->nnz, delta_nnz_, dead_nnz_);
}

void SparseIndex::maybe_merge() {
  if (background_)
    return;
  if (auto kind = merge_due(); kind != MergeKind::none)
    merge(kind);
}

void SparseIndex::merge(MergeKind kind) {
  auto job = begin_merge(kind);
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

std::shared_ptr<IndexJob> SparseIndex::begin_merge(MergeKind force) {
  if (merging())
    return nullptr;
  const MergeKind kind = force != MergeKind::none ? force : merge_due();
  if (kind == MergeKind::none)
    return nullptr;
  auto job = std::make_shared<MergeJob>();
  job->generation = merge_generation_ = ++generations;
  merge_kind_ = job->kind = kind;
  job->block_bits = block_bits_;
  frozen_ = std::make_shared<const DeltaSegment>(std::move(delta_));
  delta_ = {};
  frozen_nnz_ = delta_nnz_;
  delta_nnz_ = 0;
  frozen_end_ = static_cast<uint32_t>(slots_.size());
  if (kind == MergeKind::major) {
    job->segments = {base_, mid_};
    job->origin = 0;
  } else {
    job->segments = {mid_};
    job->origin = base_slots_;
  }
  job->frozen = frozen_;
  job->slots.assign(slots_.begin() + job->origin, slots_.end());
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
  merge_kind_ = MergeKind::none;
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
  if (job->kind == MergeKind::minor)
    finish_minor(*job);
  else
    finish_major(*job);
}

void SparseIndex::finish_minor(MergeJob& job) {
  // No slot moved: the writes since begin_merge() (tombstones in the slot
  // table, postings in the delta, labels in slot_of_) stand as they are.
  // The new mid holds the postings of the slots alive at begin_merge();
  // the others were counted dead and are gone.
  dead_nnz_ -= mid_->nnz + frozen_nnz_ - job.next.nnz;
  job.freed = (mid_->nnz + frozen_nnz_) * 8;
  mid_ = std::make_shared<const BaseSegment>(std::move(job.next));
  frozen_ = nullptr;  // the job holds the old mid and frozen delta
  frozen_nnz_ = 0;
  mid_end_ = frozen_end_;
  frozen_end_ = 0;
  merges_.minor += 1;
}

void SparseIndex::finish_major(MergeJob& job) {
  const uint32_t merged = frozen_end_;
  auto& next_slots = job.next_slots;
  const auto merged_live = static_cast<uint32_t>(next_slots.size());
  const uint32_t shift = merged - merged_live;  // slots past the merged ones move down by this
  size_t dead_nnz = 0;
  // Writes since begin_merge(): tombstones of merged slots ...
  for (uint32_t s : merge_kills_) {
    auto& slot = next_slots[job.renumber[s]];
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
      job.next_slot_of[label] = it->second - shift;  // written since: past the merged slots
    else
      job.next_slot_of.erase(label);
  }
  job.freed = (base_->nnz + mid_->nnz + frozen_nnz_) * 8 + slots_.size() * sizeof(Slot);
  job.old_slots = std::exchange(slots_, std::move(next_slots));
  job.old_slot_of = std::exchange(slot_of_, std::move(job.next_slot_of));
  base_ = std::make_shared<const BaseSegment>(std::move(job.next));
  mid_ = std::make_shared<const BaseSegment>();
  frozen_ = nullptr;  // the job holds the old base, mid and frozen delta
  frozen_nnz_ = 0;
  frozen_end_ = 0;
  base_slots_ = mid_end_ = merged_live;
  dead_nnz_ = dead_nnz;
  merge_kills_ = {};
  merge_touched_ = {};
  merges_.major += 1;
}

}  // namespace caflow
