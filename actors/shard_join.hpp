// Joins the answers of several shards to one request, delivering exactly once.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "caflow/messages.hpp"

namespace caflow::actors {

/// Collects one answer (or failure) per shard and calls `finish` once, after
/// the last shard reported. Copies of a response promise can each deliver;
/// funnelling every shard through one ShardJoin keeps the delivery single.
/// Used from one actor only (not thread-safe).
class ShardJoin {
 public:
  using Finish = std::function<void(std::vector<std::optional<Response>> answers,
                                    std::vector<std::string> failures)>;

  ShardJoin(size_t shards, Finish finish)
    : answers_(shards), pending_(shards), finish_(std::move(finish)) {
    if (pending_ == 0)
      complete();
  }

  /// Shard `k` answered.
  void answer(size_t k, Response resp) {
    if (done_ || answers_[k])
      return;
    answers_[k] = std::move(resp);
    step();
  }

  /// Shard `k` failed with `why` (already prefixed with the shard's name).
  void fail(size_t, std::string why) {
    if (done_)
      return;
    failures_.push_back(std::move(why));
    step();
  }

  /// Shard `k` had nothing to do (e.g. no documents of its partition).
  void skip(size_t k) {
    if (done_)
      return;
    answers_[k] = Response{};
    step();
  }

  [[nodiscard]] bool done() const noexcept { return done_; }

 private:
  void step() {
    if (--pending_ == 0)
      complete();
  }

  void complete() {
    done_ = true;
    finish_(std::move(answers_), std::move(failures_));
  }

  std::vector<std::optional<Response>> answers_;
  std::vector<std::string> failures_;
  size_t pending_;
  bool done_ = false;
  Finish finish_;
};

}  // namespace caflow::actors
