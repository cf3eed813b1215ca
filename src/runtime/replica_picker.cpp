#include "runtime/replica_picker.hpp"

namespace caflow::detail {

std::optional<size_t> ReplicaPicker::pick(const std::vector<ReplicaLoad>& loads) {
  return pick(loads, std::nullopt);
}

std::optional<size_t> ReplicaPicker::pick(const std::vector<ReplicaLoad>& loads,
                                          std::optional<size_t> exclude) {
  const size_t n = loads.size();
  if (n == 0)
    return std::nullopt;
  std::optional<size_t> best;
  // Scanning from the rotation point and keeping the first strict minimum
  // makes ties go to the earliest replica after the last chosen one.
  for (size_t step = 0; step < n; ++step) {
    size_t i = (next_ + step) % n;
    if (!loads[i].available || (exclude && *exclude == i))
      continue;
    if (!best || loads[i].in_flight < loads[*best].in_flight)
      best = i;
  }
  // A retry prefers another replica, but the excluded one beats failing.
  if (!best && exclude && *exclude < n && loads[*exclude].available)
    best = *exclude;
  if (best)
    next_ = (*best + 1) % n;
  return best;
}

}  // namespace caflow::detail
