// Remote: a replica on a node daemon in another process over loopback,
// against raw CAF remote request/response with the same payload, in one run.
//
// The bench re-executes itself as the far side (`remote --serve`): a caflow
// node and, beside it, a bare CAF echo actor (detached, like a replica)
// published on its own port. The flow here places its one NoOp replica on
// that node; the raw baseline sends the same Request to the echo actor.
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "bench/bench_child.hpp"
#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/messages.hpp"
#include "caflow/node.hpp"
#include "caflow/type_ids.hpp"

namespace caflow::bench {

namespace {

using echo_actor = caf::typed_actor<caf::replies_to<Request>::with<Response>>;

echo_actor::behavior_type echo_fn() {
  return {[](Request& req) {
    Response resp;
    resp.id = std::move(req.id);
    resp.docs = std::move(req.docs);
    return resp;
  }};
}

// The far side: a node and a raw echo; prints their ports, runs until
// stdin closes (the parent exits or kills it).
int serve() {
  auto node = Node::start({});
  if (!node)
    throw Error(node.error());
  caf::actor_system_config cfg;
  add_types(cfg);
  configure_scheduler(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto echo = sys.spawn<caf::detached>(echo_fn);
  auto port = sys.middleman().publish(echo, 0, "127.0.0.1");
  if (!port)
    throw Error(make_error(errc::io_error, caf::to_string(port.error())));
  serve_until_stdin_closes({node->port(), *port});
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  return 0;
}

// `request_size` "hello world" documents with 128-float embeddings.
DocumentArray payload(size_t request_size) {
  DocumentArray docs;
  docs.reserve(request_size);
  for (size_t i = 0; i < request_size; ++i) {
    auto& d = docs.emplace_back();
    d.text = "hello world";
    std::vector<float> v(128);
    for (size_t j = 0; j < v.size(); ++j)
      v[j] = static_cast<float>((i * 131 + j) % 97) / 97.0f;
    d.embedding = Embedding::dense_vector(std::move(v));
  }
  return docs;
}

template <class Handle>
double median_rtt_us(caf::actor_system& sys, const Handle& target, const DocumentArray& docs,
                     int samples) {
  caf::scoped_actor self{sys};
  std::vector<double> xs;
  for (int i = 0; i < samples + samples / 10; ++i) {
    Request req;
    req.endpoint = "/index";
    req.docs = docs;
    auto t0 = clock::now();
    self->request(target, caf::infinite, std::move(req))
      .receive([](Response&) {}, [](caf::error& err) { throw Error(err); });
    if (i >= samples / 10)  // the first tenth warms up
      xs.push_back(seconds_since(t0) * 1e6);
  }
  return percentile(xs, 50);
}

}  // namespace

int remote(int argc, char** argv) {
  if (flag(argc, argv, "serve"))
    return serve();
  auto request_size = static_cast<size_t>(arg(argc, argv, "request-size", 100));
  auto samples = static_cast<int>(arg(argc, argv, "rtt-samples", 500));
  auto n_docs = static_cast<size_t>(arg(argc, argv, "docs", 50000));

  BenchChild server{{"remote", "--serve"}};
  auto node = "127.0.0.1:" + std::to_string(server.ports().at(0));
  auto echo_port = static_cast<uint16_t>(server.ports().at(1));
  FlowOptions options;
  options.nodes = {node};
  Flow flow{options};
  flow.add({.name = "remote", .uses = "NoOp"});
  auto running = flow.start();
  if (!running)
    throw Error(running.error());
  auto& sys = running->system();
  auto docs = payload(request_size);

  // Baseline: the same Request to a bare echo actor in the node's process.
  auto echo = sys.middleman().remote_actor<echo_actor>("127.0.0.1", echo_port);
  if (!echo)
    throw Error(make_error(errc::unavailable, caf::to_string(echo.error())));
  auto raw = median_rtt_us(sys, *echo, docs, samples);
  emit({{"bench", "remote"},
        {"part", "raw_caf_remote"},
        {"rtt_us", raw},
        {"request_size", int64_t(request_size)}});

  // The flow: gateway -> head here, the NoOp replica on the node.
  auto gw = running->gateway();
  auto rtt = median_rtt_us(sys, gw, docs, samples);
  emit({{"bench", "remote"}, {"part", "flow_rtt"}, {"rtt_us", rtt}});

  DocumentArray many;
  many.reserve(n_docs);
  for (size_t i = 0; i < n_docs; ++i)
    many.push_back(docs[i % docs.size()]);
  auto start = clock::now();
  auto result = running->post("/index", std::move(many),
                              {.request_size = request_size, .prefetch = 16});
  auto secs = seconds_since(start);
  if (!result)
    throw Error(result.error());
  auto docs_per_s = static_cast<double>(result->docs.size()) / secs;
  emit({{"bench", "remote"},
        {"request_size", int64_t(request_size)},
        {"rtt_us", rtt},
        {"raw_caf_remote_rtt_us", raw},
        {"ratio", rtt / raw},
        {"docs_per_s", docs_per_s}});
  return 0;
}

}  // namespace caflow::bench
