#include <doctest/doctest.h>

#include <caf/expected.hpp>

#include "caflow/errors.hpp"

using namespace caflow;

TEST_CASE("errc converts to caf::error and caf::expected") {
  caf::error err = errc::timeout;
  CHECK(is(err, errc::timeout));
  CHECK_FALSE(is(err, errc::not_found));
  CHECK(describe(err) == "timeout");
  caf::expected<int> failed = make_error(errc::not_found, "no document 'x'");
  REQUIRE_FALSE(failed);
  CHECK(is(failed.error(), errc::not_found));
  CHECK(error_message(failed.error()) == "no document 'x'");
  CHECK(describe(failed.error()) == "not_found: no document 'x'");
}

TEST_CASE("every code has a name") {
  for (int c = 1; c <= static_cast<int>(errc::plugin_error); ++c)
    CHECK(std::string{to_string(static_cast<errc>(c))} != "unknown_error");
}

TEST_CASE("Error carries its code and converts back") {
  try {
    throw Error(errc::dimension_mismatch, "query has 3, index has 4");
  } catch (const Error& e) {
    CHECK(e.code() == errc::dimension_mismatch);
    auto err = e.to_error();
    CHECK(is(err, errc::dimension_mismatch));
    CHECK(error_message(err) == "query has 3, index has 4");
    Error again{err};
    CHECK(again.code() == errc::dimension_mismatch);
    CHECK(std::string{again.what()} == "query has 3, index has 4");
  }
  CHECK(describe(caf::error{}) == "no error");
}
