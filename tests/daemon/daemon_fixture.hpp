// Fixtures of the daemon tests: a scratch directory with a small generated
// corpus and a flow config, and `caflow flow` as a child process on a port
// the kernel picked. Shared by daemon_test.cpp and crash_test.cpp.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "caflow/client.hpp"
#include "caflow/document.hpp"
#include "caflow/errors.hpp"
#include "caflow/jsonl.hpp"
#include "daemon/process.hpp"

namespace caflow::testing {

namespace fs = std::filesystem;

inline const std::string cli = CAFLOW_CLI;

// A scratch directory with a small corpus and the seed's flow config.
struct Scratch {
  fs::path dir;

  Scratch() {
    dir = fs::temp_directory_path()
          / ("caflow-daemon-" + std::to_string(getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_corpus(dir / "corpus.jsonl", 300);
  }
  ~Scratch() { fs::remove_all(dir); }

  static int& counter() {
    static int n = 0;
    return n;
  }

  // Documents about a few topics, so that searches have clear answers.
  static void write_corpus(const fs::path& path, int n) {
    const char* topics[][4] = {{"linux", "kernel", "driver", "patch"},
                               {"cheap", "pills", "offer", "viagra"},
                               {"python", "script", "feed", "parser"},
                               {"vacation", "prize", "winner", "claim"}};
    std::mt19937 rng{42};
    auto out = JsonlWriter::create(path.string());
    REQUIRE(out);
    for (int i = 0; i < n; ++i) {
      Document d;
      d.id = "doc-" + std::to_string(i);
      auto& words = topics[i % 4];
      for (int w = 0; w < 12; ++w)
        d.text += std::string{words[rng() % 4]} + " filler" + std::to_string(rng() % 50) + " ";
      d.tags["topic"] = static_cast<int64_t>(i % 4);
      REQUIRE_FALSE(out->write(d));
    }
    REQUIRE_FALSE(out->flush());
  }

  fs::path config(const std::string& extra_with = "") const {
    auto path = dir / "flow.yml";
    std::ofstream{path} << "jtype: Flow\n"
                           "with:\n"
                           "  name: test\n"
                           "  workspace: ws\n"
                        << extra_with
                        << "executors:\n"
                           "  - name: vectorizer\n"
                           "    uses: TfidfVectorizer\n"
                           "    replicas: 2\n"
                           "    uses_with: {corpus: corpus.jsonl}\n"
                           "  - name: indexer\n"
                           "    uses: Indexer\n"
                           "    shards: 2\n"
                           "    polling: {/index: PARTITION, /delete: PARTITION, "
                           "/update: PARTITION, /fetch: PARTITION, '*': ALL}\n";
    return path;
  }
};

// A running `caflow flow` on a port the kernel picked.
struct Daemon {
  std::unique_ptr<Process> process;
  std::string host = "127.0.0.1";
  uint16_t port = 0;

  explicit Daemon(const fs::path& config, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{cli, "flow", config.string(), "--port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<Process>(argv);
    auto line = process->wait_for("address", 60s);
    REQUIRE_MESSAGE(line, process->output());
    std::smatch m;
    REQUIRE(std::regex_search(*line, m, std::regex{R"(http://([0-9.]+):([0-9]+))"}));
    host = m[1];
    port = static_cast<uint16_t>(std::stoi(m[2]));
    process->wait_for("executor  indexer", 5s);  // rest of the banner
  }

  std::string address() const { return host + ":" + std::to_string(port); }

  int stop(int sig = SIGTERM) {
    process->signal(sig);
    auto code = process->wait(60s);
    REQUIRE_MESSAGE(code, "the flow did not stop: " << process->output());
    return *code;
  }
};

inline int64_t count(Client& client) {
  auto result = client.post("/count", {});
  REQUIRE_MESSAGE(result, describe(result));
  return result->parameters.get_int("count", -1);
}

inline DocumentArray read_docs(const fs::path& path) {
  auto reader = JsonlReader::open(path.string());
  REQUIRE(reader);
  DocumentArray all;
  for (;;) {
    auto batch = reader->next(1000);
    REQUIRE(batch);
    if (batch->empty())
      return all;
    for (auto& d : *batch)
      all.push_back(std::move(d));
  }
}

}  // namespace caflow::testing
