// Helpers of the replication tests (#12): documents with embeddings, a flow
// with a replicated Indexer on given nodes, the copy states of its head,
// and a writer that streams /index requests and records what was
// acknowledged.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "caflow/flow.hpp"
#include "cluster/cluster_fixture.hpp"

namespace caflow::testing {

/// numbered_docs(first, n) with embedding_of each.
DocumentArray docs(size_t first, size_t n);

/// A flow "repl" with an Indexer "indexer" of `copies` replicas on `hosts`.
Flow replicated_flow(const std::string& workspace, const std::vector<std::string>& hosts,
                     uint32_t copies, Params uses_with = Params::object(),
                     uint16_t cluster_port = 0);

/// The status of the indexer's head.
Value head_status(RunningFlow& flow);

/// The copy state of every live copy, e.g. {"in_sync", "recovering"}.
std::vector<std::string> copies(RunningFlow& flow);

/// `n` copies alive, all in sync.
bool all_in_sync(RunningFlow& flow, size_t n);

/// The flow's /count (fails the test when it fails).
int64_t count(RunningFlow& flow);

/// Every id of `ids` fetched exactly once (checks).
void check_all_there(RunningFlow& flow, const std::vector<std::string>& ids);

/// kill -9 of the node, reaped, reset.
void kill_node(std::unique_ptr<NodeProcess>& node);

/// A writer that streams /index requests of `size` documents from `first`
/// on, recording what was acknowledged and what failed.
struct Writer {
  RunningFlow& flow;
  size_t size;
  std::atomic<bool> stop{false};
  std::atomic<size_t> failed{0};
  std::mutex mtx;
  std::vector<std::string> acked;
  std::string last_error;
  std::thread thread;

  Writer(RunningFlow& f, size_t n, size_t first);
  ~Writer();
  /// Documents acknowledged so far.
  size_t acknowledged();
  /// Stops it; every document acknowledged.
  std::vector<std::string> finish();
};

/// Once a copy came back: waits (up to `within`) until `n` copies are in
/// sync, lets 100 more documents be acknowledged, stops the writer and checks
/// that no write failed. Returns every document acknowledged.
std::vector<std::string> finish_after_rejoin(RunningFlow& flow, Writer& writer, size_t n,
                                             std::chrono::seconds within);

}  // namespace caflow::testing
