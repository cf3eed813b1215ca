// google.protobuf.Struct (Jina's parameters and docarray's tags) <-> caflow's
// Value. Struct numbers are doubles: an integer Value goes out as a double
// and comes back as one (Value::get_int accepts doubles without a fraction).
#pragma once

#include <google/protobuf/struct.pb.h>

#include "caflow/value.hpp"

namespace caflow::grpc_gateway {

/// A Struct as a Value object.
Value from_struct(const google::protobuf::Struct& s);

/// One protobuf Value as a caflow Value.
Value from_proto_value(const google::protobuf::Value& v);

/// Writes the members of `v` (an object; anything else writes nothing)
/// into `out`, which is cleared first.
void to_struct(const Value& v, google::protobuf::Struct* out);

/// Writes `v` into `out`.
void to_proto_value(const Value& v, google::protobuf::Value* out);

}  // namespace caflow::grpc_gateway
