// Jina's scale-out tutorial in C++: a TfidfVectorizer with replicas feeding an
// Indexer with shards (/index PARTITION, /search ALL) whose shards persist in
// RocksDB. Indexes a JSON Lines corpus with a progress bar, then searches.
//
//   caflow-tutorial --corpus data/spamassassin.jsonl --replicas 2 --shards 2
//   caflow-tutorial --config config/seed-flow.yml --corpus data/spamassassin.jsonl
//
// A second run reuses the fitted model and the persisted index: it only
// indexes when the index holds fewer documents than the corpus.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <caflow/errors.hpp>
#include <caflow/flow.hpp>
#include <caflow/jsonl.hpp>

namespace {

struct Options {
  std::string config;  // a flow YAML; empty: the flow is built in code
  std::string corpus = "data/spamassassin.jsonl";
  std::string workspace = "workspace/tutorial";
  uint32_t replicas = 2;
  uint32_t shards = 2;
  int64_t top_k = 3;
  std::vector<std::string> queries;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "caflow-tutorial: %s\n"
               "usage: caflow-tutorial [--config FLOW.yml | --replicas N --shards M "
               "--workspace DIR]\n"
               "                       [--corpus DOCS.jsonl] [--top-k K] [--query TEXT]...\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (key == "--help")
      usage("Jina's scale-out tutorial on caflow");
    if (i + 1 >= argc)
      usage(("missing value after " + key).c_str());
    std::string value = argv[++i];
    if (key == "--config")
      o.config = value;
    else if (key == "--corpus")
      o.corpus = value;
    else if (key == "--workspace")
      o.workspace = value;
    else if (key == "--replicas")
      o.replicas = static_cast<uint32_t>(std::stoul(value));
    else if (key == "--shards")
      o.shards = static_cast<uint32_t>(std::stoul(value));
    else if (key == "--top-k")
      o.top_k = std::stoll(value);
    else if (key == "--query")
      o.queries.push_back(value);
    else
      usage(("unknown option " + key).c_str());
  }
  if (o.queries.empty())
    o.queries = {"cheap meds online, no prescription needed",
                 "Linux kernel patch for the network driver",
                 "You have won a free vacation, click here to claim your prize",
                 "Python script to parse RSS feeds"};
  return o;
}

// The flow of Jina's tutorial, built in code.
caflow::Flow tutorial_flow(const Options& o) {
  caflow::Flow flow;
  flow.options().name = "tutorial";
  flow.options().workspace = o.workspace;
  flow
    .add({.name = "vectorizer",
          .uses = "TfidfVectorizer",
          .uses_with = caflow::Value{{"corpus", o.corpus}},
          .replicas = o.replicas})
    .add({.name = "indexer",
          .uses = "Indexer",
          .uses_with = caflow::Value{{"metric", "cosine"}},
          .shards = o.shards,
          .polling = {{"/index", "PARTITION"},
                      {"/update", "PARTITION"},
                      {"/delete", "PARTITION"},
                      {"/fetch", "PARTITION"},
                      {"/search", "ALL"},
                      {"*", "ALL"}}});
  return flow;
}

caf::expected<caflow::DocumentArray> read_corpus(const std::string& path) {
  auto reader = caflow::JsonlReader::open(path);
  if (!reader)
    return reader.error();
  caflow::DocumentArray docs;
  for (;;) {
    auto batch = reader->next(1000);
    if (!batch)
      return batch.error();
    if (batch->empty())
      return docs;
    for (auto& d : *batch)
      docs.push_back(std::move(d));
  }
}

// "Subject: ..." of a mail, else its first line.
std::string subject(const std::string& text) {
  auto pos = text.find("\nSubject:");
  size_t start = pos == std::string::npos ? 0 : pos + 9;
  auto end = text.find('\n', start);
  auto line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  line.erase(0, line.find_first_not_of(' '));
  return line.size() > 60 ? line.substr(0, 57) + "..." : line;
}

int64_t count(caflow::RunningFlow& flow) {
  auto answer = flow.post("/count", {});
  return answer ? answer->parameters.get_int("count", 0) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  auto flow = o.config.empty() ? caf::expected<caflow::Flow>{tutorial_flow(o)}
                               : caflow::Flow::load(o.config);
  if (!flow) {
    std::cerr << caflow::error_message(flow.error()) << '\n';
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto running = flow->start();
  if (!running) {
    std::cerr << caflow::error_message(running.error()) << '\n';
    return 1;
  }
  auto secs = [](auto since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  };
  std::printf("flow started in %.2f s (the vectorizer fits or loads its model)\n", secs(t0));
  for (const auto& d : flow->deployments())
    std::printf("  %-10s %-16s replicas %u x shards %u\n", d.name.c_str(), d.uses.c_str(),
                d.replicas, d.shards);

  auto corpus = read_corpus(o.corpus);
  if (!corpus) {
    std::cerr << caflow::error_message(corpus.error()) << '\n';
    return 1;
  }
  auto indexed = count(*running);
  if (indexed >= static_cast<int64_t>(corpus->size())) {
    std::printf("the index already holds %lld documents: reusing it\n",
                static_cast<long long>(indexed));
  } else {
    auto total_docs = corpus->size();
    auto t1 = std::chrono::steady_clock::now();
    auto result = running->post(
      "/index", std::move(*corpus),
      {.request_size = 100, .prefetch = 8, .on_progress = [&](size_t done, size_t total) {
         // Called from caflow threads; a line per 5% is enough.
         if (done == total || done % std::max<size_t>(1, total / 20) == 0)
           std::fprintf(stderr, "\rindexing [%-40s] %3zu%%  %.1f s",
                        std::string(done * 40 / total, '#').c_str(), done * 100 / total, secs(t1));
       }});
    std::fprintf(stderr, "\n");
    if (!result) {
      std::cerr << caflow::error_message(result.error()) << '\n';
      return 1;
    }
    std::printf("indexed %zu documents in %.2f s (%.0f docs/s); the index holds %lld\n", total_docs,
                secs(t1), static_cast<double>(total_docs) / secs(t1),
                static_cast<long long>(count(*running)));
  }

  caflow::DocumentArray queries;
  for (const auto& q : o.queries)
    queries.emplace_back().text = q;
  auto t2 = std::chrono::steady_clock::now();
  auto found = running->post("/search", queries, {.parameters = caflow::Value{{"top_k", o.top_k}}});
  if (!found) {
    std::cerr << caflow::error_message(found.error()) << '\n';
    return 1;
  }
  std::printf("\n%zu searches in %.1f ms\n", queries.size(), secs(t2) * 1000);
  for (const auto& q : found->docs) {
    std::printf("\nquery: %s\n", q.text.c_str());
    for (const auto& m : q.matches)
      std::printf("  %-22s %-5s %.4f  %s\n", m.id.c_str(), m.tags.get_string("group", "").c_str(),
                  m.score("cosine"), subject(m.text).c_str());
  }
  return 0;
}
