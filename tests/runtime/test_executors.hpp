// Small executors for runtime tests: they record which shard and replica ran.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "caflow/executor.hpp"

namespace caflow::testing {

/// Tags each document with the shard and replica that saw it; `/fail`
/// throws; `/slow` sleeps `ms` milliseconds (parameter).
class Recorder : public Executor {
 public:
  explicit Recorder(ExecutorContext ctx);
};

/// A toy index: `/index` stores documents in memory (per replica),
/// `/search` scores every stored document against the query by -|a - b| on
/// the tag "x" and returns the top_k.
class ToyIndex : public Executor {
 public:
  explicit ToyIndex(ExecutorContext ctx);

 private:
  std::vector<std::pair<std::string, double>> stored_;  // id, tags.x
};

/// Holds every `/hold` request in its replica until the test opens the gate,
/// and tells the test which replicas hold one: for tests that must know a
/// request sits in a replica, without sleeping. Other endpoints pass at
/// once. Documents are tagged "gate.replica" with the replica that ran them.
/// The gate is process-wide (one test at a time).
class Gate : public Executor {
 public:
  explicit Gate(ExecutorContext ctx);

  /// Closes the gate and forgets the holders (call first in each test).
  static void reset();
  /// Opens the gate: held and later `/hold` requests pass.
  static void open();
  /// Waits until `n` requests are held, for at most `limit`; returns the
  /// replica ids holding them in arrival order (fewer on timeout).
  static std::vector<uint32_t> wait_held(size_t n, std::chrono::seconds limit);
};

}  // namespace caflow::testing
