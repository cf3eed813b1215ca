#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/partition.hpp"

using namespace caflow;
using caflow::detail::shard_of;

namespace {

DocumentArray numbered_docs(size_t n) {
  DocumentArray docs;
  for (size_t i = 0; i < n; ++i) {
    auto& d = docs.emplace_back();
    d.id = "doc-" + std::to_string(i);
    d.text = "text " + std::to_string(i);
  }
  return docs;
}

}  // namespace

TEST_CASE("partition: shard_of is FNV-1a 64 modulo the shard count") {
  // Pinned values: stored shards depend on them, so a changed hash must fail.
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c, of "foobar" 0x85944171f73967e8.
  CHECK(shard_of("a", 4294967295u) == 895863001u);
  CHECK(shard_of("foobar", 4294967295u) == 2093853018u);
  CHECK(shard_of("", 1000003) == 801432u);
  CHECK(shard_of("doc-1", 4) == 3u);
  CHECK(shard_of("doc-1", 3) == 2u);
  CHECK(shard_of("0123456789abcdef0123456789abcdef", 7) == 3u);
  CHECK(shard_of("anything", 1) == 0u);
  CHECK(shard_of("anything", 0) == 0u);
}

TEST_CASE("partition: shard_of spreads ids roughly uniformly") {
  std::vector<size_t> counts(4, 0);
  for (int i = 0; i < 10000; ++i)
    ++counts[shard_of("id-" + std::to_string(i), 4)];
  for (auto c : counts) {
    CHECK(c >= 2000);
    CHECK(c <= 3000);
  }
}

TEST_CASE("partition: every document goes to its shard, positions recorded") {
  auto docs = numbered_docs(100);
  auto original = docs;
  auto plan = detail::partition(std::move(docs), 3);
  CHECK(plan.total == 100);
  REQUIRE(plan.parts.size() == 3);
  size_t sum = 0;
  for (uint32_t k = 0; k < 3; ++k) {
    REQUIRE(plan.positions[k].size() == plan.parts[k].size());
    for (size_t j = 0; j < plan.parts[k].size(); ++j) {
      CHECK(shard_of(plan.parts[k][j].id, 3) == k);
      CHECK(plan.parts[k][j] == original[plan.positions[k][j]]);
      CHECK(plan.ids[k][j] == plan.parts[k][j].id);
      if (j > 0)
        CHECK(plan.positions[k][j - 1] < plan.positions[k][j]);
    }
    sum += plan.parts[k].size();
  }
  CHECK(sum == 100);
}

TEST_CASE("partition: reassemble restores request order exactly") {
  auto docs = numbered_docs(1000);
  auto expected = docs;
  auto plan = detail::partition(std::move(docs), 3);
  std::vector<DocumentArray> answers;
  for (auto& part : plan.parts) {
    // The executor edits in place; the parts are moved out, as a head does.
    for (auto& d : part)
      d.tags["seen"] = true;
    answers.push_back(std::move(part));
  }
  for (auto& d : expected)
    d.tags["seen"] = true;
  auto out = detail::reassemble(plan, std::move(answers));
  CHECK(out == expected);
}

TEST_CASE("partition: a failed shard's documents are absent, the rest keep order") {
  auto docs = numbered_docs(1000);
  auto expected_all = docs;
  auto plan = detail::partition(std::move(docs), 3);
  std::vector<DocumentArray> answers{plan.parts[0], DocumentArray{}, plan.parts[2]};
  auto out = detail::reassemble(plan, std::move(answers), {true, false, true});
  DocumentArray expected;
  for (const auto& d : expected_all)
    if (shard_of(d.id, 3) != 1)
      expected.push_back(d);
  CHECK(out.size() == 1000 - plan.positions[1].size());
  CHECK(out == expected);
}

TEST_CASE("partition: answers with another count are placed by id, new ones appended") {
  auto docs = numbered_docs(30);
  auto plan = detail::partition(std::move(docs), 2);
  REQUIRE(plan.parts[0].size() >= 2);
  REQUIRE(plan.parts[1].size() >= 1);
  // Shard 0 drops its first document; shard 1 adds one and returns the rest
  // reversed (placed by id, since the count changed).
  DocumentArray a0;
  for (size_t j = 1; j < plan.parts[0].size(); ++j)
    a0.push_back(plan.parts[0][j]);
  DocumentArray a1;
  a1.emplace_back().id = "new-1";
  for (size_t j = plan.parts[1].size(); j-- > 0;)
    a1.push_back(plan.parts[1][j]);
  auto dropped = plan.parts[0][0].id;
  auto out = detail::reassemble(plan, {a0, a1});
  REQUIRE(out.size() == 30);
  CHECK(!out.contains(dropped));
  CHECK(out[29].id == "new-1");
  // The kept documents are in request order.
  for (size_t i = 0; i + 1 < 29; ++i)
    CHECK(std::stoi(out[i].id.substr(4)) < std::stoi(out[i + 1].id.substr(4)));
}

TEST_CASE("partition: an answer of the same count is placed by position") {
  auto plan = detail::partition(numbered_docs(10), 2);
  std::vector<DocumentArray> answers;
  for (auto& part : plan.parts) {
    DocumentArray renamed;
    for (const auto& d : part)
      renamed.emplace_back().id = "r" + d.id;  // an executor that replaces ids
    answers.push_back(std::move(renamed));
  }
  auto out = detail::reassemble(plan, std::move(answers));
  REQUIRE(out.size() == 10);
  for (size_t i = 0; i < 10; ++i)
    CHECK(out[i].id == "rdoc-" + std::to_string(i));
}

TEST_CASE("partition: zero shards counts as one; empty requests are fine") {
  auto plan = detail::partition(numbered_docs(5), 0);
  REQUIRE(plan.parts.size() == 1);
  CHECK(plan.parts[0].size() == 5);
  auto empty = detail::partition(DocumentArray{}, 4);
  CHECK(empty.total == 0);
  CHECK(detail::reassemble(empty, std::vector<DocumentArray>(4)).empty());
}
