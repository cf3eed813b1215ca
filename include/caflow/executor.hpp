/// Executors: the user code a flow runs.
///
/// An executor derives from `caflow::Executor`, binds endpoints to member
/// functions in its constructor (the counterpart of Jina's
/// `@requests(on=...)`), and registers its type name with one line beside the
/// class so that flows, nodes and plugins can construct it by name:
///
///   class Upper : public caflow::Executor {
///    public:
///     explicit Upper(caflow::ExecutorContext ctx) : Executor(std::move(ctx)) {
///       on("/index", &Upper::upper);   // one endpoint
///       on("*", &Upper::upper);        // the default for every other one
///     }
///     void upper(caflow::DocumentArray& docs, const caflow::Params&) {
///       for (auto& d : docs) for (auto& c : d.text) c = std::toupper(c);
///     }
///   };
///   CAFLOW_REGISTER_EXECUTOR(Upper);
///
/// An executor that reads `uses_with` declares the keys it knows as a static
/// member, so that a flow refuses a misspelt key (`metirc: euclidean`) with
/// its file and line before anything starts:
///
///     static constexpr std::string_view uses_with_keys[] = {"metric", "index"};
///
/// A type that declares nothing accepts any key (it cannot be checked).
///
/// A stateful executor (CAFLOW_REGISTER_STATEFUL_EXECUTOR_AS) declares the
/// endpoints that only read its data, so that the runtime sends them to one
/// copy of a shard and every other endpoint, as a write, to every copy
/// (caflow/replication.hpp). An endpoint it does not declare counts as a
/// write, the safe side:
///
///     static constexpr std::string_view read_endpoints[] = {"/search", "/count"};
///
/// An executor whose declared reads are safe to run beside its writes says so,
/// and the replica then runs those endpoints on a read lane of their own, so
/// that a search never waits in the replica's mailbox behind a write:
///
///     static constexpr bool concurrent_reads = true;
///
/// What it promises: a handler of a declared read endpoint may run on another
/// thread at the same time as any other handler (a write, check_write, the
/// caflow::Replicated calls), and must neither modify the executor's state
/// nor see a write half done (the Indexer: a shared lock for reads, an
/// exclusive one while a write updates memory). Reads run one at a time on
/// the lane; write_stamp() is nullptr in them; close() runs once neither lane
/// calls the executor any more. Default: false (every endpoint runs in the
/// replica's one mailbox order).
///
/// An executor whose handlers never block (no I/O, no locks held for long, no
/// waiting on other actors) and return within microseconds (NoOp, a field
/// rename, a filter) may declare so:
///
///     static constexpr bool runs_on_scheduler = true;
///
/// Its replicas then run as scheduled actors on the flow's CAF workers
/// instead of on a thread each, so a request reaches them as the worker's
/// next job rather than by waking a sleeping thread (two thread hand-offs
/// less per replica hop). The contract is the executor's: a handler that
/// blocks or computes for long stalls the worker, and with it the heads, the
/// gateway and every other scheduled replica of the process. A type that
/// declares nothing (or `false`) gets a thread of its own per replica, the
/// safe side; a flow can override either way per executor with
/// `uses_metas: {runs_on_scheduler: false}` (README "Writing an executor").
///
/// A handler modifies the documents in place or replaces them, and may return
/// `Params` that go into the response's parameters (e.g. `{"count": 7}`).
/// A request to an endpoint with no handler and no default passes through
/// unchanged. A handler that throws fails that request only.
///
/// Thread-safety: one executor instance serves one replica, which calls it
/// from one thread at a time (two with `concurrent_reads`: one for its
/// reads, one for everything else). Executors of one shard that share state
/// (an index) must synchronise it themselves.
#pragma once

#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include "caflow/batching.hpp"
#include "caflow/document.hpp"
#include "caflow/errors.hpp"
#include "caflow/replication.hpp"
#include "caflow/value.hpp"

namespace caflow {

/// What an executor knows about where it runs: the counterpart of Jina's
/// `uses_with` and `metas`. Built by the runtime; copyable.
struct ExecutorContext {
  std::string name{};                    ///< the deployment's name, e.g. "indexer"
  std::string uses{};                    ///< the executor type name, e.g. "Indexer"
  Params uses_with = Params::object();   ///< constructor parameters
  Params uses_metas = Params::object();  ///< metas (workspace, name, ...)
  std::string workspace{};               ///< workspace root; "" when none is configured
  uint32_t shard_id = 0;                 ///< this replica's shard, in [0, shards)
  uint32_t shards = 1;                   ///< number of shards of the deployment
  uint32_t replica_id = 0;               ///< this replica's index within its shard
  uint32_t replicas = 1;                 ///< replicas per shard
  std::string config_dir{};  ///< directory of the flow's config file ("": built in code)
  /// Endpoints whose requests the replica gathers into batches.
  /// Default: none
  std::map<std::string, DynamicBatching> dynamic_batching{};

  /// `WORKSPACE/<name>`, where this executor persists ("" when no workspace).
  [[nodiscard]] std::string executor_workspace() const;

  /// `path` resolved against `config_dir` when it is relative (so a config's
  /// `uses_with` paths mean the same from any working directory, like its
  /// workspace); as given otherwise, or when the flow was built in code.
  [[nodiscard]] std::string resolve_path(const std::string& path) const;

  /// Typed `uses_with` lookups with a default for absent or null keys. A value
  /// of the wrong type throws caflow::Error (errc::invalid_argument) naming the
  /// executor and the key, e.g. "indexer: uses_with.metric: expected a string,
  /// got integer". Integers accept floats without a fraction (JSON clients).
  [[nodiscard]] bool get(std::string_view key, bool fallback) const;
  [[nodiscard]] int64_t get(std::string_view key, int64_t fallback) const;
  [[nodiscard]] int64_t get(std::string_view key, int fallback) const {
    return get(key, int64_t{fallback});
  }
  [[nodiscard]] double get(std::string_view key, double fallback) const;
  [[nodiscard]] std::string get(std::string_view key, const char* fallback) const;
  [[nodiscard]] std::string get(std::string_view key, std::string fallback) const;
};

/// CAF serialisation of a context: a node spawns a replica from it.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ExecutorContext& x) {
  return f(caf::meta::type_name("caflow::ExecutorContext"), x.name, x.uses, x.uses_with,
           x.uses_metas, x.workspace, x.shard_id, x.shards, x.replica_id, x.replicas, x.config_dir,
           x.dynamic_batching);
}

/// Base class of every executor (see the file comment).
class Executor {
 public:
  /// A bound endpoint: takes the documents (in/out) and the request's
  /// parameters, returns parameters to merge into the response.
  using Handler = std::function<Params(DocumentArray&, const Params&)>;

  explicit Executor(ExecutorContext ctx);
  virtual ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  /// Where this executor runs.
  [[nodiscard]] const ExecutorContext& context() const noexcept { return ctx_; }

  /// Runs the handler bound to `endpoint`, else the default (`*`), else
  /// leaves `docs` unchanged. Returns the handler's response parameters.
  /// Exceptions from the handler propagate to the caller (the replica).
  Params handle(std::string_view endpoint, DocumentArray& docs, const Params& params);

  /// Like handle(), for the write `stamp` of a replicated shard: the handler
  /// finds it in write_stamp() (caflow/replication.hpp).
  Params handle(std::string_view endpoint, DocumentArray& docs, const Params& params,
                const WriteStamp& stamp);

  /// True when `endpoint` has its own handler (not counting the default).
  [[nodiscard]] bool binds(std::string_view endpoint) const;

  /// The bound endpoints, sorted ("*" for the default).
  [[nodiscard]] std::vector<std::string> endpoints() const;

  /// Called once before the replica stops, e.g. to flush state.
  /// Default: does nothing.
  virtual void close() {}

 protected:
  /// The write being applied while a handler runs for handle(..., stamp);
  /// nullptr otherwise (a read, or an executor that is not replicated).
  [[nodiscard]] const WriteStamp* write_stamp() const noexcept { return stamp_; }

  /// Binds `endpoint` ("*" for the default) to a handler.
  void on(std::string endpoint, Handler handler);

  /// Binds `endpoint` to a member function `void f(DocumentArray&, const Params&)`.
  template <class T>
  void on(std::string endpoint, void (T::*fn)(DocumentArray&, const Params&)) {
    auto* self = static_cast<T*>(this);
    on(std::move(endpoint), [self, fn](DocumentArray& docs, const Params& params) {
      (self->*fn)(docs, params);
      return Params::object();
    });
  }

  /// Binds `endpoint` to a member function returning response parameters.
  template <class T>
  void on(std::string endpoint, Params (T::*fn)(DocumentArray&, const Params&)) {
    auto* self = static_cast<T*>(this);
    on(std::move(endpoint),
       [self, fn](DocumentArray& docs, const Params& params) { return (self->*fn)(docs, params); });
  }

 private:
  ExecutorContext ctx_;
  std::map<std::string, Handler, std::less<>> handlers_{};
  const WriteStamp* stamp_ = nullptr;
};

/// Makes an executor from its context.
using ExecutorFactory = std::function<std::unique_ptr<Executor>(ExecutorContext)>;

/// The process-wide table of executor types by name. Thread-safe.
class ExecutorRegistry {
 public:
  /// The process-wide registry.
  static ExecutorRegistry& instance();

  /// Registers `type`; a later registration of the same name replaces it.
  /// `stateful`: its replicas own data on the disk of the node they run on
  /// (e.g. Indexer), so a replica lost with its node is re-spawned on that
  /// node only; a stateless one (TfidfVectorizer, NoOp) anywhere.
  /// Returns true (so that it can initialise a static).
  bool add(std::string type, ExecutorFactory factory, bool stateful = false,
           bool replicated = false);

  /// Declares the default request parameters of `type`, computed from a
  /// replica's context (e.g. the Indexer's `top_k` from its
  /// `uses_with.default_top_k`). The head applies them where it acts on
  /// parameters itself: a reduce over shards cuts to the default `top_k`
  /// when the request gives none (or null). Returns true (so that it can
  /// initialise a static).
  bool declare_defaults(std::string type, std::function<Params(const ExecutorContext&)> defaults);

  /// The default request parameters of `ctx.uses` for `ctx`: an empty
  /// object when none are declared, or when computing them threw (the
  /// replica then reports the bad configuration itself).
  [[nodiscard]] Params defaults(const ExecutorContext& ctx) const;

  /// Declares the `uses_with` keys `type` knows (replacing earlier ones);
  /// Flow::validate refuses any other key. The registration macros call it
  /// when the class has a static `uses_with_keys` array. Returns true.
  bool declare_uses_with(std::string_view type, std::vector<std::string> keys);

  /// The `uses_with` keys `type` declared, sorted; nullopt when it declared
  /// none (any key is accepted) or is unknown.
  [[nodiscard]] std::optional<std::vector<std::string>> uses_with_keys(std::string_view type) const;

  /// Declares the endpoints of `type` that only read its data (replacing
  /// earlier ones); the registration macros call it when the class has a
  /// static `read_endpoints` array. Returns true.
  bool declare_reads(std::string_view type, std::vector<std::string> endpoints);

  /// The endpoints `type` declared as reads, sorted.
  [[nodiscard]] std::vector<std::string> read_endpoints(std::string_view type) const;

  /// Declares that the read endpoints of `type` may run beside its writes
  /// (replacing an earlier declaration); the registration macros call it
  /// when the class has `static constexpr bool concurrent_reads = true`.
  /// Returns true.
  bool declare_concurrent_reads(std::string_view type, bool concurrent = true);

  /// True when `type` declared concurrent reads.
  [[nodiscard]] bool concurrent_reads(std::string_view type) const;

  /// Declares that the replicas of `type` may run on the scheduler (see the
  /// file comment: its handlers never block and return in microseconds); the
  /// registration macros call it when the class has a static
  /// `runs_on_scheduler` member. Returns true.
  bool declare_runs_on_scheduler(std::string_view type, bool on);

  /// True when `type` declared runs_on_scheduler. Default: false (each
  /// replica on a thread of its own).
  [[nodiscard]] bool runs_on_scheduler(std::string_view type) const;

  /// True when `endpoint` of `type` changes its data: every endpoint of a
  /// stateful type but its declared reads; never for a stateless type.
  [[nodiscard]] bool writes(std::string_view type, std::string_view endpoint) const;

  /// True when `type` implements caflow::Replicated (its shards can be kept
  /// as several copies in step).
  [[nodiscard]] bool replicated(std::string_view type) const;

  /// True when `type` was registered as stateful.
  [[nodiscard]] bool stateful(std::string_view type) const;

  /// True when `type` is registered.
  [[nodiscard]] bool contains(std::string_view type) const;

  /// The registered names, sorted.
  [[nodiscard]] std::vector<std::string> names() const;

  /// Constructs an executor of type `ctx.uses`. An unknown name is
  /// errc::unknown_executor listing the known names; a constructor that
  /// throws is errc::executor_start_failed with its message.
  [[nodiscard]] caf::expected<std::unique_ptr<Executor>> create(ExecutorContext ctx) const;

 private:
  ExecutorRegistry() = default;
  struct Impl;
  std::shared_ptr<Impl> impl_ = make_impl();
  static std::shared_ptr<Impl> make_impl();
};

namespace detail {

/// Registers `Type` under `name` with its declared `uses_with` keys, if any
/// (the registration macros' body).
template <class Type>
bool register_executor(std::string name, bool stateful) {
  auto& registry = ExecutorRegistry::instance();
  registry.add(
    name,
    [](ExecutorContext ctx) -> std::unique_ptr<Executor> {
      return std::make_unique<Type>(std::move(ctx));
    },
    stateful, std::is_base_of_v<Replicated, Type>);
  if constexpr (requires { std::size(Type::read_endpoints); })
    registry.declare_reads(name, std::vector<std::string>(std::begin(Type::read_endpoints),
                                                          std::end(Type::read_endpoints)));
  if constexpr (requires { bool{Type::concurrent_reads}; })
    registry.declare_concurrent_reads(name, Type::concurrent_reads);
  if constexpr (requires { bool{Type::runs_on_scheduler}; })
    registry.declare_runs_on_scheduler(name, Type::runs_on_scheduler);
  if constexpr (requires { std::size(Type::uses_with_keys); })
    registry.declare_uses_with(name, std::vector<std::string>(std::begin(Type::uses_with_keys),
                                                              std::end(Type::uses_with_keys)));
  return true;
}

}  // namespace detail

}  // namespace caflow

/// Registers executor class `Type` under the name `Name` (a string).
#define CAFLOW_REGISTER_EXECUTOR_AS(Type, Name)                        \
  [[maybe_unused]] static const bool caflow_registered_executor_##Type \
    = ::caflow::detail::register_executor<Type>(Name, false)

/// Registers executor class `Type` under `Name` as stateful: its data lives
/// on the node it runs on (see ExecutorRegistry::add).
#define CAFLOW_REGISTER_STATEFUL_EXECUTOR_AS(Type, Name)               \
  [[maybe_unused]] static const bool caflow_registered_executor_##Type \
    = ::caflow::detail::register_executor<Type>(Name, true)

/// Registers executor class `Type` under its own name: `uses: Type`.
#define CAFLOW_REGISTER_EXECUTOR(Type) CAFLOW_REGISTER_EXECUTOR_AS(Type, #Type)
