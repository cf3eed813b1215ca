// Crash durability of a node daemon hosting an Indexer shard: the flow runs
// in this process and streams /index requests while the node is killed with
// SIGKILL at random points and restarted on the same port and workspace.
// Afterwards every acknowledged document is found (by /fetch and by
// searching its own embedding) and none is stored twice. The seed is printed;
// CAFLOW_CRASH_SEED=<seed> replays it.
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "best_matches.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "cluster/cluster_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;

namespace {

struct Ledger {
  std::mutex mtx;
  std::set<std::string> sent;  // every id ever in a request
  std::vector<std::string> acked;
};

unsigned seed_from_env_or_clock() {
  if (const char* s = std::getenv("CAFLOW_CRASH_SEED"))
    return static_cast<unsigned>(std::stoul(s));
  return static_cast<unsigned>(std::chrono::system_clock::now().time_since_epoch().count());
}

}  // namespace

TEST_CASE("a node hosting an Indexer shard, killed -9 at random points, keeps acknowledged docs") {
  REQUIRE(ExecutorRegistry::instance().stateful("Indexer"));
  auto seed = seed_from_env_or_clock();
  MESSAGE("node crash test seed: " << seed << " (replay with CAFLOW_CRASH_SEED=" << seed << ")");
  std::mt19937 rng{seed};

  auto ws2 = temp_dir("crash-n2");
  auto n1 = NodeProcess::start(temp_dir("crash-n1"));
  auto n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2));
  auto port2 = n2->port;
  Flow description{FlowOptions{.workspace = temp_dir("crash-flow")}};
  DeploymentOptions index{.name = "indexer", .uses = "Indexer", .shards = 2};
  // Three entries: with two, the braces would read as an iterator pair.
  index.polling = Polling{{{"/index", "PARTITION"}, {"/fetch", "ALL"}, {"*", "ALL"}}};
  index.uses_metas["hosts"] = Value{Value::Array{Value{n1.address}, Value{n2->address}}};
  index.timeout = std::chrono::seconds(20);  // bounds a request caught by the kill
  description.add(std::move(index));
  auto flow = description.start();
  REQUIRE_MESSAGE(flow, describe(flow));

  // The writer keeps going through the kills: requests fail while the node
  // is down and succeed again once it is back.
  Ledger ledger;
  std::atomic<bool> stop{false};
  std::thread writer{[&] {
    for (int next = 0; !stop;) {
      DocumentArray batch;
      {
        std::lock_guard<std::mutex> guard{ledger.mtx};
        for (int j = 0; j < 5; ++j, ++next) {
          auto& d = batch.emplace_back();
          d.id = "k" + std::to_string(next);
          d.embedding = embedding_of(next);
          ledger.sent.insert(d.id);  // before sending: it may be written
        }
      }
      auto result = flow->post("/index", batch, {.request_size = 5});
      if (!result) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      std::lock_guard<std::mutex> guard{ledger.mtx};
      for (const auto& d : batch)
        ledger.acked.push_back(d.id);
    }
  }};

  constexpr int rounds = 3;
  for (int round = 0; round < rounds; ++round) {
    auto delay = std::uniform_int_distribution<int>{200, 1500}(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    ::kill(n2->proc->pid(), SIGKILL);
    CHECK(n2->proc->wait(10s));
    n2.reset();
    n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2, port2));
    REQUIRE(eventually([&] {
      auto p = placement_of(*flow, "indexer");
      return p.size() == 2 && p[1].alive;
    }));
    std::lock_guard<std::mutex> guard{ledger.mtx};
    MESSAGE("round " << round << ": killed after " << delay << " ms; sent " << ledger.sent.size()
                     << ", acknowledged " << ledger.acked.size());
  }
  // Some writes after the last restart, so that the revived shard is used.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  writer.join();
  REQUIRE(ledger.acked.size() > 0);

  // /fetch asks both shards (ALL): a document stored on both, or twice,
  // would come back twice.
  DocumentArray ids;
  for (const auto& id : ledger.sent)
    ids.emplace_back().id = id;
  auto fetched = flow->post("/fetch", ids, {.request_size = 200});
  REQUIRE_MESSAGE(fetched, describe(fetched));
  CHECK(fetched->failed_shards == 0);
  std::map<std::string, int> seen;
  for (const auto& d : fetched->docs)
    ++seen[d.id];
  CHECK(seen.size() <= ledger.sent.size());
  for (const auto& [id, n] : seen)
    CHECK_MESSAGE(n == 1, id << " fetched " << n << " times");
  for (const auto& id : ledger.acked)
    CHECK_MESSAGE(seen.count(id) == 1, "acknowledged " << id << " is missing");

  DocumentArray queries;
  for (const auto& id : ledger.acked)
    queries.emplace_back().embedding = embedding_of(std::stoul(id.substr(1)));
  auto found = flow->post("/search", queries,
                          {.request_size = 100, .parameters = Params{{"top_k", int64_t{1}}}});
  REQUIRE_MESSAGE(found, describe(found));
  CHECK(found->failed_shards == 0);
  check_best_matches(found->docs, ledger.acked);
}
