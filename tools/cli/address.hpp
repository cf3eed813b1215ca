// HOST:PORT arguments.
#pragma once

#include <cstdint>
#include <string>

namespace caflow::cli {

struct Address {
  std::string host;
  uint16_t port = 0;
};

/// Parses "HOST:PORT" (or ":PORT" / "PORT" for 127.0.0.1). Throws
/// std::invalid_argument naming the text when it is not one.
Address parse_address(const std::string& text);

}  // namespace caflow::cli
