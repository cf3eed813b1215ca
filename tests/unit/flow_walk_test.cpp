// The gateway's walk over the needs graph, without actors.
#include <doctest/doctest.h>

#include "caflow/json.hpp"
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

// Documents with tag k: ids "a", "b", ... and k from `ks`.
DocumentArray keyed(std::vector<int> ks) {
  DocumentArray out;
  for (size_t i = 0; i < ks.size(); ++i) {
    Document d;
    d.id = std::string(1, static_cast<char>('a' + i));
    d.tags["k"] = ks[i];
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<DocFilter> when(const std::string& json) {
  auto v = parse_json(json);
  REQUIRE(v);
  auto f = DocFilter::compile(*v);
  REQUIRE(std::holds_alternative<DocFilter>(f));
  return std::get<DocFilter>(f);
}

std::string ids(const DocumentArray& docs) {
  std::string out;
  for (const auto& d : docs)
    out += d.id;
  return out;
}

// "a:x b: c:xy": each document with the tags it was given by `tagged`
// (every tag except k).
std::string trail(const DocumentArray& docs) {
  std::string out;
  for (const auto& d : docs) {
    out += (out.empty() ? "" : " ") + d.id + ":";
    for (const auto& [key, v] : d.tags.as_object())
      if (key != "k")
        out += key;
  }
  return out;
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
  auto first = walk.start().launches;
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
  auto starts = walk.start().launches;
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
  auto starts = walk.start().launches;
  CHECK_FALSE(walk.done(0, tagged(starts[0].input, "l")).result);
  auto r = walk.done(1, tagged(starts[1].input, "r"));
  REQUIRE(r.result);
  CHECK(r.result->docs[0].tags.contains("l"));
  CHECK(r.result->docs[0].tags.contains("r"));
  CHECK(walk.done(0, Response{}).launches.empty());
}

TEST_CASE("flow walk: when sends a deployment only its documents; the others rejoin in order") {
  auto g = FlowGraph::from_needs({{}, {0}});
  std::vector<std::optional<DocFilter>> filters{when(R"({"tags__k": {"$eq": 1}})"), std::nullopt};
  FlowWalk walk{g, keyed({1, 2, 1, 3}), filters};
  auto first = walk.start();
  REQUIRE(first.launches.size() == 1);
  CHECK(ids(first.launches[0].input) == "ac");
  auto step = walk.done(0, tagged(std::move(first.launches[0].input), "x"));
  REQUIRE(step.launches.size() == 1);
  CHECK(trail(step.launches[0].input) == "a:x b: c:x d:");
  auto last = walk.done(1, tagged(std::move(step.launches[0].input), "y"));
  REQUIRE(last.result);
  CHECK(trail(last.result->docs) == "a:xy b:y c:xy d:y");
  CHECK(last.result->routes.size() == 2);
}

TEST_CASE("flow walk: a deployment no document matches is not launched") {
  auto g = FlowGraph::from_needs({{}, {0}});
  std::vector<std::optional<DocFilter>> filters{when(R"({"tags__k": {"$gt": 9}})"), std::nullopt};
  FlowWalk walk{g, keyed({1, 2}), filters};
  auto first = walk.start();
  REQUIRE(first.launches.size() == 1);
  CHECK(first.launches[0].node == 1);
  CHECK(ids(first.launches[0].input) == "ab");
  // Its answer (none was asked for) is ignored.
  CHECK(walk.done(0, Response{}).launches.empty());
  auto last = walk.done(1, tagged(std::move(first.launches[0].input), "y"));
  REQUIRE(last.result);
  CHECK(last.result->routes.size() == 1);

  SUBCASE("a flow that every document skips answers at once") {
    auto one = FlowGraph::from_needs({{}});
    std::vector<std::optional<DocFilter>> none{when(R"({"tags__k": {"$gt": 9}})")};
    FlowWalk skip{one, keyed({1, 2}), none};
    auto now = skip.start();
    CHECK(now.launches.empty());
    REQUIRE(now.result);
    CHECK(ids(now.result->docs) == "ab");
    CHECK(skip.finished());
  }
  SUBCASE("a request without documents still runs a filtered deployment") {
    auto one = FlowGraph::from_needs({{}});
    std::vector<std::optional<DocFilter>> f{when(R"({"tags__k": {"$gt": 9}})")};
    FlowWalk empty{one, {}, f};
    auto now = empty.start();
    REQUIRE(now.launches.size() == 1);
    CHECK_FALSE(now.result);
  }
}

TEST_CASE("flow walk: two branches and a join; the join sees each document once") {
  // 0: when k == 1, 1: when k != 1, both from the gateway; 2 needs both.
  auto g = FlowGraph::from_needs({{}, {}, {0, 1}});
  std::vector<std::optional<DocFilter>> filters{when(R"({"tags__k": {"$eq": 1}})"),
                                                when(R"({"tags__k": {"$ne": 1}})"), std::nullopt};
  FlowWalk walk{g, keyed({2, 1, 3, 1}), filters};
  auto starts = walk.start().launches;
  REQUIRE(starts.size() == 2);
  CHECK(ids(starts[0].input) == "bd");
  CHECK(ids(starts[1].input) == "ac");
  // The second branch answers first; the order stays the request's.
  CHECK(walk.done(1, tagged(std::move(starts[1].input), "n")).launches.empty());
  auto join = walk.done(0, tagged(std::move(starts[0].input), "o"));
  REQUIRE(join.launches.size() == 1);
  CHECK(trail(join.launches[0].input) == "a:n b:o c:n d:o");
}

TEST_CASE("flow walk: a document that skips every branch reaches the join once, as it was") {
  auto g = FlowGraph::from_needs({{}, {}, {0, 1}});
  std::vector<std::optional<DocFilter>> filters{when(R"({"tags__k": {"$eq": 1}})"),
                                                when(R"({"tags__k": {"$eq": 2}})"), std::nullopt};
  FlowWalk walk{g, keyed({3, 2, 1, 3}), filters};
  auto starts = walk.start().launches;
  REQUIRE(starts.size() == 2);
  CHECK(walk.done(0, tagged(std::move(starts[0].input), "o")).launches.empty());
  auto join = walk.done(1, tagged(std::move(starts[1].input), "t"));
  REQUIRE(join.launches.size() == 1);
  CHECK(trail(join.launches[0].input) == "a: b:t c:o d:");
}

TEST_CASE("flow walk: branches as leaves are joined the same way into the answer") {
  auto g = FlowGraph::from_needs({{}, {}});
  std::vector<std::optional<DocFilter>> filters{when(R"({"tags__k": {"$eq": 1}})"),
                                                when(R"({"tags__k": {"$ne": 1}})")};
  FlowWalk walk{g, keyed({1, 2}), filters};
  auto starts = walk.start().launches;
  REQUIRE(starts.size() == 2);
  CHECK_FALSE(walk.done(1, tagged(std::move(starts[1].input), "n")).result);
  auto r = walk.done(0, tagged(std::move(starts[0].input), "o"));
  REQUIRE(r.result);
  CHECK(trail(r.result->docs) == "a:o b:n");
}

TEST_CASE("flow walk: a filtered deployment that drops a document drops only that one") {
  auto g = FlowGraph::from_needs({{}});
  std::vector<std::optional<DocFilter>> filters{when(R"({"tags__k": {"$eq": 1}})")};
  FlowWalk walk{g, keyed({1, 2, 1}), filters};
  auto first = walk.start().launches;
  REQUIRE(first.size() == 1);
  auto answer = tagged(std::move(first[0].input), "x");
  auto kept = std::move(answer.docs).docs();
  kept.erase(kept.begin());  // drops "a"
  answer.docs = DocumentArray{std::move(kept)};
  auto r = walk.done(0, std::move(answer));
  REQUIRE(r.result);
  CHECK(trail(r.result->docs) == "b: c:x");

  SUBCASE("an answer with as many documents keeps their positions, whatever their ids") {
    FlowWalk same{g, keyed({1, 2, 1}), filters};
    auto in = same.start().launches;
    auto renamed = tagged(std::move(in[0].input), "x");
    for (auto& d : renamed.docs)
      d.id = "new-" + d.id;
    auto out = same.done(0, std::move(renamed));
    REQUIRE(out.result);
    CHECK(ids(out.result->docs) == "new-abnew-c");
  }
}
