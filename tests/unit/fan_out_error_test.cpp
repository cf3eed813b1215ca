// The code a fan-out fails with when shards failed: input errors stay
// input errors (HTTP 400); anything else keeps the head's own code.
#include <doctest/doctest.h>

#include <caf/sec.hpp>

#include "caflow/errors.hpp"
#include "runtime/fan_out_error.hpp"

using namespace caflow;
using detail::fan_out_code;

TEST_CASE("fan_out_code: deterministic input errors are the client's") {
  auto dim = make_error(errc::dimension_mismatch, "indexer/shard-0: 5 != 4");
  auto arg = make_error(errc::invalid_argument, "indexer/shard-1: top_k");
  auto gone = make_error(errc::unavailable, "indexer/shard-1: node lost");
  auto threw = make_error(errc::executor_failed, "indexer/shard-0: boom");
  CHECK(fan_out_code({dim, dim}, errc::all_shards_failed) == errc::dimension_mismatch);
  CHECK(fan_out_code({dim}, errc::unavailable) == errc::dimension_mismatch);
  CHECK(fan_out_code({dim, arg}, errc::all_shards_failed) == errc::invalid_argument);
  // One shard that could succeed on a retry keeps the request retryable.
  CHECK(fan_out_code({dim, gone}, errc::unavailable) == errc::unavailable);
  CHECK(fan_out_code({threw}, errc::all_shards_failed) == errc::all_shards_failed);
  CHECK(fan_out_code({}, errc::unavailable) == errc::unavailable);
  CHECK(fan_out_code({caf::make_error(caf::sec::request_timeout)}, errc::unavailable)
        == errc::unavailable);
}
