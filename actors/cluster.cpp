#include "actors/cluster.hpp"

#include <chrono>

#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>

#include "caflow/errors.hpp"
#include "cluster/placement.hpp"
#include "cluster/transport.hpp"
#include "runtime/scale_bounds.hpp"

namespace caflow::actors {

namespace {

using cluster_pointer = cluster_actor::stateful_pointer<cluster_state>;
using place_promise = caf::typed_response_promise<caf::actor, std::string>;

// Connecting and spawning cross the network; a node that does not answer
// within these is reported, and the head tries again later.
constexpr auto connect_timeout = std::chrono::seconds(10);
constexpr auto place_timeout = std::chrono::seconds(60);

cluster_node& entry(cluster_state& st, const std::string& address) {
  for (auto& n : st.nodes)
    if (n.address == address)
      return n;
  st.nodes.push_back({address, {}, 0});
  return st.nodes.back();
}

void adopt_node(cluster_pointer self, const std::string& address, caf::actor handle) {
  auto& n = entry(self->state, address);
  if (n.handle == handle)
    return;
  n.handle = std::move(handle);
  self->monitor(n.handle);
}

// Asks the connected node `address` to spawn a replica for `ctx`.
void place_on(cluster_pointer self, const std::string& address, ExecutorContext ctx,
              place_promise rp) {
  auto node = entry(self->state, address).handle;
  self
    ->request(caf::actor_cast<node_actor>(node), place_timeout, place_atom::value, std::move(ctx),
              caf::actor_cast<caf::actor>(self))
    .then(
      [self, address, rp](caf::actor& replica) mutable {
        self->monitor(replica);
        self->state.replica_node[replica.address()] = address;
        ++entry(self->state, address).hosted;
        rp.deliver(replica, address);
      },
      [address, rp](caf::error& err) mutable {
        rp.deliver(
          make_error(errc::unavailable, "node " + address + " could not spawn: " + describe(err)));
      });
}

void place(cluster_pointer self, const std::string& address, ExecutorContext ctx,
           place_promise rp) {
  if (entry(self->state, address).handle) {
    place_on(self, address, std::move(ctx), std::move(rp));
    return;
  }
  auto parsed = detail::parse_node_address(address);
  if (!parsed) {
    rp.deliver(parsed.error());
    return;
  }
  // Not connected (never, or lost): connect through the transport's
  // middleman actor, which does not block this actor.
  self
    ->request(self->state.connector, connect_timeout, caf::connect_atom::value, parsed->host,
              parsed->port)
    .then(
      [self, address, ctx, rp](caf::node_id&, caf::strong_actor_ptr& ptr,
                               std::set<std::string>&) mutable {
        if (!ptr) {
          rp.deliver(
            make_error(errc::unavailable, "node " + address + " unreachable: no node actor there"));
          return;
        }
        adopt_node(self, address, caf::actor_cast<caf::actor>(ptr));
        place_on(self, address, std::move(ctx), std::move(rp));
      },
      [self, address, rp](caf::error& err) mutable {
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
      for (auto i = st.replica_node.begin(); i != st.replica_node.end();)
        i = i->second == n.address ? st.replica_node.erase(i) : std::next(i);
    }
}

}  // namespace

cluster_actor::behavior_type cluster(cluster_pointer self, caf::io::middleman_actor connector) {
  self->state.connector = std::move(connector);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  return {
    [self](enroll_atom, caf::actor& node, std::string& address) -> ok_atom {
      if (node)
        adopt_node(self, address, std::move(node));
      return ok_atom::value;
    },
    [self](place_atom, std::string& address, std::string& exclude,
           ExecutorContext& ctx) -> caf::result<caf::actor, std::string> {
      auto rp = self->make_response_promise<caf::actor, std::string>();
      if (address.empty()) {
        std::vector<detail::NodeLoad> loads;
        for (const auto& n : self->state.nodes)
          loads.push_back({n.address, n.hosted, n.handle && n.address != exclude});
        auto pick = detail::pick_least_loaded(loads);
        if (!pick) {
          rp.deliver(caf::actor{}, std::string{detail::local_host});
          return rp;
        }
        address = self->state.nodes[*pick].address;
      }
      if (detail::is_local(address)) {
        rp.deliver(caf::actor{}, std::string{detail::local_host});
        return rp;
      }
      place(self, address, std::move(ctx), rp);
      return rp;
    },
    [self](scale_atom, std::string& deployment, uint32_t replicas) -> caf::result<ok_atom> {
      auto i = self->state.heads.find(deployment);
      if (i == self->state.heads.end())
        return make_error(errc::not_found, "no deployment '" + deployment + "' in this flow");
      if (auto err = detail::check_scale_replicas(deployment, replicas))
        return err;
      auto rp = self->make_response_promise<ok_atom>();
      self
        ->request(caf::actor_cast<head_actor>(i->second), caf::infinite, scale_atom::value,
                  replicas)
        .then([rp](ok_atom) mutable { rp.deliver(ok_atom::value); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](head_atom, std::string& name, caf::actor& head) -> ok_atom {
      self->state.heads[name] = std::move(head);
      return ok_atom::value;
    },
    [self](status_atom) -> Value {
      Value::Array nodes;
      for (const auto& n : self->state.nodes) {
        Value v = Value::object();
        v["address"] = n.address;
        v["connected"] = static_cast<bool>(n.handle);
        v["hosted"] = static_cast<int64_t>(n.hosted);
        nodes.push_back(std::move(v));
      }
      Value out = Value::object();
      out["nodes"] = std::move(nodes);
      return out;
    },
  };
}

}  // namespace caflow::actors
