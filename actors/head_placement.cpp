#include "actors/head_placement.hpp"

#include <chrono>
#include <tuple>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/cluster_protocol.hpp"
#include "actors/replica.hpp"
#include "caflow/errors.hpp"
#include "cluster/placement.hpp"

namespace caflow::actors {

namespace {

// How often a stateful replica lost with its node is tried there again.
constexpr auto respawn_backoff = std::chrono::milliseconds(500);

// Cluster placement crosses the network (connect, spawn on the node).
constexpr auto place_timeout = std::chrono::seconds(70);

std::string slot_name(const head_state& st, uint32_t k, uint32_t r) {
  return st.spec.name + "/shard-" + std::to_string(k) + "/replica-" + std::to_string(r);
}

}  // namespace

size_t alive_replicas(const head_state& st) {
  size_t n = 0;
  for (const auto& shard : st.shards)
    for (const auto& s : shard)
      n += s.alive ? 1 : 0;
  return n;
}

void finish_drain(replica_slot& slot) {
  if (slot.draining && slot.alive && slot.in_flight == 0)
    caf::anon_send_exit(slot.handle, caf::exit_reason::user_shutdown);
}

void spawn_local(head_pointer self, uint32_t k, uint32_t r) {
  // Detached: each replica runs on its own thread, so executor code that
  // blocks on CPU work never starves the heads and the gateway.
  auto handle = self->spawn<caf::detached>(actors::replica, make_context(self->state.spec, k, r));
  adopt(self, k, r, detail::local_host, caf::actor_cast<caf::actor>(handle));
}

void adopt(head_pointer self, uint32_t k, uint32_t r, std::string node, caf::actor replica) {
  auto& slot = self->state.shards[k][r];
  self->monitor(replica);
  slot.addr = replica.address();
  slot.handle = caf::actor_cast<replica_actor>(std::move(replica));
  slot.in_flight = 0;
  slot.alive = true;
  slot.pending = false;
  slot.node = std::move(node);
  slot.lost.clear();
}

void place(head_pointer self, uint32_t k, uint32_t r, std::string node, std::string exclude) {
  auto& st = self->state;
  auto& slot = st.shards[k][r];
  if (!st.cluster || (!node.empty() && detail::is_local(node))) {
    spawn_local(self, k, r);
    return;
  }
  slot.pending = true;
  self
    ->request(caf::actor_cast<cluster_actor>(st.cluster), place_timeout, place_atom::value, node,
              exclude, make_context(st.spec, k, r))
    .then(
      [self, k, r](caf::actor& replica, std::string& where) {
        auto& st = self->state;
        auto& slot = st.shards[k][r];
        if (st.stopping || slot.retired || !slot.pending) {
          // Scaled away or stopping while it was being placed.
          if (replica)
            self->send_exit(replica, caf::exit_reason::user_shutdown);
          slot.pending = false;
          return;
        }
        if (!replica) {
          spawn_local(self, k, r);
          return;
        }
        adopt(self, k, r, std::move(where), std::move(replica));
      },
      [self, k, r](caf::error& err) {
        auto& st = self->state;
        auto& slot = st.shards[k][r];
        slot.pending = false;
        if (st.stopping || slot.retired)
          return;
        if (slot.lost.empty())
          slot.lost = error_message(err).empty() ? describe(err) : error_message(err);
        // Try again later: a stateful slot on its own node (its data is
        // there), a stateless one wherever the cluster finds room.
        self->delayed_send(self, respawn_backoff, respawn_atom::value, k, r);
      });
}

namespace {

// Updates slot [k][r], whose replica just went down.
void replace_replica(head_pointer self, uint32_t k, uint32_t r, const caf::down_msg& dm) {
  auto& st = self->state;
  auto& slot = st.shards[k][r];
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
  if (slot.draining) {
    slot.draining = false;
    slot.retired = true;
    return;
  }
  ++st.counters.restarts;
  if (detail::is_local(slot.node)) {
    // Restart with the same shard and workspace.
    spawn_local(self, k, r);
    return;
  }
  slot.lost = dm.reason == caf::exit_reason::remote_link_unreachable
                ? "node " + slot.node + " lost"
                : "replica on node " + slot.node + " stopped (" + caf::to_string(dm.reason) + ")";
  if (st.stateful) {
    // Its data lives on that node: wait for the node to come back.
    self->delayed_send(self, respawn_backoff, respawn_atom::value, k, r);
  } else {
    place(self, k, r, "", slot.node);
  }
}

}  // namespace

void on_replica_down(head_pointer self, const caf::down_msg& dm) {
  auto& st = self->state;
  for (uint32_t k = 0; k < st.shards.size(); ++k)
    for (uint32_t r = 0; r < st.shards[k].size(); ++r) {
      auto& slot = st.shards[k][r];
      if (slot.addr != dm.source || !slot.alive)
        continue;
      auto node = slot.node;
      replace_replica(self, k, r, dm);
      // The requests it held: retried on the shard's other replicas, or
      // failed naming the shard and why.
      auto why = dm.reason == caf::exit_reason::remote_link_unreachable
                   ? "node " + node + " lost"
                   : "replica went away (" + caf::to_string(dm.reason) + ")";
      fail_calls_on(self, dm.source,
                    make_error(errc::unavailable, st.spec.name + "/shard-" + std::to_string(k)
                                                    + ": unavailable: " + why));
      return;
    }
}

caf::result<ok_atom> scale(head_pointer self, uint32_t n) {
  auto& st = self->state;
  if (n == 0)
    return make_error(errc::invalid_argument,
                      st.spec.name + ": replicas must be at least 1, got 0");
  if (st.stopping)
    return make_error(errc::unavailable, st.spec.name + ": stopping");
  st.spec.replicas = n;
  // (shard, slot, node): "" lets the cluster pick the least-loaded node.
  std::vector<std::tuple<uint32_t, uint32_t, std::string>> added;
  for (uint32_t k = 0; k < st.shards.size(); ++k) {
    auto& shard = st.shards[k];
    std::vector<uint32_t> active;
    for (uint32_t r = 0; r < shard.size(); ++r)
      if (!shard[r].retired && !shard[r].draining)
        active.push_back(r);
    // A stateful shard's replicas share its store on its node: new ones go
    // there, not to the least-loaded node.
    std::string node;
    if (st.stateful && !active.empty())
      node = shard[active.front()].node;
    // Scale down: the newest replicas go first. They take no new request
    // and stop once they have answered the ones they hold.
    for (size_t i = active.size(); i > n; --i) {
      auto& slot = shard[active[i - 1]];
      if (slot.alive) {
        slot.draining = true;
        finish_drain(slot);
      } else {
        slot.retired = true;  // lost or being placed: nothing to finish
        slot.lost.clear();
      }
    }
    // Scale up: reuse stopped slots, then append.
    for (size_t have = active.size(); have < n; ++have) {
      uint32_t r = 0;
      while (r < shard.size() && !(shard[r].retired && !shard[r].alive && !shard[r].pending))
        ++r;
      if (r == shard.size())
        shard.emplace_back();
      shard[r] = replica_slot{};
      shard[r].alive = false;
      added.emplace_back(k, r, node);
    }
  }
  if (added.empty() || !st.cluster) {
    for (auto& [k, r, node] : added)
      spawn_local(self, k, r);
    return ok_atom::value;
  }
  // Answer once every new replica is placed (or its placement failed: the
  // slot keeps trying in the background).
  auto rp = self->make_response_promise<ok_atom>();
  auto left = std::make_shared<size_t>(added.size());
  auto failures = std::make_shared<std::string>();
  for (auto& [k, r, node] : added) {
    auto& slot = st.shards[k][r];
    slot.pending = true;
    slot.node = node.empty() ? std::string{detail::local_host} : node;
    self
      ->request(caf::actor_cast<cluster_actor>(st.cluster), place_timeout, place_atom::value, node,
                std::string{}, make_context(st.spec, k, r))
      .then(
        [self, k, r, rp, left, failures](caf::actor& replica, std::string& where) mutable {
          auto& slot = self->state.shards[k][r];
          if (self->state.stopping || slot.retired) {
            if (replica)
              self->send_exit(replica, caf::exit_reason::user_shutdown);
            slot.pending = false;
          } else if (!replica) {
            spawn_local(self, k, r);
          } else {
            adopt(self, k, r, std::move(where), std::move(replica));
          }
          if (--*left == 0)
            failures->empty() ? rp.deliver(ok_atom::value)
                              : rp.deliver(make_error(errc::unavailable, *failures));
        },
        [self, k, r, rp, left, failures](caf::error& err) mutable {
          auto& slot = self->state.shards[k][r];
          slot.pending = false;
          *failures += (failures->empty() ? "" : "; ") + slot_name(self->state, k, r) + ": "
                       + describe(err);
          if (!self->state.stopping && !slot.retired)
            self->delayed_send(self, respawn_backoff, respawn_atom::value, k, r);
          if (--*left == 0)
            rp.deliver(make_error(errc::unavailable, *failures));
        });
  }
  return rp;
}

}  // namespace caflow::actors
