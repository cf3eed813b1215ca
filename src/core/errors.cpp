#include "caflow/errors.hpp"

#include <caf/message.hpp>

namespace caflow {

const char* to_string(errc code) noexcept {
  switch (code) {
    case errc::invalid_json:
      return "invalid_json";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::invalid_config:
      return "invalid_config";
    case errc::unknown_executor:
      return "unknown_executor";
    case errc::executor_start_failed:
      return "executor_start_failed";
    case errc::executor_failed:
      return "executor_failed";
    case errc::dimension_mismatch:
      return "dimension_mismatch";
    case errc::timeout:
      return "timeout";
    case errc::unavailable:
      return "unavailable";
    case errc::overloaded:
      return "overloaded";
    case errc::not_found:
      return "not_found";
    case errc::storage_error:
      return "storage_error";
    case errc::io_error:
      return "io_error";
    case errc::all_shards_failed:
      return "all_shards_failed";
    case errc::plugin_error:
      return "plugin_error";
  }
  return "unknown_error";
}

caf::error make_error(errc code) {
  return caf::error{static_cast<uint8_t>(code), error_category};
}

caf::error make_error(errc code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(message))};
}

bool is(const caf::error& err, errc code) noexcept {
  return err.category() == error_category && err.code() == static_cast<uint8_t>(code);
}

std::string error_message(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return {};
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() != error_category)
    return caf::to_string(err);
  std::string out = to_string(static_cast<errc>(err.code()));
  if (auto msg = error_message(err); !msg.empty()) {
    out += ": ";
    out += msg;
  }
  return out;
}

Error::Error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {
}

Error::Error(const caf::error& err)
  : std::runtime_error(err.category() == error_category ? error_message(err) : describe(err)),
    code_(err.category() == error_category ? static_cast<errc>(err.code())
                                           : errc::executor_failed) {
}

caf::error Error::to_error() const {
  return make_error(code_, what());
}

void throw_error(const caf::error& err) {
  throw Error(err);
}

}  // namespace caflow
