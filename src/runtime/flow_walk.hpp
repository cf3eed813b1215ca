/// One request's walk through a flow's needs graph (private): which
/// deployments to launch with which documents, and the answer once every
/// output deployment answered. Pure logic; the gateway actor sends each
/// launch to its head and feeds the responses back.
///
///   detail::FlowWalk walk{graph, std::move(req.docs), filters};
///   auto step = walk.start();                        // launches (or the answer)
///   for (auto& l : step.launches) send(l.node, std::move(l.input));
///   step = walk.done(node, std::move(resp));         // more launches ...
///   if (step.result) reply(std::move(*step.result)); // ... or the answer
///
/// A deployment with several needs is launched once all of them answered,
/// with their outputs joined by document id (detail::join_by_id); several
/// outputs (leaves) are joined the same way into the answer. Parameters,
/// routes and failures of every response are accumulated into the answer.
///
/// `when`: a deployment with a filter is sent only the documents that match
/// it; the others skip it and rejoin its output at their input positions
/// (by id when the deployment answered with another number of documents than
/// it got, else by position), so the deployments after it see every document. When
/// no document matches, the deployment is not launched at all. A join sees
/// each document once: a document that skipped one of its needs is taken
/// from a need that ran on it (and only when none did, as it skipped), and
/// the join keeps the order of its first need's output.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "caflow/messages.hpp"
#include "config/flow_graph.hpp"
#include "runtime/doc_filter.hpp"

namespace caflow::detail {

/// See the file comment. Not thread-safe; `graph` and `filters` must outlive
/// the walk.
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

  /// `filters`: per node its `when` (nullopt: every document), or empty for
  /// none at all.
  FlowWalk(const FlowGraph& graph, DocumentArray docs,
           std::span<const std::optional<DocFilter>> filters = {});

  /// The launches of the deployments fed by the request (each once). When
  /// every document skips every deployment, no launch and the answer.
  [[nodiscard]] Step start();

  /// Deployment `node` answered with `resp`. A second answer for the same
  /// node, or any answer after the result, is ignored.
  [[nodiscard]] Step done(size_t node, Response resp);

  /// True once the result was handed out.
  [[nodiscard]] bool finished() const noexcept { return finished_; }

 private:
  // A node's output, with the positions of the documents that skipped it
  // (empty: none did).
  struct Output {
    DocumentArray docs;
    std::vector<bool> skipped;
  };
  // A launched node's documents that skipped it, waiting for its answer.
  struct Held {
    std::vector<bool> taken_at;
    std::vector<std::string> taken_ids;
    DocumentArray skipped;
  };

  void ready(size_t node, DocumentArray input, Step& step);
  void complete(size_t node, Output out, Step& step);
  static Output rejoin_output(Held held, DocumentArray answered);
  Output take_output(size_t node);
  DocumentArray gather(const std::vector<size_t>& needs);

  const FlowGraph& graph_;
  std::span<const std::optional<DocFilter>> filters_;
  DocumentArray docs_;
  std::vector<std::optional<Output>> outputs_;
  std::vector<std::optional<Held>> held_;
  std::vector<size_t> waiting_;    // needs not yet done, per node
  std::vector<size_t> consumers_;  // readers left, per node output
  std::vector<bool> answered_;
  size_t leaves_left_ = 0;
  Response acc_;
  bool finished_ = false;
};

}  // namespace caflow::detail
