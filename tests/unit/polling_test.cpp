#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/polling.hpp"

using namespace caflow;

TEST_CASE("polling: Jina's defaults are /search ALL, everything else ANY") {
  Polling p;
  CHECK(p.entries().size() == 2);
  CHECK(p.entries().at("/search") == "ALL");
  CHECK(p.entries().at("*") == "ANY");
  CHECK(p.mode_for("/search") == PollingMode::all);
  CHECK(p.mode_for("/index") == PollingMode::any);
  CHECK(p.mode_for("/whatever") == PollingMode::any);
  CHECK(!p.validate());
}

TEST_CASE("polling: one mode for every endpoint") {
  Polling p = "ALL";
  CHECK(p.entries().size() == 1);
  CHECK(p.entries().at("*") == "ALL");
  CHECK(p.mode_for("/index") == PollingMode::all);
  CHECK(p.mode_for("/search") == PollingMode::all);
  Polling q{std::string{"PARTITION"}};
  CHECK(q.mode_for("/update") == PollingMode::partition);
}

TEST_CASE("polling: a per-endpoint map with * as the default") {
  Polling p = {{"/index", "ANY"}, {"/search", "ALL"}, {"/delete", "PARTITION"}, {"*", "ALL"}};
  CHECK(p.mode_for("/index") == PollingMode::any);
  CHECK(p.mode_for("/search") == PollingMode::all);
  CHECK(p.mode_for("/delete") == PollingMode::partition);
  CHECK(p.mode_for("/count") == PollingMode::all);
  CHECK(!p.validate());
  // Without a `*` entry, unlisted endpoints are ANY.
  Polling q{std::map<std::string, std::string>{{"/search", "ALL"}}};
  CHECK(q.mode_for("/search") == PollingMode::all);
  CHECK(q.mode_for("/index") == PollingMode::any);
}

TEST_CASE("polling: modes are case-insensitive") {
  CHECK(Polling{"all"}.mode_for("/x") == PollingMode::all);
  CHECK(Polling{"Partition"}.mode_for("/x") == PollingMode::partition);
  CHECK(Polling{"aNy"}.mode_for("/x") == PollingMode::any);
  CHECK(!Polling{"pArTiTiOn"}.validate());
  auto mode = parse_polling_mode("all");
  REQUIRE(mode);
  CHECK(*mode == PollingMode::all);
  CHECK(std::string{to_string(PollingMode::any)} == "ANY");
  CHECK(std::string{to_string(PollingMode::all)} == "ALL");
  CHECK(std::string{to_string(PollingMode::partition)} == "PARTITION");
}

TEST_CASE("polling: an unknown mode is an invalid_config error naming the entry") {
  Polling p = {{"/x", "SOME"}, {"*", "ALL"}};
  auto err = p.validate();
  REQUIRE(err);
  CHECK(is(err, errc::invalid_config));
  CHECK(error_message(err)
        == "polling['/x']: unknown mode 'SOME' (expected ANY, ALL or PARTITION)");
  // Routing does not fail on it: the bad entry counts as ANY.
  CHECK(p.mode_for("/x") == PollingMode::any);
  CHECK(p.mode_for("/y") == PollingMode::all);
  auto parsed = parse_polling_mode("SOME");
  REQUIRE(!parsed);
  CHECK(is(parsed.error(), errc::invalid_config));
  CHECK(!parse_polling_mode(""));
}
