// Small executors for runtime tests: they record which shard and replica ran.
#pragma once

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
  DocumentArray stored_;
};

}  // namespace caflow::testing
