// The gRPC gateway's own wire codec (grpc/wire_writer, grpc/wire_reader)
// against the generated classes, on random requests and answers: every
// field caflow reads or writes, sparse and dense embeddings, tags, scores,
// nested matches and chunks; and, for the reader, damaged bytes.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include <google/protobuf/util/message_differencer.h>

#include "caflow/errors.hpp"
#include "grpc/core.hpp"
#include "grpc/request_codec.hpp"
#include "grpc/wire_writer.hpp"

using namespace caflow;
using namespace caflow::grpc_gateway;

namespace {

struct Random {
  std::mt19937_64 gen;
  explicit Random(uint64_t seed) : gen(seed) {}

  size_t below(size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>{0, n - 1}(gen);
  }
  bool chance(double p) { return std::bernoulli_distribution{p}(gen); }

  // Mostly ASCII, some multi-byte UTF-8, sometimes empty or long.
  std::string text() {
    static const char* const pieces[] = {"a",    "hello", " ", "é",  "日本",
                                         "🙂", "\n",    "0", "\"", "/"};
    std::string s;
    auto n = chance(0.1) ? 0 : chance(0.1) ? 200 : below(12);
    for (size_t i = 0; i < n; ++i)
      s += pieces[below(std::size(pieces))];
    return s;
  }
  std::string bytes() {
    std::string s(below(40), '\0');
    for (auto& c : s)
      c = static_cast<char>(below(256));
    return s;
  }
  Value value(int depth) {
    switch (below(depth > 2 ? 4 : 6)) {
      case 0:
        return Value{};
      case 1:
        return Value{chance(0.5)};
      case 2:
        return Value{static_cast<double>(below(1000)) / 8 - 50};
      case 3:
        return Value{text()};
      case 4: {
        Value::Array items;
        for (size_t i = below(4); i > 0; --i)
          items.push_back(value(depth + 1));
        return Value{std::move(items)};
      }
      default:
        return object(depth + 1);
    }
  }
  Value object(int depth) {
    Value v = Value::object();
    for (size_t i = below(4); i > 0; --i)
      v[text()] = value(depth);
    return v;
  }
  Embedding embedding() {
    if (chance(0.5)) {
      std::vector<float> xs(1 + below(8));
      for (auto& x : xs)
        x = static_cast<float>(below(2000)) / 100 - 10;
      return Embedding::dense_vector(std::move(xs));
    }
    uint32_t dim = chance(0.1) ? 3000000000u : 1 + static_cast<uint32_t>(below(100));
    std::vector<uint32_t> idx;
    std::vector<float> vals;
    for (uint32_t i = 0; i < dim && idx.size() < 6;
         i += 1 + static_cast<uint32_t>(below(dim / 4 + 1))) {
      idx.push_back(i);
      vals.push_back(static_cast<float>(below(100)) / 10 + 0.5f);
    }
    return Embedding::sparse_vector(dim, std::move(idx), std::move(vals));
  }
  Document document(int depth) {
    Document d;
    if (chance(0.1))
      d.id.clear();
    else if (chance(0.3))
      d.id = text();
    if (chance(0.3))
      d.blob = bytes();
    else if (chance(0.8))
      d.text = text();
    if (chance(0.2))
      d.parent_id = text();
    if (chance(0.2))
      d.uri = text();
    if (chance(0.2))
      d.mime_type = text();
    if (chance(0.3))
      d.tags = object(0);
    if (chance(0.4))
      d.embedding = embedding();
    for (size_t i = chance(0.3) ? below(4) : 0; i > 0; --i)
      d.scores[text()] = chance(0.2) ? 0.0 : static_cast<double>(below(1000)) / 7 - 20;
    if (depth < 3) {
      for (size_t i = chance(0.3) ? below(3) : 0; i > 0; --i)
        d.matches.push_back(document(depth + 1));
      for (size_t i = chance(0.3) ? below(3) : 0; i > 0; --i)
        d.chunks.push_back(document(depth + 1));
    }
    return d;
  }
  int64_t time() {
    return chance(0.1) ? -static_cast<int64_t>(below(5000000))
                       : static_cast<int64_t>(1700000000000000 + below(1000000000));
  }
};

template <class Message>
Message parsed(grpc::ByteBuffer bytes) {
  Message m;
  REQUIRE(parse(bytes, m));
  return m;
}

bool same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  google::protobuf::util::MessageDifferencer diff;
  std::string report;
  diff.ReportDifferencesToString(&report);
  bool equal = diff.Compare(a, b);
  if (!equal)
    MESSAGE(report);
  return equal;
}

}  // namespace

TEST_CASE("wire writer: random answers are the messages encode_response builds") {
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    CAPTURE(seed);
    Random rnd{seed};
    Response resp;
    resp.id = rnd.text();
    for (size_t i = rnd.below(6); i > 0; --i)
      resp.docs.push_back(rnd.document(0));
    if (rnd.chance(0.3))
      resp.parameters = rnd.object(0);
    if (rnd.chance(0.2)) {
      resp.shards_failed = 1;
      resp.failures = {"indexer/shard-1: " + rnd.text()};
    }
    for (size_t i = rnd.below(4); i > 0; --i)
      resp.routes.push_back(
        {rnd.text(), rnd.time(), rnd.time(), rnd.chance(0.3) ? rnd.text() : std::string{}});
    Exchange ex{.request_id = rnd.text(),
                .endpoint = rnd.chance(0.1) ? std::string{} : "/" + rnd.text(),
                .target_executor = rnd.chance(0.5) ? std::string{} : rnd.text(),
                .parameters = rnd.chance(0.5) ? rnd.object(0) : Params::object(),
                .start_us = rnd.time(),
                .end_us = rnd.time()};
    auto written = parsed<jina::DataRequestProto>(write_response(resp, ex));
    jina::DataRequestProto built;
    encode_response(Response{resp}, ex, &built);
    CHECK(same(built, written));
  }
}

TEST_CASE("wire writer: an answer without documents, and one with a large document") {
  Exchange ex{.request_id = "r", .endpoint = "/", .start_us = 1, .end_us = 2};
  Response empty;
  jina::DataRequestProto built;
  encode_response(Response{empty}, ex, &built);
  auto written = parsed<jina::DataRequestProto>(write_response(empty, ex));
  CHECK(same(built, written));
  CHECK(written.data().has_docs());

  Response big;
  auto& d = big.docs.emplace_back();
  d.text = std::string(300000, 'x');  // lengths of three varint bytes
  d.embedding = Embedding::dense_vector(std::vector<float>(40000, 0.5f));
  jina::DataRequestProto built_big;
  encode_response(Response{big}, ex, &built_big);
  auto written_big = parsed<jina::DataRequestProto>(write_response(big, ex));
  CHECK(same(built_big, written_big));
  CHECK(written_big.data().docs().docs(0).text().size() == 300000);
}
