// The corpus half of `caflow-bench search`: exact top-10 over the seed's
// corpus through the seed's flow with 1 and 2 indexer shards: queries per
// second for each, and whether both return the same results.
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "bench/bench_util.hpp"
#include "bench/indexer_flow.hpp"
#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "caflow/jsonl.hpp"

namespace caflow::bench {

namespace {

namespace fs = std::filesystem;

struct Searched {
  double qps = 0;
  DocumentArray results;
};

Searched index_and_search(const DocumentArray& corpus, const DocumentArray& queries,
                          const std::string& corpus_path, const fs::path& scratch,
                          uint32_t shards) {
  Flow flow;
  flow
    .add({.name = "vectorizer",
          .uses = "TfidfVectorizer",
          .uses_with = Value{{"corpus", corpus_path}},
          .workspace = (scratch / "models").string()})
    .add(sharded_indexer((scratch / ("shards-" + std::to_string(shards))).string(), shards,
                         Value{{"metric", "cosine"}}));
  auto running = flow.start();
  if (!running)
    throw Error(running.error());
  if (auto indexed = running->post("/index", corpus); !indexed)
    throw Error(indexed.error());
  // Warm up (the sparse index is built lazily after writes), then measure.
  if (auto warm = running->post("/search", queries, {.request_size = 10}); !warm)
    throw Error(warm.error());
  auto start = clock::now();
  auto found = running->post(
    "/search", queries, {.request_size = 10, .prefetch = 2, .parameters = Value{{"top_k", 10}}});
  auto secs = seconds_since(start);
  if (!found)
    throw Error(found.error());
  return {static_cast<double>(queries.size()) / secs, std::move(found->docs)};
}

// Same ids in the same order, or (where scores tie) the same scores rank by rank.
bool same_results(const DocumentArray& a, const DocumentArray& b) {
  if (a.size() != b.size())
    return false;
  for (size_t q = 0; q < a.size(); ++q) {
    const auto& x = a[q].matches;
    const auto& y = b[q].matches;
    if (x.size() != y.size())
      return false;
    for (size_t r = 0; r < x.size(); ++r)
      if (x[r].id != y[r].id && std::abs(x[r].score("cosine") - y[r].score("cosine")) > 1e-6)
        return false;
  }
  return true;
}

}  // namespace

Value corpus_search(int argc, char** argv) {
  auto corpus_path = arg_string(argc, argv, "corpus", source_path("data/spamassassin.jsonl"));
  auto n_queries = static_cast<size_t>(arg(argc, argv, "corpus-queries", 500));
  if (!fs::exists(corpus_path))
    return Value{{"corpus_skipped", corpus_path + " is missing (tools/fetch-corpus.sh)"}};
  auto reader = JsonlReader::open(corpus_path);
  if (!reader)
    throw Error(reader.error());
  DocumentArray corpus;
  for (auto batch = reader->next(1000); batch && !batch->empty(); batch = reader->next(1000))
    for (auto& d : *batch)
      corpus.push_back(std::move(d));
  // Queries: the start of every k-th mail's text (headers and all, as a
  // user pasting a mail would search).
  DocumentArray queries;
  size_t step = std::max<size_t>(1, corpus.size() / std::max<size_t>(1, n_queries));
  for (size_t i = 0; i < corpus.size() && queries.size() < n_queries; i += step)
    queries.emplace_back().text = corpus[i].text.substr(0, 1000);

  auto scratch = fs::temp_directory_path() / ("caflow-bench-search-" + std::to_string(getpid()));
  fs::remove_all(scratch);
  auto one = index_and_search(corpus, queries, corpus_path, scratch, 1);
  auto two = index_and_search(corpus, queries, corpus_path, scratch, 2);
  fs::remove_all(scratch);
  Value out{{"corpus_documents", static_cast<int64_t>(corpus.size())},
            {"corpus_queries", static_cast<int64_t>(queries.size())},
            {"same_results", same_results(one.results, two.results)},
            {"qps_1shard", one.qps},
            {"qps_2shard", two.qps}};
  Value line{{"bench", "search_corpus"}};
  line.merge(out);
  emit(line);
  return out;
}

}  // namespace caflow::bench
