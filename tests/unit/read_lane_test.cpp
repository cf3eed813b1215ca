// The replica's read lane (actors/read_lane.hpp), on real threads: a declared
// read of an executor with concurrent_reads is answered while a write holds
// the replica; one without keeps the replica's strict order; reads see every
// acknowledged write; the executor closes before the replica is down.
//
// A write here blocks on a gate that only the test opens, after the read's
// answer came back: without the lane that answer never comes, and the test
// fails at its bound (60 s) instead of passing.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>

#include "actors/replica.hpp"
#include "caflow/errors.hpp"
#include "caflow/type_ids.hpp"
#include "tests/unit/indexer_fixture.hpp"

using namespace caflow;

namespace {

constexpr auto bound = std::chrono::seconds(60);

// What the probe executors share with the test (one test at a time).
struct Probe {
  std::mutex m;
  std::condition_variable cv;
  bool gate_open = true;
  int writing = 0;      // writes inside their handler
  int64_t written = 0;  // writes returned
  int closed = 0;       // close() calls
};
Probe probe;

int64_t this_thread() {
  return static_cast<int64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()));
}

// `/write` (held while the gate is closed) and `/read`, which reports what
// it saw: {"writing", "written", "thread", "docs"}.
class ProbeBase : public Executor {
 public:
  static constexpr std::string_view read_endpoints[] = {"/read"};

  explicit ProbeBase(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("/write", [](DocumentArray&, const Params&) {
      std::unique_lock<std::mutex> lock{probe.m};
      ++probe.writing;
      probe.cv.notify_all();
      probe.cv.wait(lock, [] { return probe.gate_open; });
      --probe.writing;
      ++probe.written;
      return Params{{"thread", this_thread()}};
    });
    on("/read", [](DocumentArray& docs, const Params&) {
      std::lock_guard<std::mutex> lock{probe.m};
      return Params{{"writing", probe.writing > 0},
                    {"written", probe.written},
                    {"thread", this_thread()},
                    {"docs", static_cast<int64_t>(docs.size())}};
    });
  }
  void close() override {
    std::lock_guard<std::mutex> lock{probe.m};
    ++probe.closed;
  }
};

class ConcurrentProbe : public ProbeBase {
 public:
  static constexpr bool concurrent_reads = true;
  using ProbeBase::ProbeBase;
};
CAFLOW_REGISTER_STATEFUL_EXECUTOR_AS(ConcurrentProbe, "ConcurrentProbe");

class StrictProbe : public ProbeBase {
 public:
  using ProbeBase::ProbeBase;
};
CAFLOW_REGISTER_STATEFUL_EXECUTOR_AS(StrictProbe, "StrictProbe");

void set_gate(bool open) {
  std::lock_guard<std::mutex> lock{probe.m};
  probe.gate_open = open;
  probe.cv.notify_all();
}

struct fixture {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::vector<replica_actor> spawned;  // stopped at the end, so the system can shut down

  fixture() {
    add_types(cfg);
    sys.emplace(cfg);
    std::lock_guard<std::mutex> lock{probe.m};
    probe.gate_open = true;
    probe.writing = 0;
    probe.written = 0;
    probe.closed = 0;
  }

  ~fixture() { stop(); }

  // Stops every replica and waits for them (and their executors' close()).
  void stop() {
    set_gate(true);
    for (auto& r : spawned)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    spawned.clear();
    sys.reset();
  }

  replica_actor spawn(ExecutorContext ctx) {
    spawned.push_back(sys->spawn<caf::detached>(actors::replica, std::move(ctx)));
    return spawned.back();
  }

  replica_actor spawn(const std::string& uses, ExecutorContext ctx = {}) {
    ctx.name = "probe";
    ctx.uses = uses;
    return spawn(std::move(ctx));
  }

  // The answer to `req`, or the error.
  caf::expected<Response> try_ask(const replica_actor& r, Request req) {
    caf::scoped_actor self{*sys};
    caf::expected<Response> out{caf::error{}};
    self->request(r, bound, std::move(req))
      .receive([&](Response& resp) { out = std::move(resp); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  // The answer to `req`, or the test fails naming `what`.
  Response ask(const replica_actor& r, Request req, const char* what) {
    auto out = try_ask(r, std::move(req));
    REQUIRE_MESSAGE(out, (std::string{what} + ": " + describe(out)));
    return std::move(*out);
  }
};

Document doc(std::string id, Embedding e = {}) {
  Document d;
  d.id = std::move(id);
  d.embedding = std::move(e);
  return d;
}

Request request(const std::string& endpoint, size_t docs = 0) {
  Request req;
  req.endpoint = endpoint;
  for (size_t i = 0; i < docs; ++i)
    req.docs.push_back(doc("d" + std::to_string(i)));
  return req;
}

void wait_writing(int n) {
  std::unique_lock<std::mutex> lock{probe.m};
  REQUIRE(probe.cv.wait_for(lock, bound, [&] { return probe.writing == n; }));
}

// Opens the gate when the test leaves, however it leaves, before the writer
// thread declared ahead of it is joined.
struct open_at_exit {
  ~open_at_exit() { set_gate(true); }
};

}  // namespace

TEST_CASE("read lane: the declaration is registered") {
  auto& registry = ExecutorRegistry::instance();
  CHECK(registry.concurrent_reads("ConcurrentProbe"));
  CHECK_FALSE(registry.concurrent_reads("StrictProbe"));
  CHECK(registry.concurrent_reads("Indexer"));
  CHECK(registry.read_endpoints("ConcurrentProbe") == std::vector<std::string>{"/read"});
}

TEST_CASE_FIXTURE(fixture,
                  "read lane: a declared read is answered while a write holds the replica") {
  auto replica = spawn("ConcurrentProbe");
  set_gate(false);
  caf::expected<Response> write_answer{caf::error{}};
  std::jthread writer{[&] { write_answer = try_ask(replica, request("/write")); }};
  open_at_exit opener;
  wait_writing(1);
  auto read = ask(replica, request("/read"), "the read waited behind the write");
  set_gate(true);  // only now: the write was in its handler all along
  writer.join();
  CHECK(read.parameters.get_bool("writing", false));
  CHECK(read.parameters.get_int("written", -1) == 0);
  REQUIRE_MESSAGE(write_answer, describe(write_answer));
  CHECK(read.parameters.get_int("thread", 0) != write_answer->parameters.get_int("thread", 0));
}

TEST_CASE_FIXTURE(fixture, "read lane: dynamic batches of reads gather on the lane") {
  ExecutorContext ctx;
  ctx.dynamic_batching["/read"] = DynamicBatching{.preferred_batch_size = 4,
                                                  .timeout = std::chrono::milliseconds(600000)};
  auto replica = spawn("ConcurrentProbe", std::move(ctx));
  set_gate(false);
  std::jthread writer{[&] { (void)try_ask(replica, request("/write")); }};
  open_at_exit opener;
  wait_writing(1);
  // Two requests of 2 documents fill the batch of 4: one call sees all 4.
  caf::scoped_actor self{*sys};
  auto first = self->request(replica, bound, request("/read", 2));
  auto second = self->request(replica, bound, request("/read", 2));
  for (auto* h : {&first, &second})
    h->receive(
      [&](Response& resp) {
        CHECK(resp.docs.size() == 2);
        CHECK(resp.parameters.get_int("docs", 0) == 4);
        CHECK(resp.parameters.get_bool("writing", false));
      },
      [&](caf::error& err) { FAIL("a batched read: " << describe(err)); });
}

TEST_CASE_FIXTURE(fixture,
                  "read lane: an executor without concurrent_reads keeps the strict order") {
  auto replica = spawn("StrictProbe");
  caf::scoped_actor self{*sys};
  // Interleaved without waiting: each read sees exactly the writes sent before it.
  using handle = decltype(self->request(replica, bound, request("/read")));
  std::vector<handle> writes;
  std::vector<handle> reads;
  for (int i = 0; i < 20; ++i) {
    writes.push_back(self->request(replica, bound, request("/write")));
    reads.push_back(self->request(replica, bound, request("/read")));
  }
  std::vector<int64_t> threads;
  for (size_t i = 0; i < reads.size(); ++i) {
    writes[i].receive(
      [&](Response& resp) { threads.push_back(resp.parameters.get_int("thread", 0)); },
      [&](caf::error& err) { FAIL(describe(err)); });
    reads[i].receive(
      [&](Response& resp) {
        CHECK(resp.parameters.get_int("written", -1) == static_cast<int64_t>(i + 1));
        CHECK_FALSE(resp.parameters.get_bool("writing", true));
        // On the replica's own thread, the one its writes run on.
        CHECK(resp.parameters.get_int("thread", 0) == threads.back());
      },
      [&](caf::error& err) { FAIL(describe(err)); });
  }
}

TEST_CASE_FIXTURE(fixture, "read lane: the executor is closed before the replica is down") {
  auto replica = spawn("ConcurrentProbe");
  ask(replica, request("/read"), "a read");  // the lane holds the executor now
  caf::scoped_actor self{*sys};
  self->monitor(replica);
  caf::anon_send_exit(replica, caf::exit_reason::kill);
  bool down = false;
  self->receive([&](const caf::down_msg&) { down = true; }, caf::after(bound) >> [] {});
  REQUIRE(down);
  std::lock_guard<std::mutex> lock{probe.m};
  CHECK(probe.closed == 1);
}

TEST_CASE_FIXTURE(fixture,
                  "read lane: Indexer searches beside a writer see every acknowledged write") {
  auto dir = std::filesystem::temp_directory_path()
             / ("caflow-read-lane-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto replica = spawn(test::indexer_context(dir, Params{{"metric", "euclidean"}}));
  // Background writes in [0, 1)² keep the replica busy; the keys lie far away.
  std::atomic<bool> stop_writing{false};
  std::jthread writer{[&] {
    for (int b = 0; !stop_writing.load(); ++b) {
      Request req = request("/index");
      for (int i = 0; i < 10; ++i)
        req.docs.push_back(
          doc("bg-" + std::to_string(b * 10 + i),
              Embedding::dense_vector(
                {static_cast<float>((b * 7 + i) % 97) / 97.0f, static_cast<float>(i) / 10.0f})));
      (void)try_ask(replica, std::move(req));
    }
  }};
  struct stop_at_exit {
    std::atomic<bool>& flag;
    ~stop_at_exit() { flag = true; }
  } stopper{stop_writing};
  for (int k = 0; k < 100; ++k) {
    auto key = Embedding::dense_vector({1000.0f + static_cast<float>(k), 0.0f});
    Request put = request("/index");
    put.docs.push_back(doc("key-" + std::to_string(k), key));
    ask(replica, std::move(put), "indexing a key");
    Request search = request("/search");
    search.docs.push_back(doc("q", key));
    search.parameters = Params{{"top_k", 1}};
    auto found = ask(replica, std::move(search), "searching a key");
    REQUIRE(found.docs.size() == 1);
    REQUIRE(found.docs[0].matches.size() == 1);
    CHECK(found.docs[0].matches[0].id == "key-" + std::to_string(k));
  }
  stop_writing = true;
  writer.join();
  replica = replica_actor{};  // the system waits for every handle to go
  stop();                     // the replica closes the database
  std::filesystem::remove_all(dir);
}
