// The seed workload's indexing cost: the corpus through the seed's flow
// (TfidfVectorizer -> Indexer) at replicas/shards 1 and 2, against the compute
// floor: the same two executors called in a loop with no runtime at all.
#include <unistd.h>

#include <filesystem>

#include "bench/bench_util.hpp"
#include "bench/indexer_flow.hpp"
#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "caflow/jsonl.hpp"

namespace caflow::bench {

namespace {

namespace fs = std::filesystem;

DocumentArray read_all(const std::string& path) {
  auto reader = JsonlReader::open(path);
  if (!reader)
    throw Error(reader.error());
  DocumentArray docs;
  for (;;) {
    auto batch = reader->next(1000);
    if (!batch)
      throw Error(batch.error());
    if (batch->empty())
      return docs;
    for (auto& d : *batch)
      docs.push_back(std::move(d));
  }
}

std::unique_ptr<Executor> make(ExecutorContext ctx) {
  auto ex = ExecutorRegistry::instance().create(std::move(ctx));
  if (!ex)
    throw Error(ex.error());
  return std::move(*ex);
}

// The vectorizer's context: fitted once on the corpus, then loaded from
// `models` by every run, so that no run pays for fitting.
ExecutorContext vectorizer_context(const std::string& corpus, const std::string& models) {
  return {.name = "vectorizer",
          .uses = "TfidfVectorizer",
          .uses_with = Value{{"corpus", corpus}},
          .workspace = models};
}

// Both executors called directly, batch by batch: the compute floor.
double floor_seconds(const DocumentArray& corpus, const std::string& corpus_path,
                     const std::string& models, const std::string& indexes, size_t request_size) {
  auto vectorizer = make(vectorizer_context(corpus_path, models));
  auto indexer = make({.name = "indexer",
                       .uses = "Indexer",
                       .uses_with = Value{{"metric", "cosine"}},
                       .workspace = indexes});
  auto start = clock::now();
  for (size_t i = 0; i < corpus.size(); i += request_size) {
    DocumentArray batch;
    for (size_t j = i; j < std::min(corpus.size(), i + request_size); ++j)
      batch.push_back(corpus[j]);
    vectorizer->handle("/index", batch, Params::object());
    indexer->handle("/index", batch, Params::object());
  }
  auto secs = seconds_since(start);
  indexer->close();
  return secs;
}

double flow_seconds(const DocumentArray& corpus, const std::string& corpus_path,
                    const std::string& models, const std::string& indexes, uint32_t n,
                    size_t request_size) {
  Flow flow;
  flow
    .add({.name = "vectorizer",
          .uses = "TfidfVectorizer",
          .uses_with = Value{{"corpus", corpus_path}},
          .workspace = models,
          .replicas = n})
    .add(sharded_indexer(indexes, n, Value{{"metric", "cosine"}}));
  auto running = flow.start();
  if (!running)
    throw Error(running.error());
  auto start = clock::now();
  auto result = running->post("/index", corpus, {.request_size = request_size, .prefetch = 8});
  auto secs = seconds_since(start);
  if (!result)
    throw Error(result.error());
  return secs;
}

}  // namespace

int seed(int argc, char** argv) {
  auto corpus_path = arg_string(argc, argv, "corpus", source_path("data/spamassassin.jsonl"));
  auto request_size = static_cast<size_t>(arg(argc, argv, "request-size", 100));
  auto scratch = fs::temp_directory_path() / ("caflow-bench-seed-" + std::to_string(getpid()));
  fs::create_directories(scratch);
  auto models = (scratch / "models").string();
  auto corpus = read_all(corpus_path);
  emit(Value{{"bench", "seed"},
             {"corpus", corpus_path},
             {"documents", static_cast<int64_t>(corpus.size())},
             {"request_size", static_cast<int64_t>(request_size)}});
  // Fit once (not measured), so that every run below loads the model.
  make(vectorizer_context(corpus_path, models));

  auto fresh = [&](const std::string& name) {
    auto dir = scratch / name;
    fs::remove_all(dir);
    return dir.string();
  };
  double floor_s = floor_seconds(corpus, corpus_path, models, fresh("floor"), request_size);
  emit(Value{{"run", "floor"}, {"seconds", floor_s}});
  double r1 = flow_seconds(corpus, corpus_path, models, fresh("r1"), 1, request_size);
  emit(Value{{"run", "flow replicas 1 shards 1"}, {"seconds", r1}});
  double r2 = flow_seconds(corpus, corpus_path, models, fresh("r2"), 2, request_size);
  emit(Value{{"run", "flow replicas 2 shards 2"}, {"seconds", r2}});
  fs::remove_all(scratch);
  emit(Value{{"bench", "seed"},
             {"floor_s", floor_s},
             {"flow_s_r1", r1},
             {"flow_s_r2", r2},
             {"overhead_ratio", r1 / floor_s},
             {"replica_speedup", r1 / r2},
             {"jina_s_r2", 4.6},
             {"speedup_vs_jina_r2", 4.6 / r2}});
  return 0;
}

}  // namespace caflow::bench
