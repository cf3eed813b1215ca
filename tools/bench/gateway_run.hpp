// The gateway benchmarks' machinery (caflow-bench http, caflow-bench grpc):
// the two no-op executor flow served over HTTP and gRPC by this process, a
// client in another process (this binary re-executed), and "phases" that
// the client runs one after the other against one server process.
//
// A phase is a protocol ("http" or "grpc"), optionally with "-legacy": the
// server then takes the former path into the gateway, an actor spawned per
// request (detail::use_actor_per_request), so that both are measured in one
// run. "-scheduler": the HTTP server's bridge hosts by the scheduler instead
// of the I/O thread that asks (detail::force_scheduler_hosting), the path
// before caller hosting. Per phase the client warms up, posts `docs` documents in requests of
// `request_size` with `prefetch` in flight, then times single-document
// round trips. Around the throughput part the client tells the server
// (BEGIN/END lines on its standard output, each acknowledged on its standard
// input), and the server reads its own CPU time (getrusage: every thread of
// the process, the flow's included) to get server CPU per request.
//
// The benchmark forks before it creates an actor system (the child execs
// at once); the child reads the ports on its standard input.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace caflow::bench {

struct GatewaySettings {
  size_t docs = 200000;
  size_t request_size = 100;
  size_t prefetch = 8;
  int rtt_samples = 2000;
  unsigned io_threads = 1;
  /// gRPC: the requests in flight (`prefetch`) spread over this many
  /// channels, each with a stream and a client thread (bench/grpc_load.hpp).
  size_t grpc_streams = 4;
  std::vector<std::string> phases;  // "http", "grpc", "http-legacy", "http-scheduler", ...
};

/// What one phase measured.
struct PhaseFigures {
  std::string phase;
  double docs_per_s = 0;
  double rtt_p50_us = 0;
  double rtt_p99_us = 0;
  size_t requests = 0;                     // in the throughput part
  double server_cpu_us_per_request = 0;    // the server's CPU time over those
  double server_switches_per_request = 0;  // the server's context switches
  double server_faults_per_request = 0;    // the server's minor page faults
};

/// The settings from argv (--docs, --request-size, --prefetch, --rtt-samples,
/// --io-threads, --grpc-streams); phases are the caller's.
GatewaySettings gateway_settings(int argc, char** argv);

/// Runs the phases (the server here, the client in a child process) and
/// returns their figures in order. Throws caflow::Error on failure.
std::vector<PhaseFigures> run_gateway_phases(int argc, char** argv,
                                             const GatewaySettings& settings);

/// The median of each figure over the runs of `phase` in `all` (phases may
/// repeat, alternating, so that the machine's load shifts hit both sides).
PhaseFigures median_of(const std::vector<PhaseFigures>& all, const std::string& phase);

/// True when argv is the client's (run_gateway_phases re-executed this
/// binary); then run_gateway_client is what to run.
bool is_gateway_client(int argc, char** argv);

/// The client process's main.
int run_gateway_client(int argc, char** argv);

}  // namespace caflow::bench
