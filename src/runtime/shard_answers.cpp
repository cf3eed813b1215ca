#include "caflow/shard_answers.hpp"

namespace caflow {

DocumentArray pack_shard_answers(std::vector<ShardAnswer> answers) {
  DocumentArray out;
  out.reserve(answers.size());
  for (auto& a : answers) {
    auto& d = out.emplace_back();
    d.id = "shard-" + std::to_string(a.shard);
    d.tags["shard"] = static_cast<int64_t>(a.shard);
    d.tags["parameters"] = std::move(a.parameters);
    if (a.failed())
      d.tags["error"] = std::move(a.error);
    d.chunks = std::move(a.docs).docs();
  }
  return out;
}

std::vector<ShardAnswer> unpack_shard_answers(DocumentArray docs) {
  std::vector<ShardAnswer> out;
  out.reserve(docs.size());
  for (auto& d : std::move(docs).docs()) {
    auto& a = out.emplace_back();
    if (d.tags.is_object()) {
      if (const Value* k = d.tags.find("shard"); k && k->is_int() && k->as_int() >= 0)
        a.shard = static_cast<uint32_t>(k->as_int());
      if (const Value* p = d.tags.find("parameters"); p && p->is_object())
        a.parameters = *p;
      if (const Value* e = d.tags.find("error"); e && e->is_string())
        a.error = e->as_string();
    }
    a.docs = DocumentArray{std::move(d.chunks)};
  }
  return out;
}

}  // namespace caflow
