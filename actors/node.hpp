// The node daemon's actor: spawns replicas for flows on request.
//
// Why not CAF's remote_spawn: in CAF 0.17 a spawn by name (what remote_spawn
// runs on the far side) cannot ask for a detached actor, and replicas must be
// detached (executor code blocks on CPU work); the node must also put the
// replica's workspace on its own disk, log what it hosts, and drop a flow's
// replicas when that flow goes away. A published node actor that spawns on
// request does all of it, and works the same over plain TCP and over CAF's
// OpenSSL transport: one mechanism for both.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <caf/actor_addr.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cluster/protocol.hpp"

namespace caflow::actors {

/// Writes one log line (the daemon prints it on stdout).
using node_log = std::function<void(const std::string&)>;

struct node_state {
  struct hosted {
    replica_actor replica;
    std::string label;  // "indexer/shard-1/replica-0 (Indexer)"
    caf::actor_addr flow;
  };
  std::string workspace;
  node_log log;
  std::map<caf::actor_addr, hosted> replicas;
  std::map<caf::actor_addr, size_t> flows;  // flow -> replicas hosted for it
  caf::error stopping;                      // set once the node was told to exit

  static inline const char* name = "caflow.node";
};

/// The node's behavior: replicas get `workspace` as their workspace root.
node_actor::behavior_type node(node_actor::stateful_pointer<node_state> self, std::string workspace,
                               node_log log);

}  // namespace caflow::actors
