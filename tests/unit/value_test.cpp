#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "caflow/value.hpp"

using namespace caflow;

TEST_CASE("Value kinds and accessors") {
  Value v{{"top_k", 5}, {"metric", "cosine"}, {"ratio", 0.5}, {"on", true}};
  CHECK(v.is_object());
  CHECK(v.size() == 4);
  CHECK(v.get_int("top_k", 10) == 5);
  CHECK(v.get_int("absent", 10) == 10);
  CHECK(v.get_string("metric", "x") == "cosine");
  CHECK(v.get_double("ratio", 0) == 0.5);
  CHECK(v.get_double("top_k", 0) == 5.0);
  CHECK(v.get_bool("on", false));
  CHECK(Value{}.is_null());
  CHECK(Value::array().is_array());
}

TEST_CASE("integers accept floats without a fraction, as JSON clients send") {
  Value v{{"top_k", 3.0}, {"bad", 3.5}};
  CHECK(v.get_int("top_k", 0) == 3);
  CHECK_THROWS_AS((void)v.get_int("bad", 0), Error);
}

TEST_CASE("wrong types name the key") {
  Value v{{"metric", 7}};
  try {
    (void)v.get_string("metric", "cosine");
    FAIL("expected an exception");
  } catch (const Error& e) {
    CHECK(e.code() == errc::invalid_argument);
    CHECK(std::string{e.what()} == "metric: expected a string, got integer");
  }
}

TEST_CASE("null members fall back to the default") {
  Value v{{"top_k", nullptr}};
  CHECK(v.get_int("top_k", 10) == 10);
}

TEST_CASE("operator[] builds objects; merge overwrites") {
  Value v;
  v["a"]["b"] = 1;
  CHECK(v.find("a")->find("b")->as_int() == 1);
  Value w{{"a", 2}, {"c", "x"}};
  v.merge(w);
  CHECK(v.get_int("a", 0) == 2);
  CHECK(v.get_string("c", "") == "x");
}

TEST_CASE("Value round-trips through its JSON text") {
  Value v{{"s", "x\"y"},
          {"n", nullptr},
          {"i", int64_t{-42}},
          {"d", 1.25},
          {"a", Value::Array{1, "two", false}},
          {"o", Value{{"k", "v"}}}};
  auto back = parse_json(v.dump());
  REQUIRE(back);
  CHECK(*back == v);
}
