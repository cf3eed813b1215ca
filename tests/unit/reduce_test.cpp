#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "runtime/reduce.hpp"

using namespace caflow;
using caflow::detail::higher_is_better;
using caflow::detail::reduce_shard_answers;

namespace {

Document match(std::string id, const std::string& score_name, double score) {
  Document m;
  m.id = std::move(id);
  m.scores[score_name] = score;
  return m;
}

Document query(std::string id) {
  Document q;
  q.id = std::move(id);
  return q;
}

/// Sorts by score in the metric's direction, ties by id: the reference order,
/// written independently of sort_matches.
void reference_sort(std::vector<Document>& ms, const std::string& name, bool higher) {
  std::sort(ms.begin(), ms.end(), [&](const Document& x, const Document& y) {
    double sx = x.scores.at(name), sy = y.scores.at(name);
    if (sx != sy)
      return higher ? sx > sy : sx < sy;
    return x.id < y.id;
  });
}

/// The headline property: shards' local top-10s reduce to the global top-10.
void check_global_top_k(const std::string& name) {
  const bool higher = higher_is_better(name);
  std::mt19937 rng(42);  // mt19937's sequence is fixed by the standard
  std::vector<DocumentArray> answers(3);
  std::vector<std::vector<Document>> expected;
  for (int q = 0; q < 5; ++q) {
    std::vector<Document> all;
    std::vector<std::vector<Document>> per_shard(3);
    for (int i = 0; i < 200; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "m-%03d", i);
      // Coarse scores so that ties occur and the id tie-break is exercised.
      auto m = match(id, name, static_cast<double>(rng() % 5000) / 100.0);
      all.push_back(m);
      per_shard[rng() % 3].push_back(m);
    }
    reference_sort(all, name, higher);
    all.resize(10);
    expected.push_back(all);
    for (size_t k = 0; k < 3; ++k) {
      reference_sort(per_shard[k], name, higher);
      if (per_shard[k].size() > 10)
        per_shard[k].resize(10);
      auto d = query("q" + std::to_string(q));
      d.text = "query";
      d.matches = per_shard[k];
      answers[k].push_back(d);
    }
  }
  auto out = reduce_shard_answers(answers, 10);
  REQUIRE(out.size() == 5);
  for (size_t q = 0; q < 5; ++q) {
    CHECK(out[q].id == "q" + std::to_string(q));
    CHECK(out[q].text == "query");
    REQUIRE(out[q].matches.size() == 10);
    for (size_t i = 0; i < 10; ++i) {
      CHECK(out[q].matches[i].id == expected[q][i].id);
      CHECK(out[q].matches[i].scores.at(name) == expected[q][i].scores.at(name));
    }
  }
}

}  // namespace

TEST_CASE("reduce: score direction by name") {
  for (auto name : {"cosine", "inner_product", "ip", "dot", "bm25", "score"})
    CHECK(higher_is_better(name));
  for (auto name : {"euclidean", "l2", "sqeuclidean", "distance", "manhattan", "Euclidean",
                    "cosine_distance", "my_euclid"})
    CHECK(!higher_is_better(name));
}

TEST_CASE("reduce: shards' local top-k reduce to the global top-k (cosine)") {
  check_global_top_k("cosine");
}

TEST_CASE("reduce: shards' local top-k reduce to the global top-k (euclidean)") {
  check_global_top_k("euclidean");
}

TEST_CASE("reduce: sort_matches orders best first, scoreless last, ties by id") {
  std::vector<Document> ms{match("b", "cosine", 0.5), query("none"), match("a", "cosine", 0.5),
                           match("c", "cosine", 0.9), match("d", "other", 1.0)};
  detail::sort_matches(ms);
  std::vector<std::string> ids;
  for (const auto& m : ms)
    ids.push_back(m.id);
  // "d" and "none" both lack the ranking score (cosine): last, by id.
  CHECK(ids == std::vector<std::string>{"c", "a", "b", "d", "none"});
  std::vector<Document> plain{query("z"), query("y")};
  detail::sort_matches(plain);  // nothing to rank by: unchanged
  CHECK(plain[0].id == "z");
}

TEST_CASE("reduce: the cut never exceeds what the shards returned") {
  std::vector<DocumentArray> answers(3);
  for (int k = 0; k < 3; ++k) {
    auto d = query("q");
    d.matches = {match("m" + std::to_string(2 * k), "cosine", 0.1 * k),
                 match("m" + std::to_string(2 * k + 1), "cosine", 0.05 * k)};
    answers[k].push_back(d);
  }
  auto out = reduce_shard_answers(answers, 10);
  REQUIRE(out.size() == 1);
  CHECK(out[0].matches.size() == 6);
  CHECK(out[0].matches[0].id == "m4");
  CHECK(reduce_shard_answers(answers, 4)[0].matches.size() == 4);
  CHECK(reduce_shard_answers(answers, std::nullopt)[0].matches.size() == 6);
}

TEST_CASE("reduce: matches are de-duplicated by id, keeping the best copy") {
  auto a = query("q");
  a.matches = {match("x", "euclidean", 2.0), match("y", "euclidean", 3.0)};
  auto b = query("q");
  b.matches = {match("x", "euclidean", 1.0), match("z", "euclidean", 2.5)};
  auto out = reduce_shard_answers({DocumentArray{a}, DocumentArray{b}}, std::nullopt);
  REQUIRE(out.size() == 1);
  REQUIRE(out[0].matches.size() == 3);
  CHECK(out[0].matches[0].id == "x");
  CHECK(out[0].matches[0].score("euclidean") == 1.0);
  CHECK(out[0].matches[1].id == "z");
  CHECK(out[0].matches[2].id == "y");
}

TEST_CASE("reduce: documents merge by id in the first answer's order") {
  auto a1 = query("a");
  a1.text = "first";
  a1.chunks = {query("c1")};
  auto b1 = query("b");
  auto a2 = query("a");
  a2.text = "second";
  a2.chunks = {query("c2")};
  auto out = reduce_shard_answers({DocumentArray{a1, b1}, DocumentArray{query("c"), a2}, {}},
                                  std::nullopt);
  CHECK(out.ids() == std::vector<std::string>{"a", "b", "c"});
  CHECK(out[0].text == "first");
  REQUIRE(out[0].chunks.size() == 1);
  CHECK(out[0].chunks[0].id == "c1");
  CHECK(reduce_shard_answers({}, 10).empty());
}

TEST_CASE("reduce: parameters take the first answer, counts are summed") {
  std::vector<Params> answers{Value{{"count", 3}, {"name", "s0"}}, Value{},
                              Value{{"count", 4}, {"name", "s1"}, {"extra", true}},
                              Value{{"count", 5}}};
  auto p = detail::reduce_parameters(answers);
  CHECK(p.get_int("count", 0) == 12);
  CHECK(p.get_string("name", "") == "s0");
  CHECK(!p.contains("extra"));
  CHECK(detail::reduce_parameters({Value{{"k", 1}}, Value{{"k", 2}}}).get_int("k", 0) == 1);
  CHECK(!detail::reduce_parameters({Value{{"k", 1}}}).contains("count"));
  CHECK(detail::reduce_parameters({}) == Value::object());
}

namespace {

Params not_found_answer(std::vector<std::string> ids) {
  Value::Array list;
  for (auto& id : ids)
    list.emplace_back(std::move(id));
  return Params{{"not_found", Value{std::move(list)}}};
}

std::vector<std::string> not_found_of(const Params& p) {
  std::vector<std::string> out;
  if (const auto* nf = p.find("not_found"))
    for (const auto& v : nf->as_array())
      out.push_back(v.as_string());
  return out;
}

}  // namespace

TEST_CASE("reduce: under ALL, not_found is what no shard holds (intersection)") {
  using V = std::vector<std::string>;
  auto all = [](std::vector<Params> answers) {
    return detail::reduce_parameters(answers, detail::NotFound::intersect);
  };
  auto p = all({not_found_answer({"a", "b", "x"}), not_found_answer({"a", "c", "x"}),
                not_found_answer({"x", "b", "a"})});
  CHECK(not_found_of(p) == V{"a", "x"});  // first answer's order
  CHECK(not_found_of(all({not_found_answer({"q"})})) == V{"q"});
  // A shard that holds everything empties the list.
  CHECK(not_found_of(all({not_found_answer({"a"}), not_found_answer({})})).empty());
  // Answers without the member take no part (e.g. a failed shard's or /count's).
  CHECK(not_found_of(all({Value{{"count", 1}}, not_found_answer({"z"})})) == V{"z"});
  CHECK(!all({Value{{"count", 1}}}).contains("not_found"));
}

TEST_CASE("reduce: not_found of different documents (PARTITION, requests of a post) is joined") {
  using V = std::vector<std::string>;
  auto p = detail::reduce_parameters(
    {not_found_answer({"a", "b"}), not_found_answer({"c"}), not_found_answer({"b", "d"})});
  CHECK(not_found_of(p) == V{"a", "b", "c", "d"});
  // Reducing again (the post joins its requests' answers) keeps joining.
  auto q = detail::reduce_parameters({p, not_found_answer({"e"})});
  CHECK(not_found_of(q) == V{"a", "b", "c", "d", "e"});
}

TEST_CASE("reduce: join_by_id fills fields and keeps the first input's order") {
  auto a = query("a");
  a.text = "from vectorizer";
  a.tags = Value{{"k", 1}};
  a.scores["s"] = 1.0;
  a.matches = {query("m1")};
  auto b = query("b");
  auto a2 = query("a");
  a2.text = "ignored";
  a2.uri = "file:///a";
  a2.embedding = Embedding::dense_vector({1.0f, 2.0f});
  a2.tags = Value{{"k", 2}, {"j", 3}};
  a2.scores = {{"s", 2.0}, {"t", 3.0}};
  a2.matches = {query("m1"), query("m2")};
  a2.chunks = {query("c")};
  auto out = detail::join_by_id({DocumentArray{a, b}, DocumentArray{query("n"), a2}});
  CHECK(out.ids() == std::vector<std::string>{"a", "b", "n"});
  const auto& j = out[0];
  CHECK(j.text == "from vectorizer");
  CHECK(j.uri == "file:///a");
  CHECK(j.embedding == Embedding::dense_vector({1.0f, 2.0f}));
  CHECK(j.tags == Value{{"k", 1}, {"j", 3}});
  CHECK(j.scores == std::map<std::string, double>{{"s", 1.0}, {"t", 3.0}});
  REQUIRE(j.matches.size() == 2);
  CHECK(j.matches[1].id == "m2");
  REQUIRE(j.chunks.size() == 1);
  CHECK(j.chunks[0].id == "c");
}

TEST_CASE("reduce: order_like puts shard-ordered documents back in request order") {
  DocumentArray docs;
  for (const char* id : {"c", "x", "a", "b"})
    docs.emplace_back().id = id;
  auto ordered = detail::order_like({"a", "b", "missing", "c"}, std::move(docs));
  REQUIRE(ordered.size() == 4);
  CHECK(ordered.ids() == std::vector<std::string>{"a", "b", "c", "x"});  // x: not asked, last
  DocumentArray twice;
  for (const char* text : {"first", "second"}) {
    auto& d = twice.emplace_back();
    d.id = "d";
    d.text = text;
  }
  auto same = detail::order_like({"d", "d"}, std::move(twice));
  CHECK(same[0].text == "first");
  CHECK(same[1].text == "second");
}
