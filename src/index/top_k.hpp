/// Selecting the k best of many scored labels. Header-only; pure.
///
///   TopK top(10, /*higher_better=*/true);
///   for (...) top.push(label, score);
///   std::vector<Hit> best = std::move(top).take();   // best first
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace caflow {

/// A stored vector's label and its score against one query.
struct Hit {
  uint64_t label = 0;
  float score = 0;
};

/// Keeps the k best hits pushed so far (a bounded heap whose top is the
/// worst kept hit). Ties are broken by label ascending so that results are
/// deterministic regardless of storage order. Not thread-safe.
class TopK {
 public:
  TopK(size_t k, bool higher_better) : k_(k), higher_(higher_better) { heap_.reserve(k); }

  /// Offers one hit; O(log k) when it enters, O(1) otherwise.
  void push(uint64_t label, float score) {
    if (k_ == 0)
      return;
    Hit h{label, score};
    if (heap_.size() < k_) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end(), cmp());
    } else if (better(h, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), cmp());
      heap_.back() = h;
      std::push_heap(heap_.begin(), heap_.end(), cmp());
    }
  }

  /// The kept hits, best first.
  std::vector<Hit> take() && {
    std::sort(heap_.begin(), heap_.end(),
              [this](const Hit& x, const Hit& y) { return better(x, y); });
    return std::move(heap_);
  }

 private:
  // Heap order: "less" means better, so the heap's front is the worst hit.
  struct Cmp {
    const TopK* self;
    bool operator()(const Hit& x, const Hit& y) const { return self->better(x, y); }
  };
  [[nodiscard]] Cmp cmp() const { return Cmp{this}; }

  [[nodiscard]] bool better(const Hit& x, const Hit& y) const {
    if (x.score != y.score)
      return higher_ ? x.score > y.score : x.score < y.score;
    return x.label < y.label;
  }

  size_t k_;
  bool higher_;
  std::vector<Hit> heap_;
};

}  // namespace caflow
