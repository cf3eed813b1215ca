#include "caflow/document.hpp"

#include <atomic>
#include <chrono>
#include <random>

#include "caflow/errors.hpp"

namespace caflow {

std::string new_document_id() {
  // A random per-process prefix plus a counter: unique across processes (with
  // overwhelming probability) and far cheaper than a random uuid per document.
  static const uint64_t prefix = [] {
    std::random_device rd;
    uint64_t seed = (uint64_t{rd()} << 32) ^ rd();
    return seed
           ^ static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  static std::atomic<uint64_t> counter{0};
  auto n = counter.fetch_add(1, std::memory_order_relaxed);
  // Both as 16 hex digits ("%016llx%016llx"), without snprintf's parsing
  // (it was most of the cost of decoding a document from protobuf).
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = hex[(prefix >> (4 * (15 - i))) & 15];
    out[static_cast<size_t>(16 + i)] = hex[(n >> (4 * (15 - i))) & 15];
  }
  return out;
}

Embedding Embedding::dense_vector(std::vector<float> values) {
  Embedding e;
  e.dim = static_cast<uint32_t>(values.size());
  e.values = std::move(values);
  return e;
}

Embedding Embedding::sparse_vector(uint32_t dim, std::vector<uint32_t> indices,
                                   std::vector<float> values) {
  if (indices.size() != values.size())
    throw Error(errc::invalid_argument, "sparse embedding: indices and values differ in length");
  for (size_t i = 0; i < indices.size(); ++i)
    if (indices[i] >= dim || (i > 0 && indices[i] <= indices[i - 1]))
      throw Error(errc::invalid_argument,
                  "sparse embedding: indices must increase and stay below dim");
  Embedding e;
  e.sparse = true;
  e.dim = dim;
  e.indices = std::move(indices);
  e.values = std::move(values);
  return e;
}

std::vector<float> Embedding::to_dense() const {
  if (!sparse)
    return values;
  std::vector<float> out(dim, 0.0f);
  for (size_t i = 0; i < indices.size(); ++i)
    out[indices[i]] = values[i];
  return out;
}

caf::error make_packing_error() {
  return make_error(errc::invalid_argument,
                    "embedding: packed bytes are not a whole number of elements");
}

double Document::score(const std::string& name, double fallback) const {
  auto i = scores.find(name);
  return i == scores.end() ? fallback : i->second;
}

DocumentArray& DocumentArray::operator=(const DocumentArray& other) {
  if (this != &other) {
    touch();
    docs_ = other.docs_;
  }
  return *this;
}

DocumentArray& DocumentArray::operator=(DocumentArray&& other) noexcept {
  touch();
  other.touch();
  docs_ = std::move(other.docs_);
  return *this;
}

void DocumentArray::append(DocumentArray other) {
  touch();
  if (docs_.empty()) {
    docs_ = std::move(other.docs_);
    return;
  }
  // No exact reserve here: appending in a loop must keep vector's geometric
  // growth, or every append reallocates and a long post turns quadratic.
  for (auto& d : other.docs_)
    docs_.emplace_back(std::move(d));
}

void DocumentArray::build_index() const {
  auto idx = std::make_unique<std::unordered_map<std::string_view, size_t>>();
  idx->reserve(docs_.size());
  for (size_t i = 0; i < docs_.size(); ++i)
    idx->emplace(docs_[i].id, i);  // emplace keeps the first of repeated ids
  index_ = std::move(idx);
}

const Document* DocumentArray::find(std::string_view id) const {
  // Small arrays: a scan beats building a hash table.
  if (docs_.size() <= 8) {
    for (const auto& d : docs_)
      if (d.id == id)
        return &d;
    return nullptr;
  }
  if (!index_)
    build_index();
  auto i = index_->find(id);
  return i == index_->end() ? nullptr : &docs_[i->second];
}

Document* DocumentArray::find(std::string_view id) {
  // Returning a mutable pointer lets the caller change the id: drop the index
  // after the lookup.
  auto* found = const_cast<Document*>(std::as_const(*this).find(id));
  touch();
  return found;
}

std::vector<std::string> DocumentArray::ids() const {
  std::vector<std::string> out;
  out.reserve(docs_.size());
  for (const auto& d : docs_)
    out.push_back(d.id);
  return out;
}

}  // namespace caflow
