/// Similarity metrics of the vector indexes and how their scores rank.
///
/// A metric turns a dot product (and, for euclidean, the squared norms) into
/// the score a match carries under the metric's name. The direction matches
/// runtime/reduce.hpp's rule (higher_is_better): "cosine" and
/// "inner_product" are similarities (higher is better), "euclidean" is a
/// distance (lower is better), so shards' matches merge correctly under ALL.
///
///   auto m = caflow::parse_metric("cosine");   // throws on unknown names
///   float s = caflow::score_from_dot(*m, dot, x_norm2, q_norm2);
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace caflow {

/// The supported metrics.
enum class Metric {
  cosine,         ///< cos(x, q) in [-1, 1]; stored vectors are unit-normalised
  inner_product,  ///< x . q
  euclidean,      ///< |x - q| (the distance itself, not its square)
};

/// The metric named `name` ("cosine", "inner_product", "euclidean"; also the
/// aliases "ip", "dot", "l2"). Throws caflow::Error (errc::invalid_argument)
/// naming the unknown metric and the known ones.
Metric parse_metric(std::string_view name);

/// The score name matches carry: "cosine", "inner_product" or "euclidean".
const char* to_string(Metric metric) noexcept;

/// True when a higher score is a better match.
constexpr bool higher_is_better(Metric metric) noexcept {
  return metric != Metric::euclidean;
}

/// True when vectors are unit-normalised before they are stored or queried.
constexpr bool normalizes(Metric metric) noexcept {
  return metric == Metric::cosine;
}

/// The score of a stored vector x against a query q from their dot product
/// (of the normalised vectors for cosine) and squared norms (used by
/// euclidean only: |x - q|^2 = |x|^2 + |q|^2 - 2 x.q, clamped at 0 against
/// rounding).
float score_from_dot(Metric metric, float dot, float x_norm2, float q_norm2) noexcept;

/// The sum of squares of `xs`, in float, in order.
float norm2(const std::vector<float>& xs) noexcept;

/// Scales `xs` to unit length when `metric` normalises (cosine); a zero
/// vector stays zero, so it scores 0 against everything instead of NaN.
void normalize_in_place(std::vector<float>& xs, Metric metric) noexcept;

}  // namespace caflow
