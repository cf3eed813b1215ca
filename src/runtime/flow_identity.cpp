#include "runtime/flow_identity.hpp"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "caflow/errors.hpp"
#include "caflow/polling.hpp"
#include "storage/atomic_file.hpp"

namespace caflow::detail {

bool valid_flow_identity(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.size() > 200)
    return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'
          || c == ':'))
      return false;
  return true;
}

caf::expected<std::string> flow_identity(const std::string& workspace,
                                         const std::string& flow_name) {
  std::string name;
  for (char c : flow_name)  // the name part must be a path component too
    name.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
  if (name.empty())
    name = "flow";
  if (workspace.empty())
    return "name:" + name;
  auto path = std::filesystem::path{workspace} / flow_identity_file;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in{path};
    std::string id;
    std::getline(in, id);
    if (!valid_flow_identity(id))
      return make_error(errc::invalid_config, path.string() + ": not a flow identity: '" + id
                                                + "' (delete the file to make a new one, only "
                                                  "if this workspace holds no data)");
    return id;
  }
  std::filesystem::create_directories(workspace, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create " + workspace + ": " + ec.message());
  std::random_device rd;
  std::mt19937_64 rng{(static_cast<uint64_t>(rd()) << 32) ^ rd()};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(rng()));
  auto id = name + "-" + hex;
  if (auto err = write_file_atomically(path.string(), id + "\n"))
    return err;
  return id;
}

std::vector<std::string> apply_stateful_defaults(DeploymentOptions& spec) {
  std::vector<std::string> warnings;
  auto entries = spec.polling.entries();
  for (const auto& endpoint : stateful_write_endpoints) {
    const bool insert = endpoint == "/index";
    auto i = entries.find(endpoint);
    if (i == entries.end()) {
      // Falling back to `*`: ALL and PARTITION reach the shard that holds an
      // id, ANY (Jina's default) does not; and /index under ALL would store
      // every document on every shard.
      auto fallback = spec.polling.mode_for(endpoint);
      if (fallback == PollingMode::any || (insert && fallback == PollingMode::all))
        entries[endpoint] = "PARTITION";
      continue;
    }
    auto mode = parse_polling_mode(i->second);
    if (!mode || spec.shards <= 1)
      continue;
    auto where = "executor '" + spec.name + "' (" + spec.uses + ", " + std::to_string(spec.shards)
                 + " shards): polling['" + endpoint + "'] is ";
    if (*mode == PollingMode::any)
      warnings.push_back(
        where
        + "ANY: each request goes to whichever shard takes it, so a re-indexed id can be "
          "stored on two shards, /update and /delete then reach only one copy, and /count "
          "counts both. PARTITION (the default for stateful executors) sends each id to its "
          "own shard.");
    else if (*mode == PollingMode::all && insert)
      warnings.push_back(where
                         + "ALL: every shard stores every document, so /count and searches "
                           "count each one once per shard. PARTITION (the default for stateful "
                           "executors) stores each id on its own shard.");
  }
  spec.polling = Polling{std::move(entries)};
  return warnings;
}

}  // namespace caflow::detail
