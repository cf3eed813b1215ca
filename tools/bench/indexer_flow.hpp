// The index benchmarks' flow: an Indexer deployment sharded the way the
// seed flow shards it, and single-query searches timed through a running
// flow. One definition, so that `dense`, `million`, `search` and `seed`
// measure the same routing and the same kind of request.
#pragma once

#include <string>
#include <vector>

#include "caflow/flow.hpp"

namespace caflow::bench {

/// An Indexer named "indexer" with `shards` shards over `workspace`: writes
/// by PARTITION (each id always reaches its shard), searches and everything
/// else to ALL (the shards' matches merged by score).
DeploymentOptions sharded_indexer(const std::string& workspace, uint32_t shards,
                                  Params uses_with = Params::object());

/// Throughput and latency of searches posted one at a time.
struct SearchTimes {
  double qps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::vector<double> ms;  ///< every search's latency, in posting order
};

/// Posts each of `queries` alone to /search with top_k 10, in order, and
/// times them (a search that fails throws caflow::Error). Warm-up is the
/// caller's: time a prefix first and drop the result.
SearchTimes single_searches(RunningFlow& flow, const std::vector<Document>& queries);

}  // namespace caflow::bench
