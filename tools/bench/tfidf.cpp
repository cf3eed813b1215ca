// tfidf: the TfidfVectorizer model (fit and transform, one thread) against
// scikit-learn's TfidfVectorizer on the same JSON Lines corpus, in the same
// run, and a check that both learn the same vocabulary.
//
//   caflow-bench tfidf [--corpus F] [--sklearn-env DIR] [--no-sklearn]
//                      [--max-features N]
//
// scikit-learn runs as Debian's /usr/bin/python3 with the packages that
// tools/sklearn-env.sh unpacks; when that fails the benchmark says so and
// reports caflow's figures alone.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

#include "bench/bench_util.hpp"
#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "caflow/jsonl.hpp"
#include "executors/tfidf/tfidf_model.hpp"

#ifndef CAFLOW_SOURCE_DIR
#define CAFLOW_SOURCE_DIR "."
#endif

namespace caflow::bench {
namespace {

// CPU seconds of this thread: on a shared machine a steadier measure than
// wall time (reported beside it).
double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Sklearn {
  Value result;                    // the script's JSON line
  std::vector<std::string> vocab;  // in index order
};

caf::expected<Sklearn> run_sklearn(const std::string& repo, const std::string& env_dir,
                                   const std::string& corpus, const std::string& extra) {
  auto env = sklearn_env(env_dir);
  if (!env)
    return env.error();
  auto vocab_file = (std::filesystem::temp_directory_path()
                     / ("caflow-tfidf-vocab-" + std::to_string(::getpid()) + ".txt"))
                      .string();
  auto out = command_output(
    "env " + *env + "/usr/bin/python3 " + shell_quote(repo + "/tools/bench/sklearn_tfidf.py") + " "
    + shell_quote(corpus) + " --vocab-out " + shell_quote(vocab_file) + extra);
  if (!out)
    return out.error();
  auto last = out->substr(out->find_last_of('{') == std::string::npos ? 0 : out->rfind("{\""));
  auto parsed = parse_json(last);
  if (!parsed)
    return parsed.error();
  Sklearn s{std::move(*parsed), {}};
  std::ifstream in{vocab_file};
  for (std::string term; std::getline(in, term);)
    s.vocab.push_back(term);
  std::filesystem::remove(vocab_file);
  return s;
}

}  // namespace

int run_tfidf_bench(int argc, char** argv) {
  std::string repo = CAFLOW_SOURCE_DIR;
  auto corpus = arg_string(argc, argv, "corpus", repo + "/data/spamassassin.jsonl");
  auto env_dir = arg_string(argc, argv, "sklearn-env", repo + "/build/sklearn-env");
  auto max_features = arg(argc, argv, "max-features", 0);
  tfidf::TfidfOptions options;
  std::string sklearn_extra;
  if (max_features > 0) {
    options.max_features = max_features;
    sklearn_extra = " --max-features " + std::to_string(max_features);
  }

  // The corpus in memory first, as scikit-learn gets it, so that both
  // timings cover tokenising and counting, not JSON parsing.
  auto reader = JsonlReader::open(corpus);
  if (!reader)
    throw Error(reader.error());
  std::vector<std::string> texts;
  size_t bytes = 0;
  for (;;) {
    auto docs = reader->next(1000);
    if (!docs)
      throw Error(docs.error());
    if (docs->empty())
      break;
    for (auto& d : std::move(*docs).docs()) {
      bytes += d.text.size();
      texts.push_back(std::move(d.text));
    }
  }

  auto start = clock::now();
  auto cpu = thread_cpu_s();
  tfidf::TfidfFitter fitter{options};
  for (const auto& t : texts)
    fitter.add(t);
  auto prune = clock::now();
  auto fitted = std::move(fitter).finish();
  double prune_s = seconds_since(prune);
  double fit_s = seconds_since(start);
  double fit_cpu_s = thread_cpu_s() - cpu;
  if (!fitted)
    throw Error(fitted.error());
  const auto& model = **fitted;

  start = clock::now();
  auto streamed = tfidf::fit_jsonl(corpus, options);
  double fit_file_s = seconds_since(start);
  if (!streamed)
    throw Error(streamed.error());

  start = clock::now();
  cpu = thread_cpu_s();
  Embedding e;
  size_t nnz = 0;
  for (const auto& t : texts) {
    model.transform(t, e);
    nnz += e.indices.size();
  }
  double transform_s = seconds_since(start);
  double transform_cpu_s = thread_cpu_s() - cpu;
  emit({{"bench", "tfidf"},
        {"part", "caflow"},
        {"corpus", corpus},
        {"documents", static_cast<int64_t>(texts.size())},
        {"mb", bytes / 1e6},
        {"fit_s", fit_s},
        {"fit_from_file_s", fit_file_s},
        {"transform_s", transform_s},
        {"fit_cpu_s", fit_cpu_s},
        {"transform_cpu_s", transform_cpu_s},
        {"fit_prune_s", prune_s},
        {"vocab", static_cast<int64_t>(model.size())},
        {"nnz", static_cast<int64_t>(nnz)},
        {"threads", 1}});

  Value summary{{"bench", "tfidf"},
                {"fit_s", fit_s},
                {"transform_s", transform_s},
                {"vocab", static_cast<int64_t>(model.size())},
                {"nnz", static_cast<int64_t>(nnz)}};
  if (flag(argc, argv, "no-sklearn")) {
    emit({{"bench", "tfidf"}, {"part", "sklearn"}, {"skipped", "--no-sklearn"}});
  } else if (auto sk = run_sklearn(repo, env_dir, corpus, sklearn_extra); !sk) {
    emit({{"bench", "tfidf"}, {"part", "sklearn"}, {"unavailable", describe(sk.error())}});
  } else {
    const auto& r = sk->result;
    bool same = sk->vocab.size() == model.size();
    int64_t first_difference = -1;
    for (uint32_t i = 0; same && i < model.size(); ++i)
      if (model.term(i) != sk->vocab[i]) {
        same = false;
        first_difference = i;
      }
    double sk_fit = r.get_double("fit_s", 0);
    double sk_transform = r.get_double("transform_s", 0);
    double sk_cpu = r.get_double("fit_cpu_s", 0) + r.get_double("transform_cpu_s", 0);
    emit({{"bench", "tfidf"},
          {"part", "sklearn"},
          {"sklearn", r.get_string("sklearn", "")},
          {"measured", "same run, same corpus, /usr/bin/python3"},
          {"fit_s", sk_fit},
          {"transform_s", sk_transform},
          {"fit_cpu_s", r.get_double("fit_cpu_s", 0)},
          {"transform_cpu_s", r.get_double("transform_cpu_s", 0)},
          {"vocab", r.get_int("vocab", 0)},
          {"nnz", r.get_int("nnz", 0)},
          {"vocab_identical", same},
          {"first_difference", first_difference}});
    summary["sklearn_fit_s"] = sk_fit;
    summary["sklearn_transform_s"] = sk_transform;
    summary["fit_speedup"] = sk_fit / fit_s;
    summary["transform_speedup"] = sk_transform / transform_s;
    summary["speedup"] = (sk_fit + sk_transform) / (fit_s + transform_s);
    summary["cpu_speedup"] = sk_cpu / (fit_cpu_s + transform_cpu_s);
    summary["sklearn_vocab"] = r.get_int("vocab", 0);
    summary["sklearn_nnz"] = r.get_int("nnz", 0);
    summary["vocab_identical"] = same;
  }
  emit(summary);
  return 0;
}

}  // namespace caflow::bench
