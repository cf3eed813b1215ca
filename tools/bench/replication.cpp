// Replication: indexing through an Indexer with one copy and with two copies
// on two local nodes (each a child process, re-executing this binary as
// `replication --serve`), in the same run, in alternating rounds (ratio: the
// median of the rounds' ratios, docs_per_s_*: the medians); then kill -9 of one node while a
// client writes (failover_ms: from the kill to the acknowledgement of the
// first write sent after it),
// and the node's return (catchup_docs_per_s: the documents written while it
// was away over the time from its copy being placed again to in sync).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include <caf/scoped_actor.hpp>

#include "bench/bench_child.hpp"
#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/messages.hpp"
#include "caflow/node.hpp"

namespace caflow::bench {

namespace {

int serve(int argc, char** argv) {
  NodeOptions options;
  options.workspace = arg_string(argc, argv, "workspace", "");
  options.port = static_cast<uint16_t>(arg(argc, argv, "port", 0));
  auto node = Node::start(options);
  if (!node)
    throw Error(node.error());
  serve_until_stdin_closes({node->port()});
  return 0;
}

// A node in a child process on `port` (0: any) over `workspace`.
struct NodeChild : BenchChild {
  NodeChild(const std::string& workspace, uint16_t at)
    : BenchChild(
      {"replication", "--serve", "--workspace=" + workspace, "--port=" + std::to_string(at)}) {}
  [[nodiscard]] uint16_t port() const { return static_cast<uint16_t>(ports().at(0)); }
  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port()); }
};

// CPU seconds (user + system) used so far by process `pid` (0: this one).
double cpu_seconds(pid_t pid) {
  std::ifstream in{pid == 0 ? std::string{"/proc/self/stat"}
                            : "/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  std::getline(in, line);
  // After the command's closing parenthesis: fields 3.. ; utime and stime
  // are fields 14 and 15.
  std::istringstream rest{line.substr(line.rfind(')') + 2)};
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i >= 14)
      ticks += std::stod(field);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// `n` documents with a short text and a 64-d unit vector, from `first`.
DocumentArray corpus(size_t first, size_t n) {
  DocumentArray docs;
  docs.reserve(n);
  for (size_t i = first; i < first + n; ++i) {
    std::mt19937 rng{static_cast<unsigned>(i) + 1};
    std::normal_distribution<float> g;
    auto& d = docs.emplace_back();
    d.id = "doc" + std::to_string(i);
    d.text = "document number " + std::to_string(i);
    std::vector<float> v(64);
    for (auto& x : v)
      x = g(rng);
    d.embedding = Embedding::dense_vector(std::move(v));
  }
  return docs;
}

Flow indexer_flow(const std::string& workspace, const std::vector<std::string>& hosts,
                  uint32_t copies) {
  Flow flow{FlowOptions{.name = "replication", .workspace = workspace}};
  DeploymentOptions d{.name = "indexer", .uses = "Indexer", .replicas = copies};
  Value::Array list;
  for (const auto& h : hosts)
    list.emplace_back(h);
  d.uses_metas["hosts"] = Value{std::move(list)};
  flow.add(std::move(d));
  return flow;
}

double index_rate(RunningFlow& flow, const DocumentArray& docs, size_t request_size) {
  auto start = clock::now();
  auto r = flow.post("/index", docs, {.request_size = request_size, .prefetch = 16});
  auto secs = seconds_since(start);
  if (!r)
    throw Error(r.error());
  return static_cast<double>(docs.size()) / secs;
}

// The copy state of slot `replica` of shard 0 ("" while it is not alive).
std::string copy_state(RunningFlow& flow, uint32_t replica) {
  caf::scoped_actor self{flow.system()};
  std::string out;
  self
    ->request(caf::actor_cast<head_actor>(flow.head("indexer")), std::chrono::seconds(10),
              status_atom::value)
    .receive(
      [&](Value& v) {
        for (const auto& p : v["placement"].as_array())
          if (p.get_int("replica", -1) == replica && p.get_bool("alive", false))
            out = p.get_string("copy", "");
      },
      [](caf::error&) {});
  return out;
}

}  // namespace

int replication(int argc, char** argv) {
  if (flag(argc, argv, "serve"))
    return serve(argc, argv);
  auto n_docs = static_cast<size_t>(arg(argc, argv, "docs", 20000));
  auto request_size = static_cast<size_t>(arg(argc, argv, "request-size", 100));
  auto away_docs = static_cast<size_t>(arg(argc, argv, "away-docs", 20000));
  auto rounds = static_cast<size_t>(std::max(1LL, arg(argc, argv, "rounds", 3)));
  namespace fs = std::filesystem;
  auto root = fs::temp_directory_path() / ("caflow-bench-replication-" + std::to_string(getpid()));
  fs::remove_all(root);
  auto ws_a = (root / "node-a").string();
  auto ws_b = (root / "node-b").string();
  fs::create_directories(ws_a);
  fs::create_directories(ws_b);
  NodeChild a{ws_a, 0};
  auto b = std::make_unique<NodeChild>(ws_b, 0);
  auto port_b = b->port();

  // Both flows at once (each flow's data apart on node a), indexing fresh
  // documents in alternating rounds: a load that comes and goes on a shared
  // machine falls on both alike, and the ratio is the median of the rounds'.
  auto flow1 = indexer_flow((root / "flow-1").string(), {a.address()}, 1).start();
  if (!flow1)
    throw Error(flow1.error());
  auto flow = indexer_flow((root / "flow-2").string(), {a.address(), b->address()}, 2).start();
  if (!flow)
    throw Error(flow.error());
  // CPU milliseconds per 1,000 documents of this process and each node
  // while the parts run: where the time of a part goes.
  std::vector<pid_t> pids{0, a.pid(), b->pid()};
  std::vector<std::vector<double>> cpu(2, std::vector<double>(pids.size(), 0.0));
  auto timed = [&](int part, RunningFlow& f, const DocumentArray& d) {
    std::vector<double> before;
    for (auto p : pids)
      before.push_back(cpu_seconds(p));
    auto rate = index_rate(f, d, request_size);
    for (size_t i = 0; i < pids.size(); ++i)
      cpu[part][i] += cpu_seconds(pids[i]) - before[i];
    return rate;
  };
  std::vector<double> ones, twos, ratios;
  for (size_t r = 0; r < rounds; ++r) {
    auto docs = corpus(r * n_docs, n_docs);
    ones.push_back(timed(0, *flow1, docs));
    twos.push_back(timed(1, *flow, docs));
    ratios.push_back(twos.back() / ones.back());
  }
  flow1->stop();
  auto cpu_value = [&](int part) {
    Value::Object out;
    const char* names[] = {"flow", "node_a", "node_b"};
    for (size_t i = 0; i < pids.size(); ++i)
      out[names[i]] = cpu[part][i] * 1e6 / static_cast<double>(n_docs * rounds);
    return Value{std::move(out)};
  };
  auto list = [](const std::vector<double>& xs) {
    Value::Array out;
    for (auto x : xs)
      out.emplace_back(x);
    return Value{std::move(out)};
  };
  auto median = [](std::vector<double> xs) { return percentile(xs, 50); };
  auto one = median(ones);
  auto two = median(twos);
  auto ratio = median(ratios);
  emit({{"bench", "replication"},
        {"part", "1copy"},
        {"docs", int64_t(n_docs)},
        {"docs_per_s", one},
        {"rounds", list(ones)},
        {"cpu_ms_per_1k_docs", cpu_value(0)}});
  emit({{"bench", "replication"},
        {"part", "2copies"},
        {"docs", int64_t(n_docs)},
        {"docs_per_s", two},
        {"rounds", list(twos)},
        {"cpu_ms_per_1k_docs", cpu_value(1)}});

  // Failover: one writer of small requests; node b dies under it.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> last_ack_ns{0};
  std::atomic<size_t> failed{0};
  // The ack time of each write with the time it was sent: failover_ms counts
  // only writes sent after the kill (an earlier one may have been applied
  // by both copies already).
  std::atomic<int64_t> killed_at{INT64_MAX};
  std::thread writer{[&] {
    for (size_t next = 0; !stop; next += 10) {
      auto sent = clock::now().time_since_epoch().count();
      auto r = flow->post("/index", corpus(1'000'000 + next, 10), {.request_size = 10});
      if (!r)
        ++failed;
      else if (sent >= killed_at.load() && last_ack_ns.load() == 0)
        last_ack_ns = clock::now().time_since_epoch().count();
    }
  }};
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto killed = clock::now();
  auto killed_ns = killed.time_since_epoch().count();
  killed_at = killed_ns;
  b->kill9();
  b.reset();
  while (last_ack_ns.load() == 0)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  auto failover_ms = static_cast<double>(last_ack_ns.load() - killed_ns) / 1e6;
  stop = true;
  writer.join();

  // Catch-up: written while b is away, then b returns on its port.
  auto away = corpus(2'000'000, away_docs);
  (void)index_rate(*flow, away, request_size);
  b = std::make_unique<NodeChild>(ws_b, port_b);
  while (copy_state(*flow, 1).empty())
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto placed = clock::now();
  while (copy_state(*flow, 1) != "in_sync")
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto catchup_s = seconds_since(placed);
  auto catchup = static_cast<double>(away_docs) / catchup_s;
  flow->stop();
  emit({{"bench", "replication"},
        {"docs", int64_t(n_docs)},
        {"request_size", int64_t(request_size)},
        {"docs_per_s_1copy", one},
        {"docs_per_s_2copies", two},
        {"ratio", ratio},
        {"failover_ms", failover_ms},
        {"failed_writes", int64_t(failed.load())},
        {"catchup_docs", int64_t(away_docs)},
        {"catchup_docs_per_s", catchup}});
  std::error_code ec;
  fs::remove_all(root, ec);
  return 0;
}

}  // namespace caflow::bench
