// The fast JSON path (events straight to Documents, Documents straight to
// text) against the general one (Value trees), over seeded random documents,
// their texts mutated byte by byte, and hand-picked odd inputs. The same
// check runs under libFuzzer in the `documents` target.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "caflow/json.hpp"
#include "json/json_fast.hpp"
#include "json/utf8.hpp"
#include "tests/fuzz/fuzz_targets.hpp"
#include "tests/fuzz/json_differential.hpp"
#include "tests/unit/test_documents.hpp"

using namespace caflow;

namespace {

class random_docs {
 public:
  explicit random_docs(uint32_t seed) : rng_(seed) {}

  Document doc(int depth = 0) {
    Document d;
    if (coin())
      d.id = "d" + text(12);  // never empty: an empty id is written as none
    if (coin())
      d.text = text(40);
    if (coin(4))
      d.parent_id = text(6);
    if (coin(4))
      d.uri = "file:///" + text(8);
    if (coin(4))
      d.mime_type = "text/plain";
    if (coin(4))
      d.blob = text(16);  // any bytes: written as base64
    if (coin(3))
      d.tags = tags(depth);
    if (coin(2))
      d.embedding = embedding();
    if (coin(3))
      d.scores = {{"cosine", number()}, {"euclidean", number()}};
    if (depth < 2 && coin(4))
      for (int i = 0, n = pick(3); i < n; ++i)
        d.matches.push_back(doc(depth + 1));
    if (depth < 2 && coin(5))
      for (int i = 0, n = pick(3); i < n; ++i)
        d.chunks.push_back(doc(depth + 1));
    return d;
  }

  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n)(rng_); }
  bool coin(uint32_t one_in = 2) { return pick(one_in - 1) == 0; }

 private:
  std::string text(size_t max) {
    // Quotes, escapes, control bytes and multi-byte UTF-8 (invalid UTF-8 is
    // not kept: the writer replaces it, see the test below).
    static const std::string alphabet[] = {"a",    "Z", "0", " ", "\"", "\\",   "\n", "\t",
                                           "\x01", "/", "é", "€", "𝄞",  "\x7f", "{",  "]"};
    std::string out;
    for (size_t i = 0, n = pick(static_cast<uint32_t>(max)); i < n; ++i)
      out += alphabet[pick(std::size(alphabet) - 1)];
    return out;
  }

  double number() {
    switch (pick(5)) {
      case 0:
        return 0.0;
      case 1:
        return -0.5;
      case 2:
        return 1e-300;
      case 3:
        return static_cast<double>(pick(1000000));
      default:
        return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
    }
  }

  Value tags(int depth) {
    auto v = Value::object();
    for (int i = 0, n = pick(4); i < n; ++i) {
      auto key = text(5);
      switch (pick(6)) {
        case 0:
          v[key] = nullptr;
          break;
        case 1:
          v[key] = coin();
          break;
        case 2:
          v[key] = static_cast<int64_t>(pick(1u << 31)) - (1 << 30);
          break;
        case 3:
          v[key] = number();
          break;
        case 4:
          v[key] = text(10);
          break;
        default:
          v[key] = depth < 3 ? Value::Array{tags(depth + 1), 1, "x"} : Value::Array{};
      }
    }
    return v;
  }

  Embedding embedding() {
    uint32_t dim = 1 + pick(20);
    if (coin()) {
      std::vector<float> xs(dim);
      for (auto& x : xs)
        x = static_cast<float>(number());
      return Embedding::dense_vector(std::move(xs));
    }
    std::vector<uint32_t> idx;
    std::vector<float> val;
    for (uint32_t i = 0; i < dim; ++i)
      if (coin(3)) {
        idx.push_back(i);
        val.push_back(static_cast<float>(number()));
      }
    return Embedding::sparse_vector(dim, std::move(idx), std::move(val));
  }

  std::mt19937 rng_;
};

void agree(std::string_view text) {
  try {
    fuzz::check_readers_agree(text);
  } catch (const fuzz::Failure& e) {
    FAIL_CHECK(e.what());
  }
}

}  // namespace

TEST_CASE("json differential: the fast writer writes what the general writer writes") {
  random_docs gen{20261201};
  fuzz::check_writers_agree(testing::full_document());
  for (int i = 0; i < 3000; ++i) {
    auto d = gen.doc();
    CAPTURE(i);
    try {
      fuzz::check_writers_agree(d);
    } catch (const fuzz::Failure& e) {
      FAIL_CHECK(e.what());
    }
  }
}

TEST_CASE("json differential: random documents and their mutations read alike on both paths") {
  random_docs gen{7};
  size_t fast_accepted = 0;
  for (int i = 0; i < 2000; ++i) {
    DocumentArray docs;
    for (int k = 0, n = gen.pick(3); k < n; ++k)
      docs.push_back(gen.doc());
    auto text = to_json(docs);
    CAPTURE(text);
    agree(text);
    agree("{\"data\":" + text + ",\"parameters\":{\"top_k\":3.0},\"execEndpoint\":\"/x\"}");
    agree("{\"data\":{\"docs\":" + text + "}}");
    // Parsed back, the documents are the ones written.
    auto back = parse_documents(text);
    REQUIRE(back);
    CHECK(*back == docs);
    // A mutated text: both paths must still agree (mostly on an error).
    for (int m = 0; m < 4; ++m) {
      auto bad = text;
      if (bad.empty())
        break;
      auto pos = gen.pick(static_cast<uint32_t>(bad.size() - 1));
      switch (gen.pick(3)) {
        case 0:
          bad[pos] = "\"{}[],:0-e.n\\ "[gen.pick(13)];
          break;
        case 1:
          bad.erase(pos, 1 + gen.pick(3));
          break;
        case 2:
          bad.insert(pos, ",\"id\":1");
          break;
        default:
          bad.resize(pos);
      }
      agree(bad);
      std::vector<Document> out;
      fast_accepted += json_fast::parse_documents(bad, out) ? 1 : 0;
    }
  }
  MESSAGE("mutated texts the fast reader accepted: " << fast_accepted);
}

TEST_CASE("json differential: odd inputs") {
  for (const char* text : {
         R"([{"id":"a","id":"b"}])",
         R"({"data":[{"text":"x"}],"data":null})",
         R"({"data":null,"parameters":{}})",
         R"({"docs":[{"text":"a"}]})",
         R"({"docs":[{"text":"a"}],"docs":[]})",
         R"([{"embedding":[1,2.5,-0.0,1e38]}])",
         R"([{"embedding":[1e39]}])",
         R"([{"embedding":[1e400]}])",
         R"([{"tensor":[1,2],"embedding":[3]}])",
         R"([{"embedding":{"indices":[1,3],"values":[0.5,0.25],"dim":4}}])",
         R"([{"embedding":{"indices":[3,1],"values":[0.5,0.25],"dim":4}}])",
         R"([{"embedding":{"indices":[1],"values":[0.5],"dim":1}}])",
         R"([{"scores":{"cosine":{"value":1.5,"op_name":"x"}},"matches":[{"id":"m"}]}])",
         R"([{"scores":{"cosine":2}}])",
         R"([{"text":"\ud83d\ude00 \u00e9 \u0000"}])",
         R"([{"text":"\ud800"}])",
         R"([{"id":7}])",
         R"([{"id":7.5}])",
         R"([{"tags":{"a":{"b":[1,{"c":null}]}}}])",
         R"([{"blob":"AAEC"}])",
         R"([{"blob":"not base64!"}])",
         R"([{"granularity":null,"adjacency":null,"weight":null,"modality":null}])",
         R"([null])",
         R"([[]])",
         R"([])",
         R"({})",
         R"({"data":{}})",
       }) {
    CAPTURE(text);
    agree(text);
  }
}

TEST_CASE("json: strings that are not UTF-8 are written with U+FFFD, and read back") {
  Document d;
  d.id = "bad\xff";
  d.text = std::string{"a\xc3(\xed\xa0\x80z\xf0\x9f\x98"} + "\xe2\x82\xac";
  d.tags = Value{{"k\xfe", "v\x80"}};
  auto text = to_json(d);
  fuzz::check_writers_agree(d);
  auto back = parse_document(text);
  REQUIRE(back);
  CHECK(back->id == "bad\xef\xbf\xbd");
  // Each bad byte is one replacement; the euro sign passes unchanged.
  CHECK(back->text
        == "a\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xe2\x82\xac");
  CHECK(back->tags == Value{{"k\xef\xbf\xbd", "v\xef\xbf\xbd"}});
}

namespace {

// The string writer as it was, one byte at a time (JSON's escapes, UTF-8
// checked, each bad byte U+FFFD): what the word-at-a-time writer must match.
std::string reference_json_string(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      auto n = utf8::sequence_length(s, i);
      if (n == 0) {
        out += "\xef\xbf\xbd";
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace

TEST_CASE("json differential: strings are escaped as byte by byte, at every offset") {
  std::mt19937 rng{20261203};
  // Plain runs broken by each kind of byte that needs a look, placed at
  // every offset of an 8-byte word and at the ends; multi-byte sequences
  // (valid and not) across word boundaries.
  const std::string specials[] = {"\"",
                                  "\\",
                                  "\n",
                                  "\x01",
                                  "\x1f",
                                  "\x7f",
                                  " ",
                                  "~",
                                  "\xc3\xa9",
                                  "\xe2\x82\xac",
                                  "\xf0\x9f\x98\x80",
                                  "\xff",
                                  "\xc3",
                                  "\xe2\x82",
                                  "\xed\xa0\x80",
                                  "\x80"};
  for (size_t len = 0; len < 40; ++len)
    for (const auto& sp : specials)
      for (size_t at = 0; at <= len; ++at) {
        std::string s(len, 'a');
        s.insert(at, sp);
        CAPTURE(s);
        REQUIRE(to_json(Value{s}) == reference_json_string(s));
      }
  auto byte = [&] {
    // Mostly printable ASCII, sometimes anything.
    auto r = std::uniform_int_distribution<int>(0, 99)(rng);
    if (r < 85)
      return static_cast<char>(std::uniform_int_distribution<int>(0x20, 0x7e)(rng));
    return static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
  };
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    for (int i = 0, n = std::uniform_int_distribution<int>(0, 70)(rng); i < n; ++i)
      if (std::uniform_int_distribution<int>(0, 9)(rng) == 0)
        s += specials[std::uniform_int_distribution<size_t>(0, std::size(specials) - 1)(rng)];
      else
        s += byte();
    CAPTURE(s);
    REQUIRE(to_json(Value{s}) == reference_json_string(s));
    Document d;
    d.id = s;
    d.text = s;
    fuzz::check_writers_agree(d);
  }
}
