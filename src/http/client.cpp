#include "caflow/client.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "grpc/grpc_client.hpp"
#include "http/client_connection.hpp"
#include "http/jina_codec.hpp"
#include "runtime/post_batches.hpp"

namespace caflow {

struct Client::Impl {
  std::string host;
  uint16_t port;
  ClientOptions options;
  std::unique_ptr<grpc_gateway::GrpcClient> grpc;  // protocol "grpc"
  std::mutex mtx;
  std::vector<std::unique_ptr<http::ClientConnection>> idle;  // guarded by mtx

  std::unique_ptr<http::ClientConnection> take() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
    }
    return std::make_unique<http::ClientConnection>(host, port, options);
  }

  void give_back(std::unique_ptr<http::ClientConnection> c) {
    std::lock_guard<std::mutex> guard{mtx};
    idle.push_back(std::move(c));
  }

  caf::expected<HttpReply> exchange(std::string_view method, std::string_view target,
                                    const std::string& body, std::chrono::milliseconds timeout) {
    auto c = take();
    auto reply = c->exchange(method, target, body, timeout);
    give_back(std::move(c));
    return reply;
  }
};

Client::Client(std::string host, uint16_t port, ClientOptions options)
  : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->options = options;
  if (options.protocol == "grpc")
    impl_->grpc = std::make_unique<grpc_gateway::GrpcClient>(impl_->host, port, options.timeout,
                                                             options.connect_timeout);
}

Client::~Client() = default;

caf::expected<HttpReply> Client::request(std::string_view method, std::string_view target,
                                         std::string body) {
  if (impl_->grpc)
    return make_error(errc::invalid_argument,
                      "Client::request speaks HTTP; this client speaks gRPC");
  return impl_->exchange(method, target, body, impl_->options.timeout);
}

bool Client::ready(std::chrono::milliseconds timeout) {
  if (impl_->grpc)
    return impl_->grpc->ready(timeout);
  auto reply = impl_->exchange("GET", "/dry_run", {}, timeout);
  return reply && reply->status == 200;
}

caf::expected<Value> Client::status() {
  if (impl_->grpc)
    return impl_->grpc->status();
  auto reply = request("GET", "/status");
  if (!reply)
    return std::move(reply.error());
  if (reply->status != 200)
    return http::error_from_reply(reply->status, reply->body);
  return parse_json(reply->body);
}

caf::expected<std::string> Client::metrics() {
  if (impl_->grpc)
    return make_error(errc::invalid_argument, "GET /metrics is HTTP; this client speaks gRPC");
  auto reply = request("GET", "/metrics");
  if (!reply)
    return std::move(reply.error());
  if (reply->status != 200)
    return http::error_from_reply(reply->status, reply->body);
  return std::move(reply->body);
}

namespace {

// One post over HTTP connections, shared by its workers (each takes the
// next request index).
struct HttpPost {
  std::vector<std::string> bodies;
  std::vector<size_t> sizes;  // documents per request
  std::vector<detail::PostAnswer> answers;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mtx;
  size_t done = 0;    // guarded by mtx
  caf::error error;   // the first failure, guarded by mtx
  PostReport report;  // guarded by mtx
};

// The wait before retry number `attempt` (0-based) after a 503: the
// server's Retry-After (seconds) when it sent one, else 100 ms doubling;
// capped, then jittered by +-25%.
std::chrono::milliseconds retry_wait(const std::string& retry_after, unsigned attempt,
                                     std::chrono::milliseconds cap) {
  using std::chrono::milliseconds;
  milliseconds wait{100 << std::min(attempt, 10u)};
  if (!retry_after.empty()) {
    char* end = nullptr;
    auto secs = std::strtod(retry_after.c_str(), &end);
    if (end != retry_after.c_str() && std::isfinite(secs) && secs >= 0)
      wait = milliseconds{static_cast<int64_t>(std::min(secs, 3600.0) * 1000)};
  }
  wait = std::min(wait, cap);
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter{0.75, 1.25};
  return milliseconds{static_cast<int64_t>(static_cast<double>(wait.count()) * jitter(rng))};
}

}  // namespace

caf::expected<PostResult> Client::post(const std::string& endpoint, DocumentArray docs,
                                       PostOptions options) {
  PostReport ignored;
  return post(endpoint, std::move(docs), std::move(options), ignored);
}

caf::expected<PostResult> Client::post(const std::string& endpoint, DocumentArray docs,
                                       PostOptions options, PostReport& report) {
  if (impl_->grpc) {
    report.documents = docs.size();
    report.requests = detail::request_slices(docs.size(), options.request_size).size();
    auto result = impl_->grpc->post(endpoint, std::move(docs), options);
    if (result) {
      report.requests_acknowledged = report.requests;
      report.documents_acknowledged = report.documents;
    } else {
      report.requests_failed = 1;
    }
    return result;
  }
  auto st = std::make_shared<HttpPost>();
  const auto& all = docs.docs();
  // Encode up front: the wire bytes are all the workers need.
  for (auto [begin, end] : detail::request_slices(all.size(), options.request_size)) {
    st->bodies.push_back(http::encode_post(endpoint, all.data() + begin, end - begin,
                                           options.parameters, options.target_executor));
    st->sizes.push_back(end - begin);
  }
  st->report.requests = st->bodies.size();
  st->report.documents = all.size();
  docs.clear();
  auto total = st->bodies.size();
  st->answers.resize(total);
  auto timeout = impl_->options.timeout;

  auto fail = [&st](caf::error err) {
    std::lock_guard<std::mutex> guard{st->mtx};
    ++st->report.requests_failed;
    if (!st->error)
      st->error = std::move(err);
    st->failed = true;
  };
  auto& client_options = impl_->options;
  auto work = [&] {
    auto conn = impl_->take();
    for (;;) {
      if (st->failed)
        break;
      auto i = st->next++;
      if (i >= total)
        break;
      auto reply = conn->exchange("POST", "/post", st->bodies[i], timeout);
      for (unsigned attempt = 0;
           reply && reply->status == 503 && attempt < client_options.retries && !st->failed;
           ++attempt) {
        std::this_thread::sleep_for(
          retry_wait(reply->retry_after, attempt, client_options.max_retry_wait));
        {
          std::lock_guard<std::mutex> guard{st->mtx};
          ++st->report.retries;
        }
        reply = conn->exchange("POST", "/post", st->bodies[i], timeout);
      }
      if (!reply) {
        fail(std::move(reply.error()));
        break;
      }
      if (reply->status != 200) {
        fail(http::error_from_reply(reply->status, reply->body));
        break;
      }
      std::string().swap(st->bodies[i]);  // sent: free it
      auto decoded = http::decode_response(reply->body);
      if (!decoded) {
        fail(std::move(decoded.error()));
        break;
      }
      st->answers[i] = std::move(*decoded);
      std::lock_guard<std::mutex> guard{st->mtx};
      ++st->done;
      ++st->report.requests_acknowledged;
      st->report.documents_acknowledged += st->sizes[i];
      if (options.on_progress)
        options.on_progress(st->done, total);
    }
    impl_->give_back(std::move(conn));
  };
  auto workers = std::min(std::max<size_t>(1, options.prefetch), total);
  std::vector<std::thread> threads;
  for (size_t k = 1; k < workers; ++k)
    threads.emplace_back(work);
  work();  // the calling thread is one of the workers
  for (auto& t : threads)
    t.join();
  report = st->report;
  if (st->error)
    return std::move(st->error);

  return detail::join_answers(st->answers);
}

}  // namespace caflow
