// caflow-bench sparse: exact single-query top-10 over sparse TF-IDF
// documents (bench/workload.hpp: by default drawn from the mail corpus's
// term distribution, queried with real mail starts) at growing sizes, in
// process, with the Indexer's index class, against scipy's X @ q.T +
// argpartition on the same vectors and queries (tools/sklearn-env.sh), in
// the same run.
//
//   caflow-bench sparse [--sizes=6000,30000,120000] [--queries=300]
//                       [--data=drawn|copies|zipf] [--no-scipy]
//
// Prints {"bench": "sparse", "data", "n", "qps", "scipy_qps", "ratio",
// "cpu_qps", "scipy_cpu_qps", "cpu_ratio", "postings_per_doc",
// "query_terms", "exact", "cpu_us_per_query", "n_growth", "cost_growth",
// "mid_share", "minor_merges", "major_merges", "tiered_cpu_us",
// "flat_cpu_us", "flat_over_tiered", "flat_agrees"} per
// size (the last line for the largest); the cpu_ figures divide by CPU time
// (this thread's; scipy's process time, one BLAS thread), steadier than wall
// time on a loaded machine. n_growth and cost_growth compare a size with the
// first one: n / n_first and cpu_us_per_query / its value at n_first (cost
// growing more slowly than N: cost_growth < n_growth; scipy_cost_growth is
// scipy's). mid_share is the mid tier's share of the postings, and the
// merges are those of each kind so far (sparse_index.hpp); tiered_cpu_us
// and flat_cpu_us time the same queries alternately on this index and on
// one of the same documents under MergePolicy::flat() (no mid tier: the
// rule before it), flat_agrees whether their results are identical.
// `exact` says whether every query's top
// k (labels and score bits, ties by label) equals a brute-force float accumulation over all
// documents in the query's term order; `scipy_agrees` whether scipy's k-th
// score is within 1e-5 of caflow's for every query.
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bench/bench_util.hpp"
#include "bench/workload.hpp"
#include "caflow/json.hpp"
#include "index/exact_index.hpp"

namespace caflow::bench {

namespace {

namespace fs = std::filesystem;

constexpr size_t k = 10;

// CPU seconds of this thread: on a shared machine a steadier measure than
// wall time (reported beside it, as scipy's process time is).
double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

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

struct Scipy {
  double qps = 0;
  double cpu_qps = 0;
  std::vector<float> kth;  // per query, the k-th best score
};

/// scipy's figures for each size, or empty.
std::vector<Scipy> scipy_run(const std::vector<Embedding>& docs,
                             const std::vector<Embedding>& queries, uint32_t dim,
                             const std::vector<size_t>& sizes) {
  auto python = python_with_scipy();
  if (!python)
    return {};
  auto dir = fs::temp_directory_path() / ("caflow-bench-sparse-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_csr(dir, "x", docs);
  write_csr(dir, "q", queries);
  std::ofstream{dir / "dim.txt"} << dim;
  std::string cmd = *python + " "
                    + shell_quote(std::string{CAFLOW_SOURCE_DIR} + "/tools/bench/scipy_sparse.py")
                    + " " + shell_quote(dir.string()) + " " + std::to_string(k);
  for (auto n : sizes)
    cmd += " " + std::to_string(n);
  auto out = run_command(cmd);
  fs::remove_all(dir);
  std::vector<Scipy> result;
  if (!out)
    return result;
  std::istringstream lines{*out};
  for (std::string line; std::getline(lines, line);)
    if (auto v = parse_json(line); v && v->is_object()) {
      Scipy s;
      s.qps = v->get_double("scipy_qps", 0);
      s.cpu_qps = v->get_double("scipy_cpu_qps", 0);
      if (const auto* kth = v->find("kth"); kth != nullptr && kth->is_array())
        for (const auto& x : kth->as_array())
          s.kth.push_back(static_cast<float>(x.as_double()));
      result.push_back(std::move(s));
    }
  return result;
}

/// The brute-force top k of `q` over the first `n` of `docs` (normalised as
/// the index stores them): every document scored by a float sum over the
/// query's terms in query order, ties by label.
class BruteForce {
 public:
  BruteForce(const std::vector<Embedding>& docs, size_t n, uint32_t dim) : begin_(dim + 1, 0) {
    for (size_t d = 0; d < n; ++d)
      for (uint32_t t : docs[d].indices)
        ++begin_[t + 1];
    for (uint32_t t = 0; t < dim; ++t)
      begin_[t + 1] += begin_[t];
    docs_.resize(begin_[dim]);
    values_.resize(begin_[dim]);
    std::vector<size_t> at(begin_.begin(), begin_.end() - 1);
    for (size_t d = 0; d < n; ++d) {
      auto v = docs[d].values;
      normalize_in_place(v, Metric::cosine);
      for (size_t i = 0; i < v.size(); ++i) {
        auto t = docs[d].indices[i];
        docs_[at[t]] = static_cast<uint32_t>(d);
        values_[at[t]++] = v[i];
      }
    }
    scores_.resize(n);
  }

  std::vector<Hit> top(const Embedding& q) {
    std::fill(scores_.begin(), scores_.end(), 0.0f);
    std::vector<uint8_t> hit(scores_.size(), 0);
    auto v = q.values;
    normalize_in_place(v, Metric::cosine);
    for (size_t p = 0; p < v.size(); ++p) {
      if (v[p] == 0)
        continue;
      for (size_t i = begin_[q.indices[p]]; i < begin_[q.indices[p] + 1]; ++i) {
        scores_[docs_[i]] += v[p] * values_[i];
        hit[docs_[i]] = 1;
      }
    }
    TopK best(k, true);
    for (size_t d = 0; d < scores_.size(); ++d)
      if (hit[d])
        best.push(d, scores_[d]);
    return std::move(best).take();
  }

 private:
  std::vector<size_t> begin_;
  std::vector<uint32_t> docs_;
  std::vector<float> values_;
  std::vector<float> scores_;
};

bool same_hits(const std::vector<Hit>& a, const std::vector<Hit>& b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].label != b[i].label || std::memcmp(&a[i].score, &b[i].score, sizeof(float)) != 0)
      return false;
  return true;
}

}  // namespace

int run_sparse_bench(int argc, char** argv) {
  auto sizes = sizes_arg(argc, argv);
  auto n_queries = static_cast<size_t>(arg(argc, argv, "queries", 300));
  bool no_scipy = flag(argc, argv, "no-scipy");
  size_t max_n = *std::max_element(sizes.begin(), sizes.end());
  auto workload = Workload::make(argc, argv, max_n);
  std::vector<Embedding> docs;
  docs.reserve(max_n);
  for (size_t from = 0; from < max_n; from += 1000)
    for (auto& d : workload->documents(from, std::min<size_t>(1000, max_n - from), false))
      docs.push_back(std::move(d.embedding));
  std::vector<Embedding> queries;
  double query_terms = 0;
  for (auto& q : workload->queries(n_queries)) {
    query_terms += static_cast<double>(q.embedding.indices.size());
    queries.push_back(std::move(q.embedding));
  }

  std::vector<double> ours;
  std::vector<double> ours_cpu;
  std::vector<size_t> postings;
  struct Tiers {
    size_t mid;
    SparseIndex::MergeCounts merges;
  };
  std::vector<Tiers> tiers;
  std::vector<bool> exact;
  std::vector<std::vector<float>> kth;
  ExactIndex index{Metric::cosine};
  // The baseline in the same run: the same documents under the two-tier
  // rule (no mid), searched query by query alternately with `index`.
  ExactIndex flat{Metric::cosine, MergePolicy::flat()};
  struct Versus {
    double tiered_us, flat_us;
    bool agrees;
  };
  std::vector<Versus> versus;
  size_t stored = 0;
  for (auto n : sizes) {
    for (; stored < n; ++stored) {
      index.upsert(stored, docs[stored]);
      flat.upsert(stored, docs[stored]);
    }
    for (size_t j = 0; j < std::min<size_t>(10, queries.size()); ++j)
      (void)index.search({&queries[j]}, k);
    std::vector<std::vector<Hit>> found;
    found.reserve(queries.size());
    auto start = clock::now();
    double cpu0 = thread_cpu_s();
    for (const auto& q : queries)
      found.push_back(std::move(index.search({&q}, k).front()));
    ours_cpu.push_back(static_cast<double>(queries.size()) / (thread_cpu_s() - cpu0));
    ours.push_back(static_cast<double>(queries.size()) / seconds_since(start));
    postings.push_back(index.sparse_index().postings());
    tiers.push_back({index.sparse_index().mid_postings(), index.sparse_index().merges()});
    {
      double tiered_s = 0, flat_s = 0;
      bool agrees = true;
      for (const auto& q : queries) {
        double t0 = thread_cpu_s();
        auto a = std::move(index.search({&q}, k).front());
        double t1 = thread_cpu_s();
        auto b = std::move(flat.search({&q}, k).front());
        tiered_s += t1 - t0;
        flat_s += thread_cpu_s() - t1;
        agrees = agrees && same_hits(a, b);
      }
      const auto nq = static_cast<double>(std::max<size_t>(1, queries.size()));
      versus.push_back({1e6 * tiered_s / nq, 1e6 * flat_s / nq, agrees});
    }
    BruteForce brute{docs, n, workload->dimension()};
    bool all = true;
    auto& kths = kth.emplace_back();
    for (size_t j = 0; j < queries.size(); ++j) {
      all = all && same_hits(found[j], brute.top(queries[j]));
      kths.push_back(found[j].size() < k ? 0.0f : found[j].back().score);
    }
    exact.push_back(all);
  }
  auto baseline = no_scipy ? std::vector<Scipy>{}
                           : scipy_run(docs, queries, workload->dimension(), sizes);
  for (size_t i = 0; i < sizes.size(); ++i) {
    Value line{
      {"bench", "sparse"},
      {"data", workload->name()},
      {"n", static_cast<int64_t>(sizes[i])},
      {"qps", ours[i]},
      {"cpu_qps", ours_cpu[i]},
      {"postings_per_doc", static_cast<double>(postings[i]) / static_cast<double>(sizes[i])},
      {"query_terms", query_terms / static_cast<double>(std::max<size_t>(1, queries.size()))},
      {"exact", static_cast<bool>(exact[i])},
      {"cpu_us_per_query", 1e6 / ours_cpu[i]},
      {"n_growth", static_cast<double>(sizes[i]) / static_cast<double>(sizes[0])},
      {"cost_growth", ours_cpu[0] / ours_cpu[i]},
      {"mid_share", static_cast<double>(tiers[i].mid) / static_cast<double>(postings[i])},
      {"minor_merges", static_cast<int64_t>(tiers[i].merges.minor)},
      {"major_merges", static_cast<int64_t>(tiers[i].merges.major)},
      {"tiered_cpu_us", versus[i].tiered_us},
      {"flat_cpu_us", versus[i].flat_us},
      {"flat_over_tiered", versus[i].flat_us / versus[i].tiered_us},
      {"flat_agrees", versus[i].agrees}};
    if (i < baseline.size()) {
      line["scipy_qps"] = baseline[i].qps;
      line["ratio"] = ours[i] / baseline[i].qps;
      line["scipy_cpu_qps"] = baseline[i].cpu_qps;
      line["cpu_ratio"] = ours_cpu[i] / baseline[i].cpu_qps;
      bool agrees = baseline[i].kth.size() == kth[i].size();
      for (size_t j = 0; agrees && j < kth[i].size(); ++j)
        agrees = std::abs(baseline[i].kth[j] - kth[i][j]) <= 1e-5f;
      line["scipy_agrees"] = agrees;
      line["scipy_cost_growth"] = baseline[0].cpu_qps / baseline[i].cpu_qps;
    } else {
      line["scipy_qps"] = Value{};
      line["ratio"] = Value{};
    }
    emit(line);
  }
  return 0;
}

}  // namespace caflow::bench
