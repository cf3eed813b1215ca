// Runs the Python clients of the gateway tests (tests/grpc/*.py) with
// Debian's grpcio, protobuf and websocket-client and the code generated from
// src/grpc/proto (tools/grpc-python-env.sh), as child processes with a
// bounded wait.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/process.hpp"

namespace caflow::testing {

/// The environment (PYTHONPATH=..., LD_LIBRARY_PATH=...) that makes the
/// generated code and the libraries importable.
inline std::vector<std::string> python_env() {
  using namespace std::chrono_literals;
  auto r = run({CAFLOW_SOURCE_DIR "/tools/grpc-python-env.sh", CAFLOW_BINARY_DIR "/grpc-python"},
               300s);
  INFO(r.output);
  REQUIRE(r.code == 0);
  std::vector<std::string> env;
  std::istringstream lines{r.output};
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("PYTHONPATH=", 0) == 0 || line.rfind("LD_LIBRARY_PATH=", 0) == 0)
      env.push_back(line);
  REQUIRE(env.size() == 2);
  return env;
}

/// Runs tests/grpc/`script` with `args` under `env`.
inline RunResult run_python(const std::vector<std::string>& env, const std::string& script,
                            const std::vector<std::string>& args) {
  using namespace std::chrono_literals;
  std::vector<std::string> argv{"/usr/bin/env"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back("/usr/bin/python3");
  argv.push_back(CAFLOW_SOURCE_DIR "/tests/grpc/" + script);
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, 240s);
}

}  // namespace caflow::testing
