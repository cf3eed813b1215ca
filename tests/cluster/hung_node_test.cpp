// Hung nodes (SIGSTOP: alive, not answering) and placements that spread.
// Nodes are child processes on loopback; every wait is bounded.
#include <doctest/doctest.h>

#include <signal.h>

#include <future>
#include <map>
#include <thread>

#include <caf/scoped_actor.hpp>

#include "actors/system_shutdown.hpp"
#include "caflow/errors.hpp"
#include "caflow/messages.hpp"
#include "cluster/cluster_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;
using namespace std::chrono_literals;

namespace {

// The gateway's status: counters, every head's status, the cluster's nodes.
Value gateway_status(const RunningFlow& flow) {
  Value out;
  // Without a hold on the flow's system left in this thread, which would
  // keep it from ending (actors/system_shutdown.hpp).
  detail::ReleaseThreadHold release;
  caf::scoped_actor self{flow.system()};
  self->request(flow.gateway(), 10s, status_atom::value)
    .receive([&](Value& v) { out = std::move(v); }, [](caf::error&) {});
  return out;
}

bool node_responsive(const Value& status, const std::string& address) {
  if (const Value* nodes = status.find("nodes"))
    for (const auto& n : nodes->as_array())
      if (n.get_string("address", "") == address)
        return n.get_bool("responsive", false);
  return false;
}

DocumentArray query(double x) {
  DocumentArray qs;
  Document q;
  q.id = "q";
  q.tags["x"] = x;
  qs.push_back(std::move(q));
  return qs;
}

}  // namespace

TEST_CASE("a hung node (SIGSTOP): requests degrade, /status names it, stop does not wait") {
  auto n1 = NodeProcess::start(temp_dir("n1"));
  auto n2 = NodeProcess::start(temp_dir("n2"));
  FlowOptions options;
  options.workspace = temp_dir("flow");
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  options.heartbeat_interval = 200ms;
  options.heartbeat_misses = 3;
  Flow description{options};
  // No timeout: the default, with which a hung node used to hang every request.
  DeploymentOptions index{.name = "index", .uses = "FileIndex", .shards = 2};
  index.polling = Polling{{{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}};
  index.uses_metas["hosts"] = Value{Value::Array{n1.address, n2.address}};
  description.add(std::move(index));
  auto flow = std::make_unique<RunningFlow>([&] {
    auto f = description.start();
    REQUIRE_MESSAGE(f, describe(f));
    return std::move(*f);
  }());
  REQUIRE(flow->post("/index", numbered_docs(0, 40), {.request_size = 10}));

  REQUIRE(n2.proc->suspend());
  // A search sent now reaches the hung shard; it is settled once the node
  // counts as hung (with shard-0's part), not left waiting.
  auto pending = std::async(std::launch::async, [&] {
    return flow->post("/search", query(3), {.parameters = {{"top_k", 5}}});
  });
  REQUIRE(pending.wait_for(30s) == std::future_status::ready);
  auto early = pending.get();
  REQUIRE_MESSAGE(early, describe(early));
  CHECK(early->failed_shards == 1);

  auto status = gateway_status(*flow);
  CHECK_FALSE(node_responsive(status, n2.address));
  CHECK(node_responsive(status, n1.address));
  auto placed = placement_of(*flow, "index");
  REQUIRE(placed.size() == 2);
  CHECK(placed[0].alive);
  CHECK_FALSE(placed[1].alive);
  const auto& deps = status.find("deployments")->as_array();
  REQUIRE(deps.size() == 1);
  auto lost = deps[0].find("placement")->as_array().at(1).get_string("lost", "");
  CHECK(lost.find("node " + n2.address + " unresponsive") != std::string::npos);
  // Writes to the hung shard fail at once, naming it.
  auto w = flow->post("/index", numbered_docs(100, 20));
  REQUIRE_FALSE(w);
  CHECK(describe(w.error()).find("index/shard-1: unavailable: node " + n2.address)
        != std::string::npos);

  // The node resumes: the same replica serves again, with what it had.
  ::kill(n2.proc->pid(), SIGCONT);
  REQUIRE(eventually([&] { return placement_of(*flow, "index").at(1).alive; }));
  CHECK(node_responsive(gateway_status(*flow), n2.address));
  auto whole = flow->post("/search", query(3), {.parameters = {{"top_k", 40}}});
  REQUIRE_MESSAGE(whole, describe(whole));
  CHECK(whole->failed_shards == 0);
  REQUIRE(whole->docs.size() == 1);
  CHECK(whole->docs[0].matches.size() == 40);
  // (The write refused above may have left its shard-0 part: >= 40.)
  auto count = flow->post("/count", {});
  REQUIRE(count);
  CHECK(count->parameters.get_int("count", -1) >= 40);

  // Hung again, then the flow stops and is destroyed on another thread, its
  // actor system with it: neither waits for the node.
  REQUIRE(n2.proc->suspend());
  REQUIRE(eventually([&] { return !placement_of(*flow, "index").at(1).alive; }));
  auto before = detail::abandoned_systems();
  auto stopping = std::async(std::launch::async, [&] {
    flow->stop();
    flow.reset();
  });
  auto stopped = stopping.wait_for(30s) == std::future_status::ready;
  ::kill(n2.proc->pid(), SIGCONT);
  CHECK(stopped);
  stopping.wait();
  CHECK(detail::abandoned_systems() == before);  // ended, not left behind
}

TEST_CASE("scale 1 -> 7 over three joined nodes spreads the new replicas; caflow scale shows it") {
  auto cluster_port = free_port();
  FlowOptions options;
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  options.cluster_port = cluster_port;
  Flow description{options};
  description.add({.name = "tagger", .uses = "PidTagger"});
  auto flow = description.start();
  REQUIRE_MESSAGE(flow, describe(flow));
  auto join = std::vector<std::string>{"--join", "127.0.0.1:" + std::to_string(cluster_port)};
  std::vector<NodeProcess> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(NodeProcess::start(temp_dir("spread" + std::to_string(i)), 0, join));
    REQUIRE(nodes.back().proc->wait_for("joined the flow", 30s));
  }
  auto r = run({CAFLOW_NODE_BINARY, "scale", "127.0.0.1:" + std::to_string(cluster_port), "tagger",
                "--replicas", "7"});
  REQUIRE_MESSAGE(r.code == 0, r.output);
  std::map<std::string, int> per_node;
  for (const auto& p : placement_of(*flow, "tagger"))
    ++per_node[p.node];
  CHECK(per_node["local"] == 1);
  for (const auto& n : nodes) {
    CHECK(per_node[n.address] == 2);
    CHECK(r.output.find(n.address) != std::string::npos);  // where they went
  }
  CHECK(r.output.find("shard-0/replica-6") != std::string::npos);
}
