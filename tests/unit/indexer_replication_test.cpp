// The Indexer as a replicated shard (caflow/replication.hpp), without
// actors: numbered writes applied once and stored with their number, the
// operation log and its retention, a snapshot installed on another copy,
// and an interrupted one.
#include <doctest/doctest.h>

#include "caflow/executor.hpp"
#include "caflow/replication.hpp"
#include "runtime/op_record.hpp"
#include "tests/temp_workspace.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;
using namespace caflow::test;

namespace {

DocumentArray vectors(size_t first, size_t n, size_t dim = 4) {
  DocumentArray out;
  for (size_t i = first; i < first + n; ++i) {
    auto& d = out.emplace_back();
    d.id = "d" + std::to_string(i);
    std::vector<float> v(dim, 0.25f);
    v[i % dim] += 1.0f + static_cast<float>(i) / 1000.0f;
    d.embedding = Embedding::dense_vector(std::move(v));
  }
  return out;
}

Replicated& copy(Executor& e) {
  auto* r = dynamic_cast<Replicated*>(&e);
  REQUIRE(r != nullptr);
  return *r;
}

// Applies `req` as write `seq`, the way a replica does.
void apply(Executor& e, uint64_t seq, Request req) {
  WriteStamp stamp{seq, detail::encode_op(req)};
  (void)e.handle(req.endpoint, req.docs, req.parameters, stamp);
}

Request index_req(DocumentArray docs) {
  Request r;
  r.endpoint = "/index";
  r.docs = std::move(docs);
  return r;
}

int64_t count(Executor& e) {
  DocumentArray none;
  return e.handle("/count", none, Params::object()).get_int("count", -1);
}

}  // namespace

TEST_CASE("Indexer: reads are declared; every other endpoint of it writes") {
  auto& r = ExecutorRegistry::instance();
  CHECK(r.replicated("Indexer"));
  CHECK_FALSE(r.writes("Indexer", "/search"));
  CHECK_FALSE(r.writes("Indexer", "/fetch"));
  CHECK_FALSE(r.writes("Indexer", "/count"));
  CHECK(r.writes("Indexer", "/index"));
  CHECK(r.writes("Indexer", "/clear"));
  CHECK(r.writes("Indexer", "/anything-else"));
  // A stateless type has no writes.
  CHECK_FALSE(r.writes("NoOp", "/index"));
}

TEST_CASE("a replicated write is applied once and its number survives a reopen") {
  TempWorkspace ws;
  auto ctx = indexer_context(ws.path);
  {
    auto e = make_executor(ctx);
    CHECK(copy(*e).applied_seq() == 0);
    apply(*e, 1, index_req(vectors(0, 10)));
    apply(*e, 2, index_req(vectors(10, 5)));
    CHECK(copy(*e).applied_seq() == 2);
    // Write 2 again (a duplicate) changes nothing.
    apply(*e, 2, index_req(vectors(100, 5)));
    CHECK(count(*e) == 15);
    auto log = copy(*e).read_log(0, 1 << 20);
    CHECK_FALSE(log.truncated);
    REQUIRE(log.seqs.size() == 2);
    CHECK(log.seqs[1] == 2);
    auto req = detail::decode_op(log.records[1]);
    REQUIRE(req);
    CHECK(req->endpoint == "/index");
    CHECK(req->docs.size() == 5);
    e->close();
  }
  auto e = make_executor(ctx);
  CHECK(copy(*e).applied_seq() == 2);
  CHECK(count(*e) == 15);
  // Deletes and clears are numbered too, including a delete that finds nothing.
  Request del;
  del.endpoint = "/delete";
  del.docs = vectors(500, 1);
  apply(*e, 3, del);
  CHECK(copy(*e).applied_seq() == 3);
  Request clear;
  clear.endpoint = "/clear";
  apply(*e, 4, clear);
  CHECK(copy(*e).applied_seq() == 4);
  CHECK(count(*e) == 0);
}

TEST_CASE("a write refused for its input is recorded as applied, with an empty record") {
  TempWorkspace ws;
  auto e = make_executor(indexer_context(ws.path));
  apply(*e, 1, index_req(vectors(0, 3, 4)));
  CHECK_THROWS_AS(apply(*e, 2, index_req(vectors(3, 2, 8))), Error);
  CHECK(copy(*e).applied_seq() == 1);
  copy(*e).skip_write(WriteStamp{2, "ignored"});
  CHECK(copy(*e).applied_seq() == 2);
  CHECK(count(*e) == 3);
  auto log = copy(*e).read_log(1, 1 << 20);
  REQUIRE(log.seqs.size() == 1);
  CHECK(log.records[0].empty());
}

TEST_CASE("the operation log keeps log_retention writes; older ones need a snapshot") {
  TempWorkspace ws;
  auto e = make_executor(indexer_context(ws.path, Params{{"log_retention", 50}}));
  for (uint64_t seq = 1; seq <= 300; ++seq)
    apply(*e, seq, index_req(vectors(seq, 1)));
  CHECK(copy(*e).read_log(0, 1 << 20).truncated);
  CHECK(copy(*e).read_log(100, 1 << 20).truncated);
  auto recent = copy(*e).read_log(260, 1 << 20);
  CHECK_FALSE(recent.truncated);
  REQUIRE(recent.seqs.size() == 40);
  CHECK(recent.seqs.front() == 261);
  // A small byte budget returns fewer records (at least one).
  auto small = copy(*e).read_log(260, 1);
  CHECK(small.seqs.size() == 1);
  // Nothing after the last write.
  auto none = copy(*e).read_log(300, 1 << 20);
  CHECK(none.seqs.empty());
  CHECK_FALSE(none.truncated);
}

namespace {

// The records the log holds: from the oldest write it still reaches back to.
std::pair<size_t, size_t> log_held(Replicated& r) {
  for (uint64_t after = 0; after < r.applied_seq(); ++after) {
    auto chunk = r.read_log(after, size_t{1} << 30);
    if (chunk.truncated)
      continue;
    size_t bytes = 0;
    for (const auto& record : chunk.records)
      bytes += record.size();
    return {chunk.seqs.size(), bytes};
  }
  return {0, 0};
}

}  // namespace

TEST_CASE("the operation log keeps at most log_retention_mb of writes, across a reopen") {
  TempWorkspace ws;
  auto ctx = indexer_context(ws.path, Params{{"log_retention_mb", 1}});
  constexpr size_t text_bytes = 64 * 1024;  // each write's record: ~64 KiB
  auto big = [](uint64_t seq) {
    auto docs = vectors(seq, 1);
    docs[0].text = std::string(text_bytes, 'x');
    return docs;
  };
  const size_t cap = (size_t{1} << 20) + (size_t{1} << 20) / 8;  // the bound and its slack
  uint64_t seq = 0;
  {
    auto e = make_executor(ctx);
    while (seq < 100) {  // the number first: the order of arguments is unspecified
      ++seq;
      apply(*e, seq, index_req(big(seq)));
    }
    auto [writes, bytes] = log_held(copy(*e));
    CHECK(bytes <= cap);
    CHECK(bytes >= (size_t{1} << 20) - 2 * text_bytes);  // cut back to the bound, not below
    CHECK(writes >= 12);
    CHECK(copy(*e).read_log(0, 1 << 20).truncated);  // a copy at 0 takes a snapshot
    // A copy a few writes behind still catches up from the log.
    auto recent = copy(*e).read_log(seq - 5, size_t{1} << 30);
    CHECK_FALSE(recent.truncated);
    CHECK(recent.seqs.size() == 5);
    e->close();
  }
  // Reopened, the log's records are counted from disk: it stays bounded.
  auto e = make_executor(ctx);
  auto [writes_before, bytes_before] = log_held(copy(*e));
  CHECK(bytes_before <= cap);
  while (seq < 150) {
    ++seq;
    apply(*e, seq, index_req(big(seq)));
  }
  auto [writes, bytes] = log_held(copy(*e));
  CHECK(bytes <= cap);
  CHECK(writes >= 12);
  CHECK(count(*e) == 150);
  // A record larger than the bound alone: the newest record is always kept.
  auto huge = vectors(1000, 1);
  huge[0].text = std::string(size_t{3} << 20, 'y');
  apply(*e, ++seq, index_req(huge));
  auto last = copy(*e).read_log(seq - 1, size_t{1} << 30);
  REQUIRE_FALSE(last.truncated);
  CHECK(last.seqs == std::vector<uint64_t>{seq});
  CHECK(copy(*e).read_log(seq - 2, size_t{1} << 30).truncated);
}

TEST_CASE("a snapshot and the log after it make another copy equal") {
  TempWorkspace a;
  TempWorkspace b;
  auto source = make_executor(indexer_context(a.path, Params{{"log_retention", 10}}));
  auto target = make_executor(indexer_context(b.path));
  uint64_t seq = 0;
  // Past the retention (records go in ranges of 64).
  for (size_t i = 0; i < 100; ++i)
    apply(*source, ++seq, index_req(vectors(i * 4, 4)));
  // The target holds something stale that the snapshot must replace.
  apply(*target, 1, index_req(vectors(9000, 3)));
  auto& t = copy(*target);
  REQUIRE(copy(*source).read_log(t.applied_seq(), 1 << 20).truncated);
  std::string after;
  uint64_t at = 0;
  bool first = true;
  do {
    auto chunk = copy(*source).read_snapshot(after, 64);
    if (first) {
      t.restore_begin();
      at = chunk.applied;
      first = false;
    }
    // Writes go on between chunks.
    ++seq;
    apply(*source, seq, index_req(vectors(5000 + seq, 1)));
    t.restore_docs(chunk.docs);
    after = chunk.next;
  } while (!after.empty());
  t.restore_end(at);
  CHECK(t.applied_seq() == at);
  auto rest = copy(*source).read_log(at, 1 << 20);
  REQUIRE_FALSE(rest.truncated);
  for (size_t i = 0; i < rest.seqs.size(); ++i) {
    auto req = detail::decode_op(rest.records[i]);
    REQUIRE(req);
    apply(*target, rest.seqs[i], std::move(*req));
  }
  CHECK(t.applied_seq() == seq);
  CHECK(count(*target) == count(*source));
  DocumentArray q = vectors(123, 1);
  auto hits = [&](Executor& e) {
    DocumentArray docs = q;
    (void)e.handle("/search", docs, Params{{"top_k", int64_t{5}}});
    std::vector<std::string> ids;
    for (const auto& m : docs[0].matches)
      ids.push_back(m.id);
    return ids;
  };
  CHECK(hits(*target) == hits(*source));
  DocumentArray stale = vectors(9000, 1);
  (void)target->handle("/fetch", stale, Params::object());
  CHECK(stale.size() == 0);
}

TEST_CASE("a snapshot interrupted by a crash leaves the copy empty at 0") {
  TempWorkspace ws;
  auto ctx = indexer_context(ws.path);
  {
    auto e = make_executor(ctx);
    apply(*e, 1, index_req(vectors(0, 10)));
    copy(*e).restore_begin();
    copy(*e).restore_docs(vectors(100, 5));
    e->close();  // no restore_end
  }
  auto e = make_executor(ctx);
  CHECK(copy(*e).applied_seq() == 0);
  CHECK(count(*e) == 0);
}

TEST_CASE("a log record holds the endpoint, documents and parameters") {
  Request r;
  r.endpoint = "/update";
  r.docs = vectors(0, 2);
  r.parameters = Params{{"x", int64_t{3}}};
  auto back = detail::decode_op(detail::encode_op(r));
  REQUIRE(back);
  CHECK(back->endpoint == "/update");
  CHECK(back->docs.size() == 2);
  CHECK(back->docs[1].embedding.values == r.docs[1].embedding.values);
  CHECK(back->parameters.get_int("x", 0) == 3);
  CHECK_FALSE(detail::decode_op("garbage"));
  CHECK_FALSE(detail::decode_op(""));
}
