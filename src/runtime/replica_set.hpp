/// The decisions of a deployment's head as a plain state machine (private):
/// its slots and their states, the calls in flight with their retry budgets,
/// the replica picker, the joins of several shards, scale planning and the
/// node-affinity rule of stateful executors. No actors: every input is a
/// method that returns the effects the head actor then carries out (send a
/// call, place or stop a slot, arm a timer, deliver an answer), so each
/// transition is tested on its own (tests/unit/replica_set_test.cpp).
///
///   detail::ReplicaSet set{options};
///   run(set.start(initial_nodes));               // PlaceSlot per slot
///   run(set.on_placed(slot, "local"));           // the replica is up
///   run(set.on_request(op, std::move(req)));     // SendCall ...
///   run(set.on_reply(call, std::move(resp)));    // ... Deliver{op, answer}
///
/// A slot is one replica position [shard][index]. Each placement gives it a
/// new generation, so that a message about an older replica of the same slot
/// (a late down message, a placement that was cancelled) is told apart.
///
/// Slot states and their transitions (input -> new state, effects):
///
///   placing  --on_placed-------------> live
///   placing  --on_place_failed-------> lost      RetryLater
///   placing  --scale down------------> retired   (a late on_placed: StopSlot)
///   live     --on_down (local)-------> placing   PlaceSlot(local), calls retried/failed
///   live     --on_down (remote)------> lost      stateless: PlaceSlot(elsewhere),
///                                                stateful: RetryLater (its node)
///   live     --on_node_lost----------> lost      (suspect: the replica may come back)
///                                                stateless: StopSlot + PlaceSlot(elsewhere)
///   lost     --on_node_back (suspect)> live      the same replica, stateful only
///   lost     --on_timer--------------> placing   PlaceSlot (stateful: its node)
///   live     --scale down------------> draining  (idle: stopping, StopSlot)
///   draining --last call settled-----> stopping  StopSlot
///   stopping --on_down---------------> retired   (reusable by a later scale up)
///   lost     --scale down------------> retired
///   any      --on_stop---------------> stopping  StopSlot; StopDone once every
///                                                replica that can answer is down
///
/// Calls: a request becomes an op with one part per shard it goes to (ANY: one,
/// ALL: every shard, PARTITION: every shard with documents). Each part is a
/// call to one replica. A call whose replica went away (down, node lost,
/// CAF's receiver-down) is retried on another replica of the same shard while
/// its budget lasts (`retries`, only with replicas > 1), else the part fails.
/// A reply or error for a call already settled is ignored, so a late reply
/// from a replica presumed lost never answers a client twice.
///
/// Copies (a stateful executor that implements caflow::Replicated): each
/// slot on its own node is a copy of its shard's data, with a copy state
/// beside its slot state (slots of one shard on one node share a store and
/// so are one copy; a write goes to one of them):
///
///   out        --on_seq: applied == the shard's seq ---------> in_sync
///   out        --on_seq: behind ------------------------------> recovering  Recover(from an
///   in-sync copy) recovering --caught up, at or past every acknowledged write -> in_sync
///   recovering --on_recover_failed ----------------------------> out  QuerySeq later
///   in_sync    --a write fails (not for its input), down, lost -> out
///
/// A shard is established once every copy placed at start told its applied
/// sequence number (on_seq): the highest is the shard's, the copies there
/// are in sync, the others catch up. Requests wait until then. A copy that
/// is slow to answer (its replica still opening its store) is waited for;
/// one that answers an error, or is lost, is not. A write gets
/// the shard's next number and goes to every in-sync and recovering copy;
/// it is acknowledged once `write_consistency` in-sync copies applied it
/// (0: all of them), and a copy that fails it leaves the in-sync set before
/// that. A write every copy refuses for its input is recorded as applied by
/// each, and answered with that error. Reads go to one in-sync copy.
///
/// Not thread-safe: owned by one head actor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "caflow/messages.hpp"
#include "caflow/polling.hpp"
#include "caflow/value.hpp"
#include "runtime/partition.hpp"
#include "runtime/replica_picker.hpp"

namespace caflow::detail {

/// Where a slot is in its life (see the file comment).
enum class SlotState : uint8_t { placing, live, draining, stopping, lost, retired };

/// "placing", "live", ...
const char* to_string(SlotState state) noexcept;

/// Where a copy of a replicated shard is (see the file comment).
enum class CopyState : uint8_t { out, recovering, in_sync };

/// "out", "recovering", "in_sync".
const char* to_string(CopyState state) noexcept;

/// One replica of one slot: shard, index within the shard, generation.
struct SlotId {
  uint32_t shard = 0;
  uint32_t index = 0;
  uint64_t gen = 0;

  friend bool operator==(const SlotId&, const SlotId&) = default;
  friend auto operator<=>(const SlotId&, const SlotId&) = default;
};

/// A slot as the set sees it.
struct Slot {
  SlotState state = SlotState::retired;
  uint64_t gen = 0;
  std::string node = "local";  ///< where it runs or goes: "local" or HOST:PORT
  uint32_t in_flight = 0;      ///< calls sent to it and not settled
  std::string lost;            ///< why it is unavailable, e.g. "node 10.0.0.2:4242 lost"
  /// Lost with an unresponsive node: the replica may still exist and return.
  bool suspect = false;
  /// Stopping while the flow stops, and still expected to report down.
  bool awaited = false;
  // Copies of a replicated shard only:
  CopyState copy = CopyState::out;
  uint64_t applied = 0;        ///< the last write it is known to have applied
  bool seq_known = false;      ///< it told its applied number since it was placed
  bool seq_failed = false;     ///< asking it failed (it is asked again later)
  bool seq_waiting = false;    ///< it has not answered in time yet (still opening)
  uint64_t upto = 0;           ///< recovering: the shard's number when it began
  uint64_t recovery = 0;       ///< the current catch-up's id (0: none)
  uint64_t snapshot_docs = 0;  ///< recovering: snapshot documents stored so far
};

/// What a ReplicaSet is built from.
struct ReplicaSetOptions {
  std::string name;                          ///< the deployment's name, for messages
  uint32_t shards = 1;                       ///< Default: 1
  uint32_t replicas = 1;                     ///< per shard. Default: 1
  Polling polling{};                         ///< Default: Jina's
  uint32_t retries = 1;                      ///< per call. Default: 1 (used only with replicas > 1)
  bool stateful = false;                     ///< replicas lost with their node return only there
  int64_t timeout_ms = 0;                    ///< the deployment's timeout, for messages. Default: 0
  Params default_params = Params::object();  ///< the executor's defaults (top_k)
  /// Delay before a lost slot is placed again. Default: 500 ms
  std::chrono::milliseconds respawn_backoff{500};
  /// Microseconds since the epoch, for routes. Default: the system clock.
  std::function<int64_t()> clock{};
  /// The executor implements caflow::Replicated: each slot on its own node
  /// is a copy, writes are numbered and go to every in-sync copy. Default: false
  bool replicated = false;
  /// Replicated: the endpoints that only read; every other one writes.
  std::set<std::string, std::less<>> reads{};
  /// Replicated: in-sync copies that must apply a write before it is
  /// acknowledged (YAML `write_consistency`); 0 = all of them. Default: 0
  uint32_t write_consistency = 0;
  /// Replicated: how long a copy that failed to catch up waits before it
  /// tries again. Default: 1000 ms
  std::chrono::milliseconds recover_backoff{1000};
  /// Endpoints whose shard answers are delivered packed, one Document per
  /// shard (caflow/shard_answers.hpp), instead of reduced: the head's
  /// uses_after reduces them. Whatever would fail the request fails it
  /// still. Default: none
  std::function<bool(const std::string& endpoint)> keep_shard_answers{};
};

namespace effect {

/// Send `req` to the replica of `to` as call `call`; as write number `seq`
/// of its shard when `seq` is not 0. A write to a copy on another node
/// goes as `record` instead (the request encoded once for all its copies,
/// runtime/op_record.hpp; `req` is then empty), answered with the
/// documents only when `docs`.
struct SendCall {
  uint64_t call = 0;
  SlotId to;
  Request req;
  uint64_t seq = 0;
  std::shared_ptr<const std::string> record{};
  bool docs = true;
};

/// Ask the copy `slot` for its last applied write, after `delay`; answer
/// with on_seq or on_seq_failed.
struct QuerySeq {
  SlotId slot;
  std::chrono::milliseconds delay{0};
};

/// Tell the copy `target` to catch up from the copy `source` until it has
/// applied `upto`; answer with on_recovered or on_recover_failed, naming
/// `recovery`.
struct Recover {
  SlotId target;
  SlotId source;
  uint64_t upto = 0;
  uint64_t recovery = 0;
};

/// Start a replica for `slot`: on `node` ("" = any node but `exclude`,
/// "local" = in this process). Answer with on_placed or on_place_failed.
struct PlaceSlot {
  SlotId slot;
  std::string node;
  std::string exclude;
};

/// Stop the replica of `slot` (it answers with a down message, or never
/// when its node is gone).
struct StopSlot {
  SlotId slot;
};

/// Call on_timer(slot) after `delay`.
struct RetryLater {
  SlotId slot;
  std::chrono::milliseconds delay{0};
};

/// Answer client request `op`.
struct Deliver {
  uint64_t op = 0;
  caf::expected<Response> result{Response{}};
};

/// Answer scale command `scale` (no error: done).
struct ScaleDone {
  uint64_t scale = 0;
  caf::error error;
};

/// Every replica that can still answer is down: the head may quit.
struct StopDone {};

/// A line for the log.
struct Log {
  std::string line;
};

}  // namespace effect

/// One thing for the head actor to do.
using Effect = std::variant<effect::SendCall, effect::PlaceSlot, effect::StopSlot,
                            effect::RetryLater, effect::Deliver, effect::ScaleDone,
                            effect::StopDone, effect::Log, effect::QuerySeq, effect::Recover>;

/// What an input asks for, in order.
using Effects = std::vector<Effect>;

/// Counters reported by status().
struct ReplicaSetCounters {
  uint64_t received = 0;
  uint64_t succeeded = 0;
  uint64_t failed = 0;
  uint64_t restarts = 0;
  uint64_t retries = 0;
};

/// The head's decisions (see the file comment).
class ReplicaSet {
 public:
  explicit ReplicaSet(ReplicaSetOptions options);

  /// Places every slot: on `nodes[shard][index]` when given ("local" or
  /// HOST:PORT), else locally.
  [[nodiscard]] Effects start(const std::vector<std::vector<std::string>>& nodes = {});

  // -- requests ---------------------------------------------------------------

  /// A client request `op` (an id the caller picked, unique while pending).
  [[nodiscard]] Effects on_request(uint64_t op, Request req);

  /// The replica of call `call` answered.
  [[nodiscard]] Effects on_reply(uint64_t call, Response resp);

  /// Call `call` failed with `err` (the replica's error, a timeout, or CAF's
  /// receiver-down).
  [[nodiscard]] Effects on_error(uint64_t call, const caf::error& err);

  // -- replicas and nodes -----------------------------------------------------

  /// The replica of `slot` runs on `node`.
  [[nodiscard]] Effects on_placed(SlotId slot, const std::string& node);

  /// Placing `slot` failed with `why`.
  [[nodiscard]] Effects on_place_failed(SlotId slot, const std::string& why);

  /// The replica of `slot` went down for `reason` (remote_link_unreachable:
  /// its node was lost).
  [[nodiscard]] Effects on_down(SlotId slot, const caf::error& reason);

  /// Node `node` stopped answering (hung): its replicas count as lost.
  [[nodiscard]] Effects on_node_lost(const std::string& node, const std::string& why);

  /// Node `node` answers again: replicas that stayed there come back.
  [[nodiscard]] Effects on_node_back(const std::string& node);

  /// The timer armed by RetryLater for `slot` fired.
  [[nodiscard]] Effects on_timer(SlotId slot);

  /// Scale command `scale`: `n` replicas per shard. Answered by ScaleDone once
  /// every new replica is placed (or failed to be).
  [[nodiscard]] Effects on_scale(uint64_t scale, uint32_t n);

  /// The flow stops: stop every replica; StopDone once they are down.
  [[nodiscard]] Effects on_stop();

  // -- copies (replicated shards; replica_set_copies.cpp) ---------------------

  /// The copy `slot` has applied the writes up to `applied`.
  [[nodiscard]] Effects on_seq(SlotId slot, uint64_t applied);

  /// The copy `slot` could not say what it applied. A timeout
  /// (caf::sec::request_timeout) is no answer yet rather than a failure: it
  /// is asked again at once and the shard's number waits for it (a replica
  /// answers nothing while it opens a large store; a hung node is lost by
  /// heartbeats instead). Any other error counts as failed: the shard goes
  /// on without it, and it is asked again after `recover_backoff`.
  [[nodiscard]] Effects on_seq_failed(SlotId slot, const caf::error& err);

  /// Catch-up `recovery` of `slot` ended with `applied` applied.
  [[nodiscard]] Effects on_recovered(SlotId slot, uint64_t recovery, uint64_t applied);

  /// The copy `slot`, catching up, has applied the writes up to `applied`
  /// and stored `snapshot_docs` documents of a snapshot (0: none): shown
  /// in status() while it lasts.
  [[nodiscard]] Effects on_progress(SlotId slot, uint64_t applied, uint64_t snapshot_docs);

  /// Catch-up `recovery` of `slot` failed.
  [[nodiscard]] Effects on_recover_failed(SlotId slot, uint64_t recovery, const caf::error& err);

  /// The last write number given to `shard` (0: none, or not established).
  [[nodiscard]] uint64_t shard_seq(uint32_t shard) const { return seqs_[shard].next; }

  /// True once `shard`'s number is known (see the file comment).
  [[nodiscard]] bool established(uint32_t shard) const { return seqs_[shard].established; }

  // -- inspection -------------------------------------------------------------

  /// Slot [shard][index] (must exist).
  [[nodiscard]] const Slot& slot(uint32_t shard, uint32_t index) const {
    return shards_[shard][index];
  }

  /// Slots of `shard`.
  [[nodiscard]] const std::vector<Slot>& slots(uint32_t shard) const { return shards_[shard]; }

  /// Number of shards.
  [[nodiscard]] uint32_t shard_count() const noexcept {
    return static_cast<uint32_t>(shards_.size());
  }

  /// Live or draining slots over every shard.
  [[nodiscard]] size_t alive() const noexcept;

  /// Calls in flight.
  [[nodiscard]] size_t calls_in_flight() const noexcept { return calls_.size(); }

  /// Client requests not yet answered.
  [[nodiscard]] size_t ops_pending() const noexcept { return ops_.size(); }

  [[nodiscard]] const ReplicaSetCounters& counters() const noexcept { return counters_; }

  /// True once on_stop was called.
  [[nodiscard]] bool stopping() const noexcept { return stopping_; }

  /// Replicas per shard (as last scaled).
  [[nodiscard]] uint32_t replicas() const noexcept { return options_.replicas; }

  /// The status Value: counters, in-flight per slot and placement.
  [[nodiscard]] Value status() const;

  /// The top_k a reduce cuts to: the request's, else the executor's default
  /// (a null top_k means the default too); nullopt when neither is set or
  /// the request's is malformed (the executor reports it).
  [[nodiscard]] std::optional<size_t> top_k_for(const Params& params) const;

 private:
  struct Call {
    uint64_t op = 0;
    uint32_t part = 0;  // the shard, for ALL and PARTITION
    SlotId slot;
    uint32_t retries_left = 0;
    std::optional<Request> kept;  // for a retry
    uint64_t write = 0;           // its write (writes_), 0 for a plain call
    bool check = false;           // a check before a write over several shards
  };
  // One numbered write of one shard, sent to every in-sync and recovering copy.
  struct Write {
    enum Status : uint8_t { pending, applied, failed };
    struct Target {
      SlotId slot;
      bool counted = false;  // in sync when sent, or since
      Status status = pending;
      bool docs = true;  // it answers with the documents
    };
    uint64_t op = 0;
    uint32_t part = 0;
    uint32_t shard = 0;
    uint64_t seq = 0;
    std::vector<Target> targets;
    std::optional<Response> answer;             // the first copy's with the documents
    std::optional<Params> params;               // the first copy's without them
    std::shared_ptr<const std::string> record;  // sent to the copies elsewhere
    caf::error refused;                         // an input error the copies answered
    std::vector<std::string> failures;
    bool settled = false;  // answered (kept until every copy answered)
  };
  // The numbering of one shard's writes.
  struct ShardSeq {
    uint64_t next = 0;       // the last number given
    uint64_t max_acked = 0;  // the highest acknowledged
    bool established = false;
  };
  struct Op {
    PollingMode mode = PollingMode::any;
    std::string id;
    int64_t start_us = 0;
    size_t pending = 0;
    std::vector<std::optional<Response>> answers;  // per part
    std::vector<std::string> failures;
    std::vector<caf::error> errors;  // the shards' own, for the code (fan_out_code)
    std::optional<size_t> top_k;
    std::vector<std::string> order;      // ALL: the request's ids
    Partition plan;                      // PARTITION: positions and ids
    bool packed = false;                 // deliver the answers packed (keep_shard_answers)
    std::vector<uint32_t> failed_parts;  // the part of each failure, in order
    // A write over several shards: its parts wait here while one copy of
    // each shard checks its documents; none is numbered unless all pass.
    std::vector<std::optional<Request>> staged;
    size_t checking = 0;
    std::vector<caf::error> refusals;
  };
  struct ScaleOp {
    std::vector<SlotId> waiting;
    std::string failures;
  };

  // Routing (replica_set_calls.cpp).
  void send_to_shard(Effects& out, uint64_t op, uint32_t part, uint32_t shard, Request req,
                     uint32_t retries, std::optional<uint32_t> exclude);
  void send_to_slot(Effects& out, uint64_t op, uint32_t part, SlotId to, Request req,
                    uint32_t retries);
  void settle_part(Effects& out, uint64_t op, uint32_t part, caf::expected<Response> result);
  void finish(Effects& out, uint64_t op);
  // uses_after's packed answers (replica_set_answers.cpp).
  void finish_packed(Effects& out, uint64_t op, Op& o);
  // The end both finishes share: a failure counted and delivered, or the
  // joined answer stamped with its counts, failures and route, and delivered.
  void fail_op(Effects& out, uint64_t op, caf::error err);
  void deliver_joined(Effects& out, uint64_t op, Op& o, Response resp, size_t count);
  void pack_any(uint64_t op, uint32_t shard, Response& resp) const;
  void fail_call(Effects& out, uint64_t id, Call call, const caf::error& err);
  void fail_calls_on(Effects& out, SlotId slot, const caf::error& err);
  void release(Effects& out, const Call& call);
  uint32_t retry_budget() const noexcept;
  caf::error shard_error(uint32_t shard, const caf::error& err) const;
  std::string shard_name(uint32_t shard) const;

  // Copies (replica_set_copies.cpp).
  void route(Effects& out, uint64_t op, Request req);
  bool is_write(const std::string& endpoint) const;
  std::string copy_name(SlotId id) const;
  bool serves(const Slot& s) const noexcept;  // may take a read
  void send_write(Effects& out, uint64_t op, uint32_t part, uint32_t shard, Request req);
  void write_answered(Effects& out, const Call& call, caf::expected<Response> result);
  Response write_answer(Write& w);
  void send_checks(Effects& out, uint64_t op);
  void check_answered(Effects& out, const Call& call, const caf::error& err);
  void check_write(Effects& out, uint64_t id);
  void leave_sync(Effects& out, SlotId id, const std::string& why);
  void copy_placed(Effects& out, SlotId id);
  void establish(Effects& out, uint32_t shard);
  void start_recovery(Effects& out, SlotId id);
  void maybe_promote(Effects& out, SlotId id);
  void release_held(Effects& out);
  std::optional<SlotId> sync_source(uint32_t shard, SlotId except) const;

  // Slots (replica_set.cpp).
  Slot* find(SlotId id);
  void place(Effects& out, uint32_t shard, uint32_t index, std::string node, std::string exclude);
  void lose(Effects& out, SlotId id, const std::string& why, bool suspect);
  void maybe_stop_idle(Effects& out, uint32_t shard, uint32_t index);
  void settle_scale(Effects& out, SlotId id, const std::string& failure);
  void check_stop_done(Effects& out);

  ReplicaSetOptions options_;
  std::vector<std::vector<Slot>> shards_;
  std::vector<ReplicaPicker> pickers_;
  ReplicaPicker any_picker_;
  uint64_t next_gen_ = 0;
  uint64_t next_call_ = 0;
  std::map<uint64_t, Call> calls_;
  std::map<uint64_t, Op> ops_;
  std::map<uint64_t, ScaleOp> scales_;
  std::vector<ShardSeq> seqs_;
  std::map<uint64_t, Write> writes_;
  uint64_t next_write_ = 0;
  uint64_t next_recovery_ = 0;
  std::vector<std::pair<uint64_t, Request>> held_;  // waiting for every shard's number
  ReplicaSetCounters counters_;
  bool stopping_ = false;
  bool stop_done_ = false;
};

/// True when `err` means the replica went away before answering (worth a
/// retry elsewhere): CAF's receiver-down, an exit reason, errc::unavailable.
[[nodiscard]] bool replica_gone(const caf::error& err);

}  // namespace caflow::detail
