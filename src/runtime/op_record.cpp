#include "runtime/op_record.hpp"

#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "caflow/errors.hpp"

namespace caflow::detail {

namespace {

constexpr char op_record_version = 1;

}  // namespace

std::string encode_op(const Request& req) {
  std::vector<char> buf;
  buf.push_back(op_record_version);
  caf::binary_serializer sink{nullptr, buf};
  // CAF's inspectors take non-const references; a serializer only reads.
  auto& r = const_cast<Request&>(req);
  if (auto err = sink(r.endpoint, r.docs, r.parameters))
    throw Error(errc::storage_error,
                "encoding the log record of " + req.endpoint + ": " + describe(err));
  return std::string(buf.begin(), buf.end());
}

caf::expected<Request> decode_op(std::string_view record) {
  if (record.empty() || record[0] != op_record_version)
    return make_error(errc::storage_error, "log record: unknown format");
  Request req;
  caf::binary_deserializer source{nullptr, record.data() + 1, record.size() - 1};
  if (auto err = source(req.endpoint, req.docs, req.parameters))
    return make_error(errc::storage_error, "log record: " + describe(err));
  return req;
}

}  // namespace caflow::detail
