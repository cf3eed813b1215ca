// The TF-IDF model: options, the term hash table, fitting, transform and the
// model file. Everything here is plain data and functions; the executor and
// the cross-replica cache only sequence them.
#include "executors/tfidf/tfidf_model.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include <unistd.h>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "caflow/jsonl.hpp"
#include "executors/tfidf/stop_words.hpp"
#include "storage/atomic_file.hpp"

namespace caflow::tfidf {
namespace {

// ---- options ---------------------------------------------------------------

std::string show(const Value& v) {
  return v.is_null() ? "null" : v.dump();
}

// sklearn 1.2: Interval(Real, 0, 1, closed="both") or Interval(Integral, 1,
// None, closed="left"). An integer 0 passes the first (0 is a Real), so
// integers >= 0 count documents and floats must lie in [0.0, 1.0].
caf::expected<DfBound> df_bound(const Params& p, const char* key, DfBound fallback,
                                std::string_view who) {
  const Value* v = p.find(key);
  if (v == nullptr || v->is_null())
    return fallback;
  if (v->is_int() && v->as_int() >= 0)
    return DfBound{false, static_cast<double>(v->as_int())};
  if (v->is_double() && v->as_double() >= 0 && v->as_double() <= 1)
    return DfBound{true, v->as_double()};
  return make_error(errc::invalid_argument,
                    std::string{who} + ": uses_with." + key
                      + " must be a float in the range [0.0, 1.0] or an int in the range"
                        " [1, inf), got "
                      + show(*v));
}

// ---- numpy's argsort -------------------------------------------------------
// numpy/core/src/npysort/quicksort.cpp and heapsort.cpp (numpy 1.24):
// aquicksort_ with median-of-three partitioning, insertion sort below 16
// elements and a heapsort fallback past 2 * floor(log2(n)) levels.

void numpy_aheapsort(const int64_t* v, int64_t* tosort, int64_t n) {
  int64_t* a = tosort - 1;  // 1-based heap indexing
  // Sifts `tmp` down from slot `i` of a heap of `size` elements.
  auto sift_down = [&](int64_t tmp, int64_t i, int64_t size) {
    for (int64_t j = i << 1; j <= size;) {
      if (j < size && v[a[j]] < v[a[j + 1]])
        j += 1;
      if (!(v[tmp] < v[a[j]]))
        break;
      a[i] = a[j];
      i = j;
      j += j;
    }
    a[i] = tmp;
  };
  for (int64_t l = n >> 1; l > 0; --l)
    sift_down(a[l], l, n);
  for (; n > 1;) {
    int64_t tmp = a[n];
    a[n] = a[1];
    n -= 1;
    sift_down(tmp, 1, n);
  }
}

int msb(uint64_t n) {
  int depth = 0;
  while (n >>= 1)
    ++depth;
  return depth;
}

void numpy_aquicksort(const int64_t* v, int64_t* tosort, int64_t num) {
  constexpr int64_t small_quicksort = 15;
  constexpr int stack_size = 128;
  int64_t* pl = tosort;
  int64_t* pr = tosort + num - 1;
  int64_t* stack[stack_size];
  int64_t** sptr = stack;
  int depth[stack_size];
  int* psdepth = depth;
  int cdepth = msb(static_cast<uint64_t>(num)) * 2;
  for (;;) {
    if (cdepth < 0) {
      numpy_aheapsort(v, pl, pr - pl + 1);
      goto stack_pop;
    }
    while ((pr - pl) > small_quicksort) {
      int64_t* pm = pl + ((pr - pl) >> 1);
      if (v[*pm] < v[*pl])
        std::swap(*pm, *pl);
      if (v[*pr] < v[*pm])
        std::swap(*pr, *pm);
      if (v[*pm] < v[*pl])
        std::swap(*pm, *pl);
      int64_t vp = v[*pm];
      int64_t* pi = pl;
      int64_t* pj = pr - 1;
      std::swap(*pm, *pj);
      for (;;) {
        do
          ++pi;
        while (v[*pi] < vp);
        do
          --pj;
        while (vp < v[*pj]);
        if (pi >= pj)
          break;
        std::swap(*pi, *pj);
      }
      int64_t* pk = pr - 1;
      std::swap(*pi, *pk);
      // push the larger partition on the stack
      if (pi - pl < pr - pi) {
        *sptr++ = pi + 1;
        *sptr++ = pr;
        pr = pi - 1;
      } else {
        *sptr++ = pl;
        *sptr++ = pi - 1;
        pl = pi + 1;
      }
      *psdepth++ = --cdepth;
    }
    for (int64_t* pi = pl + 1; pi <= pr; ++pi) {
      int64_t vi = *pi;
      int64_t vp = v[vi];
      int64_t* pj = pi;
      int64_t* pk = pi - 1;
      while (pj > pl && vp < v[*pk])
        *pj-- = *pk--;
      *pj = vi;
    }
  stack_pop:
    if (sptr == stack)
      break;
    pr = *(--sptr);
    pl = *(--sptr);
    cdepth = *(--psdepth);
  }
}

// ---- model file --------------------------------------------------------------

constexpr std::string_view file_magic = "caflow-tfidf 1";

caf::error io_error(const std::string& path, const std::string& what) {
  return make_error(errc::io_error, "TF-IDF model " + path + ": " + what);
}

}  // namespace

// ---- options ---------------------------------------------------------------

Value DfBound::to_value() const {
  if (proportion)
    return Value{value};
  return Value{static_cast<int64_t>(value)};
}

caf::expected<TfidfOptions> TfidfOptions::from_params(const Params& p, std::string_view who) {
  TfidfOptions o;
  if (!p.is_object() && !p.is_null())
    return make_error(errc::invalid_argument, std::string{who} + ": uses_with must be an object");
  if (const Value* v = p.find("max_features"); v != nullptr && !v->is_null()) {
    bool whole = v->is_int() || (v->is_double() && std::trunc(v->as_double()) == v->as_double());
    if (!whole || v->as_int() < 1)
      return make_error(errc::invalid_argument,
                        std::string{who}
                          + ": uses_with.max_features must be an int in the range [1, inf)"
                            " or null, got "
                          + show(*v));
    o.max_features = v->as_int();
  }
  auto min_df = df_bound(p, "min_df", o.min_df, who);
  if (!min_df)
    return min_df.error();
  o.min_df = *min_df;
  auto max_df = df_bound(p, "max_df", o.max_df, who);
  if (!max_df)
    return max_df.error();
  o.max_df = *max_df;
  if (const Value* v = p.find("stop_words"); v != nullptr && !v->is_null()) {
    if (!v->is_string() || v->as_string() != "english")
      return make_error(
        errc::invalid_argument,
        std::string{who} + ": uses_with.stop_words must be \"english\" or null, got " + show(*v));
    o.english_stop_words = true;
  }
  return o;
}

Value TfidfOptions::to_value() const {
  Value v = Value::object();
  v["max_features"] = max_features ? Value{*max_features} : Value{};
  v["min_df"] = min_df.to_value();
  v["max_df"] = max_df.to_value();
  v["stop_words"] = english_stop_words ? Value{"english"} : Value{};
  return v;
}

caf::expected<TfidfOptions> TfidfOptions::from_value(const Value& v, std::string_view who) {
  return from_params(v, who);
}

std::string TfidfOptions::differences(const TfidfOptions& configured) const {
  auto mine = to_value();
  auto theirs = configured.to_value();
  std::string out;
  for (const auto& [key, value] : mine.as_object()) {
    const Value* other = theirs.find(key);
    if (other != nullptr && *other == value)
      continue;
    if (!out.empty())
      out += "; ";
    out += key + ": fitted with " + show(value) + ", configured " + (other ? show(*other) : "null");
  }
  return out;
}

// ---- TermIndex -------------------------------------------------------------

// A fast hash for short keys: 8 bytes at a time, then a final avalanche.
uint64_t detail::hash_bytes(std::string_view s) noexcept {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xff51afd7ed558ccdULL);
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * 0x94d049bb133111ebULL;
  }
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

uint32_t TermIndex::insert(std::string_view term, const Probe& p) {
  // Load factor at most 3/4: probes stay short (four slots share a cache
  // line) and a 176k-term vocabulary fits in 4 MiB of slots.
  if ((size() + 1) * 4 > slots_.size() * 3)
    rehash(std::max<size_t>(64, slots_.size() * 2));
  size_t mask = slots_.size() - 1;
  for (size_t i = p.hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.id_plus_one == 0) {
      auto id = static_cast<uint32_t>(size());
      arena_.append(term);
      offsets_.push_back(static_cast<uint32_t>(arena_.size()));
      s = Slot{id + 1, static_cast<uint32_t>(term.size()), p.key};
      return id;
    }
    if (matches(s, p, term))
      return s.id_plus_one - 1;
  }
}

void TermIndex::reserve(size_t n) {
  offsets_.reserve(n + 1);
  size_t slots = 64;
  while (slots * 3 < n * 4)
    slots *= 2;
  if (slots > slots_.size())
    rehash(slots);
}

void TermIndex::rehash(size_t slots) {
  std::vector<Slot> fresh(slots);
  size_t mask = slots - 1;
  for (const Slot& s : slots_) {
    if (s.id_plus_one == 0)
      continue;
    size_t i = slot_hash(s) & mask;
    while (fresh[i].id_plus_one != 0)
      i = (i + 1) & mask;
    fresh[i] = s;
  }
  slots_ = std::move(fresh);
  mask_ = mask;
}

TermIndex TermIndex::select(const std::vector<uint32_t>& ids) const {
  TermIndex out;
  out.reserve(ids.size());
  std::vector<uint32_t> fresh_id(size(), npos);
  size_t bytes = 0;
  for (size_t k = 0; k < ids.size(); ++k) {
    fresh_id[ids[k]] = static_cast<uint32_t>(k);
    bytes += term(ids[k]).size();
  }
  out.arena_.reserve(bytes);
  for (auto id : ids) {
    out.arena_.append(term(id));
    out.offsets_.push_back(static_cast<uint32_t>(out.arena_.size()));
  }
  // The old slots in table order: their new positions mostly ascend too.
  size_t mask = out.slots_.size() - 1;
  for (const Slot& s : slots_) {
    if (s.id_plus_one == 0 || fresh_id[s.id_plus_one - 1] == npos)
      continue;
    size_t i = slot_hash(s) & mask;
    while (out.slots_[i].id_plus_one != 0)
      i = (i + 1) & mask;
    out.slots_[i] = Slot{fresh_id[s.id_plus_one - 1] + 1, s.size, s.key};
  }
  return out;
}

// ---- TfidfModel ------------------------------------------------------------

TfidfModel::TfidfModel(TfidfOptions options, uint64_t documents, TermIndex terms,
                       std::vector<uint32_t> dfs)
  : options_(std::move(options)),
    documents_(documents),
    terms_(std::move(terms)),
    dfs_(std::move(dfs)) {
  // smooth_idf: as if one extra document contained every term once.
  // Most terms share a small df (half of a corpus' terms occur in one
  // document): those idfs are computed once each.
  idf_.resize(dfs_.size());
  auto n = static_cast<double>(documents_ + 1);
  auto idf = [n](uint32_t df) { return std::log(n / static_cast<double>(df + 1)) + 1.0; };
  std::array<double, 256> small;
  for (uint32_t df = 0; df < small.size(); ++df)
    small[df] = idf(df);
  for (size_t i = 0; i < dfs_.size(); ++i)
    idf_[i] = dfs_[i] < small.size() ? small[dfs_[i]] : idf(dfs_[i]);
}

namespace {

// The distinct term ids of a document, given back in increasing order
// without sorting: a bit per id, and a bit per 64-id word that has one, so
// that reading them back visits only the words set (plus one word per 4,096
// ids of the vocabulary). Left all-zero after each read.
class IdSet {
 public:
  void reserve(size_t ids) {
    if (words_.size() * 64 < ids) {
      words_.resize((ids + 63) / 64);
      summary_.resize((words_.size() + 63) / 64);
    }
  }
  void insert(uint32_t id) noexcept {
    words_[id >> 6] |= uint64_t{1} << (id & 63);
    summary_[id >> 12] |= uint64_t{1} << ((id >> 6) & 63);
  }
  // Writes the ids in increasing order to `out` (room for all of them) and
  // clears the set.
  void drain(uint32_t* out) noexcept {
    for (size_t s = 0; s < summary_.size(); ++s) {
      for (uint64_t top = summary_[s]; top != 0; top &= top - 1) {
        size_t w = s * 64 + static_cast<size_t>(__builtin_ctzll(top));
        for (uint64_t bits = words_[w]; bits != 0; bits &= bits - 1)
          *out++ = static_cast<uint32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(bits)));
        words_[w] = 0;
      }
      summary_[s] = 0;
    }
  }

 private:
  std::vector<uint64_t> words_;
  std::vector<uint64_t> summary_;
};

// Per-thread scratch of transform, so a batch transforms without per-token
// allocation: counts by term index and the set of ids counted (both sized to
// the vocabulary once), and the token batch. One thread_local, not one per
// buffer: each access to a thread_local of a shared library is a
// __tls_get_addr call.
struct TransformScratch {
  Tokenizer tokenizer;
  std::vector<uint32_t> counts;
  IdSet touched;
  detail::TokenBatch batch;
};

// The calling thread's scratch. Out of line, so that transform computes the
// thread_local's address once: names bound to a thread_local (even
// structured bindings) re-evaluate it, a __tls_get_addr call per token.
[[gnu::noinline]] TransformScratch& transform_scratch() {
  thread_local TransformScratch scratch;
  return scratch;
}

}  // namespace

void TfidfModel::transform(std::string_view text, Embedding& out) const {
  TransformScratch& scratch = transform_scratch();
  auto& counts = scratch.counts;
  auto& touched = scratch.touched;
  auto& batch = scratch.batch;
  if (counts.size() < size())
    counts.resize(size());
  touched.reserve(size());
  size_t distinct = 0;
  auto count_batch = [&] {
    // Term ids first, prefetching their counters, then the counts.
    // Stop words never enter the vocabulary, so no filter is needed here.
    size_t known = 0;
    for (size_t i = 0; i < batch.size; ++i) {
      auto id = terms_.find(batch.tokens[i], batch.probes[i]);
      batch.ids[known] = id;
      __builtin_prefetch(counts.data() + (id != TermIndex::npos ? id : 0));
      known += id != TermIndex::npos;
    }
    for (size_t i = 0; i < known; ++i)
      if (counts[batch.ids[i]]++ == 0) {
        touched.insert(batch.ids[i]);
        ++distinct;
      }
    batch.size = 0;
  };
  scratch.tokenizer.for_each_token(text, [&](std::string_view token) {
    if (batch.push(token, terms_))
      count_batch();
  });
  count_batch();
  out.sparse = true;
  out.dim = size();
  out.indices.resize(distinct);
  out.values.resize(distinct);
  touched.drain(out.indices.data());
  double sum_sq = 0;
  for (auto id : out.indices) {
    double w = static_cast<double>(counts[id]) * idf_[id];
    sum_sq += w * w;
  }
  double norm = sum_sq > 0 ? std::sqrt(sum_sq) : 1.0;
  for (size_t i = 0; i < distinct; ++i) {
    auto id = out.indices[i];
    out.values[i] = static_cast<float>(static_cast<double>(counts[id]) * idf_[id] / norm);
    counts[id] = 0;  // leave the scratch clean for the next document
  }
}

caf::error TfidfModel::save(const std::string& path) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path target{path};
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec)
      return io_error(
        path, "cannot create directory " + target.parent_path().string() + ": " + ec.message());
  }
  // Written whole beside the target and renamed over it: readers see the
  // old or the new model, never half a file, and a failed save (a full disk)
  // leaves no temporary file behind.
  std::string out;
  Value header = Value::object();
  header["options"] = options_.to_value();
  header["documents"] = static_cast<int64_t>(documents_);
  header["terms"] = static_cast<int64_t>(size());
  out.append(file_magic).append("\n").append(to_json(header)).append("\n");
  // Terms are runs of word characters: never whitespace, so "df term" lines
  // need no escaping.
  for (uint32_t i = 0; i < size(); ++i)
    out.append(std::to_string(dfs_[i])).append(" ").append(term(i)).append("\n");
  out.append("end\n");
  if (auto err = write_file_atomically(path, out))
    return make_error(errc::io_error, "TF-IDF model " + error_message(err));
  return {};
}

caf::expected<std::shared_ptr<const TfidfModel>> TfidfModel::load(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    if (!std::filesystem::exists(path))
      return make_error(errc::not_found, "TF-IDF model " + path + " does not exist");
    return io_error(path, "cannot open");
  }
  std::string line;
  if (!std::getline(in, line) || line != file_magic)
    return io_error(path, "line 1: expected \"" + std::string{file_magic} + "\"");
  if (!std::getline(in, line))
    return io_error(path, "line 2: missing header");
  auto header = parse_json(line);
  if (!header || !header->is_object())
    return io_error(path, "line 2: malformed header");
  auto options = TfidfOptions::from_value(
    header->find("options") ? *header->find("options") : Value{}, path + ": options");
  if (!options)
    return options.error();
  int64_t documents = header->get_int("documents", -1);
  int64_t count = header->get_int("terms", -1);
  if (documents < 0 || count < 0)
    return io_error(path, "line 2: header lacks documents or terms");
  TermIndex terms;
  terms.reserve(static_cast<size_t>(count));
  std::vector<uint32_t> dfs;
  dfs.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    auto where = "line " + std::to_string(i + 3);
    if (!std::getline(in, line))
      return io_error(path, where + ": truncated (expected " + std::to_string(count) + " terms)");
    auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size())
      return io_error(path, where + ": expected \"<df> <term>\"");
    uint64_t df = 0;
    for (size_t k = 0; k < space; ++k) {
      if (line[k] < '0' || line[k] > '9')
        return io_error(path, where + ": bad document frequency");
      df = df * 10 + static_cast<uint64_t>(line[k] - '0');
    }
    std::string_view term{line.data() + space + 1, line.size() - space - 1};
    if (terms.size() > 0 && !(terms.term(static_cast<uint32_t>(terms.size() - 1)) < term))
      return io_error(path, where + ": terms out of order or repeated");
    if (df == 0 || df > static_cast<uint64_t>(documents))
      return io_error(path, where + ": document frequency out of range");
    terms.insert(term);
    dfs.push_back(static_cast<uint32_t>(df));
  }
  if (!std::getline(in, line) || line != "end")
    return io_error(path, "line " + std::to_string(count + 3) + ": expected \"end\"");
  return std::make_shared<const TfidfModel>(std::move(*options), static_cast<uint64_t>(documents),
                                            std::move(terms), std::move(dfs));
}

// ---- TfidfFitter -----------------------------------------------------------

namespace {

// Sorts `v` by the 64-bit `key(x)`, stably: least significant byte first,
// skipping the bytes on which every key agrees.
template <class T, class Key>
void radix_sort(std::vector<T>& v, Key key) {
  std::array<std::array<size_t, 256>, 8> counts{};
  for (const T& x : v) {
    uint64_t k = key(x);
    for (size_t b = 0; b < 8; ++b)
      ++counts[b][(k >> (8 * b)) & 0xFF];
  }
  std::vector<T> tmp(v.size());
  for (size_t b = 0; b < 8; ++b) {
    auto& c = counts[b];
    if (std::find(c.begin(), c.end(), v.size()) != c.end())
      continue;  // one bucket holds everything
    size_t sum = 0;
    for (auto& n : c)
      sum += std::exchange(n, sum);
    for (const T& x : v)
      tmp[c[(key(x) >> (8 * b)) & 0xFF]++] = x;
    v.swap(tmp);
  }
}

}  // namespace

void TfidfFitter::add(std::string_view text) {
  ++documents_;
  auto& batch = *batch_;
  tokenizer_.for_each_token(text, [&](std::string_view token) {
    if (options_.english_stop_words && is_english_stop_word(token))
      return;
    if (batch.push(token, terms_))
      count_batch();
  });
  count_batch();
}

void TfidfFitter::count_batch() {
  auto& b = *batch_;
  // Term ids (most tokens are known terms: the inline lookup first, the
  // insert with its load-factor check only for new ones), prefetching the
  // counters of known ones; then the counts.
  for (size_t i = 0; i < b.size; ++i) {
    auto id = terms_.find(b.tokens[i], b.probes[i]);
    if (id == TermIndex::npos)
      id = terms_.insert(b.tokens[i], b.probes[i]);
    else if (id < counts_.size())  // not one inserted in this batch
      __builtin_prefetch(counts_.data() + id);
    b.ids[i] = id;
  }
  if (counts_.size() < terms_.size())
    counts_.resize(terms_.size());
  auto doc = static_cast<uint32_t>(documents_);
  for (size_t i = 0; i < b.size; ++i) {
    auto& c = counts_[b.ids[i]];
    c.tf += 1;
    if (c.last_doc != doc) {
      c.last_doc = doc;
      c.df += 1;
    }
  }
  b.size = 0;
}

caf::expected<std::shared_ptr<const TfidfModel>> TfidfFitter::finish() && {
  if (terms_.size() == 0)
    return make_error(errc::invalid_argument,
                      "empty vocabulary; perhaps the documents only contain stop words");
  double max_docs = options_.max_df.documents(documents_);
  double min_docs = options_.min_df.documents(documents_);
  if (max_docs < min_docs)
    return make_error(errc::invalid_argument, "max_df corresponds to < documents than min_df");
  // Sorted vocabulary: UTF-8 byte order is code point order, Python's order.
  // A radix sort on an 8-byte big-endian prefix (zero-padded) orders almost
  // every term; only runs of equal prefixes are then sorted by their bytes.
  struct Key {
    uint64_t prefix;
    uint32_t id;
    uint32_t df;
  };
  std::vector<Key> order(terms_.size());
  for (uint32_t id = 0; id < order.size(); ++id) {
    auto term = terms_.term(id);
    uint64_t prefix = 0;
    for (size_t k = 0; k < 8; ++k)
      prefix = (prefix << 8) | (k < term.size() ? static_cast<unsigned char>(term[k]) : 0u);
    order[id] = Key{prefix, id, counts_[id].df};
  }
  radix_sort(order, [](const Key& k) { return k.prefix; });
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && order[j].prefix == order[i].prefix)
      ++j;
    if (j - i > 1)
      std::sort(order.begin() + static_cast<ptrdiff_t>(i),
                order.begin() + static_cast<ptrdiff_t>(j),
                [&](const Key& a, const Key& b) { return terms_.term(a.id) < terms_.term(b.id); });
    i = j;
  }
  std::vector<uint32_t> kept;
  std::vector<uint32_t> kept_dfs;
  kept.reserve(order.size());
  kept_dfs.reserve(order.size());
  for (const auto& [prefix, id, df] : order) {
    if (df <= max_docs && df >= min_docs) {
      kept.push_back(id);
      kept_dfs.push_back(df);
    }
  }
  if (options_.max_features && kept.size() > static_cast<size_t>(*options_.max_features)) {
    // sklearn: (-tfs[mask]).argsort()[:limit], then back in vocabulary order.
    std::vector<int64_t> keys(kept.size());
    for (size_t i = 0; i < kept.size(); ++i)
      keys[i] = -static_cast<int64_t>(counts_[kept[i]].tf);
    auto ranked = numpy_argsort(keys);
    ranked.resize(static_cast<size_t>(*options_.max_features));
    std::sort(ranked.begin(), ranked.end());
    std::vector<uint32_t> top(ranked.size());
    std::vector<uint32_t> top_dfs(ranked.size());
    for (size_t i = 0; i < ranked.size(); ++i) {
      top[i] = kept[static_cast<size_t>(ranked[i])];
      top_dfs[i] = kept_dfs[static_cast<size_t>(ranked[i])];
    }
    kept = std::move(top);
    kept_dfs = std::move(top_dfs);
  }
  if (kept.empty())
    return make_error(errc::invalid_argument,
                      "After pruning, no terms remain. Try a lower min_df or a higher max_df.");
  return std::make_shared<const TfidfModel>(std::move(options_), documents_, terms_.select(kept),
                                            std::move(kept_dfs));
}

caf::expected<std::shared_ptr<const TfidfModel>> fit_jsonl(const std::string& path,
                                                           const TfidfOptions& options,
                                                           size_t batch) {
  auto reader = JsonlReader::open(path);
  if (!reader)
    return reader.error();
  TfidfFitter fitter{options};
  for (;;) {
    auto docs = reader->next(batch);
    if (!docs)
      return docs.error();
    if (docs->empty())
      break;
    for (const auto& doc : std::as_const(*docs))
      fitter.add(doc.text);
  }
  return std::move(fitter).finish();
}

std::vector<int64_t> numpy_argsort(const std::vector<int64_t>& keys) {
  std::vector<int64_t> idx(keys.size());
  std::iota(idx.begin(), idx.end(), 0);
  if (!idx.empty())
    numpy_aquicksort(keys.data(), idx.data(), static_cast<int64_t>(idx.size()));
  return idx;
}

}  // namespace caflow::tfidf
