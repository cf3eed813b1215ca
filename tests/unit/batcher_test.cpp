// Dynamic batching's decisions (runtime/batcher.hpp), without actors; and
// uses_dynamic_batching in flow YAML.
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"
#include "runtime/batcher.hpp"

using namespace caflow;
using detail::Batcher;

namespace {

Request request(const std::string& endpoint, std::vector<std::string> ids,
                Params params = Params::object()) {
  Request r;
  r.id = "req-" + (ids.empty() ? std::string{"empty"} : ids.front());
  r.endpoint = endpoint;
  for (auto& id : ids)
    r.docs.emplace_back().id = id;
  r.parameters = std::move(params);
  return r;
}

Batcher batcher(uint32_t size, int timeout_ms = 10) {
  return Batcher{
    {{"/encode",
      {.preferred_batch_size = size, .timeout = std::chrono::milliseconds{timeout_ms}}}}};
}

std::vector<std::string> ids(const DocumentArray& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs)
    out.push_back(d.id);
  return out;
}

}  // namespace

TEST_CASE("batcher: a batch is flushed when it reaches the preferred size") {
  auto b = batcher(3);
  CHECK(b.batches("/encode"));
  CHECK_FALSE(b.batches("/index"));
  auto first = b.add(1, request("/encode", {"a"}));
  CHECK(first.ready.empty());
  REQUIRE(first.timer);  // the first request of a batch starts its timer
  CHECK(first.timer->timeout == std::chrono::milliseconds{10});
  auto second = b.add(2, request("/encode", {"b"}));
  CHECK(second.ready.empty());
  CHECK_FALSE(second.timer);
  CHECK(b.pending() == 2);
  auto third = b.add(3, request("/encode", {"c"}));
  REQUIRE(third.ready.size() == 1);
  CHECK(third.ready[0].tickets == std::vector<uint64_t>{1, 2, 3});
  CHECK(third.ready[0].sizes == std::vector<size_t>{1, 1, 1});
  CHECK(ids(third.ready[0].docs) == std::vector<std::string>{"a", "b", "c"});
  CHECK(b.pending() == 0);
  // The first batch's timer fires after the flush: nothing to do.
  CHECK_FALSE(b.expire(first.timer->group, first.timer->generation));
}

TEST_CASE("batcher: the timer flushes what gathered, and only its own batch") {
  auto b = batcher(10);
  auto first = b.add(1, request("/encode", {"a"}));
  (void)b.add(2, request("/encode", {"b", "c"}));
  REQUIRE(first.timer);
  auto batch = b.expire(first.timer->group, first.timer->generation);
  REQUIRE(batch);
  CHECK(batch->sizes == std::vector<size_t>{1, 2});
  CHECK(batch->requests[1].id == "req-b");
  // A new batch starts a new timer; the old generation no longer matches.
  auto next = b.add(3, request("/encode", {"d"}));
  REQUIRE(next.timer);
  CHECK(next.timer->generation != first.timer->generation);
  CHECK_FALSE(b.expire(next.timer->group, first.timer->generation));
  CHECK(b.expire(next.timer->group, next.timer->generation));
}

TEST_CASE("batcher: a request that would overfill a batch starts the next one") {
  auto b = batcher(4);
  (void)b.add(1, request("/encode", {"a", "b", "c"}));
  auto added = b.add(2, request("/encode", {"d", "e"}));
  REQUIRE(added.ready.size() == 1);  // a, b, c go now; d, e wait
  CHECK(ids(added.ready[0].docs) == std::vector<std::string>{"a", "b", "c"});
  CHECK(added.timer);  // d, e are the first of a new batch
  CHECK(b.pending() == 1);
  // Larger than the preferred size: a batch of its own, at once, after the
  // batch that was gathering.
  auto big = b.add(3, request("/encode", {"f", "g", "h", "i", "j"}));
  REQUIRE(big.ready.size() == 2);
  CHECK(ids(big.ready[0].docs) == std::vector<std::string>{"d", "e"});
  CHECK(big.ready[1].docs.size() == 5);
  CHECK_FALSE(big.timer);
  CHECK(b.pending() == 0);
}

TEST_CASE("batcher: only requests with equal parameters share a batch") {
  auto b = batcher(2);
  auto one = b.add(1, request("/encode", {"a"}, Params{{"top_k", 1}}));
  auto two = b.add(2, request("/encode", {"b"}, Params{{"top_k", 2}}));
  CHECK(one.ready.empty());
  CHECK(two.ready.empty());
  REQUIRE(two.timer);  // a group of its own, with its own timer
  CHECK(two.timer->group != one.timer->group);
  auto three = b.add(3, request("/encode", {"c"}, Params{{"top_k", 1}}));
  REQUIRE(three.ready.size() == 1);
  CHECK(three.ready[0].tickets == std::vector<uint64_t>{1, 3});
  CHECK(three.ready[0].parameters.get_int("top_k", 0) == 1);
  auto rest = b.drain();
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].tickets == std::vector<uint64_t>{2});
  CHECK(rest[0].parameters.get_int("top_k", 0) == 2);
}

TEST_CASE("batcher: results are split back per request, or the batch fails") {
  auto b = batcher(3);
  (void)b.add(1, request("/encode", {"a", "b"}));
  auto added = b.add(2, request("/encode", {"c"}));
  REQUIRE(added.ready.size() == 1);
  auto& batch = added.ready[0];
  auto out = batch.docs;
  for (auto& d : out)
    d.text = "seen " + d.id;
  auto parts = detail::split_batch(batch, out);
  REQUIRE(parts);
  REQUIRE(parts->size() == 2);
  CHECK(ids((*parts)[0]) == std::vector<std::string>{"a", "b"});
  CHECK((*parts)[1][0].text == "seen c");
  out.push_back(Document{});
  auto bad = detail::split_batch(batch, out);
  REQUIRE_FALSE(bad);
  CHECK(error_message(bad.error()).find("returned 4 documents for a batch of 3")
        != std::string::npos);
}

TEST_CASE("uses_dynamic_batching in flow YAML") {
  auto flow = Flow::parse(R"(
executors:
  - name: encoder
    uses: NoOp
    uses_dynamic_batching:
      /encode: {preferred_batch_size: 64, timeout: 10}
      /embed: {preferred_batch_size: 8}
)",
                          "flow.yml");
  REQUIRE(flow);
  const auto& b = flow->deployments()[0].dynamic_batching;
  REQUIRE(b.size() == 2);
  CHECK(b.at("/encode").preferred_batch_size == 64);
  CHECK(b.at("/encode").timeout == std::chrono::milliseconds{10});
  CHECK(b.at("/embed").timeout == std::chrono::milliseconds{10});  // the default
  auto error_of = [](const std::string& entry) {
    auto f = Flow::parse(
      "executors:\n  - name: e\n    uses: NoOp\n    uses_dynamic_batching:" + entry, "flow.yml");
    REQUIRE_FALSE(f);
    return error_message(f.error());
  };
  CHECK(error_of(" 5\n")
        == "flow.yml:4: executors[0].uses_dynamic_batching: expected a mapping of endpoints "
           "to {preferred_batch_size, timeout}, got '5'");
  CHECK(error_of("\n      /encode: {timeout: 10}\n")
        == "flow.yml:5: executors[0].uses_dynamic_batching./encode.preferred_batch_size: "
           "is required (documents per batch)");
  CHECK(error_of("\n      /encode: {preferred_batch_size: 0}\n")
          .find("flow.yml:5: executors[0].uses_dynamic_batching./encode.preferred_batch_size:")
        == 0);
  CHECK(error_of("\n      /encode: {preferred_batch_size: 4, timout: 3}\n")
          .find("flow.yml:5: executors[0].uses_dynamic_batching./encode.timout: unknown key")
        == 0);
  CHECK(error_of("\n      /encode: {preferred_batch_size: 4, timeout: -1}\n")
          .find("flow.yml:5: executors[0].uses_dynamic_batching./encode.timeout:")
        == 0);
  CHECK(error_of("\n      encode: {preferred_batch_size: 4}\n")
        == "flow.yml:5: executors[0].uses_dynamic_batching.encode: expected an endpoint such "
           "as /encode");
  // The code API is checked by validate.
  Flow coded;
  coded.add({.name = "e", .uses = "NoOp", .dynamic_batching = {{"/encode", {}}}});
  auto err = coded.validate();
  CHECK(error_message(err)
        == "deployment 'e': uses_dynamic_batching: /encode: preferred_batch_size must be at "
           "least 1, got 0");
}
