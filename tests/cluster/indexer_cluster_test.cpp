// The real Indexer (RocksDB) across nodes: a shard's node is killed (-9) and
// restarted on the same port and workspace; every acknowledged document is
// found again.
#include <doctest/doctest.h>

#include <signal.h>

#include <set>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "cluster/cluster_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;

namespace {

DocumentArray embedded_docs(size_t first, size_t n) {
  auto docs = numbered_docs(first, n);
  for (auto& d : docs) {
    std::vector<float> v(8, 0.1f);
    v[d.tags.get_int("x", 0) % 8] += 1.0f;
    v[(d.tags.get_int("x", 0) / 8) % 8] += 0.5f;
    d.embedding = Embedding::dense_vector(std::move(v));
  }
  return docs;
}

std::set<std::string> everything(RunningFlow& flow) {
  auto q = embedded_docs(0, 1);
  auto r = flow.post("/search", q, {.parameters = Params{{"top_k", int64_t{100000}}}});
  REQUIRE_MESSAGE(r, describe(r));
  CHECK(r->failed_shards == 0);
  std::set<std::string> ids;
  for (const auto& m : r->docs[0].matches)
    ids.insert(m.id);
  return ids;
}

}  // namespace

TEST_CASE("Indexer on two nodes: a killed node's shard comes back with its documents") {
  REQUIRE(ExecutorRegistry::instance().stateful("Indexer"));
  auto ws2 = temp_dir("n2");
  auto n1 = NodeProcess::start(temp_dir("n1"));
  auto n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2));
  auto port2 = n2->port;
  Flow description{FlowOptions{.workspace = temp_dir("flow")}};
  DeploymentOptions index{.name = "indexer", .uses = "Indexer", .shards = 2};
  index.polling = Polling{{{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}};
  index.uses_metas["hosts"] = Value{Value::Array{Value{n1.address}, Value{n2->address}}};
  index.timeout = std::chrono::seconds(20);
  description.add(std::move(index));
  auto flow = description.start();
  REQUIRE_MESSAGE(flow, describe(flow));

  auto acked = flow->post("/index", embedded_docs(0, 200), {.request_size = 25});
  REQUIRE_MESSAGE(acked, describe(acked));
  CHECK(everything(*flow).size() == 200);

  ::kill(n2->proc->pid(), SIGKILL);
  n2->proc->wait(10s);
  REQUIRE(eventually([&] {
    auto p = placement_of(*flow, "indexer");
    return p.size() == 2 && !p[1].alive;
  }));
  auto partial = flow->post("/search", embedded_docs(0, 1),
                            {.parameters = Params{{"top_k", int64_t{100000}}}});
  REQUIRE(partial);
  CHECK(partial->failed_shards == 1);
  CHECK(partial->docs[0].matches.size() < 200);
  auto write = flow->post("/index", embedded_docs(500, 20));
  REQUIRE_FALSE(write);
  CHECK(describe(write.error()).find("indexer/shard-1: unavailable: node") != std::string::npos);

  n2.reset();
  auto back = NodeProcess::start(ws2, port2);
  REQUIRE(eventually([&] {
    auto p = placement_of(*flow, "indexer");
    return p.size() == 2 && p[1].alive;
  }));
  // Placed again, its copy serves once it told the head what it applied
  // (a round trip after the placement).
  REQUIRE(eventually([&] {
    auto r = flow->post("/search", embedded_docs(0, 1), {.parameters = Params{{"top_k", 1}}});
    return r && r->failed_shards == 0;
  }));
  auto found = everything(*flow);
  for (const auto& d : acked->docs)
    CHECK_MESSAGE(found.count(d.id) == 1, d.id);
}
