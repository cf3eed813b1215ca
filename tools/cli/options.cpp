#include "cli/options.hpp"

#include <cmath>

namespace caflow::cli {

int parse_options(int argc, char** argv, const std::string& usage,
                  const po::options_description& options,
                  const po::positional_options_description& positional, po::variables_map& vm) {
  po::options_description all{options};
  all.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    if (vm.count("help") > 0) {
      std::cout << usage << '\n' << all << '\n';
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "caflow " << argv[0] << ": " << e.what() << "\n\n" << usage << '\n' << all;
    return 2;
  }
  return -1;
}

bool in_range(const char* command, const char* option, int64_t value, int64_t min, int64_t max) {
  if (value >= min && value <= max)
    return true;
  std::cerr << "caflow " << command << ": " << option << " must be from " << min << " to " << max
            << ", got " << value << '\n';
  return false;
}

bool in_range(const char* command, const char* option, double value, double min, double max) {
  if (std::isfinite(value) && value >= min && value <= max)
    return true;
  std::cerr << "caflow " << command << ": " << option << " must be from " << min << " to " << max
            << " seconds, got " << value << '\n';
  return false;
}

}  // namespace caflow::cli
