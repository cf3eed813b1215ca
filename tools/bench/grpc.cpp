// gRPC: the two no-op executor flow served over Jina's gRPC protocol
// (jina.JinaRPC/Call, one stream with `prefetch` requests in flight) and
// over HTTP, driven by caflow's client from another process, both in the
// same run against the same server process.
//
//   caflow-bench grpc [--docs=1000000] [--request-size=100] [--prefetch=32]
//                     [--grpc-streams=4] [--rtt-samples=2000] [--io-threads=1]
//                     [--rounds=3] [--grpc-only]
//
// Each round also runs gRPC against a second flow in the same server
// process whose NoOp replicas run detached (uses_metas runs_on_scheduler:
// false): the server CPU per request of the two, as `detached_*`.
//
// The gRPC load comes from bench/grpc_load.hpp: `prefetch` requests in
// flight spread over `grpc-streams` channels, as several Jina clients with
// prefetch would send them; HTTP gets as many connections in flight.
#include <algorithm>
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
  // Enough in flight and enough documents that the client's streams keep
  // the server busy for a second or more (flags given override these).
  if (arg(argc, argv, "prefetch", 0) == 0)
    s.prefetch = 32;
  if (arg(argc, argv, "docs", 0) == 0)
    s.docs = 1000000;
  // --rounds alternations of the two (the machine is shared and noisy):
  // every phase printed, medians in the summary.
  auto rounds = std::max<long long>(1, arg(argc, argv, "rounds", 3));
  // --grpc-only: no HTTP phase (e.g. to profile the gRPC path alone).
  bool grpc_only = flag(argc, argv, "grpc-only");
  for (long long r = 0; r < rounds; ++r)
    for (std::string p : {"grpc-detached", "grpc", "http"})
      if (!grpc_only || p == "grpc")
        s.phases.push_back(p);
  auto phases = run_gateway_phases(argc, argv, s);
  auto grpc = median_of(phases, "grpc");
  auto http = median_of(phases, "http");
  auto detached = median_of(phases, "grpc-detached");
  for (const auto& f : phases)
    emit({{"bench", "grpc"},
          {"part", f.phase},
          {"docs", static_cast<int64_t>(s.docs)},
          {"request_size", static_cast<int64_t>(s.request_size)},
          {"prefetch", static_cast<int64_t>(s.prefetch)},
          {"grpc_streams", static_cast<int64_t>(s.grpc_streams)},
          {"docs_per_s", f.docs_per_s},
          {"rtt_p50_us", f.rtt_p50_us},
          {"rtt_p99_us", f.rtt_p99_us},
          {"server_cpu_us_per_request", f.server_cpu_us_per_request},
          {"server_switches_per_request", f.server_switches_per_request},
          {"server_faults_per_request", f.server_faults_per_request}});
  emit({{"bench", "grpc"},
        {"docs_per_s", grpc.docs_per_s},
        {"rtt_p50_us", grpc.rtt_p50_us},
        {"rtt_p99_us", grpc.rtt_p99_us},
        {"http_docs_per_s", http.docs_per_s},
        {"ratio_vs_http", http.docs_per_s > 0 ? grpc.docs_per_s / http.docs_per_s : 0.0},
        {"server_cpu_us_per_request", grpc.server_cpu_us_per_request},
        {"http_server_cpu_us_per_request", http.server_cpu_us_per_request},
        {"detached_docs_per_s", detached.docs_per_s},
        {"detached_server_cpu_us_per_request", detached.server_cpu_us_per_request},
        {"server_cpu_ratio_vs_detached",
         detached.server_cpu_us_per_request > 0
           ? grpc.server_cpu_us_per_request / detached.server_cpu_us_per_request
           : 0.0},
        {"vs_jina_grpc", grpc.docs_per_s / jina_grpc_docs_per_s},
        {"prefetch", static_cast<int64_t>(s.prefetch)},
        {"grpc_streams", static_cast<int64_t>(s.grpc_streams)},
        {"rounds", static_cast<int64_t>(rounds)},
        {"load_average", load_average()}});
  return 0;
}

}  // namespace caflow::bench
