// JSON for values and documents: round trips, Jina 3's client payloads, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "json/base64.hpp"
#include "tests/unit/jina_bodies.hpp"
#include "tests/unit/test_documents.hpp"

using namespace caflow;

namespace {

// The error message of a failed parse (fails the test when it succeeded).
template <class T>
std::string error_of(const caf::expected<T>& x) {
  REQUIRE_FALSE(x);
  CHECK(is(x.error(), errc::invalid_json));
  return error_message(x.error());
}

}  // namespace

TEST_SUITE("json") {
  TEST_CASE("json: base64 encodes with padding and decodes with or without it") {
    CHECK(base64::encode("") == "");
    CHECK(base64::encode("f") == "Zg==");
    CHECK(base64::encode("fo") == "Zm8=");
    CHECK(base64::encode("foo") == "Zm9v");
    CHECK(base64::encode("foobar") == "Zm9vYmFy");
    CHECK(base64::encode(std::string("\0\xff\xfe", 3)) == "AP/+");
    CHECK(base64::decode("") == std::string{});
    CHECK(base64::decode("Zg==") == "f");
    CHECK(base64::decode("Zg") == "f");
    CHECK(base64::decode("Zm8=") == "fo");
    CHECK(base64::decode("Zm8") == "fo");
    CHECK(base64::decode("Zm9vYmFy") == "foobar");
    CHECK(base64::decode("AP/+") == std::string("\0\xff\xfe", 3));
    std::string all;
    for (int i = 0; i < 256; ++i)
      all += static_cast<char>(i);
    for (size_t n = 0; n <= all.size(); n += 37)
      CHECK(base64::decode(base64::encode(all.substr(0, n))) == all.substr(0, n));
  }

  TEST_CASE("json: base64 rejects invalid input") {
    CHECK_FALSE(base64::decode("Z"));      // 6 bits: not a byte
    CHECK_FALSE(base64::decode("Zm9vY"));  // same, after a full quantum
    CHECK_FALSE(base64::decode("Zg="));    // padding that does not complete 4
    CHECK_FALSE(base64::decode("Zg==="));  // too much padding
    CHECK_FALSE(base64::decode("===="));
    CHECK_FALSE(base64::decode("Z=g="));      // padding inside
    CHECK_FALSE(base64::decode("Zm9v!mFy"));  // not in the alphabet
    CHECK_FALSE(base64::decode("Zm9v YmFy"));
    CHECK_FALSE(base64::decode("Zm9v-_"));  // URL-safe alphabet is not standard
  }

  TEST_CASE("json: values parse with their kinds") {
    auto v = parse_json(R"({"i": 3, "d": 3.0, "e": 1e2, "neg": -7, "b": true, "n": null,
                          "s": "a\"\u00e9\n", "a": [1, [2]], "big": 18446744073709551615})");
    REQUIRE(v);
    CHECK(v->find("i")->is_int());
    CHECK(v->find("i")->as_int() == 3);
    CHECK(v->find("d")->is_double());
    CHECK(v->find("d")->as_double() == 3.0);
    CHECK(v->find("e")->is_double());
    CHECK(v->find("neg")->as_int() == -7);
    CHECK(v->find("b")->as_bool());
    CHECK(v->find("n")->is_null());
    CHECK(v->find("s")->as_string() == "a\"\xc3\xa9\n");
    CHECK(v->find("a")->as_array()[1].as_array()[0].as_int() == 2);
    CHECK(v->find("big")->is_double());  // beyond int64
    CHECK(v->find("big")->as_double() == 18446744073709551615.0);
    auto text = to_json(*v);
    CHECK(parse_json(text) == v);
    CHECK(to_json(Value{3.0}) == "3.0");
    CHECK(to_json(Value{3}) == "3");
    CHECK(to_json(Value{"\x01\t"}) == R"("\u0001\t")");
  }

  TEST_CASE("json: doubles round-trip exactly; non-finite doubles become null") {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> unit(-1, 1);
    for (int i = 0; i < 20000; ++i) {
      double d = i % 2 ? unit(rng) : std::ldexp(unit(rng), static_cast<int>(rng() % 600) - 300);
      auto back = parse_json(to_json(Value{d}));
      REQUIRE(back);
      REQUIRE(back->is_double());
      REQUIRE(back->as_double() == d);
    }
    CHECK(to_json(Value{std::numeric_limits<double>::quiet_NaN()}) == "null");
    CHECK(to_json(Value::Array{std::numeric_limits<double>::infinity()}) == "[null]");
  }

  // Found by the fuzz_documents round trip (tests/fuzz/regressions/documents/):
  // such numbers used to become infinities, written back as null, so that
  // caflow could not read its own output.
  TEST_CASE("json: numbers beyond double range, or float range in embeddings, are refused") {
    auto v = parse_json(R"({"x": [1, 1e400]})");
    REQUIRE_FALSE(v);
    CHECK(describe(v.error()).find("line 1, column") != std::string::npos);
    CHECK_FALSE(parse_documents(R"([{"tags": {"x": -1e400}}])"));
    CHECK_FALSE(parse_documents(R"([{"scores": {"s": 1e999}}])"));
    auto e = parse_documents(R"([{"embedding": [0.5, 1e39]}])");
    REQUIRE_FALSE(e);
    CHECK(describe(e.error()).find("[0].embedding[1]: expected a number in float range")
          != std::string::npos);
    CHECK_FALSE(
      parse_documents(R"([{"embedding": {"indices": [1], "values": [-4e38], "dim": 3}}])"));
    // The largest float is written and read back unchanged, and tiny numbers
    // underflow to zero as before.
    auto big = Document{};
    big.embedding = Embedding::dense_vector(
      {std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 1e-45f});
    auto back = parse_document(to_json(big));
    REQUIRE_MESSAGE(back, describe(back));
    CHECK(back->embedding == big.embedding);
    auto tiny = parse_documents(R"([{"embedding": [1e-60], "tags": {"t": 1e-400}}])");
    REQUIRE(tiny);
    CHECK((*tiny)[0].embedding.values == std::vector<float>{0.0f});
  }

  TEST_CASE("json: malformed text names line and column") {
    auto msg = error_of(parse_json("{\"a\": "));
    CHECK(msg.find("line 1, column 7") != std::string::npos);
    msg = error_of(parse_json("[1,2"));
    CHECK(msg.find("line 1, column 5") != std::string::npos);
    msg = error_of(parse_json("{\n  \"a\": 1,\n  \"b\": x\n}"));
    CHECK(msg.find("line 3, column 8") != std::string::npos);
    msg = error_of(parse_json("[1] 2"));
    CHECK(msg.find("line 1, column 5") != std::string::npos);
    error_of(parse_json(""));
    error_of(parse_json("[1,]"));      // no trailing commas
    error_of(parse_json("// c\n1"));   // no comments
    error_of(parse_json("\"\xff\""));  // no invalid UTF-8
    error_of(parse_document("{\"text\": }"));
  }

  TEST_CASE("json: deep nesting is an error, not a crash") {
    error_of(parse_json(std::string(10000, '[')));
    error_of(parse_json(std::string(100000, '[') + std::string(100000, ']')));
    CHECK(parse_json(std::string(500, '[') + std::string(500, ']')));
    // Within the parser's limit but deeper than documents may nest.
    std::string deep_docs;
    for (int i = 0; i < 200; ++i)
      deep_docs += R"({"matches": [)";
    deep_docs += "{}";
    for (int i = 0; i < 200; ++i)
      deep_docs += "]}";
    CHECK(error_of(parse_document(deep_docs)).find("nested deeper") != std::string::npos);
    // Values built in code have no parser to limit them.
    Value v = Value::object();
    for (int i = 0; i < 150; ++i)
      v = Value{{"chunks", Value::Array{v}}};
    CHECK(error_of(to_document(v)).find("nested deeper") != std::string::npos);
  }

  TEST_CASE("json: a document with every field round-trips") {
    auto doc = testing::full_document();
    auto text = to_json(doc);
    auto back = parse_document(text);
    REQUIRE(back);
    CHECK(*back == doc);
    CHECK(back->matches.at(0).embedding.sparse);
    CHECK(back->matches.at(0).chunks.at(0).text == "nested");
    // The written shape is DocArray's.
    auto v = parse_json(text);
    REQUIRE(v);
    CHECK(v->find("blob")->as_string() == base64::encode(doc.blob));
    CHECK(*v->find("scores")->find("cosine") == Value{{"value", 0.875}});
    CHECK(
      *v->find("matches")->as_array()[0].find("embedding")
      == Value{{"indices", Value::Array{2, 50}}, {"values", Value::Array{1.0, 0.5}}, {"dim", 100}});
    CHECK(to_documents(to_value(DocumentArray{doc, doc})).value() == DocumentArray{doc, doc});
  }

  TEST_CASE("json: empty fields are left out") {
    Document d;
    d.id = "x";
    CHECK(to_json(d) == R"({"id":"x"})");
    d.embedding = Embedding::dense_vector({0.1f, 2.0f});
    CHECK(to_json(d) == R"({"embedding":[0.1,2.0],"id":"x"})");
  }

  TEST_CASE("json: float embeddings round-trip exactly in short form") {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> unit(-10, 10);
    Document d;
    for (int i = 0; i < 5000; ++i)
      d.embedding.values.push_back(i % 2 ? unit(rng) : std::ldexp(unit(rng), i % 200 - 100));
    d.embedding.dim = static_cast<uint32_t>(d.embedding.values.size());
    auto back = parse_document(to_json(d));
    REQUIRE(back);
    CHECK(back->embedding == d.embedding);
  }

  TEST_CASE("json: a Jina 3 HTTP client document parses") {
    auto data = parse_json(testing::jina_client_search_body);
    REQUIRE(data);
    auto docs = to_documents(*data->find("data"), "data");
    REQUIRE(docs);
    REQUIRE(docs->size() == 1);
    const auto& d = (*docs)[0];
    CHECK(d.id == "a");
    CHECK(d.text == "hello");
    CHECK(d.mime_type == "text/plain");
    CHECK(d.embedding == Embedding::dense_vector({1.0f, 2.0f}));
    CHECK(d.tags == Value::object());
    CHECK(d.parent_id.empty());
    CHECK(d.scores.empty());
    CHECK(d.matches.empty());
  }

  TEST_CASE("json: lenient reading of ids, tensors, scores") {
    auto d = parse_document(R"({"id": 42, "tensor": [1, 2], "scores": {"a": {"value": 0.5,
    "op_name": "cosine"}, "b": 2, "c": {"value": null}, "d": null, "e": {}}})");
    REQUIRE(d);
    CHECK(d->id == "42");
    CHECK(d->embedding.values == std::vector<float>{1, 2});
    CHECK(d->scores == std::map<std::string, double>{{"a", 0.5}, {"b", 2.0}});
    CHECK(parse_document(R"({"id": 7.0})")->id == "7");
    auto fresh = parse_document(R"({"id": "", "text": "t"})");
    REQUIRE(fresh);
    CHECK(fresh->id.size() == 32);
    CHECK(parse_document(R"({"id": null})")->id.size() == 32);
    // Sparse indices and dim may arrive as floats from Jina.
    auto s = parse_document(
      R"({"embedding": {"indices": [1.0, 4], "values": [1, 2], "dim": 5.0}})");
    REQUIRE(s);
    CHECK(s->embedding == Embedding::sparse_vector(5, {1, 4}, {1.0f, 2.0f}));
    CHECK(parse_document(R"({"blob": "Zm8"})")->blob == "fo");
  }

  TEST_CASE("json: the docs object form and document arrays") {
    auto docs = parse_documents(R"({"docs": [{"id": "a"}, {"id": "b", "text": "x"}]})");
    REQUIRE(docs);
    CHECK(docs->ids() == std::vector<std::string>{"a", "b"});
    CHECK(parse_documents(R"([{"id": "a"}])")->ids() == std::vector<std::string>{"a"});
    CHECK(parse_documents("[]")->empty());
    CHECK(parse_documents(to_json(*docs)).value() == *docs);
    CHECK(error_of(parse_documents("3")).find("expected an array") != std::string::npos);
    CHECK(error_of(parse_documents(R"({"x": 1})")).find("\"docs\"") != std::string::npos);
    CHECK(error_of(parse_documents(R"({"docs": 1})")) == "docs: expected an array, got integer");
    CHECK(error_of(parse_documents(R"({"docs": [{}, {"text": 1}]})"))
          == "docs[1].text: expected a string, got integer");
    CHECK(error_of(parse_documents(R"([{}, 2])")) == "[1]: expected an object, got integer");
  }

  TEST_CASE("json: type errors name the path") {
    auto data = parse_json(R"([{}, {}, {}, {"embedding": [1, "x"]}])");
    REQUIRE(data);
    CHECK(error_of(to_documents(*data, "data"))
          == "data[3].embedding[1]: expected a number, got string");
    CHECK(error_of(parse_document(R"({"embedding": [1, "x"]})"))
          == "embedding[1]: expected a number, got string");
    CHECK(error_of(parse_document(R"({"tags": 3})")) == "tags: expected an object, got integer");
    CHECK(error_of(parse_document(R"({"matches": {}})"))
          == "matches: expected an array, got object");
    CHECK(error_of(parse_document(R"({"matches": [{"chunks": [{"uri": []}]}]})"))
          == "matches[0].chunks[0].uri: expected a string, got array");
    CHECK(error_of(parse_document(R"({"scores": {"c": {"value": "hi"}}})"))
          == "scores.c.value: expected a number, got string");
    CHECK(error_of(parse_document(R"({"id": true})"))
          == "id: expected a string or a number, got boolean");
    CHECK(error_of(parse_document(R"({"blob": "!!"})")) == "blob: invalid base64");
    CHECK(error_of(parse_document("[]")) == "document: expected an object, got array");
    CHECK(error_of(parse_document(R"({"embedding": "x"})"))
          == "embedding: expected an array or a sparse object, got string");
  }

  TEST_CASE("json: sparse embeddings are validated") {
    auto err = [](const char* sparse) {
      return error_of(parse_document(std::string(R"({"embedding": )") + sparse + "}"));
    };
    CHECK(err(R"({"indices": [3, 2], "values": [1, 1], "dim": 5})")
          == "embedding.indices[1]: indices must be strictly increasing");
    CHECK(err(R"({"indices": [2, 2], "values": [1, 1], "dim": 5})")
          == "embedding.indices[1]: indices must be strictly increasing");
    CHECK(err(R"({"indices": [5], "values": [1], "dim": 5})")
          == "embedding.indices[0]: expected an integer in [0, dim)");
    CHECK(err(R"({"indices": [-1], "values": [1], "dim": 5})")
          == "embedding.indices[0]: expected an integer in [0, dim)");
    CHECK(err(R"({"indices": [1.5], "values": [1], "dim": 5})")
          == "embedding.indices[0]: expected an integer in [0, dim)");
    CHECK(err(R"({"indices": [1], "values": [1, 2], "dim": 5})")
          == "embedding: indices and values differ in length (1 and 2)");
    CHECK(err(R"({"indices": [1], "values": [1]})")
          == "embedding.dim: expected an integer, got null");
    CHECK(err(R"({"indices": [1], "values": ["a"], "dim": 3})")
          == "embedding.values[0]: expected a number, got string");
    CHECK(err(R"({"values": [1], "dim": 3})") == "embedding.indices: expected an array, got null");
  }

}  // TEST_SUITE

// Regression (#7): 1e400 parsed as infinity and 1e39 overflowed float; the
// document was stored and its embedding came first in every search.
TEST_CASE("json: embeddings reject numbers that are not finite float32") {
  // Beyond float range: the error names the element.
  auto doc = parse_document(R"({"embedding": [0, -1e39]})");
  REQUIRE_FALSE(doc);
  CHECK(error_message(doc.error()).find("embedding[1]") != std::string::npos);
  // Beyond double range: the parser refuses the number where it stands.
  for (const char* text : {R"({"embedding": [0, 1e400]})", R"([{"embedding": [1e400]}])"}) {
    INFO(text);
    auto many = parse_documents(text);
    REQUIRE_FALSE(many);
    CHECK(error_message(many.error()).find("out of range") != std::string::npos);
  }
  auto fine = parse_document(R"({"embedding": [0, 3.4e38]})");
  REQUIRE(fine);
  CHECK(fine->embedding.values.size() == 2);
}
