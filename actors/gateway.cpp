#include "actors/gateway.hpp"

#include <chrono>
#include <optional>
#include <span>

#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>

#include "caflow/errors.hpp"
#include "cluster/protocol.hpp"
#include "runtime/flow_walk.hpp"
#include "runtime/target_match.hpp"

namespace caflow::actors {

namespace {

using gateway_pointer = gateway_actor::stateful_pointer<gateway_state>;

// One request's walk through the graph, with its promise. A targetExecutor
// request walks a graph of one node, `target`.
struct walk {
  walk(const detail::FlowGraph& graph, std::span<const std::optional<detail::DocFilter>> filters,
       Request r, caf::typed_response_promise<Response> p, std::optional<size_t> t = std::nullopt)
    : rp(std::move(p)),
      docs_walk(graph, std::move(r.docs), filters),
      req(std::move(r)),
      target(t) {}
  caf::typed_response_promise<Response> rp;
  detail::FlowWalk docs_walk;
  Request req;  // docs moved into the walk
  std::optional<size_t> target;
  bool done = false;
};

void finish(gateway_pointer self, walk& w, caf::expected<Response> result) {
  if (w.done)
    return;
  w.done = true;
  auto& st = self->state;
  --st.in_flight;
  if (result) {
    result->id = w.req.id;
    ++st.counters.succeeded;
    w.rp.deliver(std::move(*result));
  } else {
    ++st.counters.failed;
    w.rp.deliver(std::move(result.error()));
  }
}

void launch(gateway_pointer self, std::shared_ptr<walk> w, detail::FlowWalk::Step step) {
  if (step.result) {
    finish(self, *w, std::move(*step.result));
    return;
  }
  for (auto& l : step.launches) {
    if (w->done)
      return;
    auto node = l.node;
    auto head = self->state.deployments[w->target ? *w->target : node].head;
    self->request(head, caf::infinite, with_docs(w->req, std::move(l.input)))
      .then(
        [self, w, node](Response& resp) {
          if (!w->done)
            launch(self, w, w->docs_walk.done(node, std::move(resp)));
        },
        [self, w](caf::error& err) { finish(self, *w, std::move(err)); });
  }
}

// Jina's targetExecutor: the deployment whose name matches (exactly or as a
// regular expression, compiled once, bounded in size and cost) runs alone.
caf::expected<std::optional<size_t>> find_target(const gateway_state& st,
                                                 const std::string& target) {
  std::vector<std::string> names;
  names.reserve(st.deployments.size());
  for (const auto& n : st.deployments)
    names.push_back(n.name);
  return detail::TargetMatcher{target}.first_match(names);
}

void start_walk(gateway_pointer self, Request req, caf::typed_response_promise<Response> rp) {
  auto& st = self->state;
  if (!req.target_executor.empty()) {
    auto target = find_target(st, req.target_executor);
    if (!target) {
      --st.in_flight;
      ++st.counters.failed;
      rp.deliver(std::move(target.error()));
      return;
    }
    if (!*target) {
      --st.in_flight;
      ++st.counters.failed;
      rp.deliver(make_error(errc::not_found,
                            "no executor matches targetExecutor '" + req.target_executor + "'"));
      return;
    }
    // Only the target runs (with its `when`): a walk over a graph of that
    // one node.
    auto node = **target;
    auto w = std::make_shared<walk>(
      st.single, std::span<const std::optional<detail::DocFilter>>{&st.filters[node], 1},
      std::move(req), std::move(rp), node);
    launch(self, w, w->docs_walk.start());
    return;
  }
  auto w = std::make_shared<walk>(st.graph, st.filters, std::move(req), std::move(rp));
  launch(self, w, w->docs_walk.start());
}

// Adds each head's status (counters, placement: where each replica runs and
// in which state) and the cluster's nodes to the gateway's own `v`. A head
// or cluster that does not answer within a few seconds is left out and named.
caf::result<Value> with_deployments(gateway_pointer self, Value v) {
  struct gather {
    Value out;
    std::vector<Value> heads;
    size_t left = 0;
    caf::typed_response_promise<Value> rp;
  };
  auto& st = self->state;
  auto g = std::make_shared<gather>();
  g->out = std::move(v);
  g->heads.resize(st.deployments.size());
  g->left = st.deployments.size() + (st.cluster ? 1 : 0);
  g->rp = self->make_response_promise<Value>();
  auto rp = g->rp;
  auto step = [g] {
    if (--g->left > 0)
      return;
    Value::Array deps;
    for (auto& h : g->heads)
      deps.push_back(std::move(h));
    g->out["deployments"] = std::move(deps);
    g->rp.deliver(std::move(g->out));
  };
  if (g->left == 0) {
    g->out["deployments"] = Value::Array{};
    return g->out;
  }
  constexpr auto limit = std::chrono::seconds(5);
  for (size_t i = 0; i < st.deployments.size(); ++i) {
    auto name = st.deployments[i].name;
    self->request(st.deployments[i].head, limit, status_atom::value)
      .then(
        [g, i, step](Value& h) {
          g->heads[i] = std::move(h);
          step();
        },
        [g, i, name, step](caf::error& err) {
          g->heads[i] = Value{{"name", name}, {"error", describe(err)}};
          step();
        });
  }
  if (st.cluster)
    self->request(st.cluster, limit, status_atom::value)
      .then(
        [g, step](Value& c) {
          if (const Value* nodes = c.find("nodes"))
            g->out["nodes"] = *nodes;
          step();
        },
        [g, step](caf::error& err) {
          g->out["nodes_error"] = describe(err);
          step();
        });
  return rp;
}

}  // namespace

gateway_actor::behavior_type gateway(gateway_actor::stateful_pointer<gateway_state> self,
                                     std::vector<gateway_deployment> deployments,
                                     uint32_t max_in_flight, cluster_actor cluster) {
  auto& st = self->state;
  st.cluster = std::move(cluster);
  st.deployments = std::move(deployments);
  st.max_in_flight = max_in_flight;
  std::vector<std::vector<size_t>> needs;
  for (const auto& n : st.deployments) {
    needs.push_back(n.needs);
    st.filters.push_back(n.when);
  }
  st.graph = detail::FlowGraph::from_needs(std::move(needs));
  st.single = detail::FlowGraph::from_needs({{}});
  return {
    [self](Request& req) -> caf::result<Response> {
      auto& st = self->state;
      ++st.counters.received;
      if (st.in_flight >= st.max_in_flight) {
        ++st.counters.rejected;
        return make_error(errc::overloaded, "the flow has " + std::to_string(st.in_flight)
                                              + " requests in flight (max_in_flight)");
      }
      if (st.deployments.empty()) {
        Response resp;
        resp.id = std::move(req.id);
        resp.docs = std::move(req.docs);
        return resp;
      }
      ++st.in_flight;
      auto rp = self->make_response_promise<Response>();
      start_walk(self, std::move(req), rp);
      return rp;
    },
    [self](status_atom) -> caf::result<Value> {
      auto& st = self->state;
      Value v = Value::object();
      v["received"] = static_cast<int64_t>(st.counters.received);
      v["succeeded"] = static_cast<int64_t>(st.counters.succeeded);
      v["failed"] = static_cast<int64_t>(st.counters.failed);
      v["rejected"] = static_cast<int64_t>(st.counters.rejected);
      v["in_flight"] = static_cast<int64_t>(st.in_flight);
      Value::Array names;
      for (auto& n : st.deployments)
        names.emplace_back(n.name);
      v["executors"] = std::move(names);
      return with_deployments(self, std::move(v));
    },
  };
}

}  // namespace caflow::actors
