#include "actors/gateway.hpp"

#include <optional>

#include <caf/event_based_actor.hpp>
#include <caf/result.hpp>

#include "caflow/errors.hpp"
#include "runtime/reduce.hpp"
#include "runtime/target_match.hpp"

namespace caflow::actors {

namespace {

using gateway_pointer = gateway_actor::stateful_pointer<gateway_state>;

// One request's walk through the graph.
struct walk {
  caf::typed_response_promise<Response> rp;
  Request req;  // docs moved out at the start
  std::vector<std::optional<DocumentArray>> outputs;
  std::vector<size_t> waiting;    // needs not yet done, per node
  std::vector<size_t> consumers;  // readers left, per node output
  size_t leaves_left = 0;
  size_t starts_left = 0;
  Response acc;  // parameters, routes, failures
  bool done = false;
};

void launch(gateway_pointer self, std::shared_ptr<walk> w, size_t node);

void finish(gateway_pointer self, walk& w, caf::expected<Response> result) {
  if (w.done)
    return;
  w.done = true;
  auto& st = self->state;
  --st.in_flight;
  if (result) {
    ++st.counters.succeeded;
    w.rp.deliver(std::move(*result));
  } else {
    ++st.counters.failed;
    w.rp.deliver(std::move(result.error()));
  }
}

// The output of `node` for one reader: moved out for the last reader.
DocumentArray take_output(walk& w, size_t node) {
  auto& out = *w.outputs[node];
  return --w.consumers[node] == 0 ? std::move(out) : out;
}

DocumentArray gather(walk& w, const gateway_node& n) {
  if (n.needs.size() == 1)
    return take_output(w, n.needs[0]);
  std::vector<DocumentArray> inputs;
  for (auto k : n.needs)
    inputs.push_back(take_output(w, k));
  return detail::join_by_id(std::move(inputs));
}

void on_done(gateway_pointer self, std::shared_ptr<walk> w, size_t node, Response resp) {
  auto& st = self->state;
  w->acc.parameters.merge(resp.parameters);
  for (auto& r : resp.routes)
    w->acc.routes.push_back(std::move(r));
  for (auto& f : resp.failures)
    w->acc.failures.push_back(std::move(f));
  w->acc.shards_failed += resp.shards_failed;
  w->acc.shards_answered += resp.shards_answered;
  w->outputs[node] = std::move(resp.docs);
  for (auto d : st.dependents[node])
    if (--w->waiting[d] == 0)
      launch(self, w, d);
  if (st.dependents[node].empty() && --w->leaves_left == 0) {
    Response out = std::move(w->acc);
    out.id = w->req.id;
    if (st.leaves.size() == 1) {
      out.docs = take_output(*w, st.leaves[0]);
    } else {
      std::vector<DocumentArray> parts;
      for (auto leaf : st.leaves)
        parts.push_back(take_output(*w, leaf));
      out.docs = detail::join_by_id(std::move(parts));
    }
    finish(self, *w, std::move(out));
  }
}

void send_to_head(gateway_pointer self, std::shared_ptr<walk> w, size_t node, DocumentArray docs) {
  self->request(self->state.nodes[node].head, caf::infinite, with_docs(w->req, std::move(docs)))
    .then(
      [self, w, node](Response& resp) {
        if (!w->done)
          on_done(self, w, node, std::move(resp));
      },
      [self, w](caf::error& err) { finish(self, *w, std::move(err)); });
}

void launch(gateway_pointer self, std::shared_ptr<walk> w, size_t node) {
  if (w->done)
    return;
  const auto& n = self->state.nodes[node];
  DocumentArray input;
  if (n.needs.empty())  // fed by the request: the last start takes the original
    input = --w->starts_left == 0 ? std::move(w->req.docs) : w->req.docs;
  else
    input = gather(*w, n);
  send_to_head(self, w, node, std::move(input));
}

// Jina's targetExecutor: the deployment whose name matches (exactly or as a
// regular expression, compiled once, bounded in size and cost) runs alone.
caf::expected<std::optional<size_t>> find_target(const gateway_state& st,
                                                 const std::string& target) {
  std::vector<std::string> names;
  names.reserve(st.nodes.size());
  for (const auto& n : st.nodes)
    names.push_back(n.name);
  return detail::TargetMatcher{target}.first_match(names);
}

void start_walk(gateway_pointer self, Request req, caf::typed_response_promise<Response> rp) {
  auto& st = self->state;
  auto w = std::make_shared<walk>();
  w->rp = std::move(rp);
  auto n = st.nodes.size();
  w->outputs.resize(n);
  w->waiting.resize(n);
  w->consumers.resize(n);
  for (size_t i = 0; i < n; ++i) {
    w->waiting[i] = st.nodes[i].needs.size();
    w->consumers[i] = st.dependents[i].size() + (st.dependents[i].empty() ? 1 : 0);
  }
  w->leaves_left = st.leaves.size();
  w->starts_left = st.starts.size();
  if (!req.target_executor.empty()) {
    auto target = find_target(st, req.target_executor);
    if (!target) {
      finish(self, *w, std::move(target.error()));
      return;
    }
    if (!*target) {
      finish(self, *w,
             make_error(errc::not_found,
                        "no executor matches targetExecutor '" + req.target_executor + "'"));
      return;
    }
    // Only the target runs: treat it as the single start and leaf.
    w->req = std::move(req);
    self->request(st.nodes[**target].head, caf::infinite, with_docs(w->req, std::move(w->req.docs)))
      .then([self, w](Response& resp) { finish(self, *w, std::move(resp)); },
            [self, w](caf::error& err) { finish(self, *w, std::move(err)); });
    return;
  }
  w->req = std::move(req);
  for (auto s : st.starts)
    launch(self, w, s);
}

}  // namespace

gateway_actor::behavior_type gateway(gateway_actor::stateful_pointer<gateway_state> self,
                                     std::vector<gateway_node> nodes, uint32_t max_in_flight) {
  auto& st = self->state;
  st.nodes = std::move(nodes);
  st.max_in_flight = max_in_flight;
  st.dependents.resize(st.nodes.size());
  for (size_t i = 0; i < st.nodes.size(); ++i) {
    if (st.nodes[i].needs.empty())
      st.starts.push_back(i);
    for (auto k : st.nodes[i].needs)
      st.dependents[k].push_back(i);
  }
  for (size_t i = 0; i < st.nodes.size(); ++i)
    if (st.dependents[i].empty())
      st.leaves.push_back(i);
  return {
    [self](Request& req) -> caf::result<Response> {
      auto& st = self->state;
      ++st.counters.received;
      if (st.in_flight >= st.max_in_flight) {
        ++st.counters.rejected;
        return make_error(errc::overloaded, "the flow has " + std::to_string(st.in_flight)
                                              + " requests in flight (max_in_flight)");
      }
      if (st.nodes.empty()) {
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
    [self](status_atom) -> Value {
      auto& st = self->state;
      Value v = Value::object();
      v["received"] = static_cast<int64_t>(st.counters.received);
      v["succeeded"] = static_cast<int64_t>(st.counters.succeeded);
      v["failed"] = static_cast<int64_t>(st.counters.failed);
      v["rejected"] = static_cast<int64_t>(st.counters.rejected);
      v["in_flight"] = static_cast<int64_t>(st.in_flight);
      Value::Array names;
      for (auto& n : st.nodes)
        names.emplace_back(n.name);
      v["executors"] = std::move(names);
      return v;
    },
  };
}

}  // namespace caflow::actors
