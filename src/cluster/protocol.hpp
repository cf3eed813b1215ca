// The cluster's messages: between a flow's cluster actor, node daemons and
// the `caflow scale` client. Only CAF builtin types and caflow's registered
// types cross the wire; actor handles travel typed (their interfaces are
// registered type IDs), except where noted.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include "caflow/executor.hpp"
#include "caflow/messages.hpp"
#include "caflow/type_ids.hpp"

namespace caflow {

using place_atom = caf::atom_constant<caf::atom("place")>;
using enroll_atom = caf::atom_constant<caf::atom("enroll")>;
using head_atom = caf::atom_constant<caf::atom("head")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using types_atom = caf::atom_constant<caf::atom("types")>;
using holds_atom = caf::atom_constant<caf::atom("holds")>;

/// A node daemon's actor, published on its port.
/// `(place, ctx, flow)`: spawns a replica for `ctx` on this node (its
/// workspace replaced by the node's) and returns it once its executor is
/// built; a type the node does not know (errc::unknown_executor) or an
/// executor that fails to start is an error, and no replica is left behind.
/// The replicas stay while `flow` (the flow's cluster actor) lives.
/// `flow` is an untyped caf::actor because CAF 0.17's typed interfaces are
/// type aliases, which cannot refer to each other: cluster_actor names
/// node_actor (enroll), so node_actor cannot name cluster_actor. The node
/// only monitors it.
/// `types`: the executor types this node can host (built-ins and plugins).
/// `status`: what it hosts and the types it knows.
/// `ping`: the flow's heartbeat (answered at once).
/// `(holds, ctx)`: whether this node holds data of shard ctx.shard_id of
/// ctx's executor for ctx's flow: {"holds": bool, "documents": n,
/// "applied": the last write number}; nothing is created or opened for long.
using node_actor = caf::typed_actor<
  caf::replies_to<place_atom, ExecutorContext, caf::actor>::with<replica_actor>,
  caf::replies_to<types_atom>::with<std::set<std::string>>,
  caf::replies_to<status_atom>::with<Value>, caf::replies_to<ping_atom>::with<ok_atom>,
  caf::replies_to<holds_atom, ExecutorContext>::with<Value>>;

/// A flow's cluster actor, published on the flow's cluster port.
/// `(enroll, node, address)`: a node joins (address = its HOST:PORT); the
///   answer comes once the node reported the executor types it knows.
/// `(place, node, exclude, ctx)`: spawns a replica on `node` ("" = the
///   least-loaded connected node other than `exclude` that knows ctx.uses);
///   answers the replica and where it runs (an invalid handle and "local" =
///   spawn it locally). A named node that lacks the type is an error.
/// `(scale, deployment, replicas)`: changes a deployment's replicas per
///   shard; answers the deployment's status once the new replicas are placed
///   (its `placement`: where each replica runs).
/// `(head, name, head)`: the flow tells it its heads (at start).
/// `status`: the nodes and what each hosts.
/// `tick` (to itself): the next heartbeat round.
using cluster_actor
  = caf::typed_actor<caf::replies_to<enroll_atom, node_actor, std::string>::with<ok_atom>,
                     caf::replies_to<place_atom, std::string, std::string,
                                     ExecutorContext>::with<replica_actor, std::string>,
                     caf::replies_to<scale_atom, std::string, uint32_t>::with<Value>,
                     caf::replies_to<head_atom, std::string, head_actor>::with<ok_atom>,
                     caf::replies_to<status_atom>::with<Value>, caf::reacts_to<tick_atom>>;

}  // namespace caflow

// The node's handle crosses the wire (enroll); registered by add_types.
CAF_BEGIN_TYPE_ID_BLOCK(caflow_cluster, caf::id_block::caflow::end)

CAF_ADD_TYPE_ID(caflow_cluster, (caflow::node_actor))

CAF_END_TYPE_ID_BLOCK(caflow_cluster)
