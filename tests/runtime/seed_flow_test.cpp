// The shipped seed flow (config/seed-flow.yml: TfidfVectorizer x2 replicas ->
// Indexer x2 shards) end to end on a small corpus: index, search, restart on
// the same workspace, search again.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/jsonl.hpp"

using namespace caflow;
namespace fs = std::filesystem;

namespace {

const std::string corpus_path = CAFLOW_SOURCE_DIR "/tests/data/tfidf/corpus.jsonl";

DocumentArray corpus() {
  auto reader = JsonlReader::open(corpus_path);
  REQUIRE(reader);
  auto docs = reader->next(1000);
  REQUIRE(docs);
  return std::move(*docs);
}

// The seed flow as shipped, with its workspace and corpus pointed elsewhere.
Flow seed_flow(const fs::path& workspace) {
  auto flow = Flow::load(CAFLOW_SOURCE_DIR "/config/seed-flow.yml");
  REQUIRE_MESSAGE(flow, describe(flow));
  Flow out{flow->options()};
  out.options().workspace = workspace.string();
  for (auto d : flow->deployments()) {
    d.workspace = workspace.string();
    if (d.uses == "TfidfVectorizer")
      d.uses_with["corpus"] = corpus_path;
    out.add(std::move(d));
  }
  return out;
}

}  // namespace

TEST_CASE("the seed flow indexes and finds documents, and keeps them across a restart") {
  auto workspace = fs::temp_directory_path() / ("caflow-seed-" + std::to_string(getpid()));
  fs::remove_all(workspace);
  auto docs = corpus();
  REQUIRE(docs.size() > 20);
  DocumentArray queries;
  for (size_t i = 0; i < docs.size(); i += 7) {
    auto& q = queries.emplace_back();
    q.text = docs[i].text;
  }
  std::vector<std::string> first_ids;
  {
    auto running = seed_flow(workspace).start();
    REQUIRE_MESSAGE(running, describe(running));
    auto indexed = running->post("/index", docs, {.request_size = 5});
    REQUIRE_MESSAGE(indexed, describe(indexed));
    auto count = running->post("/count", {});
    REQUIRE(count);
    CHECK(count->parameters.get_int("count", -1) == static_cast<int64_t>(docs.size()));
    auto found = running->post("/search", queries, {.parameters = Value{{"top_k", 3}}});
    REQUIRE_MESSAGE(found, describe(found));
    for (size_t q = 0; q < queries.size(); ++q) {
      // At most top_k: only documents sharing a term with the query match.
      REQUIRE(found->docs[q].matches.size() >= 1);
      REQUIRE(found->docs[q].matches.size() <= 3);
      // A document's own text finds it first (cosine 1).
      CHECK(found->docs[q].matches[0].id == docs[q * 7].id);
      CHECK(found->docs[q].matches[0].score("cosine") == doctest::Approx(1.0).epsilon(1e-5));
      CHECK(found->docs[q].matches[0].embedding.empty());  // not asked for
      first_ids.push_back(found->docs[q].matches.back().id);
    }
    // Re-indexing the same ids replaces them (PARTITION: same shard), no duplicates.
    REQUIRE(running->post("/index", docs));
    CHECK(running->post("/count", {})->parameters.get_int("count", -1)
          == static_cast<int64_t>(docs.size()));
  }
  // The model file and the shards' RocksDB survive the restart.
  CHECK(fs::exists(workspace / "vectorizer"));
  CHECK(fs::exists(workspace / "indexer"));
  {
    auto running = seed_flow(workspace).start();
    REQUIRE_MESSAGE(running, describe(running));
    CHECK(running->post("/count", {})->parameters.get_int("count", -1)
          == static_cast<int64_t>(docs.size()));
    auto found = running->post("/search", queries, {.parameters = Value{{"top_k", 3}}});
    REQUIRE(found);
    for (size_t q = 0; q < queries.size(); ++q)
      CHECK(found->docs[q].matches.back().id == first_ids[q]);
    // Delete one, update another; unknown ids are reported.
    DocumentArray gone;
    gone.emplace_back().id = docs[0].id;
    gone.emplace_back().id = "no-such-id";
    auto deleted = running->post("/delete", gone);
    REQUIRE(deleted);
    const auto* not_found = deleted->parameters.find("not_found");
    REQUIRE(not_found != nullptr);
    REQUIRE(not_found->size() == 1);
    CHECK(not_found->as_array()[0].as_string() == "no-such-id");
    CHECK(running->post("/count", {})->parameters.get_int("count", -1)
          == static_cast<int64_t>(docs.size()) - 1);
  }
  fs::remove_all(workspace);
}
