// TfidfVectorizer: tokenizer, model and executor against scikit-learn's own
// output, committed under tests/data/tfidf/ (see README.md there).
#include <doctest/doctest.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"
#include "caflow/json.hpp"
#include "caflow/jsonl.hpp"
#include "executors/tfidf/model_cache.hpp"
#include "executors/tfidf/stop_words.hpp"
#include "executors/tfidf/tfidf_model.hpp"
#include "executors/tfidf/tokenizer.hpp"
#include "tests/temp_workspace.hpp"

using namespace caflow;
using namespace caflow::tfidf;
namespace fs = std::filesystem;

namespace {

std::string data_path(const std::string& name) {
  return std::string{CAFLOW_SOURCE_DIR} + "/tests/data/tfidf/" + name;
}

Value load_json(const std::string& name) {
  std::ifstream in{data_path(name)};
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  auto v = parse_json(ss.str());
  REQUIRE(v);
  return std::move(*v);
}

std::vector<std::string> texts(const std::string& name) {
  auto reader = JsonlReader::open(data_path(name));
  REQUIRE(reader);
  auto docs = reader->next(1000);
  REQUIRE(docs);
  std::vector<std::string> out;
  for (const auto& d : std::as_const(*docs))
    out.push_back(d.text);
  return out;
}

std::vector<std::string> tokens(std::string_view text) {
  Tokenizer tok;
  std::vector<std::string> out;
  tok.for_each_token(text, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

ModelPtr fit(const std::vector<std::string>& docs, const TfidfOptions& options = {}) {
  TfidfFitter fitter{options};
  for (const auto& d : docs)
    fitter.add(d);
  auto model = std::move(fitter).finish();
  REQUIRE_MESSAGE(model, describe(model));
  return *model;
}

// Every vector of `expected` (scikit-learn's rows) equals the model's.
void check_vectors(const TfidfModel& model, const std::vector<std::string>& docs,
                   const Value& expected) {
  REQUIRE(expected.size() == docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    CAPTURE(i);
    CAPTURE(docs[i]);
    auto e = model.transform(docs[i]);
    CHECK(e.sparse);
    CHECK(e.dim == model.size());
    const auto& want = expected.as_array()[i];
    const auto& indices = want.find("indices")->as_array();
    const auto& values = want.find("values")->as_array();
    REQUIRE(e.indices.size() == indices.size());
    for (size_t k = 0; k < indices.size(); ++k) {
      CHECK(e.indices[k] == indices[k].as_int());
      CHECK(std::abs(e.values[k] - values[k].as_double()) < 1e-6);
    }
  }
}

DocumentArray make_docs(std::initializer_list<const char*> xs) {
  DocumentArray docs;
  for (const char* x : xs)
    docs.emplace_back().text = x;
  return docs;
}

std::unique_ptr<Executor> make_executor(ExecutorContext ctx) {
  ctx.uses = "TfidfVectorizer";
  auto ex = ExecutorRegistry::instance().create(std::move(ctx));
  REQUIRE_MESSAGE(ex, describe(ex));
  return std::move(*ex);
}

}  // namespace

TEST_CASE("tfidf tokenizer: Python's str.lower() and \\b\\w\\w+\\b") {
  Tokenizer tok;
  CHECK(tok.lower("ABC def") == "abc def");
  CHECK(tok.lower("İ") == "i\xcc\x87");      // special casing: i + U+0307
  CHECK(tok.lower("ΟΔΟΣ ΣΑ") == "οδος σα");  // final sigma only at the end
  CHECK(tok.lower("ΟΣ's") == "οσ's");        // ' is case-ignorable, s is cased
  CHECK(tok.lower("ẞ") == "ß");
  CHECK(tokens("Hello, WORLD! a bc") == std::vector<std::string>{"hello", "world", "bc"});
  CHECK(tokens("İstanbul") == std::vector<std::string>{"stanbul"});  // U+0307 is not \w
  CHECK(tokens("x² 2½ ½") == std::vector<std::string>{"x²", "2½"});  // numeric types
  CHECK(tokens("snake_case __x__") == std::vector<std::string>{"snake_case", "__x__"});
  CHECK(tokens("a😀b 😀😀") == std::vector<std::string>{});
  // Supplementary planes: math bold has no case mapping, Deseret has.
  CHECK(tokens("𝐀𝐁 (math bold) 𐐀𐐁") == std::vector<std::string>{"𝐀𝐁", "math", "bold", "𐐨𐐩"});
  CHECK(is_word_code_point(U'é'));
  CHECK(is_word_code_point(U'⑩'));
  CHECK_FALSE(is_word_code_point(0x0301));  // combining acute (Mn)
  CHECK_FALSE(is_word_code_point(-1));
}

TEST_CASE("tfidf tokenizer: invalid UTF-8 is non-word, never a crash") {
  CHECK(tokens("ab\xff"
               "cd")
        == std::vector<std::string>{"ab", "cd"});
  CHECK(tokens("ab\xc3") == std::vector<std::string>{"ab"});          // truncated
  CHECK(tokens("\xed\xa0\x80xy") == std::vector<std::string>{"xy"});  // surrogate
  CHECK(tokens("\xe2\x82") == std::vector<std::string>{});
  std::string all;
  for (int b = 0; b < 256; ++b)
    all.push_back(static_cast<char>(b));
  auto ts = tokens(all + all);
  CHECK(!ts.empty());
  std::string nul{"ab\0cd", 5};
  CHECK(tokens(nul) == std::vector<std::string>{"ab", "cd"});
}

TEST_CASE("tfidf tokenizer: random bytes give only well-formed word tokens") {
  // Deterministic fuzzing: ASCII, valid multi-byte sequences and stray bytes.
  std::mt19937 rng{42};
  const std::vector<std::string> pieces = {
    "a", "Z",  "_", "9",        " ",    ".",    "'",        "é",        "Σ",   "İ",
    "²", "東", "😀", "\xcc\x81", "\xff", "\x80", "\xe2\x82", "\xf0\x9f", "\xc3"};
  Tokenizer tok;
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    auto n = rng() % 40;
    for (unsigned i = 0; i < n; ++i)
      text += pieces[rng() % pieces.size()];
    tok.for_each_token(text, [&](std::string_view t) {
      size_t i = 0;
      int code_points = 0;
      while (i < t.size()) {
        auto b = static_cast<unsigned char>(t[i]);
        bool word = b < 0x80 ? tfidf::detail::byte_class[b] == 1
                             : tfidf::detail::next_is_word(t.data(), i, t.size());
        if (b < 0x80)
          ++i;
        REQUIRE(word);
        ++code_points;
      }
      REQUIRE(code_points >= 2);
    });
  }
}

// The tokens of lower-cased `text` found one byte at a time: the reference
// that the 64-byte block scanner of for_each_word must equal.
std::vector<std::string> bytewise_words(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0, n = text.size();
  while (i < n) {
    while (i < n && tfidf::detail::byte_class[static_cast<unsigned char>(text[i])] == 0)
      ++i;
    size_t start = i, code_points = 0, end = i;
    for (;;) {
      while (i < n && tfidf::detail::byte_class[static_cast<unsigned char>(text[i])] == 1) {
        ++i;
        ++code_points;
      }
      end = i;
      if (i < n && tfidf::detail::byte_class[static_cast<unsigned char>(text[i])] == 2) {
        size_t at = i;
        if (tfidf::detail::next_is_word(text.data(), i, n)) {
          ++code_points;
          continue;
        }
        end = at;
      }
      break;
    }
    if (code_points >= 2)
      out.emplace_back(text.substr(start, end - start));
  }
  return out;
}

TEST_CASE("tfidf tokenizer: the block scanner equals a byte-at-a-time scan") {
  // Runs of every length around the 64-byte block boundaries, ASCII and not,
  // ending at the text's end or not, in texts of 0 to ~400 bytes.
  std::mt19937 rng{7};
  const std::vector<std::string> pieces = {
    "a",  "Z9", "_",        " ",       "  ",   ".",    "abcdefghij", "0123456789abcdefghijklmnopq",
    "é",  "東", "\xcc\x81", "\xff",    "\x80", "\xc3", "\xe2\x82",   "😀",
    "\t", "'",  "x²",       "\xc2\xa0"};
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    auto pieces_n = rng() % 60;
    for (unsigned i = 0; i < pieces_n; ++i)
      text += pieces[rng() % pieces.size()];
    if (round % 3 == 0)
      text.resize(rng() % 200);  // may cut a sequence short
    CAPTURE(text);
    std::vector<std::string> got;
    for_each_word(text, [&](std::string_view t) { got.emplace_back(t); });
    REQUIRE(got == bytewise_words(text));
  }
  for (size_t len : {1, 2, 62, 63, 64, 65, 66, 127, 128, 129, 192}) {
    for (size_t pad : {0, 1, 63}) {
      std::string text = std::string(pad, ' ') + std::string(len, 'q');
      CAPTURE(text);
      std::vector<std::string> got;
      for_each_word(text, [&](std::string_view t) { got.emplace_back(t); });
      CHECK(got == bytewise_words(text));
      text[pad + len / 2] = '\xff';
      got.clear();
      for_each_word(text, [&](std::string_view t) { got.emplace_back(t); });
      CHECK(got == bytewise_words(text));
    }
  }
}

TEST_CASE("tfidf tokenizer: lower-casing across long ASCII runs and non-ASCII spans") {
  Tokenizer tok;
  CHECK(tok.lower("ABCDEFGHIJKLMNOPQRSTUVWXYZ ÉCOLE ΟΔΟΣ XYZ0123456789ABCDEFG_İ")
        == "abcdefghijklmnopqrstuvwxyz école οδος xyz0123456789abcdefg_i\xcc\x87");
  // Spans are cut at spaces, so lowering a space-joined text equals joining
  // the lowered parts, wherever the ASCII runs and the spans fall.
  std::mt19937 rng{11};
  const std::vector<std::string> pieces = {"É", "Σ", "İ", "ẞ", "\xff", "東", "'", "."};
  auto random_text = [&] {
    std::string t;
    for (unsigned k = rng() % 6; k > 0; --k) {
      for (unsigned n = rng() % 40; n > 0; --n)
        t += static_cast<char>(rng() % 2 ? 'A' + rng() % 26 : 'a' + rng() % 26);
      if (rng() % 2)
        t += pieces[rng() % pieces.size()];
    }
    return t;
  };
  for (int round = 0; round < 500; ++round) {
    std::string a = random_text(), b = random_text();
    CAPTURE(a);
    CAPTURE(b);
    std::string la{tok.lower(a)};
    std::string lb{tok.lower(b)};
    CHECK(tok.lower(a + " " + b) == la + " " + lb);
    std::string ascii;
    for (char c : a)
      if (static_cast<unsigned char>(c) < 0x80)
        ascii += c;
    std::string want;
    for (char c : ascii)
      want += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(tok.lower(ascii) == want);
  }
}

TEST_CASE("tfidf stop words: scikit-learn's ENGLISH_STOP_WORDS") {
  CHECK(english_stop_word_count() == 318);
  CHECK(is_english_stop_word("the"));
  CHECK(is_english_stop_word("yourselves"));
  CHECK(is_english_stop_word("amoungst"));  // sic, as in scikit-learn
  CHECK_FALSE(is_english_stop_word("fox"));
  CHECK_FALSE(is_english_stop_word("The"));
}

TEST_CASE("tfidf numpy_argsort equals numpy's (unstable) default argsort") {
  auto data = load_json("numpy_argsort.json");
  for (const auto& c : data.find("cases")->as_array()) {
    std::vector<int64_t> keys;
    for (const auto& k : c.find("keys")->as_array())
      keys.push_back(k.as_int());
    auto got = numpy_argsort(keys);
    const auto& want = c.find("argsort")->as_array();
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i)
      REQUIRE(got[i] == want[i].as_int());
  }
}

TEST_CASE("tfidf model equals scikit-learn on the test corpus") {
  auto docs = texts("corpus.jsonl");
  auto queries = texts("queries.jsonl");
  for (const char* name : {"expected_default.json", "expected_max_features.json",
                           "expected_df_counts.json", "expected_df_proportions.json"}) {
    CAPTURE(name);
    auto expected = load_json(name);
    auto options = TfidfOptions::from_params(*expected.find("options"), "test");
    REQUIRE(options);
    auto model = fit(docs, *options);
    const auto& vocab = expected.find("vocabulary")->as_array();
    REQUIRE(model->size() == vocab.size());
    for (uint32_t i = 0; i < vocab.size(); ++i) {
      CHECK(model->term(i) == vocab[i].as_string());
      CHECK(model->index(vocab[i].as_string()) == i);
      CHECK(std::abs(model->idf(i) - expected.find("idf")->as_array()[i].as_double()) < 1e-9);
    }
    check_vectors(*model, docs, *expected.find("vectors"));
    check_vectors(*model, queries, *expected.find("queries"));
  }
}

TEST_CASE("tfidf options: scikit-learn's validation") {
  auto err = [](Params p) {
    auto o = TfidfOptions::from_params(p, "v");
    REQUIRE_FALSE(o);
    CHECK(is(o.error(), errc::invalid_argument));
    return error_message(o.error());
  };
  CHECK(err({{"max_df", 1.5}}).find("uses_with.max_df must be a float in the range [0.0, 1.0]")
        != std::string::npos);
  CHECK(err({{"min_df", -1}}).find("min_df") != std::string::npos);
  CHECK(err({{"max_features", 0}}).find("max_features") != std::string::npos);
  CHECK(err({{"stop_words", "french"}}).find("\"english\"") != std::string::npos);
  auto o = TfidfOptions::from_params({{"max_df", 1.0}, {"min_df", 2}, {"max_features", 7}}, "v");
  REQUIRE(o);
  CHECK(o->max_df.proportion);
  CHECK_FALSE(o->min_df.proportion);
  // The saved form reads back the same (1.0 stays a proportion).
  auto back = TfidfOptions::from_value(*parse_json(to_json(o->to_value())), "v");
  REQUIRE(back);
  CHECK(*back == *o);
  CHECK(o->differences(*o).empty());
  CHECK(o->differences(TfidfOptions{}).find("max_features: fitted with 7, configured null")
        != std::string::npos);

  auto fail = [](const TfidfOptions& opts, std::vector<std::string> docs) {
    TfidfFitter fitter{opts};
    for (auto& d : docs)
      fitter.add(d);
    auto m = std::move(fitter).finish();
    REQUIRE_FALSE(m);
    return error_message(m.error());
  };
  CHECK(fail({}, {"a b", ""}) == "empty vocabulary; perhaps the documents only contain stop words");
  TfidfOptions stop;
  stop.english_stop_words = true;
  CHECK(fail(stop, {"the and of"}).find("empty vocabulary") == 0);
  TfidfOptions bad;
  bad.max_df = {false, 1};
  bad.min_df = {false, 2};
  CHECK(fail(bad, {"xx yy"}) == "max_df corresponds to < documents than min_df");
  TfidfOptions none;
  none.min_df = {false, 3};
  none.max_df = {false, 5};
  CHECK(fail(none, {"xx", "yy"}).find("After pruning, no terms remain") == 0);
}

TEST_CASE("tfidf model: save and load round trip") {
  test::TempWorkspace dir;
  TfidfOptions options;
  options.max_features = 50;
  auto model = fit(texts("corpus.jsonl"), options);
  auto path = (dir.path / "nested" / "tfidf.model").string();
  REQUIRE_FALSE(model->save(path));
  auto loaded = TfidfModel::load(path);
  REQUIRE_MESSAGE(loaded, describe(loaded));
  const auto& m = **loaded;
  CHECK(m.options() == options);
  CHECK(m.documents() == model->documents());
  REQUIRE(m.size() == model->size());
  for (uint32_t i = 0; i < m.size(); ++i) {
    CHECK(m.term(i) == model->term(i));
    CHECK(m.idf(i) == model->idf(i));
  }
  CHECK(m.transform("quick brown ΣΟΦΟΣ") == model->transform("quick brown ΣΟΦΟΣ"));
  CHECK(fs::directory_iterator(dir.path / "nested") != fs::directory_iterator{});
  // No temporary file is left behind.
  size_t files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path / "nested"))
    ++files;
  CHECK(files == 1);

  auto missing = TfidfModel::load((dir.path / "absent.model").string());
  REQUIRE_FALSE(missing);
  CHECK(is(missing.error(), errc::not_found));
  std::ofstream{path, std::ios::app} << "trailing garbage\n";
  {
    std::ifstream in{path};
    std::stringstream ss;
    ss << in.rdbuf();
    auto text = ss.str();
    text.resize(text.size() / 2);  // truncated mid-way
    std::ofstream{path, std::ios::trunc} << text;
  }
  auto broken = TfidfModel::load(path);
  REQUIRE_FALSE(broken);
  CHECK(is(broken.error(), errc::io_error));
  CHECK(error_message(broken.error()).find(path) != std::string::npos);
}

TEST_CASE("TfidfVectorizer executor: unfitted error, /fit, transform, pass-through") {
  auto ex = make_executor({.name = "tfidf-unit-fit"});
  auto docs = make_docs({"hello world"});
  try {
    ex->handle("/index", docs, Params::object());
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string{e.what()}
          == "TfidfVectorizer 'tfidf-unit-fit' is not fitted: set uses_with.corpus or POST "
             "/fit first");
  }
  auto train = make_docs({"the quick brown fox", "the lazy dog", "quick quick dog"});
  auto answer = ex->handle("/fit", train, Params::object());
  CHECK(answer.get_int("vocabulary", 0) == 6);
  CHECK(answer.get_int("documents", 0) == 3);
  CHECK(train[0].embedding.empty());  // /fit leaves the documents alone

  auto query = make_docs({"Quick DOG", "", "nothing known"});
  ex->handle("/search", query, Params::object());
  CHECK(query[0].embedding.sparse);
  CHECK(query[0].embedding.dim == 6);
  CHECK(query[0].embedding.indices == std::vector<uint32_t>{1, 4});  // dog, quick
  CHECK(query[1].embedding.sparse);
  CHECK(query[1].embedding.dim == 6);
  CHECK(query[1].embedding.indices.empty());
  CHECK(query[2].embedding.indices.empty());

  auto other = make_docs({"quick"});
  for (const char* endpoint : {"/delete", "/fetch", "/count", "/clear"}) {
    ex->handle(endpoint, other, Params::object());
    CHECK(other[0].embedding.empty());
  }
  auto invalid = make_docs({"quick \xff\xfe dog \xc3"});
  ex->handle("/update", invalid, Params::object());
  CHECK(invalid[0].embedding.indices == std::vector<uint32_t>{1, 4});
}

TEST_CASE("TfidfVectorizer replicas share one model; /fit on one reaches the other") {
  ExecutorContext ctx{.name = "tfidf-unit-replicas"};
  ctx.uses_with = {{"corpus", data_path("corpus.jsonl")}};
  ctx.replicas = 2;
  auto a = make_executor(ctx);
  ctx.replica_id = 1;
  auto b = make_executor(ctx);
  auto slot = ModelCache::instance().slot("deployment:tfidf-unit-replicas");
  auto [model, generation] = slot->current();
  REQUIRE(model);
  CHECK(generation == 1);  // fitted once, by the first replica
  auto expected = load_json("expected_default.json");
  CHECK(model->size() == expected.find("vocabulary")->size());

  auto x = make_docs({"spam eggs"});
  auto y = make_docs({"spam eggs"});
  a->handle("/index", x, Params::object());
  b->handle("/index", y, Params::object());
  CHECK(x[0].embedding == y[0].embedding);

  auto train = make_docs({"alpha beta", "beta gamma"});
  a->handle("/fit", train, Params{{"refit", true}});  // replaces a fitted model
  CHECK(slot->generation() == 2);
  auto z = make_docs({"beta"});
  b->handle("/index", z, Params::object());
  CHECK(z[0].embedding.dim == 3);
  CHECK(slot->current().first.get() != model.get());
}

TEST_CASE("TfidfVectorizer workspace: saved at start, loaded next time, options checked") {
  test::TempWorkspace dir;
  ExecutorContext ctx{.name = "vec", .workspace = dir.path.string()};
  ctx.uses_with = {{"corpus", data_path("corpus.jsonl")},
                   {"max_features", 20},
                   {"stop_words", "english"},
                   {"max_df", 0.5}};
  auto file = dir.path / "vec" / "tfidf.model";
  Embedding first;
  {
    auto ex = make_executor(ctx);
    CHECK(fs::exists(file));
    auto d = make_docs({"quick fox ΣΟΦΟΣ"});
    ex->handle("/index", d, Params::object());
    first = d[0].embedding;
    CHECK(first.dim == 20);
  }
  // Same options, no corpus: the saved model is loaded.
  ctx.uses_with = {{"max_features", 20}, {"stop_words", "english"}, {"max_df", 0.5}};
  {
    auto ex = make_executor(ctx);
    auto d = make_docs({"quick fox ΣΟΦΟΣ"});
    ex->handle("/index", d, Params::object());
    CHECK(d[0].embedding == first);
  }
  // Other options and no corpus: a start error naming the mismatch.
  ctx.uses_with = {{"max_features", 10}};
  {
    ctx.uses = "TfidfVectorizer";
    auto ex = ExecutorRegistry::instance().create(ctx);
    REQUIRE_FALSE(ex);
    auto msg = describe(ex.error());
    CHECK(msg.find("max_features: fitted with 20, configured 10") != std::string::npos);
    CHECK(msg.find("uses_with.corpus") != std::string::npos);
  }
  // Other options with a corpus: refitted and saved again.
  ctx.uses_with = {{"max_features", 10}, {"corpus", data_path("corpus.jsonl")}};
  {
    auto ex = make_executor(ctx);
    auto loaded = TfidfModel::load(file.string());
    REQUIRE(loaded);
    CHECK((*loaded)->size() == 10);
  }
  // /fit with refit replaces the saved model.
  ctx.uses_with = {{"max_features", 10}};
  {
    auto ex = make_executor(ctx);
    auto train = make_docs({"one two three"});
    ex->handle("/fit", train, Params{{"refit", true}});
    auto loaded = TfidfModel::load(file.string());
    REQUIRE(loaded);
    CHECK((*loaded)->size() == 3);
  }
}

TEST_CASE("TfidfVectorizer: a bad corpus or option fails the start with a clear message") {
  ExecutorContext ctx{.name = "tfidf-unit-bad", .uses = "TfidfVectorizer"};
  ctx.uses_with = {{"corpus", "/nonexistent/corpus.jsonl"}};
  auto ex = ExecutorRegistry::instance().create(ctx);
  REQUIRE_FALSE(ex);
  CHECK(describe(ex.error()).find("/nonexistent/corpus.jsonl") != std::string::npos);
  ctx.uses_with = {{"max_df", 2.5}};
  ex = ExecutorRegistry::instance().create(ctx);
  REQUIRE_FALSE(ex);
  CHECK(describe(ex.error()).find("TfidfVectorizer 'tfidf-unit-bad': uses_with.max_df")
        != std::string::npos);
}
