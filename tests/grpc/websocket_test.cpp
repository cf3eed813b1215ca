// Jina 3.0's WebSocket and HTTP clients against caflow's HTTP server
// (tests/grpc/jina_ws_client.py, the gRPC test's scenarios) on the same
// scenario flow (grpc/scenario_flow.hpp), the server on a free port, the
// client as a child process. Every wait is bounded.
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/server.hpp"
#include "grpc/scenario_flow.hpp"
#include "temp_workspace.hpp"

using namespace caflow;

namespace {

void run_scenarios(const char* protocol, const std::vector<std::string>& scenarios) {
  test::TempWorkspace ws;
  auto running = testing::start_scenario_flow(ws.path.string());
  REQUIRE_MESSAGE(running, describe(running));
  auto server = HttpServer::start(*running, {.body_limit = size_t{1} << 20});
  REQUIRE_MESSAGE(server, describe(server));
  testing::check_scenarios(*running, "jina_ws_client.py",
                           {std::to_string((*server)->port()), protocol}, scenarios);
}

}  // namespace

TEST_CASE("WebSocket: Jina's client streams, gets errors in-band, bad frames close with a reason") {
  run_scenarios("ws", {"stream", "search", "sparse", "error", "bad"});
}

TEST_CASE(
  "HTTP: Jina's client streams, searches 2 shards, sends 2-D sparse rows, gets errors "
  "in-band and 4xx") {
  run_scenarios("http", {"stream", "search", "sparse", "info", "error", "bad"});
}
