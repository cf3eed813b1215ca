#include "actors/head.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/result.hpp>
#include <caf/send.hpp>

#include "actors/head_stages.hpp"
#include "actors/replica.hpp"
#include "actors/replica_spawn.hpp"
#include "actors/shard_join.hpp"
#include "caflow/errors.hpp"
#include "cluster/protocol.hpp"

namespace caflow::actors {

namespace {

using detail::SlotId;

// Cluster placement crosses the network (connect, spawn on the node).
constexpr auto place_timeout = std::chrono::seconds(70);
// A copy answers what it applied at once, unless its node hangs.
constexpr auto seq_timeout = std::chrono::seconds(10);

caf::duration request_timeout(const DeploymentOptions& spec) {
  if (spec.timeout.count() <= 0)
    return caf::infinite;
  return caf::duration{spec.timeout};
}

void run(head_pointer self, detail::Effects effects);

void adopt(head_pointer self, SlotId id, replica_actor replica) {
  auto& st = self->state;
  self->monitor(replica);
  st.slots[replica.address()] = id;
  st.handles[id] = std::move(replica);
}

replica_actor spawn_local(head_pointer self, SlotId id) {
  auto ctx = make_context(self->state.spec, id.shard, id.index);
  if (self->state.spawn)
    return self->state.spawn(self, std::move(ctx));
  // Detached unless its executor runs on the scheduler (actors/replica_spawn.hpp).
  return spawn_replica(self, std::move(ctx));
}

// Carries out PlaceSlot; a placement known at once feeds its result back
// into `queue`.
void place(head_pointer self, const detail::effect::PlaceSlot& p, detail::Effects& queue) {
  auto& st = self->state;
  auto feed = [&](detail::Effects more) {
    for (auto& e : more)
      queue.push_back(std::move(e));
  };
  // A replica the flow already placed at start.
  if (auto i = st.preplaced.find({p.slot.shard, p.slot.index}); i != st.preplaced.end()) {
    auto [node, replica] = std::move(i->second);
    st.preplaced.erase(i);
    if (replica) {
      adopt(self, p.slot, std::move(replica));
      feed(st.set->on_placed(p.slot, node));
      return;
    }
  }
  if (!st.cluster || p.node == "local") {
    adopt(self, p.slot, spawn_local(self, p.slot));
    feed(st.set->on_placed(p.slot, "local"));
    return;
  }
  auto id = p.slot;
  self
    ->request(st.cluster, place_timeout, place_atom::value, p.node, p.exclude,
              make_context(st.spec, id.shard, id.index))
    .then(
      [self, id](replica_actor& replica, std::string& where) {
        if (!replica) {
          // No node has room: in this process.
          adopt(self, id, spawn_local(self, id));
          run(self, self->state.set->on_placed(id, "local"));
          return;
        }
        adopt(self, id, std::move(replica));
        run(self, self->state.set->on_placed(id, where));
      },
      [self, id](caf::error& err) {
        auto why = error_message(err).empty() ? describe(err) : error_message(err);
        run(self, self->state.set->on_place_failed(id, why));
      });
}

void send_call(head_pointer self, detail::effect::SendCall& c) {
  auto& st = self->state;
  auto id = c.call;
  auto h = st.handles.find(c.to);
  if (h == st.handles.end()) {
    run(self, st.set->on_error(id, make_error(errc::unavailable, "replica not running")));
    return;
  }
  auto on_reply = [self, id](Response& resp) {
    run(self, self->state.set->on_reply(id, std::move(resp)));
  };
  auto on_error = [self, id](caf::error& err) { run(self, self->state.set->on_error(id, err)); };
  if (c.seq != 0 && c.record)
    self->request(h->second, request_timeout(st.spec), write_atom::value, c.seq, *c.record, c.docs)
      .then(on_reply, on_error);
  else if (c.seq != 0)
    self->request(h->second, request_timeout(st.spec), write_atom::value, c.seq, std::move(c.req))
      .then(on_reply, on_error);
  else
    self->request(h->second, request_timeout(st.spec), std::move(c.req)).then(on_reply, on_error);
}

// Asks a copy of a replicated shard what it applied.
void query_seq(head_pointer self, SlotId id) {
  auto& st = self->state;
  auto h = st.handles.find(id);
  if (h == st.handles.end())
    return;  // gone: its down message (or a new placement) takes over
  self->request(h->second, seq_timeout, seq_atom::value)
    .then([self, id](uint64_t applied) { run(self, self->state.set->on_seq(id, applied)); },
          [self, id](caf::error& err) { run(self, self->state.set->on_seq_failed(id, err)); });
}

void recover(head_pointer self, const detail::effect::Recover& r) {
  auto& st = self->state;
  auto target = st.handles.find(r.target);
  auto source = st.handles.find(r.source);
  auto id = r.target;
  auto recovery = r.recovery;
  if (target == st.handles.end() || source == st.handles.end()) {
    run(self,
        st.set->on_recover_failed(id, recovery, make_error(errc::unavailable, "copy not running")));
    return;
  }
  // As long as it takes (a snapshot of a large shard): a copy lost meanwhile
  // answers with an error, and a later catch-up supersedes this one.
  self
    ->request(target->second, caf::infinite, recover_atom::value,
              caf::actor_cast<caf::actor>(source->second), r.upto)
    .then([self, id, recovery](
            uint64_t applied) { run(self, self->state.set->on_recovered(id, recovery, applied)); },
          [self, id, recovery](caf::error& err) {
            run(self, self->state.set->on_recover_failed(id, recovery, err));
          });
}

void run(head_pointer self, detail::Effects effects) {
  auto& st = self->state;
  // The effects' own vector is the queue (a placement known at once feeds
  // more to its end): a request's run allocates nothing here, where a deque
  // took two allocations each time.
  auto& queue = effects;
  for (size_t next = 0; next < queue.size(); ++next) {
    auto e = std::move(queue[next]);
    std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, detail::effect::SendCall>) {
          send_call(self, x);
        } else if constexpr (std::is_same_v<T, detail::effect::PlaceSlot>) {
          place(self, x, queue);
        } else if constexpr (std::is_same_v<T, detail::effect::StopSlot>) {
          if (auto h = st.handles.find(x.slot); h != st.handles.end())
            self->send_exit(h->second, caf::exit_reason::user_shutdown);
        } else if constexpr (std::is_same_v<T, detail::effect::RetryLater>) {
          self->delayed_send(self, x.delay, respawn_atom::value, x.slot.shard, x.slot.index,
                             x.slot.gen);
        } else if constexpr (std::is_same_v<T, detail::effect::Deliver>) {
          if (auto i = st.ops.find(x.op); i != st.ops.end()) {
            auto rp = std::move(i->second);
            st.ops.erase(i);
            // uses_after answers the requests it takes itself.
            if (!stage_deliver(self, x.op, x.result, rp)) {
              if (x.result)
                rp.deliver(std::move(*x.result));
              else
                rp.deliver(std::move(x.result.error()));
            }
          }
        } else if constexpr (std::is_same_v<T, detail::effect::ScaleDone>) {
          if (auto i = st.scales.find(x.scale); i != st.scales.end()) {
            auto rp = std::move(i->second);
            st.scales.erase(i);
            if (x.error)
              rp.deliver(std::move(x.error));
            else
              rp.deliver(ok_atom::value);
          }
        } else if constexpr (std::is_same_v<T, detail::effect::StopDone>) {
          for (auto& rp : st.stop_waiters)
            rp.deliver(ok_atom::value);
          st.stop_waiters.clear();
          self->quit();
        } else if constexpr (std::is_same_v<T, detail::effect::Log>) {
          st.log(x.line);
        } else if constexpr (std::is_same_v<T, detail::effect::QuerySeq>) {
          if (x.delay.count() > 0)
            self->delayed_send(self, x.delay, seq_atom::value, x.slot.shard, x.slot.index,
                               x.slot.gen);
          else
            query_seq(self, x.slot);
        } else if constexpr (std::is_same_v<T, detail::effect::Recover>) {
          recover(self, x);
        }
      },
      e);
  }
}

// Sends a request on to the shards as op `op`.
void submit(head_pointer self, uint64_t op, Request req, caf::typed_response_promise<Response> rp) {
  auto& st = self->state;
  st.ops.emplace(op, std::move(rp));
  run(self, st.set->on_request(op, std::move(req)));
}

// Ready once every live replica has built its executor.
void ping(head_pointer self, caf::typed_response_promise<ok_atom> rp) {
  std::vector<replica_actor> all;
  for (auto& [id, h] : self->state.handles) {
    const auto& s = self->state.set->slot(id.shard, id.index);
    if (s.gen == id.gen && s.state == detail::SlotState::live)
      all.push_back(h);
  }
  auto join = std::make_shared<ShardJoin>(
    all.size(),
    [self, rp](std::vector<std::optional<Response>>, std::vector<std::string> failures) mutable {
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
              join->fail(i, is(err, errc::unknown_executor) || is(err, errc::executor_start_failed)
                              ? error_message(err)
                              : describe(err));
            });
}

}  // namespace

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

head_state::head_state() = default;

head_state::~head_state() {
  // Whatever stops the head takes its replicas along (on nodes too).
  for (auto& [id, h] : handles)
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
}

head_actor::behavior_type head(head_pointer self, DeploymentOptions spec, head_setup setup) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.cluster = std::move(setup.cluster);
  st.spawn = std::move(setup.spawn);
  st.log = setup.log ? std::move(setup.log)
                     : [](std::string line) { std::cerr << "caflow: " << line << std::endl; };
  detail::ReplicaSetOptions options;
  options.name = st.spec.name;
  options.shards = st.spec.shards;
  options.replicas = st.spec.replicas;
  options.polling = st.spec.polling;
  options.retries = st.spec.retries;
  auto& registry = ExecutorRegistry::instance();
  options.stateful = registry.stateful(st.spec.uses);
  options.replicated = options.stateful && registry.replicated(st.spec.uses);
  options.write_consistency = st.spec.write_consistency;
  if (options.replicated)
    for (const auto& e : registry.read_endpoints(st.spec.uses))
      options.reads.insert(e);
  options.timeout_ms = st.spec.timeout.count();
  options.default_params = ExecutorRegistry::instance().defaults(make_context(st.spec, 0, 0));
  if (!st.spec.uses_after.empty())
    options.keep_shard_answers = [self](const std::string& endpoint) {
      return self->state.stages && after_takes(*self->state.stages, endpoint);
    };
  st.set = std::make_unique<detail::ReplicaSet>(std::move(options));
  st.stages = make_stages(self, st.spec);
  std::vector<std::vector<std::string>> nodes(st.spec.shards);
  for (uint32_t k = 0; k < setup.placed.size(); ++k)
    for (uint32_t r = 0; r < setup.placed[k].size(); ++r) {
      auto& [node, replica] = setup.placed[k][r];
      if (k < nodes.size())
        nodes[k].push_back(replica ? node : std::string{"local"});
      st.preplaced[{k, r}] = {node, std::move(replica)};
    }
  run(self, st.set->start(nodes));
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.slots.find(dm.source);
    if (i == st.slots.end())
      return;
    auto id = i->second;
    st.slots.erase(i);
    st.handles.erase(id);
    run(self, st.set->on_down(id, dm.reason));
  });
  return {
    [self](Request& req) -> caf::result<Response> {
      auto& st = self->state;
      auto rp = self->make_response_promise<Response>();
      if (st.stages)
        stage_request(self, std::move(req), rp, submit);
      else
        submit(self, ++st.next_op, std::move(req), rp);
      return rp;
    },
    [self](ping_atom) -> caf::result<ok_atom> {
      auto rp = self->make_response_promise<ok_atom>();
      if (!self->state.stages) {
        ping(self, rp);
        return rp;
      }
      // The uses_before / uses_after executors first (they say what they bind).
      stages_ready(self, [self, rp](caf::error err) mutable {
        if (err)
          rp.deliver(make_error(
            errc::executor_start_failed,
            "executor '" + self->state.spec.name + "' could not start: " + error_message(err)));
        else
          ping(self, rp);
      });
      return rp;
    },
    [self](status_atom) -> Value {
      auto v = self->state.set->status();
      v["uses"] = self->state.spec.uses;
      return v;
    },
    [self](replicas_atom) -> std::vector<replica_actor> {
      std::vector<replica_actor> out;
      auto& st = self->state;
      for (auto& [id, h] : st.handles) {
        const auto& s = st.set->slot(id.shard, id.index);
        if (s.gen == id.gen && s.state == detail::SlotState::live)
          out.push_back(h);
      }
      return out;
    },
    [self](stop_atom) -> caf::result<ok_atom> {
      auto& st = self->state;
      auto rp = self->make_response_promise<ok_atom>();
      st.stop_waiters.push_back(rp);
      run(self, st.set->on_stop());
      return rp;
    },
    [self](scale_atom, uint32_t n) -> caf::result<ok_atom> {
      auto& st = self->state;
      auto rp = self->make_response_promise<ok_atom>();
      auto id = ++st.next_scale;
      st.scales.emplace(id, rp);
      run(self, st.set->on_scale(id, n));
      return rp;
    },
    [self](respawn_atom, uint32_t k, uint32_t r, uint64_t gen) {
      run(self, self->state.set->on_timer({k, r, gen}));
    },
    [self](node_atom, const std::string& node, bool responsive, const std::string& why) {
      auto& set = *self->state.set;
      run(self, responsive ? set.on_node_back(node) : set.on_node_lost(node, why));
    },
    [self](seq_atom, uint32_t k, uint32_t r, uint64_t gen) {
      query_seq(self, {k, r, gen});
    },
    [self](progress_atom, uint64_t applied, uint64_t snapshot_docs) {
      auto& st = self->state;
      const auto& sender = self->current_sender();
      if (!sender)
        return;
      if (auto i = st.slots.find(sender->address()); i != st.slots.end())
        run(self, st.set->on_progress(i->second, applied, snapshot_docs));
    },
  };
}

}  // namespace caflow::actors
