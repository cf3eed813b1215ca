// Configs that say nothing no more: every key a flow file gives is one caflow
// acts on, or an error naming file, line and key with a suggestion; Jina's
// keys that caflow does not implement are refused by name; executors declare
// their uses_with keys, so a typo is caught before anything starts.
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "config/jina_keys.hpp"

using namespace caflow;
namespace fs = std::filesystem;

namespace {

// An executor that declares its keys, as a plugin would.
class KeysTestDeclared : public Executor {
 public:
  static constexpr std::string_view uses_with_keys[] = {"alpha", "beta_gamma"};
  explicit KeysTestDeclared(ExecutorContext ctx) : Executor(std::move(ctx)) {}
};
CAFLOW_REGISTER_EXECUTOR(KeysTestDeclared);

// One that declares nothing: any key passes (it cannot be checked).
class KeysTestOpen : public Executor {
 public:
  explicit KeysTestOpen(ExecutorContext ctx) : Executor(std::move(ctx)) {}
};
CAFLOW_REGISTER_EXECUTOR(KeysTestOpen);

struct FlowFile {
  fs::path dir;
  std::string path;
  explicit FlowFile(const std::string& text) {
    static std::atomic<int> counter{0};
    dir = fs::temp_directory_path()
          / ("caflow-config-keys-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir);
    path = (dir / "flow.yml").string();
    std::ofstream{path} << text;
  }
  ~FlowFile() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// The message of loading + validating `yaml` ("" when both succeed).
std::string error_of(const std::string& yaml, std::string* path_out = nullptr) {
  FlowFile file{yaml};
  if (path_out)
    *path_out = file.path;
  auto flow = Flow::load(file.path);
  if (!flow)
    return error_message(flow.error()).substr(file.path.size());
  if (auto err = flow->validate())
    return error_message(err).substr(file.path.size());
  return {};
}

std::string executor(const std::string& body) {
  return "executors:\n  - name: x\n" + body;  // body starts on line 3
}

}  // namespace

TEST_CASE("config keys: every unknown with: key is named, with a suggestion") {
  CHECK(error_of("with:\n  workspce: ./ws\n")
        == ":2: with.workspce: unknown key (did you mean 'workspace'?)");
  CHECK(error_of("with:\n  port: 8080\n  max_in_fligth: 4\n")
        == ":3: with.max_in_fligth: unknown key (did you mean 'max_in_flight'?)");
  CHECK(error_of("with:\n  prot: 8080\n").find(":2: with.prot: unknown key (did you mean") == 0);
  // Nothing close: the known keys are listed.
  CHECK(error_of("with:\n  zzzzzz: 1\n")
        == ":2: with.zzzzzz: unknown key (known: name, protocol, host, port, workspace, "
           "plugins, nodes, cluster_port, tls, max_in_flight, heartbeat_interval, "
           "heartbeat_misses)");
}

TEST_CASE("config keys: Jina keys caflow does not implement are refused by name") {
  CHECK(
    error_of("with:\n  cors: true\n")
    == ":2: with.cors: Jina's 'cors' is not supported: caflow does not implement it (remove it)");
  CHECK(error_of("with:\n  prefetch: 10\n").find("max_in_flight") != std::string::npos);
  CHECK(error_of("with:\n  monitoring: true\n").find("GET /metrics") != std::string::npos);
  for (const char* key : {"external: true", "host: 10.0.0.2", "port: 12345"}) {
    auto message = error_of(executor("    uses: NoOp\n    " + std::string{key} + "\n"));
    auto name = std::string{key}.substr(0, std::string{key}.find(':'));
    CHECK_MESSAGE(message.find(":4: executors[0]." + name + ": Jina's '" + name
                               + "' is not supported: caflow runs every replica")
                    == 0,
                  message);
    CHECK(message.find("hosts: [HOST:PORT]") != std::string::npos);
  }
  CHECK(error_of(executor("    uses: NoOp\n    py_modules: [x.py]\n")).find("C++ plugins")
        != std::string::npos);
  CHECK(error_of(executor("    uses: NoOp\n    env: {A: b}\n"))
          .find(":4: executors[0].env: Jina's 'env' is not supported")
        == 0);
  CHECK(error_of(executor("    uses: {jtype: NoOp, requests: {/x: f}}\n"))
          .find(":3: executors[0].uses.requests: Jina's 'requests' is not supported")
        == 0);
  // Not a Jina key at all: a suggestion.
  CHECK(error_of(executor("    uses: NoOp\n    replica: 2\n"))
        == ":4: executors[0].replica: unknown key (did you mean 'replicas'?)");
  CHECK(detail::jina_unsupported(detail::JinaScope::executor, "replicas") == std::nullopt);
}

TEST_CASE("config keys: uses_with keys are checked against the executor's declaration") {
  CHECK(error_of(executor("    uses: Indexer\n    uses_with:\n      metirc: euclidean\n"))
        == ":5: executors[0].uses_with.metirc: unknown key for Indexer (did you mean 'metric'?)");
  CHECK(error_of(executor("    uses: TfidfVectorizer\n    uses_with: {max_feature: 10}\n"))
        == ":4: executors[0].uses_with.max_feature: unknown key for TfidfVectorizer (did you "
           "mean 'max_features'?)");
  // Given with the type: named where it was written.
  CHECK(error_of(executor("    uses:\n      jtype: Indexer\n      with:\n        metirc: x\n"))
        == ":6: executors[0].uses.with.metirc: unknown key for Indexer (did you mean 'metric'?)");
  CHECK(error_of(executor("    uses: NoOp\n    uses_with: {k: 1}\n"))
        == ":4: executors[0].uses_with.k: NoOp takes no uses_with keys");
  CHECK(error_of(executor("    uses: KeysTestDeclared\n    uses_with: {beta_gama: 1}\n"))
        == ":4: executors[0].uses_with.beta_gama: unknown key for KeysTestDeclared (did you "
           "mean 'beta_gamma'?)");
  CHECK(error_of(executor("    uses: KeysTestDeclared\n    uses_with: {zzz: 1}\n"))
        == ":4: executors[0].uses_with.zzz: unknown key for KeysTestDeclared (known: alpha, "
           "beta_gamma)");
  // Declared keys, and an executor that declares nothing, pass.
  CHECK(error_of(executor("    uses: KeysTestDeclared\n    uses_with: {alpha: 1, beta_gamma: 2}\n"))
        == "");
  CHECK(error_of(executor("    uses: KeysTestOpen\n    uses_with: {anything: 1}\n")) == "");
  CHECK(error_of(executor("    uses: Indexer\n    uses_with:\n      metric: euclidean\n"
                          "      index: hnsw\n      M: 8\n      ef_construction: 50\n      ef: 20\n"
                          "      max_elements: 10\n      sync: true\n      default_top_k: 3\n"))
        == "");
  // A flow built in code is checked the same way.
  Flow flow;
  flow.add({.name = "idx", .uses = "Indexer", .uses_with = {{"metirc", "cosine"}}});
  auto err = flow.validate();
  REQUIRE(err);
  CHECK(error_message(err)
        == "deployment 'idx': uses_with.metirc: unknown key for Indexer (did you mean 'metric'?)");
  // The registry's view: sorted, and unknown for undeclared types.
  auto keys = ExecutorRegistry::instance().uses_with_keys("KeysTestDeclared");
  REQUIRE(keys);
  CHECK(*keys == std::vector<std::string>{"alpha", "beta_gamma"});
  CHECK_FALSE(ExecutorRegistry::instance().uses_with_keys("KeysTestOpen"));
}

TEST_CASE("config keys: uses_metas: workspace is honoured, other keys checked") {
  FlowFile file{executor("    uses: Indexer\n    uses_metas: {workspace: ./ws}\n")};
  auto flow = Flow::load(file.path);
  REQUIRE_MESSAGE(flow, describe(flow));
  CHECK(flow->deployments()[0].workspace == (file.dir / "ws").string());
  FlowFile with_type{executor("    uses: {jtype: Indexer, metas: {workspace: /abs/ws}}\n")};
  auto typed = Flow::load(with_type.path);
  REQUIRE_MESSAGE(typed, describe(typed));
  CHECK(typed->deployments()[0].workspace == "/abs/ws");
  // Both, disagreeing: which one? Refused.
  CHECK(
    error_of(executor("    uses: Indexer\n    workspace: /a\n    uses_metas: {workspace: /b}\n"))
      .find(":5: executors[0].uses_metas.workspace: '/b' differs from workspace: '/a'")
    == 0);
  CHECK(error_of(executor("    uses: NoOp\n    uses_metas: {workspcae: /b}\n"))
        == ":4: executors[0].uses_metas.workspcae: unknown key (did you mean 'workspace'?)");
  CHECK(error_of(executor("    uses: NoOp\n    uses_metas: {name: y}\n"))
          .find(":4: executors[0].uses_metas.name: 'y' differs from the executor's name 'x'")
        == 0);
  CHECK(error_of(executor("    uses: NoOp\n    uses_metas: {name: x, description: demo}\n")) == "");
  // hosts goes through hosts:, where each address is checked.
  CHECK(error_of(executor("    uses: NoOp\n    uses_metas: {hosts: [nowhere]}\n"))
          .find(":4: executors[0].uses_metas.hosts: Jina's 'hosts' is not supported: give hosts:")
        == 0);
}

TEST_CASE("config keys: uses_metas.runs_on_scheduler takes true or false, from YAML and code") {
  FlowFile file{executor("    uses: NoOp\n    uses_metas: {runs_on_scheduler: false}\n")};
  auto flow = Flow::load(file.path);
  REQUIRE_MESSAGE(flow, describe(flow));
  const Value* on = flow->deployments()[0].uses_metas.find("runs_on_scheduler");
  REQUIRE(on != nullptr);
  CHECK(on->is_bool());
  CHECK_FALSE(on->as_bool());
  CHECK(error_of(executor("    uses: NoOp\n    uses_metas: {runs_on_scheduler: sometimes}\n"))
          .find(":4: executors[0].uses_metas.runs_on_scheduler: expected true or false")
        == 0);
  CHECK(error_of(executor("    uses: NoOp\n    uses_metas: {runs_on_schedular: true}\n"))
          .find("did you mean 'runs_on_scheduler'?")
        != std::string::npos);
  Flow coded;
  coded.add({.name = "quick", .uses = "NoOp", .uses_metas = Params{{"runs_on_scheduler", 1}}});
  auto err = coded.validate();
  REQUIRE(err);
  CHECK(error_message(err) == "deployment 'quick': uses_metas: runs_on_scheduler: expected true or "
                              "false, got integer");
}

TEST_CASE("config keys: every option the Indexer reads is one it declares") {
  // IndexerOptions::from reads these (src/executors/indexer_shard.cpp): a key
  // read but not declared would be refused as a typo in every flow using it.
  CHECK(error_of(executor("    uses: Indexer\n    workspace: ./ws\n    uses_with:\n"
                          "      metric: euclidean\n      index: hnsw\n      M: 8\n"
                          "      ef_construction: 100\n      ef: 20\n      max_elements: 64\n"
                          "      sync: true\n      wal_recovery: strict\n      default_top_k: 5\n"
                          "      checkpoint_writes: 100\n      checkpoint_seconds: 5\n"
                          "      memtable_mb: 8\n      block_cache_mb: 8\n"
                          "      log_retention: 100\n      log_retention_mb: 16\n"
                          "      merge_min_postings: 64\n      merge_minor_share: 8\n"
                          "      merge_major_share: 2\n"))
        == "");
  // The merge keys are flat, like the others: a typo in one is caught.
  CHECK(error_of(executor("    uses: Indexer\n    workspace: ./ws\n    uses_with:\n"
                          "      merge_minor_shares: 8\n"))
          .find(":6: executors[0].uses_with.merge_minor_shares: unknown key for Indexer (did you "
                "mean 'merge_minor_share'?)")
        == 0);
}
