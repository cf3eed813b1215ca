// The gateway's walk over the needs graph, without actors.
#include <doctest/doctest.h>

#include "config/flow_graph.hpp"
#include "runtime/flow_walk.hpp"

using namespace caflow;
using namespace caflow::detail;

namespace {

DocumentArray docs(std::vector<std::string> ids) {
  DocumentArray out;
  for (auto& id : ids) {
    Document d;
    d.id = id;
    out.push_back(std::move(d));
  }
  return out;
}

Response tagged(DocumentArray in, const std::string& tag) {
  Response r;
  r.docs = std::move(in);
  for (auto& d : r.docs)
    d.tags[tag] = true;
  r.routes.push_back({tag, 0, 0, ""});
  return r;
}

}  // namespace

TEST_CASE("flow graph: starts, dependents and leaves of a diamond") {
  auto g = FlowGraph::from_needs({{}, {0}, {0}, {1, 2}});
  CHECK(g.starts == std::vector<size_t>{0});
  CHECK(g.dependents[0] == std::vector<size_t>{1, 2});
  CHECK(g.leaves == std::vector<size_t>{3});
  // Self edges are ignored, as in leaves().
  auto loop = FlowGraph::from_needs({{0}});
  CHECK(loop.starts == std::vector<size_t>{0});
  CHECK(loop.leaves == std::vector<size_t>{0});
}

TEST_CASE("flow walk: a chain launches one deployment after the other") {
  auto g = FlowGraph::from_needs({{}, {0}});
  FlowWalk walk{g, docs({"a", "b"})};
  auto first = walk.start();
  REQUIRE(first.size() == 1);
  CHECK(first[0].node == 0);
  auto step = walk.done(0, tagged(std::move(first[0].input), "x"));
  REQUIRE(step.launches.size() == 1);
  CHECK(step.launches[0].node == 1);
  CHECK(step.launches[0].input[0].tags.contains("x"));
  CHECK_FALSE(step.result);
  auto last = walk.done(1, tagged(std::move(step.launches[0].input), "y"));
  REQUIRE(last.result);
  CHECK(last.result->docs.size() == 2);
  CHECK(last.result->routes.size() == 2);
  CHECK(walk.finished());
}

TEST_CASE("flow walk: a join waits for every need, in any order; duplicates are ignored") {
  auto g = FlowGraph::from_needs({{}, {}, {0, 1}});
  FlowWalk walk{g, docs({"a"})};
  auto starts = walk.start();
  REQUIRE(starts.size() == 2);
  auto b = walk.done(1, tagged(starts[1].input, "b"));
  CHECK(b.launches.empty());
  CHECK(walk.done(1, tagged(starts[1].input, "b")).launches.empty());  // duplicate
  auto a = walk.done(0, tagged(starts[0].input, "a"));
  REQUIRE(a.launches.size() == 1);
  const auto& joined = a.launches[0].input;
  REQUIRE(joined.size() == 1);
  CHECK(joined[0].tags.contains("a"));
  CHECK(joined[0].tags.contains("b"));
}

TEST_CASE("flow walk: several leaves are joined into the answer") {
  auto g = FlowGraph::from_needs({{}, {}});
  FlowWalk walk{g, docs({"a"})};
  auto starts = walk.start();
  CHECK_FALSE(walk.done(0, tagged(starts[0].input, "l")).result);
  auto r = walk.done(1, tagged(starts[1].input, "r"));
  REQUIRE(r.result);
  CHECK(r.result->docs[0].tags.contains("l"));
  CHECK(r.result->docs[0].tags.contains("r"));
  CHECK(walk.done(0, Response{}).launches.empty());
}
