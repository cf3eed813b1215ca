// Executors for the cluster tests, built as a plugin that both the test
// process and the node daemons load:
//  - FileIndex (stateful): an index whose shard persists every acknowledged
//    document to a file in its workspace before answering, and reloads it
//    when it starts again (what the real Indexer does with RocksDB).
//  - PidTagger (stateless): tags documents with the process that ran them,
//    optionally sleeping `sleep_ms` (parameter) to keep requests in flight.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "caflow/executor.hpp"
#include "tests/toy_search.hpp"

namespace caflow::testing {

class FileIndex : public Executor {
 public:
  explicit FileIndex(ExecutorContext ctx) : Executor(std::move(ctx)) {
    auto dir = context().executor_workspace();
    if (dir.empty())
      throw std::runtime_error("FileIndex needs a workspace");
    std::filesystem::create_directories(dir);
    path_ = dir + "/shard-" + std::to_string(context().shard_id) + ".tsv";
    std::ifstream in{path_};
    std::string id;
    double x = 0;
    while (in >> id >> x)
      stored_.emplace_back(id, x);
    on("/index", [this](DocumentArray& docs, const Params&) {
      std::ofstream out{path_, std::ios::app};
      for (auto& d : docs) {
        auto x = d.tags.get_double("x", 0);
        out << d.id << '\t' << x << '\n';
        stored_.emplace_back(d.id, x);
        d.tags["pid"] = static_cast<int64_t>(::getpid());
      }
      // Acknowledged means written: flushed to the OS, which keeps it when
      // the process is killed.
      out.flush();
      if (!out)
        throw std::runtime_error("cannot write " + path_);
      return Params::object();
    });
    on("/count", [this](DocumentArray&, const Params&) {
      return Params{{"count", static_cast<int64_t>(stored_.size())}};
    });
    on("/search", [this](DocumentArray& queries, const Params& params) {
      toy_search(queries, params, stored_);
      return Params::object();
    });
  }

 private:
  std::string path_;
  std::vector<std::pair<std::string, double>> stored_;
};
CAFLOW_REGISTER_STATEFUL_EXECUTOR_AS(FileIndex, "FileIndex");

class PidTagger : public Executor {
 public:
  explicit PidTagger(ExecutorContext ctx) : Executor(std::move(ctx)) {
    on("*", [this](DocumentArray& docs, const Params& params) {
      auto ms = params.get_int("sleep_ms", 0);
      if (ms > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      for (auto& d : docs) {
        d.tags[context().name + ".pid"] = static_cast<int64_t>(::getpid());
        d.tags[context().name + ".replica"] = static_cast<int64_t>(context().replica_id);
      }
      return Params::object();
    });
  }
};
CAFLOW_REGISTER_EXECUTOR_AS(PidTagger, "PidTagger");

}  // namespace caflow::testing
