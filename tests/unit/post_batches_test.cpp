// The post engines' shared logic (runtime/post_batches.hpp): how documents
// are cut into requests and how answers are joined and carry failures.
#include <doctest/doctest.h>

#include "runtime/post_batches.hpp"

using namespace caflow;
using namespace caflow::detail;

TEST_CASE("request_slices: request_size each, the last shorter, one empty request for none") {
  using Slices = std::vector<std::pair<size_t, size_t>>;
  CHECK(request_slices(7, 3) == Slices{{0, 3}, {3, 6}, {6, 7}});
  CHECK(request_slices(6, 3) == Slices{{0, 3}, {3, 6}});
  CHECK(request_slices(2, 0) == Slices{{0, 1}, {1, 2}});  // 0 counts as 1
  CHECK(request_slices(0, 100) == Slices{{0, 0}});        // as Jina: /count
  CHECK(request_slices(5, 100) == Slices{{0, 5}});
}

TEST_CASE("join_answers: documents in request order, parameters reduced, failures summed") {
  std::vector<PostAnswer> answers(2);
  answers[0].docs.emplace_back().id = "a";
  answers[0].docs.emplace_back().id = "b";
  answers[0].parameters = Params{{"count", 2}};
  answers[1].docs.emplace_back().id = "c";
  answers[1].parameters = Params{{"count", 3}};
  answers[1].failed_shards = 1;
  answers[1].failures = {"indexer/shard-1: boom"};
  auto out = join_answers(answers);
  REQUIRE(out.docs.size() == 3);
  CHECK(out.docs[0].id == "a");
  CHECK(out.docs[2].id == "c");
  CHECK(out.parameters.get_int("count", 0) == 5);  // reduce_parameters sums counts
  CHECK(out.failed_shards == 1);
  CHECK(out.failures == std::vector<std::string>{"indexer/shard-1: boom"});
}

TEST_CASE("shard failures travel in the parameters and come back out of them") {
  Params p{{"top_k", 3}};
  put_shard_failures(p, 0, {});
  CHECK(p.find(failed_shards_key) == nullptr);  // nothing when none failed
  put_shard_failures(p, 2, {"s0: x", "s1: y"});
  PostAnswer back;
  take_shard_failures(p, back);
  CHECK(back.failed_shards == 2);
  CHECK(back.failures == std::vector<std::string>{"s0: x", "s1: y"});
  CHECK(p.find(failed_shards_key) == nullptr);
  CHECK(p.find(failures_key) == nullptr);
  CHECK(p.get_int("top_k", 0) == 3);
  Params odd{{failed_shards_key, "many"}, {failures_key, 7}};  // wrong types: dropped
  PostAnswer none;
  take_shard_failures(odd, none);
  CHECK(none.failed_shards == 0);
  CHECK(none.failures.empty());
  CHECK(odd.size() == 0);
}
