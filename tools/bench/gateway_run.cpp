#include "bench/gateway_run.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "bench/bench_util.hpp"
#include "bench/grpc_load.hpp"
#include "caflow/client.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/grpc_server.hpp"
#include "caflow/json.hpp"
#include "caflow/server.hpp"
#include "runtime/gateway_bridge.hpp"

namespace caflow::bench {

namespace {

constexpr const char* client_flag = "--gateway-client";
constexpr const char* detached_suffix = "-detached";
constexpr const char* legacy_suffix = "-legacy";
constexpr const char* scheduler_suffix = "-scheduler";

// The two no-op executor flow; `detached` overrides NoOp's
// runs_on_scheduler, so that its replicas run on threads of their own.
caf::expected<RunningFlow> noop_flow(bool detached) {
  Params metas = Params::object();
  if (detached)
    metas["runs_on_scheduler"] = false;
  Flow flow;
  flow.add({.name = "first", .uses = "NoOp", .uses_metas = metas})
    .add({.name = "second", .uses = "NoOp", .uses_metas = metas});
  return flow.start();
}

// A flow with its HTTP and gRPC servers.
struct Served {
  std::unique_ptr<RunningFlow> flow;  // the servers hold on to it: it must not move
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<GrpcServer> grpc;
};

Served serve(bool detached, const GatewaySettings& s) {
  Served out;
  auto running = noop_flow(detached);
  if (!running)
    throw Error(running.error());
  out.flow = std::make_unique<RunningFlow>(std::move(*running));
  auto http = HttpServer::start(*out.flow, {.threads = s.io_threads});
  if (!http)
    throw Error(http.error());
  out.http = std::move(*http);
  auto grpc = GrpcServer::start(*out.flow);
  if (!grpc)
    throw Error(grpc.error());
  out.grpc = std::move(*grpc);
  return out;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::istringstream in{s};
  for (std::string part; std::getline(in, part, sep);)
    if (!part.empty())
      out.push_back(part);
  return out;
}

// This process's CPU time (user + system, every thread) in microseconds
// and its context switches (voluntary: a thread waited, e.g. for a message).
struct Usage {
  double cpu_us = 0;
  double switches = 0;
  double faults = 0;  // minor page faults: fresh memory the kernel zeroed
};

Usage usage() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& t) { return t.tv_sec * 1e6 + static_cast<double>(t.tv_usec); };
  return {us(ru.ru_utime) + us(ru.ru_stime), static_cast<double>(ru.ru_nvcsw + ru.ru_nivcsw),
          static_cast<double>(ru.ru_minflt)};
}

void write_line(int fd, const std::string& line) {
  auto text = line + "\n";
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw Error(errc::io_error, "the other benchmark process went away");
}

// ---- the client process --------------------------------------------------------

void say(const std::string& line) {
  std::cout << line << std::endl;
}

void wait_go() {
  std::string line;
  if (!std::getline(std::cin, line) || line != "GO")
    throw Error(errc::io_error, "the server process went away");
}

PhaseFigures client_phase(const std::string& phase, uint16_t port, const GatewaySettings& s) {
  auto protocol = phase.substr(0, phase.find('-'));
  Client client{"127.0.0.1", port, {.protocol = protocol}};
  for (int i = 0; i < 100 && !client.ready(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto post = [&](DocumentArray docs, size_t size, size_t prefetch) {
    return client.post("/index", std::move(docs), {.request_size = size, .prefetch = prefetch});
  };
  if (auto warm = post(hello_docs(std::min<size_t>(s.docs, 2000)), s.request_size, s.prefetch);
      !warm)
    throw Error(warm.error());
  PhaseFigures f;
  f.phase = phase;
  f.requests = (s.docs + s.request_size - 1) / s.request_size;
  if (protocol == "grpc") {
    // Several streams, requests serialised once (bench/grpc_load.hpp).
    auto streams = std::max<size_t>(1, std::min(s.grpc_streams, s.prefetch));
    GrpcLoad load{.address = "127.0.0.1:" + std::to_string(port),
                  .requests = s.docs / s.request_size,
                  .request_size = s.request_size,
                  .streams = streams,
                  .window = (s.prefetch + streams - 1) / streams};
    f.requests = load.requests;
    say("BEGIN " + phase);
    wait_go();
    auto r = run_grpc_load(load);
    say("END " + phase);
    wait_go();
    f.docs_per_s = static_cast<double>(r.docs) / r.seconds;
  } else {
    auto docs = hello_docs(s.docs);
    say("BEGIN " + phase);
    wait_go();
    auto start = clock::now();
    auto result = post(std::move(docs), s.request_size, s.prefetch);
    auto secs = seconds_since(start);
    say("END " + phase);
    wait_go();
    if (!result)
      throw Error(result.error());
    if (result->docs.size() != s.docs)
      throw Error(errc::invalid_argument,
                  "lost documents: got " + std::to_string(result->docs.size()));
    f.docs_per_s = static_cast<double>(s.docs) / secs;
  }
  std::vector<double> rtts;
  for (int i = 0; i < s.rtt_samples + 200; ++i) {
    auto t0 = clock::now();
    auto r = post(hello_docs(1), 1, 1);
    if (!r)
      throw Error(r.error());
    if (i >= 200)  // the first 200 warm up
      rtts.push_back(seconds_since(t0) * 1e6);
  }
  f.rtt_p50_us = percentile(rtts, 50);
  f.rtt_p99_us = percentile(rtts, 99);
  return f;
}

}  // namespace

GatewaySettings gateway_settings(int argc, char** argv) {
  GatewaySettings s;
  s.docs = static_cast<size_t>(arg(argc, argv, "docs", 200000));
  s.request_size = std::max<size_t>(1, static_cast<size_t>(arg(argc, argv, "request-size", 100)));
  s.prefetch = static_cast<size_t>(arg(argc, argv, "prefetch", 8));
  s.rtt_samples = static_cast<int>(arg(argc, argv, "rtt-samples", 2000));
  s.io_threads = static_cast<unsigned>(arg(argc, argv, "io-threads", 1));
  s.grpc_streams = std::max<size_t>(1, static_cast<size_t>(arg(argc, argv, "grpc-streams", 4)));
  return s;
}

PhaseFigures median_of(const std::vector<PhaseFigures>& all, const std::string& phase) {
  std::vector<double> rates, p50, p99, cpu, switches, faults;
  PhaseFigures out;
  out.phase = phase;
  for (const auto& f : all)
    if (f.phase == phase) {
      rates.push_back(f.docs_per_s);
      p50.push_back(f.rtt_p50_us);
      p99.push_back(f.rtt_p99_us);
      cpu.push_back(f.server_cpu_us_per_request);
      switches.push_back(f.server_switches_per_request);
      faults.push_back(f.server_faults_per_request);
      out.requests = f.requests;
    }
  if (rates.empty())
    return out;
  out.docs_per_s = percentile(rates, 50);
  out.rtt_p50_us = percentile(p50, 50);
  out.rtt_p99_us = percentile(p99, 50);
  out.server_cpu_us_per_request = percentile(cpu, 50);
  out.server_switches_per_request = percentile(switches, 50);
  out.server_faults_per_request = percentile(faults, 50);
  return out;
}

bool is_gateway_client(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], client_flag) == 0)
      return true;
  return false;
}

int run_gateway_client(int argc, char** argv) {
  auto s = gateway_settings(argc, argv);
  for (const auto& phase : split(arg_string(argc, argv, "phases", ""), ',')) {
    // The server serves each phase from the flow it asks for (see
    // run_gateway_phases) and says where.
    say("WANT " + phase);
    std::string word;
    unsigned http_port = 0;
    unsigned grpc_port = 0;
    if (!(std::cin >> word >> http_port >> grpc_port) || word != "PORTS")
      return 3;          // the server failed
    std::cin.ignore(1);  // the newline
    bool grpc = phase.rfind("grpc", 0) == 0;
    auto f = client_phase(phase, static_cast<uint16_t>(grpc ? grpc_port : http_port), s);
    emit({{"phase", f.phase},
          {"docs_per_s", f.docs_per_s},
          {"rtt_p50_us", f.rtt_p50_us},
          {"rtt_p99_us", f.rtt_p99_us},
          {"requests", static_cast<int64_t>(f.requests)}});
  }
  return 0;
}

std::vector<PhaseFigures> run_gateway_phases(int argc, char** argv, const GatewaySettings& s) {
  std::signal(SIGPIPE, SIG_IGN);  // a client that dies is an error, not a kill
  int to_client[2];
  int from_client[2];
  if (::pipe(to_client) != 0 || ::pipe(from_client) != 0)
    throw Error(errc::io_error, std::string{"pipe: "} + std::strerror(errno));
  std::string phases;
  for (const auto& p : s.phases)
    phases += (phases.empty() ? "" : ",") + p;
  // Fork while this process has one thread; the child execs at once.
  auto child = ::fork();
  if (child < 0)
    throw Error(errc::io_error, std::string{"fork: "} + std::strerror(errno));
  if (child == 0) {
    ::dup2(to_client[0], STDIN_FILENO);
    ::dup2(from_client[1], STDOUT_FILENO);
    for (int fd : {to_client[0], to_client[1], from_client[0], from_client[1]})
      ::close(fd);
    std::vector<std::string> args(argv, argv + argc);
    args.emplace_back(client_flag);
    args.push_back("--phases=" + phases);
    // The settings in force (a benchmark may have its own defaults).
    args.push_back("--docs=" + std::to_string(s.docs));
    args.push_back("--request-size=" + std::to_string(s.request_size));
    args.push_back("--prefetch=" + std::to_string(s.prefetch));
    args.push_back("--rtt-samples=" + std::to_string(s.rtt_samples));
    args.push_back("--grpc-streams=" + std::to_string(s.grpc_streams));
    std::vector<char*> cargs;
    for (auto& a : args)
      cargs.push_back(a.data());
    cargs.push_back(nullptr);
    ::execv("/proc/self/exe", cargs.data());
    ::_exit(127);
  }
  ::close(to_client[0]);
  ::close(from_client[1]);
  int out = to_client[1];

  // The baseline flow exists only during its phases: gRPC (epoll1) has one
  // poller at a time for all the process's connections, so a second
  // server's idle thread would take turns polling the first one's
  // connections and hand each completion over, a cost that one gateway
  // per process does not have.
  auto served = serve(false, s);
  std::optional<Served> detached;
  std::vector<PhaseFigures> figures;
  Usage begin;
  Usage spent;
  std::string transcript;  // what the client said, for an error message
  FILE* in = ::fdopen(from_client[0], "r");
  char* line = nullptr;
  size_t cap = 0;
  for (ssize_t n; (n = ::getline(&line, &cap, in)) > 0;) {
    std::string text{line, static_cast<size_t>(n)};
    while (!text.empty() && text.back() == '\n')
      text.pop_back();
    transcript += text + "\n";
    if (text.rfind("WANT ", 0) == 0) {
      bool baseline = ends_with(text, detached_suffix);
      if (baseline && !detached)
        detached.emplace(serve(true, s));
      else if (!baseline)
        detached.reset();
      const auto& from = baseline ? *detached : served;
      write_line(out, "PORTS " + std::to_string(from.http->port()) + " "
                        + std::to_string(from.grpc->port()));
    } else if (text.rfind("BEGIN ", 0) == 0) {
      detail::use_actor_per_request(ends_with(text, legacy_suffix));
      detail::force_scheduler_hosting(ends_with(text, scheduler_suffix));
      begin = usage();
      write_line(out, "GO");
    } else if (text.rfind("END ", 0) == 0) {
      auto now = usage();
      spent = {now.cpu_us - begin.cpu_us, now.switches - begin.switches, now.faults - begin.faults};
      write_line(out, "GO");
    } else if (auto v = parse_json(text); v && v->is_object()) {
      PhaseFigures f;
      f.phase = v->get_string("phase", "");
      f.docs_per_s = v->get_double("docs_per_s", 0);
      f.rtt_p50_us = v->get_double("rtt_p50_us", 0);
      f.rtt_p99_us = v->get_double("rtt_p99_us", 0);
      f.requests = static_cast<size_t>(v->get_int("requests", 0));
      auto requests = static_cast<double>(std::max<size_t>(1, f.requests));
      f.server_cpu_us_per_request = spent.cpu_us / requests;
      f.server_switches_per_request = spent.switches / requests;
      f.server_faults_per_request = spent.faults / requests;
      figures.push_back(f);
    }
  }
  std::free(line);
  std::fclose(in);
  ::close(out);
  int wstatus = 0;
  ::waitpid(child, &wstatus, 0);
  detail::use_actor_per_request(false);
  detail::force_scheduler_hosting(false);
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || figures.size() != s.phases.size())
    throw Error(errc::io_error, "the client process failed (status " + std::to_string(wstatus)
                                  + "): " + transcript);
  return figures;
}

}  // namespace caflow::bench
