/// The TF-IDF model: scikit-learn's TfidfVectorizer with its defaults, as
/// pure logic (no actors, no executor).
///
/// A `TfidfFitter` streams documents once, counting each term's document
/// frequency (and corpus frequency, for max_features), then prunes like
/// scikit-learn (max_df, min_df, max_features) into an immutable
/// `TfidfModel`: the sorted vocabulary and smooth idf
/// (ln((1 + n) / (1 + df)) + 1). `transform` gives the l2-normalised tf-idf
/// vector of a text as a sparse embedding whose indices are positions in the
/// sorted vocabulary, equal to scikit-learn's to within float rounding.
///
///   caflow::tfidf::TfidfFitter fitter{options};
///   for (auto& text : corpus) fitter.add(text);
///   auto model = std::move(fitter).finish();   // caf::expected<shared_ptr<const TfidfModel>>
///   caflow::Embedding e = (*model)->transform("some text");
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "caflow/document.hpp"
#include "caflow/value.hpp"
#include "executors/tfidf/tokenizer.hpp"

namespace caflow::tfidf {

/// A max_df or min_df bound with scikit-learn's meaning: an integer is an
/// absolute number of documents, a float a proportion of the corpus.
struct DfBound {
  bool proportion = false;  ///< true: `value` is a fraction in [0, 1]
  double value = 1;         ///< a count (integral) or a proportion

  /// The bound in documents for a corpus of `docs` documents.
  [[nodiscard]] double documents(uint64_t docs) const noexcept {
    return proportion ? value * static_cast<double>(docs) : value;
  }
  /// 1 (integer) or 0.5 (float), as the user would write it.
  [[nodiscard]] Value to_value() const;

  friend bool operator==(const DfBound&, const DfBound&) = default;
};

/// The options a model is fitted with (TfidfVectorizer's names and defaults).
struct TfidfOptions {
  /// Keep only the most frequent terms over the corpus. Default: no limit.
  std::optional<int64_t> max_features;
  /// Drop terms in fewer documents. Default: 1 (integer: every term).
  DfBound min_df{false, 1};
  /// Drop terms in more documents. Default: 1.0 (float: no term).
  DfBound max_df{true, 1.0};
  /// Remove scikit-learn's English stop words. Default: false.
  bool english_stop_words = false;

  /// Reads `max_features`, `min_df`, `max_df` and `stop_words` from
  /// `uses_with`, validated like scikit-learn; errors start with `who`.
  static caf::expected<TfidfOptions> from_params(const Params& uses_with, std::string_view who);
  /// The options as JSON-like data (the form saved with a model).
  [[nodiscard]] Value to_value() const;
  /// The options back from `to_value()`'s form.
  static caf::expected<TfidfOptions> from_value(const Value& v, std::string_view who);
  /// "max_df: fitted with 0.5, configured 1.0; ..." or "" when equal.
  [[nodiscard]] std::string differences(const TfidfOptions& configured) const;

  friend bool operator==(const TfidfOptions&, const TfidfOptions&) = default;
};

namespace detail {
/// A fast hash of term bytes longer than 8 (TermIndex's fingerprint).
[[nodiscard]] uint64_t hash_bytes(std::string_view s) noexcept;
}  // namespace detail

/// An open-addressing hash table from term (UTF-8 bytes) to a dense id
/// (insertion order). Keys live in one arena, and keys of at most 8 bytes
/// (most word occurrences) also inline in their slot, so a lookup by
/// string_view neither allocates nor, usually, touches more than one cache
/// line. Not thread-safe for writes; concurrent `find`s are fine.
class TermIndex {
 public:
  static constexpr uint32_t npos = UINT32_MAX;

  /// A term's hash and fingerprint: computed once, used to prefetch its slot
  /// and then to look it up.
  struct Probe {
    uint64_t hash;
    uint64_t key;
  };
  [[nodiscard]] static Probe probe(std::string_view term) noexcept;
  /// probe(term) for a non-empty `term` followed by at least 8 readable
  /// bytes (a Tokenizer's token): a short term is read as one word.
  [[nodiscard]] static Probe probe_padded(std::string_view term) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
      if (term.size() <= 8) [[likely]] {
        uint64_t w;
        std::memcpy(&w, term.data(), 8);
        w &= ((uint64_t{1} << (8 * term.size() - 1)) << 1) - 1;
        return {short_hash(w, term.size()), w};
      }
    }
    return probe(term);
  }

  /// Starts loading the slot of `p` into the cache. Looking up a batch of
  /// terms with prefetches a few terms ahead overlaps the cache misses of a
  /// large vocabulary instead of taking them one after another.
  void prefetch(const Probe& p) const noexcept {
    // Unconditional, on an integer address: GCC 12 deletes a prefetch that
    // is alone under a branch (such as `if (!slots_.empty())`), and a
    // prefetch never faults, so an empty table's meaningless address is
    // harmless.
    auto base = reinterpret_cast<uintptr_t>(slots_.data());
    __builtin_prefetch(reinterpret_cast<const void*>(base + (p.hash & mask_) * sizeof(Slot)));
  }

  /// The id of `term` (with `p = probe(term)`), or npos.
  [[nodiscard]] uint32_t find(std::string_view term, const Probe& p) const noexcept;
  [[nodiscard]] uint32_t find(std::string_view term) const noexcept {
    return find(term, probe(term));
  }
  /// The id of `term` (with `p = probe(term)`), inserted with the next id
  /// when absent.
  uint32_t insert(std::string_view term, const Probe& p);
  uint32_t insert(std::string_view term) { return insert(term, probe(term)); }
  /// The term with id `id`.
  [[nodiscard]] std::string_view term(uint32_t id) const noexcept {
    return {arena_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]};
  }
  /// The number of terms.
  [[nodiscard]] size_t size() const noexcept { return offsets_.size() - 1; }
  /// Makes room for `n` terms.
  void reserve(size_t n);
  /// A table of the terms `ids` of this one, the k-th with id k, built from
  /// this table's slots (no term is hashed again).
  [[nodiscard]] TermIndex select(const std::vector<uint32_t>& ids) const;

 private:
  struct Slot {
    uint32_t id_plus_one = 0;  // 0: empty
    uint32_t size = 0;         // the key's length in bytes
    uint64_t key = 0;          // the key's bytes (zero-padded) if <= 8, else its hash
  };
  [[nodiscard]] bool matches(const Slot& s, const Probe& p, std::string_view term) const noexcept;
  // The slot position hash of a key of at most 8 bytes: `w` (its bytes,
  // zero-padded), mixed with its length.
  static uint64_t short_hash(uint64_t w, size_t n) noexcept {
    uint64_t h = (w ^ (n * 0x9E3779B97F4A7C15ULL)) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 32;
    return h;
  }
  // A stored key's hash, from its slot alone (no term bytes are read).
  static uint64_t slot_hash(const Slot& s) noexcept {
    return s.size <= 8 ? short_hash(s.key, s.size) : s.key;
  }
  void rehash(size_t slots);

  std::string arena_;
  std::vector<uint32_t> offsets_{0};
  std::vector<Slot> slots_;
  size_t mask_ = 0;  // slots_.size() - 1 (a power of two less one), kept for the lookups
};

// Inline: the lookups run once per token, from the tokenising loops of fit
// and transform.
inline TermIndex::Probe TermIndex::probe(std::string_view term) noexcept {
  if (term.size() <= 8) [[likely]] {
    // Short keys are their own fingerprint: the padded bytes, mixed for the
    // slot position.
    // The bytes, zero-padded, without a variable-length memcpy call: two
    // overlapping loads (their common bytes are equal, so OR is exact).
    const auto* b = reinterpret_cast<const unsigned char*>(term.data());
    size_t n = term.size();
    uint64_t w = 0;
    if (n >= 4) {
      uint32_t lo, hi;
      std::memcpy(&lo, b, 4);
      std::memcpy(&hi, b + n - 4, 4);
      w = lo | (uint64_t{hi} << (8 * (n - 4)));
    } else if (n > 0) {
      w = b[0] | (uint64_t{b[n / 2]} << (8 * (n / 2))) | (uint64_t{b[n - 1]} << (8 * (n - 1)));
    }
    return {short_hash(w, n), w};
  }
  uint64_t h;
  if (term.size() <= 16) {
    // 9 to 16 bytes (most long terms), inline: two overlapping words.
    uint64_t lo, hi;
    std::memcpy(&lo, term.data(), 8);
    std::memcpy(&hi, term.data() + term.size() - 8, 8);
    h = (lo ^ (term.size() * 0x9E3779B97F4A7C15ULL)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 31) ^ hi) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
  } else {
    h = detail::hash_bytes(term);
  }
  return {h, h};
}

inline bool TermIndex::matches(const Slot& s, const Probe& p,
                               std::string_view term) const noexcept {
  if (s.key != p.key || s.size != term.size())
    return false;
  const size_t n = term.size();
  if (n <= 8)
    return true;
  // Equal 64-bit hashes: confirm the bytes inline (two overlapping 8-byte
  // words cover 9-16 bytes, most long terms) rather than by a memcmp call.
  const char* a = arena_.data() + offsets_[s.id_plus_one - 1];
  const char* b = term.data();
  uint64_t x, y, u, v;
  std::memcpy(&x, a, 8);
  std::memcpy(&y, b, 8);
  std::memcpy(&u, a + n - 8, 8);
  std::memcpy(&v, b + n - 8, 8);
  if (x != y || u != v)
    return false;
  return n <= 16 || std::memcmp(a + 8, b + 8, n - 16) == 0;
}

inline uint32_t TermIndex::find(std::string_view term, const Probe& p) const noexcept {
  if (slots_.empty())
    return npos;
  const size_t mask = mask_;
  for (size_t i = p.hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id_plus_one == 0)
      return npos;
    if (matches(s, p, term))
      return s.id_plus_one - 1;
  }
}

namespace detail {
/// The tokens of a document handed on in batches: each token's slot is
/// prefetched as it is added and looked up only when the batch is full, so
/// the cache misses of a large vocabulary overlap instead of following one
/// another, and the scratch stays small whatever the document's size.
struct TokenBatch {
  static constexpr size_t capacity = 128;
  std::string_view tokens[capacity];
  TermIndex::Probe probes[capacity];
  uint32_t ids[capacity];
  size_t size = 0;

  /// Adds `token` (a Tokenizer's: 8 readable bytes follow its start) with
  /// its probe, prefetching its slot of `terms`; true when the batch is then
  /// full.
  bool push(std::string_view token, const TermIndex& terms) noexcept {
    const size_t k = size;
    tokens[k] = token;
    probes[k] = TermIndex::probe_padded(token);
    terms.prefetch(probes[k]);
    size = k + 1;
    return k + 1 == capacity;
  }
};
}  // namespace detail

/// A fitted model: immutable once built, so replicas share it through a
/// `std::shared_ptr<const TfidfModel>` and call `transform` concurrently.
class TfidfModel {
 public:
  /// A model over `terms` (strictly increasing byte order) with their
  /// document frequencies, fitted on `documents` documents.
  TfidfModel(TfidfOptions options, uint64_t documents, TermIndex terms, std::vector<uint32_t> dfs);

  /// The options it was fitted with.
  [[nodiscard]] const TfidfOptions& options() const noexcept { return options_; }
  /// The number of documents it was fitted on.
  [[nodiscard]] uint64_t documents() const noexcept { return documents_; }
  /// The vocabulary size (the embeddings' dimension).
  [[nodiscard]] uint32_t size() const noexcept { return static_cast<uint32_t>(idf_.size()); }
  /// The `i`-th term in sorted order (= its index in embeddings).
  [[nodiscard]] std::string_view term(uint32_t i) const noexcept { return terms_.term(i); }
  /// The index of `term`, or TermIndex::npos.
  [[nodiscard]] uint32_t index(std::string_view term) const noexcept { return terms_.find(term); }
  /// The document frequency and idf of term `i`.
  [[nodiscard]] uint32_t df(uint32_t i) const noexcept { return dfs_[i]; }
  [[nodiscard]] double idf(uint32_t i) const noexcept { return idf_[i]; }

  /// The tf-idf vector of `text` into `out` (sparse, dim = size(); all-zero
  /// when no term is known). Thread-safe; reuses thread-local buffers.
  void transform(std::string_view text, Embedding& out) const;
  [[nodiscard]] Embedding transform(std::string_view text) const {
    Embedding e;
    transform(text, e);
    return e;
  }

  /// Writes the model to `path` atomically (a temporary file renamed over
  /// it), creating parent directories. errc::io_error names the path.
  [[nodiscard]] caf::error save(const std::string& path) const;
  /// Reads a model written by `save`. errc::not_found when `path` does not
  /// exist; errc::io_error naming the path and line when it is malformed.
  static caf::expected<std::shared_ptr<const TfidfModel>> load(const std::string& path);

 private:
  TfidfOptions options_;
  uint64_t documents_;
  TermIndex terms_;
  std::vector<uint32_t> dfs_;
  std::vector<double> idf_;
};

/// Fits a model in one streaming pass: memory grows with the vocabulary,
/// not with the corpus. Not thread-safe.
class TfidfFitter {
 public:
  explicit TfidfFitter(TfidfOptions options) : options_(std::move(options)) {}

  /// Counts the terms of one document.
  void add(std::string_view text);
  /// The number of documents added.
  [[nodiscard]] uint64_t documents() const noexcept { return documents_; }

  /// Prunes like scikit-learn and builds the model. Errors (invalid_argument)
  /// use scikit-learn's words: an empty vocabulary, max_df below min_df, or
  /// no term left after pruning.
  caf::expected<std::shared_ptr<const TfidfModel>> finish() &&;

 private:
  TfidfOptions options_;
  Tokenizer tokenizer_;
  TermIndex terms_;
  struct Counts {
    uint32_t df = 0;        // documents containing the term
    uint32_t last_doc = 0;  // 1 + index of the last document counted in df
    uint64_t tf = 0;        // occurrences over the corpus
  };
  std::vector<Counts> counts_;
  uint64_t documents_ = 0;
  // Counts the batch's tokens into counts_ and empties it.
  void count_batch();
  std::unique_ptr<detail::TokenBatch> batch_ = std::make_unique<detail::TokenBatch>();
};

/// Fits a model on the `text` of every document of the JSON Lines file
/// `path`, reading `batch` documents at a time (the corpus is never held in
/// memory). Errors name the file and line.
caf::expected<std::shared_ptr<const TfidfModel>> fit_jsonl(const std::string& path,
                                                           const TfidfOptions& options,
                                                           size_t batch = 256);

/// numpy's default `argsort` (introsort, not stable) of `keys`, reproduced
/// exactly so that max_features breaks frequency ties the way scikit-learn
/// does. Exposed for tests.
[[nodiscard]] std::vector<int64_t> numpy_argsort(const std::vector<int64_t>& keys);

}  // namespace caflow::tfidf
