// uses_before / uses_after with the shards on a node daemon: the stages run
// in the head's process (this one), the shards in the node's.
#include <doctest/doctest.h>

#include <unistd.h>

#include "caflow/errors.hpp"
#include "caflow/shard_answers.hpp"
#include "cluster/cluster_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;

TEST_CASE("stages on a cluster: uses_before and uses_after here, the shards on the node") {
  auto node = NodeProcess::start(temp_dir("stages-node"));
  FlowOptions options;
  options.workspace = temp_dir("stages-flow");
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  Flow flow{options};
  // PidTagger tags each document with "<its context's name>.pid"; as
  // uses_after it tags the packed shard answers and passes them on.
  DeploymentOptions d{.name = "tagged",
                      .uses = "PidTagger",
                      .shards = 2,
                      .polling = Polling{{{"*", "ALL"}}},
                      .timeout = std::chrono::seconds(20),
                      .uses_before = "PidTagger",
                      .uses_after = "PidTagger"};
  d.uses_metas["hosts"] = Value{Value::Array{Value{node.address}}};
  flow.add(std::move(d));
  auto running = flow.start();
  REQUIRE_MESSAGE(running, describe(running));
  auto placed = placement_of(*running, "tagged");
  REQUIRE(placed.size() == 2);
  CHECK(placed[0].node == node.address);

  auto result = running->post("/tag", numbered_docs(0, 3));
  REQUIRE_MESSAGE(result, describe(result));
  const int64_t here = ::getpid();
  auto answers = unpack_shard_answers(result->docs);
  REQUIRE(answers.size() == 2);
  for (const auto& packed : result->docs)
    CHECK(packed.tags.get_int("tagged-uses_after.pid", 0) == here);
  for (const auto& a : answers) {
    CHECK_FALSE(a.failed());
    REQUIRE(a.docs.size() == 3);
    for (const auto& doc : a.docs) {
      CHECK(doc.tags.get_int("tagged-uses_before.pid", 0) == here);
      auto there = doc.tags.get_int("tagged.pid", 0);
      CHECK(there != 0);
      CHECK(there != here);
    }
  }
}
