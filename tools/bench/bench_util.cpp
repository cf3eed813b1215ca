#include "bench/bench_util.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>

#include "caflow/json.hpp"

namespace caflow::bench {

double seconds_since(clock::time_point start) {
  return std::chrono::duration<double>(clock::now() - start).count();
}

double percentile(std::vector<double>& xs, double p) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(xs.size())));
  return xs[std::min(xs.size() - 1, rank == 0 ? 0 : rank - 1)];
}

DocumentArray hello_docs(size_t n) {
  DocumentArray docs;
  docs.reserve(n);
  for (size_t i = 0; i < n; ++i)
    docs.emplace_back().text = "hello world";
  return docs;
}

void emit(const Value& v) {
  std::cout << to_json(v) << std::endl;
}

long long arg(int argc, char** argv, const std::string& name, long long fallback) {
  auto prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind(prefix, 0) == 0)
      return std::stoll(a.substr(prefix.size()));
  }
  return fallback;
}

std::string arg_string(int argc, char** argv, const std::string& name, std::string fallback) {
  auto flag = "--" + name;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind(flag + "=", 0) == 0)
      return a.substr(flag.size() + 1);
    if (a == flag && i + 1 < argc)
      return argv[i + 1];
  }
  return fallback;
}

#ifndef CAFLOW_SOURCE_DIR
#define CAFLOW_SOURCE_DIR "."
#endif

std::string source_path(const std::string& relative) {
  return std::string{CAFLOW_SOURCE_DIR} + "/" + relative;
}

}  // namespace caflow::bench
