#include "bench/bench_util.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "caflow/errors.hpp"
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

double load_average() {
  double load[1] = {0};
  return ::getloadavg(load, 1) == 1 ? load[0] : -1;
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

bool flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i)
    if (argv[i] == "--" + name)
      return true;
  return false;
}

#ifndef CAFLOW_SOURCE_DIR
#define CAFLOW_SOURCE_DIR "."
#endif

std::string source_path(const std::string& relative) {
  return std::string{CAFLOW_SOURCE_DIR} + "/" + relative;
}

}  // namespace caflow::bench

namespace caflow::bench {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

caf::expected<std::string> command_output(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr)
    return make_error(errc::io_error, "cannot run: " + command);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  if (int status = ::pclose(pipe); status != 0)
    return make_error(errc::io_error,
                      "exit status " + std::to_string(status) + " from: " + command);
  return out;
}

std::optional<std::string> run_command(const std::string& command) {
  auto out = command_output(command);
  if (!out) {
    std::cerr << "caflow-bench: " << error_message(out.error()) << '\n';
    return std::nullopt;
  }
  return std::move(*out);
}

caf::expected<std::string> sklearn_env(const std::string& env_dir) {
  std::string repo = CAFLOW_SOURCE_DIR;
  auto env = command_output("sh " + shell_quote(repo + "/tools/sklearn-env.sh") + " "
                            + shell_quote(env_dir));
  if (!env)
    return env.error();
  std::string out;
  std::istringstream lines{*env};
  for (std::string line; std::getline(lines, line);)
    if (!line.empty())
      out += shell_quote(line) + " ";
  return out;
}

std::optional<std::string> python_with_scipy() {
  auto env = sklearn_env(std::string{CAFLOW_SOURCE_DIR} + "/build/sklearn-env");
  if (!env) {
    std::cerr << "caflow-bench: " << error_message(env.error()) << '\n';
    return std::nullopt;
  }
  return "env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 " + *env + "/usr/bin/python3";
}

size_t rss_bytes() {
  std::ifstream in{"/proc/self/status"};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      return static_cast<size_t>(std::stoull(line.substr(6))) * 1024;
  return 0;
}

size_t disk_bytes(const std::string& dir) {
  size_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec))
      total += it->file_size(ec);
  return total;
}

}  // namespace caflow::bench
