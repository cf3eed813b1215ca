/// The messages between caflow's actors, and their typed interfaces.
///
/// Every message is a plain struct with an `inspect` function and a type ID
/// (caflow/type_ids.hpp), so the same actors talk within a process and across
/// nodes. Documents cross as packed bytes (see caflow/document.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "caflow/document.hpp"
#include "caflow/replication.hpp"
#include "caflow/value.hpp"

namespace caflow {

/// One executor's part in answering a request, for the response's `routes`.
struct Route {
  std::string executor;  ///< deployment name
  int64_t start_us = 0;  ///< microseconds since the epoch
  int64_t end_us = 0;
  std::string status;  ///< "" when it succeeded, else the error

  friend bool operator==(const Route&, const Route&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Route& x) {
  return f(caf::meta::type_name("caflow::Route"), x.executor, x.start_us, x.end_us, x.status);
}

/// A request: an endpoint, documents and parameters.
struct Request {
  std::string id;                        ///< request id (for logs and replies)
  std::string endpoint;                  ///< e.g. "/search"
  DocumentArray docs;                    ///< the documents
  Params parameters = Params::object();  ///< e.g. {"top_k": 5}
  std::string target_executor;           ///< only this deployment runs it ("" = all)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Request& x) {
  return f(caf::meta::type_name("caflow::Request"), x.id, x.endpoint, x.docs, x.parameters,
           x.target_executor);
}

/// `req` with `docs` in place of its documents: a shard's part of it, or one
/// deployment's input. Copies everything but the documents.
inline Request with_docs(const Request& req, DocumentArray docs) {
  return Request{req.id, req.endpoint, std::move(docs), req.parameters, req.target_executor};
}

/// The answer to a Request.
struct Response {
  std::string id;                        ///< the request's id
  DocumentArray docs;                    ///< the resulting documents
  Params parameters = Params::object();  ///< response parameters (e.g. count)
  uint32_t shards_answered = 0;          ///< shards that contributed
  uint32_t shards_failed = 0;            ///< shards that failed their part
  std::vector<std::string> failures;     ///< "indexer/shard-1: timeout", ...
  std::vector<Route> routes;             ///< per executor start and end time
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Response& x) {
  return f(caf::meta::type_name("caflow::Response"), x.id, x.docs, x.parameters, x.shards_answered,
           x.shards_failed, x.failures, x.routes);
}

// Atoms name the control messages (at most 10 characters each).
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using ok_atom = caf::atom_constant<caf::atom("ok")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using replicas_atom = caf::atom_constant<caf::atom("replicas")>;
using scale_atom = caf::atom_constant<caf::atom("scale")>;
using respawn_atom = caf::atom_constant<caf::atom("respawn")>;
using node_atom = caf::atom_constant<caf::atom("node")>;
using batch_atom = caf::atom_constant<caf::atom("batch")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
using seq_atom = caf::atom_constant<caf::atom("seq")>;
using log_atom = caf::atom_constant<caf::atom("log")>;
using snap_atom = caf::atom_constant<caf::atom("snap")>;
using recover_atom = caf::atom_constant<caf::atom("recover")>;
using progress_atom = caf::atom_constant<caf::atom("progress")>;

/// One replica of one shard: runs its executor's handlers.
/// `ping` answers once the executor is constructed (or with why it failed).
/// `batch` (to itself): a dynamic batch's timer (group, generation) fired.
/// For a replicated executor (caflow/replication.hpp):
/// `(write, seq, req)`: applies write `seq` of the shard in sequence order
/// (one that comes ahead of a gap waits for it; one applied already is
/// answered at once); `(write, seq, record, docs)`: the same write as its
/// log record (runtime/op_record.hpp), encoded once by the head for every
/// copy on another node and stored as it is, answered with the documents
/// only when `docs`; `seq`: the last write applied; `(log, after,
/// max_bytes)`: operations from the log; `(snap, after_id, max_docs)`: a
/// chunk of a snapshot; `(recover, source, upto)`: catches up from the copy
/// `source` until at least `upto` is applied, answering what is applied,
/// and telling the asking head its progress meanwhile (`progress`);
/// `recover` (to itself): look at the source's log again.
using replica_actor = caf::typed_actor<
  caf::replies_to<Request>::with<Response>, caf::replies_to<ping_atom>::with<ok_atom>,
  caf::reacts_to<batch_atom, std::string, uint64_t>,
  caf::replies_to<write_atom, uint64_t, Request>::with<Response>,
  caf::replies_to<write_atom, uint64_t, std::string, bool>::with<Response>,
  caf::replies_to<seq_atom>::with<uint64_t>,
  caf::replies_to<log_atom, uint64_t, uint64_t>::with<OpLogChunk>,
  caf::replies_to<snap_atom, std::string, uint32_t>::with<SnapshotChunk>,
  caf::replies_to<recover_atom, caf::actor, uint64_t>::with<uint64_t>,
  caf::reacts_to<recover_atom>>;

/// A deployment's head: routes by polling, joins and reduces shard answers.
/// `ping`: every replica is ready. `status`: counters as a JSON-like Value.
/// `replicas`: the current replica actors (shard-major). `stop`: stops every
/// replica, waits for them, then answers and quits. `scale`: changes the
/// replicas per shard. `respawn` (to itself): retry placing lost slot
/// (shard, index, generation). `(node, address, responsive, why)`: from the
/// cluster actor, a node stopped answering heartbeats or answers again.
/// `(seq, shard, index, generation)` (to itself): ask that copy what it
/// applied (a replicated shard's copy). `(progress, applied, snapshot_docs)`:
/// from a copy catching up: the last write it applied and the snapshot
/// documents it stored so far (0: no snapshot).
using head_actor = caf::typed_actor<
  caf::replies_to<Request>::with<Response>, caf::replies_to<ping_atom>::with<ok_atom>,
  caf::replies_to<status_atom>::with<Value>,
  caf::replies_to<replicas_atom>::with<std::vector<replica_actor>>,
  caf::replies_to<stop_atom>::with<ok_atom>, caf::replies_to<scale_atom, uint32_t>::with<ok_atom>,
  caf::reacts_to<respawn_atom, uint32_t, uint32_t, uint64_t>,
  caf::reacts_to<node_atom, std::string, bool, std::string>,
  caf::reacts_to<seq_atom, uint32_t, uint32_t, uint64_t>,
  caf::reacts_to<progress_atom, uint64_t, uint64_t>>;

/// The flow's front door: walks the graph of heads.
using gateway_actor = caf::typed_actor<caf::replies_to<Request>::with<Response>,
                                       caf::replies_to<status_atom>::with<Value>>;

}  // namespace caflow
