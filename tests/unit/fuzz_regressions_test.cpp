// Inputs the fuzzers once crashed on (tests/fuzz/regressions/<target>/) and
// their seed corpora (tests/fuzz/corpus/<target>/), fed to the fuzz targets'
// own functions so that the normal build keeps them fixed.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_targets.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir))
    return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file())
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void feed(const std::string& target, const std::function<void(std::string_view)>& fn) {
  const fs::path root = fs::path{CAFLOW_SOURCE_DIR} / "tests" / "fuzz";
  size_t n = 0;
  for (const char* kind : {"regressions", "corpus"}) {
    for (const auto& file : files_under(root / kind / target)) {
      CAPTURE(file.string());
      auto data = slurp(file);
      try {
        fn(data);
      } catch (const caflow::fuzz::Failure& e) {
        FAIL_CHECK(e.what());
      } catch (const std::exception& e) {
        FAIL_CHECK("unexpected exception: " << e.what());
      }
      ++n;
    }
  }
  CHECK(n > 0);  // the seed corpus at least
}

}  // namespace

TEST_CASE("fuzz regressions and seeds: documents") {
  feed("documents", caflow::fuzz::documents);
}

TEST_CASE("fuzz regressions and seeds: http_request") {
  feed("http_request", caflow::fuzz::http_request);
}

TEST_CASE("fuzz regressions and seeds: flow_yaml") {
  feed("flow_yaml", caflow::fuzz::flow_yaml);
}
