#include "runtime/flow_walk.hpp"

#include "runtime/reduce.hpp"

namespace caflow::detail {

FlowWalk::FlowWalk(const FlowGraph& graph, DocumentArray docs)
  : graph_(graph), docs_(std::move(docs)) {
  auto n = graph_.needs.size();
  outputs_.resize(n);
  waiting_.resize(n);
  consumers_.resize(n);
  answered_.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    waiting_[i] = graph_.needs[i].size();
    // A leaf's output has one reader: the answer.
    consumers_[i] = graph_.dependents[i].size() + (graph_.dependents[i].empty() ? 1 : 0);
  }
  leaves_left_ = graph_.leaves.size();
  starts_left_ = graph_.starts.size();
}

std::vector<FlowWalk::Launch> FlowWalk::start() {
  std::vector<Launch> out;
  for (auto s : graph_.starts) {
    // The last start takes the request's documents, the others a copy.
    auto input = --starts_left_ == 0 ? std::move(docs_) : docs_;
    out.push_back({s, std::move(input)});
  }
  return out;
}

// The output of `node` for one reader: moved out for the last reader.
DocumentArray FlowWalk::take_output(size_t node) {
  auto& out = *outputs_[node];
  return --consumers_[node] == 0 ? std::move(out) : out;
}

DocumentArray FlowWalk::gather(size_t node) {
  const auto& needs = graph_.needs[node];
  if (needs.size() == 1)
    return take_output(needs[0]);
  std::vector<DocumentArray> inputs;
  for (auto k : needs)
    inputs.push_back(take_output(k));
  return join_by_id(std::move(inputs));
}

FlowWalk::Step FlowWalk::done(size_t node, Response resp) {
  Step step;
  if (finished_ || node >= answered_.size() || answered_[node])
    return step;
  answered_[node] = true;
  acc_.parameters.merge(resp.parameters);
  for (auto& r : resp.routes)
    acc_.routes.push_back(std::move(r));
  for (auto& f : resp.failures)
    acc_.failures.push_back(std::move(f));
  acc_.shards_failed += resp.shards_failed;
  acc_.shards_answered += resp.shards_answered;
  outputs_[node] = std::move(resp.docs);
  for (auto d : graph_.dependents[node])
    if (--waiting_[d] == 0)
      step.launches.push_back({d, gather(d)});
  if (graph_.dependents[node].empty() && --leaves_left_ == 0) {
    Response out = std::move(acc_);
    if (graph_.leaves.size() == 1) {
      out.docs = take_output(graph_.leaves[0]);
    } else {
      std::vector<DocumentArray> parts;
      for (auto leaf : graph_.leaves)
        parts.push_back(take_output(leaf));
      out.docs = join_by_id(std::move(parts));
    }
    finished_ = true;
    step.result = std::move(out);
  }
  return step;
}

}  // namespace caflow::detail
