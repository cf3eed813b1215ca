// The gRPC gateway against a Jina-style Python client generated from the same
// .proto files (tests/grpc/jina_client.py) on the scenario flow
// (grpc/scenario_flow.hpp: an executor that upper-cases and fails on /fail,
// a 2-shard Indexer), the server on a free port, the client as a child
// process; and caflow::Client over gRPC. Every wait is bounded.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "caflow/client.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/grpc_server.hpp"
#include "daemon/process.hpp"
#include "grpc/scenario_flow.hpp"
#include "temp_workspace.hpp"

using namespace caflow;
using namespace std::chrono_literals;

TEST_CASE("gRPC: Jina's client streams, calls, discovers and gets errors in-band") {
  test::TempWorkspace ws;
  auto running = testing::start_scenario_flow(ws.path.string());
  REQUIRE_MESSAGE(running, describe(running));
  auto server = GrpcServer::start(*running, {.max_message_size = size_t{1} << 20});
  REQUIRE_MESSAGE(server, describe(server));
  testing::check_scenarios(
    *running, "jina_client.py", {std::to_string((*server)->port())},
    {"stream", "search", "sparse", "tensor", "error", "discovery", "info", "health", "bad"});
}

TEST_CASE("gRPC: a second server on a taken port fails naming the address") {
  Flow flow;
  flow.add({.name = "upper", .uses = "GrpcUpper"});
  auto running = flow.start();
  REQUIRE(running);
  auto first = GrpcServer::start(*running);
  REQUIRE(first);
  auto second = GrpcServer::start(*running, {.port = (*first)->port()});
  REQUIRE_FALSE(second);
  CHECK(is(second.error(), errc::io_error));
  CHECK(describe(second.error()).find(std::to_string((*first)->port())) != std::string::npos);
}

TEST_CASE("gRPC: caflow::Client with protocol grpc posts, keeps order, reports errors") {
  Flow flow;
  flow.add({.name = "upper", .uses = "GrpcUpper", .replicas = 2});
  auto running = flow.start();
  REQUIRE(running);
  auto server = GrpcServer::start(*running);
  REQUIRE(server);
  Client client{"127.0.0.1", (*server)->port(), {.protocol = "grpc"}};
  CHECK(client.ready());
  DocumentArray docs;
  for (int i = 0; i < 250; ++i) {
    auto& d = docs.emplace_back();
    d.id = "d" + std::to_string(i);
    d.text = "text " + std::to_string(i);
    d.embedding = Embedding::sparse_vector(100, {1, static_cast<uint32_t>(2 + i % 98)}, {1, 2});
  }
  size_t progress = 0;
  auto result = client.post("/x", docs,
                            {.request_size = 10,
                             .prefetch = 3,
                             .parameters = {{"k", 1}},
                             .on_progress = [&](size_t done, size_t) { progress = done; }});
  REQUIRE_MESSAGE(result, describe(result));
  REQUIRE(result->docs.size() == 250);
  for (int i = 0; i < 250; ++i) {
    CHECK(result->docs[i].id == "d" + std::to_string(i));
    CHECK(result->docs[i].text == "TEXT " + std::to_string(i));
    CHECK(result->docs[i].embedding == docs[i].embedding);
  }
  CHECK(progress == 25);
  CHECK(result->parameters.get_int("k", 0) == 1);  // echoed
  auto failed = client.post("/fail", docs, {.request_size = 50});
  REQUIRE_FALSE(failed);
  CHECK(is(failed.error(), errc::executor_failed));
  CHECK(describe(failed.error()).find("refuses on purpose") != std::string::npos);
  auto status = client.status();
  REQUIRE(status);
  CHECK(status->find("jina")->get_string("jina-proto", "") == "3.0.0");
  Client nobody{"127.0.0.1", testing::free_port(), {.protocol = "grpc", .timeout = 2000ms}};
  CHECK_FALSE(nobody.ready(500ms));
}

// gRPC's callback threads carry requests through the flow's scheduled
// actors (the bridge hosts on the caller, runtime/inline_unit.hpp): several
// streams at once, each with requests in flight, through scheduled replicas
// and, in the second flow, detached ones (whose answers come back on CAF's
// threads) get every document back in order.
TEST_CASE("gRPC: concurrent streams through scheduled and detached replicas") {
  for (bool detached : {false, true}) {
    CAPTURE(detached);
    Params metas = Params::object();
    if (detached)
      metas["runs_on_scheduler"] = false;
    Flow flow;
    flow.add({.name = "first", .uses = "NoOp", .uses_metas = metas, .replicas = 2})
      .add({.name = "second", .uses = "NoOp", .uses_metas = metas});
    auto running = flow.start();
    REQUIRE(running);
    // Detached replicas answer on CAF's threads, which then write to the
    // streams of both of the server's queues.
    auto server = GrpcServer::start(*running, {.threads = detached ? 2u : 1u});
    REQUIRE(server);
    constexpr int clients = 4;
    std::vector<std::string> errors(clients);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([&, c] {
        Client client{"127.0.0.1", (*server)->port(), {.protocol = "grpc"}};
        DocumentArray docs;
        for (int i = 0; i < 300; ++i) {
          auto& d = docs.emplace_back();
          d.id = "c" + std::to_string(c) + "-" + std::to_string(i);
          d.text = "text " + std::to_string(i);
        }
        auto result = client.post("/x", docs, {.request_size = 7, .prefetch = 4});
        if (!result) {
          errors[c] = describe(result.error());
          return;
        }
        if (result->docs.size() != docs.size()) {
          errors[c] = "got " + std::to_string(result->docs.size()) + " documents";
          return;
        }
        for (size_t i = 0; i < docs.size(); ++i)
          if (result->docs[i].id != docs[i].id || result->docs[i].text != docs[i].text)
            errors[c] = "document " + std::to_string(i) + " differs: " + result->docs[i].id;
      });
    for (auto& t : threads)
      t.join();
    for (const auto& e : errors)
      CHECK_MESSAGE(e.empty(), e);
  }
}
