// Flow::start and RunningFlow: spawning heads and the gateway on an actor
// system, waiting for readiness, posting, stopping.
#include <chrono>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/gateway.hpp"
#include "actors/head.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/plugin.hpp"
#include "caflow/type_ids.hpp"
#include "config/flow_graph.hpp"
#include "runtime/post.hpp"

namespace caflow {

struct RunningFlow::Impl {
  std::unique_ptr<caf::actor_system_config> cfg;  // set when caflow owns the system
  std::unique_ptr<caf::actor_system> own;
  caf::actor_system* sys = nullptr;
  Flow flow;
  std::vector<head_actor> heads;
  gateway_actor gateway;
  caf::actor gateway_handle;
  bool stopped = false;

  // Spawns heads, waits until every replica is ready, spawns the gateway.
  caf::error spawn(caf::actor_system& system, const Flow& description);

  void stop_all() {
    if (stopped)
      return;
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
    gateway = nullptr;
    gateway_handle = nullptr;
  }
};

void configure_scheduler(caf::actor_system_config& cfg) {
  // Heads and the gateway only sequence messages; replicas are detached and
  // bring their own threads. CAF's default work-stealing workers back off to
  // 10 ms sleeps when idle, which turns every quiet hop into a 10 ms wait;
  // the work-sharing policy wakes a worker through a condition variable.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads",
          static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
}

namespace {

// Replicas build their executors concurrently; wait for each head in turn.
caf::error await_ready(caf::actor_system& sys, const std::vector<head_actor>& heads) {
  caf::scoped_actor self{sys};
  caf::error result;
  for (auto& h : heads) {
    self->request(h, std::chrono::minutes(10), ping_atom::value)
      .receive([](ok_atom) {}, [&](caf::error& err) {
        if (!result)
          result = std::move(err);
      });
    if (result)
      break;
  }
  return result;
}

}  // namespace

caf::error RunningFlow::Impl::spawn(caf::actor_system& system, const Flow& description) {
  sys = &system;
  flow = description;
  const auto& deps = flow.deployments();
  for (auto spec : deps) {
    if (spec.workspace.empty())
      spec.workspace = flow.options().workspace;
    heads.push_back(system.spawn(actors::head, std::move(spec)));
  }
  if (auto err = await_ready(system, heads)) {
    stop_all();
    return err;
  }
  auto needs = detail::needs_indices(deps);
  std::vector<actors::gateway_node> nodes;
  for (size_t i = 0; i < deps.size(); ++i)
    nodes.push_back({deps[i].name, heads[i], needs[i]});
  gateway = system.spawn(actors::gateway, std::move(nodes), flow.options().max_in_flight);
  gateway_handle = caf::actor_cast<caf::actor>(gateway);
  return {};
}

caf::expected<RunningFlow> Flow::start() const {
  // Plugins first: they register the executor types validate() checks.
  if (auto err = load_plugins(options_.plugins))
    return err;
  if (auto err = validate())
    return err;
  auto impl = std::make_unique<RunningFlow::Impl>();
  impl->cfg = std::make_unique<caf::actor_system_config>();
  add_types(*impl->cfg);
  configure_scheduler(*impl->cfg);
  impl->own = std::make_unique<caf::actor_system>(*impl->cfg);
  if (auto err = impl->spawn(*impl->own, *this))
    return err;
  return RunningFlow{std::move(impl)};
}

caf::expected<RunningFlow> Flow::start(caf::actor_system& sys) const {
  if (auto err = load_plugins(options_.plugins))
    return err;
  if (auto err = validate())
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

const caf::actor& RunningFlow::gateway() const {
  return impl_->gateway_handle;
}

caf::actor RunningFlow::head(const std::string& name) const {
  const auto& deps = impl_->flow.deployments();
  for (size_t i = 0; i < deps.size() && i < impl_->heads.size(); ++i)
    if (deps[i].name == name)
      return caf::actor_cast<caf::actor>(impl_->heads[i]);
  return {};
}

caf::actor_system& RunningFlow::system() const {
  return *impl_->sys;
}

const Flow& RunningFlow::flow() const {
  return impl_->flow;
}

}  // namespace caflow
