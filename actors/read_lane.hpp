// The read lane of a replica whose executor declares concurrent reads
// (caflow/executor.hpp): an actor on a thread of its own that runs the
// executor's declared read endpoints, so that a search does not wait behind
// a write.
//
// Such a replica is three actors. The one the head (or node) spawned and
// talks to is a front: it builds the executor, then spawns a writer (a
// replica over that executor) and the lane, both detached and linked, and
// from then on only forwards: declared reads to the lane, everything else
// (writes in every form, the replicated shard's log and catch-up, checks,
// discovery, ping) to the writer, in the order they came. Forwarding is a
// delegation: the writer or lane answers the sender directly, so the head's
// request, its timeout and its in-flight count are those of the replica, as
// before. The front never runs executor code, so its mailbox never waits;
// the writer keeps the replica's strict order for everything but the reads
// (replicated writes apply in sequence order there, as before). Reads
// gathered by dynamic batching are batched on the lane.
//
// Why this keeps "a search sees every write acknowledged before it was
// sent": a write is acknowledged only after its handler returned on the
// writer, so a read sent after the acknowledgement reaches the lane after
// the write is applied; the executor's own locking makes it visible there.
// A read may overtake a write that is not acknowledged yet; it then sees
// that write whole or not at all (the executor's promise).
//
// Only a detached replica gets a lane: one on the scheduler
// (runs_on_scheduler, or spawned so by a test) serves everything itself.
//
// One lane per replica: reads on it run one at a time, as they did on the
// replica; more read parallelism is what `replicas` gives. The writer and
// the lane share the executor; it closes when both let go of it, and the
// front waits for that before it stops, so a replica re-spawned after a
// failure finds the storage released. The links take the front down with
// the writer or the lane, should one die alone, so the head re-spawns all
// three.
#pragma once

#include <latch>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "caflow/executor.hpp"
#include "caflow/messages.hpp"
#include "runtime/batcher.hpp"

namespace caflow::actors {

/// A read lane: answers reads, and its dynamic batches' timers (to itself).
using read_lane_actor = caf::typed_actor<caf::replies_to<Request>::with<Response>,
                                         caf::reacts_to<batch_atom, std::string, uint64_t>>;

/// State of a read lane.
struct read_lane_state {
  std::shared_ptr<Executor> executor;  // shared with the replica
  std::string label;                   // the replica's
  detail::Batcher batcher;
  std::map<uint64_t, caf::typed_response_promise<Response>> waiting;
  uint64_t next_ticket = 1;

  static inline const char* name = "caflow.read_lane";
};

/// The lane's behavior over `executor` (started), for replica `label`, with
/// the deployment's dynamic batching (only read endpoints reach it). Spawn
/// it detached, like the replica.
read_lane_actor::behavior_type read_lane(read_lane_actor::stateful_pointer<read_lane_state> self,
                                         std::shared_ptr<Executor> executor, std::string label,
                                         std::map<std::string, DynamicBatching> batching);

/// The endpoints that go to a lane for an executor of type `uses`: its
/// declared reads when it declared concurrent reads, else none (no lane).
std::set<std::string, std::less<>> lane_endpoints(const std::string& uses);

/// Wraps a started executor so that the last of the replica and its lane to
/// let go of it calls close() and deletes it, then counts `closed` down.
std::shared_ptr<Executor> share_executor(std::unique_ptr<Executor> executor,
                                         std::shared_ptr<std::latch> closed);

}  // namespace caflow::actors
