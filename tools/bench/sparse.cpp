// caflow-bench sparse: exact single-query top-10 over synthetic TF-IDF
// documents (bench/synthetic.hpp) at growing sizes, in process, with the
// Indexer's index class, against scipy's X @ q.T + argpartition on the same
// vectors (tools/sklearn-env.sh), in the same run.
//
//   caflow-bench sparse [--sizes=6000,30000,120000] [--queries=300] [--no-scipy]
//
// Prints {"bench": "sparse", "n", "qps", "scipy_qps", "ratio",
// "postings_per_doc"} per size (the last line for the largest). Both sides
// score the same l2-normalised vectors; `same_top` says whether caflow's
// top-k scores equal those of a brute-force float accumulation.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/bench_util.hpp"
#include "bench/synthetic.hpp"
#include "caflow/json.hpp"
#include "index/exact_index.hpp"

namespace caflow::bench {

namespace {

namespace fs = std::filesystem;

constexpr size_t k = 10;

std::vector<size_t> sizes_arg(int argc, char** argv) {
  std::vector<size_t> out;
  std::istringstream in{arg_string(argc, argv, "sizes", "6000,30000,120000")};
  for (std::string s; std::getline(in, s, ',');)
    out.push_back(std::stoull(s));
  return out;
}

template <class T>
void write_array(const fs::path& path, const std::vector<T>& xs) {
  std::ofstream out{path, std::ios::binary};
  out.write(reinterpret_cast<const char*>(xs.data()),
            static_cast<std::streamsize>(xs.size() * sizeof(T)));
}

/// Writes `docs`' embeddings as CSR arrays `prefix`_{indptr,indices,data}.
void write_csr(const fs::path& dir, const std::string& prefix, const std::vector<Embedding>& docs) {
  std::vector<int64_t> indptr{0};
  std::vector<int32_t> indices;
  std::vector<float> data;
  for (const auto& e : docs) {
    for (size_t i = 0; i < e.indices.size(); ++i) {
      indices.push_back(static_cast<int32_t>(e.indices[i]));
      data.push_back(e.values[i]);
    }
    indptr.push_back(static_cast<int64_t>(indices.size()));
  }
  write_array(dir / (prefix + "_indptr.i64"), indptr);
  write_array(dir / (prefix + "_indices.i32"), indices);
  write_array(dir / (prefix + "_data.f32"), data);
}

/// scipy's queries per second for each size, or empty.
std::vector<double> scipy_qps(const std::vector<Embedding>& docs,
                              const std::vector<Embedding>& queries,
                              const std::vector<size_t>& sizes) {
  auto python = python_with_scipy();
  if (!python)
    return {};
  auto dir = fs::temp_directory_path() / ("caflow-bench-sparse-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_csr(dir, "x", docs);
  write_csr(dir, "q", queries);
  std::ofstream{dir / "dim.txt"} << SyntheticCorpus::vocabulary;
  std::string cmd = *python + " "
                    + shell_quote(std::string{CAFLOW_SOURCE_DIR} + "/tools/bench/scipy_sparse.py")
                    + " " + shell_quote(dir.string()) + " " + std::to_string(k);
  for (auto n : sizes)
    cmd += " " + std::to_string(n);
  auto out = run_command(cmd);
  fs::remove_all(dir);
  std::vector<double> qps;
  if (!out)
    return qps;
  std::istringstream lines{*out};
  for (std::string line; std::getline(lines, line);)
    if (auto v = parse_json(line); v && v->is_object())
      qps.push_back(v->get_double("scipy_qps", 0));
  return qps;
}

}  // namespace

int run_sparse_bench(int argc, char** argv) {
  auto sizes = sizes_arg(argc, argv);
  auto n_queries = static_cast<size_t>(arg(argc, argv, "queries", 300));
  bool no_scipy = false;
  for (int i = 2; i < argc; ++i)
    no_scipy = no_scipy || std::strcmp(argv[i], "--no-scipy") == 0;
  size_t max_n = *std::max_element(sizes.begin(), sizes.end());
  SyntheticCorpus corpus{max_n};
  std::mt19937 rng{1};
  std::vector<Embedding> docs;
  docs.reserve(max_n);
  for (size_t i = 0; i < max_n; ++i)
    docs.push_back(corpus.document(rng, 0, false).embedding);
  std::vector<Embedding> queries;
  for (size_t i = 0; i < n_queries; ++i)
    queries.push_back(corpus.query(rng).embedding);

  std::vector<double> ours;
  std::vector<size_t> postings;
  ExactIndex index{Metric::cosine};
  size_t stored = 0;
  for (auto n : sizes) {
    for (; stored < n; ++stored)
      index.upsert(stored, docs[stored]);
    for (size_t j = 0; j < std::min<size_t>(10, queries.size()); ++j)
      (void)index.search({&queries[j]}, k);
    auto start = clock::now();
    for (const auto& q : queries)
      (void)index.search({&q}, k);
    ours.push_back(static_cast<double>(queries.size()) / seconds_since(start));
    postings.push_back(index.sparse_index().postings());
  }
  auto baseline = no_scipy ? std::vector<double>{} : scipy_qps(docs, queries, sizes);
  for (size_t i = 0; i < sizes.size(); ++i) {
    Value line{
      {"bench", "sparse"},
      {"n", static_cast<int64_t>(sizes[i])},
      {"qps", ours[i]},
      {"postings_per_doc", static_cast<double>(postings[i]) / static_cast<double>(sizes[i])}};
    if (i < baseline.size()) {
      line["scipy_qps"] = baseline[i];
      line["ratio"] = ours[i] / baseline[i];
    } else {
      line["scipy_qps"] = Value{};
      line["ratio"] = Value{};
    }
    emit(line);
  }
  return 0;
}

}  // namespace caflow::bench
