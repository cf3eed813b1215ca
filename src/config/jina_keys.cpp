// The Jina 3 keys caflow refuses, per scope, each with what to do instead.
// The lists come from Jina 3's Flow and Executor (Deployment) arguments.
#include "config/jina_keys.hpp"

#include <algorithm>
#include <span>

namespace caflow::detail {

namespace {

struct Refusal {
  std::string_view key;
  std::string_view why;
};

constexpr std::string_view not_implemented = "caflow does not implement it (remove it)";

constexpr Refusal flow_with[] = {
  {"cors", not_implemented},
  {"env", "caflow sets no environment: set it for the caflow process"},
  {"env_from_secret", not_implemented},
  {"monitoring", "caflow's gateway always serves Prometheus metrics at GET /metrics: remove it"},
  {"port_monitoring", "metrics are served on the gateway's port at GET /metrics: remove it"},
  {"prefetch",
   "caflow bounds the requests in flight with max_in_flight (and `caflow post "
   "--prefetch` on the client)"},
  {"timeout_ready", not_implemented},
  {"timeout_send", "set timeout: on each executor"},
  {"retries", "set retries: on each executor"},
  {"title", not_implemented},
  {"description", not_implemented},
  {"no_debug_endpoints", not_implemented},
  {"no_crud_endpoints", not_implemented},
  {"expose_endpoints", not_implemented},
  {"uses", "caflow's gateway is built in: remove it"},
  {"uses_with", "caflow's gateway is built in and takes no uses_with"},
  {"py_modules", "caflow loads executors from C++ plugins: with: {plugins: [libx.so]}"},
  {"log_config", not_implemented},
  {"quiet", not_implemented},
  {"quiet_error", not_implemented},
  {"compression", not_implemented},
  {"grpc_server_options", "caflow's gateway speaks HTTP"},
  {"ssl_certfile", "the gateway serves plain HTTP; with.tls secures the cluster connections"},
  {"ssl_keyfile", "the gateway serves plain HTTP; with.tls secures the cluster connections"},
  {"reload", not_implemented},
  {"tracing", not_implemented},
  {"traces_exporter_host", not_implemented},
  {"traces_exporter_port", not_implemented},
  {"metrics", "caflow's gateway always serves Prometheus metrics at GET /metrics: remove it"},
  {"metrics_exporter_host", not_implemented},
  {"metrics_exporter_port", not_implemented},
};

constexpr std::string_view elsewhere
  = "caflow runs every replica in the flow's process or on a caflow node; to run it on "
    "another machine, start `caflow node` there and give hosts: [HOST:PORT]";

constexpr Refusal executor[] = {
  {"external", elsewhere},
  {"host", elsewhere},
  {"port", elsewhere},
  {"port_monitoring", "metrics are served by the gateway at GET /metrics: remove it"},
  {"monitoring", "metrics are served by the gateway at GET /metrics: remove it"},
  {"py_modules", "caflow loads executors from C++ plugins: with: {plugins: [libx.so]}"},
  {"env", "caflow sets no environment per executor: set it for the caflow process"},
  {"env_from_secret", not_implemented},
  {"floating", not_implemented},
  {"uses_requests", "endpoints are bound in the executor's C++ code (on(\"/index\", ...))"},
  {"tls", "TLS between the flow and its nodes is with.tls, for the whole flow"},
  {"uses_before", not_implemented},
  {"uses_after", not_implemented},
  {"uses_before_address", not_implemented},
  {"uses_after_address", not_implemented},
  {"gpus", not_implemented},
  {"reload", not_implemented},
  {"install_requirements", not_implemented},
  {"force_update", not_implemented},
  {"quiet", not_implemented},
  {"quiet_error", not_implemented},
  {"output_array_type", not_implemented},
  {"exit_on_exceptions", not_implemented},
  {"no_reduce", "reducing is part of polling ALL: use polling ANY to get one shard's answer"},
  {"disable_reduce", "reducing is part of polling ALL: use polling ANY to get one shard's answer"},
  {"timeout_ready", not_implemented},
  {"upload_files", not_implemented},
  {"entrypoint", not_implemented},
  {"docker_kwargs", not_implemented},
  {"volumes", not_implemented},
  {"grpc_metadata", not_implemented},
  {"grpc_server_options", not_implemented},
  {"log_config", not_implemented},
  {"compression", not_implemented},
  {"native", not_implemented},
  {"stateful",
   "an executor type is stateful when it is registered so "
   "(CAFLOW_REGISTER_STATEFUL_EXECUTOR_AS)"},
  {"peer_ports", not_implemented},
  {"allow_concurrent", not_implemented},
  {"protocol", "executors talk to their head through CAF messages, not a protocol of their own"},
};

constexpr Refusal uses[] = {
  {"py_modules", "caflow loads executors from C++ plugins: with: {plugins: [libx.so]}"},
  {"requests", "endpoints are bound in the executor's C++ code (on(\"/index\", ...))"},
  {"dynamic_batching", not_implemented},
};

constexpr Refusal metas[] = {
  {"py_modules", "caflow loads executors from C++ plugins: with: {plugins: [libx.so]}"},
  {"hosts", "give hosts: on the executor"},
};

std::optional<std::string_view> find(std::span<const Refusal> table, std::string_view key) {
  auto i = std::find_if(table.begin(), table.end(), [&](const Refusal& r) { return r.key == key; });
  if (i == table.end())
    return std::nullopt;
  return i->why;
}

}  // namespace

std::optional<std::string_view> jina_unsupported(JinaScope scope, std::string_view key) noexcept {
  switch (scope) {
    case JinaScope::flow_with:
      return find(flow_with, key);
    case JinaScope::executor:
      return find(executor, key);
    case JinaScope::uses:
      return find(uses, key);
    case JinaScope::metas:
      return find(metas, key);
  }
  return std::nullopt;
}

}  // namespace caflow::detail
