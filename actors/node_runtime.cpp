// caflow::Node: an actor system with the middleman (and TLS), the node actor
// published on the node's port, and joining a flow's cluster port.
#include "caflow/node.hpp"

#include <caf/scoped_actor.hpp>

#include "actors/node.hpp"
#include "actors/system_shutdown.hpp"
#include "caflow/errors.hpp"
#include "caflow/plugin.hpp"
#include "caflow/type_ids.hpp"
#include "cluster/placement.hpp"
#include "cluster/transport.hpp"

namespace caflow {

struct Node::Impl {
  NodeOptions options;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  node_actor actor;
  uint16_t port = 0;

  // Waits (boundedly) for the node actor, which waits for its replicas:
  // destroying the actor system while they still terminate could leave the
  // system waiting for a replica's thread for good.
  void stop() {
    if (!actor)
      return;
    detail::ReleaseThreadHold release;
    {
      caf::scoped_actor self{*sys};
      self->monitor(actor);
      self->send_exit(actor, caf::exit_reason::user_shutdown);
      self->receive([](const caf::down_msg&) {}, caf::after(std::chrono::seconds(10)) >> [] {});
    }
    actor = nullptr;
  }

  // Stops the node, then ends its actor system within a bound (see
  // actors/system_shutdown.hpp).
  ~Impl() {
    stop();
    detail::shut_down(std::move(sys), std::move(cfg), std::chrono::seconds(10), "node");
  }
};

caf::expected<Node> Node::start(NodeOptions options) {
  detail::ReleaseThreadHold release;
  if (auto err = load_plugins(options.plugins))
    return err;
  auto impl = std::make_unique<Impl>();
  impl->cfg = std::make_unique<caf::actor_system_config>();
  add_types(*impl->cfg);
  configure_scheduler(*impl->cfg);
  if (auto err = detail::configure_network(*impl->cfg, options.tls))
    return err;
  impl->sys = std::make_unique<caf::actor_system>(*impl->cfg);
  auto log = options.log ? options.log : [](const std::string&) {};
  impl->actor = impl->sys->spawn(actors::node, options.workspace, log);
  auto port = detail::publish(*impl->sys, impl->actor, options.port, options.host);
  if (!port) {
    impl->stop();
    return make_error(errc::io_error, "cannot listen on " + options.host + ":"
                                        + std::to_string(options.port) + ": "
                                        + caf::to_string(port.error()));
  }
  impl->port = *port;
  impl->options = std::move(options);
  return Node{std::move(impl)};
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
}

Node::Node(Node&&) noexcept = default;

Node& Node::operator=(Node&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Node::~Node() {
  stop();
}

void Node::stop() {
  if (impl_)
    impl_->stop();
}

uint16_t Node::port() const {
  return impl_->port;
}

std::string Node::address() const {
  const auto& o = impl_->options;
  return (o.advertise.empty() ? o.host : o.advertise) + ":" + std::to_string(impl_->port);
}

caf::error Node::join(const std::string& flow_host_port) {
  detail::ReleaseThreadHold release;
  auto where = detail::parse_node_address(flow_host_port);
  if (!where)
    return where.error();
  auto flow = detail::connect<cluster_actor>(*impl_->sys, where->host, where->port);
  if (!flow)
    return make_error(errc::unavailable,
                      "cannot join the flow at " + flow_host_port + ": "
                        + detail::describe_connect_error(*impl_->sys, flow.error()));
  caf::error result;
  caf::scoped_actor self{*impl_->sys};
  self->request(*flow, std::chrono::seconds(30), enroll_atom::value, impl_->actor, address())
    .receive([](ok_atom) {},
             [&](caf::error& err) {
               result = make_error(errc::unavailable,
                                   "the flow at " + flow_host_port
                                     + " refused to enroll this node: " + describe(err));
             });
  return result;
}

}  // namespace caflow
