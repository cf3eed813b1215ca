// Nodes that cannot host what they are asked to: a type they lack (a plugin
// the flow loaded but the node did not), or a workspace another node holds.
// For a type they lack, placement skips them or refuses naming them; no
// replica that cannot be created is ever put in rotation; errors name the
// node. Nodes are child processes on loopback; every wait is bounded.
#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/type_ids.hpp"
#include "cluster/cluster_fixture.hpp"
#include "cluster/protocol.hpp"

using namespace caflow;
using namespace caflow::testing;
using namespace std::chrono_literals;

namespace {

// Asks the node at `port` directly (as any peer could) to place a replica.
caf::expected<replica_actor> place_directly(uint16_t port, ExecutorContext ctx) {
  caf::actor_system_config cfg;
  add_types(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto node = sys.middleman().remote_actor<node_actor>("127.0.0.1", port);
  if (!node)
    return node.error();
  caf::scoped_actor self{sys};
  caf::expected<replica_actor> out{replica_actor{}};
  self->request(*node, 30s, place_atom::value, std::move(ctx), caf::actor{})
    .receive([&](replica_actor& replica) { out = std::move(replica); },
             [&](caf::error& err) { out = std::move(err); });
  if (out && *out)
    self->send_exit(*out, caf::exit_reason::user_shutdown);
  return out;
}

}  // namespace

TEST_CASE("plugin nodes: scale skips a node that lacks the type; every request is answered") {
  auto cluster_port = free_port();
  auto flow = std::make_unique<RunningFlow>(joinable_tagger_flow(cluster_port));
  auto join = "127.0.0.1:" + std::to_string(cluster_port);
  // Joined first, so that it is the first choice of every tie.
  auto bare = NodeProcess::start_without_plugin(temp_dir("bare"), {"--join", join});
  REQUIRE(bare.proc->wait_for("joined the flow", 30s));
  auto full = NodeProcess::start(temp_dir("full"), 0, {"--join", join});
  REQUIRE(full.proc->wait_for("joined the flow", 30s));

  auto r = run({CAFLOW_NODE_BINARY, "scale", join, "tagger", "--replicas", "3"});
  REQUIRE_MESSAGE(r.code == 0, r.output);
  auto placed = placement_of(*flow, "tagger");
  REQUIRE(placed.size() == 3);
  CHECK(placed[0].node == "local");
  CHECK(placed[1].node == full.address);
  CHECK(placed[2].node == full.address);
  for (const auto& p : placed)
    CHECK(p.alive);
  // Every request succeeds, on every replica.
  auto tagged = flow->post("/tag", numbered_docs(0, 30), {.request_size = 1});
  REQUIRE_MESSAGE(tagged, describe(tagged));
  CHECK(tagged->docs.size() == 30);
  CHECK(tagged->failed_shards == 0);
  CHECK_FALSE(bare.proc->wait_for("hosting", 1s));

  // Only the bare node left: a new replica runs in the flow's process.
  full.proc.reset();
  REQUIRE(eventually([&] {
    auto p = placement_of(*flow, "tagger");
    return p.size() == 3 && p[1].alive && p[2].alive && p[1].node == "local"
           && p[2].node == "local";
  }));
  REQUIRE_FALSE(flow->scale("tagger", 4));
  for (const auto& p : placement_of(*flow, "tagger"))
    CHECK(p.node == "local");
  auto again = flow->post("/tag", numbered_docs(0, 20), {.request_size = 1});
  REQUIRE_MESSAGE(again, describe(again));
  CHECK(again->failed_shards == 0);
  CHECK_FALSE(bare.proc->wait_for("hosting", 1s));
}

TEST_CASE("plugin nodes: hosts naming a node that lacks the type fail the start, naming both") {
  auto bare = NodeProcess::start_without_plugin(temp_dir("bare-hosts"));
  FlowOptions options;
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  Flow description{options};
  DeploymentOptions tagger{.name = "tagger", .uses = "PidTagger"};
  tagger.uses_metas["hosts"] = Value{Value::Array{Value{bare.address}}};
  description.add(std::move(tagger));
  auto flow = description.start();
  REQUIRE_FALSE(flow);
  auto message = error_message(flow.error());
  CHECK_MESSAGE(message.find("tagger") != std::string::npos, message);
  CHECK_MESSAGE(message.find("node " + bare.address + " cannot host executor type 'PidTagger'")
                  != std::string::npos,
                message);
  CHECK_MESSAGE(message.find("--plugin") != std::string::npos, message);
  CHECK_FALSE(bare.proc->wait_for("hosting", 1s));
}

TEST_CASE("plugin nodes: a node refuses a type it lacks and a replica that cannot start") {
  auto bare = NodeProcess::start_without_plugin(temp_dir("bare-direct"));
  ExecutorContext unknown{.name = "x", .uses = "PidTagger"};
  auto refused = place_directly(bare.port, unknown);
  REQUIRE_FALSE(refused);
  CHECK(is(refused.error(), errc::unknown_executor));
  CHECK_MESSAGE(error_message(refused.error()).find("it knows: Indexer, NoOp, TfidfVectorizer")
                  != std::string::npos,
                error_message(refused.error()));
  // A known type whose constructor throws: an error, and nothing hosted.
  ExecutorContext broken{.name = "idx", .uses = "Indexer"};
  broken.uses_with["metric"] = "nosuch";
  auto failed = place_directly(bare.port, broken);
  REQUIRE_FALSE(failed);
  CHECK(is(failed.error(), errc::executor_start_failed));
  CHECK_MESSAGE(error_message(failed.error()).find("uses_with.metric") != std::string::npos,
                error_message(failed.error()));
  CHECK(bare.proc->wait_for("could not start idx/shard-0/replica-0 (Indexer)", 10s));
  CHECK_FALSE(bare.proc->wait_for("hosting", 1s));
  // The node still serves: a good placement works after the bad ones.
  ExecutorContext good{.name = "ok", .uses = "NoOp"};
  auto placed = place_directly(bare.port, good);
  REQUIRE_MESSAGE(placed, describe(placed));
  CHECK(static_cast<bool>(*placed));
  CHECK(bare.proc->wait_for("hosting ok/shard-0/replica-0 (NoOp)", 10s));
}

TEST_CASE("nodes sharing one workspace: the LOCK error names the node and the path") {
  auto ws = temp_dir("shared-ws");
  auto n1 = NodeProcess::start(ws);
  auto n2 = NodeProcess::start(ws);
  Flow description;
  DeploymentOptions index{.name = "idx", .uses = "Indexer", .shards = 2};
  index.uses_metas["hosts"] = Value{Value::Array{Value{n1.address}, Value{n2.address}}};
  description.add(std::move(index));
  auto flow = description.start();
  REQUIRE_FALSE(flow);
  auto message = error_message(flow.error());
  CHECK_MESSAGE(message.find("node " + n2.address) != std::string::npos, message);
  // Under the node's workspace (in a directory per flow identity, if any).
  CHECK_MESSAGE(message.find("idx/shard-1: the workspace " + ws) != std::string::npos, message);
  CHECK_MESSAGE(message.find("/idx is in use by another process") != std::string::npos, message);
  CHECK_MESSAGE(message.find("/idx/LOCK") != std::string::npos, message);
  CHECK(n2.proc->wait_for("could not start idx/shard-1/replica-0 (Indexer)", 10s));
}
