// HTTP: the two no-op executor flow served over HTTP, driven by caflow's
// client from another process, against the same flow in process, in one run.
//
//   caflow-bench http [--docs=200000] [--request-size=100] [--prefetch=8]
//                     [--rtt-samples=2000] [--io-threads=1] [--server-cpu]
//                     [--rounds=3] [--legacy] [--no-in-process] [--only=PHASE,...]
//
// --server-cpu adds the gateway's own cost: server CPU time per request
// (every thread of the server process, from its own getrusage) over HTTP and
// gRPC, side by side in the same run with the baseline: a second flow in the
// same server process whose NoOp replicas run detached, on threads of their
// own (uses_metas runs_on_scheduler: false), as every replica did before
// executors could declare runs_on_scheduler; and the same flow with the HTTP
// and gRPC bridges hosted by the scheduler ("http-scheduler",
// "grpc-scheduler": the path before the I/O thread or gRPC's callback thread
// carried requests through the flow, runtime/inline_unit.hpp).
// --legacy adds the former path
// into the gateway (an actor spawned per request). --rounds alternations,
// medians in the summary (the machine is shared and noisy).
// --only=http,grpc runs just those phases (e.g. to profile the server under
// one of them: perf record -p <this process>) and prints their lines, no
// summary.
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "bench/gateway_run.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"

namespace caflow::bench {

namespace {

// Jina 3.0.0 through the same two-executor flow on this machine's kind, as
// quoted in the issue: a reference, not measured here.
constexpr double jina_docs_per_s = 9100;

// The same flow in process: throughput, then single-document round trips.
PhaseFigures in_process(const GatewaySettings& s) {
  Flow flow;
  flow.add({.name = "first", .uses = "NoOp"}).add({.name = "second", .uses = "NoOp"});
  auto running = flow.start();
  if (!running)
    throw Error(running.error());
  auto post = [&](DocumentArray docs, size_t size, size_t prefetch) {
    return running->post("/index", std::move(docs), {.request_size = size, .prefetch = prefetch});
  };
  if (auto warm = post(hello_docs(std::min<size_t>(s.docs, 2000)), s.request_size, s.prefetch);
      !warm)
    throw Error(warm.error());
  PhaseFigures f;
  f.phase = "in_process";
  auto docs = hello_docs(s.docs);
  auto start = clock::now();
  auto result = post(std::move(docs), s.request_size, s.prefetch);
  auto secs = seconds_since(start);
  if (!result)
    throw Error(result.error());
  f.docs_per_s = static_cast<double>(s.docs) / secs;
  std::vector<double> rtts;
  for (int i = 0; i < s.rtt_samples + 200; ++i) {
    auto t0 = clock::now();
    if (auto r = post(hello_docs(1), 1, 1); !r)
      throw Error(r.error());
    if (i >= 200)
      rtts.push_back(seconds_since(t0) * 1e6);
  }
  f.rtt_p50_us = percentile(rtts, 50);
  f.rtt_p99_us = percentile(rtts, 99);
  return f;
}

Value phase_line(const PhaseFigures& f, const GatewaySettings& s) {
  return Value{{"bench", "http"},
               {"part", f.phase},
               {"docs", static_cast<int64_t>(s.docs)},
               {"request_size", static_cast<int64_t>(s.request_size)},
               {"prefetch", static_cast<int64_t>(s.prefetch)},
               {"docs_per_s", f.docs_per_s},
               {"rtt_p50_us", f.rtt_p50_us},
               {"rtt_p99_us", f.rtt_p99_us},
               {"server_cpu_us_per_request", f.server_cpu_us_per_request},
               {"server_switches_per_request", f.server_switches_per_request},
               {"server_faults_per_request", f.server_faults_per_request}};
}

}  // namespace

int run_http_bench(int argc, char** argv) {
  if (is_gateway_client(argc, argv))
    return run_gateway_client(argc, argv);
  auto s = gateway_settings(argc, argv);
  bool server_cpu = flag(argc, argv, "server-cpu");
  bool legacy = server_cpu && flag(argc, argv, "legacy");
  // With --server-cpu, --rounds alternations of the six (eight), medians reported.
  auto rounds = server_cpu ? std::max<long long>(1, arg(argc, argv, "rounds", 3)) : 1;
  for (long long r = 0; r < rounds; ++r)
    for (std::string p : {"http-detached", "http", "http-scheduler", "grpc-detached", "grpc",
                          "grpc-scheduler", "http-legacy", "grpc-legacy"})
      if (p == "http" || (server_cpu && (legacy || p.find("-legacy") == std::string::npos)))
        s.phases.push_back(p);
  if (auto only = arg_string(argc, argv, "only", ""); !only.empty()) {
    std::vector<std::string> kept;
    for (const auto& p : s.phases)
      if (("," + only + ",").find("," + p + ",") != std::string::npos)
        kept.push_back(p);
    s.phases = std::move(kept);
    if (s.phases.empty())
      throw Error(errc::invalid_argument, "--only names no phase of this run: " + only);
    for (const auto& f : run_gateway_phases(argc, argv, s))
      emit(phase_line(f, s));
    return 0;
  }
  auto phases = run_gateway_phases(argc, argv, s);
  for (const auto& f : phases)
    emit(phase_line(f, s));
  auto http = median_of(phases, "http");
  if (server_cpu) {
    auto http_old = median_of(phases, "http-detached");
    auto grpc_old = median_of(phases, "grpc-detached");
    auto grpc = median_of(phases, "grpc");
    auto http_sched = median_of(phases, "http-scheduler");
    auto grpc_sched = median_of(phases, "grpc-scheduler");
    Value line{
      {"bench", "http"},
      {"part", "server_cpu"},
      {"rounds", static_cast<int64_t>(rounds)},
      {"switches_per_request", http.server_switches_per_request},
      {"baseline_switches_per_request", http_old.server_switches_per_request},
      {"grpc_switches_per_request", grpc.server_switches_per_request},
      {"grpc_baseline_switches_per_request", grpc_old.server_switches_per_request},
      {"server_cpu_us_per_request", http.server_cpu_us_per_request},
      {"baseline_server_cpu_us_per_request", http_old.server_cpu_us_per_request},
      {"ratio", http.server_cpu_us_per_request / http_old.server_cpu_us_per_request},
      {"scheduler_hosting_server_cpu_us_per_request", http_sched.server_cpu_us_per_request},
      {"scheduler_hosting_switches_per_request", http_sched.server_switches_per_request},
      {"scheduler_hosting_docs_per_s", http_sched.docs_per_s},
      {"ratio_to_scheduler_hosting",
       http.server_cpu_us_per_request / http_sched.server_cpu_us_per_request},
      {"docs_per_s", http.docs_per_s},
      {"baseline_docs_per_s", http_old.docs_per_s},
      {"grpc_server_cpu_us_per_request", grpc.server_cpu_us_per_request},
      {"grpc_baseline_server_cpu_us_per_request", grpc_old.server_cpu_us_per_request},
      {"grpc_ratio", grpc.server_cpu_us_per_request / grpc_old.server_cpu_us_per_request},
      {"grpc_docs_per_s", grpc.docs_per_s},
      {"grpc_baseline_docs_per_s", grpc_old.docs_per_s},
      {"grpc_scheduler_hosting_server_cpu_us_per_request", grpc_sched.server_cpu_us_per_request},
      {"grpc_scheduler_hosting_switches_per_request", grpc_sched.server_switches_per_request},
      {"grpc_scheduler_hosting_docs_per_s", grpc_sched.docs_per_s},
      {"grpc_ratio_to_scheduler_hosting",
       grpc.server_cpu_us_per_request / grpc_sched.server_cpu_us_per_request},
      {"baseline",
       "the same server process, a second flow whose NoOp replicas run detached "
       "(uses_metas runs_on_scheduler: false)"},
      {"load_average", load_average()}};
    if (legacy) {
      line["legacy_server_cpu_us_per_request"]
        = median_of(phases, "http-legacy").server_cpu_us_per_request;
      line["grpc_legacy_server_cpu_us_per_request"]
        = median_of(phases, "grpc-legacy").server_cpu_us_per_request;
    }
    emit(line);
  }
  if (flag(argc, argv, "no-in-process"))  // e.g. to profile the server alone
    return 0;

  // The same flow in process, measured after the client finished so that
  // the two do not share the cores.
  auto in = in_process(s);
  emit({{"bench", "http"},
        {"part", "in_process"},
        {"docs_per_s", in.docs_per_s},
        {"rtt_p50_us", in.rtt_p50_us},
        {"rtt_p99_us", in.rtt_p99_us}});
  emit({{"bench", "http"},
        {"docs_per_s", http.docs_per_s},
        {"rtt_p50_us", http.rtt_p50_us},
        {"rtt_p99_us", http.rtt_p99_us},
        {"inproc_docs_per_s", in.docs_per_s},
        {"inproc_rtt_p50_us", in.rtt_p50_us},
        {"inproc_rtt_p99_us", in.rtt_p99_us},
        {"ratio", http.docs_per_s / in.docs_per_s},
        {"rtt_ratio", http.rtt_p50_us / in.rtt_p50_us},
        {"vs_jina_throughput", http.docs_per_s / jina_docs_per_s},
        {"io_threads", static_cast<int64_t>(s.io_threads)}});
  return 0;
}

}  // namespace caflow::bench
