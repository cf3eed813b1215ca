// Overhead: a flow of two no-op executors against raw CAF messaging and the
// bare executor, in one run.
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/messages.hpp"

namespace caflow::bench {

namespace {

// Jina 3.0.0 through the same two-executor flow on this machine's kind (gRPC,
// request size 100), as quoted in the issue: a reference, not measured here.
constexpr double jina_docs_per_s = 9100;
constexpr double jina_rtt_p50_us = 13600;

// Median request/response round trip from a scoped actor to `echo`.
template <class Handle>
double rtt_us(caf::actor_system& sys, const Handle& echo, int samples,
              std::vector<double>* all = nullptr) {
  caf::scoped_actor self{sys};
  std::vector<double> xs;
  for (int i = 0; i < samples; ++i) {
    auto start = clock::now();
    self->request(echo, caf::infinite, i).receive([](int) {}, [](caf::error&) {});
    xs.push_back(seconds_since(start) * 1e6);
  }
  if (all)
    *all = xs;
  return percentile(xs, 50);
}

caf::behavior echo_fn() {
  return {[](int x) { return x; }};
}

}  // namespace

int overhead(int argc, char** argv) {
  auto n_docs = static_cast<size_t>(arg(argc, argv, "docs", 200000));
  auto request_size = static_cast<size_t>(arg(argc, argv, "request-size", 100));
  auto samples = static_cast<int>(arg(argc, argv, "rtt-samples", 2000));

  Flow flow;
  flow.add({.name = "first", .uses = "NoOp"}).add({.name = "second", .uses = "NoOp"});
  auto running = flow.start();
  if (!running)
    throw Error(running.error());
  auto& sys = running->system();

  // Baseline 1: raw CAF round trips, to a scheduled and to a detached actor
  // (replicas are detached, so the second is the fair floor for a hop).
  auto echo = sys.spawn(echo_fn);
  auto echo_detached = sys.spawn<caf::detached>(echo_fn);
  rtt_us(sys, echo, 200);  // warm-up
  auto raw = rtt_us(sys, echo, samples);
  auto raw_detached = rtt_us(sys, echo_detached, samples);
  emit({{"bench", "overhead"},
        {"part", "raw_caf"},
        {"rtt_p50_us", raw},
        {"detached_rtt_p50_us", raw_detached}});

  // Baseline 2: the bare executor, called directly, no runtime.
  auto bare = ExecutorRegistry::instance().create({.name = "bare", .uses = "NoOp"});
  auto docs = hello_docs(n_docs);
  auto start = clock::now();
  for (size_t i = 0; i < n_docs; i += request_size) {
    DocumentArray part{
      std::vector<Document>(docs.begin() + i, docs.begin() + std::min(n_docs, i + request_size))};
    (*bare)->handle("/index", part, Params::object());
  }
  auto bare_docs_per_s = static_cast<double>(n_docs) / seconds_since(start);
  emit({{"bench", "overhead"}, {"part", "bare_executor"}, {"docs_per_s", bare_docs_per_s}});

  // The flow: throughput with request_size documents per request.
  start = clock::now();
  auto result = running->post("/index", std::move(docs),
                              {.request_size = request_size, .prefetch = 32});
  auto secs = seconds_since(start);
  if (!result)
    throw Error(result.error());
  auto docs_per_s = static_cast<double>(result->docs.size()) / secs;
  auto requests = static_cast<double>((n_docs + request_size - 1) / request_size);
  emit({{"bench", "overhead"},
        {"part", "flow_throughput"},
        {"docs", int64_t(n_docs)},
        {"request_size", int64_t(request_size)},
        {"seconds", secs},
        {"docs_per_s", docs_per_s},
        {"requests_per_s", requests / secs}});

  // The flow: single-document round trips through the gateway.
  std::vector<double> rtts;
  {
    caf::scoped_actor self{sys};
    auto gw = running->gateway();
    for (int i = 0; i < samples + 200; ++i) {
      Request req;
      req.endpoint = "/index";
      req.docs.emplace_back().text = "hello world";
      auto t0 = clock::now();
      self->request(gw, caf::infinite, std::move(req))
        .receive([](Response&) {}, [](caf::error& err) { throw Error(err); });
      if (i >= 200)  // the first 200 warm up
        rtts.push_back(seconds_since(t0) * 1e6);
    }
  }
  auto p50 = percentile(rtts, 50);
  auto p99 = percentile(rtts, 99);
  // A flow round trip crosses two deployments; each hop is gateway -> head
  // -> detached replica and back.
  auto hop_us = p50 / 2;
  emit({{"bench", "overhead"},
        {"part", "flow_rtt"},
        {"rtt_p50_us", p50},
        {"rtt_p99_us", p99},
        {"hop_us", hop_us}});
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(echo_detached, caf::exit_reason::user_shutdown);
  emit({{"bench", "overhead"},
        {"docs_per_s", docs_per_s},
        {"requests_per_s", requests / secs},
        {"rtt_p50_us", p50},
        {"rtt_p99_us", p99},
        {"raw_caf_rtt_us", raw},
        {"raw_caf_detached_rtt_us", raw_detached},
        {"hop_ratio", hop_us / raw},
        {"hop_ratio_vs_detached", hop_us / raw_detached},
        {"bare_executor_docs_per_s", bare_docs_per_s},
        {"flow_vs_bare_executor", docs_per_s / bare_docs_per_s},
        {"vs_jina_throughput", docs_per_s / jina_docs_per_s},
        {"vs_jina_rtt_p50", jina_rtt_p50_us / p50}});
  return 0;
}

}  // namespace caflow::bench
