// Flow::add and Flow::validate: the checks that need the whole flow (names,
// needs, cycles) or the running process (registered executor types).
#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <variant>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "config/flow_graph.hpp"
#include "config/yaml_value.hpp"
#include "runtime/doc_filter.hpp"

namespace caflow {

namespace {

bool valid_name(const std::string& name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
           || c == '-';
  });
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names)
    out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

int line_of(const DeploymentOptions& d, const std::string& key) {
  auto i = d.origin.key_lines.find(key);
  return i != d.origin.key_lines.end() ? i->second : d.origin.line;
}

// "flow.yml:4" or "position 0", for notes that point at another deployment.
std::string location(const DeploymentOptions& d, size_t pos) {
  if (d.origin.file.empty())
    return "position " + std::to_string(pos);
  return d.origin.file + ":" + std::to_string(line_of(d, "name"));
}

// "FILE:LINE: executors[I].KEY: " from YAML, "deployment 'NAME': KEY: " from
// code. `pos` is the position in the flow, for a deployment with no origin.
// `suffix` extends the shown key, e.g. "['/index']" after "polling".
std::string where(const DeploymentOptions& d, size_t pos, const std::string& key,
                  const std::string& suffix = "") {
  const auto& o = d.origin;
  if (!o.file.empty()) {
    auto index = o.index >= 0 ? static_cast<size_t>(o.index) : pos;
    return o.file + ":" + std::to_string(line_of(d, key)) + ": executors[" + std::to_string(index)
           + "]." + key + suffix + ": ";
  }
  if (d.name.empty())
    return "deployment #" + std::to_string(pos) + ": " + key + suffix + ": ";
  return "deployment '" + d.name + "': " + key + suffix + ": ";
}

caf::error config_error(const DeploymentOptions& d, size_t pos, const std::string& key,
                        const std::string& message, errc code = errc::invalid_config) {
  return make_error(code, where(d, pos, key) + message);
}

// Every uses_with key must be one that the executor type declared (when it
// declared any): a typo (`metirc`) would otherwise leave the default in force
// without a word. `key` is where the keys were given ("uses_with", or
// "uses_before_with" for uses_before); keys given with the type (`uses:
// {with: ...}`) are named there.
caf::error check_with(const DeploymentOptions& d, size_t pos, const std::string& type,
                      const Params& with, const std::string& key, const std::string& type_key) {
  if (!with.is_object())
    return {};
  auto declared = ExecutorRegistry::instance().uses_with_keys(type);
  if (!declared)
    return {};
  for (const auto& [name, value] : with.as_object()) {
    if (std::binary_search(declared->begin(), declared->end(), name))
      continue;
    auto shown = d.origin.key_lines.count(key + "." + name) == 0
                     && d.origin.key_lines.count(type_key + ".with." + name) > 0
                   ? type_key + ".with." + name
                   : key + "." + name;
    if (declared->empty())
      return config_error(d, pos, shown, type + " takes no uses_with keys");
    std::vector<std::string_view> known(declared->begin(), declared->end());
    return config_error(d, pos, shown, "unknown key for " + type + detail::suggest(name, known));
  }
  return {};
}

// uses_before / uses_after: registered types, their uses_with keys known.
caf::error check_stages(const DeploymentOptions& d, size_t pos) {
  const auto& registry = ExecutorRegistry::instance();
  for (auto [type, with, key] :
       {std::tuple{&d.uses_before, &d.uses_before_with, std::string{"uses_before"}},
        std::tuple{&d.uses_after, &d.uses_after_with, std::string{"uses_after"}}}) {
    if (type->empty()) {
      if (with->is_object() && with->size() > 0)
        return config_error(d, pos, key + "_with",
                            "is given without " + key + " (the executor it configures)");
      continue;
    }
    if (!registry.contains(*type))
      return config_error(
        d, pos, key,
        "unknown executor type '" + *type + "' (known: " + joined(registry.names()) + ")",
        errc::unknown_executor);
    if (auto err = check_with(d, pos, *type, *with, key + "_with", key))
      return err;
  }
  return {};
}

// `when` compiles (the YAML loader checked it already, naming its line).
caf::error check_when(const DeploymentOptions& d, size_t pos) {
  if (d.when.is_null())
    return {};
  auto compiled = detail::DocFilter::compile(d.when);
  auto* e = std::get_if<detail::FilterError>(&compiled);
  if (!e)
    return {};
  auto at = e->joined_path();
  auto suffix = at.empty() ? "" : (at.front() == '[' ? "" : ".") + at;
  return make_error(errc::invalid_config, where(d, pos, "when", suffix) + e->what);
}

}  // namespace

Flow& Flow::add(DeploymentOptions deployment) {
  deployments_.push_back(std::move(deployment));
  return *this;
}

caf::error Flow::validate() const {
  const auto& registry = ExecutorRegistry::instance();
  std::map<std::string, size_t, std::less<>> first_of;  // name -> position
  for (size_t i = 0; i < deployments_.size(); ++i)
    first_of.emplace(deployments_[i].name, i);
  std::vector<std::string> all_names;
  for (const auto& d : deployments_)
    all_names.push_back(d.name);
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < deployments_.size(); ++i) {
    const auto& d = deployments_[i];
    if (d.name.empty())
      return config_error(d, i, "name", "must not be empty");
    if (!valid_name(d.name))
      return config_error(d, i, "name",
                          "'" + d.name + "' may only hold letters, digits, '_' and '-'");
    if (d.name == detail::gateway_name)
      return config_error(d, i, "name",
                          "'gateway' is reserved: in needs it means the start of the flow");
    if (!seen.insert(d.name).second) {
      auto first = first_of[d.name];
      return config_error(
        d, i, "name",
        "'" + d.name + "' is used twice (first at " + location(deployments_[first], first) + ")");
    }
    if (d.uses.empty())
      return config_error(d, i, "uses", "must name an executor type");
    if (!registry.contains(d.uses))
      return config_error(
        d, i, "uses",
        "unknown executor type '" + d.uses + "' (known: " + joined(registry.names()) + ")",
        errc::unknown_executor);
    if (auto err = check_with(d, i, d.uses, d.uses_with, "uses_with", "uses"))
      return err;
    if (auto err = check_stages(d, i))
      return err;
    if (const Value* on = d.uses_metas.is_object() ? d.uses_metas.find("runs_on_scheduler")
                                                   : nullptr;
        on != nullptr && !on->is_bool())
      return config_error(
        d, i, "uses_metas",
        std::string{"runs_on_scheduler: expected true or false, got "} + to_string(on->kind()));
    if (d.replicas < 1)
      return config_error(d, i, "replicas", "must be at least 1, got 0");
    if (d.shards < 1)
      return config_error(d, i, "shards", "must be at least 1, got 0");
    for (const auto& [endpoint, batching] : d.dynamic_batching)
      if (batching.preferred_batch_size < 1)
        return config_error(d, i, "uses_dynamic_batching",
                            endpoint + ": preferred_batch_size must be at least 1, got 0");
    if (auto err = d.polling.validate()) {
      // Polling names the bad entry ("polling['/x']: ..."): keep it in the key.
      auto message = error_message(err);
      std::string entry;
      if (auto end = message.find("]: ");
          message.rfind("polling[", 0) == 0 && end != std::string::npos) {
        entry = message.substr(7, end - 6);
        message.erase(0, end + 3);
      }
      return make_error(errc::invalid_config, where(d, i, "polling", entry) + message);
    }
    if (auto err = check_when(d, i))
      return err;
    std::set<std::string_view> listed;
    for (const auto& need : d.needs) {
      if (!listed.insert(need).second)
        return config_error(d, i, "needs", "lists '" + need + "' twice");
      if (need != detail::gateway_name && first_of.find(need) == first_of.end())
        return config_error(d, i, "needs",
                            "'" + need + "' is no deployment of this flow (known: "
                              + joined(all_names) + ", gateway)");
    }
  }
  if (auto cycle = detail::find_needs_cycle(deployments_); !cycle.empty()) {
    const auto& d = deployments_[cycle.front()];
    std::string message = "needs cycle: " + detail::format_cycle(deployments_, cycle);
    // A cycle may run through a deployment that needs its predecessor only
    // by default: say so, or the user looks for an edge that is not written.
    for (size_t k = 0; k < cycle.size(); ++k)
      if (deployments_[cycle[k]].needs.empty()) {
        message += " (a deployment without needs follows the previous one)";
        break;
      }
    return config_error(d, cycle.front(), "needs", message);
  }
  return {};
}

}  // namespace caflow
