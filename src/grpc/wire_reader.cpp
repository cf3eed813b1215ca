#include "grpc/wire_reader.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/support/slice.h>

#include <google/protobuf/struct.pb.h>

#include "docarray.pb.h"
#include "grpc/ndarray.hpp"
#include "grpc/struct_value.hpp"

namespace caflow::grpc_gateway {

namespace {

enum WireType : uint32_t { varint_type = 0, fixed64_type = 1, len_type = 2, fixed32_type = 5 };

// Deeper nesting of matches and chunks goes to the generated classes (whose
// own limit is 100 messages).
constexpr int max_depth = 32;

// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF), at least as strict as protobuf's check of proto3 strings: a
// string this accepts, protobuf accepts.
bool valid_utf8(std::string_view s) {
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  auto* end = p + s.size();
  while (p < end) {
    // ASCII eight bytes at a time.
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= n)
      return false;
    if (p[1] < lo || p[1] > hi)
      return false;
    for (size_t k = 2; k <= n; ++k)
      if (p[k] < 0x80 || p[k] > 0xBF)
        return false;
    p += n + 1;
  }
  return true;
}

// A cursor over one message's bytes. Every read returns false on bytes
// that are damaged or that it does not take: the caller gives up.
struct Cursor {
  const char* p;
  const char* end;

  [[nodiscard]] bool done() const { return p == end; }

  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p == end)
        return false;
      auto b = static_cast<uint8_t>(*p++);
      if (shift == 63 && b > 1)
        return false;  // over 64 bits (protobuf would truncate: let it)
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (b < 0x80)
        return true;
    }
    return false;
  }

  // A field's tag: its number (never 0) and wire type.
  bool tag(uint32_t& field, uint32_t& type) {
    uint64_t t = 0;
    if (!varint(t) || t > 0xFFFFFFFFull)
      return false;
    field = static_cast<uint32_t>(t >> 3);
    type = static_cast<uint32_t>(t & 7);
    return field != 0;
  }

  // The payload of a length-delimited field.
  bool bytes(std::string_view& out) {
    uint64_t n = 0;
    if (!varint(n) || n > static_cast<uint64_t>(end - p) || n > 0x7FFFFFFFull)
      return false;
    out = {p, static_cast<size_t>(n)};
    p += n;
    return true;
  }

  bool string(std::string_view& out) { return bytes(out) && valid_utf8(out); }

  // A field caflow ignores but protobuf would still check.
  bool skip(uint32_t type) {
    uint64_t v = 0;
    std::string_view s;
    switch (type) {
      case varint_type:
        return varint(v);
      case len_type:
        return bytes(s);
      case fixed64_type:
        if (end - p < 8)
          return false;
        p += 8;
        return true;
      case fixed32_type:
        if (end - p < 4)
          return false;
        p += 4;
        return true;
      default:  // groups, or invalid
        return false;
    }
  }

  static Cursor of(std::string_view s) { return {s.data(), s.data() + s.size()}; }
};

// Appends a field (tag, length and payload) to `out`, as protobuf wrote it.
void keep_field(std::string& out, const char* tag_start, const char* end) {
  out.append(tag_start, static_cast<size_t>(end - tag_start));
}

bool read_document(std::string_view bytes, Document& d, int depth);

bool read_documents(std::string_view bytes, std::vector<Document>& out, int depth) {
  if (depth > max_depth)
    return false;
  auto c = Cursor::of(bytes);
  while (!c.done()) {
    uint32_t field = 0, type = 0;
    std::string_view doc;
    if (!c.tag(field, type) || field != 1 || type != len_type || !c.bytes(doc))
      return false;
    if (!read_document(doc, out.emplace_back(), depth))
      return false;
  }
  return true;
}

// Embeddings, tags and scores, by the generated classes (see the header).
bool read_rest(const std::string& rest, Document& d) {
  docarray::DocumentProto pb;
  if (!pb.ParseFromString(rest))
    return false;
  if (pb.has_tags())
    d.tags = from_struct(pb.tags());
  if (pb.has_embedding()) {
    auto e = read_ndarray(pb.embedding(), "embedding");
    if (!e)
      return false;
    d.embedding = std::move(*e);
  }
  for (const auto& [name, score] : pb.scores())
    d.scores[name] = score.value();
  return true;
}

bool read_document(std::string_view bytes, Document& d, int depth) {
  auto c = Cursor::of(bytes);
  std::string rest;
  while (!c.done()) {
    const char* start = c.p;
    uint32_t field = 0, type = 0;
    if (!c.tag(field, type))
      return false;
    std::string_view s;
    switch (field) {
      case 1:   // id
      case 4:   // text
      case 7:   // parent_id
      case 9:   // uri
      case 11:  // mime_type
        if (type != len_type || !c.string(s))
          return false;
        if (field == 1) {
          d.id.assign(s);
        } else if (field == 4) {  // content is a oneof: the last one set wins
          d.text.assign(s);
          d.blob.clear();
        } else {
          (field == 7 ? d.parent_id : field == 9 ? d.uri : d.mime_type).assign(s);
        }
        break;
      case 2:  // blob
        if (type != len_type || !c.bytes(s))
          return false;
        d.blob.assign(s);
        d.text.clear();
        break;
      case 5:  // granularity and adjacency follow from the nesting
      case 6:
        if (type != varint_type || !c.skip(type))
          return false;
        break;
      case 14:  // chunks
      case 15:  // matches
        if (type != len_type || !c.bytes(s) || depth + 1 > max_depth)
          return false;
        if (!read_document(s, (field == 14 ? d.chunks : d.matches).emplace_back(), depth + 1))
          return false;
        break;
      case 16:  // embedding
      case 17:  // tags
      case 18:  // scores
        if (type != len_type || !c.bytes(s))
          return false;
        keep_field(rest, start, c.p);
        break;
      default:  // what caflow refuses, and unknown fields
        return false;
    }
  }
  if (!rest.empty() && !read_rest(rest, d))
    return false;
  if (d.id.empty())
    d.id = new_document_id();
  return true;
}

struct Header {
  std::string_view request_id;
  std::string_view exec_endpoint;
  std::string_view target_executor;
  bool has_exec_endpoint = false;
};

bool read_header(std::string_view bytes, Header& h) {
  auto c = Cursor::of(bytes);
  while (!c.done()) {
    uint32_t field = 0, type = 0;
    if (!c.tag(field, type))
      return false;
    switch (field) {
      case 1:
      case 3:
      case 4: {
        std::string_view s;
        if (type != len_type || !c.string(s))
          return false;
        if (field == 1) {
          h.request_id = s;
        } else if (field == 3) {
          h.exec_endpoint = s;
          h.has_exec_endpoint = true;
        } else {
          h.target_executor = s;
        }
        break;
      }
      case 5:  // timeout
        if (type != varint_type || !c.skip(type))
          return false;
        break;
      default:  // status, unknown fields
        return false;
    }
  }
  return true;
}

// DataContentProto: docs (a DocumentArrayProto) only.
bool read_data(std::string_view bytes, std::vector<Document>& docs) {
  auto c = Cursor::of(bytes);
  while (!c.done()) {
    uint32_t field = 0, type = 0;
    std::string_view array;
    if (!c.tag(field, type) || field != 1 || type != len_type || !c.bytes(array))
      return false;
    // DocumentArrayProto: field 1, the documents; count them first.
    auto scan = Cursor::of(array);
    size_t n = 0;
    while (!scan.done()) {
      uint32_t f = 0, t = 0;
      if (!scan.tag(f, t) || f != 1 || t != len_type || !scan.skip(t))
        return false;
      ++n;
    }
    docs.reserve(docs.size() + n);
    if (!read_documents(array, docs, 0))
      return false;
  }
  return true;
}

bool read(std::string_view bytes, Request& req) {
  auto c = Cursor::of(bytes);
  Header h;
  std::string params;  // every occurrence: they merge
  bool has_params = false;
  std::vector<Document> docs;
  while (!c.done()) {
    uint32_t field = 0, type = 0;
    std::string_view s;
    if (!c.tag(field, type) || type != len_type || !c.bytes(s))
      return false;
    switch (field) {
      case 1:
        if (!read_header(s, h))
          return false;
        break;
      case 2:
        params.append(s);
        has_params = true;
        break;
      case 4:
        if (!read_data(s, docs))
          return false;
        break;
      default:  // routes, unknown fields
        return false;
    }
  }
  if (has_params) {
    google::protobuf::Struct pb;
    if (!pb.ParseFromString(params))
      return false;
    req.parameters = from_struct(pb);
  }
  req.id = h.request_id.empty() ? new_document_id() : std::string{h.request_id};
  req.endpoint = h.has_exec_endpoint && !h.exec_endpoint.empty() ? std::string{h.exec_endpoint}
                                                                 : std::string{"/"};
  req.target_executor = std::string{h.target_executor};
  req.docs = DocumentArray{std::move(docs)};
  return true;
}

}  // namespace

std::optional<Request> read_request(const grpc::ByteBuffer& in) {
  grpc::Slice slice;  // empty for an empty message
  if (in.Length() > 0 && !in.TrySingleSlice(&slice).ok() && !in.DumpToSingleSlice(&slice).ok())
    return std::nullopt;
  // Documents made here start without an id (see from_proto).
  detail::DeserializingDocuments no_fresh_ids;
  Request req;
  if (!read({reinterpret_cast<const char*>(slice.begin()), slice.size()}, req))
    return std::nullopt;
  return req;
}

}  // namespace caflow::grpc_gateway
