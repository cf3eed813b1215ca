#include "runtime/flow_walk.hpp"

#include <deque>
#include <map>
#include <string>
#include <unordered_map>

#include "runtime/reduce.hpp"

namespace caflow::detail {

FlowWalk::FlowWalk(const FlowGraph& graph, DocumentArray docs,
                   std::span<const std::optional<DocFilter>> filters)
  : graph_(graph), filters_(filters), docs_(std::move(docs)) {
  auto n = graph_.needs.size();
  outputs_.resize(n);
  held_.resize(n);
  waiting_.resize(n);
  consumers_.resize(n);
  answered_.assign(n, false);
  for (size_t i = 0; i < n; ++i) {
    waiting_[i] = graph_.needs[i].size();
    // A leaf's output has one reader: the answer.
    consumers_[i] = graph_.dependents[i].size() + (graph_.dependents[i].empty() ? 1 : 0);
  }
  leaves_left_ = graph_.leaves.size();
}

FlowWalk::Step FlowWalk::start() {
  Step step;
  auto left = graph_.starts.size();
  for (auto s : graph_.starts) {
    // The last start takes the request's documents, the others a copy.
    auto input = --left == 0 ? std::move(docs_) : docs_;
    ready(s, std::move(input), step);
  }
  return step;
}

// Node `node` has its input: launch it with the documents its filter takes,
// or, when it takes none of them, let them all pass at once.
void FlowWalk::ready(size_t node, DocumentArray input, Step& step) {
  const auto* filter = node < filters_.size() && filters_[node] ? &*filters_[node] : nullptr;
  if (!filter) {
    step.launches.push_back({node, std::move(input)});
    return;
  }
  auto split = split_by(*filter, std::move(input));
  // A request without documents (/count, /clear) still runs: there is
  // nothing to filter.
  if (split.taken.empty() && !split.skipped.empty()) {
    answered_[node] = true;
    std::vector<bool> all(split.skipped.size(), true);
    complete(node, {std::move(split.skipped), std::move(all)}, step);
    return;
  }
  if (!split.skipped.empty())
    held_[node] = Held{std::move(split.taken_at), split.taken.ids(), std::move(split.skipped)};
  step.launches.push_back({node, std::move(split.taken)});
}

// The skipped documents back at their input positions among the answer. An
// answer with as many documents as were taken fills the taken positions in
// order (the executor may have changed ids); one with fewer or more is
// placed by id, a taken document it lacks leaves its position out and ids
// it made up go last.
FlowWalk::Output FlowWalk::rejoin_output(Held held, DocumentArray answered) {
  Output out;
  if (answered.size() == held.taken_ids.size()) {
    out.skipped.reserve(held.taken_at.size());
    for (bool taken : held.taken_at)
      out.skipped.push_back(!taken);
    out.docs = rejoin(held.taken_at, std::move(answered), std::move(held.skipped));
    return out;
  }
  auto docs = std::move(answered).docs();
  std::unordered_map<std::string, std::deque<size_t>> at;
  for (size_t j = 0; j < docs.size(); ++j)
    at[docs[j].id].push_back(j);
  std::vector<bool> used(docs.size(), false);
  size_t t = 0;
  size_t s = 0;
  for (bool taken : held.taken_at) {
    if (!taken) {
      if (s < held.skipped.size()) {
        out.docs.push_back(std::move(held.skipped[s++]));
        out.skipped.push_back(true);
      }
      continue;
    }
    auto i = t < held.taken_ids.size() ? at.find(held.taken_ids[t++]) : at.end();
    if (i == at.end() || i->second.empty())
      continue;
    auto j = i->second.front();
    i->second.pop_front();
    used[j] = true;
    out.docs.push_back(std::move(docs[j]));
    out.skipped.push_back(false);
  }
  for (size_t j = 0; j < docs.size(); ++j)
    if (!used[j]) {
      out.docs.push_back(std::move(docs[j]));
      out.skipped.push_back(false);
    }
  return out;
}

// The output of `node` for one reader: moved out for the last reader.
FlowWalk::Output FlowWalk::take_output(size_t node) {
  auto& out = *outputs_[node];
  return --consumers_[node] == 0 ? std::move(out) : out;
}

DocumentArray FlowWalk::gather(const std::vector<size_t>& needs) {
  if (needs.size() == 1)
    return take_output(needs[0]).docs;
  std::vector<Output> inputs;
  bool any_skipped = false;
  for (auto k : needs) {
    inputs.push_back(take_output(k));
    any_skipped = any_skipped || !inputs.back().skipped.empty();
  }
  std::vector<DocumentArray> parts;
  if (!any_skipped) {
    for (auto& in : inputs)
      parts.push_back(std::move(in.docs));
    return join_by_id(std::move(parts));
  }
  // Join what each need ran on; a document that skipped a need comes from
  // another need that ran on it, else (it skipped all) once, as it is.
  std::vector<std::string> order;
  for (const auto& d : inputs.front().docs)
    order.push_back(d.id);
  std::vector<DocumentArray> passed(inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    auto& in = inputs[k];
    auto& part = parts.emplace_back();
    for (size_t i = 0; i < in.docs.size(); ++i)
      (i < in.skipped.size() && in.skipped[i] ? passed[k] : part).push_back(std::move(in.docs[i]));
  }
  auto joined = join_by_id(std::move(parts));
  // Repeated ids count occurrence by occurrence, as in join_by_id.
  std::map<std::string, size_t> have;
  for (const auto& d : joined)
    ++have[d.id];
  for (auto& p : passed) {
    std::map<std::string, size_t> seen;
    for (auto& d : p)
      if (++seen[d.id] > have[d.id]) {
        ++have[d.id];
        joined.push_back(std::move(d));
      }
  }
  return order_like(order, std::move(joined));
}

void FlowWalk::complete(size_t node, Output out, Step& step) {
  outputs_[node] = std::move(out);
  for (auto d : graph_.dependents[node])
    if (--waiting_[d] == 0)
      ready(d, gather(graph_.needs[d]), step);
  if (!graph_.dependents[node].empty() || --leaves_left_ > 0)
    return;
  Response result = std::move(acc_);
  result.docs = gather(graph_.leaves);
  finished_ = true;
  step.result = std::move(result);
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
  Output out;
  if (auto& held = held_[node]) {
    out = rejoin_output(std::move(*held), std::move(resp.docs));
    held.reset();
  } else {
    out.docs = std::move(resp.docs);
  }
  complete(node, std::move(out), step);
  return step;
}

}  // namespace caflow::detail
