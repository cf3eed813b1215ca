#include "actors/replica.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <latch>
#include <new>

#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>
#include <caf/send.hpp>

#include "actors/serve.hpp"
#include "runtime/discovery.hpp"
#include "runtime/op_record.hpp"

namespace caflow::actors {

Response answer(Request& req, Params params) {
  Response resp;
  resp.id = std::move(req.id);
  resp.docs = std::move(req.docs);
  resp.parameters = std::move(params);
  resp.shards_answered = 1;
  return resp;
}

caf::expected<Params> call_executor(Executor& executor, const std::string& label,
                                    const std::string& endpoint, DocumentArray& docs,
                                    const Params& params, const WriteStamp* stamp) {
  try {
    if (stamp)
      return executor.handle(endpoint, docs, params, *stamp);
    return executor.handle(endpoint, docs, params);
  } catch (const Error& e) {
    return make_error(e.code(), label + ": " + e.what());
  } catch (const std::bad_alloc&) {
    // The request's own allocations are gone with the stack: the replica
    // serves on, and the message says what happened instead of "std::bad_alloc".
    return make_error(errc::executor_failed, label + ": out of memory while handling " + endpoint);
  } catch (const std::exception& e) {
    return make_error(errc::executor_failed, label + ": " + e.what());
  } catch (...) {
    return make_error(errc::executor_failed, label + ": unknown exception");
  }
}

std::string replica_label(const ExecutorContext& ctx) {
  return ctx.name + "/shard-" + std::to_string(ctx.shard_id) + "/replica-"
         + std::to_string(ctx.replica_id);
}

replica_state::~replica_state() {
  // A front's writer and lane stop after the call they are running;
  // whichever lets go of the executor last closes it (read_lane.hpp).
  // Waiting for that here, before the head hears that this replica is down,
  // means a re-spawned one never finds the storage still held.
  if (lane)
    caf::anon_send_exit(lane, caf::exit_reason::kill);
  if (writer)
    caf::anon_send_exit(writer, caf::exit_reason::kill);
  lane = read_lane_actor{};
  writer = replica_actor{};
  executor.reset();
  if (closed)
    closed->wait();
}

namespace {

// The replica proper: every message served on this actor's thread, in its
// mailbox order.
replica_actor::behavior_type serving(replica_pointer self) {
  return {
    [self](Request& req) -> caf::result<Response> {
      auto& st = self->state;
      if (st.start_error)
        return st.start_error;
      if (req.endpoint.rfind(detail::check_endpoint_prefix, 0) == 0) {
        // Would this copy take the write? Nothing is written.
        if (st.replicated) {
          auto endpoint = req.endpoint.substr(detail::check_endpoint_prefix.size());
          try {
            st.replicated->check_write(endpoint, req.docs);
          } catch (const Error& e) {
            return make_error(e.code(), st.label + ": " + e.what());
          } catch (const std::exception& e) {
            return make_error(errc::executor_failed, st.label + ": " + e.what());
          }
        }
        Response resp;
        resp.id = std::move(req.id);
        resp.shards_answered = 1;
        return resp;
      }
      if (req.endpoint == detail::discovery_endpoint) {
        Response resp;
        resp.id = std::move(req.id);
        Value::Array names;
        for (auto& e : st.executor->endpoints())
          names.emplace_back(std::move(e));
        resp.parameters[std::string{detail::discovery_key_prefix} + st.executor->context().name]
          = std::move(names);
        resp.shards_answered = 1;
        return resp;
      }
      return serve(self, req);
    },
    [self](batch_atom, const std::string& group, uint64_t generation) {
      expire_batch(self, group, generation);
    },
    [self](ping_atom) -> caf::result<ok_atom> {
      if (self->state.start_error)
        return self->state.start_error;
      return ok_atom::value;
    },
    [self](write_atom, uint64_t seq, Request& req) { return on_write(self, seq, req); },
    [self](write_atom, uint64_t seq, std::string& record, bool docs) {
      return on_write_record(self, seq, record, docs);
    },
    [self](seq_atom) { return on_seq(self); },
    [self](log_atom, uint64_t after, uint64_t max_bytes) { return on_log(self, after, max_bytes); },
    [self](snap_atom, const std::string& after, uint32_t max_docs) {
      return on_snap(self, after, max_docs);
    },
    [self](recover_atom, caf::actor& source, uint64_t upto) {
      return on_recover(self, std::move(source), upto);
    },
    [self](recover_atom) { recover_step(self); },
  };
}

// The nice value a front's writer thread adds (CAFLOW_WRITER_NICE). Default: 10
int writer_nice() {
  const char* v = std::getenv("CAFLOW_WRITER_NICE");
  if (v == nullptr || *v == '\0')
    return 10;
  char* end = nullptr;
  auto n = std::strtol(v, &end, 10);
  return *end == '\0' && n >= 0 && n <= 19 ? static_cast<int>(n) : 10;
}

// The writer of a front: the replica proper over the front's executor. Its
// thread runs at a lower priority than the lane's, so that when the cores
// are busy a search gets one before a write does (writes are throughput,
// searches latency); with idle cores nothing changes.
replica_actor::behavior_type replica_writer(replica_pointer self, caf::actor_addr front,
                                            std::shared_ptr<Executor> executor, std::string label,
                                            std::map<std::string, DynamicBatching> batching) {
  // A detached actor starts on its own thread: this is the writer's.
  // Ignored when refused: the writer then runs at the lane's priority.
  if (auto nice = writer_nice(); nice > 0)
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
  auto& st = self->state;
  st.front = std::move(front);
  st.label = std::move(label);
  st.batcher = detail::Batcher{std::move(batching)};
  st.replicated = dynamic_cast<Replicated*>(executor.get());
  st.executor = std::move(executor);
  return serving(self);
}

// A front only forwards (delegates, so answers go straight to the sender):
// declared reads to the lane, everything else to the writer, in the order
// they came. It never calls the executor, so its mailbox never waits.
replica_actor::behavior_type front(replica_pointer self) {
  auto writer = [self] { return self->state.writer; };
  return {
    [self, writer](Request& req) -> caf::result<Response> {
      if (self->state.lane_reads.count(req.endpoint) > 0)
        return self->delegate(self->state.lane, std::move(req));
      return self->delegate(writer(), std::move(req));
    },
    [self, writer](batch_atom, std::string& group, uint64_t generation) {
      self->delegate(writer(), batch_atom::value, std::move(group), generation);
    },
    [self, writer](ping_atom) -> caf::result<ok_atom> {
      return self->delegate(writer(), ping_atom::value);
    },
    [self, writer](write_atom, uint64_t seq, Request& req) -> caf::result<Response> {
      return self->delegate(writer(), write_atom::value, seq, std::move(req));
    },
    [self, writer](write_atom, uint64_t seq, std::string& record,
                   bool docs) -> caf::result<Response> {
      return self->delegate(writer(), write_atom::value, seq, std::move(record), docs);
    },
    [self, writer](seq_atom) -> caf::result<uint64_t> {
      return self->delegate(writer(), seq_atom::value);
    },
    [self, writer](log_atom, uint64_t after, uint64_t max_bytes) -> caf::result<OpLogChunk> {
      return self->delegate(writer(), log_atom::value, after, max_bytes);
    },
    [self, writer](snap_atom, std::string& after, uint32_t max_docs) -> caf::result<SnapshotChunk> {
      return self->delegate(writer(), snap_atom::value, std::move(after), max_docs);
    },
    [self, writer](recover_atom, caf::actor& source, uint64_t upto) -> caf::result<uint64_t> {
      return self->delegate(writer(), recover_atom::value, std::move(source), upto);
    },
    [self, writer](recover_atom) { self->delegate(writer(), recover_atom::value); },
  };
}

}  // namespace

replica_actor::behavior_type replica(replica_pointer self, ExecutorContext ctx) {
  auto& st = self->state;
  st.label = replica_label(ctx);
  st.batcher = detail::Batcher{ctx.dynamic_batching};
  auto reads = lane_endpoints(ctx.uses);
  auto batching = ctx.dynamic_batching;
  auto ex = ExecutorRegistry::instance().create(std::move(ctx));
  if (!ex) {
    st.start_error = std::move(ex.error());
    return serving(self);
  }
  st.closed = std::make_shared<std::latch>(1);
  auto executor = share_executor(std::move(*ex), st.closed);
  // A replica on the scheduler (runs_on_scheduler, or a test's coordinator)
  // gets no lane: its executor promised not to block, and a front there
  // could not wait for the executor's close without stalling a worker.
  if (reads.empty() || !self->getf(caf::abstract_actor::is_detached_flag)) {
    st.replicated = dynamic_cast<Replicated*>(executor.get());
    st.executor = std::move(executor);
    return serving(self);
  }
  // Concurrent reads: this actor becomes the front of a writer and a lane,
  // both linked, so that either one's death is this replica's.
  st.lane_reads = std::move(reads);
  st.lane = self->spawn<caf::detached + caf::linked>(read_lane, executor, st.label, batching);
  st.writer = self->spawn<caf::detached + caf::linked>(
    replica_writer, self->address(), std::move(executor), st.label, std::move(batching));
  return front(self);
}

}  // namespace caflow::actors
