// exporter::compose: the flow's topology as a docker compose project (see
// export.hpp): one service per node daemon, one for the flow, the config as
// a compose config and the TLS files as secrets.
#include <filesystem>

#include "caflow/errors.hpp"
#include "cli/export/export.hpp"
#include "cli/export/yaml_tree.hpp"

namespace caflow::cli::exporter {

namespace {

struct TlsFile {
  const char* secret;  // compose secret name
  const char* file;    // file name in OUTDIR/tls/ and in the container
  const char* flag;    // caflow node's option
};
constexpr TlsFile tls_files[] = {{"tls-crt", "tls.crt", "--tls-cert"},
                                 {"tls-key", "tls.key", "--tls-key"},
                                 {"ca-crt", "ca.crt", "--tls-ca"}};

Yaml volume(const std::string& source, const char* target) {
  return Yaml::map().set("type", "volume").set("source", source).set("target", target);
}

Yaml tls_secrets() {
  auto out = Yaml::seq();
  for (const auto& f : tls_files)
    out.push(
      Yaml::map().set("source", f.secret).set("target", std::string{tls_dir} + "/" + f.file));
  return out;
}

Yaml node_service(const std::string& name, const Topology& t, const Options& o) {
  auto command = Yaml::seq({"caflow", "node", "--host", "0.0.0.0", "--port",
                            std::to_string(t.node_port), "--advertise", name, "--workspace",
                            data_dir});
  if (t.tls.enabled())
    for (const auto& f : tls_files)
      command.push(f.flag).push(std::string{tls_dir} + "/" + f.file);
  auto service = Yaml::map()
                   .set("image", o.image)
                   .set("hostname", name)
                   .set("command", std::move(command))
                   .set("restart", "unless-stopped")
                   .set("volumes", Yaml::seq({volume(name, data_dir)}));
  if (t.tls.enabled())
    service.set("secrets", tls_secrets());
  return service;
}

Yaml published(uint16_t port) {
  return Yaml::map()
    .set("target", int{port})
    .set("published", std::to_string(port))
    .set("protocol", "tcp");
}

Yaml flow_service(const Topology& t, const Options& o, const std::vector<std::string>& nodes) {
  auto ports = Yaml::seq({published(t.gateway_port)});
  if (t.cluster_port != 0)
    ports.push(published(t.cluster_port));
  auto service
    = Yaml::map()
        .set("image", o.image)
        .set("hostname", t.name + "-flow")
        .set("command", Yaml::seq({"caflow", "flow", std::string{config_dir} + "/flow.yml"}))
        .set("restart", "unless-stopped")
        .set("ports", std::move(ports))
        .set("configs", Yaml::seq({Yaml::map()
                                     .set("source", "flow")
                                     .set("target", std::string{config_dir} + "/flow.yml")}))
        .set("volumes", Yaml::seq({volume(t.name + "-flow-workspace", data_dir)}))
        .set("healthcheck", Yaml::map()
                              .set("test", Yaml::seq({"CMD", "caflow", "ping",
                                                      "127.0.0.1:" + std::to_string(t.gateway_port),
                                                      "--timeout", "5"}))
                              .set("interval", "5s")
                              .set("timeout", "10s")
                              .set("retries", 3)
                              .set("start_period", "10m"));
  if (t.tls.enabled())
    service.set("secrets", tls_secrets());
  if (!nodes.empty()) {
    auto depends = Yaml::map();
    for (const auto& node : nodes)
      depends.set(node, Yaml::map().set("condition", "service_started"));
    service.set("depends_on", std::move(depends));
  }
  return service;
}

}  // namespace

caf::expected<std::vector<OutputFile>> compose(const std::string& flow_path,
                                               const Options& options) {
  auto t = plan(flow_path);
  if (!t)
    return t.error();
  std::vector<std::string> nodes;
  for (size_t i = 0; i < t->nodes.size(); ++i)
    nodes.push_back(t->name + "-node-" + std::to_string(i));
  auto config = rewrite_config(
    flow_path, *t, [&](size_t i) { return nodes[i] + ":" + std::to_string(t->node_port); });
  if (!config)
    return config.error();
  std::vector<OutputFile> out;
  auto services = Yaml::map();
  auto volumes = Yaml::map();
  for (const auto& node : nodes) {
    services.set(node, node_service(node, *t, options));
    volumes.set(node, Yaml::map());
  }
  services.set(t->name + "-flow", flow_service(*t, options, nodes));
  volumes.set(t->name + "-flow-workspace", Yaml::map());
  auto project = Yaml::map()
                   .set("name", t->name)
                   .set("services", std::move(services))
                   .set("volumes", std::move(volumes))
                   .set("configs", Yaml::map().set("flow", Yaml::map().set("file", "./flow.yml")));
  if (t->tls.enabled()) {
    auto secrets = Yaml::map();
    const std::string* sources[] = {&t->tls.cert, &t->tls.key, &t->tls.ca};
    const char* keys[] = {"cert", "key", "ca"};
    for (size_t i = 0; i < 3; ++i) {
      auto bytes = read_tls_file(*sources[i], keys[i]);
      if (!bytes)
        return bytes.error();
      out.push_back({std::string{"tls/"} + tls_files[i].file, std::move(*bytes)});
      secrets.set(tls_files[i].secret,
                  Yaml::map().set("file", std::string{"./tls/"} + tls_files[i].file));
    }
    project.set("secrets", std::move(secrets));
  }
  out.insert(out.begin(), {"flow.yml", std::move(*config)});
  out.insert(out.begin(), {"compose.yaml", emit_documents({project})});
  return out;
}

}  // namespace caflow::cli::exporter
