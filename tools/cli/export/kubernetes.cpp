// exporter::kubernetes: the flow's topology as Kubernetes objects (see
// export.hpp). Everything here is built as typed YAML trees and written by
// yaml-cpp's emitter; nothing is pasted together as text.
#include <cstdio>

#include "caflow/errors.hpp"
#include "cli/export/export.hpp"
#include "cli/export/yaml_tree.hpp"
#include "json/base64.hpp"

namespace caflow::cli::exporter {

namespace {

struct Names {
  std::string flow;    // Deployment, Service, PVC prefix
  std::string node;    // StatefulSet and its headless Service
  std::string config;  // ConfigMap
  std::string tls;     // Secret
  std::string domain;  // NS.svc.cluster.local
};

Yaml labels(const Topology& t, const char* component) {
  return Yaml::map()
    .set("app.kubernetes.io/name", "caflow")
    .set("app.kubernetes.io/instance", t.name)
    .set("app.kubernetes.io/component", component);
}

Yaml metadata(const std::string& name, const Options& o, const Topology& t, const char* component) {
  return Yaml::map().set("name", name).set("namespace", o.ns).set("labels", labels(t, component));
}

Yaml port(const char* name, uint16_t number) {
  return Yaml::map().set("name", name).set("containerPort", int{number}).set("protocol", "TCP");
}

Yaml service_port(const char* name, uint16_t number) {
  return Yaml::map()
    .set("name", name)
    .set("port", int{number})
    .set("targetPort", name)
    .set("protocol", "TCP");
}

Yaml env_from_field(const char* name, const char* field) {
  return Yaml::map()
    .set("name", name)
    .set("valueFrom", Yaml::map().set("fieldRef", Yaml::map().set("fieldPath", field)));
}

Yaml mount(const char* name, const char* path, bool read_only) {
  auto m = Yaml::map().set("name", name).set("mountPath", path);
  if (read_only)
    m.set("readOnly", true);
  return m;
}

Yaml tls_volume(const Names& n) {
  return Yaml::map()
    .set("name", "tls")
    .set("secret", Yaml::map().set("secretName", n.tls).set("defaultMode", 0400));
}

Yaml claim(const Options& o) {
  return Yaml::map()
    .set("accessModes", Yaml::seq({"ReadWriteOnce"}))
    .set("resources", Yaml::map().set("requests", Yaml::map().set("storage", o.storage)));
}

// The flow's certificate serves the nodes too: CAF's OpenSSL transport
// checks that a peer's certificate is signed by the CA, not whose it is.
void add_tls_args(Yaml& args) {
  for (const char* arg : {"--tls-cert", "/tls.crt", "--tls-key", "/tls.key", "--tls-ca", "/ca.crt"})
    args.push(arg[0] == '-' ? std::string{arg} : std::string{tls_dir} + arg);
}

Yaml config_map(const Names& n, const Options& o, const Topology& t, std::string flow_yml) {
  return Yaml::map()
    .set("apiVersion", "v1")
    .set("kind", "ConfigMap")
    .set("metadata", metadata(n.config, o, t, "config"))
    .set("data", Yaml::map().set("flow.yml", std::move(flow_yml)));
}

caf::expected<Yaml> tls_secret(const Names& n, const Options& o, const Topology& t) {
  auto data = Yaml::map();
  const std::pair<const char*, const std::string*> files[] = {
    {"tls.crt", &t.tls.cert}, {"tls.key", &t.tls.key}, {"ca.crt", &t.tls.ca}};
  const char* keys[] = {"cert", "key", "ca"};
  for (size_t i = 0; i < 3; ++i) {
    auto bytes = read_tls_file(*files[i].second, keys[i]);
    if (!bytes)
      return bytes.error();
    data.set(files[i].first, base64::encode(*bytes));
  }
  return Yaml::map()
    .set("apiVersion", "v1")
    .set("kind", "Secret")
    .set("metadata", metadata(n.tls, o, t, "tls"))
    .set("type", "kubernetes.io/tls")
    .set("data", std::move(data));
}

// The headless Service gives every node pod its stable DNS name; the flow
// must resolve a node before it is ready (it waits for all at start).
Yaml node_service(const Names& n, const Options& o, const Topology& t) {
  return Yaml::map()
    .set("apiVersion", "v1")
    .set("kind", "Service")
    .set("metadata", metadata(n.node, o, t, "node"))
    .set("spec", Yaml::map()
                   .set("clusterIP", "None")
                   .set("publishNotReadyAddresses", true)
                   .set("selector", labels(t, "node"))
                   .set("ports", Yaml::seq({service_port("cluster", t.node_port)})));
}

Yaml node_stateful_set(const Names& n, const Options& o, const Topology& t) {
  auto args = Yaml::seq({"node", "--host", "$(POD_IP)", "--port", std::to_string(t.node_port),
                         "--advertise", "$(POD_NAME)." + n.node + "." + n.domain, "--workspace",
                         data_dir});
  auto mounts = Yaml::seq({mount("workspace", data_dir, false)});
  auto volumes = Yaml::seq();
  if (t.tls.enabled()) {
    add_tls_args(args);
    mounts.push(mount("tls", tls_dir, true));
    volumes.push(tls_volume(n));
  }
  // A node is ready once it listens. With TLS the probe must not connect:
  // a TCP connection closed before its TLS handshake makes CAF 0.17.6's
  // OpenSSL transport drop the node's other, established links (the flow then
  // loses the node; found by the export's rehearsal), so the probe looks for
  // the listening socket in /proc/net/tcp* instead.
  char hex_port[8];
  std::snprintf(hex_port, sizeof hex_port, "%04X", static_cast<unsigned>(t.node_port));
  auto listening = Yaml::seq({"sh", "-c",
                              std::string{"grep -q ':"} + hex_port
                                + " [0-9A-F]*:[0-9A-F]* 0A ' /proc/net/tcp /proc/net/tcp6"});
  auto probe = [&](int delay, int period) {
    auto p = Yaml::map();
    if (t.tls.enabled())
      p.set("exec", Yaml::map().set("command", listening));
    else
      p.set("tcpSocket", Yaml::map().set("port", "cluster"));
    return p.set("initialDelaySeconds", delay).set("periodSeconds", period);
  };
  auto container = Yaml::map()
                     .set("name", "node")
                     .set("image", o.image)
                     .set("command", Yaml::seq({"caflow"}))
                     .set("args", std::move(args))
                     .set("env", Yaml::seq({env_from_field("POD_NAME", "metadata.name"),
                                            env_from_field("POD_IP", "status.podIP")}))
                     .set("ports", Yaml::seq({port("cluster", t.node_port)}))
                     .set("readinessProbe", probe(0, 5))
                     .set("livenessProbe", probe(10, 10))
                     .set("volumeMounts", std::move(mounts));
  auto pod = Yaml::map()
               .set("terminationGracePeriodSeconds", 30)
               .set("containers", Yaml::seq({container}));
  if (t.tls.enabled())
    pod.set("volumes", std::move(volumes));
  return Yaml::map()
    .set("apiVersion", "apps/v1")
    .set("kind", "StatefulSet")
    .set("metadata", metadata(n.node, o, t, "node"))
    .set("spec", Yaml::map()
                   .set("serviceName", n.node)
                   .set("replicas", static_cast<int64_t>(t.nodes.size()))
                   // Nodes need each other for nothing: start them all at once.
                   .set("podManagementPolicy", "Parallel")
                   .set("selector", Yaml::map().set("matchLabels", labels(t, "node")))
                   .set("template", Yaml::map()
                                      .set("metadata", Yaml::map().set("labels", labels(t, "node")))
                                      .set("spec", std::move(pod)))
                   .set("volumeClaimTemplates",
                        Yaml::seq({Yaml::map()
                                     .set("metadata", Yaml::map().set("name", "workspace"))
                                     .set("spec", claim(o))})));
}

Yaml flow_claim(const Names& n, const Options& o, const Topology& t) {
  return Yaml::map()
    .set("apiVersion", "v1")
    .set("kind", "PersistentVolumeClaim")
    .set("metadata", metadata(n.flow + "-workspace", o, t, "flow"))
    .set("spec", claim(o));
}

// `caflow ping` exits 0 once the flow answers ready. Startup covers fitting
// models and reaching every node (up to 10 minutes); liveness then restarts
// a flow that stopped answering for a minute.
Yaml ping_probe(const Topology& t, int period, int failures) {
  return Yaml::map()
    .set("exec",
         Yaml::map().set("command",
                         Yaml::seq({"caflow", "ping", "127.0.0.1:" + std::to_string(t.gateway_port),
                                    "--timeout", "5"})))
    .set("periodSeconds", period)
    .set("timeoutSeconds", 10)
    .set("failureThreshold", failures);
}

Yaml flow_deployment(const Names& n, const Options& o, const Topology& t) {
  auto args = Yaml::seq({"flow", std::string{config_dir} + "/flow.yml"});
  auto ports = Yaml::seq({port("http", t.gateway_port)});
  if (t.cluster_port != 0)
    ports.push(port("cluster", t.cluster_port));
  auto mounts = Yaml::seq({mount("config", config_dir, true), mount("workspace", data_dir, false)});
  auto volumes = Yaml::seq(
    {Yaml::map().set("name", "config").set("configMap", Yaml::map().set("name", n.config)),
     Yaml::map()
       .set("name", "workspace")
       .set("persistentVolumeClaim", Yaml::map().set("claimName", n.flow + "-workspace"))});
  if (t.tls.enabled()) {
    mounts.push(mount("tls", tls_dir, true));
    volumes.push(tls_volume(n));
  }
  auto container = Yaml::map()
                     .set("name", "flow")
                     .set("image", o.image)
                     .set("command", Yaml::seq({"caflow"}))
                     .set("args", std::move(args))
                     .set("ports", std::move(ports))
                     .set("startupProbe", ping_probe(t, 5, 120))
                     .set("readinessProbe", ping_probe(t, 5, 1))
                     .set("livenessProbe", ping_probe(t, 20, 3))
                     .set("volumeMounts", std::move(mounts));
  return Yaml::map()
    .set("apiVersion", "apps/v1")
    .set("kind", "Deployment")
    .set("metadata", metadata(n.flow, o, t, "flow"))
    .set("spec", Yaml::map()
                   .set("replicas", 1)
                   // One flow owns its workspace (ReadWriteOnce): stop the old pod first.
                   .set("strategy", Yaml::map().set("type", "Recreate"))
                   .set("selector", Yaml::map().set("matchLabels", labels(t, "flow")))
                   .set("template", Yaml::map()
                                      .set("metadata", Yaml::map().set("labels", labels(t, "flow")))
                                      .set("spec", Yaml::map()
                                                     .set("terminationGracePeriodSeconds", 60)
                                                     .set("containers", Yaml::seq({container}))
                                                     .set("volumes", std::move(volumes)))));
}

Yaml flow_service(const Names& n, const Options& o, const Topology& t) {
  auto ports = Yaml::seq({service_port("http", t.gateway_port)});
  if (t.cluster_port != 0)
    ports.push(service_port("cluster", t.cluster_port));
  return Yaml::map()
    .set("apiVersion", "v1")
    .set("kind", "Service")
    .set("metadata", metadata(n.flow, o, t, "flow"))
    .set("spec", Yaml::map()
                   .set("type", "ClusterIP")
                   .set("selector", labels(t, "flow"))
                   .set("ports", std::move(ports)));
}

}  // namespace

caf::expected<std::vector<OutputFile>> kubernetes(const std::string& flow_path,
                                                  const Options& options) {
  auto t = plan(flow_path);
  if (!t)
    return t.error();
  Names n{t->name + "-flow", t->name + "-node", t->name + "-config", t->name + "-tls",
          options.ns + ".svc.cluster.local"};
  auto node_name = [&](size_t i) {
    return n.node + "-" + std::to_string(i) + "." + n.node + "." + n.domain + ":"
           + std::to_string(t->node_port);
  };
  auto config = rewrite_config(flow_path, *t, node_name);
  if (!config)
    return config.error();
  std::vector<OutputFile> out;
  auto add = [&](std::string file, const Yaml& doc) {
    out.push_back({std::move(file), emit_documents({doc})});
  };
  add("configmap-" + n.config + ".yaml", config_map(n, options, *t, std::move(*config)));
  if (t->tls.enabled()) {
    auto secret = tls_secret(n, options, *t);
    if (!secret)
      return secret.error();
    add("secret-" + n.tls + ".yaml", *secret);
  }
  if (!t->nodes.empty()) {
    add("service-" + n.node + ".yaml", node_service(n, options, *t));
    add("statefulset-" + n.node + ".yaml", node_stateful_set(n, options, *t));
  }
  add("persistentvolumeclaim-" + n.flow + "-workspace.yaml", flow_claim(n, options, *t));
  add("deployment-" + n.flow + ".yaml", flow_deployment(n, options, *t));
  add("service-" + n.flow + ".yaml", flow_service(n, options, *t));
  return out;
}

}  // namespace caflow::cli::exporter
