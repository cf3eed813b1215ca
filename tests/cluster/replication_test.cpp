// Replicated stateful shards (#12) with the real Indexer on real nodes
// (child processes on loopback): every copy holds every document, a node
// killed while a client streams writes loses nothing acknowledged and fails
// no write, it catches up from the log (or, away past the log's retention,
// by snapshot), a scaled-up copy fills before it serves reads, and a hung
// node (SIGSTOP) is left behind and catches up. A node cut off by a network
// partition: partition_test.cpp.
#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <caf/scoped_actor.hpp>

#include "caflow/client.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/messages.hpp"
#include "cluster/cluster_fixture.hpp"
#include "cluster/replication_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;

TEST_CASE("two copies on two nodes: each holds every document; searches equal one copy's") {
  auto ws1 = temp_dir("rep-n1");
  auto ws2 = temp_dir("rep-n2");
  auto n1 = std::make_unique<NodeProcess>(NodeProcess::start(ws1));
  auto n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2));
  auto all = docs(0, 1000);
  std::vector<std::string> ids;
  for (const auto& d : all)
    ids.push_back(d.id);
  auto queries = docs(5000, 20);
  auto ranked = [&](RunningFlow& flow) {
    auto r = flow.post("/search", queries, {.parameters = Params{{"top_k", int64_t{5}}}});
    REQUIRE_MESSAGE(r, describe(r));
    std::vector<std::vector<std::string>> out;
    for (const auto& q : r->docs) {
      auto& row = out.emplace_back();
      for (const auto& m : q.matches)
        row.push_back(m.id);
    }
    return out;
  };
  std::vector<std::vector<std::string>> replicated;
  {
    auto flow = replicated_flow(temp_dir("rep-flow"), {n1->address, n2->address}, 2).start();
    REQUIRE_MESSAGE(flow, describe(flow));
    REQUIRE(flow->post("/index", all, {.request_size = 50}));
    CHECK(all_in_sync(*flow, 2));
    CHECK(count(*flow) == 1000);
    replicated = ranked(*flow);
    // Each copy on its own: with either node gone, the other has everything.
    auto port2 = n2->port;
    kill_node(n2);
    REQUIRE(eventually([&] { return copies(*flow).size() == 1; }));
    CHECK(count(*flow) == 1000);
    check_all_there(*flow, ids);
    n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2, port2));
    REQUIRE(eventually([&] { return all_in_sync(*flow, 2); }));
    kill_node(n1);
    REQUIRE(eventually([&] { return copies(*flow).size() == 1; }));
    CHECK(count(*flow) == 1000);
    check_all_there(*flow, ids);
  }
  {
    auto one = Flow{FlowOptions{.name = "one", .workspace = temp_dir("rep-one")}};
    one.add(DeploymentOptions{.name = "indexer", .uses = "Indexer"});
    auto flow = one.start();
    REQUIRE_MESSAGE(flow, describe(flow));
    REQUIRE(flow->post("/index", all, {.request_size = 50}));
    CHECK(ranked(*flow) == replicated);
  }
}

TEST_CASE("kill -9 of a copy's node while writes stream: none fails, none is lost, it catches up") {
  auto ws1 = temp_dir("kill-n1");
  auto ws2 = temp_dir("kill-n2");
  auto n1 = std::make_unique<NodeProcess>(NodeProcess::start(ws1));
  auto n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2));
  auto port1 = n1->port;
  auto port2 = n2->port;
  auto flow = replicated_flow(temp_dir("kill-flow"), {n1->address, n2->address}, 2).start();
  REQUIRE_MESSAGE(flow, describe(flow));
  REQUIRE(eventually([&] { return all_in_sync(*flow, 2); }));

  Writer writer{*flow, 10, 0};
  REQUIRE(eventually([&] { return writer.acknowledged() >= 200; }));
  kill_node(n2);
  // The loss is detected; the writes go on on the other copy.
  REQUIRE(eventually([&] { return copies(*flow).size() == 1; }));
  auto failed_before = writer.failed.load();
  auto acked_at_loss = writer.acknowledged();
  REQUIRE(eventually([&] { return writer.acknowledged() >= acked_at_loss + 200; }));
  CHECK(writer.failed.load() == failed_before);
  // Back on its port and workspace: it catches up from the other copy's log
  // while the writes go on, and joins the in-sync set.
  n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2, port2));
  auto acked = finish_after_rejoin(*flow, writer, 2, std::chrono::seconds(60));
  CHECK(n2->proc->wait_for("caught up from", std::chrono::seconds(10)));
  CHECK(n2->proc->output().find("taking a snapshot") == std::string::npos);
  // Now the other node goes: everything acknowledged is on the copy that
  // caught up.
  kill_node(n1);
  REQUIRE(eventually([&] { return copies(*flow).size() == 1; }));
  CHECK(count(*flow) == static_cast<int64_t>(acked.size()));
  check_all_there(*flow, acked);
  (void)port1;
}

TEST_CASE("a copy away past the log's retention catches up by snapshot") {
  auto ws2 = temp_dir("snap-n2");
  auto n1 = std::make_unique<NodeProcess>(NodeProcess::start(temp_dir("snap-n1")));
  auto n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2));
  auto port2 = n2->port;
  auto flow = replicated_flow(temp_dir("snap-flow"), {n1->address, n2->address}, 2,
                              Params{{"log_retention", 20}})
                .start();
  REQUIRE_MESSAGE(flow, describe(flow));
  REQUIRE(flow->post("/index", docs(0, 300), {.request_size = 10}));
  kill_node(n2);
  REQUIRE(eventually([&] { return copies(*flow).size() == 1; }));
  // 150 writes while it is away: more than the 20 kept (plus the 64 that
  // are deleted together).
  REQUIRE(flow->post("/index", docs(300, 150), {.request_size = 1}));
  DocumentArray gone = docs(0, 30);
  REQUIRE(flow->post("/delete", gone));
  n2 = std::make_unique<NodeProcess>(NodeProcess::start(ws2, port2));
  REQUIRE(eventually([&] { return all_in_sync(*flow, 2); }, std::chrono::seconds(60)));
  CHECK(n2->proc->wait_for("taking a snapshot", std::chrono::seconds(10)));
  kill_node(n1);
  REQUIRE(eventually([&] { return copies(*flow).size() == 1; }));
  CHECK(count(*flow) == 420);
  std::vector<std::string> ids;
  for (size_t i = 30; i < 450; ++i)
    ids.push_back("d" + std::to_string(i));
  check_all_there(*flow, ids);
  auto deleted = flow->post("/fetch", docs(0, 30));
  REQUIRE(deleted);
  CHECK(deleted->docs.size() == 0);
}

TEST_CASE("scaling a stateful deployment to 2 copies onto a joined node fills it before reads") {
  auto n1 = std::make_unique<NodeProcess>(NodeProcess::start(temp_dir("scale-n1")));
  auto flow
    = replicated_flow(temp_dir("scale-flow"), {n1->address}, 1, Params::object(), 0).start();
  REQUIRE_MESSAGE(flow, describe(flow));
  REQUIRE(flow->post("/index", docs(0, 2000), {.request_size = 100}));
  auto n2 = std::make_unique<NodeProcess>(NodeProcess::start(temp_dir("scale-n2")));
  REQUIRE(!flow->join_node(n2->address));
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::atomic<int> reads{0};
  std::thread reader{[&] {
    while (!stop) {
      auto r = flow->post("/count", {});
      if (!r || r->parameters.get_int("count", -1) != 2000)
        ++wrong;
      ++reads;
    }
  }};
  auto err = flow->scale("indexer", 2);
  CHECK_MESSAGE(!err, describe(err));
  auto p = placement_of(*flow, "indexer");
  REQUIRE(p.size() == 2);
  CHECK(p[1].node == n2->address);
  REQUIRE(eventually([&] { return all_in_sync(*flow, 2); }, std::chrono::seconds(60)));
  stop = true;
  reader.join();
  CHECK(reads.load() > 0);
  CHECK(wrong.load() == 0);
  // The new copy holds everything on its own.
  kill_node(n1);
  REQUIRE(eventually([&] { return copies(*flow).size() == 1; }));
  CHECK(count(*flow) == 2000);
}

TEST_CASE("a node cut off (SIGSTOP) is left behind, then catches up; writes go on meanwhile") {
  auto n1 = std::make_unique<NodeProcess>(NodeProcess::start(temp_dir("stop-n1")));
  auto n2 = std::make_unique<NodeProcess>(NodeProcess::start(temp_dir("stop-n2")));
  auto flow = replicated_flow(temp_dir("stop-flow"), {n1->address, n2->address}, 2).start();
  REQUIRE_MESSAGE(flow, describe(flow));
  REQUIRE(flow->post("/index", docs(0, 100), {.request_size = 10}));
  // Stopped before the next writes (kill() only queues SIGSTOP: a node
  // still running could apply them all, and stay in sync, before it stops).
  REQUIRE(n2->proc->suspend());
  // Heartbeats find it (3 missed pings): the write caught by it is settled
  // by the other copy.
  auto during = flow->post("/index", docs(100, 100), {.request_size = 10});
  CHECK_MESSAGE(during, describe(during));
  CHECK(copies(*flow).size() == 1);
  CHECK(count(*flow) == 200);
  ::kill(n2->proc->pid(), SIGCONT);
  REQUIRE(eventually([&] { return all_in_sync(*flow, 2); }, std::chrono::seconds(60)));
  kill_node(n1);
  REQUIRE(eventually([&] { return copies(*flow).size() == 1; }));
  CHECK(count(*flow) == 200);
}

TEST_CASE("kill -9 of the flow process: after its restart nothing acknowledged is lost") {
  auto n1 = std::make_unique<NodeProcess>(NodeProcess::start(temp_dir("flowdeath-n1")));
  auto n2 = std::make_unique<NodeProcess>(NodeProcess::start(temp_dir("flowdeath-n2")));
  auto dir = std::filesystem::path{temp_dir("flowdeath-flow")};
  auto config = dir / "flow.yml";
  std::ofstream{config} << "jtype: Flow\n"
                           "with: {name: death, workspace: ws}\n"
                           "executors:\n"
                           "  - name: indexer\n"
                           "    uses: Indexer\n"
                           "    replicas: 2\n"
                           "    timeout: 20000\n"
                           "    hosts: ["
                        << n1->address << ", " << n2->address << "]\n";
  auto start_flow = [&] {
    auto p = std::make_unique<Process>(
      std::vector<std::string>{CAFLOW_NODE_BINARY, "flow", config.string(), "--port", "0"});
    auto line = p->wait_for("address", std::chrono::seconds(60));
    REQUIRE_MESSAGE(line, p->output());
    auto at = line->find("http://127.0.0.1:");
    REQUIRE(at != std::string::npos);
    auto port = static_cast<uint16_t>(std::stoi(line->substr(at + 17)));
    return std::make_pair(std::move(p), port);
  };
  std::vector<std::string> acked;
  {
    auto [proc, port] = start_flow();
    Client client{"127.0.0.1", port, {.timeout = std::chrono::seconds(30)}};
    std::atomic<bool> stop{false};
    std::mutex mtx;
    std::thread writer{[&] {
      for (size_t next = 0; !stop; next += 10) {
        auto batch = docs(next, 10);
        auto r = client.post("/index", batch, {.request_size = 10});
        if (!r)
          return;  // the flow is gone
        std::lock_guard<std::mutex> guard{mtx};
        for (const auto& d : batch)
          acked.push_back(d.id);
      }
    }};
    REQUIRE(eventually([&] {
      std::lock_guard<std::mutex> guard{mtx};
      return acked.size() >= 300;
    }));
    proc->signal(SIGKILL);
    CHECK(proc->wait(std::chrono::seconds(10)));
    stop = true;
    writer.join();
  }
  MESSAGE("acknowledged before the kill: " << acked.size());
  // The nodes kept running; the restarted flow asks them what they hold.
  auto [proc, port] = start_flow();
  Client client{"127.0.0.1", port, {.timeout = std::chrono::seconds(30)}};
  auto counted = client.post("/count", {});
  REQUIRE_MESSAGE(counted, describe(counted));
  CHECK(counted->parameters.get_int("count", -1) >= static_cast<int64_t>(acked.size()));
  DocumentArray asked;
  for (const auto& id : acked)
    asked.emplace_back().id = id;
  auto fetched = client.post("/fetch", asked, {.request_size = 200});
  REQUIRE_MESSAGE(fetched, describe(fetched));
  std::set<std::string> seen;
  for (const auto& d : fetched->docs)
    seen.insert(d.id);
  for (const auto& id : acked)
    CHECK_MESSAGE(seen.count(id) == 1, "acknowledged " << id << " is missing");
  // The in-sync set is rebuilt: both copies (GET /status).
  CHECK(eventually([&] {
    auto status = client.status();
    if (!status)
      return false;
    size_t in_sync = 0;
    auto count_in = [&](const Value& d) {
      if (const auto* p = d.find("placement"); p && p->is_array())
        for (const auto& slot : p->as_array())
          in_sync += slot.get_string("copy", "") == "in_sync" ? 1 : 0;
    };
    const auto& deps = (*status)["deployments"];
    if (deps.is_object())
      for (const auto& [name, d] : deps.as_object())
        count_in(d);
    else if (deps.is_array())
      for (const auto& d : deps.as_array())
        count_in(d);
    return in_sync == 2;
  }));
  // Both copies are in sync again: writes go on.
  CHECK(client.post("/index", docs(900000, 10)));
  proc->signal(SIGTERM);
  CHECK(proc->wait(std::chrono::seconds(30)));
}
