// Jina's scale-out tutorial in C++: TF-IDF vectorizer replicas feeding an
// Indexer whose shards persist in RocksDB; indexes a corpus, then searches.
//
//   caflow-tutorial --corpus data/spamassassin.jsonl --replicas 2 --shards 2
//   caflow-tutorial --config config/seed-flow.yml --query "cheap meds"
//
// A second run reuses the fitted model and the persisted index.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include <caflow/errors.hpp>
#include <caflow/flow.hpp>
#include <caflow/jsonl.hpp>

namespace {

// --key value pairs; --query may repeat.
std::map<std::string, std::string> options{{"--corpus", "data/spamassassin.jsonl"},
                                           {"--workspace", "workspace/tutorial"},
                                           {"--replicas", "2"},
                                           {"--shards", "2"},
                                           {"--top-k", "3"},
                                           {"--config", ""}};
std::vector<std::string> queries;

int fail(const caf::error& err) {
  std::cerr << "caflow-tutorial: " << caflow::error_message(err) << '\n';
  return 1;
}

// The tutorial's flow, built in code: writes PARTITION (an id always reaches
// its shard), searches ALL (every shard answers; the head merges by score).
caflow::Flow tutorial_flow() {
  caflow::Flow flow;
  flow.options().workspace = options["--workspace"];
  flow
    .add({.name = "vectorizer",
          .uses = "TfidfVectorizer",
          .uses_with = caflow::Value{{"corpus", options["--corpus"]}},
          .replicas = static_cast<uint32_t>(std::stoul(options["--replicas"]))})
    .add({.name = "indexer",
          .uses = "Indexer",
          .shards = static_cast<uint32_t>(std::stoul(options["--shards"])),
          .polling = {{"/index", "PARTITION"},
                      {"/update", "PARTITION"},
                      {"/delete", "PARTITION"},
                      {"/fetch", "PARTITION"},
                      {"*", "ALL"}}});
  return flow;
}

// A mail's "Subject:" line, else the text's first line.
std::string subject(const std::string& text) {
  auto pos = text.find("\nSubject: ");
  auto start = pos == std::string::npos ? 0 : pos + 10;
  return text.substr(start, text.find('\n', start) - start);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--query")
      queries.emplace_back(argv[i + 1]);
    else if (options.count(key))
      options[key] = argv[i + 1];
    else
      return std::fprintf(stderr, "caflow-tutorial: unknown option %s\n", key.c_str()), 2;
  }
  if (queries.empty())
    queries = {"cheap meds online, no prescription needed", "Linux kernel patch for the network",
               "You have won a free vacation, click here to claim your prize"};
  auto flow = options["--config"].empty() ? caf::expected<caflow::Flow>{tutorial_flow()}
                                          : caflow::Flow::load(options["--config"]);
  if (!flow)
    return fail(flow.error());
  auto running = flow->start();  // ready when it returns: the vectorizer is fitted
  if (!running)
    return fail(running.error());

  auto reader = caflow::JsonlReader::open(options["--corpus"]);
  if (!reader)
    return fail(reader.error());
  caflow::DocumentArray corpus;
  for (auto batch = reader->next(1000); batch && !batch->empty(); batch = reader->next(1000))
    for (auto& d : *batch)
      corpus.push_back(std::move(d));
  auto count = running->post("/count", {});
  if (count && count->parameters.get_int("count", 0) >= static_cast<int64_t>(corpus.size())) {
    std::printf("the index already holds the corpus: reusing it\n");
  } else {
    auto progress = [](size_t done, size_t total) {  // from caflow threads: must not block
      if (done == total || done % std::max<size_t>(1, total / 20) == 0)
        std::fprintf(stderr, "\rindexing [%-20s] %3zu%%",
                     std::string(done * 20 / total, '#').c_str(), done * 100 / total);
    };
    auto indexed = running->post("/index", std::move(corpus),
                                 {.request_size = 100, .prefetch = 8, .on_progress = progress});
    if (!indexed)
      return fail(indexed.error());
    std::printf("\nindexed %zu documents\n", indexed->docs.size());
  }

  caflow::DocumentArray docs;
  for (const auto& q : queries)
    docs.emplace_back().text = q;
  int64_t top_k = std::stoll(options["--top-k"]);
  auto found = running->post("/search", docs, {.parameters = caflow::Value{{"top_k", top_k}}});
  if (!found)
    return fail(found.error());
  for (const auto& q : found->docs) {
    std::printf("\nquery: %s\n", q.text.c_str());
    for (const auto& m : q.matches)  // id, ham/spam, cosine similarity, subject
      std::printf("  %-22s %-5s %.4f  %.60s\n", m.id.c_str(),
                  m.tags.get_string("group", "").c_str(), m.score("cosine"),
                  subject(m.text).c_str());
  }
  return 0;
}
