/// Exact top-k search over sparse vectors, updated incrementally.
///
/// Each stored vector lives once, as postings (term -> slots and values):
///
///   base    an immutable CSR segment (terms sorted; per term its postings in
///           slot order and the largest and smallest value)
///   delta   per-term posting lists of the vectors written since the base
///           was built (their slots are all above the base's)
///   slots   per slot: label, squared norm, number of non-zeros, alive bit.
///           An update or delete only clears the old slot's alive bit
///           (a tombstone); an update writes a new slot into the delta.
///
/// A write costs O(its non-zeros). When the delta holds a quarter of the
/// base's postings, or tombstoned postings make up half of all, the next
/// write merges delta and base into a new base, dropping dead postings and
/// renumbering slots densely: amortised O(1) per posting, and never on the
/// read path, so every search sees every write before it and never rebuilds.
///
/// Search (sparse_search.cpp) is document-at-a-time MaxScore over one cursor
/// per (segment, query term), each with the upper bound of its contribution:
/// once the top-k is full, terms whose summed bounds cannot reach the k-th
/// score only confirm candidates that the others produce. Scores are summed in
/// the query's term order, in float, exactly as a brute-force accumulation
/// does, and pruning keeps a rounding margin, so the result equals brute
/// force bit for bit, ties (by TieBreak) included.
///
/// Thread-safety: const members may run concurrently; writes need exclusive
/// access (the shard's lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "caflow/document.hpp"
#include "index/metric.hpp"
#include "index/top_k.hpp"

namespace caflow {

/// One term's postings in a mutable segment: ascending slots and values.
struct PostingList {
  std::vector<uint32_t> slots;
  std::vector<float> values;
  float max = 0;  ///< the largest value (meaningful when non-empty)
  float min = 0;  ///< the smallest value

  void add(uint32_t slot, float value) {
    if (slots.empty()) {
      max = min = value;
    } else {
      max = value > max ? value : max;
      min = value < min ? value : min;
    }
    slots.push_back(slot);
    values.push_back(value);
  }
};

/// The immutable segment: every term's postings back to back (CSR).
struct BaseSegment {
  struct Term {
    uint32_t term = 0;
    uint32_t begin = 0, end = 0;  ///< range in slots/values
    float max = 0, min = 0;
  };
  std::vector<Term> terms;  ///< ascending by term
  std::vector<uint32_t> slots;
  std::vector<float> values;

  /// The entry of `term`, or nullptr.
  [[nodiscard]] const Term* find(uint32_t term) const;
};

/// Sparse exact index (see the file comment).
class SparseIndex {
 public:
  explicit SparseIndex(Metric metric) : metric_(metric) {}

  /// Live vectors.
  [[nodiscard]] size_t size() const noexcept { return slot_of_.size(); }
  /// Postings held, live and tombstoned (memory is ~8 bytes each).
  [[nodiscard]] size_t postings() const noexcept { return base_.slots.size() + delta_nnz_; }

  /// Stores the non-zeros `indices`/`values` (strictly increasing indices)
  /// under `label`, replacing its vector.
  void upsert(uint64_t label, const std::vector<uint32_t>& indices, std::vector<float> values);
  /// Removes `label`; false when absent.
  bool remove(uint64_t label);
  void clear();

  /// The best `k` hits for one query given as non-zeros (`indices` in any
  /// order, repeats allowed; each term counts in its position).
  [[nodiscard]] std::vector<Hit> search(const std::vector<uint32_t>& indices,
                                        std::vector<float> values, size_t k,
                                        const TieBreak& tie) const;

  /// Merges the delta into the base now (tests and benchmarks; writes do it
  /// when due).
  void merge();

  /// A position in one (segment, query term) posting list (sparse_search.cpp).
  struct Cursor;

 private:
  struct Slot {
    uint64_t label;
    double norm2;  // of the stored values, summed in index order
    uint32_t nnz;
    bool alive;
  };
  void kill(uint32_t slot);
  void maybe_merge();
  std::vector<Hit> search_maxscore(std::vector<Cursor>& cursors, size_t terms, size_t k,
                                   const TieBreak& tie) const;
  std::vector<Hit> search_euclidean(std::vector<Cursor>& cursors, const std::vector<float>& values,
                                    size_t k, const TieBreak& tie) const;

  Metric metric_;
  BaseSegment base_;
  std::unordered_map<uint32_t, PostingList> delta_;
  size_t delta_nnz_ = 0;
  size_t dead_nnz_ = 0;      // tombstoned postings, base and delta
  uint32_t base_slots_ = 0;  // slots below this are in the base
  std::vector<Slot> slots_;
  std::unordered_map<uint64_t, uint32_t> slot_of_;  // label -> live slot
};

}  // namespace caflow
