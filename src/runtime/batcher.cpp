#include "runtime/batcher.hpp"

#include "caflow/errors.hpp"
#include "caflow/json.hpp"

namespace caflow::detail {

namespace {

// Requests share a batch only with equal parameters: the group key is the
// endpoint and the parameters' canonical JSON (objects keep sorted keys).
std::string group_key(const Request& req) {
  return req.endpoint + '\n' + to_json(req.parameters);
}

}  // namespace

Batch Batcher::take(Group& g) {
  Batch out = std::move(g.batch);
  g.batch = Batch{};
  g.generation = 0;
  return out;
}

BatchAdd Batcher::add(uint64_t ticket, Request req) {
  BatchAdd out;
  const auto& cfg = config_.at(req.endpoint);
  size_t limit = cfg.preferred_batch_size == 0 ? 1 : cfg.preferred_batch_size;
  auto key = group_key(req);
  auto& g = groups_[key];
  // A request that would take the batch past its size starts the next one.
  if (!g.batch.tickets.empty() && g.batch.docs.size() + req.docs.size() > limit)
    out.ready.push_back(take(g));
  if (g.batch.tickets.empty()) {
    g.batch.endpoint = req.endpoint;
    g.batch.parameters = req.parameters;
    g.generation = next_generation_++;
    out.timer = BatchTimer{key, g.generation, cfg.timeout};
  }
  g.batch.sizes.push_back(req.docs.size());
  g.batch.docs.append(std::move(req.docs));
  req.docs = DocumentArray{};
  g.batch.tickets.push_back(ticket);
  g.batch.requests.push_back(std::move(req));
  if (g.batch.docs.size() >= limit) {
    out.ready.push_back(take(g));
    out.timer.reset();  // flushed already: no timer needed for it
  }
  return out;
}

std::optional<Batch> Batcher::expire(const std::string& group, uint64_t generation) {
  auto i = groups_.find(group);
  if (i == groups_.end() || i->second.generation != generation || i->second.batch.tickets.empty())
    return std::nullopt;
  auto out = take(i->second);
  groups_.erase(i);
  return out;
}

std::vector<Batch> Batcher::drain() {
  std::vector<Batch> out;
  for (auto& [key, g] : groups_)
    if (!g.batch.tickets.empty())
      out.push_back(take(g));
  groups_.clear();
  return out;
}

size_t Batcher::pending() const noexcept {
  size_t n = 0;
  for (const auto& [key, g] : groups_)
    n += g.batch.tickets.size();
  return n;
}

caf::expected<std::vector<DocumentArray>> split_batch(const Batch& batch, DocumentArray out) {
  size_t total = 0;
  for (auto n : batch.sizes)
    total += n;
  if (out.size() != total)
    return make_error(errc::executor_failed,
                      "dynamic batching: the executor returned " + std::to_string(out.size())
                        + " documents for a batch of " + std::to_string(total) + " ("
                        + std::to_string(batch.tickets.size())
                        + " requests); a batched endpoint must return one per document");
  std::vector<DocumentArray> parts(batch.sizes.size());
  size_t at = 0;
  for (size_t i = 0; i < batch.sizes.size(); ++i)
    for (size_t j = 0; j < batch.sizes[i]; ++j)
      parts[i].push_back(std::move(out[at++]));
  return parts;
}

}  // namespace caflow::detail
