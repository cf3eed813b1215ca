/// Exact top-k search over sparse vectors, updated incrementally.
///
/// Each stored vector lives once, as postings (term -> slots and values),
/// in one of three tiers, each over its own range of slots:
///
///   base    an immutable CSR segment (terms sorted; per term its postings in
///           slot order, the largest and smallest value, and for lists dense
///           enough to pay for it the largest |value| of each block of
///           2^block_bits slots)
///   mid     a second such segment, over the slots written since the base
///           was built (all above the base's)
///   delta   per-term posting lists of the vectors written since the mid
///           was built (their slots are all above the mid's), with block
///           maxima too once a list is long enough
///   slots   per slot: label, squared norm, number of non-zeros, alive bit.
///           An update or delete only clears the old slot's alive bit
///           (a tombstone); an update writes a new slot into the delta.
///
/// A write costs O(its non-zeros). A MergePolicy (merge_policy.hpp) says
/// when the tiers are folded: a minor merge rebuilds the mid from mid and
/// delta (dropping their dead postings; slots keep their numbers, the dead
/// ones stay as holes) when the delta reaches 1/32 of base and mid; a major
/// merge builds a new base from all three (dropping dead postings and
/// renumbering slots densely) when mid and delta reach a quarter of the
/// base, or tombstoned postings make up half of all. So the delta stays
/// small beside the index, and the base is rewritten only once per quarter
/// of growth (amortised O(1) per posting for each kind). By default the
/// write that makes a merge due merges in place; with background merges on
/// (the Indexer's shards) writes never merge: the owner takes the merge as
/// an IndexJob (begin_merge, under its exclusive lock: the delta becomes a
/// frozen segment that searches go on reading, writes go to a fresh
/// delta), runs it on another thread without any lock while searches and
/// writes go on, and installs it (finish_merge, exclusive again): the new
/// segment replaces those it was built from, and the writes that arrived
/// meanwhile are kept — after a minor merge as they are (no slot moved),
/// after a major one carried over, renumbered (their delta postings, their
/// tombstones of merged slots, their labels), in O(those writes). Every
/// search sees every write before it, merging or not, and never rebuilds.
///
/// Search (sparse_search.cpp) goes one window of slots at a time (a block,
/// cut where one segment's slots end and the next one's begin, so that a
/// window holds one segment's postings only) over one cursor per (segment,
/// query term); in each window every cursor there has an upper bound of
/// what it adds (its block maximum times the query's weight).
/// Until theta (the k-th score) is known and positive, a window is scored
/// exhaustively: every cursor's postings, term by term in query order, into
/// float sums (brute force's own sums, sequential reads only). After that:
///   - a block where all bounds together cannot reach theta is skipped;
///   - one where no cursor can be left out is scored exhaustively;
///   - else the cursors with the largest bound per entry read (a rare
///     term's few postings before a common term's dense array) are summed
///     into partial sums until at most 1/64 of the block's documents can
///     still reach theta with the bounds of the others (estimated on a
///     sample); those few are looked up in the other cursors term by term,
///     largest bound first, each dropping out once its partial sum plus the
///     bounds left falls below theta, and the survivors scored exactly.
/// Theta rises with the index, so the larger it is the more common terms
/// are only looked up, for a few documents: cost grows more slowly than the
/// postings. Exact scores are always float sums in the query's term order,
/// as a brute-force accumulation computes them, and pruning keeps a
/// rounding margin, so the result equals brute force bit for bit, ties (by
/// TieBreak) included.
///
/// Thread-safety: const members may run concurrently; writes, begin_merge()
/// and finish_merge() need exclusive access (the shard's lock); a merge
/// job's run() needs none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <unordered_map>
#include <vector>

#include "caflow/document.hpp"
#include "index/index_job.hpp"
#include "index/merge_policy.hpp"
#include "index/metric.hpp"
#include "index/top_k.hpp"

namespace caflow {

/// One term's postings in a mutable segment: ascending slots and values.
struct PostingList {
  std::vector<uint32_t> slots;
  std::vector<float> values;
  float max = 0;  ///< the largest value (meaningful when non-empty)
  float min = 0;  ///< the smallest value
  /// Per block of slots from the first posting's block on, the largest
  /// |value|; empty until the list is dense enough (block_maxima_pay).
  std::vector<float> block_max;

  void add(uint32_t slot, float value, uint32_t block_bits);
};

/// True when per-block maxima over `blocks` blocks pay for themselves on a
/// list of `postings` postings (at least two postings a block on average:
/// at most 2 bytes per posting, and only dense lists gain from them).
[[nodiscard]] constexpr bool block_maxima_pay(size_t postings, size_t blocks) noexcept {
  return postings >= 64 && postings >= 2 * blocks;
}

/// True when a base list of `postings` postings over `range` slots is kept
/// as a dense array of `range` floats (0 = absent): at half density or more
/// it takes no more memory than slot/value pairs, and a search streams it
/// with vector instructions instead of scattering posting by posting.
[[nodiscard]] constexpr bool dense_pays(size_t postings, size_t range) noexcept {
  return postings >= 64 && 2 * postings >= range;
}

/// The immutable segment: every term's postings back to back (CSR), the
/// dense ones (dense_pays, no value 0) as float arrays.
struct BaseSegment {
  static constexpr uint32_t no_blocks = UINT32_MAX;
  struct Term {
    uint32_t term = 0;
    /// Range in slots/values, or (dense) in `dense`: slot first + i at i.
    uint32_t begin = 0, end = 0;
    float max = 0, min = 0;
    /// Offset of its block maxima in block_max (from the block of its first
    /// slot to that of its last), or no_blocks; for a sparse list also of
    /// its blocks' first postings in block_begin.
    uint32_t blocks = no_blocks;
    uint32_t first = 0;  ///< dense: the slot of dense[begin]
    bool dense = false;
  };
  std::vector<Term> terms;  ///< ascending by term
  std::vector<uint32_t> slots;
  std::vector<float> values;
  std::vector<float> dense;
  std::vector<float> block_max;
  /// Per block of a sparse list with block maxima: the position (from the
  /// list's begin) of its first posting there, so that a block's postings
  /// are a counted range.
  std::vector<uint32_t> block_begin;
  size_t nnz = 0;  ///< postings held, in both forms

  /// The entry of `term`, or nullptr.
  [[nodiscard]] const Term* find(uint32_t term) const;

  /// Calls fn(slot, value) for each posting of `t`, in slot order.
  template <class F>
  void for_each(const Term& t, F&& fn) const {
    if (t.dense) {
      for (uint32_t i = t.begin; i < t.end; ++i)
        if (dense[i] != 0)
          fn(t.first + (i - t.begin), dense[i]);
      return;
    }
    for (uint32_t i = t.begin; i < t.end; ++i)
      fn(slots[i], values[i]);
  }
};

/// A mutable segment: term -> its postings.
using DeltaSegment = std::unordered_map<uint32_t, PostingList>;

/// Many vectors at once, row by row, for SparseIndex::build().
struct SparseRows {
  std::vector<uint64_t> labels;
  std::vector<size_t> offsets{0};  ///< row r: [offsets[r], offsets[r + 1])
  std::vector<uint32_t> indices;   ///< strictly increasing within a row
  std::vector<float> values;

  void add(uint64_t label, const std::vector<uint32_t>& idx, const std::vector<float>& vals) {
    labels.push_back(label);
    indices.insert(indices.end(), idx.begin(), idx.end());
    values.insert(values.end(), vals.begin(), vals.end());
    offsets.push_back(indices.size());
  }
};

/// Sparse exact index (see the file comment).
class SparseIndex {
 public:
  /// Blocks of 2^13 slots: a block's scores (32 KiB of floats) stay in the
  /// L1/L2 cache while its postings stream through, each dense array's
  /// share of a block is a long sequential run, and per-block work (a bound
  /// per cursor) stays small beside the scans. Measured against 2^12 and
  /// 2^14 with `caflow-bench sparse` (2^12: 0.85x at 120k, 2^14: 0.85x at
  /// 30k).
  static constexpr uint32_t default_block_bits = 13;

  /// `block_bits` sets the block size, `policy` when merges are due (tests
  /// use small ones of both).
  explicit SparseIndex(Metric metric, uint32_t block_bits = default_block_bits,
                       MergePolicy policy = {})
    : metric_(metric), block_bits_(block_bits), policy_(policy) {}

  /// Live vectors.
  [[nodiscard]] size_t size() const noexcept { return slot_of_.size(); }
  /// Postings held, live and tombstoned (memory is ~8 bytes each).
  [[nodiscard]] size_t postings() const noexcept {
    return base_->nnz + mid_->nnz + frozen_nnz_ + delta_nnz_;
  }
  /// Postings tombstoned, in all tiers (tests and benchmarks).
  [[nodiscard]] size_t dead_postings() const noexcept { return dead_nnz_; }
  /// Postings of the mid segment (tests and benchmarks).
  [[nodiscard]] size_t mid_postings() const noexcept { return mid_->nnz; }

  /// Base and mid terms kept as dense arrays (tests and benchmarks).
  [[nodiscard]] size_t dense_terms() const noexcept {
    size_t n = 0;
    for (const auto* segment : {base_.get(), mid_.get()})
      for (const auto& t : segment->terms)
        n += t.dense ? 1 : 0;
    return n;
  }

  /// Merges installed so far, of each kind (tests and benchmarks).
  using MergeCounts = caflow::MergeCounts;
  [[nodiscard]] MergeCounts merges() const noexcept { return merges_; }

  /// Stores the non-zeros `indices`/`values` (strictly increasing indices)
  /// under `label`, replacing its vector.
  void upsert(uint64_t label, const std::vector<uint32_t>& indices, std::vector<float> values);
  /// Removes `label`; false when absent.
  bool remove(uint64_t label);
  void clear();
  /// Replaces everything with `rows` (a later row of a label replaces an
  /// earlier one), built as one base in O(non-zeros): rows transposed by a
  /// counting sort, then one merge (sparse_build.cpp). What an open that
  /// reloads a shard uses instead of an upsert per vector.
  void build(SparseRows rows);

  /// The best `k` hits for one query given as non-zeros (`indices` in any
  /// order, repeats allowed; each term counts in its position).
  [[nodiscard]] std::vector<Hit> search(const std::vector<uint32_t>& indices,
                                        std::vector<float> values, size_t k,
                                        const TieBreak& tie) const;

  /// Merges now (tests and benchmarks; writes do it when due): by default
  /// everything into the base, or (minor) the delta into the mid. Does
  /// nothing while a merge job is out.
  void merge(MergeKind kind = MergeKind::major);

  /// Background merges (see the file comment): writes no longer merge in
  /// place; the owner asks begin_merge() after writes. Default: off
  void set_background_merges(bool on) noexcept { background_ = on; }
  /// A merge job when one is due (or of kind `force`), else nullptr; never
  /// while another job is out. Freezes the delta and copies the slot table
  /// of the slots it merges (a memcpy: all of them for a major merge, the
  /// mid's and the delta's for a minor one). Exclusive.
  [[nodiscard]] std::shared_ptr<IndexJob> begin_merge(MergeKind force = MergeKind::none);
  /// Installs a job begin_merge() handed out, after its run(); a cancelled,
  /// failed or unrun job installs nothing (the frozen segment goes back into
  /// the delta), a job of another index or of before a clear() is ignored.
  /// O(writes since begin_merge). Exclusive. The replaced segments go into
  /// the job, freed with it (outside the lock, by whoever drops it last).
  void finish_merge(const std::shared_ptr<IndexJob>& job);
  /// True while a job is out.
  [[nodiscard]] bool merging() const noexcept { return merge_generation_ != 0; }
  /// The merge due now by the policy (none while a job is out).
  [[nodiscard]] MergeKind merge_due() const noexcept;

  /// A position in one (segment, query term) posting list (sparse_search.cpp).
  struct Cursor;
  /// A merge in progress (sparse_merge.cpp).
  struct MergeJob;

 private:
  struct Slot {
    uint64_t label;
    double norm2;  // of the stored values, summed in index order
    uint32_t nnz;
    bool alive;
  };
  void kill(uint32_t slot);
  void maybe_merge();
  void finish_minor(MergeJob& job);
  void finish_major(MergeJob& job);
  void unfreeze();
  std::vector<Hit> search_blockmax(std::vector<Cursor>& cursors, size_t terms, size_t k,
                                   const TieBreak& tie) const;
  std::vector<Hit> search_euclidean(std::vector<Cursor>& cursors, const std::vector<float>& values,
                                    size_t k, const TieBreak& tie) const;

  Metric metric_;
  uint32_t block_bits_;
  MergePolicy policy_;
  bool background_ = false;
  std::shared_ptr<const BaseSegment> base_ = std::make_shared<const BaseSegment>();
  // Slots [base_slots_, mid_end_); empty (mid_end_ == base_slots_) after a
  // major merge.
  std::shared_ptr<const BaseSegment> mid_ = std::make_shared<const BaseSegment>();
  // The delta being merged (slots [mid_end_, frozen_end_)), or null.
  std::shared_ptr<const DeltaSegment> frozen_;
  DeltaSegment delta_;
  size_t frozen_nnz_ = 0;
  size_t delta_nnz_ = 0;
  size_t dead_nnz_ = 0;      // tombstoned postings, all segments
  uint32_t base_slots_ = 0;  // slots below this are in the base
  uint32_t mid_end_ = 0;     // slots below this are in the base or the mid
  uint32_t frozen_end_ = 0;  // while merging: slots below this are merged
  std::vector<Slot> slots_;
  std::unordered_map<uint64_t, uint32_t> slot_of_;  // label -> live slot
  // The job out (0: none) and its kind; for a major one, the slots below
  // frozen_end_ killed and the labels written since it began, for
  // finish_merge to carry over (a minor one moves no slot).
  uint64_t merge_generation_ = 0;
  MergeKind merge_kind_ = MergeKind::none;
  std::vector<uint32_t> merge_kills_;
  std::vector<uint64_t> merge_touched_;
  MergeCounts merges_;
  size_t retry_at_ = 0;  // after a failed merge: the postings to reach first
};

}  // namespace caflow
