/// Flows: deployments of executors, started as actors and fed with documents.
///
/// A Flow is a description (built in code or loaded from YAML in Jina's
/// schema); `start()` spawns it on an actor system and returns a RunningFlow
/// once every replica is ready. The running flow stops when it is destroyed.
///
///   caflow::Flow flow;
///   flow.add({.name = "vectorizer", .uses = "TfidfVectorizer", .replicas = 2})
///       .add({.name = "indexer", .uses = "Indexer", .shards = 2,
///             .polling = {{"/index", "ANY"}, {"/search", "ALL"}}});
///   auto running = flow.start();
///   if (!running) { std::cerr << caflow::describe(running.error()); return 1; }
///   auto result = running->post("/search", queries, {.parameters = {{"top_k", 5}}});
///
/// YAML (Jina's schema; durations in milliseconds):
///
///   jtype: Flow
///   with: {port: 8080, workspace: ./workspace}
///   executors:
///     - name: indexer
///       uses: Indexer
///       shards: 2
///       polling: {/index: ANY, /search: ALL, '*': ALL}
///       uses_with: {metric: cosine}
///       hosts: [10.0.0.2:4242, 10.0.0.3:4242]   # node daemons; `local` = here
///
/// Placement on nodes (see README "A cluster"): a deployment's slots, numbered
/// shard-major (shard * replicas + replica), go round robin over its `hosts:`
/// (else the flow's `with: {nodes: [...]}`; neither: all local).
///
/// Thread-safety: a Flow is a plain value. A RunningFlow may be used from
/// several threads at once (each post runs its own client actor).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "caflow/batching.hpp"
#include "caflow/document.hpp"
#include "caflow/messages.hpp"
#include "caflow/polling.hpp"
#include "caflow/value.hpp"

namespace caflow {

/// Where a setting came from, for error messages: "flow.yml:12".
struct ConfigOrigin {
  std::string file{};                      ///< config file ("" when built in code)
  std::map<std::string, int> key_lines{};  ///< key -> 1-based line, e.g. "replicas" -> 12
  int line = 0;                            ///< line of the deployment's entry
  int index = -1;                          ///< position in `executors:` (-1: in code)
};

/// One executor in a flow, with its replicas, shards and polling.
struct DeploymentOptions {
  std::string name{};                    ///< unique within the flow
  std::string uses{};                    ///< executor type name
  Params uses_with = Params::object();   ///< constructor parameters
  Params uses_metas = Params::object();  ///< metas
  std::string workspace{};               ///< Default: the flow's workspace
  uint32_t replicas = 1;                 ///< replicas per shard. Default: 1
  uint32_t shards = 1;                   ///< data partitions. Default: 1
  Polling polling{};                     ///< Default: /search ALL, else ANY
  std::vector<std::string> needs{};      ///< Default: the previous deployment
  /// Which documents this deployment takes (YAML `when`), in the subset of
  /// DocArray's query language that Jina documents, e.g.
  /// `{{"tags__price", {{"$gt", 5}}}}`: fields `id text uri mime_type
  /// parent_id tags__K[__K2..] scores__NAME embedding__dim`, operators `$eq
  /// $ne $lt $lte $gt $gte $in $nin $exists $regex`, nested with `$and` /
  /// `$or`. The other documents skip the deployment and rejoin its output at
  /// their positions, so a flow can branch (README "Branching with when").
  /// Checked by validate(). Default: {} (every document)
  Params when = Params::object();
  /// Per request, per shard. Default: 0 (none): wait as long as it takes.
  std::chrono::milliseconds timeout{0};
  /// Retries of a request whose replica died, on another replica of the same
  /// shard (so only with replicas > 1). Default: 1
  uint32_t retries = 1;
  /// A replicated stateful executor (caflow/replication.hpp) with
  /// `replicas: R` keeps R copies of each shard: a write is acknowledged once
  /// this many in-sync copies applied it (YAML `write_consistency`), 0 = all
  /// of them. Fewer is faster but lets a read miss an acknowledged write
  /// (README "Replicated stateful shards"). Default: 0 (all in-sync copies)
  uint32_t write_consistency = 0;
  /// An executor type the head runs on each request before the shards, e.g.
  /// to route or enrich (YAML `uses_before`; see caflow/shard_answers.hpp).
  /// Default: "" (none)
  std::string uses_before{};
  /// uses_with of the uses_before executor (YAML `uses_before_with`).
  Params uses_before_with = Params::object();
  /// An executor type that replaces the built-in reduce: the head hands it
  /// every shard's answer, one Document per shard in shard order, with the
  /// failed shards marked (YAML `uses_after`; the exact form:
  /// caflow/shard_answers.hpp). Default: "" (the built-in reduce)
  std::string uses_after{};
  /// uses_with of the uses_after executor (YAML `uses_after_with`).
  Params uses_after_with = Params::object();
  /// Endpoints whose small requests each replica gathers into batches
  /// (YAML `uses_dynamic_batching`; see caflow/batching.hpp). Default: none
  std::map<std::string, DynamicBatching> dynamic_batching{};
  ConfigOrigin origin{};  ///< set by the YAML loader
};

/// TLS between a flow and its nodes (CAF's OpenSSL module): every peer shows
/// a certificate signed by `ca` and checks the other's. All three or none.
struct TlsOptions {
  std::string cert{};  ///< PEM certificate of this process
  std::string key{};   ///< PEM private key of `cert`
  std::string ca{};    ///< PEM certificate of the CA that signs every peer

  /// True when any of the three is set.
  [[nodiscard]] bool enabled() const noexcept {
    return !cert.empty() || !key.empty() || !ca.empty();
  }
};

/// Where one replica runs (RunningFlow::placement).
struct ReplicaPlacement {
  std::string deployment{};
  uint32_t shard = 0;
  uint32_t replica = 0;
  std::string node{};  ///< "local" or the node's HOST:PORT
  bool alive = true;   ///< false while lost or being (re)spawned
};

/// One gateway listener of a flow: a protocol on a port.
struct GatewayOptions {
  std::string protocol = "http";  ///< "http", "grpc" or "websocket"
  uint16_t port = 8080;           ///< its port (0: any free one)

  friend bool operator==(const GatewayOptions&, const GatewayOptions&) = default;
};

/// Flow-wide settings (YAML: `with:`).
struct FlowOptions {
  std::string name = "flow";  ///< for logs and metrics
  /// The (first) gateway's protocol: "http", "grpc" or "websocket".
  /// Default: http
  std::string protocol = "http";
  std::string host = "127.0.0.1";  ///< gateway bind address. Default: loopback
  uint16_t port = 8080;            ///< the (first) gateway's port. Default: 8080
  /// Gateways beside the first, as Jina's `protocol: [grpc, http]` with
  /// `port: [P1, P2]` gives them. Default: none
  std::vector<GatewayOptions> more_gateways{};
  std::string workspace{};             ///< default workspace of deployments
  std::vector<std::string> plugins{};  ///< shared libraries with executors
  /// Requests in flight in the gateway before it answers "overloaded".
  /// Default: 1000
  uint32_t max_in_flight = 1000;
  /// Nodes (HOST:PORT) that host the replicas of every deployment that names
  /// no `hosts:` (YAML `with: {nodes: [...]}`), placed round robin. Default:
  /// none (every replica in the flow's process).
  std::vector<std::string> nodes{};
  /// Port of the flow's cluster control actor, where nodes join
  /// (`caflow node --join`) and `caflow scale` talks; bound on `host`.
  /// Default: 0 (off).
  uint16_t cluster_port = 0;
  /// TLS towards nodes and on the cluster port. Default: off (plain TCP).
  TlsOptions tls{};
  /// How often the flow pings each node (YAML `heartbeat_interval`, in ms).
  /// A node that leaves `heartbeat_misses` pings in a row unanswered (hung,
  /// e.g. SIGSTOP) is treated like a lost node until it answers again.
  /// Default: 1000 ms; 0 turns heartbeats off.
  std::chrono::milliseconds heartbeat_interval{1000};
  /// Unanswered pings before a node counts as hung. Default: 3
  uint32_t heartbeat_misses = 3;

  /// Every gateway: {protocol, port} first, then more_gateways.
  [[nodiscard]] std::vector<GatewayOptions> gateways() const {
    std::vector<GatewayOptions> all{{protocol, port}};
    all.insert(all.end(), more_gateways.begin(), more_gateways.end());
    return all;
  }
};

/// Options of RunningFlow::post.
struct PostOptions {
  /// Documents per request. Default: 100
  size_t request_size = 100;
  /// Requests in flight at once. Default: 16
  size_t prefetch = 16;
  /// Parameters sent with every request.
  Params parameters = Params::object();
  /// Only this deployment runs the request ("" = all).
  std::string target_executor{};
  /// Called after each request completes, from a caflow thread: done and
  /// total are request counts. Must not block.
  std::function<void(size_t done, size_t total)> on_progress{};
};

/// What a post returns: the documents in input order and the reduced
/// response parameters.
struct PostResult {
  DocumentArray docs{};
  Params parameters = Params::object();
  /// Shards that failed a part of the work (their part is missing).
  uint32_t failed_shards = 0;
  /// One line per failure, e.g. "indexer/shard-1: timeout".
  std::vector<std::string> failures{};
};

class RunningFlow;

/// A flow description (see the file comment).
class Flow {
 public:
  Flow() = default;
  explicit Flow(FlowOptions options) : options_(std::move(options)) {}

  /// Loads a flow from a YAML file. Errors name file, line and key.
  static caf::expected<Flow> load(const std::string& path);
  /// Parses a flow from YAML text; `file` names it in errors.
  static caf::expected<Flow> parse(const std::string& yaml, const std::string& file = "<yaml>");

  /// Appends a deployment.
  Flow& add(DeploymentOptions deployment);

  /// Flow-wide settings.
  [[nodiscard]] const FlowOptions& options() const noexcept { return options_; }
  [[nodiscard]] FlowOptions& options() noexcept { return options_; }
  /// The deployments in order.
  [[nodiscard]] const std::vector<DeploymentOptions>& deployments() const noexcept {
    return deployments_;
  }

  /// Checks names, executor types, replicas/shards, polling and needs
  /// (unknown names, cycles). Errors name file, line and key when loaded
  /// from YAML.
  [[nodiscard]] caf::error validate() const;

  /// Starts the flow on its own actor system; returns when every replica is
  /// ready, or fails naming the executor that could not start and why.
  [[nodiscard]] caf::expected<RunningFlow> start() const;
  /// Starts the flow on a host program's actor system, which must have been
  /// configured with caflow::add_types and must outlive the RunningFlow.
  [[nodiscard]] caf::expected<RunningFlow> start(caf::actor_system& sys) const;

 private:
  FlowOptions options_;
  std::vector<DeploymentOptions> deployments_{};
};

/// A started flow. Move-only; stops the flow (and its actor system, when it
/// owns one) on destruction.
class RunningFlow {
 public:
  RunningFlow(RunningFlow&&) noexcept;
  RunningFlow& operator=(RunningFlow&&) noexcept;
  ~RunningFlow();

  /// Sends `docs` to `endpoint` in requests of `request_size` documents,
  /// at most `prefetch` in flight, and returns the documents in input order.
  /// Fails with the first request's error when a request fails entirely.
  caf::expected<PostResult> post(const std::string& endpoint, DocumentArray docs,
                                 PostOptions options = {});

  /// The gateway actor, for the HTTP and gRPC front doors and other actors.
  [[nodiscard]] const gateway_actor& gateway() const;

  /// The head actor of deployment `name`, or an invalid handle when there is
  /// none. For status queries and tests.
  [[nodiscard]] head_actor head(const std::string& name) const;

  /// Changes the replicas per shard of a running deployment. New replicas go
  /// to the least-loaded nodes (fewest replicas hosted; local when the flow
  /// knows no node); removed ones first stop taking requests, finish those
  /// they hold, then stop. No request in flight fails. Returns once the new
  /// replicas are placed.
  [[nodiscard]] caf::error scale(const std::string& deployment, uint32_t replicas);

  /// Registers node HOST:PORT with the flow (as `caflow node --join` does),
  /// so that scale and re-spawns may place replicas on it.
  [[nodiscard]] caf::error join_node(const std::string& host_port);

  /// Where every replica runs, deployment by deployment, shard-major.
  [[nodiscard]] std::vector<ReplicaPlacement> placement() const;

  /// The port of the cluster control actor (0 when off).
  [[nodiscard]] uint16_t cluster_port() const;

  /// The actor system the flow runs on.
  [[nodiscard]] caf::actor_system& system() const;

  /// The flow as started.
  [[nodiscard]] const Flow& flow() const;

  /// Stops every actor of the flow (idempotent). Waits for replicas to close
  /// their executors.
  void stop();

 private:
  friend class Flow;
  struct Impl;
  explicit RunningFlow(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_{};
};

}  // namespace caflow
