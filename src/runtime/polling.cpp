#include "caflow/polling.hpp"

#include <cctype>

#include "caflow/errors.hpp"

namespace caflow {

namespace {

bool iequals(std::string_view x, std::string_view y) {
  if (x.size() != y.size())
    return false;
  for (size_t i = 0; i < x.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(x[i]))
        != std::toupper(static_cast<unsigned char>(y[i])))
      return false;
  return true;
}

}  // namespace

const char* to_string(PollingMode mode) noexcept {
  switch (mode) {
    case PollingMode::any:
      return "ANY";
    case PollingMode::all:
      return "ALL";
    case PollingMode::partition:
      return "PARTITION";
  }
  return "ANY";
}

caf::expected<PollingMode> parse_polling_mode(std::string_view text) {
  for (auto mode : {PollingMode::any, PollingMode::all, PollingMode::partition})
    if (iequals(text, to_string(mode)))
      return mode;
  return make_error(errc::invalid_config, "unknown polling mode '" + std::string{text}
                                            + "' (expected ANY, ALL or PARTITION)");
}

Polling::Polling() : entries_{{"/search", "ALL"}, {"*", "ANY"}} {
}

Polling::Polling(const char* mode) : entries_{{"*", mode}} {
}

Polling::Polling(std::string mode) : entries_{{"*", std::move(mode)}} {
}

Polling::Polling(std::initializer_list<std::pair<const std::string, std::string>> per_endpoint)
  : entries_(per_endpoint) {
}

Polling::Polling(std::map<std::string, std::string> per_endpoint)
  : entries_(std::move(per_endpoint)) {
}

PollingMode Polling::mode_for(std::string_view endpoint) const {
  auto i = entries_.find(std::string{endpoint});
  if (i == entries_.end())
    i = entries_.find("*");
  if (i == entries_.end())
    return PollingMode::any;
  // An invalid entry falls back to ANY: validate() is where it gets reported,
  // and routing must not throw mid-request.
  auto mode = parse_polling_mode(i->second);
  return mode ? *mode : PollingMode::any;
}

caf::error Polling::validate() const {
  for (const auto& [endpoint, mode] : entries_)
    if (!parse_polling_mode(mode))
      return make_error(errc::invalid_config, "polling['" + endpoint + "']: unknown mode '" + mode
                                                + "' (expected ANY, ALL or PARTITION)");
  return {};
}

}  // namespace caflow
