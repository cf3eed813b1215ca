#include <doctest/doctest.h>

#include <vector>

#include "runtime/replica_picker.hpp"

using caflow::detail::ReplicaLoad;
using caflow::detail::ReplicaPicker;

TEST_CASE("picker: picks the replica with the fewest requests in flight") {
  ReplicaPicker picker;
  std::vector<ReplicaLoad> loads{{3, true}, {1, true}, {2, true}};
  CHECK(picker.pick(loads) == 1u);
  loads[1].in_flight = 5;
  CHECK(picker.pick(loads) == 2u);
  loads[0].in_flight = 0;
  CHECK(picker.pick(loads) == 0u);
}

TEST_CASE("picker: ties alternate round robin") {
  ReplicaPicker picker;
  std::vector<ReplicaLoad> two(2);
  CHECK(picker.pick(two) == 0u);
  CHECK(picker.pick(two) == 1u);
  CHECK(picker.pick(two) == 0u);
  CHECK(picker.pick(two) == 1u);
  ReplicaPicker other;
  std::vector<ReplicaLoad> three(3);
  std::vector<size_t> seen;
  for (int i = 0; i < 6; ++i)
    seen.push_back(*other.pick(three));
  CHECK(seen == std::vector<size_t>{0, 1, 2, 0, 1, 2});
}

TEST_CASE("picker: ties rotate among the least busy only") {
  ReplicaPicker picker;
  std::vector<ReplicaLoad> loads{{1, true}, {4, true}, {1, true}};
  CHECK(picker.pick(loads) == 0u);
  CHECK(picker.pick(loads) == 2u);
  CHECK(picker.pick(loads) == 0u);
}

TEST_CASE("picker: load updates steer requests, as a head would apply them") {
  ReplicaPicker picker;
  std::vector<ReplicaLoad> loads(3);
  std::vector<size_t> seen;
  for (int i = 0; i < 6; ++i) {
    auto r = picker.pick(loads);
    REQUIRE(r);
    ++loads[*r].in_flight;
    seen.push_back(*r);
  }
  CHECK(seen == std::vector<size_t>{0, 1, 2, 0, 1, 2});
  loads[1].in_flight = 0;  // replica 1 answered everything
  CHECK(picker.pick(loads) == 1u);
}

TEST_CASE("picker: skips unavailable replicas; nullopt when none is available") {
  ReplicaPicker picker;
  std::vector<ReplicaLoad> loads{{0, false}, {7, true}, {0, false}};
  CHECK(picker.pick(loads) == 1u);
  CHECK(picker.pick(loads) == 1u);
  loads[1].available = false;
  CHECK(!picker.pick(loads).has_value());
  CHECK(!picker.pick(std::vector<ReplicaLoad>{}).has_value());
}

TEST_CASE("picker: exclude avoids a replica unless it is the only one left") {
  ReplicaPicker picker;
  std::vector<ReplicaLoad> loads{{0, true}, {5, true}};
  CHECK(picker.pick(loads, 0u) == 1u);  // busier, but not the excluded one
  CHECK(picker.pick(loads, 1u) == 0u);
  loads[1].available = false;
  CHECK(picker.pick(loads, 0u) == 0u);  // better than failing the retry
  loads[0].available = false;
  CHECK(!picker.pick(loads, 0u).has_value());
  CHECK(picker.pick(std::vector<ReplicaLoad>{{0, true}}, 3u) == 0u);  // out of range
  CHECK(picker.pick(std::vector<ReplicaLoad>{{0, true}}, std::nullopt) == 0u);
}
