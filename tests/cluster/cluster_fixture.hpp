// Helpers of the cluster tests: node daemons as child processes (ports
// picked by the kernel and read from the ready line), temp directories,
// documents, and waiting for a flow's placement to change (bounded).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "caflow/flow.hpp"
#include "daemon/process.hpp"
#include "tests/eventually.hpp"

namespace caflow::testing {

/// A fresh empty directory under the system's temp dir.
std::string temp_dir(const std::string& name);

/// A node daemon in a child process.
struct NodeProcess {
  std::unique_ptr<Process> proc;
  std::string address;  // 127.0.0.1:PORT
  uint16_t port = 0;
  std::string workspace;

  /// Starts `caflow node --port PORT --workspace WS --plugin <test plugin>`
  /// plus `extra`, and waits (bounded) for its ready line. Throws when it
  /// does not come, with the node's output.
  static NodeProcess start(const std::string& workspace, uint16_t port = 0,
                           std::vector<std::string> extra = {});

  /// Like start(), run through `prefix` (e.g. `ip netns exec NAME`).
  static NodeProcess start_in(std::vector<std::string> prefix, const std::string& workspace,
                              uint16_t port = 0, std::vector<std::string> extra = {});

  /// Like start(), on a free port, but without the test plugin: the node
  /// knows only the built-in executor types.
  static NodeProcess start_without_plugin(const std::string& workspace,
                                          std::vector<std::string> extra = {});
};

/// `n` documents d<first>..d<first+n-1>, tag x = their number.
DocumentArray numbered_docs(size_t first, size_t n);

/// A unit 8-d vector drawn from `i`: distinct documents are never parallel
/// (in practice), so a document's own embedding finds it first by cosine.
Embedding embedding_of(size_t i);

/// The placement of `deployment`'s replicas in `flow`.
/// A running flow of one PidTagger replica ("tagger") that nodes can join on
/// `cluster_port` (checks that it started).
RunningFlow joinable_tagger_flow(uint16_t cluster_port);

/// PidTagger's /tag over `n` documents, one per request, 4 in flight, each
/// call sleeping 100 ms, posted in a thread: requests stay in flight on every
/// replica while the test kills or scales something.
struct SlowPost {
  std::atomic<size_t> done{0};  ///< requests answered so far
  std::optional<caf::expected<PostResult>> result;
  std::thread thread;

  SlowPost(RunningFlow& flow, size_t n);
  ~SlowPost();
  /// Waits for the post; the result (checked to be there).
  caf::expected<PostResult>& finish();
};

std::vector<ReplicaPlacement> placement_of(const RunningFlow& flow, const std::string& deployment);

}  // namespace caflow::testing
