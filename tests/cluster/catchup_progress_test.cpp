// A long catch-up by snapshot shows its progress in the head's status (#12):
// the copy that is behind tells the head after each chunk it stored, so
// that `/status` shows `snapshot_docs` growing while the copy is
// `recovering` towards `catching_up_to`. Real nodes on loopback, the real
// Indexer.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "caflow/errors.hpp"
#include "cluster/cluster_fixture.hpp"
#include "cluster/replication_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;

TEST_CASE("a copy catching up by snapshot shows its progress in status as it goes") {
  constexpr size_t stored = 30000;
  auto ws2 = temp_dir("progress-n2");
  auto n1 = std::make_unique<NodeProcess>(NodeProcess::start(temp_dir("progress-n1")));
  auto n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2));
  auto port2 = n2->port;
  auto flow = replicated_flow(temp_dir("progress-flow"), {n1->address, n2->address}, 2,
                              Params{{"log_retention", 20}})
                .start();
  REQUIRE_MESSAGE(flow, describe(flow));
  REQUIRE(flow->post("/index", docs(0, stored), {.request_size = 500}));
  kill_node(n2);
  REQUIRE(eventually([&] { return copies(*flow).size() == 1; }));
  // More writes than the log keeps: it comes back to a snapshot of 60
  // chunks.
  REQUIRE(flow->post("/index", docs(stored, 100), {.request_size = 1}));
  n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2, port2));
  std::vector<int64_t> seen;  // snapshot_docs while it catches up
  bool target_shown = true;
  REQUIRE(eventually(
    [&] {
      auto v = head_status(*flow);
      const auto* p = v.find("placement");
      if (!p || !p->is_array() || p->as_array().size() < 2)
        return false;
      const auto& copy = p->as_array()[1];
      if (copy.get_string("copy", "") == "recovering") {
        target_shown = target_shown && copy.get_int("catching_up_to", -1) > 0;
        auto n = copy.get_int("snapshot_docs", 0);
        if (n > 0 && (seen.empty() || seen.back() != n))
          seen.push_back(n);
      }
      return all_in_sync(*flow, 2);
    },
    std::chrono::seconds(120)));
  CHECK(n2->proc->wait_for("taking a snapshot", std::chrono::seconds(10)));
  CHECK(n2->proc->wait_for("caught up from", std::chrono::seconds(10)));
  MESSAGE("snapshot progress seen: " << seen.size() << " values");
  CHECK(target_shown);
  // It moved while the snapshot went on, never backwards, never past it.
  CHECK(seen.size() >= 2);
  for (size_t i = 1; i < seen.size(); ++i)
    CHECK(seen[i] > seen[i - 1]);
  if (!seen.empty())
    CHECK(seen.back() <= static_cast<int64_t>(stored + 100));
  // In sync: no progress shown any more, and it holds everything.
  auto v = head_status(*flow);
  CHECK(v["placement"].as_array()[1].find("snapshot_docs") == nullptr);
  kill_node(n1);
  REQUIRE(eventually([&] { return copies(*flow).size() == 1; }));
  CHECK(count(*flow) == static_cast<int64_t>(stored + 100));
}
