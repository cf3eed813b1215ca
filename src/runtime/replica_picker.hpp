/// Replica choice within a shard: the least busy available replica, ties
/// broken round robin (Jina uses plain round robin, which queues requests
/// behind a slow replica while others idle). Pure logic; no actors.
///
///   detail::ReplicaPicker picker;
///   if (auto i = picker.pick(loads)) send_to(replicas[*i]);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace caflow::detail {

/// What the picker knows about one replica.
struct ReplicaLoad {
  uint32_t in_flight = 0;  ///< requests sent and not yet answered
  bool available = true;   ///< false while dead or restarting
};

/// Picks replicas for one shard. Not thread-safe: owned by one head actor.
class ReplicaPicker {
 public:
  /// The index of an available replica with the fewest requests in flight;
  /// among equally loaded ones, the first at or after the rotation point,
  /// which then moves past the chosen one, so ties alternate. nullopt when no
  /// replica is available.
  std::optional<size_t> pick(const std::vector<ReplicaLoad>& loads);

  /// Like pick(loads), but avoids replica `exclude` (e.g. the one a request
  /// just failed on, for a retry): it is chosen only when no other replica is
  /// available.
  std::optional<size_t> pick(const std::vector<ReplicaLoad>& loads, std::optional<size_t> exclude);

 private:
  size_t next_ = 0;  ///< where the next scan for ties starts
};

}  // namespace caflow::detail
