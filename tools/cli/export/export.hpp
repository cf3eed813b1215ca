// `caflow export`: a flow config as Kubernetes manifests or a docker compose
// project (pure functions from the config to file texts; the command writes
// them).
//
// The topology is the same in both: every distinct node address that the
// flow names (`with: {nodes}` and every deployment's `hosts:`, in the order
// they first appear) becomes one node daemon — pod `NAME-node-I` of a
// StatefulSet (a PersistentVolumeClaim each for its workspace, stable DNS
// names through a headless Service), or compose service `NAME-node-I` with a
// named volume. The flow runs `caflow flow` in one Deployment (a PVC for the
// workspace of its local executors) behind a Service with the gateway port
// and the cluster port; readiness, liveness and startup probes run `caflow
// ping`. The config travels as a ConfigMap (compose: a config file) with
// `hosts:`/`nodes:` rewritten to the node daemons' names and with the
// workspace, TLS and plugin paths rewritten to the container's; TLS material
// (`with.tls`) becomes a kubernetes.io/tls Secret (compose: secrets) that
// nodes and the flow mount.
//
//   auto files = exporter::kubernetes("flow.yml", {.ns = "search"});
//   for (auto& f : *files) write(outdir / f.path, f.text);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "caflow/flow.hpp"

namespace caflow::cli::exporter {

/// Where the exported files live inside the containers.
inline constexpr const char* config_dir = "/etc/caflow";      ///< flow.yml
inline constexpr const char* tls_dir = "/etc/caflow-tls";     ///< tls.crt, tls.key, ca.crt
inline constexpr const char* data_dir = "/var/lib/caflow";    ///< the volume of each pod
inline constexpr const char* plugin_dir = "/opt/caflow/lib";  ///< plugins the image carries

/// Options of an export.
struct Options {
  /// Kubernetes namespace of every object (and of the DNS names).
  /// Default: "default"
  std::string ns = "default";
  /// Container image with `caflow` on its PATH. Default: "caflow:latest"
  std::string image = "caflow:latest";
  /// Storage requested per PersistentVolumeClaim. Default: "1Gi"
  std::string storage = "1Gi";
};

/// What the flow config asks for, as the export lays it out.
struct Topology {
  std::string name;                ///< DNS label from `with.name`, e.g. "seed"
  std::vector<std::string> nodes;  ///< the flow's node addresses, first use first
  uint16_t node_port = 0;          ///< every node daemon's port: the first node's
  uint16_t gateway_port = 8080;    ///< `with.port`
  uint16_t cluster_port = 0;       ///< `with.cluster_port` (0: none)
  TlsOptions tls;                  ///< the config's TLS files (paths on this machine)
};

/// One file of the export, relative to the output directory.
struct OutputFile {
  std::string path;
  std::string text;
};

/// The topology of `flow` (already loaded, so validated syntactically).
/// Fails when `with.name` gives no DNS label or a name is not HOST:PORT.
[[nodiscard]] caf::expected<Topology> plan(const Flow& flow);

/// The topology of the flow config at `flow_path`, loaded first (both
/// exporters start here). Fails like Flow::load, then like plan(Flow).
[[nodiscard]] caf::expected<Topology> plan(const std::string& flow_path);

/// The bytes of the TLS file at `path`, given as `with.tls.<key>`; fails with
/// an io_error naming both when it cannot be read.
[[nodiscard]] caf::expected<std::string> read_tls_file(const std::string& path, const char* key);

/// The config file at `path` with node addresses replaced by `node_name(i)`
/// (HOST:PORT of node i of `topology.nodes`), the gateway bound to 0.0.0.0,
/// and workspaces, TLS files and plugins moved to the container's paths.
[[nodiscard]] caf::expected<std::string> rewrite_config(
  const std::string& path, const Topology& topology,
  const std::function<std::string(size_t)>& node_name);

/// Kubernetes manifests, one object per file (`kubectl apply -f OUTDIR`).
[[nodiscard]] caf::expected<std::vector<OutputFile>> kubernetes(const std::string& flow_path,
                                                                const Options& options);

/// A docker compose project: compose.yaml, flow.yml and the TLS files.
[[nodiscard]] caf::expected<std::vector<OutputFile>> compose(const std::string& flow_path,
                                                             const Options& options);

}  // namespace caflow::cli::exporter
