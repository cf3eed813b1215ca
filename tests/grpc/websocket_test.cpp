// Jina 3.0's WebSocket and HTTP clients against caflow's HTTP server
// (tests/grpc/jina_ws_client.py, the gRPC test's scenarios): a flow in
// process (GrpcUpper from grpc_test.cpp, which upper-cases and fails on
// /fail, and a 2-shard Indexer), the server on a free port, the client as a
// child process. Every wait is bounded.
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/server.hpp"
#include "grpc/python_client.hpp"
#include "temp_workspace.hpp"

using namespace caflow;

namespace {

caf::expected<RunningFlow> start_flow(const std::string& workspace) {
  Flow flow{FlowOptions{.workspace = workspace}};
  flow.add({.name = "upper", .uses = "GrpcUpper"})
    .add({.name = "indexer",
          .uses = "Indexer",
          .uses_with = {{"metric", "cosine"}},
          .shards = 2,
          .polling = {{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}});
  return flow.start();
}

void run_scenarios(const char* protocol) {
  auto env = testing::python_env();
  test::TempWorkspace ws;
  auto running = start_flow(ws.path.string());
  REQUIRE_MESSAGE(running, describe(running.error()));
  auto server = HttpServer::start(*running, {.body_limit = size_t{1} << 20});
  REQUIRE_MESSAGE(server, describe(server.error()));
  std::vector<std::string> scenarios{"stream", "search", "error", "bad"};
  std::vector<std::string> args{std::to_string((*server)->port()), protocol};
  args.insert(args.end(), scenarios.begin(), scenarios.end());
  auto r = testing::run_python(env, "jina_ws_client.py", args);
  INFO(r.output);
  CHECK(r.code == 0);
  for (const auto& s : scenarios)
    CHECK(r.output.find("PASS " + s + "\n") != std::string::npos);
  // The stream's 200 documents reached the shards through the gateway.
  auto count = running->post("/count", {});
  REQUIRE(count);
  CHECK(count->parameters.get_int("count", -1) == 200);
}

}  // namespace

TEST_CASE("WebSocket: Jina's client streams, gets errors in-band, bad frames close with a reason") {
  run_scenarios("ws");
}

TEST_CASE("HTTP: Jina's client streams, searches 2 shards, gets errors in-band and 4xx") {
  run_scenarios("http");
}
