#include "bench/indexer_flow.hpp"

#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"

namespace caflow::bench {

DeploymentOptions sharded_indexer(const std::string& workspace, uint32_t shards, Params uses_with) {
  return {.name = "indexer",
          .uses = "Indexer",
          .uses_with = std::move(uses_with),
          .workspace = workspace,
          .shards = shards,
          .polling = {{"/index", "PARTITION"}, {"/search", "ALL"}, {"*", "ALL"}}};
}

SearchTimes single_searches(RunningFlow& flow, const std::vector<Document>& queries) {
  std::vector<double> ms;
  ms.reserve(queries.size());
  auto start = clock::now();
  for (const auto& q : queries) {
    auto t = clock::now();
    auto r = flow.post("/search", DocumentArray{std::vector<Document>{q}},
                       {.parameters = Value{{"top_k", 10}}});
    if (!r)
      throw Error(r.error());
    ms.push_back(seconds_since(t) * 1000);
  }
  SearchTimes out;
  out.qps = static_cast<double>(queries.size()) / seconds_since(start);
  out.ms = ms;
  out.p50_ms = percentile(ms, 50);
  out.p99_ms = percentile(ms, 99);
  return out;
}

}  // namespace caflow::bench
