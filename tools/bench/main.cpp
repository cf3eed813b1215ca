// caflow-bench: benchmarks that print JSON lines, each with its baseline
// measured in the same run. The last line of each is a summary object.
//
//   caflow-bench overhead [--docs=200000] [--request-size=100] [--rtt-samples=2000]
//   caflow-bench replicas [--docs=4000] [--work=20000]
//   caflow-bench search [--n=100000] [--dim=128] [--queries=1000]
//   caflow-bench tfidf [--corpus F] [--no-sklearn]
//   caflow-bench http [--docs=200000] [--request-size=100] [--prefetch=8] [--server-cpu]
//   caflow-bench grpc [--docs=200000] [--request-size=100] [--prefetch=8]
//   caflow-bench grpc-codec [--request-size=100] [--requests=20000] [--rounds=5]
//   caflow-bench seed [--corpus=data/spamassassin.jsonl] [--request-size=100]
//   caflow-bench remote [--request-size=100] [--rtt-samples=500] [--docs=50000]
//   caflow-bench reshard [--corpus=data/spamassassin.jsonl] [--docs=6046]
//   caflow-bench sparse [--sizes=6000,30000,120000] [--queries=300] [--no-scipy]
//   caflow-bench mixed [--sizes=30000,120000] [--queries=200] [--rounds=5]
//   caflow-bench memory [--n=30000]
//   caflow-bench hnsw-restart [--n=100000] [--dim=128]
//   caflow-bench dense [--n=20000] [--dim=128] [--shards=2] [--queries=2000]
//   caflow-bench batching [--clients=64] [--per_call_us=2000] [--per_doc_us=20] [--rounds=5]
//   caflow-bench million [--n=1000000] [--shards=2] [--queries=300]
//   caflow-bench replication [--docs=20000] [--request-size=100] [--away-docs=20000] [--rounds=3]
#include <cstring>
#include <iostream>

namespace caflow::bench {
int overhead(int argc, char** argv);
int replicas(int argc, char** argv);
int seed(int argc, char** argv);
int run_search_bench(int argc, char** argv);
int run_tfidf_bench(int argc, char** argv);
int run_http_bench(int argc, char** argv);
int run_grpc_bench(int argc, char** argv);
int run_grpc_codec_bench(int argc, char** argv);
int remote(int argc, char** argv);
int run_reshard_bench(int argc, char** argv);
int run_sparse_bench(int argc, char** argv);
int mixed(int argc, char** argv);
int memory(int argc, char** argv);
int hnsw_restart(int argc, char** argv);
int dense(int argc, char** argv);
int million(int argc, char** argv);
int batching(int argc, char** argv);
int replication(int argc, char** argv);
}  // namespace caflow::bench

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::cerr << "usage: caflow-bench "
                 "overhead|replicas|seed|search|tfidf|http|grpc|grpc-codec|remote|reshard|sparse|"
                 "mixed|memory|"
                 "hnsw-restart|dense|million|batching|replication\n       [--key=value ...]\n";
    return argc < 2 ? 2 : 0;
  }
  try {
    if (std::strcmp(argv[1], "overhead") == 0)
      return caflow::bench::overhead(argc, argv);
    if (std::strcmp(argv[1], "replicas") == 0)
      return caflow::bench::replicas(argc, argv);
    if (std::strcmp(argv[1], "search") == 0)
      return caflow::bench::run_search_bench(argc, argv);
    if (std::strcmp(argv[1], "tfidf") == 0)
      return caflow::bench::run_tfidf_bench(argc, argv);
    if (std::strcmp(argv[1], "http") == 0)
      return caflow::bench::run_http_bench(argc, argv);
    if (std::strcmp(argv[1], "grpc") == 0)
      return caflow::bench::run_grpc_bench(argc, argv);
    if (std::strcmp(argv[1], "grpc-codec") == 0)
      return caflow::bench::run_grpc_codec_bench(argc, argv);
    if (std::strcmp(argv[1], "seed") == 0)
      return caflow::bench::seed(argc, argv);
    if (std::strcmp(argv[1], "remote") == 0)
      return caflow::bench::remote(argc, argv);
    if (std::strcmp(argv[1], "reshard") == 0)
      return caflow::bench::run_reshard_bench(argc, argv);
    if (std::strcmp(argv[1], "sparse") == 0)
      return caflow::bench::run_sparse_bench(argc, argv);
    if (std::strcmp(argv[1], "mixed") == 0)
      return caflow::bench::mixed(argc, argv);
    if (std::strcmp(argv[1], "memory") == 0)
      return caflow::bench::memory(argc, argv);
    if (std::strcmp(argv[1], "hnsw-restart") == 0)
      return caflow::bench::hnsw_restart(argc, argv);
    if (std::strcmp(argv[1], "dense") == 0)
      return caflow::bench::dense(argc, argv);
    if (std::strcmp(argv[1], "million") == 0)
      return caflow::bench::million(argc, argv);
    if (std::strcmp(argv[1], "batching") == 0)
      return caflow::bench::batching(argc, argv);
    if (std::strcmp(argv[1], "replication") == 0)
      return caflow::bench::replication(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "caflow-bench: " << e.what() << '\n';
    return 1;
  }
  std::cerr << "caflow-bench: unknown benchmark '" << argv[1] << "'\n";
  return 2;
}
