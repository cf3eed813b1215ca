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
#include <thread>

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
/// With `headers`, terms 0-3 are each in 85% of the vectors (their merged
/// lists become dense arrays) and a value is now and then an explicit 0
/// (which keeps a list sparse: 0 is a dense array's "absent").
Sparse random_vector(std::mt19937& rng, uint32_t dim, bool negative, bool headers = false) {
  std::uniform_int_distribution<int> count(0, 8);
  std::geometric_distribution<uint32_t> skew(0.08);
  std::uniform_int_distribution<int> level(1, 4);
  std::set<uint32_t> idx;
  int n = count(rng);
  for (int i = 0; i < n; ++i)
    idx.insert(std::min(dim - 1, skew(rng)));
  if (headers)
    for (uint32_t t = 0; t < 4; ++t)
      if (rng() % 100 < 85)
        idx.insert(t);
  Sparse out;
  for (auto i : idx) {
    float v = 0.25f * static_cast<float>(level(rng));
    if (negative && rng() % 4 == 0)
      v = -v;
    if (headers && i > 1 && rng() % 200 == 0)
      v = 0.0f;
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

/// `index`'s top-k for `query` equals brute force's, label and score.
void check_against_brute(const SparseIndex& index, Metric m, const std::map<uint64_t, Sparse>& data,
                         const Sparse& query, size_t k, const TieBreak& tie) {
  auto got = index.search(query.indices, query.values, k, tie);
  auto want = brute(m, data, query, k, tie);
  REQUIRE(got.size() == want.size());
  for (size_t r = 0; r < want.size(); ++r) {
    CAPTURE(r);
    CHECK(got[r].label == want[r].label);
    CHECK(got[r].score == want[r].score);
  }
}

/// Labels tie-broken by a fixed scramble, so that label order never helps.
TieBreak scrambled() {
  return [](uint64_t a, uint64_t b) {
    auto key = [](uint64_t x) { return std::pair{(x * 2654435761u) % 1009, x}; };
    return key(a) < key(b);
  };
}

/// How run_sequence merges: in place (the writes that make one due, and
/// some forced), or as background jobs taken, run and finished at random
/// later steps with writes and searches in between: forced ones (minor or
/// major) and, as the Indexer's shards do, the one due after a write
/// (`owner`).
enum class Merges { in_place, background, owner };

/// A policy small enough for run_sequence's few postings (~4 a vector):
/// minor merges every ~1/8 of growth, a major one every half.
constexpr MergePolicy small_policy{.min_postings = 16, .minor_share = 8, .major_share = 2};

/// What run_sequence saw, for tests to check that a path was taken.
struct Seen {
  SparseIndex::MergeCounts merges;
  size_t searched_mid = 0;  // searches with a non-empty mid segment
};

Seen run_sequence(Metric m, uint32_t seed, size_t steps,
                  uint32_t block_bits = SparseIndex::default_block_bits,
                  Merges merges = Merges::in_place, bool headers = false, MergePolicy policy = {}) {
  std::mt19937 rng{seed};
  const uint32_t dim = 120;
  SparseIndex index{m, block_bits, policy};
  const bool background = merges != Merges::in_place;
  index.set_background_merges(background);
  std::map<uint64_t, Sparse> data;
  auto tie = scrambled();
  uint64_t next = 0;
  size_t searches = 0, nonempty = 0, installed = 0, searched_merging = 0, searched_dense = 0;
  size_t searched_mid = 0;
  size_t live_postings = 0;       // the stored vectors' non-zeros
  std::shared_ptr<IndexJob> job;  // out, background only
  bool job_ran = false;
  // The owner's habit: after a write, take the merge that is due.
  auto take_due = [&] {
    if (merges == Merges::owner && !job && (job = index.begin_merge()))
      job_ran = false;
  };
  auto some_label = [&]() {
    auto it = data.begin();
    std::advance(it, static_cast<long>(rng() % data.size()));
    return it->first;
  };
  for (size_t step = 0; step < steps; ++step) {
    CAPTURE(step);
    auto op = rng() % 100;
    bool negative = m == Metric::inner_product;
    if (op < 35 || data.empty()) {
      auto v = random_vector(rng, dim, negative, headers);
      index.upsert(next, v.indices, v.values);
      live_postings += v.indices.size();
      data[next++] = std::move(v);
      take_due();
    } else if (op < 50) {  // update, sometimes to a copy of another vector
      auto label = some_label();
      auto v = rng() % 3 == 0 ? data[some_label()] : random_vector(rng, dim, negative, headers);
      index.upsert(label, v.indices, v.values);
      live_postings += v.indices.size() - data[label].indices.size();
      data[label] = std::move(v);
      take_due();
    } else if (op < 62) {
      auto label = some_label();
      CHECK(index.remove(label));
      live_postings -= data[label].indices.size();
      data.erase(label);
      CHECK_FALSE(index.remove(label));
      take_due();
    } else if (op < 64) {
      // In background mode a no-op while a job is out.
      index.merge(rng() % 2 == 0 ? MergeKind::major : MergeKind::minor);
      if (background && !job)
        installed += 1;
    } else if (background && op < 68) {
      // The job's life: taken, run (sometimes cancelled first), finished;
      // one step each, anything else in between.
      if (!job) {
        job = index.begin_merge(rng() % 2 == 0 ? MergeKind::major : MergeKind::minor);
        REQUIRE(job);
        CHECK(index.merging());
        CHECK_FALSE(index.begin_merge(MergeKind::major));  // one at a time
        CHECK(index.merge_due() == MergeKind::none);       // while one is out
        job_ran = false;
      } else if (!job_ran) {
        if (rng() % 8 == 0)
          job->cancel();
        job->run();
        job_ran = true;
      } else {
        index.finish_merge(job);
        CHECK_FALSE(index.merging());
        job = nullptr;
        installed += 1;
      }
    } else if (background && op == 68 && rng() % 8 == 0) {
      // A clear with a job out: the job comes back to an emptied index.
      index.clear();
      data.clear();
      live_postings = 0;
      if (job && rng() % 2 == 0) {
        job->run();
        index.finish_merge(job);  // ignored
        job = nullptr;
      }
      CHECK(index.size() == 0);
    } else {
      auto q = rng() % 4 == 0 && !data.empty() ? data[some_label()]
                                               : random_vector(rng, dim, negative, headers);
      size_t k = 1 + rng() % 12;
      auto got = index.search(q.indices, q.values, k, tie);
      auto want = brute(m, data, q, k, tie);
      ++searches;
      searched_merging += index.merging() ? 1 : 0;
      searched_dense += index.dense_terms() > 0 ? 1 : 0;
      searched_mid += index.mid_postings() > 0 ? 1 : 0;
      nonempty += want.empty() ? 0 : 1;
      REQUIRE(got.size() == want.size());
      for (size_t r = 0; r < want.size(); ++r) {
        CAPTURE(r);
        CHECK(got[r].label == want[r].label);
        CHECK(got[r].score == want[r].score);
      }
    }
    REQUIRE(index.size() == data.size());
    // Every posting is counted live or dead, in whichever tier it is.
    REQUIRE(index.postings() - index.dead_postings() == live_postings);
  }
  CHECK(searches > steps / 5);
  CHECK(nonempty > searches / 2);  // the sequence really compared results
  if (headers)
    CHECK(searched_dense > searches / 4);  // dense arrays were searched
  if (background) {
    CHECK(installed > steps / 200);          // merges did land
    CHECK(searched_merging > searches / 4);  // and searches ran beside them
  }
  return Seen{index.merges(), searched_mid};
}

}  // namespace

TEST_CASE("sparse index equals brute force over random upsert/update/delete/search sequences") {
  for (auto m : {Metric::cosine, Metric::inner_product, Metric::euclidean}) {
    CAPTURE(std::string{to_string(m)});
    run_sequence(m, 11 + static_cast<uint32_t>(m), 4000);
  }
}

TEST_CASE("sparse index with background merges equals brute force, writes arriving mid-merge") {
  // A merge job is taken, run and installed at random steps, with upserts,
  // updates, deletes, searches, in-place merge attempts and clears between:
  // writes to merged slots (tombstones), to new ones (the delta, renumbered
  // on install), and cancelled jobs (nothing installed, nothing lost).
  for (auto m : {Metric::cosine, Metric::inner_product, Metric::euclidean}) {
    CAPTURE(std::string{to_string(m)});
    run_sequence(m, 41 + static_cast<uint32_t>(m), 4000, SparseIndex::default_block_bits,
                 Merges::background);
  }
  for (uint32_t bits : {1u, 3u}) {  // block maxima recomputed after the renumbering
    CAPTURE(bits);
    run_sequence(Metric::cosine, 61 + bits, 3000, bits, Merges::background);
  }
}

TEST_CASE("merge policy: minor and major merges by the tiers' postings") {
  const MergePolicy policy;  // the defaults: 2^16, 1/32, 1/4
  const size_t floor = size_t{1} << 16;
  // Nothing is due below the floor, whatever the shares say.
  CHECK(policy.due(0, 0, floor - 1, 0) == MergeKind::none);
  CHECK(policy.due(100, 0, floor - 1, floor - 1) == MergeKind::none);
  // Without a base the first merge is a major one.
  CHECK(policy.due(0, 0, floor, 0) == MergeKind::major);
  // A large base: the delta goes into the mid at (base + mid) / 32 ...
  const size_t base = size_t{32} << 20;
  CHECK(policy.due(base, 0, base / 32 - 1, 0) == MergeKind::none);
  CHECK(policy.due(base, 0, base / 32, 0) == MergeKind::minor);
  CHECK(policy.due(base, base / 8, (base + base / 8) / 32 - 1, 0) == MergeKind::none);
  CHECK(policy.due(base, base / 8, (base + base / 8) / 32, 0) == MergeKind::minor);
  // ... and everything into the base once mid + delta reach base / 4.
  CHECK(policy.due(base, base / 4 - base / 32, base / 32, 0) == MergeKind::major);
  CHECK(policy.due(base, base / 4 - 1, 0, 0) == MergeKind::none);
  CHECK(policy.due(base, base / 4, 0, 0) == MergeKind::major);
  // A small base: the floor makes the delta's first merge a major one.
  CHECK(policy.due(4 * floor, 0, floor, 0) == MergeKind::major);
  CHECK(policy.due(4 * floor + 4, 0, floor, 0) == MergeKind::minor);
  // Tombstones: half of all postings make a major merge due ...
  CHECK(policy.due(base, 0, 0, base / 2) == MergeKind::major);
  CHECK(policy.due(base, 0, 0, base / 2 - 1) == MergeKind::none);
  CHECK(policy.due(2 * floor, 0, floor / 2, floor + floor / 4) == MergeKind::major);
  CHECK(policy.due(2 * floor, 0, floor / 2, floor + floor / 4 - 1) == MergeKind::none);
  CHECK(policy.due(floor / 2, 0, 0, floor / 2) == MergeKind::none);  // below the floor
  // ... and do not count for the minor rule (which sees all postings).
  CHECK(policy.due(base, 0, base / 32, base / 32) == MergeKind::minor);
  CHECK(policy.due(base, 0, base / 32 - 1, base / 3) == MergeKind::none);
  // The numbers are the policy's.
  const MergePolicy small{.min_postings = 10, .minor_share = 4, .major_share = 1};
  CHECK(small.due(0, 0, 9, 0) == MergeKind::none);
  CHECK(small.due(0, 0, 10, 0) == MergeKind::major);
  CHECK(small.due(100, 0, 24, 0) == MergeKind::none);
  CHECK(small.due(100, 0, 25, 0) == MergeKind::minor);
  CHECK(small.due(100, 40, 34, 0) == MergeKind::none);
  CHECK(small.due(100, 40, 35, 0) == MergeKind::minor);
  CHECK(small.due(100, 60, 40, 0) == MergeKind::major);
  // Flat: two tiers, the delta into the base at a quarter of it.
  const auto flat = MergePolicy::flat();
  CHECK(flat.due(base, 0, base / 4 - 1, 0) == MergeKind::none);
  CHECK(flat.due(base, 0, base / 4, 0) == MergeKind::major);
  CHECK(flat.due(base, 0, base / 8, 0) == MergeKind::none);  // never a minor one
  CHECK(flat.due(base, 0, base / 32, base) == MergeKind::major);
}

TEST_CASE("sparse index with tiered merges equals brute force (minor and major, many times)") {
  // A small policy: the delta goes into the mid every ~1/8 of growth, all
  // into the base every half, in place (the writes that make them due),
  // as background jobs the owner takes after writes, and forced ones of
  // both kinds; searches meanwhile read base, mid, frozen delta and delta,
  // windows cut at the segments' ends (tiny blocks: many such cuts).
  for (auto m : {Metric::cosine, Metric::inner_product, Metric::euclidean}) {
    CAPTURE(std::string{to_string(m)});
    for (auto merges : {Merges::in_place, Merges::owner}) {
      CAPTURE(static_cast<int>(merges));
      auto seen = run_sequence(m,
                               131 + 3 * static_cast<uint32_t>(m) + static_cast<uint32_t>(merges),
                               5000, 3, merges, false, small_policy);
      CHECK(seen.merges.minor >= 20);
      CHECK(seen.merges.major >= 5);
      CHECK(seen.searched_mid > 300);
    }
  }
  for (uint32_t bits : {1u, 2u, 5u, SparseIndex::default_block_bits}) {
    CAPTURE(bits);
    for (auto merges : {Merges::in_place, Merges::background, Merges::owner}) {
      CAPTURE(static_cast<int>(merges));
      auto seen = run_sequence(Metric::cosine, 151 + 7 * bits + static_cast<uint32_t>(merges), 4000,
                               bits, merges, true, small_policy);
      CHECK(seen.merges.minor >= 10);
      CHECK(seen.merges.major >= 5);
      CHECK(seen.searched_mid > 200);
    }
  }
}

TEST_CASE("sparse index with dense posting arrays equals brute force") {
  // Terms in most vectors: merged into dense arrays (absent = 0, added as
  // +-0 by exhaustive blocks, looked up by position), tombstoned, updated,
  // merged again; one of them with an explicit 0 somewhere stays sparse.
  for (auto m : {Metric::cosine, Metric::inner_product, Metric::euclidean}) {
    CAPTURE(std::string{to_string(m)});
    run_sequence(m, 71 + static_cast<uint32_t>(m), 3000, SparseIndex::default_block_bits,
                 Merges::in_place, true);
  }
  for (uint32_t bits : {1u, 3u, 5u}) {
    CAPTURE(bits);
    run_sequence(Metric::cosine, 81 + bits, 3000, bits, Merges::background, true);
    run_sequence(Metric::inner_product, 91 + bits, 2000, bits, Merges::in_place, true);
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
      if (l == 3000)
        index.merge();  // a base, a mid (its first slot inside a block) and a delta
      if (l == 4500)
        index.merge(MergeKind::minor);
    }
    CHECK(index.mid_postings() > 0);
    TieBreak by_label;
    for (int j = 0; j < 60; ++j) {
      auto q = draw(j % 2 == 0 ? 30 : 3);  // long and short queries
      check_against_brute(index, Metric::cosine, data, q, 10, by_label);
    }
  }
}

TEST_CASE("sparse index: mail-like queries (common terms looked up, ties in pruned blocks)") {
  // Like mail starts: most query terms are in most documents with small
  // weights (dense arrays, only looked up once theta is high), a few are rare
  // with large ones (summed first); repeated documents tie at the cut. Blocks
  // of 64 slots: many pruned blocks, in the base and in the delta.
  std::mt19937 rng{11};
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  auto draw = [&] {
    Sparse v;
    for (uint32_t t = 0; t < 300; ++t) {
      const bool common = t < 40;
      if (u(rng) < (common ? 0.9f : 0.03f)) {
        v.indices.push_back(t);
        v.values.push_back(common ? 0.05f + 0.2f * u(rng) * u(rng) : 0.2f + u(rng));
      }
    }
    if (v.indices.empty()) {
      v.indices.push_back(0);
      v.values.push_back(1.0f);
    }
    return v;
  };
  SparseIndex index{Metric::cosine, 6};
  std::map<uint64_t, Sparse> data;
  for (uint64_t l = 0; l < 3000; ++l) {
    data[l] = l % 97 == 5 && l > 100 ? data[l - 100] : draw();  // some repeats
    index.upsert(l, data[l].indices, data[l].values);
    if (l == 1800)
      index.merge();  // a base, a mid and a delta
    if (l == 2500)
      index.merge(MergeKind::minor);
  }
  CHECK(index.mid_postings() > 0);
  for (int j = 0; j < 40; ++j) {
    Sparse q = j % 4 == 0 ? data[static_cast<uint64_t>(5 + 97 * j)] : draw();
    check_against_brute(index, Metric::cosine, data, q, 10, scrambled());
  }
}

TEST_CASE(
  "sparse index: documents scoring exactly theta in pruned blocks are kept for the tie-break") {
  // Single-term documents: each one's bound equals its score, and hundreds
  // tie at the cut, in every block; the tie-break (not the slot order)
  // picks among them, so a pruning without its rounding margin (or with a
  // strict bound) drops winners.
  SparseIndex index{Metric::cosine, 6};
  std::map<uint64_t, Sparse> data;
  for (uint64_t l = 0; l < 1500; ++l) {
    data[l] = Sparse{{l % 3 == 0 ? 7u : 9u}, {1.0f}};
    index.upsert(l, data[l].indices, data[l].values);
    if (l == 1000)
      index.merge();
    if (l == 1250)
      index.merge(MergeKind::minor);  // ties in base, mid and delta
  }
  check_against_brute(index, Metric::cosine, data, Sparse{{9, 7}, {0.5f, 0.8f}}, 10, scrambled());
  check_against_brute(index, Metric::cosine, data, Sparse{{7, 9}, {0.5f, 0.8f}}, 10, scrambled());
}

// An index with background merges (as the Indexer's shards run them) and
// what it should hold: each write applied to both, each check against brute
// force over the copy.
struct JobFixture {
  SparseIndex index{Metric::cosine, /*block_bits=*/2};
  std::map<uint64_t, Sparse> data;
  TieBreak by_label;

  JobFixture() { index.set_background_merges(true); }
  void put(uint64_t label, Sparse v) {
    index.upsert(label, v.indices, v.values);
    data[label] = std::move(v);
  }
  void drop(uint64_t label) {
    CHECK(index.remove(label));
    data.erase(label);
  }
  // A job taken, written beside (a new label, `label` put and dropped),
  // cancelled, run and handed back: it installs nothing and loses nothing.
  void cancelled_job(MergeKind kind, uint64_t label) {
    put(label, Sparse{{1}, {1.0f}});
    auto cancelled = index.begin_merge(kind);
    REQUIRE(cancelled);
    put(label + 1, Sparse{{1, 2}, {1.0f, 1.0f}});
    drop(label);
    cancelled->cancel();
    cancelled->run();
    index.finish_merge(cancelled);
    CHECK_FALSE(index.merging());
    check_all("cancelled");
  }
  void check_all(const char* phase) {
    CAPTURE(phase);
    REQUIRE(index.size() == data.size());
    size_t live = 0;
    for (const auto& [label, v] : data)
      live += v.indices.size();
    CHECK(index.postings() - index.dead_postings() == live);
    for (uint32_t t = 0; t < 6; ++t) {
      Sparse q{{t, t + 1}, {1.0f, 0.5f}};
      check_against_brute(index, Metric::cosine, data, q, 50, by_label);
    }
  }
};

TEST_CASE("sparse index: a merge job in a fixed order of write, search, run and install") {
  // The order the Indexer's shards run it in: the job is taken under the
  // lock, run without it while writes and searches go on, installed under
  // it. Each write kind lands at each phase, and every search in between
  // equals brute force.
  JobFixture f;
  for (uint64_t l = 0; l < 20; ++l)
    f.put(l, Sparse{{static_cast<uint32_t>(l % 5), 6}, {1.0f + static_cast<float>(l % 3), 1.0f}});
  f.index.merge();  // a base
  for (uint64_t l = 20; l < 30; ++l)
    f.put(l, Sparse{{static_cast<uint32_t>(l % 4), 5}, {2.0f, 1.0f}});
  f.drop(3);  // a tombstone in the base before the job
  auto job = f.index.begin_merge(MergeKind::major);
  REQUIRE(job);
  f.check_all("taken");
  f.put(2, Sparse{{0, 1}, {1.0f, 1.0f}});   // update of a merged (base) slot
  f.put(25, Sparse{{4}, {1.0f}});           // update of a merged (frozen) slot
  f.put(40, Sparse{{1, 2}, {3.0f, 1.0f}});  // new
  f.drop(7);                                // delete of a merged slot
  f.check_all("written before run");
  job->run();
  f.check_all("ran");  // nothing installed yet: the frozen segment is still searched
  f.put(41, Sparse{{2, 3}, {1.0f, 1.0f}});  // new, after the run
  f.put(40, Sparse{{0}, {1.0f}});           // update of a slot written mid-merge
  f.drop(26);                               // delete of a merged slot after the run
  f.drop(41);                               // delete of a slot written mid-merge
  f.check_all("written after run");
  f.index.finish_merge(job);
  CHECK_FALSE(f.index.merging());
  f.check_all("installed");
  f.put(2, Sparse{{5}, {1.0f}});  // the carried-over labels still update their slots
  f.drop(40);
  f.put(50, Sparse{{0, 5}, {1.0f, 2.0f}});
  f.check_all("written after install");
  f.index.merge();
  f.check_all("merged again");
  CHECK(f.index.postings() == 2 * f.data.size() - 2);  // no dead postings; 2 and 25 have one

  f.cancelled_job(MergeKind::major, 60);
  // A job finished on another index is ignored.
  SparseIndex other{Metric::cosine};
  other.upsert(1, {1}, {1.0f});
  auto foreign = other.begin_merge(MergeKind::major);
  foreign->run();
  f.index.finish_merge(foreign);
  f.check_all("foreign job");
  other.finish_merge(foreign);
  CHECK(other.search({1}, {1.0f}, 1, f.by_label).at(0).label == 1);
}

TEST_CASE("sparse index: minor and major jobs in a fixed order of write, search, run and install") {
  // Base, mid and delta at once: a minor job folds the delta into the mid
  // (no slot moves: writes during it stand as they are), a major one all
  // three into the base (writes carried over, renumbered); each write kind
  // at each phase, every search in between equal to brute force.
  JobFixture f;
  auto run_job = [&](MergeKind kind, auto&& before_run, auto&& after_run) {
    auto job = f.index.begin_merge(kind);
    REQUIRE(job);
    f.check_all("taken");
    before_run();
    f.check_all("written before run");
    job->run();
    f.check_all("ran");
    after_run();
    f.check_all("written after run");
    f.index.finish_merge(job);
    CHECK_FALSE(f.index.merging());
    f.check_all("installed");
  };
  for (uint64_t l = 0; l < 21; ++l)  // 21: the mid starts inside a block
    f.put(l, Sparse{{static_cast<uint32_t>(l % 5), 6}, {1.0f + static_cast<float>(l % 3), 1.0f}});
  f.index.merge();  // a base
  for (uint64_t l = 21; l < 31; ++l)
    f.put(l, Sparse{{static_cast<uint32_t>(l % 4), 5}, {2.0f, 1.0f}});
  f.drop(3);   // a tombstone in the base
  f.drop(22);  // and one in the delta, dropped by the minor merge
  run_job(
    MergeKind::minor,
    [&] {
      f.put(2, Sparse{{0, 1}, {1.0f, 1.0f}});   // update of a base slot
      f.put(25, Sparse{{4}, {1.0f}});           // update of a merged (delta) slot
      f.put(40, Sparse{{1, 2}, {3.0f, 1.0f}});  // new
      f.drop(27);                               // delete of a merged slot
    },
    [&] {
      f.put(41, Sparse{{2, 3}, {1.0f, 1.0f}});
      f.put(40, Sparse{{0}, {1.0f}});  // update of a slot written mid-merge
      f.drop(28);                      // delete of a merged slot after the run
      f.drop(41);
    });
  CHECK(f.index.merges().minor == 1);
  // 21..30 but 22 (dropped before the job), two postings each; 25, 27 and
  // 28 (written during it) are tombstones there.
  CHECK(f.index.mid_postings() == 2 * 9);
  f.put(50, Sparse{{0, 5}, {1.0f, 2.0f}});
  f.drop(29);  // a tombstone in the mid
  f.check_all("written after the minor merge");
  // A second minor merge: the mid rebuilt from itself and the delta.
  run_job(
    MergeKind::minor,
    [&] {
      f.put(51, Sparse{{3}, {2.0f}});
    },
    [&] { f.drop(24); });
  CHECK(f.index.merges().minor == 2);
  // A major one, with base, mid and delta all holding postings.
  f.put(60, Sparse{{1, 4}, {1.0f, 1.0f}});
  f.drop(23);  // mid
  f.drop(5);   // base
  CHECK(f.index.mid_postings() > 0);
  run_job(
    MergeKind::major,
    [&] {
      f.put(26, Sparse{{5}, {1.0f}});  // update of a mid slot
      f.put(61, Sparse{{0, 2}, {1.0f, 1.0f}});
      f.drop(60);  // delete of a merged (delta) slot
    },
    [&] {
      f.put(62, Sparse{{1}, {1.0f}});
      f.drop(30);  // mid
      f.drop(1);   // base
    });
  CHECK(f.index.merges().major == 2);
  CHECK(f.index.mid_postings() == 0);
  f.put(2, Sparse{{5}, {1.0f}});  // carried-over labels still update their slots
  f.drop(26);
  f.check_all("written after the major merge");
  f.index.merge();
  f.check_all("merged again");
  CHECK(f.index.dead_postings() == 0);
  f.cancelled_job(MergeKind::minor, 70);
  CHECK(f.index.merges().minor == 2);
}

TEST_CASE("sparse index: a merge job run on another thread while writes and searches go on") {
  // run() takes no lock: writes and searches on this thread meanwhile (what
  // a sanitizer build checks for races), then install and compare.
  std::mt19937 rng{77};
  SparseIndex index{Metric::inner_product, 4};
  index.set_background_merges(true);
  std::map<uint64_t, Sparse> data;
  for (uint64_t l = 0; l < 3000; ++l) {
    data[l] = random_vector(rng, 200, true);
    index.upsert(l, data[l].indices, data[l].values);
  }
  TieBreak by_label;
  // Minor and major jobs in turn: the first minor one makes the whole
  // delta a mid, the next major one a base, and so on.
  for (int round = 0; round < 4; ++round) {
    CAPTURE(round);
    auto job = index.begin_merge(round % 2 == 0 ? MergeKind::minor : MergeKind::major);
    REQUIRE(job);
    std::thread worker{[&job] { job->run(); }};
    for (int i = 0; i < 300; ++i) {
      auto label = rng() % 4000;
      if (rng() % 4 == 0 && data.count(label) != 0) {
        index.remove(label);
        data.erase(label);
      } else {
        data[label] = random_vector(rng, 200, true);
        index.upsert(label, data[label].indices, data[label].values);
      }
      auto q = random_vector(rng, 200, true);
      check_against_brute(index, Metric::inner_product, data, q, 10, by_label);
    }
    worker.join();
    index.finish_merge(job);
    CHECK((index.mid_postings() > 0) == (round % 2 == 0));
    for (int i = 0; i < 50; ++i) {
      auto q = random_vector(rng, 200, true);
      check_against_brute(index, Metric::inner_product, data, q, 10, by_label);
    }
  }
}

TEST_CASE("sparse index: a dense array's absent slots match nothing") {
  // Term 0 in 90 of 100 vectors (dense after the merge), term 1 in all:
  // a query of term 0 alone must match the 90 only, however large k is,
  // and a vector with an explicit 0 keeps its term sparse and matched.
  for (uint32_t bits : {SparseIndex::default_block_bits, 3u}) {
    CAPTURE(bits);
    SparseIndex index{Metric::inner_product, bits};
    std::map<uint64_t, Sparse> data;
    for (uint64_t l = 0; l < 100; ++l) {
      Sparse v = l % 10 == 3 ? Sparse{{1}, {1.0f}} : Sparse{{0, 1}, {0.5f, 1.0f}};
      if (l == 50)
        v = Sparse{{1, 2}, {1.0f, 0.0f}};  // term 2: one explicit 0
      index.upsert(l, v.indices, v.values);
      data[l] = v;
    }
    for (uint64_t l = 100; l < 170; ++l) {
      index.upsert(l, {2}, {2.0f});
      data[l] = Sparse{{2}, {2.0f}};
    }
    index.merge();
    CHECK(index.dense_terms() == 2);  // 0 and 1; 2 has a 0 value
    TieBreak by_label;
    for (const auto& q : {Sparse{{0}, {1.0f}}, Sparse{{0}, {-1.0f}}, Sparse{{2}, {1.0f}},
                          Sparse{{0, 1}, {-1.0f, 0.5f}}}) {
      check_against_brute(index, Metric::inner_product, data, q, 500, by_label);
    }
    CHECK(index.search({0}, {1.0f}, 500, by_label).size() == 89);  // 90 - label 50
    CHECK(index.search({2}, {1.0f}, 500, by_label).size() == 71);  // 70 + the explicit 0
  }
}

TEST_CASE("sparse index: built in bulk equals brute force, and takes writes after") {
  // What a shard's reload does: every stored vector at once (a label twice:
  // the later row wins), then writes, merges and searches as usual.
  for (auto m : {Metric::cosine, Metric::inner_product, Metric::euclidean}) {
    CAPTURE(std::string{to_string(m)});
    std::mt19937 rng{13 + static_cast<uint32_t>(m)};
    SparseIndex index{m, 3};
    std::map<uint64_t, Sparse> data;
    SparseRows rows;
    for (uint64_t l = 0; l < 1500; ++l) {
      auto label = l % 700 == 699 ? l - 600 : l;  // a few repeats
      auto v = random_vector(rng, 150, m == Metric::inner_product, true);
      rows.add(label, v.indices, v.values);
      data[label] = v;
    }
    index.build(std::move(rows));
    CHECK(index.size() == data.size());
    CHECK(index.dense_terms() > 0);
    TieBreak by_label;
    auto compare = [&] {
      for (int j = 0; j < 40; ++j) {
        auto q = random_vector(rng, 150, m == Metric::inner_product, true);
        check_against_brute(index, m, data, q, 15, by_label);
      }
    };
    compare();
    for (uint64_t l = 0; l < 300; ++l) {
      auto label = rng() % 2000;
      if (l % 3 == 0 && data.count(label) != 0) {
        CHECK(index.remove(label));
        data.erase(label);
      } else {
        auto v = random_vector(rng, 150, m == Metric::inner_product, true);
        index.upsert(label, v.indices, v.values);
        data[label] = v;
      }
    }
    compare();
    index.merge();
    compare();
    index.build(SparseRows{});  // empty
    CHECK(index.size() == 0);
    CHECK(index.search({0}, {1.0f}, 5, by_label).empty());
  }
}
