#include "http/jina_status.hpp"

#include <caf/sec.hpp>

#include "caflow/errors.hpp"

namespace caflow::http {

namespace {

bool is_caflow_error(const caf::error& err) {
  return err && err.category() == error_category;
}

// "indexer/shard-1/replica-0: boom" -> "indexer"; "" when the message does
// not start with a replica or shard label.
std::string executor_of(const std::string& message) {
  auto colon = message.find(": ");
  auto slash = message.find('/');
  if (colon == std::string::npos || slash == std::string::npos || slash > colon || slash == 0)
    return {};
  auto head = message.substr(0, slash);
  if (head.find(' ') != std::string::npos)
    return {};
  return head;
}

}  // namespace

std::optional<errc> errc_named(std::string_view name) {
  for (int c = static_cast<int>(errc::invalid_json); c <= static_cast<int>(errc::plugin_error); ++c)
    if (name == to_string(static_cast<errc>(c)))
      return static_cast<errc>(c);
  return std::nullopt;
}

caf::error error_named(std::string_view name, std::string description) {
  return make_error(errc_named(name).value_or(errc::executor_failed), std::move(description));
}

JinaStatus jina_status(const caf::error& err) {
  JinaStatus st;
  st.description = is_caflow_error(err) ? error_message(err) : describe(err);
  if (st.description.empty())
    st.description = describe(err);
  st.name = is_caflow_error(err) ? std::string{to_string(static_cast<errc>(err.code()))} : "error";
  st.args.push_back(st.description);
  st.executor = executor_of(st.description);
  return st;
}

bool in_band(const caf::error& err) {
  if (!is_caflow_error(err))
    return false;
  switch (static_cast<errc>(err.code())) {
    case errc::executor_failed:
    case errc::executor_start_failed:
    case errc::all_shards_failed:
    case errc::storage_error:
      return true;
    default:
      return false;
  }
}

caf::error normalize(caf::error err, std::chrono::milliseconds timeout) {
  if (err == caf::sec::request_timeout)
    return make_error(errc::timeout, "no answer from the flow within "
                                       + std::to_string(timeout.count())
                                       + " ms (the server's request_timeout)");
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::unavailable, "the flow's gateway is not running");
  return err;
}

}  // namespace caflow::http
