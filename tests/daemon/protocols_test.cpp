// `caflow flow` with several gateways (Jina's `protocol: [grpc, http]`, and
// websocket, which the HTTP server speaks on the same port), and
// `caflow post --protocol grpc` through Jina's gRPC protocol, as processes.
#include <doctest/doctest.h>

#include <csignal>

#include "daemon/daemon_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;

TEST_CASE("caflow flow serves gRPC and HTTP at once; caflow post --protocol grpc") {
  Scratch scratch;
  auto grpc_port = std::to_string(free_port());
  auto http_port = std::to_string(free_port());
  auto ws_port = std::to_string(free_port());
  auto config = scratch.config("  protocol: [http, grpc, websocket]\n  port: [" + http_port + ", "
                               + grpc_port + ", " + ws_port + "]\n");
  // --protocol reorders them; each keeps its port from the config.
  Process flow{
    {cli, "flow", config.string(), "--protocol", "grpc", "--protocol", "http,websocket"}};
  REQUIRE_MESSAGE(flow.wait_for("executor  indexer", 60s), flow.output());
  CHECK(flow.output().find("protocol  grpc\n  address   grpc://127.0.0.1:" + grpc_port + "\n")
        != std::string::npos);
  CHECK(flow.output().find("protocol  http\n  address   http://127.0.0.1:" + http_port + "\n")
        != std::string::npos);
  CHECK(flow.output().find("protocol  websocket\n  address   ws://127.0.0.1:" + ws_port + "\n")
        != std::string::npos);

  auto corpus = (scratch.dir / "corpus.jsonl").string();
  auto indexed = run({cli, "post", "/index", "--protocol", "grpc", "--port", grpc_port, "--input",
                      corpus, "--request-size", "20", "--prefetch", "4"});
  INFO(indexed.output);
  CHECK(indexed.code == 0);
  auto out = scratch.dir / "found.jsonl";
  auto searched = run({cli, "post", "/search", "--protocol", "grpc", "--port", grpc_port, "--text",
                       "linux kernel driver", "--top-k", "3", "--output", out.string()});
  INFO(searched.output);
  REQUIRE(searched.code == 0);
  auto found = read_docs(out);
  REQUIRE(found.size() == 1);
  CHECK(found[0].matches.size() == 3);
  CHECK(found[0].matches[0].tags.get_int("topic", -1) == 0);  // a linux mail

  // What went in over gRPC is there over HTTP.
  Client http{"127.0.0.1", static_cast<uint16_t>(std::stoi(http_port))};
  CHECK(count(http) == 300);
  Client on_ws_port{"127.0.0.1", static_cast<uint16_t>(std::stoi(ws_port))};
  CHECK(count(on_ws_port) == 300);
  // A gRPC post to a port where nothing listens fails with a clear message.
  auto refused = run({cli, "post", "/index", "--protocol", "grpc", "--port",
                      std::to_string(free_port()), "--text", "x"});
  CHECK(refused.code == 1);
  CHECK(refused.output.find("caflow post: ") != std::string::npos);
  auto bad = run({cli, "flow", config.string(), "--protocol", "soap"});
  CHECK(bad.code == 2);
  CHECK(bad.output.find("unsupported protocol") != std::string::npos);

  flow.signal(SIGTERM);
  CHECK(flow.wait(60s) == 0);
}
