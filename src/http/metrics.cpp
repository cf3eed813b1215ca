#include "http/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace caflow::http {

// ---- Histogram ---------------------------------------------------------------

void Histogram::observe(double seconds) noexcept {
  if (!(seconds >= 0))  // negative or NaN: a clock went backwards; count it as 0
    seconds = 0;
  auto it = std::lower_bound(bounds.begin(), bounds.end(), seconds);
  buckets_[static_cast<size_t>(it - bounds.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(std::llround(seconds * 1e9)), std::memory_order_relaxed);
}

uint64_t Histogram::cumulative(size_t i) const noexcept {
  uint64_t total = 0;
  for (size_t k = 0; k <= i && k < buckets_.size(); ++k)
    total += buckets_[k].load(std::memory_order_relaxed);
  return total;
}

uint64_t Histogram::count() const noexcept {
  return cumulative(buckets_.size() - 1);
}

double Histogram::sum() const noexcept {
  return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
}

// ---- label families ------------------------------------------------------------

struct Metrics::Endpoint {
  std::string name;
  Endpoint* next = nullptr;
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> succeeded{0};
  std::atomic<uint64_t> failed{0};
  Histogram latency;
};

struct Metrics::Executor {
  std::string name;
  Executor* next = nullptr;
  Histogram latency;
};

// An append-only list of label sets: readers walk it without a lock (nodes
// are published with release stores and never removed before destruction).
template <class Node>
struct Metrics::Family {
  std::atomic<Node*> head{nullptr};
  std::mutex mtx;
  size_t size = 0;  // guarded by mtx

  ~Family() {
    for (auto* n = head.load(); n != nullptr;) {
      auto* next = n->next;
      delete n;
      n = next;
    }
  }

  Node* find(std::string_view name) const {
    for (auto* n = head.load(std::memory_order_acquire); n != nullptr; n = n->next)
      if (n->name == name)
        return n;
    return nullptr;
  }

  Node& get(std::string_view name) {
    if (auto* n = find(name))
      return *n;
    std::lock_guard<std::mutex> guard{mtx};
    if (auto* n = find(name))
      return *n;
    std::string label{name};
    if (size >= max_labels) {
      label = "other";
      if (auto* n = find(label))
        return *n;
    }
    auto* n = new Node;
    n->name = std::move(label);
    n->next = head.load(std::memory_order_relaxed);
    head.store(n, std::memory_order_release);
    ++size;
    return *n;
  }

  // Snapshot of the nodes sorted by label, for stable output.
  std::vector<const Node*> sorted() const {
    std::vector<const Node*> out;
    for (auto* n = head.load(std::memory_order_acquire); n != nullptr; n = n->next)
      out.push_back(n);
    std::sort(out.begin(), out.end(),
              [](const Node* a, const Node* b) { return a->name < b->name; });
    return out;
  }
};

Metrics::Metrics()
  : endpoints_(std::make_unique<Family<Endpoint>>()),
    executors_(std::make_unique<Family<Executor>>()) {
}

Metrics::~Metrics() = default;

Metrics::Endpoint& Metrics::endpoint(std::string_view name) {
  return endpoints_->get(name);
}

const Metrics::Endpoint* Metrics::find_endpoint(std::string_view name) const {
  return endpoints_->find(name);
}

void Metrics::received(std::string_view endpoint_name) {
  endpoint(endpoint_name).received.fetch_add(1, std::memory_order_relaxed);
  in_flight_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::succeeded(std::string_view endpoint_name, double seconds, uint64_t docs) {
  auto& e = endpoint(endpoint_name);
  e.succeeded.fetch_add(1, std::memory_order_relaxed);
  e.latency.observe(seconds);
  documents_.fetch_add(docs, std::memory_order_relaxed);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
}

void Metrics::failed(std::string_view endpoint_name, double seconds) {
  auto& e = endpoint(endpoint_name);
  e.failed.fetch_add(1, std::memory_order_relaxed);
  e.latency.observe(seconds);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
}

void Metrics::executor_time(std::string_view executor, double seconds) {
  executors_->get(executor).latency.observe(seconds);
}

uint64_t Metrics::received_count(std::string_view name) const {
  auto* e = find_endpoint(name);
  return e ? e->received.load() : 0;
}

uint64_t Metrics::succeeded_count(std::string_view name) const {
  auto* e = find_endpoint(name);
  return e ? e->succeeded.load() : 0;
}

uint64_t Metrics::failed_count(std::string_view name) const {
  auto* e = find_endpoint(name);
  return e ? e->failed.load() : 0;
}

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", x);
  return buf;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const std::string& name, const std::string& labels,
            const std::string& value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void histogram(std::string& out, const char* name, const std::string& labels, const Histogram& h) {
  std::string base{name};
  auto with_le = [&](const std::string& le) {
    return labels.empty() ? "le=\"" + le + "\"" : labels + ",le=\"" + le + "\"";
  };
  for (size_t i = 0; i < Histogram::bounds.size(); ++i)
    sample(out, base + "_bucket", with_le(number(Histogram::bounds[i])),
           std::to_string(h.cumulative(i)));
  sample(out, base + "_bucket", with_le("+Inf"), std::to_string(h.count()));
  sample(out, base + "_sum", labels, number(h.sum()));
  sample(out, base + "_count", labels, std::to_string(h.count()));
}

}  // namespace

std::string Metrics::render() const {
  std::string out;
  out.reserve(8192);
  auto endpoints = endpoints_->sorted();
  auto label = [](const char* key, const std::string& v) {
    return std::string{key} + "=\"" + escape_label(v) + "\"";
  };
  auto counter = [&](const char* name, const char* help, std::atomic<uint64_t> Endpoint::*field) {
    header(out, name, "counter", help);
    for (auto* e : endpoints)
      sample(out, name, label("endpoint", e->name), std::to_string((e->*field).load()));
  };
  counter("caflow_requests_received_total", "HTTP requests received, by endpoint.",
          &Endpoint::received);
  counter("caflow_requests_succeeded_total", "HTTP requests answered successfully, by endpoint.",
          &Endpoint::succeeded);
  counter("caflow_requests_failed_total", "HTTP requests answered with an error, by endpoint.",
          &Endpoint::failed);
  header(out, "caflow_requests_in_flight", "gauge", "HTTP requests received and not yet answered.");
  sample(out, "caflow_requests_in_flight", "", std::to_string(in_flight_.load()));
  header(out, "caflow_documents_processed_total", "counter",
         "Documents returned by successful requests.");
  sample(out, "caflow_documents_processed_total", "", std::to_string(documents_.load()));
  header(out, "caflow_receiving_request_seconds", "histogram",
         "Time from receiving a request to answering it, by endpoint.");
  for (auto* e : endpoints)
    histogram(out, "caflow_receiving_request_seconds", label("endpoint", e->name), e->latency);
  header(out, "caflow_executor_request_seconds", "histogram",
         "Time an executor took for its part of a request, from the response routes.");
  for (auto* x : executors_->sorted())
    histogram(out, "caflow_executor_request_seconds", label("executor", x->name), x->latency);
  return out;
}

}  // namespace caflow::http
