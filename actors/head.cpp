#include "actors/head.hpp"

#include <filesystem>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/result.hpp>
#include <caf/send.hpp>

#include "actors/head_placement.hpp"
#include "actors/head_routing.hpp"
#include "actors/replica.hpp"
#include "actors/shard_join.hpp"
#include "cluster/placement.hpp"

namespace caflow::actors {

ExecutorContext make_context(const DeploymentOptions& spec, uint32_t shard, uint32_t replica) {
  ExecutorContext ctx;
  ctx.name = spec.name;
  ctx.uses = spec.uses;
  ctx.uses_with = spec.uses_with;
  ctx.uses_metas = spec.uses_metas;
  ctx.workspace = spec.workspace;
  ctx.shard_id = shard;
  ctx.shards = spec.shards;
  ctx.replica_id = replica;
  ctx.replicas = spec.replicas;
  ctx.dynamic_batching = spec.dynamic_batching;
  if (!spec.origin.file.empty())
    ctx.config_dir = std::filesystem::absolute(spec.origin.file).parent_path().string();
  return ctx;
}

head_state::~head_state() {
  // Whatever stops the head takes its replicas along (on nodes too).
  for (auto& shard : shards)
    for (auto& s : shard)
      if (s.alive)
        caf::anon_send_exit(s.handle, caf::exit_reason::user_shutdown);
}

namespace {

Value status_of(const head_state& st) {
  Value v = Value::object();
  v["name"] = st.spec.name;
  v["uses"] = st.spec.uses;
  v["shards"] = static_cast<int64_t>(st.shards.size());
  v["replicas"] = static_cast<int64_t>(st.spec.replicas);
  v["alive"] = static_cast<int64_t>(alive_replicas(st));
  v["received"] = static_cast<int64_t>(st.counters.received);
  v["succeeded"] = static_cast<int64_t>(st.counters.succeeded);
  v["failed"] = static_cast<int64_t>(st.counters.failed);
  v["restarts"] = static_cast<int64_t>(st.counters.restarts);
  v["retries"] = static_cast<int64_t>(st.counters.retries);
  Value::Array in_flight;
  // Where each replica runs, shard-major: {shard, replica, node, alive[, lost]}.
  Value::Array placement;
  for (uint32_t k = 0; k < st.shards.size(); ++k)
    for (uint32_t r = 0; r < st.shards[k].size(); ++r) {
      const auto& s = st.shards[k][r];
      if (s.retired)
        continue;
      in_flight.emplace_back(static_cast<int64_t>(s.in_flight));
      Value p = Value::object();
      p["shard"] = static_cast<int64_t>(k);
      p["replica"] = static_cast<int64_t>(r);
      p["node"] = s.node;
      p["alive"] = s.alive && !s.draining;
      if (!s.lost.empty())
        p["lost"] = s.lost;
      placement.push_back(std::move(p));
    }
  v["in_flight"] = std::move(in_flight);
  v["placement"] = std::move(placement);
  return v;
}

void respawn(head_pointer self, uint32_t k, uint32_t r) {
  auto& st = self->state;
  if (st.stopping || k >= st.shards.size() || r >= st.shards[k].size())
    return;
  auto& slot = st.shards[k][r];
  if (slot.alive || slot.pending || slot.retired)
    return;
  if (st.stateful)
    place(self, k, r, slot.node, "");
  else
    place(self, k, r, "", slot.node);
}

}  // namespace

head_actor::behavior_type head(head_actor::stateful_pointer<head_state> self,
                               DeploymentOptions spec, head_setup setup) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.cluster = std::move(setup.cluster);
  st.stateful = ExecutorRegistry::instance().stateful(st.spec.uses);
  st.shards.resize(st.spec.shards);
  st.pickers.resize(st.spec.shards);
  for (uint32_t k = 0; k < st.spec.shards; ++k) {
    st.shards[k].resize(st.spec.replicas);
    for (uint32_t r = 0; r < st.spec.replicas; ++r) {
      auto* placed = k < setup.placed.size() && r < setup.placed[k].size() ? &setup.placed[k][r]
                                                                           : nullptr;
      if (placed && placed->second)
        adopt(self, k, r, placed->first, placed->second);
      else
        spawn_local(self, k, r);
    }
  }
  self->set_down_handler([self](caf::down_msg& dm) { on_replica_down(self, dm); });
  return {
    [self](Request& req) -> caf::result<Response> {
      auto rp = self->make_response_promise<Response>();
      route(self, std::move(req), rp);
      return rp;
    },
    [self](ping_atom) -> caf::result<ok_atom> {
      // Ready once every live replica has built its executor.
      auto rp = self->make_response_promise<ok_atom>();
      std::vector<replica_actor> all;
      for (auto& shard : self->state.shards)
        for (auto& s : shard)
          if (s.alive)
            all.push_back(s.handle);
      auto join = std::make_shared<ShardJoin>(
        all.size(), [self, rp](std::vector<std::optional<Response>>,
                               std::vector<std::string> failures) mutable {
          if (failures.empty())
            rp.deliver(ok_atom::value);
          else
            rp.deliver(make_error(
              errc::executor_start_failed,
              "executor '" + self->state.spec.name + "' could not start: " + failures.front()));
        });
      for (size_t i = 0; i < all.size(); ++i)
        self->request(all[i], caf::infinite, ping_atom::value)
          .then([join, i](ok_atom) { join->skip(i); },
                [join, i](caf::error& err) {
                  join->fail(i,
                             is(err, errc::unknown_executor) || is(err, errc::executor_start_failed)
                               ? error_message(err)
                               : describe(err));
                });
      return rp;
    },
    [self](status_atom) -> Value { return status_of(self->state); },
    [self](replicas_atom) -> std::vector<caf::actor> {
      std::vector<caf::actor> out;
      for (auto& shard : self->state.shards)
        for (auto& s : shard)
          if (s.alive)
            out.push_back(caf::actor_cast<caf::actor>(s.handle));
      return out;
    },
    [self](stop_atom) -> caf::result<ok_atom> {
      auto& st = self->state;
      st.stopping = true;
      if (alive_replicas(st) == 0) {
        self->quit();
        return ok_atom::value;
      }
      auto rp = self->make_response_promise<ok_atom>();
      st.stop_waiters.push_back(rp);
      for (auto& shard : st.shards)
        for (auto& s : shard)
          if (s.alive)
            self->send_exit(s.handle, caf::exit_reason::user_shutdown);
      return rp;
    },
    [self](scale_atom, uint32_t n) -> caf::result<ok_atom> { return scale(self, n); },
    [self](respawn_atom, uint32_t k, uint32_t r) { respawn(self, k, r); },
  };
}

}  // namespace caflow::actors
