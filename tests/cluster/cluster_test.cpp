// The cluster across processes on loopback: a flow in this process, node
// daemons as children. Every wait is bounded; no timing thresholds.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <caf/scoped_actor.hpp>

#include "caflow/errors.hpp"
#include "caflow/messages.hpp"
#include "cluster/cluster_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;

namespace {

Flow index_flow(const std::string& workspace, std::vector<std::string> tagger_hosts,
                std::vector<std::string> index_hosts) {
  FlowOptions options;
  options.workspace = workspace;
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  Flow flow{options};
  DeploymentOptions tagger{.name = "tagger", .uses = "PidTagger", .replicas = 2};
  if (!tagger_hosts.empty())
    tagger.uses_metas["hosts"] = Value{Value::Array(tagger_hosts.begin(), tagger_hosts.end())};
  DeploymentOptions index{.name = "index", .uses = "FileIndex", .shards = 2};
  index.polling = Polling{{{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}};
  // Bounds every request, so that no test can hang on a lost node.
  index.timeout = std::chrono::seconds(20);
  if (!index_hosts.empty())
    index.uses_metas["hosts"] = Value{Value::Array(index_hosts.begin(), index_hosts.end())};
  flow.add(std::move(tagger)).add(std::move(index));
  return flow;
}

// "query match score" of every match of every query, in order. `+ 0.0`:
// CAF 0.17's float packing (pack754) sends -0.0 as 0.0.
std::vector<std::string> match_lines(const DocumentArray& docs) {
  std::vector<std::string> out;
  for (const auto& q : docs)
    for (const auto& m : q.matches)
      out.push_back(q.id + " " + m.id + " " + std::to_string(m.scores.at("cosine") + 0.0));
  return out;
}

DocumentArray queries() {
  DocumentArray qs;
  for (double x : {3.0, 57.5, 120.0, 199.0}) {
    Document q;
    q.id = "q" + std::to_string(static_cast<int>(x));
    q.tags["x"] = x;
    qs.push_back(std::move(q));
  }
  return qs;
}

PostOptions top(int64_t k) {
  PostOptions o;
  o.parameters = Params{{"top_k", k}};
  return o;
}

}  // namespace

TEST_CASE("two nodes: index and search give what one process gives; placement follows hosts") {
  auto n1 = NodeProcess::start(temp_dir("n1"));
  auto n2 = NodeProcess::start(temp_dir("n2"));
  auto local = index_flow(temp_dir("local"), {}, {}).start();
  REQUIRE_MESSAGE(local, describe(local));
  auto remote
    = index_flow(temp_dir("flow"), {n1.address, n2.address}, {n1.address, n2.address}).start();
  REQUIRE_MESSAGE(remote, describe(remote));

  // Round robin, shard-major: shard-0 on n1, shard-1 on n2.
  auto index_placed = placement_of(*remote, "index");
  REQUIRE(index_placed.size() == 2);
  CHECK(index_placed[0].node == n1.address);
  CHECK(index_placed[1].node == n2.address);
  auto tagger_placed = placement_of(*remote, "tagger");
  REQUIRE(tagger_placed.size() == 2);
  CHECK(tagger_placed[0].node == n1.address);
  CHECK(tagger_placed[1].node == n2.address);
  CHECK(n1.proc->wait_for("hosting index/shard-0/replica-0 (FileIndex)", 10s));
  CHECK(n2.proc->wait_for("hosting index/shard-1/replica-0 (FileIndex)", 10s));

  auto a = local->post("/index", numbered_docs(0, 200), {.request_size = 20});
  auto b = remote->post("/index", numbered_docs(0, 200), {.request_size = 20});
  REQUIRE_MESSAGE(a, describe(a));
  REQUIRE_MESSAGE(b, describe(b));
  // The work ran in the nodes' processes, not here.
  std::set<int64_t> pids;
  for (const auto& d : b->docs)
    pids.insert(d.tags.get_int("tagger.pid", 0));
  CHECK(pids.count(::getpid()) == 0);
  CHECK(pids.size() == 2);

  auto sa = local->post("/search", queries(), top(7));
  auto sb = remote->post("/search", queries(), top(7));
  REQUIRE(sa);
  REQUIRE(sb);
  CHECK(sb->failed_shards == 0);
  auto la = match_lines(sa->docs);
  auto lb = match_lines(sb->docs);
  for (size_t i = 0; i < std::max(la.size(), lb.size()); ++i) {
    std::string what = std::string{i < la.size() ? la[i] : "-"} + " vs "
                       + (i < lb.size() ? lb[i] : "-");
    CHECK_MESSAGE((i < la.size() && i < lb.size() && la[i] == lb[i]), what);
  }
  CHECK(match_lines(sb->docs).size() == 4 * 7);

  remote->stop();
  CHECK(n1.proc->wait_for("flow went away", 10s));
}

TEST_CASE("a node that cannot be reached at start is an error naming it") {
  auto port = free_port();
  auto addr = "127.0.0.1:" + std::to_string(port);
  auto flow = index_flow(temp_dir("unreachable"), {}, {addr}).start();
  REQUIRE_FALSE(flow);
  auto text = describe(flow.error());
  CHECK(text.find("index: node " + addr + " unreachable") != std::string::npos);
}

TEST_CASE("kill -9 a node while indexing: partial searches, failing writes, nothing lost") {
  auto ws2 = temp_dir("n2");
  auto n1 = NodeProcess::start(temp_dir("n1"));
  auto n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2));
  auto port2 = n2->port;
  auto description = index_flow(temp_dir("flow"), {}, {n1.address, n2->address});
  auto flow = description.start();
  REQUIRE_MESSAGE(flow, describe(flow));

  // Index in the background, 10 documents per post, recording what was
  // acknowledged.
  std::mutex mtx;
  std::set<std::string> acked;
  std::vector<std::string> errors;
  std::atomic<bool> stop{false};
  std::atomic<size_t> batches{0};
  std::thread writer{[&] {
    for (size_t i = 0; !stop; ++i) {
      auto r = flow->post("/index", numbered_docs(1000 + 10 * i, 10), {.request_size = 10});
      std::lock_guard<std::mutex> guard{mtx};
      if (r)
        for (const auto& d : r->docs)
          acked.insert(d.id);
      else
        errors.push_back(describe(r.error()));
      ++batches;
    }
  }};
  REQUIRE(eventually([&] { return batches >= 5; }));
  ::kill(n2->proc->pid(), SIGKILL);
  n2->proc->wait(10s);
  auto lost_seen = eventually([&] {
    auto p = placement_of(*flow, "index");
    return p.size() == 2 && !p[1].alive;
  });
  REQUIRE(lost_seen);

  // Searches return shard-0's results and say one shard failed.
  auto s = flow->post("/search", queries(), top(5));
  REQUIRE_MESSAGE(s, describe(s));
  CHECK(s->failed_shards == 1);
  REQUIRE(s->failures.size() == 1);
  CHECK(s->failures[0].find("index/shard-1") != std::string::npos);
  // Writes to the lost shard fail naming it and its node.
  auto w = flow->post("/index", numbered_docs(0, 20));
  REQUIRE_FALSE(w);
  CHECK(describe(w.error()).find("index/shard-1: unavailable: node " + n2->address + " lost")
        != std::string::npos);

  // The node comes back on the same port and workspace: the head re-spawns
  // the shard there and it reopens what it had acknowledged.
  n2.reset();
  auto back = NodeProcess::start(ws2, port2);
  REQUIRE(eventually([&] {
    auto p = placement_of(*flow, "index");
    return p.size() == 2 && p[1].alive;
  }));
  auto before = batches.load();
  auto progressed = eventually([&] { return batches >= before + 3; });
  stop = true;
  writer.join();
  if (!progressed)
    for (auto& e : errors)
      MESSAGE(e);
  REQUIRE(progressed);
  CHECK(back.proc->wait_for("hosting index/shard-1/replica-0 (FileIndex)", 10s));

  std::set<std::string> found;
  Document q;
  q.tags["x"] = 0.0;
  DocumentArray qs;
  qs.push_back(q);
  auto all = flow->post("/search", qs, top(1000000));
  REQUIRE_MESSAGE(all, describe(all));
  CHECK(all->failed_shards == 0);
  for (const auto& m : all->docs[0].matches)
    found.insert(m.id);
  std::lock_guard<std::mutex> guard{mtx};
  CHECK(!acked.empty());
  size_t missing = 0;
  for (const auto& id : acked)
    missing += found.count(id) == 0 ? 1 : 0;
  CHECK(missing == 0);
  // While shard-1 was away, writes failed rather than half-succeeding.
  CHECK(!errors.empty());
}

TEST_CASE("a joined node gets new replicas on scale up; scale down loses no request") {
  auto cluster_port = free_port();
  auto flow = std::make_unique<RunningFlow>(joinable_tagger_flow(cluster_port));
  REQUIRE(flow->cluster_port() == cluster_port);
  CHECK(placement_of(*flow, "tagger").at(0).node == "local");

  auto node = NodeProcess::start(temp_dir("joiner"), 0,
                                 {"--join", "127.0.0.1:" + std::to_string(cluster_port)});
  REQUIRE(node.proc->wait_for("joined the flow", 30s));

  // Scale up through the CLI, as an operator would.
  auto r = run({CAFLOW_NODE_BINARY, "scale", "127.0.0.1:" + std::to_string(cluster_port), "tagger",
                "--replicas", "2"});
  REQUIRE_MESSAGE(r.code == 0, r.output);
  auto placed = placement_of(*flow, "tagger");
  REQUIRE(placed.size() == 2);
  CHECK(placed[1].node == node.address);
  auto unknown = run({CAFLOW_NODE_BINARY, "scale", "127.0.0.1:" + std::to_string(cluster_port),
                      "nosuch", "--replicas", "2"});
  CHECK(unknown.code == 1);
  CHECK(unknown.output.find("no deployment 'nosuch'") != std::string::npos);
  CHECK(node.proc->wait_for("hosting tagger/shard-0/replica-1 (PidTagger)", 10s));
  auto tagged = flow->post("/tag", numbered_docs(0, 40), {.request_size = 2});
  REQUIRE(tagged);
  std::set<int64_t> pids;
  for (const auto& d : tagged->docs)
    pids.insert(d.tags.get_int("tagger.pid", 0));
  CHECK(pids.count(::getpid()) == 1);
  CHECK(pids.size() == 2);

  // Scale down while slow requests are in flight on both replicas.
  SlowPost slow{*flow, 24};
  // Once one request is done, the next ones are in flight on both replicas.
  REQUIRE(eventually([&] { return slow.done >= 1; }));
  CHECK_FALSE(flow->scale("tagger", 1));
  auto& slowed = slow.finish();
  REQUIRE_MESSAGE(slowed, describe(slowed));
  CHECK(slowed->docs.size() == 24);
  CHECK(slowed->failed_shards == 0);
  CHECK(node.proc->wait_for("stopped tagger/shard-0/replica-1", 10s));
  REQUIRE(eventually([&] { return placement_of(*flow, "tagger").size() == 1; }));
  CHECK(placement_of(*flow, "tagger").at(0).node == "local");
}

TEST_CASE("a stateless replica lost with its node is re-spawned on another node") {
  auto n1 = NodeProcess::start(temp_dir("n1"));
  auto n2 = NodeProcess::start(temp_dir("n2"));
  FlowOptions options;
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  options.workspace = temp_dir("flow");
  Flow description{options};
  DeploymentOptions tagger{.name = "tagger", .uses = "PidTagger"};
  tagger.uses_metas["hosts"] = Value{Value::Array{Value{n2.address}}};
  DeploymentOptions index{.name = "index", .uses = "FileIndex"};
  index.uses_metas["hosts"] = Value{Value::Array{Value{n1.address}}};
  description.add(std::move(tagger)).add(std::move(index));
  auto flow = description.start();
  REQUIRE_MESSAGE(flow, describe(flow));
  REQUIRE(placement_of(*flow, "tagger").at(0).node == n2.address);

  ::kill(n2.proc->pid(), SIGKILL);
  n2.proc->wait(10s);
  // n1 is the only node left that the flow knows: the tagger moves there.
  REQUIRE(eventually([&] {
    auto p = placement_of(*flow, "tagger");
    return p.size() == 1 && p[0].alive && p[0].node == n1.address;
  }));
  auto r = flow->post("/index", numbered_docs(0, 10));
  REQUIRE_MESSAGE(r, describe(r));
  CHECK(r->docs[0].tags.get_int("tagger.pid", 0) == n1.proc->pid());
  CHECK(n1.proc->wait_for("hosting tagger/shard-0/replica-0 (PidTagger)", 10s));
}

TEST_CASE("requests in flight on a killed node are retried on the shard's other replica") {
  auto n1 = NodeProcess::start(temp_dir("n1"));
  auto n2 = NodeProcess::start(temp_dir("n2"));
  FlowOptions options;
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  options.nodes = {n1.address, n2.address};
  Flow description{options};
  description.add({.name = "tagger", .uses = "PidTagger", .replicas = 2, .retries = 1});
  auto flow = description.start();
  REQUIRE_MESSAGE(flow, describe(flow));

  SlowPost slow{*flow, 30};
  REQUIRE(eventually([&] { return slow.done >= 2; }));
  ::kill(n2.proc->pid(), SIGKILL);
  auto& result = slow.finish();
  REQUIRE_MESSAGE(result, describe(result));
  CHECK(result->docs.size() == 30);
  CHECK(result->failed_shards == 0);
  // Some of them were on n2 when it died, and went to n1.
  int64_t retries = 0;
  caf::scoped_actor self{flow->system()};
  self->request(flow->head("tagger"), 10s, status_atom::value)
    .receive([&](Value& status) { retries = status.get_int("retries", 0); }, [](caf::error&) {});
  CHECK(retries >= 1);
  // The lost replica came back on the surviving node.
  REQUIRE(eventually([&] {
    auto p = placement_of(*flow, "tagger");
    return p.size() == 2 && p[0].alive && p[1].alive && p[1].node == n1.address;
  }));
}

TEST_CASE("scale without nodes: replicas are added and removed in the flow's process") {
  FlowOptions options;
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  Flow description{options};
  description.add({.name = "tagger", .uses = "PidTagger", .shards = 2});
  auto flow = description.start();
  REQUIRE_MESSAGE(flow, describe(flow));
  REQUIRE_FALSE(flow->scale("tagger", 3));
  auto placed = placement_of(*flow, "tagger");
  CHECK(placed.size() == 6);
  for (const auto& p : placed)
    CHECK(p.node == "local");
  auto r = flow->post("/tag", numbered_docs(0, 60), {.request_size = 1});
  REQUIRE(r);
  std::set<int64_t> replicas;
  for (const auto& d : r->docs)
    replicas.insert(d.tags.get_int("tagger.replica", -1));
  CHECK(replicas == std::set<int64_t>{0, 1, 2});
  REQUIRE_FALSE(flow->scale("tagger", 1));
  REQUIRE(eventually([&] { return placement_of(*flow, "tagger").size() == 2; }));
  CHECK(flow->post("/tag", numbered_docs(0, 10)));
  auto zero = flow->scale("tagger", 0);
  CHECK(is(zero, errc::invalid_argument));
  CHECK(is(flow->scale("nosuch", 2), errc::not_found));
}

TEST_CASE("join_node: a node registered from code receives the replicas of a scale up") {
  FlowOptions options;
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  options.cluster_port = free_port();
  Flow description{options};
  description.add({.name = "tagger", .uses = "PidTagger"});
  auto flow = description.start();
  REQUIRE_MESSAGE(flow, describe(flow));
  auto node = NodeProcess::start(temp_dir("joined"));
  REQUIRE_FALSE(flow->join_node(node.address));
  REQUIRE_FALSE(flow->scale("tagger", 3));
  auto placed = placement_of(*flow, "tagger");
  REQUIRE(placed.size() == 3);
  CHECK(placed[0].node == "local");
  CHECK(placed[1].node == node.address);
  CHECK(placed[2].node == node.address);
  auto bad = flow->join_node("127.0.0.1:" + std::to_string(free_port()));
  CHECK(is(bad, errc::unavailable));
  CHECK(error_message(bad).find("unreachable") != std::string::npos);
}
