// gRPC: the two no-op executor flow served over Jina's gRPC protocol
// (jina.JinaRPC/Call, one stream with `prefetch` requests in flight) and
// over HTTP, driven by caflow's client from another process, both in the
// same run against the same server process.
//
//   caflow-bench grpc [--docs=200000] [--request-size=100] [--prefetch=8]
//                     [--rtt-samples=2000] [--io-threads=1]
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "bench/gateway_run.hpp"

namespace caflow::bench {

namespace {

// Jina 3.0.0's own gRPC gateway through the same flow on this machine's
// kind, as quoted in issue 16: a reference, not measured here.
constexpr double jina_grpc_docs_per_s = 12900;

}  // namespace

int run_grpc_bench(int argc, char** argv) {
  if (is_gateway_client(argc, argv))
    return run_gateway_client(argc, argv);
  auto s = gateway_settings(argc, argv);
  s.phases = {"grpc", "http"};
  auto phases = run_gateway_phases(argc, argv, s);
  const auto& grpc = phases[0];
  const auto& http = phases[1];
  for (const auto& f : phases)
    emit({{"bench", "grpc"},
          {"part", f.phase},
          {"docs", static_cast<int64_t>(s.docs)},
          {"request_size", static_cast<int64_t>(s.request_size)},
          {"prefetch", static_cast<int64_t>(s.prefetch)},
          {"docs_per_s", f.docs_per_s},
          {"rtt_p50_us", f.rtt_p50_us},
          {"rtt_p99_us", f.rtt_p99_us},
          {"server_cpu_us_per_request", f.server_cpu_us_per_request},
          {"server_switches_per_request", f.server_switches_per_request}});
  emit({{"bench", "grpc"},
        {"docs_per_s", grpc.docs_per_s},
        {"rtt_p50_us", grpc.rtt_p50_us},
        {"rtt_p99_us", grpc.rtt_p99_us},
        {"http_docs_per_s", http.docs_per_s},
        {"ratio_vs_http", grpc.docs_per_s / http.docs_per_s},
        {"server_cpu_us_per_request", grpc.server_cpu_us_per_request},
        {"http_server_cpu_us_per_request", http.server_cpu_us_per_request},
        {"vs_jina_grpc", grpc.docs_per_s / jina_grpc_docs_per_s}});
  return 0;
}

}  // namespace caflow::bench
