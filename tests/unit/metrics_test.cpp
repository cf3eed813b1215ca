// Prometheus metrics of the HTTP gateway: counters, histograms, rendering.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "http/metrics.hpp"

using namespace caflow::http;

TEST_CASE("a histogram counts observations into cumulative buckets") {
  Histogram h;
  h.observe(0.00005);  // below the first bound
  h.observe(0.0001);   // exactly on a bound counts in that bucket
  h.observe(0.003);
  h.observe(20);  // +Inf only
  CHECK(h.cumulative(0) == 2);
  CHECK(h.cumulative(4) == 2);   // 0.0025
  CHECK(h.cumulative(5) == 3);   // 0.005
  CHECK(h.cumulative(15) == 3);  // 10 s
  CHECK(h.cumulative(16) == 4);  // +Inf
  CHECK(h.count() == 4);
  CHECK(h.sum() == doctest::Approx(20.00315));
}

TEST_CASE("metrics count requests per endpoint and render Prometheus text") {
  Metrics m;
  m.received("/index");
  m.received("/index");
  m.received("/search");
  CHECK(m.in_flight() == 3);
  m.succeeded("/index", 0.002, 100);
  m.failed("/index", 0.5);
  m.succeeded("/search", 0.0001, 1);
  m.executor_time("encoder", 0.001);
  CHECK(m.in_flight() == 0);
  CHECK(m.received_count("/index") == 2);
  CHECK(m.succeeded_count("/index") == 1);
  CHECK(m.failed_count("/index") == 1);
  CHECK(m.received_count("/nope") == 0);
  CHECK(m.documents() == 101);
  auto text = m.render();
  auto has = [&](const std::string& line) {
    INFO(line);
    CHECK(text.find(line + "\n") != std::string::npos);
  };
  has("# TYPE caflow_requests_received_total counter");
  has("caflow_requests_received_total{endpoint=\"/index\"} 2");
  has("caflow_requests_succeeded_total{endpoint=\"/search\"} 1");
  has("caflow_requests_failed_total{endpoint=\"/index\"} 1");
  has("caflow_requests_in_flight 0");
  has("caflow_documents_processed_total 101");
  has("# TYPE caflow_receiving_request_seconds histogram");
  has("caflow_receiving_request_seconds_bucket{endpoint=\"/index\",le=\"0.0025\"} 1");
  has("caflow_receiving_request_seconds_bucket{endpoint=\"/index\",le=\"+Inf\"} 2");
  has("caflow_receiving_request_seconds_count{endpoint=\"/index\"} 2");
  has("caflow_receiving_request_seconds_sum{endpoint=\"/index\"} 0.502");
  has("caflow_executor_request_seconds_bucket{executor=\"encoder\",le=\"0.001\"} 1");
  has("caflow_executor_request_seconds_count{executor=\"encoder\"} 1");
}

TEST_CASE("label values are escaped and label sets are capped") {
  CHECK(escape_label("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  Metrics m;
  for (size_t i = 0; i < Metrics::max_labels + 10; ++i)
    m.received("/e" + std::to_string(i));
  CHECK(m.received_count("/e0") == 1);
  CHECK(m.received_count("other") == 10);
  CHECK(m.received_count("/e" + std::to_string(Metrics::max_labels + 5)) == 0);
}

TEST_CASE("metrics count correctly from many threads at once") {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 10000; ++i) {
        auto endpoint = "/e" + std::to_string((i + t) % 8);
        m.received(endpoint);
        m.succeeded(endpoint, 0.001, 1);
      }
    });
  for (auto& t : threads)
    t.join();
  uint64_t total = 0;
  for (int e = 0; e < 8; ++e)
    total += m.succeeded_count("/e" + std::to_string(e));
  CHECK(total == 40000);
  CHECK(m.documents() == 40000);
  CHECK(m.in_flight() == 0);
}
