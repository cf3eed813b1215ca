/// Prometheus metrics of the HTTP gateway: request counters and latency
/// histograms per endpoint, histograms per executor, an in-flight gauge and
/// a documents counter, rendered in the text exposition format 0.0.4.
///
/// Recording is lock-free: each label set (an endpoint, an executor) owns a
/// block of atomics found by walking an append-only list; a mutex is taken
/// only to append a label set seen for the first time. Label sets are capped
/// (`max_labels`) so that clients sending arbitrary endpoints cannot grow the
/// registry without bound: later ones are counted under "other".
///
///   Metrics m;
///   m.received("/index");
///   m.succeeded("/index", 0.0012, 100);
///   std::string text = m.render();
///
/// Thread-safety: every member may be called from any thread at once.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace caflow::http {

/// A latency histogram with fixed buckets from 100 µs to 10 s.
class Histogram {
 public:
  /// Upper bounds in seconds (the +Inf bucket is implicit).
  static constexpr std::array<double, 16> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                    0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                    1.0,    2.5,     5.0,    10.0};

  /// Records one observation of `seconds`.
  void observe(double seconds) noexcept;

  /// Observations at or below bounds[i] (cumulative); i == bounds.size() is +Inf.
  [[nodiscard]] uint64_t cumulative(size_t i) const noexcept;
  /// Number of observations.
  [[nodiscard]] uint64_t count() const noexcept;
  /// Sum of the observations in seconds.
  [[nodiscard]] double sum() const noexcept;

 private:
  std::array<std::atomic<uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};  // integer nanoseconds: atomic add without CAS loops
};

/// The metrics of one HTTP gateway (see the file comment).
class Metrics {
 public:
  /// Label sets per family beyond which new labels count as "other".
  static constexpr size_t max_labels = 64;

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /// A request for `endpoint` arrived (and is now in flight).
  void received(std::string_view endpoint);
  /// A request for `endpoint` was answered successfully after `seconds`,
  /// carrying `docs` documents back.
  void succeeded(std::string_view endpoint, double seconds, uint64_t docs);
  /// A request for `endpoint` failed after `seconds`.
  void failed(std::string_view endpoint, double seconds);
  /// Executor `executor` took `seconds` for its part of a request.
  void executor_time(std::string_view executor, double seconds);

  /// Counters of one endpoint (0 when never seen), for tests and status.
  [[nodiscard]] uint64_t received_count(std::string_view endpoint) const;
  [[nodiscard]] uint64_t succeeded_count(std::string_view endpoint) const;
  [[nodiscard]] uint64_t failed_count(std::string_view endpoint) const;
  /// Requests received but not yet answered.
  [[nodiscard]] int64_t in_flight() const noexcept { return in_flight_.load(); }
  /// Documents returned by successful requests.
  [[nodiscard]] uint64_t documents() const noexcept { return documents_.load(); }

  /// Every metric in Prometheus text format 0.0.4.
  [[nodiscard]] std::string render() const;

 private:
  struct Endpoint;
  struct Executor;
  template <class Node>
  struct Family;

  Endpoint& endpoint(std::string_view name);
  const Endpoint* find_endpoint(std::string_view name) const;

  std::unique_ptr<Family<Endpoint>> endpoints_;
  std::unique_ptr<Family<Executor>> executors_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> documents_{0};
};

/// `value` escaped for a Prometheus label value (backslash, quote, newline).
std::string escape_label(std::string_view value);

}  // namespace caflow::http
