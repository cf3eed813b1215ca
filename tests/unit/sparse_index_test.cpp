// The incremental sparse index against brute force: long seeded random
// sequences of upserts, updates, deletes, merges and searches must return
// bit for bit the brute-force top-k (labels, scores, order, ties included),
// under every metric; values are drawn from a few levels so that ties and
// repeated vectors are common. Also: ties follow the TieBreak, empty and
// out-of-vocabulary queries match nothing, and the exact index ranks dense
// ties by it too.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "index/exact_index.hpp"
#include "index/sparse_index.hpp"

using namespace caflow;

namespace {

struct Sparse {
  std::vector<uint32_t> indices;
  std::vector<float> values;
};

/// Terms skewed towards low numbers (some in most vectors, as mail headers
/// are), values from a few levels (ties), negative ones when `negative`.
Sparse random_vector(std::mt19937& rng, uint32_t dim, bool negative) {
  std::uniform_int_distribution<int> count(0, 8);
  std::geometric_distribution<uint32_t> skew(0.08);
  std::uniform_int_distribution<int> level(1, 4);
  std::set<uint32_t> idx;
  int n = count(rng);
  for (int i = 0; i < n; ++i)
    idx.insert(std::min(dim - 1, skew(rng)));
  Sparse out;
  for (auto i : idx) {
    float v = 0.25f * static_cast<float>(level(rng));
    if (negative && rng() % 4 == 0)
      v = -v;
    out.indices.push_back(i);
    out.values.push_back(v);
  }
  return out;
}

/// Brute force: every stored vector scored term by term in query order (as
/// the index promises), candidates ranked by HitOrder.
std::vector<Hit> brute(Metric m, const std::map<uint64_t, Sparse>& data, const Sparse& query,
                       size_t k, const TieBreak& tie) {
  auto qv = query.values;
  normalize_in_place(qv, m);
  bool any_term = false;
  std::vector<Hit> all;
  for (const auto& [label, x] : data) {
    auto xv = x.values;
    normalize_in_place(xv, m);
    float dot = 0;
    bool shares = false;
    for (size_t p = 0; p < query.indices.size(); ++p) {
      if (qv[p] == 0)
        continue;
      auto it = std::lower_bound(x.indices.begin(), x.indices.end(), query.indices[p]);
      if (it != x.indices.end() && *it == query.indices[p]) {
        dot += qv[p] * xv[static_cast<size_t>(it - x.indices.begin())];
        shares = true;
      }
    }
    any_term = any_term || shares;
    if (m == Metric::euclidean) {
      double x2 = 0, q2 = 0, d = 0;
      for (float v : xv)
        x2 += double{v} * v;
      for (float v : qv)
        if (v != 0)
          q2 += double{v} * v;
      for (size_t p = 0; p < query.indices.size(); ++p) {
        auto it = std::lower_bound(x.indices.begin(), x.indices.end(), query.indices[p]);
        if (qv[p] != 0 && it != x.indices.end() && *it == query.indices[p])
          d += double{qv[p]} * xv[static_cast<size_t>(it - x.indices.begin())];
      }
      all.push_back({label, static_cast<float>(std::sqrt(std::max(0.0, x2 + q2 - 2 * d)))});
    } else if (shares) {
      all.push_back({label, dot});
    }
  }
  if (m == Metric::euclidean && !any_term)
    return {};
  std::sort(all.begin(), all.end(), HitOrder(higher_is_better(m), &tie));
  all.resize(std::min(k, all.size()));
  return all;
}

/// Labels tie-broken by a fixed scramble, so that label order never helps.
TieBreak scrambled() {
  return [](uint64_t a, uint64_t b) {
    auto key = [](uint64_t x) { return std::pair{(x * 2654435761u) % 1009, x}; };
    return key(a) < key(b);
  };
}

void run_sequence(Metric m, uint32_t seed, size_t steps,
                  uint32_t block_bits = SparseIndex::default_block_bits) {
  std::mt19937 rng{seed};
  const uint32_t dim = 120;
  SparseIndex index{m, block_bits};
  std::map<uint64_t, Sparse> data;
  auto tie = scrambled();
  uint64_t next = 0;
  size_t searches = 0, nonempty = 0;
  auto some_label = [&]() {
    auto it = data.begin();
    std::advance(it, static_cast<long>(rng() % data.size()));
    return it->first;
  };
  for (size_t step = 0; step < steps; ++step) {
    auto op = rng() % 100;
    bool negative = m == Metric::inner_product;
    if (op < 35 || data.empty()) {
      auto v = random_vector(rng, dim, negative);
      index.upsert(next, v.indices, v.values);
      data[next++] = std::move(v);
    } else if (op < 50) {  // update, sometimes to a copy of another vector
      auto label = some_label();
      auto v = rng() % 3 == 0 ? data[some_label()] : random_vector(rng, dim, negative);
      index.upsert(label, v.indices, v.values);
      data[label] = std::move(v);
    } else if (op < 62) {
      auto label = some_label();
      CHECK(index.remove(label));
      data.erase(label);
      CHECK_FALSE(index.remove(label));
    } else if (op < 64) {
      index.merge();
    } else {
      auto q = rng() % 4 == 0 && !data.empty() ? data[some_label()]
                                               : random_vector(rng, dim, negative);
      size_t k = 1 + rng() % 12;
      auto got = index.search(q.indices, q.values, k, tie);
      auto want = brute(m, data, q, k, tie);
      ++searches;
      nonempty += want.empty() ? 0 : 1;
      CAPTURE(step);
      REQUIRE(got.size() == want.size());
      for (size_t r = 0; r < want.size(); ++r) {
        CAPTURE(r);
        CHECK(got[r].label == want[r].label);
        CHECK(got[r].score == want[r].score);
      }
    }
    REQUIRE(index.size() == data.size());
  }
  CHECK(searches > steps / 5);
  CHECK(nonempty > searches / 2);  // the sequence really compared results
}

}  // namespace

TEST_CASE("sparse index equals brute force over random upsert/update/delete/search sequences") {
  for (auto m : {Metric::cosine, Metric::inner_product, Metric::euclidean}) {
    CAPTURE(std::string{to_string(m)});
    run_sequence(m, 11 + static_cast<uint32_t>(m), 4000);
  }
}

TEST_CASE("sparse index with tiny blocks equals brute force (block bounds, skips, pruned blocks)") {
  // Blocks of 2 to 16 slots: many block boundaries, block maxima on short
  // lists, blocks skipped, pruned and scored exhaustively within one search.
  for (uint32_t bits : {1u, 2u, 4u}) {
    CAPTURE(bits);
    for (auto m : {Metric::cosine, Metric::inner_product}) {
      CAPTURE(std::string{to_string(m)});
      run_sequence(m, 101 + bits * 7 + static_cast<uint32_t>(m), 3000, bits);
    }
  }
}

TEST_CASE("sparse index: the k-th place among equal scores goes by the tie-break") {
  SparseIndex index{Metric::cosine};
  // Ten identical vectors: every score ties.
  for (uint64_t l = 0; l < 10; ++l)
    index.upsert(l, {3, 7}, {1.0f, 2.0f});
  TieBreak reversed = [](uint64_t a, uint64_t b) { return a > b; };
  auto hits = index.search({7}, {1.0f}, 3, reversed);
  REQUIRE(hits.size() == 3);
  CHECK(hits[0].label == 9);
  CHECK(hits[1].label == 8);
  CHECK(hits[2].label == 7);
  index.merge();
  index.upsert(42, {3, 7}, {1.0f, 2.0f});  // in the delta, same score
  hits = index.search({7}, {1.0f}, 2, reversed);
  CHECK(hits.at(0).label == 42);
  CHECK(hits.at(1).label == 9);
  CHECK(index.search({7}, {1.0f}, 2, TieBreak{}).at(0).label == 0);  // by label
}

TEST_CASE("sparse index: empty and out-of-vocabulary queries match nothing") {
  for (auto m : {Metric::cosine, Metric::inner_product, Metric::euclidean}) {
    CAPTURE(std::string{to_string(m)});
    ExactIndex index{m};
    index.upsert(0, Embedding::sparse_vector(100, {1, 2}, {1, 1}));
    index.upsert(1, Embedding::sparse_vector(100, {2, 5}, {1, 1}));
    auto empty = Embedding::sparse_vector(100, {}, {});
    auto unknown = Embedding::sparse_vector(100, {50, 60}, {1, 1});
    auto zero = Embedding::dense_vector(std::vector<float>(100, 0.0f));
    auto hits = index.search({&empty, &unknown, &zero}, 10);
    CHECK(hits[0].empty());
    CHECK(hits[1].empty());
    CHECK(hits[2].empty());
    auto known = Embedding::sparse_vector(100, {5}, {1});
    auto found = index.search({&known}, 10)[0];
    CHECK(found.size() == (m == Metric::euclidean ? 2 : 1));
    CHECK(found.at(0).label == 1);
  }
}

TEST_CASE("exact dense search ranks equal scores by the tie-break") {
  ExactIndex index{Metric::inner_product};
  for (uint64_t l = 0; l < 8; ++l)
    index.upsert(l, Embedding::dense_vector({1, 1}));
  auto q = Embedding::dense_vector({1, 0});
  TieBreak reversed = [](uint64_t a, uint64_t b) { return a > b; };
  auto hits = index.search({&q}, 3, reversed)[0];
  REQUIRE(hits.size() == 3);
  CHECK(hits[0].label == 7);
  CHECK(hits[2].label == 5);
}

TEST_CASE("sparse index: pruning at scale (long lists, few candidates) equals brute force") {
  // Zipf-like terms: the frequent ones end up looked up or scanned, the rare
  // ones produce candidates; values vary continuously, as TF-IDF weights do.
  std::mt19937 rng{5};
  std::geometric_distribution<uint32_t> skew(0.01);
  std::uniform_real_distribution<float> value(0.05f, 1.0f);
  auto draw = [&](size_t terms) {
    std::set<uint32_t> idx;
    while (idx.size() < terms)
      idx.insert(std::min<uint32_t>(1999, skew(rng)));
    Sparse v;
    for (auto i : idx) {
      v.indices.push_back(i);
      v.values.push_back(value(rng) / (1.0f + static_cast<float>(i) / 100.0f));
    }
    return v;
  };
  // Default blocks, and blocks of 64 slots (94 of them: block maxima that
  // prune, candidates looked up, blocks skipped).
  for (uint32_t bits : {SparseIndex::default_block_bits, 6u}) {
    CAPTURE(bits);
    SparseIndex index{Metric::cosine, bits};
    std::map<uint64_t, Sparse> data;
    for (uint64_t l = 0; l < 6000; ++l) {
      data[l] = draw(20);
      index.upsert(l, data[l].indices, data[l].values);
      if (l == 4000)
        index.merge();  // a base and a delta
    }
    TieBreak by_label;
    for (int j = 0; j < 60; ++j) {
      auto q = draw(j % 2 == 0 ? 30 : 3);  // long and short queries
      auto got = index.search(q.indices, q.values, 10, by_label);
      auto want = brute(Metric::cosine, data, q, 10, by_label);
      REQUIRE(got.size() == want.size());
      for (size_t r = 0; r < want.size(); ++r) {
        CHECK(got[r].label == want[r].label);
        CHECK(got[r].score == want[r].score);
      }
    }
  }
}
