#include "actors/head.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/result.hpp>
#include <caf/send.hpp>

#include "actors/head_routing.hpp"
#include "actors/replica.hpp"
#include "actors/shard_join.hpp"

#include <filesystem>

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
  if (!spec.origin.file.empty())
    ctx.config_dir = std::filesystem::absolute(spec.origin.file).parent_path().string();
  return ctx;
}

head_state::~head_state() {
  // Whatever stops the head takes its replicas along.
  for (auto& shard : shards)
    for (auto& s : shard)
      if (s.alive)
        caf::anon_send_exit(s.handle, caf::exit_reason::user_shutdown);
}

namespace {

replica_slot spawn_replica(head_pointer self, uint32_t shard, uint32_t index) {
  // Detached: each replica runs on its own thread, so executor code that
  // blocks on CPU work never starves the heads and the gateway.
  auto handle = self->spawn<caf::detached + caf::monitored>(
    actors::replica, make_context(self->state.spec, shard, index));
  replica_slot slot;
  slot.addr = handle.address();
  slot.handle = std::move(handle);
  return slot;
}

size_t alive_replicas(const head_state& st) {
  size_t n = 0;
  for (const auto& shard : st.shards)
    for (const auto& s : shard)
      n += s.alive ? 1 : 0;
  return n;
}

void on_replica_down(head_pointer self, const caf::down_msg& dm) {
  auto& st = self->state;
  for (uint32_t k = 0; k < st.shards.size(); ++k) {
    for (uint32_t r = 0; r < st.shards[k].size(); ++r) {
      auto& slot = st.shards[k][r];
      if (slot.addr != dm.source || !slot.alive)
        continue;
      slot.alive = false;
      slot.in_flight = 0;
      if (st.stopping) {
        if (alive_replicas(st) == 0) {
          for (auto& rp : st.stop_waiters)
            rp.deliver(ok_atom::value);
          st.stop_waiters.clear();
          self->quit();
        }
        return;
      }
      // Restart with the same shard and workspace. Requests it held come
      // back as errors and are retried by send_to_replica.
      ++st.counters.restarts;
      slot = spawn_replica(self, k, r);
      return;
    }
  }
}

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
  for (const auto& shard : st.shards)
    for (const auto& s : shard)
      in_flight.emplace_back(static_cast<int64_t>(s.in_flight));
  v["in_flight"] = std::move(in_flight);
  return v;
}

}  // namespace

head_actor::behavior_type head(head_actor::stateful_pointer<head_state> self,
                               DeploymentOptions spec) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.shards.resize(st.spec.shards);
  st.pickers.resize(st.spec.shards);
  for (uint32_t k = 0; k < st.spec.shards; ++k)
    for (uint32_t r = 0; r < st.spec.replicas; ++r)
      st.shards[k].push_back(spawn_replica(self, k, r));
  self->set_down_handler([self](caf::down_msg& dm) { on_replica_down(self, dm); });
  return {
    [self](Request& req) -> caf::result<Response> {
      auto rp = self->make_response_promise<Response>();
      route(self, std::move(req), rp);
      return rp;
    },
    [self](ping_atom) -> caf::result<ok_atom> {
      // Ready once every replica has built its executor.
      auto rp = self->make_response_promise<ok_atom>();
      std::vector<replica_actor> all;
      for (auto& shard : self->state.shards)
        for (auto& s : shard)
          all.push_back(s.handle);
      auto join = std::make_shared<ShardJoin>(
        all.size(), [self, rp](std::vector<std::optional<Response>>,
                               std::vector<std::string> failures) mutable {
          if (failures.empty())
            rp.deliver(ok_atom::value);
          else
            rp.deliver(make_error(errc::executor_start_failed,
                                  "executor '" + self->state.spec.name
                                    + "' could not start: " + failures.front()));
        });
      for (size_t i = 0; i < all.size(); ++i)
        self->request(all[i], caf::infinite, ping_atom::value)
          .then([join, i](ok_atom) { join->skip(i); },
                [join, i](caf::error& err) {
                  join->fail(i, is(err, errc::unknown_executor)
                                    || is(err, errc::executor_start_failed)
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
  };
}

}  // namespace caflow::actors
