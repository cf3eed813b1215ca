#include "cli/address.hpp"

#include <charconv>
#include <stdexcept>

namespace caflow::cli {

Address parse_address(const std::string& text) {
  auto colon = text.rfind(':');
  Address out;
  out.host = colon == std::string::npos || colon == 0 ? "127.0.0.1" : text.substr(0, colon);
  auto port = colon == std::string::npos ? text : text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
    throw std::invalid_argument("'" + text + "' is not HOST:PORT");
  out.port = static_cast<uint16_t>(value);
  return out;
}

}  // namespace caflow::cli
