// `when` filters (runtime/doc_filter.hpp): DocArray's query language over
// documents, and the errors of filters that do not compile.
#include <doctest/doctest.h>

#include "caflow/json.hpp"
#include "runtime/doc_filter.hpp"

using namespace caflow;
using detail::DocFilter;
using detail::FilterError;

namespace {

Value parse(const std::string& json) {
  auto v = parse_json(json);
  REQUIRE(v);
  return *v;
}

DocFilter filter(const std::string& json) {
  auto f = DocFilter::compile(parse(json));
  if (auto* e = std::get_if<FilterError>(&f))
    FAIL("does not compile: " << e->message());
  return std::get<DocFilter>(f);
}

std::string error_of(const std::string& json) {
  auto f = DocFilter::compile(parse(json));
  auto* e = std::get_if<FilterError>(&f);
  REQUIRE(e != nullptr);
  return e->message();
}

Document doc(const std::string& text, Value tags) {
  Document d;
  d.id = text;
  d.text = text;
  d.tags = std::move(tags);
  return d;
}

}  // namespace

TEST_CASE("filter: comparisons on tags, numbers as numbers") {
  auto cheap = doc("cheap", {{"price", 3}});
  auto dear = doc("dear", {{"price", 7.5}});
  auto none = doc("none", Value::object());
  auto text = doc("text", {{"price", "9"}});
  auto gt = filter(R"({"tags__price": {"$gt": 5}})");
  CHECK_FALSE(gt.matches(cheap));
  CHECK(gt.matches(dear));
  CHECK_FALSE(gt.matches(none));  // absent: order operators are false
  CHECK_FALSE(gt.matches(text));  // a string does not order against a number
  auto range = filter(R"({"tags__price": {"$gte": 3, "$lt": 7.5}})");
  CHECK(range.matches(cheap));
  CHECK_FALSE(range.matches(dear));
  CHECK(filter(R"({"tags__price": {"$lte": 3.0}})").matches(cheap));
  CHECK(filter(R"({"tags__price": {"$eq": 3.0}})").matches(cheap));  // 3 == 3.0
  auto ne = filter(R"({"tags__price": {"$ne": 3}})");
  CHECK_FALSE(ne.matches(cheap));
  CHECK(ne.matches(dear));
  CHECK(ne.matches(none));                                    // absent is not 3
  CHECK(filter(R"({"text": {"$gt": "b"}})").matches(cheap));  // strings as strings
  CHECK_FALSE(filter(R"({"text": {"$gt": "d"}})").matches(cheap));
}

TEST_CASE("filter: $in, $nin, $exists, $regex, nested tags, other fields") {
  auto a = doc("free money now", {{"kind", "spam"}, {"meta", Value{{"lang", "en"}}}});
  auto b = doc("meeting at noon", {{"kind", "ham"}, {"flag", nullptr}});
  CHECK(filter(R"({"tags__kind": {"$in": ["spam", "eggs"]}})").matches(a));
  CHECK_FALSE(filter(R"({"tags__kind": {"$in": ["spam", "eggs"]}})").matches(b));
  CHECK(filter(R"({"tags__kind": {"$nin": ["spam"]}})").matches(b));
  CHECK(filter(R"({"tags__missing": {"$nin": ["spam"]}})").matches(b));
  CHECK(filter(R"({"tags__meta__lang": {"$eq": "en"}})").matches(a));
  CHECK_FALSE(filter(R"({"tags__meta__lang": {"$eq": "en"}})").matches(b));
  CHECK(filter(R"({"tags__meta": {"$exists": true}})").matches(a));
  CHECK(filter(R"({"tags__meta": {"$exists": false}})").matches(b));
  CHECK(filter(R"({"tags__flag": {"$exists": false}})").matches(b));  // null does not exist
  CHECK(filter(R"({"text": {"$regex": "mon.y"}})").matches(a));       // searched anywhere
  CHECK_FALSE(filter(R"({"text": {"$regex": "^money"}})").matches(a));
  CHECK_FALSE(filter(R"({"tags__kind": {"$regex": "x"}})").matches(doc("n", Value::object())));
  auto scored = doc("s", Value::object());
  scored.scores["cosine"] = 0.9;
  scored.embedding.values = {1, 2, 3};
  CHECK(filter(R"({"scores__cosine": {"$gte": 0.5}})").matches(scored));
  CHECK(filter(R"({"embedding__dim": {"$eq": 3}})").matches(scored));
  CHECK(filter(R"({"id": {"$eq": "s"}, "uri": {"$exists": false}})").matches(scored));
  CHECK(filter("{}").matches(scored));  // the empty filter takes everything
}

TEST_CASE("filter: $and and $or nest") {
  auto f = filter(R"({"$or": [{"tags__price": {"$lt": 2}},
                              {"$and": [{"tags__price": {"$gt": 5}},
                                        {"tags__kind": {"$eq": "book"}}]}]})");
  CHECK(f.matches(doc("a", {{"price", 1}})));
  CHECK(f.matches(doc("b", {{"price", 9}, {"kind", "book"}})));
  CHECK_FALSE(f.matches(doc("c", {{"price", 9}, {"kind", "pen"}})));
  CHECK_FALSE(f.matches(doc("d", {{"price", 3}, {"kind", "book"}})));
}

TEST_CASE("filter: bad filters name the entry and what is wrong") {
  CHECK(error_of(R"({"tags__price": {"$gtt": 5}})")
        == "tags__price.$gtt: unknown operator (known: $eq, $ne, $lt, $lte, $gt, $gte, $in, "
           "$nin, $exists, $regex)");
  CHECK(error_of(R"({"tags__price": 5})").rfind("tags__price: expected a mapping of operators", 0)
        == 0);
  CHECK(error_of(R"({"prize": {"$eq": 5}})").rfind("prize: unknown field", 0) == 0);
  CHECK(error_of(R"({"tags__": {"$eq": 5}})").rfind("tags__: unknown field", 0) == 0);
  CHECK(error_of(R"({"tags__k": {"$in": 5}})") == "tags__k.$in: expected a list, got 5");
  CHECK(error_of(R"({"tags__k": {"$exists": "yes"}})")
        == "tags__k.$exists: expected true or false, got \"yes\"");
  CHECK(error_of(R"({"text": {"$regex": "(unclosed"}})").rfind("text.$regex: '(unclosed' is not", 0)
        == 0);
  CHECK(error_of(R"({"tags__k": {"$gt": [1]}})")
        == "tags__k.$gt: expected a number or a string to compare with, got [1]");
  CHECK(error_of(R"({"$or": []})") == "$or: expected a non-empty list of filters, got []");
  CHECK(error_of(R"({"$or": [{"text": {"$eq": "a"}}, {"tags__x": {"$bad": 1}}]})")
        == "$or[1].tags__x.$bad: unknown operator (known: $eq, $ne, $lt, $lte, $gt, $gte, $in, "
           "$nin, $exists, $regex)");
  CHECK(error_of(R"({"$not": {}})") == "$not: unknown logical operator (known: $and, $or)");
  CHECK(error_of("[1]").rfind("expected a mapping", 0) == 0);
}

TEST_CASE("filter: skipped documents rejoin at their places after the deployment") {
  auto f = filter(R"({"tags__n": {"$gte": 2}})");
  DocumentArray docs;
  for (int i = 0; i < 5; ++i)
    docs.push_back(doc("d" + std::to_string(i), {{"n", i}}));
  auto split = detail::split_by(f, docs);
  CHECK(split.taken_at == std::vector<bool>{false, false, true, true, true});
  REQUIRE(split.taken.size() == 3);
  REQUIRE(split.skipped.size() == 2);
  for (auto& d : split.taken)
    d.text += " seen";
  auto out = detail::rejoin(split.taken_at, split.taken, split.skipped);
  REQUIRE(out.size() == 5);
  CHECK(out[0].text == "d0");
  CHECK(out[1].text == "d1");
  CHECK(out[2].text == "d2 seen");
  CHECK(out[4].text == "d4 seen");
  // An answer with fewer documents leaves their places out; more go last.
  DocumentArray fewer{doc("x", Value::object())};
  auto short_out = detail::rejoin(split.taken_at, fewer, split.skipped);
  REQUIRE(short_out.size() == 3);
  CHECK(short_out[2].text == "x");
  DocumentArray more{doc("x", Value::object()), doc("y", Value::object()),
                     doc("z", Value::object()), doc("w", Value::object())};
  auto long_out = detail::rejoin(split.taken_at, more, split.skipped);
  REQUIRE(long_out.size() == 6);
  CHECK(long_out[5].text == "w");
}
