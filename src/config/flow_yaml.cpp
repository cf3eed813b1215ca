// Flow::load and Flow::parse: Jina 3's Flow YAML into a caflow::Flow.
//
// The loader checks what a config's syntax decides (keys, types, ranges,
// polling modes) and names file, line and key. What needs the running
// process (are the executor types registered? plugins load at start) and the
// graph (needs, cycles) is Flow::validate's job.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <utility>
#include <variant>

#include <yaml-cpp/yaml.h>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "cluster/placement.hpp"
#include "config/jina_keys.hpp"
#include "config/yaml_value.hpp"
#include "runtime/doc_filter.hpp"

namespace caflow {

namespace {

using detail::check_keys;
using detail::fail;
using detail::FieldReader;
using detail::JinaScope;
using detail::YamlConfigError;

constexpr std::string_view flow_keys[] = {"jtype", "version", "with", "executors"};

constexpr std::string_view with_keys[] = {
  "name",  "protocol",     "host", "port",          "workspace",          "plugins",
  "nodes", "cluster_port", "tls",  "max_in_flight", "heartbeat_interval", "heartbeat_misses"};

constexpr std::string_view executor_keys[] = {"name",         "uses",
                                              "uses_with",    "uses_metas",
                                              "workspace",    "replicas",
                                              "shards",       "polling",
                                              "needs",        "timeout",
                                              "timeout_send", "retries",
                                              "hosts",        "uses_dynamic_batching",
                                              "when",         "write_consistency"};

constexpr std::string_view uses_keys[] = {"jtype", "with", "metas"};

// `workspace` is the deployment's workspace (Jina's metas.workspace);
// `name` and `description` are Jina's documentation of the executor;
// `runs_on_scheduler` is caflow's (caflow/executor.hpp).
constexpr std::string_view metas_keys[] = {"workspace", "name", "description", "runs_on_scheduler"};

// A key that is not among `known`: Jina's that caflow refuses say why, any
// other gets a suggestion. Never returns.
template <size_t N>
[[noreturn]] void unknown_key(const YAML::Node& key_node, const std::string& where, JinaScope scope,
                              const std::string_view (&known)[N]) {
  const auto& key = key_node.Scalar();
  if (auto why = detail::jina_unsupported(scope, key))
    fail(key_node, where, "Jina's '" + key + "' is not supported: " + std::string{*why});
  fail(key_node, where, "unknown key" + detail::suggest(key, known));
}

constexpr std::string_view batching_keys[] = {"preferred_batch_size", "timeout"};

// A list of node addresses (`hosts:`, `with.nodes`): each "local" or
// HOST:PORT, checked here so that a typo names its line.
std::vector<std::string> node_list(const YAML::Node& v, const FieldReader& in,
                                   const std::string& where) {
  auto hosts = in.strings(v, where);
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (detail::is_local(hosts[i]))
      continue;
    if (auto addr = detail::parse_node_address(hosts[i]); !addr)
      fail(v.IsSequence() ? v[i] : v, where + "[" + std::to_string(i) + "]",
           error_message(addr.error()));
  }
  return hosts;
}

// `uses_dynamic_batching: {/encode: {preferred_batch_size: 64, timeout: 10}}`
// (Jina's keys; timeout in ms).
std::map<std::string, DynamicBatching> parse_batching(const YAML::Node& v, const FieldReader& in,
                                                      const std::string& where) {
  if (v.IsNull())
    return {};
  if (!v.IsMap())
    fail(v, where,
         "expected a mapping of endpoints to {preferred_batch_size, timeout}, got "
           + detail::describe_node(v));
  check_keys(v, where);
  std::map<std::string, DynamicBatching> out;
  for (const auto& kv : v) {
    const auto& endpoint = kv.first.Scalar();
    auto at = where + "." + endpoint;
    if (endpoint.empty() || (endpoint.front() != '/' && endpoint != "*"))
      fail(kv.first, at, "expected an endpoint such as /encode");
    if (!kv.second.IsMap())
      fail(kv.second, at,
           "expected a mapping {preferred_batch_size, timeout}, got "
             + detail::describe_node(kv.second));
    check_keys(kv.second, at);
    DynamicBatching b;
    for (const auto& opt : kv.second) {
      const auto& key = opt.first.Scalar();
      if (key == "preferred_batch_size")
        b.preferred_batch_size = static_cast<uint32_t>(
          in.integer(opt.second, at + "." + key, 1, 1 << 20));
      else if (key == "timeout")
        b.timeout = std::chrono::milliseconds{in.integer(opt.second, at + "." + key, 0, 3600000)};
      else
        fail(opt.first, at + "." + key, "unknown key" + detail::suggest(key, batching_keys));
    }
    if (b.preferred_batch_size == 0)
      fail(kv.second, at + ".preferred_batch_size", "is required (documents per batch)");
    out[endpoint] = b;
  }
  return out;
}

// The line of the filter entry at `path` (as a FilterError names it) under
// `node`; `line` where the path leaves the YAML.
int filter_line(const YAML::Node& node, std::span<const std::string> path, int line) {
  if (path.empty())
    return line;
  const auto& p = path.front();
  if (!p.empty() && p.front() == '[' && node.IsSequence()) {
    auto i = std::strtoul(p.c_str() + 1, nullptr, 10);
    if (i < node.size())
      return filter_line(node[i], path.subspan(1), detail::line_of(node[i]));
  } else if (node.IsMap()) {
    for (const auto& kv : node)
      if (kv.first.IsScalar() && kv.first.Scalar() == p)
        return filter_line(kv.second, path.subspan(1), detail::line_of(kv.first));
  }
  return line;
}

// `when: {tags__price: {$gt: 5}}`: compiled here, so that a bad filter names
// the line of its bad entry.
Value parse_when(const YAML::Node& v, const FieldReader& in, const std::string& where) {
  auto when = in.mapping(v, where);
  auto compiled = detail::DocFilter::compile(when);
  if (auto* e = std::get_if<detail::FilterError>(&compiled)) {
    auto at = e->joined_path();
    auto key = where + (at.empty() ? "" : (at.front() == '[' ? "" : ".") + at);
    throw YamlConfigError{filter_line(v, e->path, detail::line_of(v)), std::move(key), e->what};
  }
  return when;
}

void parse_tls(const YAML::Node& v, const FieldReader& in, TlsOptions& out) {
  if (!v.IsMap())
    fail(v, "with.tls", "expected a mapping {cert, key, ca}, got " + detail::describe_node(v));
  check_keys(v, "with.tls");
  for (const auto& kv : v) {
    const auto& key = kv.first.Scalar();
    auto where = "with.tls." + key;
    if (key == "cert")
      out.cert = in.path(in.string(kv.second, where));
    else if (key == "key")
      out.key = in.path(in.string(kv.second, where));
    else if (key == "ca")
      out.ca = in.path(in.string(kv.second, where));
    else
      fail(kv.first, where, "unknown key (known: cert, key, ca)");
  }
  if (out.cert.empty() || out.key.empty() || out.ca.empty())
    fail(v, "with.tls", "give cert, key and ca together");
}

template <size_t N>
bool among(std::string_view key, const std::string_view (&keys)[N]) {
  return std::find(std::begin(keys), std::end(keys), key) != std::end(keys);
}

// Jina's `protocol: grpc` or `protocol: [grpc, http]`, with `port: P` or
// `port: [P1, P2]` (one per protocol; without ports: 8080, 8081, ...).
void parse_gateways(const YAML::Node& protocol_node, bool have_protocol,
                    const YAML::Node& port_node, bool have_port, const FieldReader& in,
                    FlowOptions& out) {
  std::vector<std::string> protocols{"http"};
  if (have_protocol)
    protocols = in.strings(protocol_node, "with.protocol");
  if (protocols.empty())
    fail(protocol_node, "with.protocol", "expected at least one protocol");
  for (size_t i = 0; i < protocols.size(); ++i) {
    auto& p = protocols[i];
    std::transform(p.begin(), p.end(), p.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto where = have_protocol && protocol_node.IsSequence()
                   ? "with.protocol[" + std::to_string(i) + "]"
                   : std::string{"with.protocol"};
    auto node = have_protocol && protocol_node.IsSequence() ? protocol_node[i] : protocol_node;
    if (p != "http" && p != "grpc" && p != "websocket")
      fail(node, where, "unsupported protocol '" + p + "' (known: http, grpc, websocket)");
    for (size_t k = 0; k < i; ++k)
      if (protocols[k] == p)
        fail(node, where, "protocol '" + p + "' is given twice");
  }
  std::vector<uint16_t> ports;
  if (have_port && port_node.IsSequence()) {
    for (size_t i = 0; i < port_node.size(); ++i)
      ports.push_back(static_cast<uint16_t>(
        in.integer(port_node[i], "with.port[" + std::to_string(i) + "]", 1, 65535)));
  } else if (have_port) {
    ports.push_back(static_cast<uint16_t>(in.integer(port_node, "with.port", 1, 65535)));
  } else {
    for (size_t i = 0; i < protocols.size(); ++i)
      ports.push_back(static_cast<uint16_t>(8080 + i));
  }
  if (ports.size() != protocols.size())
    fail(port_node, "with.port",
         "give one port per protocol: " + std::to_string(protocols.size()) + " protocols, "
           + std::to_string(ports.size()) + (ports.size() == 1 ? " port" : " ports"));
  for (size_t i = 0; i < ports.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      if (ports[k] == ports[i])
        fail(port_node.IsSequence() ? port_node[i] : port_node,
             "with.port[" + std::to_string(i) + "]",
             "port " + std::to_string(ports[i]) + " is given twice");
  out.protocol = protocols[0];
  out.port = ports[0];
  out.more_gateways.clear();
  for (size_t i = 1; i < protocols.size(); ++i)
    out.more_gateways.push_back({protocols[i], ports[i]});
}

void parse_with(const YAML::Node& with, const FieldReader& in, FlowOptions& out) {
  if (with.IsNull())
    return;
  if (!with.IsMap())
    fail(with, "with", "expected a mapping of flow settings, got " + detail::describe_node(with));
  check_keys(with, "with");
  // A default YAML::Node counts as defined (a null): track presence apart.
  YAML::Node protocol_node;
  YAML::Node port_node;
  bool have_protocol = false;
  bool have_port = false;
  for (const auto& kv : with) {
    const auto& key = kv.first.Scalar();
    const auto& v = kv.second;
    auto where = "with." + key;
    if (key == "name") {
      out.name = in.string(v, where);
    } else if (key == "protocol") {
      protocol_node = v;
      have_protocol = true;
    } else if (key == "host") {
      out.host = in.string(v, where);
    } else if (key == "port") {
      port_node = v;
      have_port = true;
    } else if (key == "workspace") {
      out.workspace = in.path(in.string(v, where));
    } else if (key == "plugins") {
      out.plugins.clear();
      for (auto& p : in.strings(v, where))
        out.plugins.push_back(in.plugin_path(p));
    } else if (key == "nodes") {
      out.nodes = node_list(v, in, where);
    } else if (key == "cluster_port") {
      out.cluster_port = static_cast<uint16_t>(in.integer(v, where, 0, 65535));
    } else if (key == "tls") {
      parse_tls(v, in, out.tls);
    } else if (key == "max_in_flight") {
      out.max_in_flight = static_cast<uint32_t>(in.integer(v, where, 1, UINT32_MAX));
    } else if (key == "heartbeat_interval") {
      out.heartbeat_interval = std::chrono::milliseconds{in.integer(v, where, 0, 3'600'000)};
    } else if (key == "heartbeat_misses") {
      out.heartbeat_misses = static_cast<uint32_t>(in.integer(v, where, 1, 1000));
    } else {
      unknown_key(kv.first, where, JinaScope::flow_with, with_keys);
    }
  }
  if (have_protocol || have_port)
    parse_gateways(protocol_node, have_protocol, port_node, have_port, in, out);
}

// Jina's metas of an executor (`uses_metas:` or `uses.metas`), checked key
// by key. `workspace` is where the executor persists, i.e. the deployment's
// workspace: honoured, resolved like `workspace:`.
struct Metas {
  Value values = Value::object();
  std::optional<std::string> workspace;
  YAML::Node workspace_node;
  std::optional<std::string> name;
  YAML::Node name_node;
};

Metas parse_metas(const YAML::Node& v, const FieldReader& in, const std::string& where) {
  Metas out;
  out.values = in.mapping(v, where);
  if (!v.IsMap())
    return out;
  for (const auto& kv : v) {
    const auto& key = kv.first.Scalar();
    auto at = where + "." + key;
    if (!among(key, metas_keys))
      unknown_key(kv.first, at, JinaScope::metas, metas_keys);
    if (key == "workspace") {
      out.workspace = in.path(in.string(kv.second, at));
      out.values["workspace"] = *out.workspace;
      out.workspace_node = kv.first;
    } else if (key == "name") {
      out.name = in.string(kv.second, at);
      out.name_node = kv.first;
    } else if (key == "runs_on_scheduler" && !out.values[key].is_bool()) {
      fail(kv.second, at, "expected true or false, got " + detail::describe_node(kv.second));
    }
  }
  return out;
}

// Records the line of each key of mapping `v` as "PREFIX.KEY" (for the
// uses_with checks of Flow::validate).
void record_lines(const YAML::Node& v, const std::string& prefix, ConfigOrigin& origin) {
  if (!v || !v.IsMap())
    return;
  for (const auto& kv : v)
    origin.key_lines.emplace(prefix + "." + kv.first.Scalar(), detail::line_of(kv.first));
}

// The `uses: {jtype: T, with: {...}, metas: {...}}` form.
struct UsesMapping {
  std::string jtype;
  Value with = Value::object();
  YAML::Node with_node;
  Metas metas;
};

UsesMapping parse_uses_mapping(const YAML::Node& uses, const FieldReader& in,
                               const std::string& where) {
  check_keys(uses, where);
  UsesMapping out;
  bool has_jtype = false;
  for (const auto& kv : uses) {
    const auto& key = kv.first.Scalar();
    auto at = where + "." + key;
    if (key == "jtype") {
      out.jtype = in.string(kv.second, at);
      has_jtype = true;
    } else if (key == "with") {
      out.with = in.mapping(kv.second, at);
      out.with_node = kv.second;
    } else if (key == "metas") {
      out.metas = parse_metas(kv.second, in, at);
    } else {
      unknown_key(kv.first, at, JinaScope::uses, uses_keys);
    }
  }
  if (!has_jtype)
    fail(uses, where + ".jtype", "is required (the executor type)");
  return out;
}

// `uses_before: T` / `uses_after: T`, or the mapping `{jtype: T, with: {...}}`
// (its `with` returned; uses_*_with given beside it wins key by key).
Value parse_stage(const YAML::Node& v, const FieldReader& in, const std::string& where,
                  const std::string& key, std::string& type, ConfigOrigin& origin) {
  if (!v.IsMap()) {
    type = in.string(v, where);
    return Value::object();
  }
  auto m = parse_uses_mapping(v, in, where);
  if (m.metas.values.size() > 0)
    fail(v["metas"], where + ".metas",
         "is not supported for " + key + " (it runs in the head, with the deployment's metas)");
  type = m.jtype;
  record_lines(m.with_node, key + ".with", origin);
  return m.with;
}

DeploymentOptions parse_executor(const YAML::Node& entry, int index, const FieldReader& in) {
  auto prefix = "executors[" + std::to_string(index) + "]";
  if (!entry.IsMap())
    fail(entry, prefix,
         "expected a mapping with name and uses, got " + detail::describe_node(entry));
  check_keys(entry, prefix);
  DeploymentOptions d;
  d.origin = ConfigOrigin{in.file(), {}, detail::line_of(entry), index};
  UsesMapping uses_mapping;
  Metas metas;
  Value before_with = Value::object();  // from `uses_before: {with: ...}`
  Value after_with = Value::object();
  bool has_timeout = false;
  for (const auto& kv : entry) {
    const auto& key = kv.first.Scalar();
    const auto& v = kv.second;
    auto where = prefix + "." + key;
    d.origin.key_lines[key] = detail::line_of(kv.first);
    if (key == "name") {
      d.name = in.string(v, where);
    } else if (key == "uses") {
      if (v.IsMap()) {
        uses_mapping = parse_uses_mapping(v, in, where);
        d.uses = uses_mapping.jtype;
      } else {
        d.uses = in.string(v, where);
      }
    } else if (key == "uses_with") {
      d.uses_with = in.mapping(v, where);
      record_lines(v, "uses_with", d.origin);
    } else if (key == "uses_metas") {
      metas = parse_metas(v, in, where);
      d.uses_metas = metas.values;
    } else if (key == "workspace") {
      d.workspace = in.path(in.string(v, where));
    } else if (key == "replicas") {
      d.replicas = static_cast<uint32_t>(in.integer(v, where, 1, UINT32_MAX));
    } else if (key == "shards") {
      d.shards = static_cast<uint32_t>(in.integer(v, where, 1, UINT32_MAX));
    } else if (key == "polling") {
      d.polling = in.polling(v, where);
    } else if (key == "needs") {
      d.needs = v.IsNull() ? std::vector<std::string>{} : in.strings(v, where);
    } else if (key == "timeout" || key == "timeout_send") {
      if (has_timeout)
        fail(kv.first, where, "give either timeout or timeout_send, not both");
      has_timeout = true;
      // Jina's timeout_send uses -1 for "no timeout"; caflow spells it 0.
      auto ms = v.IsNull() ? 0 : in.integer(v, where, key == "timeout" ? 0 : -1, INT64_MAX);
      d.timeout = std::chrono::milliseconds{std::max<int64_t>(ms, 0)};
    } else if (key == "retries") {
      d.retries = static_cast<uint32_t>(in.integer(v, where, 0, UINT32_MAX));
    } else if (key == "write_consistency") {
      d.write_consistency = static_cast<uint32_t>(in.integer(v, where, 1, UINT32_MAX));
    } else if (key == "hosts") {
      Value::Array hosts;
      for (auto& h : node_list(v, in, where))
        hosts.emplace_back(std::move(h));
      d.uses_metas["hosts"] = Value{std::move(hosts)};
    } else if (key == "uses_dynamic_batching") {
      d.dynamic_batching = parse_batching(v, in, where);
    } else if (key == "when") {
      d.when = parse_when(v, in, where);
    } else if (key == "uses_before") {
      before_with = parse_stage(v, in, where, key, d.uses_before, d.origin);
    } else if (key == "uses_after") {
      after_with = parse_stage(v, in, where, key, d.uses_after, d.origin);
    } else if (key == "uses_before_with") {
      d.uses_before_with = in.mapping(v, where);
      record_lines(v, key, d.origin);
    } else if (key == "uses_after_with") {
      d.uses_after_with = in.mapping(v, where);
      record_lines(v, key, d.origin);
    } else {
      unknown_key(kv.first, where, JinaScope::executor, executor_keys);
    }
  }
  if (!entry["name"])
    fail(entry, prefix + ".name", "is required (a unique name for the executor)");
  if (!entry["uses"])
    fail(entry, prefix + ".uses", "is required (the executor type)");
  for (auto [stage, with_key] :
       {std::pair{"uses_before", "uses_before_with"}, std::pair{"uses_after", "uses_after_with"}})
    if (entry[with_key] && !entry[stage])
      fail(entry[with_key], prefix + "." + with_key,
           std::string{"is given without "} + stage + " (the executor it configures)");
  before_with.merge(d.uses_before_with);
  d.uses_before_with = std::move(before_with);
  after_with.merge(d.uses_after_with);
  d.uses_after_with = std::move(after_with);
  // Jina: the deployment's uses_with and uses_metas override the ones given
  // with the type.
  // uses_with keys given only with the type keep the line they came from.
  record_lines(uses_mapping.with_node, "uses.with", d.origin);
  uses_mapping.with.merge(d.uses_with);
  d.uses_with = std::move(uses_mapping.with);
  if (uses_mapping.metas.values.size() > 0) {
    uses_mapping.metas.values.merge(d.uses_metas);
    d.uses_metas = std::move(uses_mapping.metas.values);
  }
  if (!metas.workspace) {
    metas.workspace = uses_mapping.metas.workspace;
    metas.workspace_node = uses_mapping.metas.workspace_node;
  }
  if (!metas.name) {
    metas.name = uses_mapping.metas.name;
    metas.name_node = uses_mapping.metas.name_node;
  }
  if (metas.name && *metas.name != d.name)
    fail(metas.name_node, prefix + ".uses_metas.name",
         "'" + *metas.name + "' differs from the executor's name '" + d.name
           + "' (caflow names an executor by name:)");
  if (metas.workspace) {
    if (!d.workspace.empty() && d.workspace != *metas.workspace)
      fail(metas.workspace_node, prefix + ".uses_metas.workspace",
           "'" + *metas.workspace + "' differs from workspace: '" + d.workspace
             + "' (give one of them)");
    d.workspace = *metas.workspace;
  }
  return d;
}

Flow parse_root(const YAML::Node& root, const FieldReader& in) {
  if (!root.IsMap())
    fail(
      root, "flow",
      "expected a mapping with executors (Jina's Flow schema), got " + detail::describe_node(root));
  check_keys(root, "");
  for (const auto& kv : root) {
    const auto& key = kv.first.Scalar();
    if (!among(key, flow_keys))
      fail(kv.first, key, "unknown key" + detail::suggest(key, flow_keys));
  }
  if (auto jtype = root["jtype"]; jtype && in.string(jtype, "jtype") != "Flow")
    fail(jtype, "jtype", "expected 'Flow', got '" + jtype.Scalar() + "'");
  FlowOptions options;
  if (auto with = root["with"])
    parse_with(with, in, options);
  Flow flow{std::move(options)};
  auto executors = root["executors"];
  if (!executors || executors.IsNull())
    return flow;
  if (!executors.IsSequence())
    fail(executors, "executors",
         "expected a list of executors, got " + detail::describe_node(executors));
  for (size_t i = 0; i < executors.size(); ++i)
    flow.add(parse_executor(executors[i], static_cast<int>(i), in));
  return flow;
}

caf::expected<Flow> parse_text(const std::string& text, const FieldReader& in) {
  const auto& file = in.file();
  try {
    return parse_root(YAML::Load(text), in);
  } catch (const YamlConfigError& e) {
    return make_error(errc::invalid_config,
                      file + ":" + std::to_string(e.line) + ": " + e.key + ": " + e.what);
  } catch (const YAML::Exception& e) {
    // ParserException and friends: yaml-cpp's mark is 0-based.
    auto pos = e.mark.is_null()
                 ? std::string{}
                 : std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ":";
    return make_error(errc::invalid_config, file + ":" + pos + " " + e.msg);
  } catch (const std::exception& e) {
    return make_error(errc::invalid_config, file + ": " + e.what());
  } catch (...) {
    return make_error(errc::invalid_config, file + ": unknown error while reading the flow");
  }
}

}  // namespace

caf::expected<Flow> Flow::parse(const std::string& yaml, const std::string& file) {
  // No file on disk: relative paths stay as given.
  return parse_text(yaml, FieldReader{file, std::nullopt});
}

caf::expected<Flow> Flow::load(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return make_error(errc::io_error, "cannot open " + path + ": is a directory");
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(errc::io_error, "cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return make_error(errc::io_error, "cannot read " + path + ": " + std::strerror(errno));
  // Relative paths in the file are resolved against its directory, so that a
  // config means the same whatever the working directory (Jina resolves them
  // against the working directory).
  return parse_text(text.str(), FieldReader{path, std::filesystem::path{path}.parent_path()});
}

}  // namespace caflow
