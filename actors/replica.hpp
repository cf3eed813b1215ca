// The replica actor: owns one executor instance (one replica of one shard).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <caf/error.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "caflow/executor.hpp"
#include "caflow/messages.hpp"
#include "runtime/batcher.hpp"

namespace caflow::actors {

/// State of a replica. The executor is built when the actor starts, on the
/// actor's own thread; a constructor that throws leaves `start_error` set and
/// every request answered with it. Requests to endpoints with dynamic
/// batching wait in `batcher` (their promises in `waiting`) until their batch
/// is full or its timer (a `batch` message to itself) fires.
struct replica_state {
  std::unique_ptr<Executor> executor;
  caf::error start_error;
  std::string label;  // "indexer/shard-0/replica-1", for error messages
  detail::Batcher batcher;
  std::map<uint64_t, caf::typed_response_promise<Response>> waiting;
  uint64_t next_ticket = 1;

  ~replica_state();

  static inline const char* name = "caflow.replica";
};

/// The replica's behavior. Spawn it detached: executor code may block on CPU
/// work for long, and must not starve heads, the gateway or other replicas.
replica_actor::behavior_type replica(replica_actor::stateful_pointer<replica_state> self,
                                     ExecutorContext ctx);

/// "indexer/shard-0/replica-1".
std::string replica_label(const ExecutorContext& ctx);

}  // namespace caflow::actors
