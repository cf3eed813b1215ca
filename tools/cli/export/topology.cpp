// exporter::plan and exporter::rewrite_config: what a flow config asks for,
// and the config as the containers see it.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "caflow/errors.hpp"
#include "cli/export/export.hpp"
#include "cli/export/yaml_tree.hpp"
#include "cluster/placement.hpp"

namespace caflow::cli::exporter {

namespace {

// Kubernetes object names: a DNS-1123 label. Pods of a StatefulSet are
// NAME-node-I and its controller-revision-hash label must stay within 63
// characters, so the name is kept to 40.
caf::expected<std::string> dns_label(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c))
      out += static_cast<char>(std::tolower(c));
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  if (out.size() > 40)
    out.resize(40);
  while (!out.empty() && out.back() == '-')
    out.pop_back();
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out.front())))
    return make_error(errc::invalid_config,
                      "with.name: '" + name
                        + "' gives no Kubernetes name (it needs a letter first; "
                          "letters, digits and '-' are kept)");
  return out;
}

void add_node(std::vector<std::string>& nodes, const std::string& host) {
  if (!detail::is_local(host) && std::find(nodes.begin(), nodes.end(), host) == nodes.end())
    nodes.push_back(host);
}

}  // namespace

caf::expected<Topology> plan(const Flow& flow) {
  Topology out;
  auto name = dns_label(flow.options().name);
  if (!name)
    return name.error();
  out.name = std::move(*name);
  for (const auto& host : flow.options().nodes)
    add_node(out.nodes, host);
  for (const auto& d : flow.deployments())
    if (auto hosts = d.uses_metas.find("hosts"); hosts != nullptr && hosts->is_array())
      for (const auto& h : hosts->as_array())
        add_node(out.nodes, h.as_string());
  if (!out.nodes.empty()) {
    auto first = detail::parse_node_address(out.nodes.front());
    if (!first)
      return first.error();
    out.node_port = first->port;
  }
  out.gateway_port = flow.options().port;
  out.cluster_port = flow.options().cluster_port;
  out.tls = flow.options().tls;
  return out;
}

caf::expected<Topology> plan(const std::string& flow_path) {
  auto flow = Flow::load(flow_path);
  if (!flow)
    return flow.error();
  return plan(*flow);
}

caf::expected<std::string> read_tls_file(const std::string& path, const char* key) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream text;
  text << in.rdbuf();
  if (!in)
    return make_error(errc::io_error, std::string{"with.tls."} + key + ": cannot read " + path);
  return text.str();
}

caf::expected<std::string> rewrite_config(const std::string& path, const Topology& topology,
                                          const std::function<std::string(size_t)>& node_name) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return make_error(errc::invalid_config, path + ": " + e.msg);
  }
  auto rename = [&](YAML::Node list) {
    if (!list || !list.IsSequence())
      return;
    for (size_t i = 0; i < list.size(); ++i) {
      auto host = list[i].as<std::string>();
      auto at = std::find(topology.nodes.begin(), topology.nodes.end(), host);
      if (at != topology.nodes.end())
        list[i] = node_name(static_cast<size_t>(at - topology.nodes.begin()));
    }
  };
  if (!root["with"] || !root["with"].IsMap())
    root["with"] = YAML::Node{YAML::NodeType::Map};
  auto with = root["with"];
  // The Service reaches the gateway on the pod's address, not on loopback.
  with["host"] = "0.0.0.0";
  with["workspace"] = std::string{data_dir} + "/workspace";
  rename(with["nodes"]);
  if (with["tls"]) {
    auto tls = YAML::Node{YAML::NodeType::Map};
    tls["cert"] = std::string{tls_dir} + "/tls.crt";
    tls["key"] = std::string{tls_dir} + "/tls.key";
    tls["ca"] = std::string{tls_dir} + "/ca.crt";
    with["tls"] = tls;
  }
  if (auto plugins = with["plugins"]; plugins && plugins.IsSequence())
    for (size_t i = 0; i < plugins.size(); ++i)
      plugins[i] = std::string{plugin_dir} + "/"
                   + std::filesystem::path{plugins[i].as<std::string>()}.filename().string();
  if (auto executors = root["executors"]; executors && executors.IsSequence())
    for (auto e : executors) {
      rename(e["hosts"]);
      if (e["workspace"])
        e["workspace"] = std::string{data_dir} + "/workspaces/" + e["name"].as<std::string>();
    }
  return emit_documents({Yaml::from_node(root)});
}

}  // namespace caflow::cli::exporter
