/// Selecting the k best of many scored labels. Header-only; pure.
///
///   TopK top(10, /*higher_better=*/true);
///   for (...) top.push(label, score);
///   std::vector<Hit> best = std::move(top).take();   // best first
///
/// Equal scores are ordered by a TieBreak (the Indexer passes one that
/// compares document ids, so that a document's rank does not depend on the
/// shard or the order it was written in); without one, by label.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace caflow {

/// A stored vector's label and its score against one query.
struct Hit {
  uint64_t label = 0;
  float score = 0;
};

/// Orders two labels whose scores tie: true when `a` ranks first. Must be a
/// strict weak order. An empty TieBreak orders by label ascending.
using TieBreak = std::function<bool(uint64_t a, uint64_t b)>;

/// Ranks hits: better score first, ties by a TieBreak. Cheap to copy.
class HitOrder {
 public:
  HitOrder(bool higher_better, const TieBreak* tie) : higher_(higher_better), tie_(tie) {}

  /// True when `x` ranks strictly before `y`.
  [[nodiscard]] bool operator()(const Hit& x, const Hit& y) const {
    if (x.score != y.score)
      return higher_ ? x.score > y.score : x.score < y.score;
    if (x.label == y.label)
      return false;
    return tie_ != nullptr && *tie_ ? (*tie_)(x.label, y.label) : x.label < y.label;
  }

 private:
  bool higher_;
  const TieBreak* tie_;
};

/// Keeps the k best hits pushed so far (a bounded heap whose top is the
/// worst kept hit), ranked by HitOrder. Not thread-safe. `tie` must outlive
/// the TopK.
class TopK {
 public:
  TopK(size_t k, bool higher_better, const TieBreak* tie = nullptr)
    : k_(k), order_(higher_better, tie) {
    heap_.reserve(k);
  }

  /// Offers one hit; O(log k) when it enters, O(1) otherwise.
  void push(uint64_t label, float score) {
    if (k_ == 0)
      return;
    Hit h{label, score};
    if (heap_.size() < k_) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end(), order_);
    } else if (order_(h, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), order_);
      heap_.back() = h;
      std::push_heap(heap_.begin(), heap_.end(), order_);
    }
  }

  /// True when k hits are kept: a new hit must then beat worst().
  [[nodiscard]] bool full() const noexcept { return k_ > 0 && heap_.size() == k_; }
  /// The score of the worst kept hit (when full()).
  [[nodiscard]] float worst() const noexcept { return heap_.front().score; }

  /// The kept hits, best first.
  std::vector<Hit> take() && {
    std::sort(heap_.begin(), heap_.end(), order_);
    return std::move(heap_);
  }

 private:
  size_t k_;
  HitOrder order_;
  std::vector<Hit> heap_;
};

}  // namespace caflow
