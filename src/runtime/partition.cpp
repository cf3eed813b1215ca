#include "runtime/partition.hpp"

#include <optional>
#include <unordered_map>
#include <utility>

namespace caflow::detail {

uint32_t shard_of(std::string_view id, uint32_t shards) {
  if (shards == 0)
    return 0;
  // FNV-1a, 64 bit: fixed constants and byte-wise, so the owner of an id never
  // depends on std::hash, the platform or the process.
  uint64_t hash = 14695981039346656037ull;
  for (char c : id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return static_cast<uint32_t>(hash % shards);
}

Partition partition(DocumentArray docs, uint32_t shards) {
  if (shards == 0)
    shards = 1;
  Partition plan;
  plan.parts.resize(shards);
  plan.positions.resize(shards);
  plan.ids.resize(shards);
  plan.total = docs.size();
  auto all = std::move(docs).docs();
  for (size_t i = 0; i < all.size(); ++i) {
    auto k = shard_of(all[i].id, shards);
    plan.positions[k].push_back(i);
    plan.ids[k].push_back(all[i].id);
    plan.parts[k].push_back(std::move(all[i]));
  }
  return plan;
}

DocumentArray reassemble(const Partition& plan, std::vector<DocumentArray> answers,
                         const std::vector<bool>& answered) {
  std::vector<std::optional<Document>> slots(plan.total);
  std::vector<Document> extra;
  for (size_t k = 0; k < plan.positions.size(); ++k) {
    if (k >= answers.size() || (!answered.empty() && (k >= answered.size() || !answered[k])))
      continue;
    const auto& positions = plan.positions[k];
    auto docs = std::move(answers[k]).docs();
    if (docs.size() == positions.size()) {
      // The common case: an executor that edits documents in place keeps
      // their count and order, whether or not it keeps their ids.
      for (size_t j = 0; j < docs.size(); ++j)
        slots[positions[j]] = std::move(docs[j]);
      continue;
    }
    std::unordered_map<std::string_view, size_t> position_of;
    if (k < plan.ids.size())
      for (size_t j = 0; j < plan.ids[k].size() && j < positions.size(); ++j)
        position_of.emplace(plan.ids[k][j], positions[j]);
    for (auto& doc : docs) {
      auto i = position_of.find(doc.id);
      if (i != position_of.end() && !slots[i->second]) {
        slots[i->second] = std::move(doc);
        continue;
      }
      extra.push_back(std::move(doc));
    }
  }
  std::vector<Document> out;
  out.reserve(plan.total + extra.size());
  for (auto& slot : slots)
    if (slot)
      out.push_back(std::move(*slot));
  for (auto& doc : extra)
    out.push_back(std::move(doc));
  return DocumentArray{std::move(out)};
}

}  // namespace caflow::detail
