// ReplicaSet: slots over their lifetime (placing, loss, scaling, stopping).
// Routing and calls are in replica_set_calls.cpp.
#include "runtime/replica_set.hpp"

#include <algorithm>
#include <chrono>

#include <caf/exit_reason.hpp>

#include "caflow/errors.hpp"

namespace caflow::detail {

const char* to_string(SlotState state) noexcept {
  switch (state) {
    case SlotState::placing:
      return "placing";
    case SlotState::live:
      return "live";
    case SlotState::draining:
      return "draining";
    case SlotState::stopping:
      return "stopping";
    case SlotState::lost:
      return "lost";
    case SlotState::retired:
      return "retired";
  }
  return "?";
}

ReplicaSet::ReplicaSet(ReplicaSetOptions options) : options_(std::move(options)) {
  if (options_.shards == 0)
    options_.shards = 1;
  if (!options_.clock)
    options_.clock = [] {
      using namespace std::chrono;
      return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
    };
  shards_.resize(options_.shards);
  pickers_.resize(options_.shards);
  seqs_.resize(options_.shards);
  if (!options_.replicated)
    for (auto& q : seqs_)
      q.established = true;
}

Effects ReplicaSet::start(const std::vector<std::vector<std::string>>& nodes) {
  Effects out;
  for (uint32_t k = 0; k < shards_.size(); ++k) {
    shards_[k].resize(options_.replicas);
    for (uint32_t r = 0; r < options_.replicas; ++r) {
      auto node = k < nodes.size() && r < nodes[k].size() ? nodes[k][r] : std::string{"local"};
      place(out, k, r, node.empty() ? std::string{"local"} : node, "");
    }
  }
  return out;
}

Slot* ReplicaSet::find(SlotId id) {
  if (id.shard >= shards_.size() || id.index >= shards_[id.shard].size())
    return nullptr;
  auto& s = shards_[id.shard][id.index];
  return s.gen == id.gen ? &s : nullptr;
}

size_t ReplicaSet::alive() const noexcept {
  size_t n = 0;
  for (const auto& shard : shards_)
    for (const auto& s : shard)
      n += s.state == SlotState::live || s.state == SlotState::draining ? 1 : 0;
  return n;
}

void ReplicaSet::place(Effects& out, uint32_t shard, uint32_t index, std::string node,
                       std::string exclude) {
  auto& s = shards_[shard][index];
  s.gen = ++next_gen_;
  s.state = SlotState::placing;
  s.in_flight = 0;
  s.suspect = false;
  s.copy = CopyState::out;
  s.seq_known = false;
  s.seq_failed = false;
  s.seq_waiting = false;
  s.recovery = 0;
  if (!node.empty())
    s.node = node;
  out.push_back(effect::PlaceSlot{{shard, index, s.gen}, std::move(node), std::move(exclude)});
}

Effects ReplicaSet::on_placed(SlotId id, const std::string& node) {
  Effects out;
  auto* s = find(id);
  settle_scale(out, id, "");
  if (!s || s->state != SlotState::placing || stopping_) {
    // Scaled away, or the flow stops, while it was being placed.
    out.push_back(effect::StopSlot{id});
    return out;
  }
  s->state = SlotState::live;
  s->node = node;
  s->lost.clear();
  if (options_.replicated)
    copy_placed(out, id);
  return out;
}

Effects ReplicaSet::on_place_failed(SlotId id, const std::string& why) {
  Effects out;
  settle_scale(out, id,
               options_.name + "/shard-" + std::to_string(id.shard) + "/replica-"
                 + std::to_string(id.index) + ": " + why);
  auto* s = find(id);
  if (!s || s->state != SlotState::placing || stopping_)
    return out;
  s->state = SlotState::lost;
  if (s->lost.empty())
    s->lost = why;
  // A stateful slot tries its own node again (its data is there), a
  // stateless one wherever there is room.
  out.push_back(effect::RetryLater{id, options_.respawn_backoff});
  return out;
}

Effects ReplicaSet::on_timer(SlotId id) {
  Effects out;
  auto* s = find(id);
  if (!s || s->state != SlotState::lost || s->suspect || stopping_)
    return out;
  if (options_.stateful)
    place(out, id.shard, id.index, s->node, "");
  else
    place(out, id.shard, id.index, "", s->node);
  return out;
}

void ReplicaSet::lose(Effects& out, SlotId id, const std::string& why, bool suspect) {
  auto& s = shards_[id.shard][id.index];
  ++counters_.restarts;
  s.lost = why;
  if (!options_.stateful) {
    // Anywhere but the node it was lost with. A replica that may still
    // exist there is stopped (the exit waits until the node answers again).
    auto node = s.node;
    if (suspect)
      out.push_back(effect::StopSlot{id});
    place(out, id.shard, id.index, "", node);
    return;
  }
  s.state = SlotState::lost;
  s.suspect = suspect;
  s.in_flight = 0;
  if (options_.replicated)
    leave_sync(out, id, why);
  // Its data lives on that node: wait for the node to come back (a hung one
  // returns with the same replica; a lost one is tried again).
  if (!suspect)
    out.push_back(effect::RetryLater{id, options_.respawn_backoff});
}

Effects ReplicaSet::on_down(SlotId id, const caf::error& reason) {
  Effects out;
  auto* s = find(id);
  if (!s)
    return out;  // an older replica of the slot, already replaced
  auto gone = [&](const std::string& why) {
    return make_error(errc::unavailable, shard_name(id.shard) + ": unavailable: " + why);
  };
  auto why = reason == caf::exit_reason::remote_link_unreachable
               ? "node " + s->node + " lost"
               : "replica went away (" + caf::to_string(reason) + ")";
  switch (s->state) {
    case SlotState::placing:
    case SlotState::retired:
      return out;
    case SlotState::lost:
      if (s->suspect) {
        // A hung node's connection broke after all: try its node again.
        s->suspect = false;
        s->lost = "node " + s->node + " lost";
        out.push_back(effect::RetryLater{id, options_.respawn_backoff});
      }
      return out;
    case SlotState::draining:
    case SlotState::stopping:
      s->state = SlotState::retired;
      s->awaited = false;
      s->in_flight = 0;
      if (options_.replicated)
        leave_sync(out, id, why);
      fail_calls_on(out, id, gone(why));
      check_stop_done(out);
      return out;
    case SlotState::live:
      break;
  }
  if (s->node == "local" || s->node.empty()) {
    // Restart in this process with the same shard and workspace.
    ++counters_.restarts;
    if (options_.replicated)
      leave_sync(out, id, why);
    place(out, id.shard, id.index, "local", "");
  } else {
    lose(out, id,
         reason == caf::exit_reason::remote_link_unreachable
           ? why
           : "replica on node " + s->node + " stopped (" + caf::to_string(reason) + ")",
         false);
  }
  // The calls it held: retried on the shard's other replicas, or failed
  // naming the shard and why.
  fail_calls_on(out, id, gone(why));
  return out;
}

Effects ReplicaSet::on_node_lost(const std::string& node, const std::string& why) {
  Effects out;
  std::vector<SlotId> hit;
  for (uint32_t k = 0; k < shards_.size(); ++k)
    for (uint32_t i = 0; i < shards_[k].size(); ++i) {
      auto& s = shards_[k][i];
      if (s.node != node)
        continue;
      SlotId id{k, i, s.gen};
      switch (s.state) {
        case SlotState::live:
          hit.push_back(id);
          lose(out, id, why, true);
          break;
        case SlotState::draining:
        case SlotState::stopping:
          // Scaled away or the flow stops: nothing to wait for.
          hit.push_back(id);
          s.state = SlotState::retired;
          s.awaited = false;
          if (options_.replicated)
            leave_sync(out, id, why);
          out.push_back(effect::StopSlot{id});
          break;
        default:
          break;
      }
    }
  if (hit.empty())
    return out;
  out.push_back(effect::Log{options_.name + ": " + why + ": " + std::to_string(hit.size())
                            + " replica(s) unavailable"});
  // Every slot first, then the calls: a retry must not go to a replica of
  // the same node.
  for (auto id : hit)
    fail_calls_on(out, id,
                  make_error(errc::unavailable, shard_name(id.shard) + ": unavailable: " + why));
  check_stop_done(out);
  return out;
}

Effects ReplicaSet::on_node_back(const std::string& node) {
  Effects out;
  size_t back = 0;
  for (uint32_t k = 0; k < shards_.size(); ++k)
    for (uint32_t i = 0; i < shards_[k].size(); ++i) {
      auto& s = shards_[k][i];
      if (s.node == node && s.state == SlotState::lost && s.suspect && !stopping_) {
        s.state = SlotState::live;
        s.suspect = false;
        s.lost.clear();
        s.in_flight = 0;
        ++back;
        // It may have missed writes while it did not answer.
        if (options_.replicated)
          copy_placed(out, {k, i, s.gen});
      }
    }
  if (back > 0)
    out.push_back(effect::Log{options_.name + ": node " + node
                              + " answers again: " + std::to_string(back) + " replica(s) back"});
  return out;
}

void ReplicaSet::maybe_stop_idle(Effects& out, uint32_t shard, uint32_t index) {
  auto& s = shards_[shard][index];
  if (s.state == SlotState::draining && s.in_flight == 0) {
    s.state = SlotState::stopping;
    out.push_back(effect::StopSlot{{shard, index, s.gen}});
  }
}

Effects ReplicaSet::on_scale(uint64_t scale, uint32_t n) {
  Effects out;
  if (n == 0) {
    out.push_back(effect::ScaleDone{
      scale,
      make_error(errc::invalid_argument, options_.name + ": replicas must be at least 1, got 0")});
    return out;
  }
  if (stopping_) {
    out.push_back(
      effect::ScaleDone{scale, make_error(errc::unavailable, options_.name + ": stopping")});
    return out;
  }
  options_.replicas = n;
  ScaleOp op;
  for (uint32_t k = 0; k < shards_.size(); ++k) {
    auto& shard = shards_[k];
    std::vector<uint32_t> active;
    for (uint32_t i = 0; i < shard.size(); ++i)
      if (shard[i].state == SlotState::placing || shard[i].state == SlotState::live
          || shard[i].state == SlotState::lost)
        active.push_back(i);
    // A stateful shard's replicas share its store on its node: new ones go
    // there, not to the least-loaded node.
    std::string node;
    std::string exclude;
    if (options_.replicated) {
      // Each copy of its own: on a node that holds none of this shard yet.
      for (auto i : active)
        if (shard[i].node != "local")
          exclude += (exclude.empty() ? "" : ",") + shard[i].node;
    } else if (options_.stateful && !active.empty()) {
      node = shard[active.front()].node;
    }
    // Scale down: the newest go first. Live ones take no new request and
    // stop once they have answered the ones they hold.
    for (size_t i = active.size(); i > n; --i) {
      auto& s = shard[active[i - 1]];
      if (s.state == SlotState::live) {
        s.state = SlotState::draining;
        maybe_stop_idle(out, k, active[i - 1]);
      } else {
        if (s.suspect)
          out.push_back(effect::StopSlot{{k, active[i - 1], s.gen}});
        s.state = SlotState::retired;  // lost or being placed: nothing to finish
        s.lost.clear();
        s.suspect = false;
      }
    }
    // Scale up: reuse retired slots, then append.
    for (size_t have = active.size(); have < n; ++have) {
      uint32_t i = 0;
      while (i < shard.size() && shard[i].state != SlotState::retired)
        ++i;
      if (i == shard.size())
        shard.emplace_back();
      shard[i].lost.clear();
      place(out, k, i, node, exclude);
      op.waiting.push_back({k, i, shard[i].gen});
    }
  }
  if (op.waiting.empty())
    out.push_back(effect::ScaleDone{scale, {}});
  else
    scales_.emplace(scale, std::move(op));
  return out;
}

void ReplicaSet::settle_scale(Effects& out, SlotId id, const std::string& failure) {
  for (auto i = scales_.begin(); i != scales_.end();) {
    auto& op = i->second;
    auto w = std::find(op.waiting.begin(), op.waiting.end(), id);
    if (w != op.waiting.end()) {
      op.waiting.erase(w);
      if (!failure.empty())
        op.failures += (op.failures.empty() ? "" : "; ") + failure;
    }
    if (op.waiting.empty()) {
      out.push_back(effect::ScaleDone{
        i->first, op.failures.empty() ? caf::error{} : make_error(errc::unavailable, op.failures)});
      i = scales_.erase(i);
    } else {
      ++i;
    }
  }
}

Effects ReplicaSet::on_stop() {
  Effects out;
  if (stopping_)
    return out;
  stopping_ = true;
  for (uint32_t k = 0; k < shards_.size(); ++k)
    for (uint32_t i = 0; i < shards_[k].size(); ++i) {
      auto& s = shards_[k][i];
      SlotId id{k, i, s.gen};
      switch (s.state) {
        case SlotState::live:
        case SlotState::draining:
        case SlotState::stopping:
          s.state = SlotState::stopping;
          s.awaited = true;
          out.push_back(effect::StopSlot{id});
          break;
        case SlotState::lost:
          // A replica on a hung node may exist: stop it, but don't wait.
          if (s.suspect)
            out.push_back(effect::StopSlot{id});
          s.state = SlotState::retired;
          break;
        case SlotState::placing:
          s.state = SlotState::retired;  // a late on_placed stops it
          break;
        case SlotState::retired:
          break;
      }
    }
  for (auto& [scale, op] : scales_)
    out.push_back(
      effect::ScaleDone{scale, make_error(errc::unavailable, options_.name + ": stopping")});
  scales_.clear();
  for (auto& [op, req] : held_) {
    ops_.erase(op);
    ++counters_.failed;
    out.push_back(effect::Deliver{op, make_error(errc::unavailable, options_.name + ": stopping")});
  }
  held_.clear();
  check_stop_done(out);
  return out;
}

void ReplicaSet::check_stop_done(Effects& out) {
  if (!stopping_ || stop_done_)
    return;
  for (const auto& shard : shards_)
    for (const auto& s : shard)
      if (s.awaited)
        return;
  stop_done_ = true;
  out.push_back(effect::StopDone{});
}

Value ReplicaSet::status() const {
  Value v = Value::object();
  v["name"] = options_.name;
  v["shards"] = static_cast<int64_t>(shards_.size());
  v["replicas"] = static_cast<int64_t>(options_.replicas);
  v["alive"] = static_cast<int64_t>(alive());
  v["received"] = static_cast<int64_t>(counters_.received);
  v["succeeded"] = static_cast<int64_t>(counters_.succeeded);
  v["failed"] = static_cast<int64_t>(counters_.failed);
  v["restarts"] = static_cast<int64_t>(counters_.restarts);
  v["retries"] = static_cast<int64_t>(counters_.retries);
  Value::Array in_flight;
  // Where each replica runs, shard-major: {shard, replica, node, state,
  // alive[, lost]}.
  Value::Array placement;
  for (uint32_t k = 0; k < shards_.size(); ++k)
    for (uint32_t i = 0; i < shards_[k].size(); ++i) {
      const auto& s = shards_[k][i];
      if (s.state == SlotState::retired)
        continue;
      in_flight.emplace_back(static_cast<int64_t>(s.in_flight));
      Value p = Value::object();
      p["shard"] = static_cast<int64_t>(k);
      p["replica"] = static_cast<int64_t>(i);
      p["node"] = s.node;
      p["state"] = to_string(s.state);
      p["alive"] = s.state == SlotState::live;
      if (!s.lost.empty())
        p["lost"] = s.lost;
      if (options_.replicated) {
        p["copy"] = to_string(s.copy);
        p["applied"] = static_cast<int64_t>(s.applied);
        if (s.copy == CopyState::recovering) {
          p["catching_up_to"] = static_cast<int64_t>(s.upto);
          if (s.snapshot_docs > 0)
            p["snapshot_docs"] = static_cast<int64_t>(s.snapshot_docs);
        }
      }
      placement.push_back(std::move(p));
    }
  v["in_flight"] = std::move(in_flight);
  v["placement"] = std::move(placement);
  if (options_.replicated) {
    Value::Array seqs;
    for (const auto& q : seqs_)
      seqs.emplace_back(static_cast<int64_t>(q.next));
    v["writes"] = std::move(seqs);  // the last write number of each shard
  }
  return v;
}

}  // namespace caflow::detail
