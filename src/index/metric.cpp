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

float norm2(const std::vector<float>& xs) noexcept {
  float s = 0;
  for (float x : xs)
    s += x * x;
  return s;
}

void normalize_in_place(std::vector<float>& xs, Metric metric) noexcept {
  if (!normalizes(metric))
    return;
  float n = std::sqrt(norm2(xs));
  if (n > 0)
    for (auto& x : xs)
      x /= n;
}

}  // namespace caflow
