// caflow reshard DIR --shards N — moves a stopped deployment's documents to
// N shards inside its database (storage/reshard.hpp), with a progress bar.
// Safe to kill at any point: running it again finishes the job.
#include <csignal>
#include <iostream>

#include <unistd.h>

#include "caflow/errors.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/progress.hpp"
#include "storage/reshard.hpp"

namespace caflow::cli {

namespace {

constexpr const char* reshard_usage
  = "usage: caflow reshard DIR --shards N [--batch-size N]\n"
    "\n"
    "Changes the shard count of a stopped flow's stateful executor whose\n"
    "database is DIR (WORKSPACE/<executor name>, or the node's\n"
    "NODE_WORKSPACE/<flow id>/<executor name>): every document moves to the\n"
    "shard its id hashes to, the layout records are rewritten and each index\n"
    "is rebuilt from the stored vectors at the next start. Killed at any\n"
    "point, run it again: nothing is lost or duplicated. Then start the flow\n"
    "with `shards: N`.";

}  // namespace

int run_reshard(int argc, char** argv) {
  std::string dir;
  uint32_t shards = 0;
  size_t batch_size = 1000;
  uint64_t kill_after = 0;
  po::options_description desc{"options"};
  desc.add_options()("dir", po::value(&dir)->required(), "the executor's database directory")(
    "shards,s", po::value(&shards)->required(), "the new shard count")(
    "batch-size", po::value(&batch_size), "documents moved per atomic batch (default 1000)")(
    "kill-after-batches", po::value(&kill_after),
    "testing: SIGKILL this process after N committed batches");
  po::positional_options_description positional;
  positional.add("dir", 1);
  po::variables_map vm;
  if (int rc = parse_options(argc, argv, reshard_usage, desc, positional, vm); rc >= 0)
    return rc;
  if (shards == 0 || batch_size == 0) {
    std::cerr << "caflow reshard: --shards and --batch-size must be at least 1\n";
    return 2;
  }
  ProgressBar bar{"resharding", ::isatty(STDERR_FILENO) != 0};
  ReshardOptions options;
  options.batch_size = batch_size;
  options.progress = [&bar](uint64_t done, uint64_t total) { bar.update(done, total); };
  if (kill_after > 0)
    options.after_batch = [kill_after](uint64_t batches) {
      if (batches >= kill_after)
        ::kill(::getpid(), SIGKILL);
    };
  auto report = reshard(dir, shards, options);
  if (!report) {
    std::cerr << "caflow reshard: " << error_message(report.error()) << '\n';
    return 1;
  }
  bar.finish(report->documents);
  std::cout << dir << ": " << report->documents << " documents, " << report->from << " -> "
            << report->to << " shards, " << report->moved << " moved"
            << (report->resumed ? " (finished an interrupted reshard)" : "")
            << "; indexes are rebuilt from the stored vectors at the next start" << std::endl;
  return 0;
}

}  // namespace caflow::cli
