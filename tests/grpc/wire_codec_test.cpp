// The gRPC gateway's own wire codec (grpc/wire_writer, grpc/wire_reader)
// against the generated classes, on random requests and answers: every
// field caflow reads or writes, sparse and dense embeddings, tags, scores,
// nested matches and chunks; and, for the reader, damaged bytes.
#include <doctest/doctest.h>

#include <optional>
#include <random>
#include <string>

#include <google/protobuf/util/message_differencer.h>

#include "caflow/errors.hpp"
#include "grpc/core.hpp"
#include "grpc/ndarray.hpp"
#include "grpc/request_codec.hpp"
#include "grpc/struct_value.hpp"
#include "grpc/wire_reader.hpp"
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

// ---- the reader ----------------------------------------------------------------

namespace {

// Requests as clients build them with the generated classes. `usual` says
// whether the reader must take it (nothing that sends it to the generated
// path).
struct RandomRequest {
  std::string bytes;
  bool usual = true;
};

void random_struct(Random& rnd, google::protobuf::Struct* out) {
  to_struct(rnd.object(0), out);
}

void random_embedding(Random& rnd, docarray::NdArrayProto* pb) {
  switch (rnd.below(3)) {
    case 0: {  // numpy float32 vector
      std::vector<float> xs(1 + rnd.below(6));
      for (auto& x : xs)
        x = static_cast<float>(rnd.below(100)) / 4;
      auto* d = pb->mutable_dense();
      d->set_buffer(std::string(reinterpret_cast<const char*>(xs.data()), xs.size() * 4));
      d->add_shape(static_cast<uint32_t>(xs.size()));
      d->set_dtype("<f4");
      pb->set_cls_name("numpy");
      break;
    }
    case 1: {  // a float64 row
      std::vector<double> xs(1 + rnd.below(6), 0.25);
      auto* d = pb->mutable_dense();
      d->set_buffer(std::string(reinterpret_cast<const char*>(xs.data()), xs.size() * 8));
      d->add_shape(1);
      d->add_shape(static_cast<uint32_t>(xs.size()));
      d->set_dtype("<f8");
      break;
    }
    default:  // caflow's own sparse form
      write_ndarray(rnd.embedding(), pb);
  }
}

void random_doc(Random& rnd, docarray::DocumentProto* d, int depth, bool& usual) {
  if (!rnd.chance(0.1))
    d->set_id(rnd.chance(0.5) ? new_document_id() : rnd.text());
  auto content = rnd.below(4);
  if (content == 1)
    d->set_text(rnd.text());
  else if (content == 2)
    d->set_blob(rnd.bytes());
  if (rnd.chance(0.1))
    d->set_granularity(static_cast<uint32_t>(rnd.below(5)));
  if (rnd.chance(0.1))
    d->set_adjacency(static_cast<uint32_t>(rnd.below(5)));
  if (rnd.chance(0.2))
    d->set_parent_id(rnd.text());
  if (rnd.chance(0.2))
    d->set_uri(rnd.text());
  if (rnd.chance(0.2))
    d->set_mime_type(rnd.text());
  if (rnd.chance(0.2))
    random_struct(rnd, d->mutable_tags());
  if (rnd.chance(0.3))
    random_embedding(rnd, d->mutable_embedding());
  for (size_t i = rnd.chance(0.3) ? rnd.below(3) : 0; i > 0; --i) {
    auto& s = (*d->mutable_scores())[rnd.text()];
    s.set_value(static_cast<float>(rnd.below(100)) / 3);
    if (rnd.chance(0.3))
      s.set_op_name(rnd.text());
  }
  if (rnd.chance(0.02)) {  // what caflow refuses, or has no place for
    usual = false;
    switch (rnd.below(6)) {
      case 0:
        d->set_weight(rnd.chance(0.5) ? 0.5f : 0.f);
        break;
      case 1:
        d->set_modality("text");
        break;
      case 2:
        d->mutable_tensor()->set_cls_name("numpy");
        break;
      case 3:
        d->add_location(1);
        break;
      case 4:
        d->set_offset(2);
        break;
      default:
        (*d->mutable_evaluations())["x"].set_value(1);
    }
  }
  if (depth < 3) {
    for (size_t i = rnd.chance(0.2) ? rnd.below(3) : 0; i > 0; --i)
      random_doc(rnd, d->add_matches(), depth + 1, usual);
    for (size_t i = rnd.chance(0.2) ? rnd.below(3) : 0; i > 0; --i)
      random_doc(rnd, d->add_chunks(), depth + 1, usual);
  }
}

RandomRequest random_request(Random& rnd) {
  RandomRequest out;
  jina::DataRequestProto msg;
  if (rnd.chance(0.9)) {
    auto* h = msg.mutable_header();
    if (rnd.chance(0.9))
      h->set_request_id(rnd.text());
    if (rnd.chance(0.8))
      h->set_exec_endpoint(rnd.chance(0.1) ? std::string{} : "/" + rnd.text());
    if (rnd.chance(0.2))
      h->set_target_executor(rnd.text());
    if (rnd.chance(0.1))
      h->set_timeout(static_cast<uint32_t>(rnd.below(100000)));
    if (rnd.chance(0.02)) {
      h->mutable_status()->set_code(jina::StatusProto::ERROR);
      out.usual = false;
    }
  }
  if (rnd.chance(0.4))
    random_struct(rnd, msg.mutable_parameters());
  if (rnd.chance(0.02)) {
    msg.add_routes()->set_executor("gateway");
    out.usual = false;
  }
  if (rnd.chance(0.02)) {
    msg.mutable_data()->set_docs_bytes("pickled");
    out.usual = false;
  } else if (rnd.chance(0.9)) {
    auto* docs = msg.mutable_data()->mutable_docs();
    for (size_t i = rnd.below(8); i > 0; --i)
      random_doc(rnd, docs->add_docs(), 0, out.usual);
  }
  out.bytes = msg.SerializeAsString();
  if (rnd.chance(0.02)) {  // an unknown field: varint field 99
    out.bytes += std::string{"\x98\x06\x01", 3};
    out.usual = false;
  }
  if (rnd.chance(0.05)) {  // the same message twice: header and parameters merge, docs append
    out.bytes += out.bytes;
  }
  return out;
}

grpc::ByteBuffer buffer_of(const std::string& bytes, size_t slices = 1) {
  // Several slices, as gRPC may hand over a large message.
  std::vector<grpc::Slice> parts;
  size_t step = std::max<size_t>(1, bytes.size() / std::max<size_t>(1, slices));
  for (size_t at = 0; at < bytes.size(); at += step)
    parts.emplace_back(bytes.data() + at, std::min(step, bytes.size() - at));
  if (parts.empty())
    return grpc::ByteBuffer{};
  return grpc::ByteBuffer{parts.data(), parts.size()};
}

// The generated path: nullopt when the bytes do not parse.
std::optional<caf::expected<Request>> generated(const std::string& bytes) {
  jina::DataRequestProto msg;
  if (!msg.ParseFromString(bytes))
    return std::nullopt;
  return decode_request(msg);
}

bool fresh_id(const std::string& id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Fresh ids (made where none came) differ from run to run: blanked.
void blank_fresh(Document& d) {
  if (fresh_id(d.id))
    d.id = "<fresh>";
  for (auto& m : d.matches)
    blank_fresh(m);
  for (auto& c : d.chunks)
    blank_fresh(c);
}

// The reader's answer for `bytes` agrees with the generated path's: when it
// reads a request, the generated path reads the same one.
bool agrees(const std::string& bytes, size_t slices = 1) {
  auto fast = read_request(buffer_of(bytes, slices));
  if (!fast)
    return true;
  auto slow = generated(bytes);
  if (!slow || !*slow) {
    MESSAGE("the reader took bytes the generated path refuses");
    return false;
  }
  auto& a = *fast;
  auto& b = **slow;
  if (!(fresh_id(a.id) && fresh_id(b.id)) && a.id != b.id)
    return false;
  if (a.endpoint != b.endpoint || a.target_executor != b.target_executor
      || !(a.parameters == b.parameters) || a.docs.size() != b.docs.size())
    return false;
  for (size_t i = 0; i < a.docs.size(); ++i) {
    blank_fresh(a.docs[i]);
    blank_fresh(b.docs[i]);
    if (!(a.docs[i] == b.docs[i])) {
      MESSAGE("document " << i << " differs: " << a.docs[i].id << " / " << b.docs[i].id);
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("wire reader: random requests read as decode_request reads them") {
  size_t usual = 0;
  for (uint64_t seed = 1; seed <= 1500; ++seed) {
    CAPTURE(seed);
    Random rnd{seed};
    auto r = random_request(rnd);
    auto slices = 1 + rnd.below(3);
    CHECK(agrees(r.bytes, slices));
    if (r.usual) {  // the reader must take these: the test would not see it otherwise
      ++usual;
      auto slow = generated(r.bytes);
      REQUIRE(slow);
      if (*slow)  // (a message sent twice may merge into an embedding caflow refuses)
        CHECK(read_request(buffer_of(r.bytes, slices)).has_value());
      else
        MESSAGE(describe(*slow));
    } else {
      auto slow = generated(r.bytes);
      bool refused = !slow || !*slow;
      // What caflow refuses keeps the generated path's errors.
      if (refused)
        CHECK_FALSE(read_request(buffer_of(r.bytes)).has_value());
    }
  }
  CHECK(usual > 1000);
}

TEST_CASE("wire reader: damaged requests never read as anything the generated path refuses") {
  for (uint64_t seed = 1; seed <= 1500; ++seed) {
    CAPTURE(seed);
    Random rnd{seed};
    auto bytes = random_request(rnd).bytes;
    if (bytes.empty())
      continue;
    std::string bad = bytes;
    switch (rnd.below(6)) {
      case 0:  // truncated
        bad.resize(rnd.below(bytes.size()));
        break;
      case 1:  // a flipped bit
        bad[rnd.below(bad.size())] ^= static_cast<char>(1 << rnd.below(8));
        break;
      case 2:  // a random byte
        bad[rnd.below(bad.size())] = static_cast<char>(rnd.below(256));
        break;
      case 3: {  // a range repeated (duplicate fields, or garbage)
        auto at = rnd.below(bad.size());
        auto n = rnd.below(bad.size() - at) + 1;
        bad.insert(at, bad.substr(at, n));
        break;
      }
      case 4:  // an overlong varint where the first tag was
        bad.insert(0, std::string{"\x8a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11});
        break;
      default:  // bytes that are not UTF-8 inside the message
        bad.insert(rnd.below(bad.size()), std::string{"\xc0\xaf\xed\xa0\x80\xff", 6});
    }
    CHECK(agrees(bad, 1 + rnd.below(2)));
  }
}

TEST_CASE(
  "wire reader: strings that are not UTF-8, and overlong varints, go to the generated path") {
  auto with_text = [](const std::string& text) {
    jina::DataRequestProto msg;
    msg.mutable_header()->set_request_id("r");
    auto* d = msg.mutable_data()->mutable_docs()->add_docs();
    d->set_id("a");
    d->set_text(text);
    return msg.SerializeAsString();  // protobuf logs the bad UTF-8 but writes it
  };
  CHECK(read_request(buffer_of(with_text("héllo 日本 🙂"))).has_value());
  for (std::string bad :
       {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe6\x97", "\xff", "\x80"}) {
    CAPTURE(bad);
    CHECK_FALSE(read_request(buffer_of(with_text("ok" + bad))).has_value());
    CHECK_FALSE(generated(with_text("ok" + bad)).has_value());
  }
  // A length as an 11-byte varint: protobuf refuses it, so must the reader.
  std::string overlong{"\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 12};
  CHECK_FALSE(read_request(buffer_of(overlong)).has_value());
  CHECK_FALSE(generated(overlong).has_value());
  // Nesting deeper than the reader goes is left to the generated path.
  jina::DataRequestProto deep;
  auto* d = deep.mutable_data()->mutable_docs()->add_docs();
  for (int i = 0; i < 40; ++i)
    d = d->add_matches();
  d->set_text("bottom");
  CHECK_FALSE(read_request(buffer_of(deep.SerializeAsString())).has_value());
  auto slow = generated(deep.SerializeAsString());
  REQUIRE(slow);
  CHECK(*slow);
}

namespace {

// A length-delimited field, as protobuf writes it.
std::string field_bytes(uint32_t field, const std::string& payload) {
  std::string out;
  auto varint = [&](uint64_t v) {
    for (; v >= 0x80; v >>= 7)
      out += static_cast<char>(v | 0x80);
    out += static_cast<char>(v);
  };
  varint((uint64_t{field} << 3) | 2);
  varint(payload.size());
  return out + payload;
}

// A request of one document whose bytes are those of `parts` one after the
// other: protobuf merges them (the last scalar wins, oneofs switch,
// repeated fields and maps add up).
std::string merged_doc_request(const std::vector<docarray::DocumentProto>& parts) {
  std::string doc;
  for (const auto& p : parts)
    doc += p.SerializeAsString();
  return field_bytes(4, field_bytes(1, field_bytes(1, doc)));
}

}  // namespace

TEST_CASE("wire reader: fields that repeat in one document merge as protobuf merges them") {
  docarray::DocumentProto blob, text, id, tags, emb, scores;
  blob.set_blob(std::string{"\0\1", 2});
  blob.set_id("first");
  text.set_text("words");
  id.set_id("second");
  to_struct(Value{{"a", 1}}, tags.mutable_tags());
  (*scores.mutable_scores())["cos"].set_value(0.5f);
  emb.mutable_embedding()->mutable_dense()->set_buffer(std::string(8, '\0'));
  emb.mutable_embedding()->mutable_dense()->set_dtype("<f4");
  emb.mutable_embedding()->mutable_dense()->add_shape(2);
  docarray::DocumentProto tags2, scores2;
  to_struct(Value{{"b", "x"}}, tags2.mutable_tags());
  (*scores2.mutable_scores())["cos"].set_value(0.25f);
  (*scores2.mutable_scores())["l2"].set_value(2.f);
  for (const auto& parts :
       std::vector<std::vector<docarray::DocumentProto>>{{blob, text},
                                                         {text, blob},
                                                         {blob, id},
                                                         {id, text, blob, text},
                                                         {tags, tags2, emb},
                                                         {scores, scores2, emb, tags}}) {
    auto bytes = merged_doc_request(parts);
    REQUIRE(read_request(buffer_of(bytes)).has_value());
    CHECK(agrees(bytes));
  }
  // Two embeddings merge into shape [2, 2]: not a vector. The error is the
  // generated path's.
  auto twice = merged_doc_request({emb, emb});
  CHECK_FALSE(read_request(buffer_of(twice)).has_value());
  auto slow = generated(twice);
  REQUIRE(slow);
  CHECK_FALSE(*slow);
}
