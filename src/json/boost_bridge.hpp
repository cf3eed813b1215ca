// Conversions between caflow::Value and Boost.JSON values, for code that
// already speaks Boost.JSON (the HTTP gateway). Private to the library.
#pragma once

#include <boost/json/value.hpp>

#include "caflow/value.hpp"

namespace caflow {

/// A Boost.JSON copy of `x`. Non-finite doubles become null (JSON has no NaN).
boost::json::value to_boost(const Value& x);

/// A Value copy of `x`. Unsigned integers above INT64_MAX become doubles.
Value from_boost(const boost::json::value& x);

}  // namespace caflow
