// Crash durability of `caflow flow`: a client streams /index requests while
// the daemon is killed with SIGKILL at random points and restarted on the
// same workspace. Afterwards every acknowledged document is stored,
// searchable and intact, and nothing is stored twice. The RNG is seeded from
// the clock; the seed is printed so that a failure can be replayed
// (CAFLOW_CRASH_SEED=<seed>).
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "best_matches.hpp"
#include "daemon/daemon_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;

namespace {

// The vectorizer only knows its corpus' words, so each document's text is a
// distinct combination of three corpus words, one from each family: no two
// documents share a TF-IDF vector, so searching a document's text must find
// that document first (cosine 1 against at most 2/3 for any other).
constexpr int family = 60;
constexpr int distinct_texts = family * family * family;

void write_vocabulary(const fs::path& path) {
  auto out = JsonlWriter::create(path.string());
  REQUIRE(out);
  for (int k = 0; k < family; ++k) {
    Document d;
    d.id = "vocab-" + std::to_string(k);
    d.text = "wa" + std::to_string(k) + " wb" + std::to_string(k) + " wc" + std::to_string(k);
    REQUIRE_FALSE(out->write(d));
  }
  REQUIRE_FALSE(out->flush());
}

std::string text_of(int i) {
  return "wa" + std::to_string(i % family) + " wb" + std::to_string((i / family) % family) + " wc"
         + std::to_string((i / (family * family)) % family);
}

unsigned seed_from_env_or_clock() {
  if (const char* s = std::getenv("CAFLOW_CRASH_SEED"))
    return static_cast<unsigned>(std::stoul(s));
  return static_cast<unsigned>(std::chrono::system_clock::now().time_since_epoch().count());
}

// What the writer sent and what the daemon acknowledged, shared with the
// thread that kills the daemon.
struct Ledger {
  std::mutex mtx;
  std::set<std::string> sent;  // every id ever in a request, answered or not
  std::vector<std::string> acked;
  int next = 0;
};

// Posts batches of 5 new documents until a post fails (the daemon died) or
// `limit` passes.
void stream_posts(const Daemon& daemon, Ledger& ledger, std::chrono::seconds limit) {
  Client client{daemon.host, daemon.port, {.timeout = std::chrono::seconds(30)}};
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    DocumentArray batch;
    if (ledger.next + 5 > distinct_texts)
      return;  // texts would repeat, and searches would find twins
    {
      std::lock_guard<std::mutex> guard{ledger.mtx};
      for (int j = 0; j < 5; ++j, ++ledger.next) {
        auto& d = batch.emplace_back();
        d.id = "c" + std::to_string(ledger.next);
        d.text = text_of(ledger.next);
        ledger.sent.insert(d.id);  // before sending: it may be written
      }
    }
    auto result = client.post("/index", batch, {.request_size = 5});
    if (!result)
      return;
    std::lock_guard<std::mutex> guard{ledger.mtx};
    for (const auto& d : batch)
      ledger.acked.push_back(d.id);
  }
}

int number_of(const std::string& id) {
  return std::stoi(id.substr(1));
}

}  // namespace

TEST_CASE("SIGKILL at random points loses no acknowledged document and duplicates none") {
  auto seed = seed_from_env_or_clock();
  MESSAGE("crash test seed: " << seed << " (replay with CAFLOW_CRASH_SEED=" << seed << ")");
  std::mt19937 rng{seed};
  Scratch scratch;
  write_vocabulary(scratch.dir / "corpus.jsonl");
  auto config = scratch.config();
  Ledger ledger;

  constexpr int rounds = 4;
  for (int round = 0; round < rounds; ++round) {
    Daemon daemon{config};
    std::thread writer{[&] { stream_posts(daemon, ledger, std::chrono::seconds(60)); }};
    auto delay = std::uniform_int_distribution<int>{200, 1500}(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    daemon.process->signal(SIGKILL);
    auto code = daemon.process->wait(30s);
    writer.join();  // its post fails once the connection drops
    REQUIRE(code);
    CHECK(*code == 128 + SIGKILL);
    std::lock_guard<std::mutex> guard{ledger.mtx};
    MESSAGE("round " << round << ": killed after " << delay << " ms; sent " << ledger.sent.size()
                     << ", acknowledged " << ledger.acked.size());
  }
  REQUIRE(ledger.acked.size() > 0);

  Daemon daemon{config};
  Client client{daemon.host, daemon.port, {.timeout = std::chrono::seconds(60)}};
  auto stored = count(client);
  CHECK(stored >= static_cast<int64_t>(ledger.acked.size()));
  CHECK(stored <= static_cast<int64_t>(ledger.sent.size()));

  // Fetch every id ever sent: acknowledged ones must all come back, each
  // at most once and with the text that was sent.
  DocumentArray ids;
  for (const auto& id : ledger.sent)
    ids.emplace_back().id = id;
  auto fetched = client.post("/fetch", ids, {.request_size = 200});
  REQUIRE_MESSAGE(fetched, describe(fetched));
  std::map<std::string, int> seen;
  for (const auto& d : fetched->docs) {
    ++seen[d.id];
    CHECK_MESSAGE(d.text == text_of(number_of(d.id)), d.id);
  }
  for (const auto& [id, n] : seen)
    CHECK_MESSAGE(n == 1, id << " fetched " << n << " times");
  CHECK(static_cast<int64_t>(seen.size()) == stored);
  for (const auto& id : ledger.acked)
    CHECK_MESSAGE(seen.count(id) == 1, "acknowledged " << id << " is missing");

  // Searching an acknowledged document's own text finds it first.
  DocumentArray queries;
  for (const auto& id : ledger.acked)
    queries.emplace_back().text = text_of(number_of(id));
  auto found = client.post("/search", queries,
                           {.request_size = 100, .parameters = Params{{"top_k", 1}}});
  REQUIRE_MESSAGE(found, describe(found));
  check_best_matches(found->docs, ledger.acked);
  CHECK(daemon.stop() == 0);
}
