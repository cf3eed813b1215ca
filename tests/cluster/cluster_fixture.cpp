#include "cluster/cluster_fixture.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <thread>

#include "caflow/errors.hpp"

namespace caflow::testing {

std::string temp_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path()
             / ("caflow-cluster-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)
                + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

namespace {

NodeProcess start_node(const std::string& workspace, uint16_t port, bool plugin,
                       std::vector<std::string> extra, std::vector<std::string> prefix = {}) {
  auto argv = std::move(prefix);
  for (std::string a : {std::string{CAFLOW_NODE_BINARY}, std::string{"node"}, std::string{"--port"},
                        std::to_string(port), std::string{"--workspace"}, workspace})
    argv.push_back(std::move(a));
  if (plugin) {
    argv.emplace_back("--plugin");
    argv.emplace_back(CAFLOW_CLUSTER_PLUGIN);
  }
  for (auto& a : extra)
    argv.push_back(std::move(a));
  NodeProcess node;
  node.workspace = workspace;
  node.proc = std::make_unique<Process>(argv);
  const std::string ready = "node ready on ";
  auto line = node.proc->wait_for(ready, std::chrono::seconds(30));
  if (!line)
    throw std::runtime_error("node did not get ready: " + node.proc->output());
  auto rest = line->substr(line->find(ready) + ready.size());
  node.address = rest.substr(0, rest.find(' '));
  node.port = static_cast<uint16_t>(std::stoi(node.address.substr(node.address.rfind(':') + 1)));
  return node;
}

}  // namespace

NodeProcess NodeProcess::start(const std::string& workspace, uint16_t port,
                               std::vector<std::string> extra) {
  return start_node(workspace, port, true, std::move(extra));
}

NodeProcess NodeProcess::start_in(std::vector<std::string> prefix, const std::string& workspace,
                                  uint16_t port, std::vector<std::string> extra) {
  return start_node(workspace, port, true, std::move(extra), std::move(prefix));
}

NodeProcess NodeProcess::start_without_plugin(const std::string& workspace,
                                              std::vector<std::string> extra) {
  return start_node(workspace, 0, false, std::move(extra));
}

DocumentArray numbered_docs(size_t first, size_t n) {
  DocumentArray docs;
  for (size_t i = first; i < first + n; ++i) {
    Document d;
    d.id = "d" + std::to_string(i);
    d.text = "hello world " + std::to_string(i);
    d.tags["x"] = static_cast<double>(i);
    docs.push_back(std::move(d));
  }
  return docs;
}

std::vector<ReplicaPlacement> placement_of(const RunningFlow& flow, const std::string& deployment) {
  std::vector<ReplicaPlacement> out;
  for (auto& p : flow.placement())
    if (p.deployment == deployment)
      out.push_back(p);
  return out;
}

Embedding embedding_of(size_t i) {
  std::mt19937 rng{static_cast<unsigned>(i) * 2654435761u + 1};
  std::normal_distribution<float> normal;
  std::vector<float> v(8);
  float norm = 0;
  for (auto& x : v) {
    x = normal(rng);
    norm += x * x;
  }
  for (auto& x : v)
    x /= std::sqrt(norm);
  return Embedding::dense_vector(std::move(v));
}

RunningFlow joinable_tagger_flow(uint16_t cluster_port) {
  FlowOptions options;
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  options.cluster_port = cluster_port;
  Flow description{options};
  description.add({.name = "tagger", .uses = "PidTagger", .replicas = 1});
  auto flow = description.start();
  REQUIRE_MESSAGE(flow, describe(flow));
  return std::move(*flow);
}

SlowPost::SlowPost(RunningFlow& flow, size_t n)
  : thread{[this, &flow, n] {
      PostOptions o;
      o.request_size = 1;
      o.prefetch = 4;
      o.parameters = Params{{"sleep_ms", int64_t{100}}};
      o.on_progress = [this](size_t answered, size_t) { done = answered; };
      result = flow.post("/tag", numbered_docs(0, n), o);
    }} {
}

SlowPost::~SlowPost() {
  if (thread.joinable())
    thread.join();
}

caf::expected<PostResult>& SlowPost::finish() {
  thread.join();
  REQUIRE(result);
  return *result;
}

}  // namespace caflow::testing
