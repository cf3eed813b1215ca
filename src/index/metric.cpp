#include "index/metric.hpp"

#include <algorithm>
#include <cmath>

#include "caflow/errors.hpp"

namespace caflow {

Metric parse_metric(std::string_view name) {
  if (name == "cosine")
    return Metric::cosine;
  if (name == "inner_product" || name == "ip" || name == "dot")
    return Metric::inner_product;
  if (name == "euclidean" || name == "l2")
    return Metric::euclidean;
  throw Error(errc::invalid_argument, "unknown metric '" + std::string{name}
                                        + "' (known: cosine, inner_product, euclidean)");
}

const char* to_string(Metric metric) noexcept {
  switch (metric) {
    case Metric::cosine:
      return "cosine";
    case Metric::inner_product:
      return "inner_product";
    case Metric::euclidean:
      return "euclidean";
  }
  return "cosine";
}

float score_from_dot(Metric metric, float dot, float x_norm2, float q_norm2) noexcept {
  if (metric != Metric::euclidean)
    return dot;
  return std::sqrt(std::max(0.0f, x_norm2 + q_norm2 - 2.0f * dot));
}

}  // namespace caflow
