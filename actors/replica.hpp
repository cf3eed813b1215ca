// The replica actor: owns one executor instance (one replica of one shard).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <caf/actor_addr.hpp>
#include <caf/error.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/read_lane.hpp"
#include "caflow/executor.hpp"
#include "caflow/messages.hpp"
#include "runtime/batcher.hpp"

namespace caflow::actors {

/// State of a replica. The executor is built when the actor starts, on the
/// actor's own thread; a constructor that throws leaves `start_error` set and
/// every request answered with it. Requests to endpoints with dynamic
/// batching wait in `batcher` (their promises in `waiting`) until their batch
/// is full or its timer (a `batch` message to itself) fires.
///
/// For an executor that declares concurrent reads the replica is a front
/// (read_lane.hpp): it holds no executor, only `writer` (a replica over the
/// executor, spawned by the front) and `lane`, and forwards each message to
/// one of them.
struct replica_state {
  std::shared_ptr<Executor> executor;             // a front's writer and lane share it
  replica_actor writer;                           // a front's writer
  read_lane_actor lane;                           // a front's read lane
  std::set<std::string, std::less<>> lane_reads;  // the endpoints a front sends to `lane`
  caf::actor_addr front;                          // a writer's front (it reports as that)
  std::shared_ptr<std::latch> closed;             // counted down once the executor closed
  Replicated* replicated = nullptr;               // the executor's, when it implements it
  /// Writes that came ahead of a gap in the sequence, by sequence number;
  /// applied once the writes before them are (replica_sync.cpp).
  struct AheadWrite {
    Request req;
    caf::typed_response_promise<Response> promise;
    std::string record;  // as the head encoded it ("": encoded here)
    bool docs = true;    // answered with the documents
  };
  std::map<uint64_t, AheadWrite> ahead;
  /// A catch-up in progress (replica_sync.cpp).
  struct Recovery {
    caf::actor source;
    caf::strong_actor_ptr head;  // told the progress (the one that asked)
    uint64_t upto = 0;
    caf::typed_response_promise<uint64_t> promise;
    bool snapshot = false;                             // installing a snapshot
    bool started = false;                              // its first chunk arrived
    std::string after;                                 // the snapshot's last id so far
    uint64_t snap_seq = 0;                             // the snapshot's sequence number
    uint64_t from = 0;                                 // applied when it began
    size_t docs = 0;                                   // snapshot documents so far
    uint32_t idle = 0;                                 // pulls in a row that found nothing new
    std::chrono::steady_clock::time_point reported{};  // the last progress line
    std::chrono::steady_clock::time_point began{};
  };
  std::optional<Recovery> recovery;
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

using replica_pointer = replica_actor::stateful_pointer<replica_state>;

/// The replication handlers of the replica's behavior (replica_sync.cpp).
caf::result<Response> on_write(replica_pointer self, uint64_t seq, Request& req,
                               std::string record = {}, bool docs = true);
caf::result<Response> on_write_record(replica_pointer self, uint64_t seq, std::string& record,
                                      bool docs);
caf::result<uint64_t> on_seq(replica_pointer self);
caf::result<OpLogChunk> on_log(replica_pointer self, uint64_t after, uint64_t max_bytes);
caf::result<SnapshotChunk> on_snap(replica_pointer self, const std::string& after,
                                   uint32_t max_docs);
caf::result<uint64_t> on_recover(replica_pointer self, caf::actor source, uint64_t upto);
void recover_step(replica_pointer self);

/// Runs `executor` on `docs` (as write `stamp` when given); an exception
/// fails this call only, as an error naming the replica (`label`).
caf::expected<Params> call_executor(Executor& executor, const std::string& label,
                                    const std::string& endpoint, DocumentArray& docs,
                                    const Params& params, const WriteStamp* stamp = nullptr);

/// call_executor() on the replica's executor.
inline caf::expected<Params> call_executor(replica_state& st, const std::string& endpoint,
                                           DocumentArray& docs, const Params& params,
                                           const WriteStamp* stamp = nullptr) {
  return call_executor(*st.executor, st.label, endpoint, docs, params, stamp);
}

/// The replica's answer to `req` (one shard answered): its documents as the
/// executor left them, with the executor's response parameters.
Response answer(Request& req, Params params);

}  // namespace caflow::actors
