// SparseIndex::build: a whole index from rows at once (a shard's reload at
// open). The rows become a base of plain posting lists by a counting sort on
// the terms, and one merge turns that into the final base (dense arrays,
// block maxima): O(non-zeros), no per-posting hash lookups, and no delta
// growing by doubling vectors.
#include <algorithm>
#include <limits>
#include <unordered_map>

#include "caflow/errors.hpp"
#include "index/sparse_index.hpp"

namespace caflow {

namespace {

// Terms below this are counted in an array (4 bytes each); an index of
// larger term numbers numbers its terms through a hash map first.
constexpr uint32_t array_terms = uint32_t{1} << 24;

}  // namespace

void SparseIndex::build(SparseRows rows) {
  clear();
  const size_t n = rows.labels.size();
  if (n >= std::numeric_limits<uint32_t>::max() - 1)
    throw Error(errc::invalid_argument, "sparse index: more than 2^32 vectors");
  if (rows.indices.size() > std::numeric_limits<uint32_t>::max())
    throw Error(errc::invalid_argument, "sparse index: more than 2^32 postings");
  slots_.reserve(n);
  slot_of_.reserve(n);
  std::vector<float> row;
  for (size_t r = 0; r < n; ++r) {
    const size_t b = rows.offsets[r], e = rows.offsets[r + 1];
    row.assign(rows.values.begin() + static_cast<ptrdiff_t>(b),
               rows.values.begin() + static_cast<ptrdiff_t>(e));
    normalize_in_place(row, metric_);
    double norm2 = 0;
    for (float x : row)
      norm2 += double{x} * x;
    std::copy(row.begin(), row.end(), rows.values.begin() + static_cast<ptrdiff_t>(b));
    auto slot = static_cast<uint32_t>(r);
    if (auto [it, fresh] = slot_of_.emplace(rows.labels[r], slot); !fresh) {
      kill(it->second);
      it->second = slot;
    }
    slots_.push_back(Slot{rows.labels[r], norm2, static_cast<uint32_t>(e - b), true});
  }
  // Term numbers, dense from 0, in ascending term order.
  uint32_t max_term = 0;
  for (uint32_t t : rows.indices)
    max_term = std::max(max_term, t);
  std::vector<uint32_t> term_of;                  // dense number -> term
  std::vector<uint32_t> id;                       // term -> dense number (array_terms), or
  std::unordered_map<uint32_t, uint32_t> id_map;  // the same for larger terms
  if (!rows.indices.empty() && max_term < array_terms) {
    id.assign(size_t{max_term} + 1, 0);
    for (uint32_t t : rows.indices)
      id[t] = 1;
    for (uint32_t t = 0; t <= max_term; ++t)
      if (id[t] != 0) {
        id[t] = static_cast<uint32_t>(term_of.size());
        term_of.push_back(t);
      }
  } else {
    for (uint32_t t : rows.indices)
      id_map.emplace(t, 0);
    for (const auto& [t, unused] : id_map)
      term_of.push_back(t);
    std::sort(term_of.begin(), term_of.end());
    for (uint32_t j = 0; j < term_of.size(); ++j)
      id_map[term_of[j]] = j;
  }
  auto number = [&](uint32_t t) { return id.empty() ? id_map.at(t) : id[t]; };
  // Counting sort by term: each term's postings in slot order.
  std::vector<uint32_t> begin(term_of.size() + 1, 0);
  for (uint32_t t : rows.indices)
    ++begin[number(t) + 1];
  for (size_t j = 1; j < begin.size(); ++j)
    begin[j] += begin[j - 1];
  auto plain = std::make_shared<BaseSegment>();
  plain->nnz = rows.indices.size();
  plain->slots.resize(rows.indices.size());
  plain->values.resize(rows.indices.size());
  {
    std::vector<uint32_t> at(begin.begin(), begin.end() - 1);
    for (size_t r = 0; r < n; ++r)
      for (size_t i = rows.offsets[r]; i < rows.offsets[r + 1]; ++i) {
        uint32_t& p = at[number(rows.indices[i])];
        plain->slots[p] = static_cast<uint32_t>(r);
        plain->values[p] = rows.values[i];
        ++p;
      }
  }
  rows = SparseRows{};  // its memory back before the merge copies the postings
  plain->terms.resize(term_of.size());
  for (size_t j = 0; j < term_of.size(); ++j) {
    auto& t = plain->terms[j];
    t.term = term_of[j];
    t.begin = begin[j];
    t.end = begin[j + 1];
  }
  base_ = std::move(plain);  // no block maxima, no dense arrays: the merge adds them
  base_slots_ = mid_end_ = static_cast<uint32_t>(n);
  merge();
}

}  // namespace caflow
