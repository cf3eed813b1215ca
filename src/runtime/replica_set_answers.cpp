// ReplicaSet: every shard's answer delivered packed for the head's
// uses_after (caflow/shard_answers.hpp), instead of the built-in reduce.
#include "caflow/errors.hpp"
#include "caflow/shard_answers.hpp"
#include "runtime/fan_out_error.hpp"
#include "runtime/reduce.hpp"
#include "runtime/replica_set.hpp"

namespace caflow::detail {

void ReplicaSet::pack_any(uint64_t op, uint32_t shard, Response& resp) const {
  auto i = ops_.find(op);
  if (i == ops_.end() || !i->second.packed || i->second.mode != PollingMode::any)
    return;
  std::vector<ShardAnswer> one(1);
  one[0].shard = shard;
  one[0].docs = std::move(resp.docs);
  one[0].parameters = resp.parameters;
  resp.docs = pack_shard_answers(std::move(one));
}

// The same outcomes as finish(): a write that reached only some shards
// fails, so does a fan-out no shard answered; otherwise the answers go out
// one per shard, with the counts, failures and reduced parameters that
// finish() would give.
void ReplicaSet::finish_packed(Effects& out, uint64_t op, Op& o) {
  auto fail = [&](caf::error err) { fail_op(out, op, std::move(err)); };
  bool partition = o.mode == PollingMode::partition;
  std::vector<ShardAnswer> shards(o.answers.size());
  for (size_t i = 0; i < o.failed_parts.size() && i < o.failures.size(); ++i)
    if (o.failed_parts[i] < shards.size())
      shards[o.failed_parts[i]].error = o.failures[i];
  std::vector<Params> params;
  size_t count = 0;
  for (size_t k = 0; k < o.answers.size(); ++k) {
    auto& s = shards[k];
    s.shard = static_cast<uint32_t>(k);
    auto& a = o.answers[k];
    if (!a)
      continue;
    ++count;
    s.docs = std::move(a->docs);
    s.parameters = a->parameters;
    params.push_back(std::move(a->parameters));
    for (auto& f : a->failures)
      o.failures.push_back(std::move(f));
  }
  if (partition && !o.failures.empty()) {
    fail(make_error(fan_out_code(o.errors, errc::unavailable),
                    options_.name + ": " + std::to_string(o.failures.size())
                      + " shard(s) failed: " + join_failures(o.failures)));
    return;
  }
  if (count == 0) {
    fail(make_error(fan_out_code(o.errors, errc::all_shards_failed),
                    options_.name + ": every shard failed: " + join_failures(o.failures)));
    return;
  }
  Response resp;
  resp.docs = pack_shard_answers(std::move(shards));
  resp.parameters = reduce_parameters(params, partition ? NotFound::join : NotFound::intersect);
  deliver_joined(out, op, o, std::move(resp), count);
}

}  // namespace caflow::detail
