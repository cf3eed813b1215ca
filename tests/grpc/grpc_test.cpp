// The gRPC gateway against a Jina-style Python client generated from the same
// .proto files (tests/grpc/jina_client.py): a flow in process (an executor
// that upper-cases, one that fails on purpose, a 2-shard Indexer), the
// server on a free port, the client as a child process. Every wait is bounded.
#include <doctest/doctest.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <stdexcept>

#include <unistd.h>

#include "caflow/client.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/grpc_server.hpp"
#include "daemon/process.hpp"
#include "grpc/python_client.hpp"

using namespace caflow;
using namespace std::chrono_literals;

namespace {

// Upper-cases texts on every endpoint; `/fail` throws.
class GrpcUpper : public Executor {
 public:
  explicit GrpcUpper(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("/fail", [](DocumentArray&, const Params&) -> Params {
      throw std::runtime_error("upper refuses on purpose");
    });
    on("*", [](DocumentArray& docs, const Params&) {
      for (auto& d : docs)
        for (auto& c : d.text)
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return Params::object();
    });
  }
};
CAFLOW_REGISTER_EXECUTOR(GrpcUpper);

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static std::atomic<int> n{0};
    path = std::filesystem::temp_directory_path()
           / ("caflow-grpc-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

testing::RunResult client(const std::vector<std::string>& env, uint16_t port,
                          std::vector<std::string> scenarios) {
  scenarios.insert(scenarios.begin(), std::to_string(port));
  return testing::run_python(env, "jina_client.py", scenarios);
}

}  // namespace

TEST_CASE("gRPC: Jina's client streams, calls, discovers and gets errors in-band") {
  auto env = testing::python_env();
  TempDir ws;
  Flow flow{FlowOptions{.workspace = ws.path.string()}};
  flow.add({.name = "upper", .uses = "GrpcUpper"})
    .add({.name = "indexer",
          .uses = "Indexer",
          .uses_with = {{"metric", "cosine"}},
          .shards = 2,
          .polling = {{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}});
  auto running = flow.start();
  REQUIRE_MESSAGE(running, describe(running.error()));
  auto server = GrpcServer::start(*running, {.max_message_size = size_t{1} << 20});
  REQUIRE_MESSAGE(server, describe(server.error()));
  std::vector<std::string> scenarios{"stream",    "search", "sparse", "error",
                                     "discovery", "info",   "health", "bad"};
  auto r = client(env, (*server)->port(), scenarios);
  INFO(r.output);
  CHECK(r.code == 0);
  for (const auto& s : scenarios)
    CHECK(r.output.find("PASS " + s + "\n") != std::string::npos);
  // The stream's 200 documents reached the shards through the gateway.
  auto count = running->post("/count", {});
  REQUIRE(count);
  CHECK(count->parameters.get_int("count", -1) == 200);
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
  REQUIRE_MESSAGE(result, describe(result.error()));
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
