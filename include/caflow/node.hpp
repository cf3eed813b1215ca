/// Node daemons: processes that host replicas for flows on other machines.
///
/// A node publishes an actor on its port; a flow whose deployments name the
/// node in `hosts:` (or `with: {nodes: [...]}`) spawns replicas there, and a
/// node started with `join` registers itself with a running flow's cluster
/// port so that `scale` and re-spawns may use it. Replicas on a node keep
/// their data under the node's own workspace.
///
///   caflow::NodeOptions options;
///   options.workspace = "/var/lib/caflow";
///   auto node = caflow::Node::start(options);
///   if (!node) { std::cerr << caflow::describe(node.error()); return 1; }
///   std::cout << "node ready on " << node->address() << '\n';
///   if (auto err = node->join("10.0.0.1:4000")) ...
///
/// Thread-safety: a Node may be used from any thread; it stops (and stops
/// the replicas it hosts) when destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "caflow/flow.hpp"

namespace caflow {

/// Settings of a node daemon.
struct NodeOptions {
  /// Bind address. Default: 127.0.0.1 (loopback only).
  std::string host = "127.0.0.1";
  /// The host flows should use to reach this node, in address() and when
  /// joining (needed when `host` is 0.0.0.0). Default: "" (= host).
  std::string advertise{};
  /// Port. Default: 0 (the kernel picks a free one; see Node::port).
  uint16_t port = 0;
  /// Workspace root of every replica hosted here (replaces the flow's).
  /// Default: "" (no workspace).
  std::string workspace{};
  /// Shared libraries with executors, loaded before the node listens.
  std::vector<std::string> plugins{};
  /// TLS: the node accepts and joins only peers whose certificates the CA
  /// signed. Default: off.
  TlsOptions tls{};
  /// Receives each log line ("hosting indexer/shard-1/replica-0 (Indexer)").
  /// Called from caflow threads. Default: none.
  std::function<void(const std::string&)> log{};
};

/// A running node daemon (see the file comment). Move-only.
class Node {
 public:
  /// Loads plugins, starts an actor system and publishes the node's actor.
  static caf::expected<Node> start(NodeOptions options);

  Node(Node&&) noexcept;
  Node& operator=(Node&&) noexcept;
  ~Node();

  /// The bound port.
  [[nodiscard]] uint16_t port() const;
  /// HOST:PORT, as flows name this node.
  [[nodiscard]] std::string address() const;

  /// Registers this node with the flow whose cluster port is at
  /// `flow_host_port`. Fails naming the flow when it cannot be reached or
  /// refuses (e.g. a TLS peer without a certificate the CA signed).
  [[nodiscard]] caf::error join(const std::string& flow_host_port);

  /// Stops the node and every replica it hosts (idempotent).
  void stop();

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_{};
};

}  // namespace caflow
