// Shard layout across nodes (#13): flows that share a node keep their data
// apart, and a shard placed on a node that holds another shard's data (the
// order of `hosts:` swapped) is refused instead of served empty.
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "cluster/cluster_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;

namespace {

DocumentArray vectors(size_t first, size_t n) {
  auto docs = numbered_docs(first, n);
  for (auto& d : docs) {
    std::vector<float> v(4, 0.5f);
    v[d.tags.get_int("x", 0) % 4] += 1.0f;
    d.embedding = Embedding::dense_vector(std::move(v));
  }
  return docs;
}

Flow indexer_flow(const std::string& workspace, std::vector<std::string> hosts) {
  Flow flow{FlowOptions{.name = "layout", .workspace = workspace}};
  DeploymentOptions index{
    .name = "indexer", .uses = "Indexer", .shards = static_cast<uint32_t>(hosts.size())};
  // Writes: PARTITION by default (stateful); everything else to every shard.
  index.polling = Polling{std::map<std::string, std::string>{{"/search", "ALL"}, {"*", "ALL"}}};
  Value::Array list;
  for (auto& h : hosts)
    list.emplace_back(std::move(h));
  index.uses_metas["hosts"] = Value{std::move(list)};
  index.timeout = std::chrono::seconds(20);
  flow.add(std::move(index));
  return flow;
}

int64_t count(RunningFlow& flow) {
  auto r = flow.post("/count", {});
  REQUIRE_MESSAGE(r, describe(r));
  return r->parameters.get_int("count", -1);
}

}  // namespace

TEST_CASE("two flows with an executor of the same name on one node keep their data apart") {
  auto node = NodeProcess::start(temp_dir("shared-node"));
  auto first = indexer_flow(temp_dir("flow-a"), {node.address}).start();
  REQUIRE_MESSAGE(first, describe(first));
  auto second = indexer_flow(temp_dir("flow-b"), {node.address}).start();
  REQUIRE_MESSAGE(second, describe(second));
  REQUIRE(first->post("/index", vectors(0, 40)));
  CHECK(count(*first) == 40);
  CHECK(count(*second) == 0);
  auto fetched = second->post("/fetch", vectors(0, 3));
  REQUIRE(fetched);
  CHECK(fetched->docs.empty());
  REQUIRE(second->post("/clear", {}));
  CHECK(count(*first) == 40);
}

TEST_CASE("swapping the order of hosts: is refused, naming the shard that is elsewhere") {
  auto n1 = NodeProcess::start(temp_dir("order-n1"));
  auto n2 = NodeProcess::start(temp_dir("order-n2"));
  auto workspace = temp_dir("order-flow");
  {
    auto flow = indexer_flow(workspace, {n1.address, n2.address}).start();
    REQUIRE_MESSAGE(flow, describe(flow));
    REQUIRE(flow->post("/index", vectors(0, 100), {.request_size = 20}));
    CHECK(count(*flow) == 100);
  }
  auto swapped = indexer_flow(workspace, {n2.address, n1.address}).start();
  REQUIRE_FALSE(swapped);
  auto message = describe(swapped.error());
  CAPTURE(message);
  CHECK(message.find("but not shard") != std::string::npos);
  CHECK(message.find("hosts:") != std::string::npos);
  // Both nodes named: the one that refused and the one that holds the data.
  CHECK(message.find("node " + n2.address) != std::string::npos);
  CHECK(message.find("node " + n1.address + " holds shard-0's data (") != std::string::npos);
  auto again = indexer_flow(workspace, {n1.address, n2.address}).start();
  REQUIRE_MESSAGE(again, describe(again));
  CHECK(count(*again) == 100);
}
