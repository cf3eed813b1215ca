/// The record of one replicated write in a shard's operation log: its
/// endpoint, documents and parameters, in CAF's binary format behind a
/// version byte. Pure; used by the replica (runtime) on both ends of a
/// catch-up, opaque to executors (WriteStamp::record).
#pragma once

#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "caflow/messages.hpp"

namespace caflow::detail {

/// The reserved endpoint prefix of a check before a write split over shards
/// (Replicated::check_write): "/_caflow_check_write" + the write's endpoint.
/// Executors never see it.
inline constexpr std::string_view check_endpoint_prefix = "/_caflow_check_write";

/// `req`'s endpoint, documents and parameters as a log record.
std::string encode_op(const Request& req);

/// The request of a record made by encode_op; errc::storage_error when it
/// is not one.
caf::expected<Request> decode_op(std::string_view record);

}  // namespace caflow::detail
