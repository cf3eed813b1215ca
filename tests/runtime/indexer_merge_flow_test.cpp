// An Indexer with a small merge policy (uses_with merge_*) in a whole flow:
// upserts, updates and deletes through the actors, with searches running
// beside them on the read lane, make the shard's background jobs merge both
// minor and major; every acknowledged write is searchable meanwhile, and
// afterwards (and after a reopen) every search equals a brute force over
// what was written.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "executors/indexer_shard.hpp"
#include "tests/temp_workspace.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

constexpr uint32_t dim = 20000;
constexpr uint32_t n = 1500;  // documents; ~13 postings each
constexpr uint32_t batch = 25;

Params policy() {
  return Params{{"metric", "inner_product"},
                {"merge_min_postings", 128},
                {"merge_minor_share", 16},
                {"merge_major_share", 2}};
}

/// Document i at `version`: its own term 1000 + i (weight 50, no other
/// document has it) and 12 of the first 100 terms with weights in [0.5, 1.5)
/// that change with the version.
Document doc(uint32_t i, uint32_t version) {
  std::mt19937 rng{i * 7919 + version * 104729};
  std::uniform_real_distribution<float> weight{0.5f, 1.5f};
  std::vector<uint32_t> idx;
  for (uint32_t t = rng() % 8; t < 100 && idx.size() < 12; t += 1 + rng() % 8)
    idx.push_back(t);
  std::vector<float> val;
  for (size_t j = 0; j < idx.size(); ++j)
    val.push_back(weight(rng));
  idx.push_back(1000 + i);
  val.push_back(50.0f);
  Document d;
  d.id = "d" + std::to_string(i);
  d.embedding = Embedding::sparse_vector(dim, std::move(idx), std::move(val));
  return d;
}

Document own_term_query(uint32_t i) {
  Document q;
  q.embedding = Embedding::sparse_vector(dim, {1000 + i}, {1.0f});
  return q;
}

double dot(const Embedding& a, const Embedding& b) {
  double s = 0;
  size_t x = 0, y = 0;
  while (x < a.indices.size() && y < b.indices.size()) {
    if (a.indices[x] < b.indices[y])
      ++x;
    else if (a.indices[x] > b.indices[y])
      ++y;
    else
      s += double{a.values[x++]} * double{b.values[y++]};
  }
  return s;
}

using Model = std::map<std::string, Embedding>;  // what is stored, by id

/// Every document written: found by its own term exactly while stored;
/// the count is the model's.
void check_own_terms(RunningFlow& flow, const Model& model) {
  DocumentArray queries;
  for (uint32_t i = 0; i < n; ++i)
    queries.push_back(own_term_query(i));
  auto r = flow.post("/search", std::move(queries), {.parameters = {{"top_k", 1}}});
  REQUIRE_MESSAGE(r, describe(r));
  REQUIRE(r->docs.size() == n);
  for (uint32_t i = 0; i < n; ++i) {
    auto id = "d" + std::to_string(i);
    CAPTURE(id);
    const auto& matches = r->docs[i].matches;
    if (model.count(id) != 0) {
      REQUIRE(matches.size() == 1);
      CHECK(matches[0].id == id);
    } else {
      CHECK(matches.empty());
    }
  }
  auto c = flow.post("/count", {});
  REQUIRE_MESSAGE(c, describe(c));
  CHECK(c->parameters.get_int("count", -1) == static_cast<int64_t>(model.size()));
}

/// Queries over the shared terms: the top 10 scores are the brute force's,
/// and each match scores what the brute force gives its id (ties may order
/// either way only among equal scores, which the index breaks by id).
void check_brute_force(RunningFlow& flow, const Model& model, uint32_t seed) {
  std::mt19937 rng{seed};
  DocumentArray queries;
  for (int j = 0; j < 40; ++j) {
    std::vector<uint32_t> idx;
    for (uint32_t t = rng() % 20; t < 100 && idx.size() < 4; t += 1 + rng() % 25)
      idx.push_back(t);
    std::vector<float> val(idx.size());
    for (auto& v : val)
      v = 0.25f + static_cast<float>(rng() % 100) / 100.0f;
    queries.emplace_back().embedding = Embedding::sparse_vector(dim, std::move(idx),
                                                                std::move(val));
  }
  auto asked = queries;
  auto r = flow.post("/search", std::move(queries), {.parameters = {{"top_k", 10}}});
  REQUIRE_MESSAGE(r, describe(r));
  REQUIRE(r->docs.size() == asked.size());
  for (size_t j = 0; j < asked.size(); ++j) {
    CAPTURE(j);
    std::vector<double> brute;
    for (const auto& [id, e] : model)
      if (auto s = dot(asked[j].embedding, e); s > 0)
        brute.push_back(s);
    std::sort(brute.begin(), brute.end(), std::greater<>{});
    brute.resize(std::min<size_t>(brute.size(), 10));
    const auto& matches = r->docs[j].matches;
    REQUIRE(matches.size() == brute.size());
    for (size_t k = 0; k < matches.size(); ++k) {
      CAPTURE(matches[k].id);
      auto score = matches[k].score("inner_product");
      CHECK(score == doctest::Approx(brute[k]).epsilon(1e-5));
      auto stored = model.find(matches[k].id);
      REQUIRE(stored != model.end());
      CHECK(score == doctest::Approx(dot(asked[j].embedding, stored->second)).epsilon(1e-5));
    }
  }
}

RunningFlow start(const TempWorkspace& dir) {
  Flow flow{FlowOptions{.workspace = dir.path.string()}};
  flow.add({.name = "indexer", .uses = "Indexer", .uses_with = policy()});
  auto running = flow.start();
  REQUIRE_MESSAGE(running, describe(running));
  return std::move(*running);
}

/// The flow's shard itself: the registry hands this second opener the
/// flow's open shard (one per process). Let go of it before the flow stops,
/// or the shard stays open past it.
std::shared_ptr<IndexerShard> shard_of(const TempWorkspace& dir) {
  ExecutorContext ctx;
  ctx.name = "indexer";
  ctx.uses = "Indexer";
  ctx.workspace = dir.path.string();
  ctx.uses_with = policy();
  return IndexerShard::open(ctx, IndexerOptions::from(ctx));
}

}  // namespace

TEST_CASE("indexer merge policy: minor and major merges in a flow, searches beside the writes") {
  TempWorkspace dir;
  Model model;
  {
    auto flow = start(dir);
    auto shard = shard_of(dir);
    // Reads beside the writes: anchors (every tenth document, never
    // deleted) indexed before a search began must be found by it.
    std::atomic<uint32_t> acked{0};
    std::atomic<bool> done{false};
    std::atomic<size_t> searches{0};
    std::mutex failure_mtx;
    std::vector<std::string> failures;
    std::thread reader{[&] {
      std::mt19937 rng{11};
      while (!done.load()) {
        auto upto = acked.load();
        if (upto == 0) {
          std::this_thread::yield();
          continue;
        }
        DocumentArray queries;
        std::vector<uint32_t> asked;
        for (int j = 0; j < 20; ++j) {
          auto i = static_cast<uint32_t>(rng() % upto) / 10 * 10;
          asked.push_back(i);
          queries.push_back(own_term_query(i));
        }
        auto r = flow.post("/search", std::move(queries), {.parameters = {{"top_k", 1}}});
        std::lock_guard<std::mutex> guard{failure_mtx};
        if (!r) {
          failures.push_back(describe(r.error()));
          continue;
        }
        for (size_t j = 0; j < asked.size(); ++j) {
          const auto& m = r->docs[j].matches;
          if (m.size() != 1 || m[0].id != "d" + std::to_string(asked[j]))
            failures.push_back("anchor d" + std::to_string(asked[j]) + " not found");
        }
        searches.fetch_add(1);
      }
    }};
    // Stops the reader however the writes end (a failed REQUIRE throws).
    struct Join {
      std::atomic<bool>& done;
      std::thread& thread;
      ~Join() {
        done.store(true);
        thread.join();
      }
    } join{done, reader};
    std::mt19937 rng{5};
    std::vector<uint32_t> version(n, 0);
    std::vector<uint32_t> live;
    for (uint32_t from = 0; from < n; from += batch) {
      DocumentArray docs;
      for (uint32_t i = from; i < from + batch; ++i) {
        docs.push_back(doc(i, 0));
        live.push_back(i);
      }
      auto put = flow.post("/index", docs);
      REQUIRE_MESSAGE(put, describe(put));
      for (const auto& d : docs)
        model[d.id] = d.embedding;
      acked.store(from + batch);
      // Updates of stored documents (merged or not): new shared terms.
      DocumentArray updates;
      for (int j = 0; j < 4; ++j) {
        auto i = live[rng() % live.size()];
        if (std::any_of(updates.begin(), updates.end(),
                        [&](const Document& d) { return d.id == "d" + std::to_string(i); }))
          continue;
        updates.push_back(doc(i, ++version[i]));
      }
      auto up = flow.post("/update", updates);
      REQUIRE_MESSAGE(up, describe(up));
      const auto* unknown = up->parameters.find("not_found");
      CHECK((unknown == nullptr || unknown->as_array().empty()));
      for (const auto& d : updates)
        model[d.id] = d.embedding;
      // Deletes of stored documents other than anchors.
      DocumentArray gone;
      for (int j = 0; j < 3; ++j) {
        auto at = rng() % live.size();
        if (live[at] % 10 == 0)
          continue;
        gone.emplace_back().id = "d" + std::to_string(live[at]);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(at));
      }
      auto del = flow.post("/delete", gone);
      REQUIRE_MESSAGE(del, describe(del));
      for (const auto& d : gone)
        model.erase(d.id);
      // Every other round waits for the merge in flight: a merge may run
      // across a round's writes and searches, but the delta cannot outgrow
      // the minor rule's share however slow the machine is.
      if (from / batch % 2 == 1)
        shard->wait_background();
    }
    done.store(true);
    std::lock_guard<std::mutex> guard{failure_mtx};  // the reader is done with them
    for (const auto& f : failures)
      FAIL_CHECK(f);
    CHECK(searches.load() > 0);
    check_own_terms(flow, model);
    check_brute_force(flow, model, 21);
    auto m = shard->merges();
    shard.reset();
    CHECK(m.minor > 0);
    CHECK(m.major > 0);
    MESSAGE("merges: " << m.minor << " minor, " << m.major << " major; " << searches.load()
                       << " searches beside the writes");
  }
  // Reopened: the base is built from the stored documents.
  auto flow = start(dir);
  check_own_terms(flow, model);
  check_brute_force(flow, model, 21);
  check_brute_force(flow, model, 22);
}
