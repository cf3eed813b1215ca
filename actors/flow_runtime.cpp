// Flow::start and RunningFlow: spawning heads and the gateway on an actor
// system, waiting for readiness, posting, stopping.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string_view>
#include <thread>
#include <variant>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/cluster.hpp"
#include "actors/flow_cluster.hpp"
#include "actors/gateway.hpp"
#include "actors/head.hpp"
#include "actors/system_shutdown.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/plugin.hpp"
#include "caflow/type_ids.hpp"
#include "cluster/placement.hpp"
#include "cluster/transport.hpp"
#include "config/flow_graph.hpp"
#include "runtime/affine_sharing.hpp"
#include "runtime/doc_filter.hpp"
#include "runtime/flow_identity.hpp"
#include "runtime/post.hpp"
#include "runtime/scale_bounds.hpp"

namespace caflow {

struct RunningFlow::Impl {
  std::unique_ptr<caf::actor_system_config> cfg;  // set when caflow owns the system
  std::unique_ptr<caf::actor_system> own;
  caf::actor_system* sys = nullptr;
  Flow flow;
  std::vector<head_actor> heads;
  cluster_actor cluster;      // set when the flow uses the network
  uint16_t cluster_port = 0;  // bound cluster port (0: not published)
  gateway_actor gateway;
  bool stopped = false;

  // Stops the actors, then ends the flow's own actor system (if it has
  // one) within a bound: see actors/system_shutdown.hpp.
  ~Impl() {
    stop_all();
    detail::shut_down(std::move(own), std::move(cfg), std::chrono::seconds(10),
                      ("flow '" + flow.options().name + "'").c_str());
  }

  // Spawns heads, waits until every replica is ready, spawns the gateway.
  caf::error spawn(caf::actor_system& system, const Flow& description);

  void stop_all() {
    if (stopped || sys == nullptr)
      return;
    detail::ReleaseThreadHold release;
    stopped = true;
    caf::scoped_actor self{*sys};
    if (gateway)
      self->send_exit(gateway, caf::exit_reason::user_shutdown);
    // Each head stops its replicas and answers once they are gone, so
    // executors have closed (storage flushed) when stop returns.
    for (auto& h : heads)
      self->request(h, std::chrono::seconds(60), stop_atom::value)
        .receive([](ok_atom) {}, [](caf::error&) {});
    heads.clear();
    // Nodes watch the cluster actor: when it goes, they drop whatever
    // replicas of this flow they still host.
    if (cluster)
      self->send_exit(cluster, caf::exit_reason::user_shutdown);
    cluster = nullptr;
    gateway = nullptr;
  }
};

void configure_scheduler(caf::actor_system_config& cfg) {
  // Heads and the gateway only sequence messages; replicas are detached and
  // bring their own threads. CAF's default work-stealing workers back off to
  // 10 ms sleeps when idle, which turns every quiet hop into a 10 ms wait;
  // work sharing wakes a worker through a condition variable, and
  // AffineSharing (runtime/affine_sharing.hpp) does so only for messages
  // from outside the workers: a hop between scheduled actors runs on the
  // sender's worker. CAFLOW_SCHEDULER=sharing picks CAF's own work sharing
  // (to compare the two).
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads",
          static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
  const char* which = std::getenv("CAFLOW_SCHEDULER");
  if (which == nullptr || std::string_view{which} != "sharing")
    detail::use_affine_sharing(cfg);
}

namespace {

// "flow.yml:12: executors[1] (indexer): " for a deployment loaded from YAML,
// so that an executor that fails to start points at its config entry.
std::string origin_prefix(const DeploymentOptions& d) {
  if (d.origin.file.empty())
    return {};
  return d.origin.file + ":" + std::to_string(d.origin.line) + ": executors["
         + std::to_string(d.origin.index) + "] (" + d.name + "): ";
}

// Replicas build their executors concurrently; wait for each head in turn.
// A failure names the deployment's place in the config.
caf::error await_ready(caf::actor_system& sys, const std::vector<head_actor>& heads,
                       const std::vector<DeploymentOptions>& deps) {
  caf::scoped_actor self{sys};
  caf::error result;
  for (size_t i = 0; i < heads.size(); ++i) {
    self->request(heads[i], std::chrono::minutes(10), ping_atom::value)
      .receive([](ok_atom) {},
               [&](caf::error& err) {
                 if (!result)
                   result = std::move(err);
               });
    if (result) {
      auto prefix = i < deps.size() ? origin_prefix(deps[i]) : std::string{};
      if (!prefix.empty() && result.category() == error_category)
        result = make_error(static_cast<errc>(result.code()), prefix + error_message(result));
      break;
    }
  }
  return result;
}

}  // namespace

caf::error RunningFlow::Impl::spawn(caf::actor_system& system, const Flow& description) {
  sys = &system;
  flow = description;
  const auto& deps = flow.deployments();
  if (detail::needs_cluster(flow)) {
    if (!system.has_middleman())
      return make_error(errc::invalid_argument,
                        "this flow places replicas on nodes or listens for them, but its actor "
                        "system has no middleman (load caf::io::middleman in its config)");
    actors::cluster_options watch;
    watch.heartbeat_interval = flow.options().heartbeat_interval;
    watch.heartbeat_misses = flow.options().heartbeat_misses;
    cluster = system.spawn(actors::cluster, detail::connector(system), std::move(watch));
    if (auto port = flow.options().cluster_port; port != 0) {
      auto bound = detail::publish(system, cluster, port, flow.options().host);
      if (!bound) {
        stop_all();
        return make_error(errc::io_error, "cluster port " + flow.options().host + ":"
                                            + std::to_string(port) + ": "
                                            + caf::to_string(bound.error()));
      }
      cluster_port = *bound;
    }
  }
  for (auto spec : deps) {
    // Jina's metas.workspace is the deployment's workspace (the YAML loader
    // maps it; a flow built in code may set it too).
    if (const auto* ws = spec.uses_metas.find("workspace");
        spec.workspace.empty() && ws != nullptr && ws->is_string())
      spec.workspace = ws->as_string();
    if (spec.workspace.empty())
      spec.workspace = flow.options().workspace;
    if (ExecutorRegistry::instance().stateful(spec.uses)) {
      for (const auto& warning : detail::apply_stateful_defaults(spec))
        std::cerr << "WARNING: " << warning << '\n';
      auto id = detail::flow_identity(spec.workspace, flow.options().name);
      if (!id) {
        stop_all();
        return std::move(id.error());
      }
      spec.uses_metas["flow_id"] = *id;
    }
    actors::head_setup setup;
    setup.cluster = cluster;
    if (cluster) {
      auto placed = detail::place_deployment(system, cluster, spec, flow.options());
      if (!placed) {
        stop_all();
        return std::move(placed.error());
      }
      setup.placed = std::move(*placed);
    }
    auto name = spec.name;
    heads.push_back(system.spawn(actors::head, std::move(spec), std::move(setup)));
    if (cluster)
      caf::anon_send(cluster, head_atom::value, name, heads.back());
  }
  if (auto err = await_ready(system, heads, deps)) {
    stop_all();
    return err;
  }
  auto needs = detail::needs_indices(deps);
  std::vector<actors::gateway_deployment> deployments;
  for (size_t i = 0; i < deps.size(); ++i) {
    deployments.push_back({deps[i].name, heads[i], needs[i]});
    // validate() compiled it once already; an empty filter takes everything.
    if (deps[i].when.is_object() && deps[i].when.size() > 0)
      if (auto f = detail::DocFilter::compile(deps[i].when);
          auto* ok = std::get_if<detail::DocFilter>(&f))
        deployments.back().when = std::move(*ok);
  }
  gateway = system.spawn(actors::gateway, std::move(deployments), flow.options().max_in_flight,
                         cluster);
  return {};
}

namespace {

// Plugins first: they register the executor types validate() checks.
caf::error load_and_validate(const Flow& flow) {
  if (auto err = load_plugins(flow.options().plugins))
    return err;
  return flow.validate();
}

}  // namespace

caf::expected<RunningFlow> Flow::start() const {
  detail::ReleaseThreadHold release;
  if (auto err = load_and_validate(*this))
    return err;
  auto impl = std::make_unique<RunningFlow::Impl>();
  impl->cfg = std::make_unique<caf::actor_system_config>();
  add_types(*impl->cfg);
  configure_scheduler(*impl->cfg);
  // The middleman (a network thread) only when the flow talks to nodes.
  if (detail::needs_cluster(*this))
    if (auto err = detail::configure_network(*impl->cfg, options_.tls))
      return err;
  impl->own = std::make_unique<caf::actor_system>(*impl->cfg);
  if (auto err = impl->spawn(*impl->own, *this))
    return err;
  return RunningFlow{std::move(impl)};
}

caf::expected<RunningFlow> Flow::start(caf::actor_system& sys) const {
  detail::ReleaseThreadHold release;
  if (auto err = load_and_validate(*this))
    return err;
  auto impl = std::make_unique<RunningFlow::Impl>();
  if (auto err = impl->spawn(sys, *this))
    return err;
  return RunningFlow{std::move(impl)};
}

RunningFlow::RunningFlow(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
}

RunningFlow::RunningFlow(RunningFlow&&) noexcept = default;

RunningFlow& RunningFlow::operator=(RunningFlow&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

RunningFlow::~RunningFlow() {
  stop();
}

void RunningFlow::stop() {
  if (impl_)
    impl_->stop_all();
}

caf::expected<PostResult> RunningFlow::post(const std::string& endpoint, DocumentArray docs,
                                            PostOptions options) {
  if (!impl_ || impl_->stopped)
    return make_error(errc::unavailable, "the flow is stopped");
  return detail::post_through(*impl_->sys, impl_->gateway, endpoint, std::move(docs),
                              std::move(options));
}

const gateway_actor& RunningFlow::gateway() const {
  return impl_->gateway;
}

head_actor RunningFlow::head(const std::string& name) const {
  const auto& deps = impl_->flow.deployments();
  for (size_t i = 0; i < deps.size() && i < impl_->heads.size(); ++i)
    if (deps[i].name == name)
      return impl_->heads[i];
  return {};
}

caf::error RunningFlow::scale(const std::string& deployment, uint32_t replicas) {
  detail::ReleaseThreadHold release;
  if (!impl_ || impl_->stopped)
    return make_error(errc::unavailable, "the flow is stopped");
  auto h = head(deployment);
  if (!h)
    return make_error(errc::not_found, "no deployment '" + deployment + "' in this flow");
  if (auto err = detail::check_scale_replicas(deployment, replicas))
    return err;
  caf::error result;
  caf::scoped_actor self{*impl_->sys};
  self->request(h, std::chrono::minutes(2), scale_atom::value, replicas)
    .receive([](ok_atom) {}, [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::error RunningFlow::join_node(const std::string& host_port) {
  detail::ReleaseThreadHold release;
  if (!impl_ || impl_->stopped)
    return make_error(errc::unavailable, "the flow is stopped");
  if (!impl_->cluster)
    return make_error(errc::invalid_argument,
                      "this flow has no cluster (give it nodes, hosts or a cluster_port)");
  auto addr = detail::parse_node_address(host_port);
  if (!addr)
    return addr.error();
  auto node = detail::connect<node_actor>(*impl_->sys, addr->host, addr->port);
  if (!node)
    return make_error(errc::unavailable,
                      "node " + host_port + " unreachable: "
                        + detail::describe_connect_error(*impl_->sys, node.error()));
  caf::error result;
  caf::scoped_actor self{*impl_->sys};
  self->request(impl_->cluster, std::chrono::seconds(30), enroll_atom::value, *node, host_port)
    .receive([](ok_atom) {}, [&](caf::error& err) { result = std::move(err); });
  return result;
}

std::vector<ReplicaPlacement> RunningFlow::placement() const {
  detail::ReleaseThreadHold release;
  std::vector<ReplicaPlacement> out;
  if (!impl_ || impl_->stopped)
    return out;
  caf::scoped_actor self{*impl_->sys};
  const auto& deps = impl_->flow.deployments();
  for (size_t i = 0; i < impl_->heads.size() && i < deps.size(); ++i)
    self->request(impl_->heads[i], std::chrono::seconds(10), status_atom::value)
      .receive(
        [&](Value& status) {
          const Value* placed = status.find("placement");
          if (!placed || !placed->is_array())
            return;
          for (const auto& p : placed->as_array())
            out.push_back({deps[i].name, static_cast<uint32_t>(p.get_int("shard", 0)),
                           static_cast<uint32_t>(p.get_int("replica", 0)),
                           p.get_string("node", "local"), p.get_bool("alive", true)});
        },
        [](caf::error&) {});
  return out;
}

uint16_t RunningFlow::cluster_port() const {
  return impl_ ? impl_->cluster_port : 0;
}

caf::actor_system& RunningFlow::system() const {
  return *impl_->sys;
}

const Flow& RunningFlow::flow() const {
  return impl_->flow;
}

}  // namespace caflow
