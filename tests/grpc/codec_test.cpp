// docarray 0.6's NdArrayProto and DocumentProto <-> caflow, without a server:
// every shape docarray writes, and the errors for what caflow cannot take.
#include <doctest/doctest.h>

#include <cstring>

#include "caflow/errors.hpp"
#include "grpc/ndarray.hpp"
#include "grpc/request_codec.hpp"
#include "grpc/struct_value.hpp"

using namespace caflow;
using namespace caflow::grpc_gateway;

namespace {

template <class T>
void fill(docarray::DenseNdArrayProto* a, std::vector<T> xs, std::vector<uint32_t> shape,
          const char* dtype) {
  a->set_buffer(std::string(reinterpret_cast<const char*>(xs.data()), xs.size() * sizeof(T)));
  for (auto s : shape)
    a->add_shape(s);
  a->set_dtype(dtype);
}

std::string error_of(const docarray::NdArrayProto& pb) {
  auto e = read_ndarray(pb, "doc.embedding");
  REQUIRE_FALSE(e);
  CHECK(is(e.error(), errc::invalid_argument));
  return error_message(e.error());
}

}  // namespace

TEST_CASE("ndarray: dense vectors in numpy's dtypes and shapes") {
  docarray::NdArrayProto f8;
  fill<double>(f8.mutable_dense(), {1.5, -2, 3}, {3}, "<f8");
  auto e = read_ndarray(f8, "e");
  REQUIRE(e);
  CHECK(e->values == std::vector<float>{1.5f, -2.f, 3.f});
  docarray::NdArrayProto row;
  fill<int64_t>(row.mutable_dense(), {4, 5}, {1, 2}, "<i8");
  e = read_ndarray(row, "e");
  REQUIRE(e);
  CHECK(e->values == std::vector<float>{4.f, 5.f});
  docarray::NdArrayProto u1;
  fill<uint8_t>(u1.mutable_dense(), {255, 0}, {2}, "|u1");
  CHECK(read_ndarray(u1, "e")->values == std::vector<float>{255.f, 0.f});
  docarray::NdArrayProto zeros;  // docarray reads a shape without buffer as zeros
  zeros.mutable_dense()->add_shape(3);
  CHECK(read_ndarray(zeros, "e")->values == std::vector<float>{0, 0, 0});
}

TEST_CASE("ndarray: scipy and torch sparse rows, unsorted and duplicated") {
  docarray::NdArrayProto scipy;
  scipy.set_cls_name("scipy");
  fill<int32_t>(scipy.mutable_sparse()->mutable_indices(), {0, 7, 0, 2, 0, 7}, {3, 2}, "<i4");
  fill<float>(scipy.mutable_sparse()->mutable_values(), {1, 2, 0.5f}, {3}, "<f4");
  scipy.mutable_sparse()->add_shape(1);
  scipy.mutable_sparse()->add_shape(10);
  auto e = read_ndarray(scipy, "e");
  REQUIRE(e);
  CHECK(*e == Embedding::sparse_vector(10, {2, 7}, {2.f, 1.5f}));
  docarray::NdArrayProto torch;
  torch.set_cls_name("torch");
  fill<int64_t>(torch.mutable_sparse()->mutable_indices(), {0, 0, 1, 4}, {2, 2}, "<i8");
  fill<double>(torch.mutable_sparse()->mutable_values(), {3, 4}, {2}, "<f8");
  torch.mutable_sparse()->add_shape(1);
  torch.mutable_sparse()->add_shape(5);
  e = read_ndarray(torch, "e");
  REQUIRE(e);
  CHECK(*e == Embedding::sparse_vector(5, {1, 4}, {3.f, 4.f}));
  // Written back as docarray writes a scipy row, and read again.
  docarray::NdArrayProto out;
  write_ndarray(*e, &out);
  CHECK(out.cls_name() == "scipy");
  CHECK(out.sparse().shape_size() == 2);
  CHECK(read_ndarray(out, "e").value() == *e);
}

TEST_CASE("ndarray: what caflow refuses, naming the field") {
  docarray::NdArrayProto complex;
  fill<float>(complex.mutable_dense(), {1, 2}, {1}, "<c8");
  CHECK(error_of(complex).find("doc.embedding: dtype '<c8'") == 0);
  docarray::NdArrayProto short_buffer;
  fill<float>(short_buffer.mutable_dense(), {1, 2}, {3}, "<f4");
  CHECK(error_of(short_buffer).find("buffer has 8 bytes") != std::string::npos);
  docarray::NdArrayProto matrix;
  fill<float>(matrix.mutable_dense(), {1, 2, 3, 4}, {2, 2}, "<f4");
  CHECK(error_of(matrix).find("not a vector") != std::string::npos);
  docarray::NdArrayProto huge;  // a few bytes must not allocate gigabytes
  huge.mutable_dense()->add_shape(1u << 31);
  huge.mutable_dense()->add_shape(1u << 31);
  CHECK(error_of(huge).find("elements") != std::string::npos);
  docarray::NdArrayProto outside;
  fill<int32_t>(outside.mutable_sparse()->mutable_indices(), {0, 10}, {1, 2}, "<i4");
  fill<float>(outside.mutable_sparse()->mutable_values(), {1}, {1}, "<f4");
  outside.mutable_sparse()->add_shape(1);
  outside.mutable_sparse()->add_shape(10);
  CHECK(error_of(outside).find("outside axis 1") != std::string::npos);
  docarray::NdArrayProto float_indices;
  fill<float>(float_indices.mutable_sparse()->mutable_indices(), {0, 1}, {1, 2}, "<f4");
  fill<float>(float_indices.mutable_sparse()->mutable_values(), {1}, {1}, "<f4");
  float_indices.mutable_sparse()->add_shape(1);
  float_indices.mutable_sparse()->add_shape(10);
  CHECK(error_of(float_indices).find("integer dtype") != std::string::npos);
}

TEST_CASE("documents and requests: fields, nesting, tags, refusals") {
  jina::DataRequestProto msg;
  msg.mutable_header()->set_request_id("r1");
  msg.mutable_header()->set_exec_endpoint("/search");
  (*msg.mutable_parameters()->mutable_fields())["top_k"].set_number_value(3);
  auto* d = msg.mutable_data()->mutable_docs()->add_docs();
  d->set_id("a");
  d->set_text("hello");
  d->set_mime_type("text/plain");
  (*d->mutable_tags()->mutable_fields())["group"].set_string_value("x");
  auto* m = d->add_matches();
  m->set_id("m");
  m->set_adjacency(1);
  (*m->mutable_scores())["cosine"].set_value(0.5f);
  auto req = decode_request(msg);
  REQUIRE(req);
  CHECK(req->id == "r1");
  CHECK(req->endpoint == "/search");
  CHECK(req->parameters.get_int("top_k", 0) == 3);
  REQUIRE(req->docs.size() == 1);
  CHECK(req->docs[0].text == "hello");
  CHECK(req->docs[0].tags.get_string("group", "") == "x");
  CHECK(req->docs[0].matches.at(0).score("cosine") == 0.5);

  Response resp;
  resp.docs = req->docs;
  resp.parameters = Params{{"count", 1}};
  auto ex = exchange_of(*req, 0);
  jina::DataRequestProto out;
  encode_response(std::move(resp), ex, &out);
  CHECK(out.header().request_id() == "r1");
  CHECK(out.parameters().fields().at("top_k").number_value() == 3);  // echoed
  CHECK(out.parameters().fields().at("count").number_value() == 1);
  CHECK(out.data().docs().docs(0).matches(0).adjacency() == 1);
  CHECK(out.routes(0).executor() == "gateway");

  jina::DataRequestProto failed;
  encode_error(make_error(errc::executor_failed, "upper/shard-0/replica-0: boom"), ex, &failed);
  CHECK(failed.header().status().code() == jina::StatusProto::ERROR);
  CHECK(failed.header().status().exception().executor() == "upper");
  CHECK(failed.header().status().exception().name() == "executor_failed");

  for (const char* field : {"weight", "location"}) {
    CAPTURE(field);
    jina::DataRequestProto bad;
    auto* b = bad.mutable_data()->mutable_docs()->add_docs();
    if (std::string{field} == "weight")
      b->set_weight(2);
    else
      b->add_location(1);
    auto r = decode_request(bad);
    REQUIRE_FALSE(r);
    CHECK(error_message(r.error()).find(std::string{"data.docs[0]."} + field) == 0);
  }
}

TEST_CASE("decoding: a tensor stands in for a missing embedding, as over HTTP") {
  auto dense = [](docarray::NdArrayProto* a, std::vector<float> xs) {
    auto n = static_cast<uint32_t>(xs.size());
    fill<float>(a->mutable_dense(), std::move(xs), {n}, "<f4");
  };
  jina::DataRequestProto msg;
  auto* docs = msg.mutable_data()->mutable_docs();
  dense(docs->add_docs()->mutable_tensor(), {1.f, 2.f, 3.f});
  auto* match = docs->add_docs()->add_matches();  // nested too
  dense(match->mutable_tensor(), {0.5f});
  auto r = decode_request(msg);
  REQUIRE(r);
  REQUIRE(r->docs.size() == 2);
  CHECK(r->docs[0].embedding.dim == 3);
  CHECK(r->docs[0].embedding.values == std::vector<float>{1.f, 2.f, 3.f});
  REQUIRE(r->docs[1].matches.size() == 1);
  CHECK(r->docs[1].matches[0].embedding.values == std::vector<float>{0.5f});

  // An embedding and a tensor: one would be dropped, so both are refused.
  jina::DataRequestProto both;
  auto* b = both.mutable_data()->mutable_docs()->add_docs();
  dense(b->mutable_tensor(), {1.f});
  dense(b->mutable_embedding(), {2.f});
  auto refused = decode_request(both);
  REQUIRE_FALSE(refused);
  CHECK(error_message(refused.error()).find("data.docs[0].tensor") == 0);

  // A bad tensor is named as the tensor.
  jina::DataRequestProto bad;
  auto* short_buffer = bad.mutable_data()->mutable_docs()->add_docs()->mutable_tensor();
  fill<float>(short_buffer->mutable_dense(), {1, 2}, {3}, "<f4");
  auto damaged = decode_request(bad);
  REQUIRE_FALSE(damaged);
  CHECK(error_message(damaged.error()).find("data.docs[0].tensor") == 0);
}

TEST_CASE(
  "decoding keeps the documents' ids, makes one only where none came, names nested errors") {
  jina::DataRequestProto msg;
  msg.mutable_header()->set_request_id("r");
  auto* docs = msg.mutable_data()->mutable_docs();
  for (int i = 0; i < 50; ++i) {
    auto* d = docs->add_docs();
    d->set_id("d" + std::to_string(i));
    d->add_chunks()->set_id("c" + std::to_string(i));
  }
  docs->add_docs()->set_text("no id");
  // new_document_id() is a prefix and a counter: count the ids made meanwhile.
  auto counter = [](const std::string& id) { return std::stoull(id.substr(16), nullptr, 16); };
  auto before = counter(new_document_id());
  auto req = decode_request(msg);
  auto after = counter(new_document_id());
  REQUIRE(req);
  CHECK(after - before == 2);  // the one without an id, and `after` itself
  REQUIRE(req->docs.size() == 51);
  CHECK(req->docs[7].id == "d7");
  CHECK(req->docs[7].chunks.at(0).id == "c7");
  CHECK(req->docs[50].id.size() == 32);
  CHECK(req->docs[50].text == "no id");
  CHECK_FALSE(Document{}.id.empty());  // outside decoding, fresh ids again

  jina::DataRequestProto bad;
  auto* b = bad.mutable_data()->mutable_docs();
  b->add_docs();
  b->add_docs()->add_matches()->add_chunks()->set_weight(1);
  auto r = decode_request(bad);
  REQUIRE_FALSE(r);
  CHECK(error_message(r.error()).find("data.docs[1].matches[0].chunks[0].weight: ") == 0);
}

TEST_CASE("document ids are a prefix and a counter in 32 lowercase hex digits") {
  auto a = new_document_id();
  auto b = new_document_id();
  REQUIRE(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a.substr(0, 16) == b.substr(0, 16));
  CHECK(std::stoull(b.substr(16), nullptr, 16) == std::stoull(a.substr(16), nullptr, 16) + 1);
}

TEST_CASE("Struct <-> Value keeps nesting, lists and nulls") {
  Value v{
    {"a", 1}, {"b", Value::Array{Value{"x"}, Value{true}, Value{}}}, {"c", Value{{"d", 2.5}}}};
  google::protobuf::Struct s;
  to_struct(v, &s);
  auto back = from_struct(s);
  CHECK(back.get_int("a", 0) == 1);
  CHECK(back.find("b")->as_array().at(2).is_null());
  CHECK(back.find("c")->get_double("d", 0) == 2.5);
}
