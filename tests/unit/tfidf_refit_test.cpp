// A /fit that would change a fitted TfidfVectorizer's model is refused
// unless asked for with {"refit": true}: the documents indexed with the old
// model keep old embeddings that no new query would match.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"

using namespace caflow;

namespace {

std::unique_ptr<Executor> vectorizer(const std::string& name) {
  auto e = ExecutorRegistry::instance().create({.name = name, .uses = "TfidfVectorizer"});
  REQUIRE_MESSAGE(e, describe(e));
  return std::move(*e);
}

DocumentArray texts(const std::vector<std::string>& ts) {
  DocumentArray out;
  for (const auto& t : ts)
    out.emplace_back().text = t;
  return out;
}

// The dimension of the embedding `ex` gives "quick dog" (its vocabulary size).
uint32_t dimension(Executor& ex) {
  auto q = texts({"quick dog"});
  ex.handle("/search", q, Params::object());
  return q[0].embedding.dim;
}

std::string refusal(Executor& ex, const std::vector<std::string>& ts,
                    const Params& params = Params::object()) {
  auto docs = texts(ts);
  try {
    ex.handle("/fit", docs, params);
  } catch (const Error& e) {
    CHECK(e.code() == errc::invalid_argument);
    return e.what();
  }
  return {};
}

const std::vector<std::string> first{"the quick brown fox", "the lazy dog", "quick quick dog"};
const std::vector<std::string> second{"completely other words", "another vocabulary here"};

}  // namespace

TEST_CASE("tfidf refit: a /fit that changes the model is refused unless refit is given") {
  auto ex = vectorizer("tfidf-refit-a");
  CHECK(refusal(*ex, first).empty());
  CHECK(dimension(*ex) == 6);
  // The same corpus again gives the same model: nothing indexed goes stale.
  CHECK(refusal(*ex, first).empty());
  auto why = refusal(*ex, second);
  CHECK_MESSAGE(why.find("/fit would replace the fitted model (6 terms from 3 documents) with 6 "
                         "terms from 2 documents")
                  != std::string::npos,
                why);
  CHECK(why.find("{\"refit\": true}") != std::string::npos);
  CHECK(dimension(*ex) == 6);  // the old model still serves
  auto q = texts({"quick dog"});
  ex->handle("/search", q, Params::object());
  CHECK(q[0].embedding.indices.size() == 2);  // its terms, not the new ones
  // Same terms, other document frequencies: other weights, refused too.
  CHECK_FALSE(refusal(*ex, {"the quick brown fox", "the lazy dog", "quick dog", "dog"}).empty());
  // Asked for: replaced.
  CHECK(refusal(*ex, second, Params{{"refit", true}}).empty());
  auto after = texts({"other words"});
  ex->handle("/search", after, Params::object());
  CHECK(after[0].embedding.indices.size() == 2);
  // refit must be a boolean: "yes" does not silently replace the model.
  CHECK_FALSE(refusal(*ex, first, Params{{"refit", "yes"}}).empty());
  CHECK(refusal(*ex, first, Params{{"refit", false}}).find("would replace") != std::string::npos);
}

TEST_CASE("tfidf refit: a replica sees the model another replica fitted") {
  auto one = vectorizer("tfidf-refit-shared");
  auto two = vectorizer("tfidf-refit-shared");
  CHECK(refusal(*one, first).empty());
  // two has not encoded anything since: it still must not replace one's model.
  CHECK(refusal(*two, second).find("would replace") != std::string::npos);
  CHECK(dimension(*two) == 6);
}
