#include "storage/doc_codec.hpp"

#include <cstring>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "caflow/errors.hpp"

namespace caflow {

namespace {

constexpr size_t embedding_header = 1 + 8 + 1 + 4 + 4;

template <class T>
void put(std::string& out, T x) {
  out.append(reinterpret_cast<const char*>(&x), sizeof(T));
}

template <class T>
T get(const char* at) {
  T x;
  std::memcpy(&x, at, sizeof(T));
  return x;
}

caf::error bad_record(const char* what, const std::string& why) {
  return make_error(errc::storage_error, std::string{"stored "} + what + " record: " + why);
}

caf::error check_version(std::string_view bytes, const char* what) {
  if (bytes.empty())
    return bad_record(what, "empty");
  if (static_cast<uint8_t>(bytes[0]) != doc_codec_version)
    return bad_record(what, "unknown format version "
                              + std::to_string(static_cast<uint8_t>(bytes[0])) + " (expected "
                              + std::to_string(doc_codec_version) + ")");
  return {};
}

}  // namespace

std::string encode_document(const Document& doc) {
  std::vector<char> buf;
  buf.push_back(static_cast<char>(doc_codec_version));
  caf::binary_serializer sink{nullptr, buf};
  // CAF's inspectors take non-const references for saving and loading alike;
  // a serializer only reads them.
  auto& d = const_cast<Document&>(doc);
  if (auto err = sink(d.id, d.parent_id, d.text, d.uri, d.blob, d.mime_type, d.tags, d.chunks))
    throw Error(errc::storage_error, "encoding document " + doc.id + ": " + describe(err));
  return std::string(buf.begin(), buf.end());
}

caf::expected<Document> decode_document(std::string_view bytes) {
  if (auto err = check_version(bytes, "document"))
    return err;
  Document d;
  caf::binary_deserializer source{nullptr, bytes.data() + 1, bytes.size() - 1};
  if (auto err = source(d.id, d.parent_id, d.text, d.uri, d.blob, d.mime_type, d.tags, d.chunks))
    return bad_record("document", describe(err));
  return d;
}

std::string encode_embedding(uint64_t label, const Embedding& v) {
  std::string out;
  out.reserve(embedding_header + v.indices.size() * 4 + v.values.size() * 4);
  put<uint8_t>(out, doc_codec_version);
  put<uint64_t>(out, label);
  put<uint8_t>(out, v.sparse ? 1 : 0);
  put<uint32_t>(out, v.dimension());
  put<uint32_t>(out, static_cast<uint32_t>(v.values.size()));
  if (v.sparse)
    out += pack_bytes(v.indices);
  out += pack_bytes(v.values);
  return out;
}

caf::expected<uint64_t> decode_label(std::string_view bytes) {
  if (auto err = check_version(bytes, "embedding"))
    return err;
  if (bytes.size() < embedding_header)
    return bad_record("embedding", "truncated header");
  return get<uint64_t>(bytes.data() + 1);
}

caf::expected<StoredEmbedding> decode_embedding(std::string_view bytes) {
  auto label = decode_label(bytes);
  if (!label)
    return label.error();
  StoredEmbedding out;
  out.label = *label;
  const char* p = bytes.data() + 9;
  bool sparse = get<uint8_t>(p) != 0;
  auto dim = get<uint32_t>(p + 1);
  auto count = get<uint32_t>(p + 5);
  p += 9;
  size_t need = embedding_header + size_t{count} * 4 * (sparse ? 2 : 1);
  if (bytes.size() != need)
    return bad_record(
      "embedding", "size " + std::to_string(bytes.size()) + " != expected " + std::to_string(need));
  auto& e = out.embedding;
  e.sparse = sparse;
  e.dim = dim;
  // An empty vector's data() may be null, and memcpy with a null pointer is
  // undefined even for 0 bytes (a sparse embedding with no non-zeros).
  if (count == 0)
    return out;
  if (sparse) {
    e.indices.resize(count);
    std::memcpy(e.indices.data(), p, size_t{count} * 4);
    p += size_t{count} * 4;
  }
  e.values.resize(count);
  std::memcpy(e.values.data(), p, size_t{count} * 4);
  return out;
}

}  // namespace caflow
