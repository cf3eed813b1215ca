/// Documents: the data every request carries.
///
/// A `Document` follows Jina/DocArray: an id, content (text, uri, blob), tags,
/// an embedding (dense, or sparse with a dimension), named scores, and nested
/// `matches` and `chunks`. A `DocumentArray` is an ordered list of documents
/// with lookup by id. Both are plain values, serialisable through CAF (so they
/// cross nodes), JSON (caflow/json.hpp) and JSON Lines (caflow/jsonl.hpp).
///
///   caflow::DocumentArray docs;
///   auto& d = docs.emplace_back();   // d.id is a fresh unique id
///   d.text = "hello world";
///   d.embedding = caflow::Embedding::dense_vector({0.1f, 0.2f});
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "caflow/value.hpp"

namespace caflow {

/// A fresh unique document id: 32 hex digits, like Jina's uuid1 hex ids.
/// Thread-safe.
std::string new_document_id();

/// A dense or sparse vector. Dense: `values` holds every component and
/// `indices` is empty. Sparse: `indices` (strictly increasing) and `values`
/// hold the non-zero components and `dim` the dimension. Empty: no embedding.
struct Embedding {
  std::vector<float> values;      ///< dense components, or sparse non-zeros
  std::vector<uint32_t> indices;  ///< sparse positions (empty when dense)
  uint32_t dim = 0;               ///< the dimension (dense: values.size())
  bool sparse = false;            ///< true for a sparse vector

  /// A dense vector.
  static Embedding dense_vector(std::vector<float> values);
  /// A sparse vector; indices must be strictly increasing and below `dim`.
  static Embedding sparse_vector(uint32_t dim, std::vector<uint32_t> indices,
                                 std::vector<float> values);

  /// True when there is no embedding.
  [[nodiscard]] bool empty() const noexcept { return !sparse && values.empty(); }
  /// The vector's dimension (0 when empty).
  [[nodiscard]] uint32_t dimension() const noexcept {
    return sparse ? dim : static_cast<uint32_t>(values.size());
  }
  /// The dense form (sparse vectors are expanded).
  [[nodiscard]] std::vector<float> to_dense() const;

  friend bool operator==(const Embedding&, const Embedding&) = default;
};

/// Packs a vector of trivially copyable values into bytes and back. CAF 0.17
/// serialises a `std::vector<float>` element by element (~30 MB/s) but a byte
/// string in one copy (hundreds of MB/s), so vectors cross actors as bytes.
template <class T>
std::string pack_bytes(const std::vector<T>& xs) {
  std::string out(xs.size() * sizeof(T), '\0');
  if (!xs.empty())
    std::memcpy(out.data(), xs.data(), out.size());
  return out;
}

/// The inverse of pack_bytes; false when the size is not a multiple of T.
template <class T>
bool unpack_bytes(const std::string& bytes, std::vector<T>& out) {
  if (bytes.size() % sizeof(T) != 0)
    return false;
  out.resize(bytes.size() / sizeof(T));
  if (!bytes.empty())
    std::memcpy(out.data(), bytes.data(), bytes.size());
  return true;
}

caf::error make_packing_error();

/// CAF serialisation of an embedding, as packed bytes.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Embedding& x) {
  std::string values;
  std::string indices;
  if constexpr (Inspector::reads_state) {
    values = pack_bytes(x.values);
    indices = pack_bytes(x.indices);
  }
  return f(caf::meta::type_name("caflow::Embedding"), values, indices, x.dim, x.sparse,
           caf::meta::load_callback([&]() -> caf::error {
             if (!unpack_bytes(values, x.values) || !unpack_bytes(indices, x.indices))
               return make_packing_error();
             return {};
           }));
}

namespace detail {

/// True while CAF deserialises documents on this thread: their ids come from
/// the wire, so default construction skips generating one (~100 ns each,
/// paid twice per document per remote round trip otherwise).
inline thread_local bool deserializing_documents = false;

/// Sets deserializing_documents for its lifetime (nests).
class DeserializingDocuments {
 public:
  DeserializingDocuments() noexcept : previous_(deserializing_documents) {
    deserializing_documents = true;
  }
  ~DeserializingDocuments() { deserializing_documents = previous_; }
  DeserializingDocuments(const DeserializingDocuments&) = delete;
  DeserializingDocuments& operator=(const DeserializingDocuments&) = delete;

 private:
  bool previous_;
};

/// True for CAF inspectors that write into the object (deserialisers).
template <class Inspector, class = void>
struct writes_state : std::false_type {};
template <class Inspector>
struct writes_state<Inspector, std::void_t<decltype(Inspector::writes_state)>>
  : std::bool_constant<Inspector::writes_state> {};

}  // namespace detail

/// A document (see the file comment). Default-constructed documents get a
/// fresh unique id (except while being deserialised: the id comes along).
struct Document {
  Document() : id(detail::deserializing_documents ? std::string{} : new_document_id()) {}

  std::string id;                        ///< unique id (generated when absent)
  std::string parent_id;                 ///< id of the document this one is a chunk of
  std::string text;                      ///< text content
  std::string uri;                       ///< uri of the content
  std::string blob;                      ///< binary content (bytes; JSON: base64)
  std::string mime_type;                 ///< content type, e.g. "text/plain"
  Value tags = Value::object();          ///< free-form JSON-like metadata
  Embedding embedding;                   ///< dense or sparse vector
  std::map<std::string, double> scores;  ///< named scores, e.g. "cosine"
  std::vector<Document> matches;         ///< search results, best first
  std::vector<Document> chunks;          ///< sub-documents

  /// The score named `name`, or `fallback` when absent.
  [[nodiscard]] double score(const std::string& name, double fallback = 0) const;

  friend bool operator==(const Document&, const Document&) = default;
};

/// CAF serialisation of a document.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Document& x) {
  return f(caf::meta::type_name("caflow::Document"), x.id, x.parent_id, x.text, x.uri, x.blob,
           x.mime_type, x.tags, x.embedding, x.scores, x.matches, x.chunks);
}

/// An ordered list of documents with lookup by id.
///
/// Lookup builds a hash index on first use; any non-const access to the
/// documents invalidates it (an id may have changed), so interleaving
/// mutation and lookup costs a rebuild each time. Not thread-safe.
class DocumentArray {
 public:
  using iterator = std::vector<Document>::iterator;
  using const_iterator = std::vector<Document>::const_iterator;

  DocumentArray() = default;
  DocumentArray(std::vector<Document> docs) : docs_(std::move(docs)) {}
  DocumentArray(std::initializer_list<Document> docs) : docs_(docs) {}
  DocumentArray(const DocumentArray& other) : docs_(other.docs_) {}
  DocumentArray(DocumentArray&& other) noexcept : docs_(std::move(other.docs_)) {}
  DocumentArray& operator=(const DocumentArray& other);
  DocumentArray& operator=(DocumentArray&& other) noexcept;

  [[nodiscard]] size_t size() const noexcept { return docs_.size(); }
  [[nodiscard]] bool empty() const noexcept { return docs_.empty(); }
  void reserve(size_t n) { docs_.reserve(n); }
  void clear() {
    touch();
    docs_.clear();
  }

  Document& push_back(Document doc) {
    touch();
    return docs_.emplace_back(std::move(doc));
  }
  Document& emplace_back() {
    touch();
    return docs_.emplace_back();
  }
  /// Appends every document of `other`.
  void append(DocumentArray other);

  Document& operator[](size_t i) {
    touch();
    return docs_[i];
  }
  const Document& operator[](size_t i) const { return docs_[i]; }
  iterator begin() {
    touch();
    return docs_.begin();
  }
  iterator end() {
    touch();
    return docs_.end();
  }
  const_iterator begin() const { return docs_.begin(); }
  const_iterator end() const { return docs_.end(); }

  /// The document with id `id`, or nullptr. The first one when ids repeat.
  [[nodiscard]] const Document* find(std::string_view id) const;
  [[nodiscard]] Document* find(std::string_view id);
  /// True when a document with id `id` is present.
  [[nodiscard]] bool contains(std::string_view id) const { return find(id) != nullptr; }

  /// The documents as a vector (moves them out when called on an rvalue).
  [[nodiscard]] const std::vector<Document>& docs() const& noexcept { return docs_; }
  [[nodiscard]] std::vector<Document> docs() && {
    touch();
    return std::move(docs_);
  }

  /// The ids in order.
  [[nodiscard]] std::vector<std::string> ids() const;

  friend bool operator==(const DocumentArray& x, const DocumentArray& y) {
    return x.docs_ == y.docs_;
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, DocumentArray& x) {
    x.touch();
    if constexpr (detail::writes_state<Inspector>::value) {
      detail::DeserializingDocuments scope;
      return f(caf::meta::type_name("caflow::DocumentArray"), x.docs_);
    } else {
      return f(caf::meta::type_name("caflow::DocumentArray"), x.docs_);
    }
  }

 private:
  void touch() noexcept { index_.reset(); }
  void build_index() const;

  std::vector<Document> docs_;
  /// id -> position; built lazily by find().
  mutable std::unique_ptr<std::unordered_map<std::string_view, size_t>> index_;
};

}  // namespace caflow
