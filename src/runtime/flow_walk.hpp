/// One request's walk through a flow's needs graph (private): which
/// deployments to launch with which documents, and the answer once every
/// output deployment answered. Pure logic; the gateway actor sends each
/// launch to its head and feeds the responses back.
///
///   detail::FlowWalk walk{graph, std::move(req.docs)};
///   for (auto& l : walk.start()) send(l.node, std::move(l.input));
///   auto step = walk.done(node, std::move(resp));   // more launches ...
///   if (step.result) reply(std::move(*step.result)); // ... or the answer
///
/// A deployment with several needs is launched once all of them answered,
/// with their outputs joined by document id (detail::join_by_id); several
/// outputs (leaves) are joined the same way into the answer. Parameters,
/// routes and failures of every response are accumulated into the answer.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "caflow/messages.hpp"
#include "config/flow_graph.hpp"

namespace caflow::detail {

/// See the file comment. Not thread-safe; `graph` must outlive the walk.
class FlowWalk {
 public:
  /// A deployment to send the request to, with its input documents.
  struct Launch {
    size_t node = 0;
    DocumentArray input;
  };

  /// What a response leads to.
  struct Step {
    std::vector<Launch> launches;
    std::optional<Response> result;  ///< set once, when the last leaf answered
  };

  FlowWalk(const FlowGraph& graph, DocumentArray docs);

  /// The launches of the deployments fed by the request (each once).
  [[nodiscard]] std::vector<Launch> start();

  /// Deployment `node` answered with `resp`. A second answer for the same
  /// node, or any answer after the result, is ignored.
  [[nodiscard]] Step done(size_t node, Response resp);

  /// True once the result was handed out.
  [[nodiscard]] bool finished() const noexcept { return finished_; }

 private:
  DocumentArray take_output(size_t node);
  DocumentArray gather(size_t node);

  const FlowGraph& graph_;
  DocumentArray docs_;
  std::vector<std::optional<DocumentArray>> outputs_;
  std::vector<size_t> waiting_;    // needs not yet done, per node
  std::vector<size_t> consumers_;  // readers left, per node output
  std::vector<bool> answered_;
  size_t leaves_left_ = 0;
  size_t starts_left_ = 0;
  Response acc_;
  bool finished_ = false;
};

}  // namespace caflow::detail
