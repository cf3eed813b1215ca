// The vector indexes against brute force: exact (dense and sparse, every
// metric) must agree with it; HNSW must reach recall@10 >= 0.95 on
// clustered data. Deletes and updates must show in the next search.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>

#include <unistd.h>

#include "index/exact_index.hpp"
#include "index/hnsw_index.hpp"

using namespace caflow;

namespace {

std::vector<Embedding> random_dense(size_t n, uint32_t dim, uint32_t seed) {
  std::mt19937 rng{seed};
  std::normal_distribution<float> g;
  std::vector<Embedding> out;
  for (size_t i = 0; i < n; ++i) {
    std::vector<float> v(dim);
    for (auto& x : v)
      x = g(rng);
    out.push_back(Embedding::dense_vector(std::move(v)));
  }
  return out;
}

std::vector<Embedding> random_sparse(size_t n, uint32_t dim, size_t nnz, uint32_t seed) {
  std::mt19937 rng{seed};
  std::uniform_int_distribution<uint32_t> pos(0, dim - 1);
  std::uniform_real_distribution<float> val(0.1f, 1.0f);
  std::vector<Embedding> out;
  for (size_t i = 0; i < n; ++i) {
    std::set<uint32_t> idx;
    while (idx.size() < nnz)
      idx.insert(pos(rng));
    std::vector<float> values;
    for (size_t j = 0; j < idx.size(); ++j)
      values.push_back(val(rng));
    out.push_back(Embedding::sparse_vector(dim, {idx.begin(), idx.end()}, std::move(values)));
  }
  return out;
}

/// `n` vectors around `centres` random centres (gaussian noise).
std::vector<Embedding> clustered(size_t n, uint32_t dim, size_t centres, uint32_t seed) {
  auto c = random_dense(centres, dim, seed);
  std::mt19937 rng{seed + 1};
  std::normal_distribution<float> noise{0.0f, 0.3f};
  std::vector<Embedding> out;
  for (size_t i = 0; i < n; ++i) {
    auto v = c[i % centres].values;
    for (auto& x : v)
      x += noise(rng);
    out.push_back(Embedding::dense_vector(std::move(v)));
  }
  return out;
}

double true_score(Metric m, const Embedding& x, const Embedding& q) {
  auto a = x.to_dense();
  auto b = q.to_dense();
  double dot = 0, na = 0, nb = 0, d2 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double{a[i]} * b[i];
    na += double{a[i]} * a[i];
    nb += double{b[i]} * b[i];
    d2 += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
  }
  switch (m) {
    case Metric::cosine:
      return na == 0 || nb == 0 ? 0 : dot / std::sqrt(na * nb);
    case Metric::inner_product:
      return dot;
    case Metric::euclidean:
      return std::sqrt(d2);
  }
  return 0;
}

/// The brute-force top-k scores of q over `data` (labels = positions).
std::vector<double> brute_scores(Metric m, const std::vector<Embedding>& data, const Embedding& q,
                                 size_t k) {
  std::vector<double> s;
  for (const auto& x : data)
    s.push_back(true_score(m, x, q));
  if (higher_is_better(m))
    std::sort(s.rbegin(), s.rend());
  else
    std::sort(s.begin(), s.end());
  s.resize(std::min(k, s.size()));
  return s;
}

std::vector<const Embedding*> pointers(const std::vector<Embedding>& xs) {
  std::vector<const Embedding*> out;
  for (const auto& x : xs)
    out.push_back(&x);
  return out;
}

/// Exact results agree with brute force: the same score at every rank, and
/// each returned label really has its score (ties may order either way).
void check_exact(Metric m, const std::vector<Embedding>& data,
                 const std::vector<Embedding>& queries, size_t k) {
  ExactIndex index{m};
  for (size_t i = 0; i < data.size(); ++i)
    index.upsert(i, data[i]);
  auto hits = index.search(pointers(queries), k);
  REQUIRE(hits.size() == queries.size());
  for (size_t j = 0; j < queries.size(); ++j) {
    auto expected = brute_scores(m, data, queries[j], k);
    REQUIRE(hits[j].size() == expected.size());
    for (size_t r = 0; r < expected.size(); ++r) {
      CHECK(hits[j][r].score == doctest::Approx(expected[r]).epsilon(1e-3));
      CHECK(true_score(m, data[hits[j][r].label], queries[j])
            == doctest::Approx(hits[j][r].score).epsilon(1e-3));
    }
  }
}

double recall(const std::vector<std::vector<Hit>>& got,
              const std::vector<std::vector<Hit>>& truth) {
  size_t found = 0, total = 0;
  for (size_t j = 0; j < truth.size(); ++j) {
    std::set<uint64_t> t;
    for (const auto& h : truth[j])
      t.insert(h.label);
    for (const auto& h : got[j])
      found += t.count(h.label);
    total += t.size();
  }
  return total == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(total);
}

}  // namespace

TEST_CASE("exact dense search equals brute force under every metric") {
  auto data = random_dense(500, 24, 1);
  auto queries = random_dense(17, 24, 2);
  for (auto m : {Metric::cosine, Metric::inner_product, Metric::euclidean}) {
    INFO(std::string{to_string(m)});
    check_exact(m, data, queries, 10);
  }
}

TEST_CASE("exact sparse search equals brute force, for sparse and dense queries") {
  auto data = random_sparse(400, 2000, 30, 3);
  auto queries = random_sparse(9, 2000, 200, 4);  // dense enough to overlap
  for (auto m : {Metric::cosine, Metric::inner_product, Metric::euclidean}) {
    INFO(std::string{to_string(m)});
    check_exact(m, data, queries, 10);
    std::vector<Embedding> dense_queries;
    for (const auto& q : queries)
      dense_queries.push_back(Embedding::dense_vector(q.to_dense()));
    check_exact(m, data, dense_queries, 10);
  }
}

TEST_CASE("exact index: k larger than the index, deletes and updates") {
  for (bool sparse : {false, true}) {
    CAPTURE(sparse);
    auto data = sparse ? random_sparse(50, 300, 10, 5) : random_dense(50, 8, 5);
    ExactIndex index{Metric::cosine};
    for (size_t i = 0; i < data.size(); ++i)
      index.upsert(i, data[i]);
    // Dense: every vector has a score; sparse: those sharing a term.
    size_t sharing = 0;
    for (const auto& x : data) {
      std::set<uint32_t> terms(x.indices.begin(), x.indices.end());
      sharing += std::any_of(data[0].indices.begin(), data[0].indices.end(),
                             [&](uint32_t t) { return terms.count(t) > 0; });
    }
    CHECK(index.search({&data[0]}, 100)[0].size() == (sparse ? sharing : 50));
    // Deleted labels never come back; the others still find themselves.
    for (uint64_t i = 0; i < 50; i += 2)
      CHECK(index.remove(i));
    CHECK_FALSE(index.remove(0));
    CHECK(index.size() == 25);
    for (uint64_t i = 0; i < 50; ++i) {
      auto hits = index.search({&data[i]}, 25)[0];
      for (const auto& h : hits)
        CHECK(h.label % 2 == 1);
      if (i % 2 == 1)
        CHECK(hits.at(0).label == i);
    }
    // An update moves label 1 onto label 3's vector: both score 1 for it.
    index.upsert(1, data[3]);
    auto hits = index.search({&data[3]}, 2)[0];
    std::set<uint64_t> top{hits[0].label, hits[1].label};
    CHECK(top == std::set<uint64_t>{1, 3});
    CHECK(hits[1].score == doctest::Approx(1.0).epsilon(1e-4));
  }
}

TEST_CASE("indexes reject vectors of another dimension or kind") {
  ExactIndex exact{Metric::cosine};
  exact.upsert(0, Embedding::dense_vector({1, 2, 3}));
  try {
    exact.check_insertable(Embedding::dense_vector({1, 2}), "test");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == errc::dimension_mismatch);
    CHECK(std::string{e.what()} == "test: embedding dimension 2 != index dimension 3");
  }
  CHECK_THROWS_AS(exact.upsert(1, Embedding::sparse_vector(3, {0}, {1})), Error);
  HnswIndex hnsw{Metric::cosine, {}};
  CHECK_THROWS_AS(hnsw.upsert(0, Embedding::sparse_vector(3, {0}, {1})), Error);
}

TEST_CASE("HNSW reaches recall@10 >= 0.95 against exact search on clustered data") {
  auto data = clustered(5000, 32, 50, 7);
  // Queries near the stored clusters: stored vectors, perturbed.
  std::vector<Embedding> queries;
  std::mt19937 rng{9};
  std::normal_distribution<float> noise{0.0f, 0.3f};
  for (size_t i = 0; i < 200; ++i) {
    auto v = data[(i * 37) % data.size()].values;
    for (auto& x : v)
      x += noise(rng);
    queries.push_back(Embedding::dense_vector(std::move(v)));
  }
  for (auto m : {Metric::cosine, Metric::euclidean, Metric::inner_product}) {
    INFO(std::string{to_string(m)});
    ExactIndex exact{m};
    HnswIndex hnsw{m, {.M = 16, .ef_construction = 200, .ef = 50, .max_elements = 100}};
    for (size_t i = 0; i < data.size(); ++i) {
      exact.upsert(i, data[i]);
      hnsw.upsert(i, data[i]);  // starts at capacity 100: grows by doubling
    }
    auto truth = exact.search(pointers(queries), 10);
    auto got = hnsw.search(pointers(queries), 10);
    double r = recall(got, truth);
    MESSAGE(std::string{to_string(m)} << " recall@10 = " << r);
    CHECK(r >= 0.95);
    // Scores are on the metric's own scale.
    CHECK(got[0][0].score == doctest::Approx(truth[0][0].score).epsilon(1e-3));
  }
}

TEST_CASE("HNSW deletes, updates, save and load") {
  auto data = clustered(600, 16, 20, 11);
  HnswIndex hnsw{Metric::euclidean, {.max_elements = 64}};
  for (size_t i = 0; i < data.size(); ++i)
    hnsw.upsert(i, data[i]);
  for (uint64_t i = 0; i < 600; i += 3)
    CHECK(hnsw.remove(i));
  CHECK_FALSE(hnsw.remove(0));
  CHECK(hnsw.size() == 400);
  for (uint64_t i = 0; i < 600; i += 7) {
    auto hits = hnsw.search({&data[i]}, 10);
    CHECK(hits[0].size() == 10);
    for (const auto& h : hits[0])
      CHECK(h.label % 3 != 0);
  }
  // Update: label 1 takes label 0's (deleted) vector; re-adding 3 revives it.
  hnsw.upsert(1, data[0]);
  CHECK(hnsw.search({&data[0]}, 1)[0].at(0).label == 1);
  hnsw.upsert(3, data[3]);
  CHECK(hnsw.search({&data[3]}, 1)[0].at(0).label == 3);

  auto dir = std::filesystem::temp_directory_path() / ("caflow-hnsw-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / "g.hnsw").string();
  hnsw.save(path);
  std::vector<uint64_t> labels;
  for (uint64_t i = 0; i < 600; ++i)
    if (i % 3 != 0 || i == 3)
      labels.push_back(i);
  HnswIndex loaded{Metric::euclidean, {}};
  REQUIRE(loaded.load(path, 16, labels));
  CHECK(loaded.size() == labels.size());
  auto a = hnsw.search(pointers(data), 5);
  auto b = loaded.search(pointers(data), 5);
  for (size_t j = 0; j < a.size(); ++j)
    for (size_t r = 0; r < a[j].size(); ++r)
      CHECK(a[j][r].label == b[j][r].label);
  // Labels that differ from the saved graph's are refused: the caller rebuilds.
  labels.push_back(9999);
  CHECK_FALSE(loaded.load(path, 16, labels));
  CHECK(loaded.size() == 0);
  CHECK_FALSE(loaded.load((dir / "missing").string(), 16, {}));
  std::filesystem::remove_all(dir);
}
