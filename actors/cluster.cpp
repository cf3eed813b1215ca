#include "actors/cluster.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>

#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>

#include "caflow/errors.hpp"
#include "cluster/placement.hpp"
#include "cluster/transport.hpp"
#include "runtime/scale_bounds.hpp"

namespace caflow::actors {

namespace {

using cluster_pointer = cluster_actor::stateful_pointer<cluster_state>;
using place_promise = caf::typed_response_promise<replica_actor, std::string>;

// Connecting and spawning cross the network; a node that does not answer
// within these is reported, and the head tries again later.
constexpr auto connect_timeout = std::chrono::seconds(10);
constexpr auto place_timeout = std::chrono::seconds(60);

cluster_node& entry(cluster_state& st, const std::string& address) {
  for (auto& n : st.nodes)
    if (n.address == address)
      return n;
  st.nodes.emplace_back().address = address;
  return st.nodes.back();
}

void adopt_node(cluster_pointer self, const std::string& address, node_actor handle,
                std::set<std::string> types) {
  auto& n = entry(self->state, address);
  n.types = std::move(types);
  if (n.handle == handle)
    return;
  n.handle = std::move(handle);
  self->monitor(n.handle);
}

// Asks `node` which executor types it can host, then adopts it and calls
// `next()`, or `failed(error)` when it does not say.
template <class Next, class Failed>
void learn_types(cluster_pointer self, const std::string& address, node_actor node, Next next,
                 Failed failed) {
  self->request(node, connect_timeout, types_atom::value)
    .then(
      [self, address, node, next](std::set<std::string>& types) mutable {
        adopt_node(self, address, std::move(node), std::move(types));
        next();
      },
      [address, failed](caf::error& err) mutable {
        failed(make_error(
          errc::unavailable,
          "node " + address + " did not report its executor types: " + caf::to_string(err)));
      });
}

// Frees a placement reserved on `address` (see the place handler).
void unreserve(cluster_pointer self, const std::string& address, bool reserved) {
  auto& n = entry(self->state, address);
  if (reserved && n.reserved > 0)
    --n.reserved;
}

// Asks the connected node `address` to spawn a replica for `ctx`.
void place_on(cluster_pointer self, const std::string& address, ExecutorContext ctx,
              place_promise rp, bool reserved) {
  auto node = entry(self->state, address).handle;
  self
    ->request(node, place_timeout, place_atom::value, std::move(ctx),
              caf::actor_cast<caf::actor>(self))
    .then(
      [self, address, rp, reserved](replica_actor& replica) mutable {
        unreserve(self, address, reserved);
        self->monitor(replica);
        self->state.replica_node[replica.address()] = address;
        ++entry(self->state, address).hosted;
        rp.deliver(replica, address);
      },
      [self, address, rp, reserved](caf::error& err) mutable {
        unreserve(self, address, reserved);
        rp.deliver(
          make_error(errc::unavailable, "node " + address + " could not spawn: " + describe(err)));
      });
}

// Places on a connected node that can host the type, else fails naming it.
void place_checked(cluster_pointer self, const std::string& address, ExecutorContext ctx,
                   place_promise rp, bool reserved) {
  const auto& n = entry(self->state, address);
  if (!detail::can_host(n.types, ctx.uses)) {
    unreserve(self, address, reserved);
    rp.deliver(make_error(errc::unknown_executor, detail::cannot_host(address, ctx.uses, n.types)));
    return;
  }
  place_on(self, address, std::move(ctx), std::move(rp), reserved);
}

void place(cluster_pointer self, const std::string& address, ExecutorContext ctx, place_promise rp,
           bool reserved) {
  auto& n = entry(self->state, address);
  if (n.handle && !n.health.responsive) {
    unreserve(self, address, reserved);
    rp.deliver(make_error(errc::unavailable, "node " + address + " unresponsive"));
    return;
  }
  if (n.handle) {
    place_checked(self, address, std::move(ctx), std::move(rp), reserved);
    return;
  }
  auto parsed = detail::parse_node_address(address);
  if (!parsed) {
    unreserve(self, address, reserved);
    rp.deliver(parsed.error());
    return;
  }
  // Not connected (never, or lost): connect through the transport's
  // middleman actor, which does not block this actor.
  self
    ->request(self->state.connector, connect_timeout, caf::connect_atom::value, parsed->host,
              parsed->port)
    .then(
      [self, address, ctx, rp, reserved](caf::node_id&, caf::strong_actor_ptr& ptr,
                                         std::set<std::string>&) mutable {
        if (!ptr) {
          unreserve(self, address, reserved);
          rp.deliver(
            make_error(errc::unavailable, "node " + address + " unreachable: no node actor there"));
          return;
        }
        // CAF 0.17's middleman actor answers connect with an untyped
        // strong_actor_ptr (remote_actor<T>, which checks the interface,
        // blocks): cast to the node's interface, which the types request
        // right after confirms (a peer that is no node fails it).
        learn_types(
          self, address, caf::actor_cast<node_actor>(ptr),
          [self, address, ctx, rp, reserved]() mutable {
            place_checked(self, address, std::move(ctx), std::move(rp), reserved);
          },
          [self, address, rp, reserved](caf::error err) mutable {
            unreserve(self, address, reserved);
            rp.deliver(std::move(err));
          });
      },
      [self, address, rp, reserved](caf::error& err) mutable {
        unreserve(self, address, reserved);
        rp.deliver(
          make_error(errc::unavailable, "node " + address + " unreachable: "
                                          + detail::describe_connect_error(self->system(), err)));
      });
}

void on_down(cluster_pointer self, const caf::down_msg& dm) {
  auto& st = self->state;
  if (auto i = st.replica_node.find(dm.source); i != st.replica_node.end()) {
    auto& n = entry(st, i->second);
    if (n.hosted > 0)
      --n.hosted;
    st.replica_node.erase(i);
    return;
  }
  for (auto& n : st.nodes)
    if (n.handle && n.handle.address() == dm.source) {
      // Lost: its replicas are gone with it (their own down messages may
      // come later or never, so forget them here).
      n.handle = nullptr;
      n.hosted = 0;
      n.health = {};
      for (auto i = st.replica_node.begin(); i != st.replica_node.end();)
        i = i->second == n.address ? st.replica_node.erase(i) : std::next(i);
    }
}

// Tells every head that `address` stopped answering or answers again.
void announce(cluster_pointer self, const std::string& address, bool responsive,
              const std::string& why) {
  self->state.options.log(why);
  for (auto& [name, head] : self->state.heads)
    self->send(head, node_atom::value, address, responsive, why);
}

// One heartbeat round: a node that left `heartbeat_misses` pings in a row
// unanswered is hung (SIGSTOP, swapping, cut off without a reset); it is
// treated like a lost node until it answers again.
void heartbeat(cluster_pointer self) {
  auto& st = self->state;
  auto interval = st.options.heartbeat_interval;
  for (auto& n : st.nodes) {
    if (!n.handle)
      continue;
    if (detail::heartbeat_tick(n.health, st.options.heartbeat_misses))
      announce(self, n.address, false,
               "node " + n.address + " unresponsive (no heartbeat answered in "
                 + std::to_string(interval.count() * st.options.heartbeat_misses) + " ms)");
    auto address = n.address;
    auto handle = n.handle;
    self->request(n.handle, interval * (st.options.heartbeat_misses + 1), ping_atom::value)
      .then(
        [self, address, handle](ok_atom) {
          auto& n = entry(self->state, address);
          if (n.handle != handle)
            return;  // an answer from before a reconnect
          if (detail::heartbeat_answered(n.health))
            announce(self, address, true, "node " + address + " answers again");
        },
        [](caf::error&) {
          // Counted by the next tick as unanswered.
        });
  }
  self->delayed_send(self, interval, tick_atom::value);
}

}  // namespace

cluster_actor::behavior_type cluster(cluster_pointer self, caf::io::middleman_actor connector,
                                     cluster_options options) {
  self->state.connector = std::move(connector);
  if (!options.log)
    options.log = [](std::string line) { std::cerr << "caflow: " << line << std::endl; };
  self->state.options = std::move(options);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  if (self->state.options.heartbeat_interval.count() > 0)
    self->delayed_send(self, self->state.options.heartbeat_interval, tick_atom::value);
  return {
    [self](tick_atom) { heartbeat(self); },
    [self](enroll_atom, node_actor& node, std::string& address) -> caf::result<ok_atom> {
      if (!node)
        return ok_atom::value;
      // Enrolled once its types are known, so that no placement can pick
      // it for a type it lacks.
      auto rp = self->make_response_promise<ok_atom>();
      learn_types(
        self, address, std::move(node), [rp]() mutable { rp.deliver(ok_atom::value); },
        [rp](caf::error err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](place_atom, std::string& address, std::string& exclude,
           ExecutorContext& ctx) -> caf::result<replica_actor, std::string> {
      auto rp = self->make_response_promise<replica_actor, std::string>();
      bool reserved = false;
      if (address.empty()) {
        // Placements chosen but not yet answered count as hosted, so that a
        // batch (a scale from 1 to 7) spreads instead of piling onto the
        // node that was least loaded when it began.
        // `exclude`: one address, or several joined by commas (the nodes
        // that hold a copy of a replicated shard already).
        auto excluded = [&exclude](const std::string& address) {
          size_t at = 0;
          while (at <= exclude.size()) {
            auto end = std::min(exclude.find(',', at), exclude.size());
            if (exclude.compare(at, end - at, address) == 0 && end - at == address.size())
              return true;
            at = end + 1;
          }
          return false;
        };
        std::vector<detail::NodeLoad> loads;
        for (const auto& n : self->state.nodes)
          loads.push_back({n.address, n.hosted + n.reserved,
                           n.handle && n.health.responsive && !excluded(n.address),
                           detail::can_host(n.types, ctx.uses)});
        auto pick = detail::pick_least_loaded(loads);
        if (!pick) {
          rp.deliver(replica_actor{}, std::string{detail::local_host});
          return rp;
        }
        address = self->state.nodes[*pick].address;
        ++self->state.nodes[*pick].reserved;
        reserved = true;
      }
      if (detail::is_local(address)) {
        rp.deliver(replica_actor{}, std::string{detail::local_host});
        return rp;
      }
      place(self, address, std::move(ctx), rp, reserved);
      return rp;
    },
    [self](scale_atom, std::string& deployment, uint32_t replicas) -> caf::result<Value> {
      auto i = self->state.heads.find(deployment);
      if (i == self->state.heads.end())
        return make_error(errc::not_found, "no deployment '" + deployment + "' in this flow");
      if (auto err = detail::check_scale_replicas(deployment, replicas))
        return err;
      auto rp = self->make_response_promise<Value>();
      auto head = i->second;
      self->request(head, caf::infinite, scale_atom::value, replicas)
        .then(
          [self, head, rp](ok_atom) mutable {
            // Where the replicas are now, for the caller to show.
            self->request(head, std::chrono::seconds(10), status_atom::value)
              .then([rp](Value& v) mutable { rp.deliver(std::move(v)); },
                    [rp](caf::error&) mutable { rp.deliver(Value::object()); });
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](head_atom, std::string& name, head_actor& head) -> ok_atom {
      self->state.heads[name] = std::move(head);
      return ok_atom::value;
    },
    [self](status_atom) -> Value {
      Value::Array nodes;
      for (const auto& n : self->state.nodes) {
        Value v = Value::object();
        v["address"] = n.address;
        v["connected"] = static_cast<bool>(n.handle);
        v["responsive"] = static_cast<bool>(n.handle) && n.health.responsive;
        v["hosted"] = static_cast<int64_t>(n.hosted);
        Value::Array types;
        for (const auto& t : n.types)
          types.emplace_back(t);
        v["executors"] = std::move(types);
        nodes.push_back(std::move(v));
      }
      Value out = Value::object();
      out["nodes"] = std::move(nodes);
      return out;
    },
  };
}

}  // namespace caflow::actors
