#include "grpc/wire_writer.hpp"

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <grpc/slice.h>
#include <grpcpp/support/slice.h>

#include <google/protobuf/struct.pb.h>

#include "docarray.pb.h"
#include "grpc/ndarray.hpp"
#include "grpc/struct_value.hpp"

namespace caflow::grpc_gateway {

namespace {

enum WireType : uint32_t { varint_type = 0, len_type = 2, fixed32_type = 5 };

size_t varint_size(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7)
    ++n;
  return n;
}

size_t tag_size(uint32_t field) {
  return varint_size(field << 3);
}

// A length-delimited field of `len` bytes, tag and length included.
size_t len_field(uint32_t field, size_t len) {
  return tag_size(field) + varint_size(len) + len;
}

size_t string_field(uint32_t field, std::string_view s) {
  return s.empty() ? 0 : len_field(field, s.size());
}

size_t varint_field(uint32_t field, uint64_t v) {
  return v == 0 ? 0 : tag_size(field) + varint_size(v);
}

// google.protobuf.Timestamp of a time in µs since the epoch, as set_time.
struct Time {
  int64_t seconds;
  int32_t nanos;
};

Time time_of(int64_t us) {
  auto secs = us / 1000000;
  auto frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  return {secs, static_cast<int32_t>(frac * 1000)};
}

size_t time_body(Time t) {
  // int32 fields are sign-extended to 64 bits on the wire.
  return varint_field(1, static_cast<uint64_t>(t.seconds))
         + varint_field(2, static_cast<uint64_t>(static_cast<int64_t>(t.nanos)));
}

uint32_t float_bits(double v) {
  auto f = static_cast<float>(v);
  uint32_t bits = 0;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// What the sizing pass leaves for the writing pass: the body size of every
// nested message in the order they are written, and the bytes of the parts
// built with the generated classes (tags, sparse embeddings, parameters).
struct Plan {
  std::vector<size_t> sizes;
  std::vector<std::string> pieces;
  size_t next_size = 0;
  size_t next_piece = 0;

  size_t reserve() {
    sizes.push_back(0);
    return sizes.size() - 1;
  }
};

size_t dense_body(const Embedding& e) {
  auto n = static_cast<uint32_t>(e.values.size());
  return len_field(1, e.values.size() * sizeof(float))  // buffer
         + len_field(2, varint_size(n))                 // shape, packed
         + len_field(3, 3);                             // dtype "<f4"
}

size_t embedding_body(const Embedding& e, Plan& plan) {
  if (e.sparse) {
    docarray::NdArrayProto pb;
    write_ndarray(e, &pb);
    plan.pieces.push_back(pb.SerializeAsString());
    return plan.pieces.back().size();
  }
  return len_field(1, dense_body(e)) + len_field(3, 5);  // dense, cls_name "numpy"
}

size_t score_entry(const std::string& name, double value) {
  // A map entry: key and value are always written.
  size_t score = float_bits(value) != 0 ? tag_size(1) + 4 : 0;
  return len_field(1, name.size()) + len_field(2, score);
}

size_t doc_body(const Document& d, uint32_t granularity, uint32_t adjacency, Plan& plan) {
  size_t n = string_field(1, d.id);
  if (!d.blob.empty())
    n += string_field(2, d.blob);
  else
    n += string_field(4, d.text);
  n += varint_field(5, granularity) + varint_field(6, adjacency);
  n += string_field(7, d.parent_id) + string_field(9, d.uri) + string_field(11, d.mime_type);
  for (const auto& c : d.chunks) {
    auto slot = plan.reserve();
    auto body = doc_body(c, granularity + 1, adjacency, plan);
    plan.sizes[slot] = body;
    n += len_field(14, body);
  }
  for (const auto& m : d.matches) {
    auto slot = plan.reserve();
    auto body = doc_body(m, granularity, adjacency + 1, plan);
    plan.sizes[slot] = body;
    n += len_field(15, body);
  }
  if (!d.embedding.empty())
    n += len_field(16, embedding_body(d.embedding, plan));
  if (d.tags.is_object() && d.tags.size() > 0) {
    google::protobuf::Struct tags;
    to_struct(d.tags, &tags);
    plan.pieces.push_back(tags.SerializeAsString());
    n += len_field(17, plan.pieces.back().size());
  }
  for (const auto& [name, value] : d.scores)
    n += len_field(18, score_entry(name, value));
  return n;
}

size_t route_body(const std::string& executor, int64_t start, int64_t end,
                  const std::string& error) {
  size_t n = string_field(1, executor);
  n += len_field(2, time_body(time_of(start))) + len_field(3, time_body(time_of(end)));
  if (!error.empty())
    n += len_field(4, varint_field(1, jina::StatusProto::ERROR) + string_field(2, error));
  return n;
}

size_t header_body(const Exchange& ex) {
  return string_field(1, ex.request_id) + len_field(3, ex.endpoint.size())
         + string_field(4, ex.target_executor);
}

// The writing pass: bytes into a buffer sized by the sizing pass.
class Writer {
 public:
  Writer(char* p, Plan& plan) : p_(p), plan_(plan) {}

  char* end() const { return p_; }

  void varint(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void tag(uint32_t field, WireType type) { varint((field << 3) | type); }
  void len(uint32_t field, size_t n) {
    tag(field, len_type);
    varint(n);
  }
  void raw(std::string_view s) {
    if (!s.empty())
      std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void bytes(uint32_t field, std::string_view s) {
    len(field, s.size());
    raw(s);
  }
  void string(uint32_t field, std::string_view s) {
    if (!s.empty())
      bytes(field, s);
  }
  void number(uint32_t field, uint64_t v) {
    if (v != 0) {
      tag(field, varint_type);
      varint(v);
    }
  }
  void fixed32(uint32_t field, uint32_t bits) {
    tag(field, fixed32_type);
    std::memcpy(p_, &bits, 4);  // little-endian, as x86 and the wire
    p_ += 4;
  }
  void time(uint32_t field, Time t) {
    len(field, time_body(t));
    number(1, static_cast<uint64_t>(t.seconds));
    number(2, static_cast<uint64_t>(static_cast<int64_t>(t.nanos)));
  }
  void piece(uint32_t field) { bytes(field, plan_.pieces[plan_.next_piece++]); }

  void embedding(const Embedding& e) {
    if (e.sparse) {
      piece(16);
      return;
    }
    auto dense = dense_body(e);
    len(16, len_field(1, dense) + len_field(3, 5));
    len(1, dense);
    bytes(1, std::string_view{reinterpret_cast<const char*>(e.values.data()),
                              e.values.size() * sizeof(float)});
    auto n = static_cast<uint32_t>(e.values.size());
    len(2, varint_size(n));
    varint(n);
    bytes(3, "<f4");
    bytes(3, "numpy");
  }

  void doc(uint32_t field, const Document& d, uint32_t granularity, uint32_t adjacency) {
    len(field, plan_.sizes[plan_.next_size++]);
    string(1, d.id);
    if (!d.blob.empty())
      bytes(2, d.blob);
    else
      string(4, d.text);
    number(5, granularity);
    number(6, adjacency);
    string(7, d.parent_id);
    string(9, d.uri);
    string(11, d.mime_type);
    for (const auto& c : d.chunks)
      doc(14, c, granularity + 1, adjacency);
    for (const auto& m : d.matches)
      doc(15, m, granularity, adjacency + 1);
    if (!d.embedding.empty())
      embedding(d.embedding);
    if (d.tags.is_object() && d.tags.size() > 0)
      piece(17);
    for (const auto& [name, value] : d.scores) {
      len(18, score_entry(name, value));
      bytes(1, name);
      auto bits = float_bits(value);
      len(2, bits != 0 ? tag_size(1) + 4 : 0);
      if (bits != 0)
        fixed32(1, bits);
    }
  }

  void route(const std::string& executor, int64_t start, int64_t end, const std::string& error) {
    len(3, route_body(executor, start, end, error));
    string(1, executor);
    time(2, time_of(start));
    time(3, time_of(end));
    if (!error.empty()) {
      len(4, varint_field(1, jina::StatusProto::ERROR) + string_field(2, error));
      number(1, jina::StatusProto::ERROR);
      string(2, error);
    }
  }

 private:
  char* p_;
  Plan& plan_;
};

}  // namespace

grpc::ByteBuffer write_response(const Response& resp, const Exchange& ex) {
  // Sizes first.
  Plan plan;
  google::protobuf::Struct params;
  to_struct(response_parameters(resp, ex), &params);
  plan.pieces.push_back(params.SerializeAsString());
  size_t docs = 0;
  plan.sizes.reserve(resp.docs.size());
  for (const auto& d : resp.docs) {
    auto slot = plan.reserve();
    auto body = doc_body(d, 0, 0, plan);
    plan.sizes[slot] = body;
    docs += len_field(1, body);
  }
  size_t total = len_field(1, header_body(ex)) + len_field(2, plan.pieces[0].size());
  total += len_field(3, route_body("gateway", ex.start_us, ex.end_us, ""));
  for (const auto& r : resp.routes)
    total += len_field(3, route_body(r.executor, r.start_us, r.end_us, r.status));
  auto docs_field = len_field(1, docs);  // DataContentProto.docs
  total += len_field(4, docs_field);

  // Then the bytes, into one slice.
  grpc_slice slice = grpc_slice_malloc(total);
  Writer w{reinterpret_cast<char*>(GRPC_SLICE_START_PTR(slice)), plan};
  w.len(1, header_body(ex));
  w.string(1, ex.request_id);
  w.bytes(3, ex.endpoint);
  w.string(4, ex.target_executor);
  w.piece(2);
  w.route("gateway", ex.start_us, ex.end_us, "");
  for (const auto& r : resp.routes)
    w.route(r.executor, r.start_us, r.end_us, r.status);
  w.len(4, docs_field);
  w.len(1, docs);
  for (const auto& d : resp.docs)
    w.doc(1, d, 0, 0);
  // The sizing and writing passes mirror each other; a mismatch would be a
  // bug here, never the client's.
  auto written = static_cast<size_t>(w.end()
                                     - reinterpret_cast<char*>(GRPC_SLICE_START_PTR(slice)));
  if (written != total)
    std::abort();
  grpc::Slice out{slice, grpc::Slice::STEAL_REF};
  return grpc::ByteBuffer{&out, 1};
}

}  // namespace caflow::grpc_gateway
