#include "bench/workload.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <numeric>
#include <random>

#include "bench/bench_util.hpp"
#include "bench/synthetic.hpp"
#include "caflow/errors.hpp"
#include "caflow/jsonl.hpp"
#include "executors/tfidf/tfidf_model.hpp"

namespace caflow::bench {

namespace {

constexpr size_t query_chars = 1000;

/// The corpus's mails, their vectors and per-term statistics.
class Corpus {
 public:
  explicit Corpus(const std::string& path) {
    auto model = tfidf::fit_jsonl(path, tfidf::TfidfOptions{});
    if (!model)
      throw Error(model.error());
    model_ = *model;
    auto reader = JsonlReader::open(path);
    if (!reader)
      throw Error(reader.error());
    for (auto batch = reader->next(1000); batch && !batch->empty(); batch = reader->next(1000))
      for (auto& d : *batch) {
        vectors_.push_back(model_->transform(d.text));
        texts_.push_back(std::move(d.text));
      }
    if (texts_.empty())
      throw Error(errc::invalid_argument, path + ": no documents");
  }

  [[nodiscard]] size_t size() const noexcept { return texts_.size(); }
  [[nodiscard]] uint32_t dimension() const noexcept { return model_->size(); }
  [[nodiscard]] const Embedding& vector(size_t i) const { return vectors_[i]; }
  [[nodiscard]] const std::string& text(size_t i) const { return texts_[i]; }

  [[nodiscard]] std::vector<Document> queries(size_t count) const {
    std::vector<Document> out;
    size_t step = std::max<size_t>(1, size() / std::max<size_t>(1, count));
    for (size_t j = 0; j < count; ++j) {
      size_t mail = (j * step + j / size()) % size();
      Document q;
      q.id = "q-" + std::to_string(j);
      q.embedding = model_->transform(std::string_view{texts_[mail]}.substr(0, query_chars));
      out.push_back(std::move(q));
    }
    return out;
  }

 private:
  std::shared_ptr<const tfidf::TfidfModel> model_;
  std::vector<Embedding> vectors_;
  std::vector<std::string> texts_;
};

Document with_id(uint64_t i, Embedding e, const std::string* text) {
  Document d;
  d.id = "doc-" + std::to_string(i);
  d.embedding = std::move(e);
  if (text != nullptr)
    d.text = *text;
  return d;
}

class Copies final : public Workload {
 public:
  explicit Copies(std::shared_ptr<const Corpus> corpus) : corpus_(std::move(corpus)) {}
  [[nodiscard]] std::string name() const override { return "copies"; }
  [[nodiscard]] uint32_t dimension() const override { return corpus_->dimension(); }
  [[nodiscard]] std::vector<Document> documents(uint64_t first, size_t count,
                                                bool text) const override {
    std::vector<Document> out;
    for (uint64_t i = first; i < first + count; ++i) {
      size_t mail = i % corpus_->size();
      out.push_back(with_id(i, corpus_->vector(mail), text ? &corpus_->text(mail) : nullptr));
    }
    return out;
  }
  [[nodiscard]] std::vector<Document> queries(size_t count) const override {
    return corpus_->queries(count);
  }

 private:
  std::shared_ptr<const Corpus> corpus_;
};

class Drawn final : public Workload {
 public:
  explicit Drawn(std::shared_ptr<const Corpus> corpus) : corpus_(std::move(corpus)) {
    // Per term: its values in the corpus (CSC); terms grouped by document
    // frequency, since all terms of a group occur with the same probability.
    const uint32_t dim = corpus_->dimension();
    std::vector<uint32_t> df(dim, 0);
    for (size_t m = 0; m < corpus_->size(); ++m)
      for (uint32_t t : corpus_->vector(m).indices)
        ++df[t];
    begin_.assign(dim + 1, 0);
    for (uint32_t t = 0; t < dim; ++t)
      begin_[t + 1] = begin_[t] + df[t];
    values_.resize(begin_[dim]);
    std::vector<size_t> at(begin_.begin(), begin_.end() - 1);
    for (size_t m = 0; m < corpus_->size(); ++m) {
      const auto& v = corpus_->vector(m);
      for (size_t i = 0; i < v.indices.size(); ++i)
        values_[at[v.indices[i]]++] = v.values[i];
    }
    std::map<uint32_t, std::vector<uint32_t>> by_df;
    for (uint32_t t = 0; t < dim; ++t)
      if (df[t] > 0)
        by_df[df[t]].push_back(t);
    for (auto& [d, terms] : by_df)
      groups_.push_back(
        {static_cast<double>(d) / static_cast<double>(corpus_->size()), std::move(terms)});
  }

  [[nodiscard]] std::string name() const override { return "drawn"; }
  [[nodiscard]] uint32_t dimension() const override { return corpus_->dimension(); }

  [[nodiscard]] std::vector<Document> documents(uint64_t first, size_t count,
                                                bool text) const override {
    // count x |group| Bernoulli trials per group, walked by geometric skips:
    // O(groups + postings) per call.
    std::mt19937_64 rng{first * 0x9E3779B97F4A7C15ULL + count};
    std::vector<std::vector<std::pair<uint32_t, float>>> docs(count);
    for (const auto& g : groups_) {
      const uint64_t trials = g.terms.size() * count;
      auto hit = [&](uint64_t j) {
        uint32_t t = g.terms[j % g.terms.size()];
        size_t n = begin_[t + 1] - begin_[t];
        float v = values_[begin_[t] + std::uniform_int_distribution<size_t>(0, n - 1)(rng)];
        docs[j / g.terms.size()].emplace_back(t, v);
      };
      if (g.p >= 1) {
        for (uint64_t j = 0; j < trials; ++j)
          hit(j);
        continue;
      }
      std::geometric_distribution<uint64_t> skip(g.p);
      for (uint64_t j = skip(rng); j < trials; j += 1 + skip(rng))
        hit(j);
    }
    std::vector<Document> out;
    for (size_t i = 0; i < count; ++i) {
      auto& terms = docs[i];
      if (terms.empty())  // vanishingly rare; a document has at least one term
        terms.emplace_back(groups_.back().terms.front(), 1.0f);
      std::sort(terms.begin(), terms.end());
      std::vector<uint32_t> idx;
      std::vector<float> val;
      double n2 = 0;
      for (auto [t, v] : terms) {
        idx.push_back(t);
        val.push_back(v);
        n2 += double{v} * v;
      }
      auto norm = static_cast<float>(std::sqrt(n2));
      for (auto& x : val)
        x /= norm;
      size_t mail = (first + i) * 2654435761u % corpus_->size();
      out.push_back(with_id(first + i,
                            Embedding::sparse_vector(dimension(), std::move(idx), std::move(val)),
                            text ? &corpus_->text(mail) : nullptr));
    }
    return out;
  }

  [[nodiscard]] std::vector<Document> queries(size_t count) const override {
    return corpus_->queries(count);
  }

 private:
  struct Group {
    double p;
    std::vector<uint32_t> terms;
  };
  std::shared_ptr<const Corpus> corpus_;
  std::vector<size_t> begin_;
  std::vector<float> values_;
  std::vector<Group> groups_;  // ascending document frequency
};

class Zipf final : public Workload {
 public:
  explicit Zipf(size_t n) : corpus_(n) {}
  [[nodiscard]] std::string name() const override { return "zipf"; }
  [[nodiscard]] uint32_t dimension() const override { return SyntheticCorpus::vocabulary; }
  [[nodiscard]] std::vector<Document> documents(uint64_t first, size_t count,
                                                bool text) const override {
    std::mt19937 rng{static_cast<uint32_t>(first * 7919 + count)};
    std::vector<Document> out;
    for (uint64_t i = first; i < first + count; ++i) {
      auto d = corpus_.document(rng, 0, text);
      d.id = "doc-" + std::to_string(i);
      out.push_back(std::move(d));
    }
    return out;
  }
  [[nodiscard]] std::vector<Document> queries(size_t count) const override {
    std::mt19937 rng{12345};
    std::vector<Document> out;
    for (size_t j = 0; j < count; ++j)
      out.push_back(corpus_.query(rng));
    return out;
  }

 private:
  SyntheticCorpus corpus_;
};

}  // namespace

std::unique_ptr<Workload> Workload::make(int argc, char** argv, size_t n) {
  auto data = arg_string(argc, argv, "data", "drawn");
  auto path = arg_string(argc, argv, "corpus", source_path("data/spamassassin.jsonl"));
  if (data != "drawn" && data != "copies" && data != "zipf")
    throw Error(errc::invalid_argument, "--data must be drawn, copies or zipf, not '" + data + "'");
  if (data != "zipf" && !std::filesystem::exists(path)) {
    std::cerr << "caflow-bench: " << path
              << " is missing (tools/fetch-corpus.sh): using --data=zipf\n";
    data = "zipf";
  }
  if (data == "zipf")
    return std::make_unique<Zipf>(n);
  auto corpus = std::make_shared<const Corpus>(path);
  if (data == "copies")
    return std::make_unique<Copies>(corpus);
  return std::make_unique<Drawn>(corpus);
}

}  // namespace caflow::bench
