#include "runtime/post_batches.hpp"

#include <algorithm>

#include "runtime/reduce.hpp"

namespace caflow::detail {

std::vector<std::pair<size_t, size_t>> request_slices(size_t n_docs, size_t request_size) {
  auto size = std::max<size_t>(1, request_size);
  std::vector<std::pair<size_t, size_t>> out;
  out.reserve((n_docs + size - 1) / size);
  for (size_t begin = 0; begin < n_docs; begin += size)
    out.emplace_back(begin, std::min(n_docs, begin + size));
  if (out.empty())
    out.emplace_back(0, 0);
  return out;
}

PostResult join_answers(std::vector<PostAnswer>& answers) {
  PostResult out;
  size_t total = 0;
  for (const auto& a : answers)
    total += a.docs.size();
  out.docs.reserve(total);
  std::vector<Params> params;
  params.reserve(answers.size());
  for (auto& a : answers) {
    out.docs.append(std::move(a.docs));
    params.push_back(std::move(a.parameters));
    out.failed_shards += a.failed_shards;
    for (auto& f : a.failures)
      out.failures.push_back(std::move(f));
  }
  out.parameters = reduce_parameters(params);
  return out;
}

void put_shard_failures(Params& params, uint32_t failed_shards,
                        const std::vector<std::string>& failures) {
  if (failed_shards == 0)
    return;
  params[failed_shards_key] = static_cast<int64_t>(failed_shards);
  Value::Array lines;
  lines.reserve(failures.size());
  for (const auto& f : failures)
    lines.emplace_back(f);
  params[failures_key] = std::move(lines);
}

void take_shard_failures(Params& params, PostAnswer& out) {
  if (!params.is_object())
    return;
  auto& obj = params.as_object();
  if (auto it = obj.find(failed_shards_key); it != obj.end()) {
    if (it->second.is_number())
      out.failed_shards += static_cast<uint32_t>(it->second.as_int());
    obj.erase(it);
  }
  if (auto it = obj.find(failures_key); it != obj.end()) {
    if (it->second.is_array())
      for (const auto& f : it->second.as_array())
        if (f.is_string())
          out.failures.push_back(f.as_string());
    obj.erase(it);
  }
}

}  // namespace caflow::detail
