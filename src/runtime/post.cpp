#include "runtime/post.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

#include "caflow/errors.hpp"
#include "runtime/gateway_bridge.hpp"
#include "runtime/post_batches.hpp"

namespace caflow::detail {

namespace {

// One post through the gateway, shared between the blocked caller and the
// answers' callbacks (which run on CAF's workers, several at once).
struct GatewayPost {
  explicit GatewayPost(GatewayBridge& b) : bridge(b) {}
  GatewayBridge& bridge;  // outlives every callback (see post_through)
  std::mutex mtx;
  std::condition_variable cv;
  bool finished = false;
  std::vector<Request> requests;
  std::vector<PostAnswer> answers;
  caf::error error;
  size_t next = 0;       // next request to send
  size_t completed = 0;  // answers received
  size_t in_flight = 0;
  PostOptions options;
};

void on_answer(const std::shared_ptr<GatewayPost>& st, size_t i, caf::expected<Response> resp);

// Sends what the window allows. The requests are taken under the lock and
// sent outside it: a gateway that is gone answers inside ask().
void pump(const std::shared_ptr<GatewayPost>& st) {
  std::vector<size_t> batch;
  {
    std::lock_guard<std::mutex> guard{st->mtx};
    auto window = std::max<size_t>(1, st->options.prefetch);
    while (!st->error && st->next < st->requests.size() && st->in_flight < window) {
      batch.push_back(st->next++);
      ++st->in_flight;
    }
  }
  for (auto i : batch)
    st->bridge.ask(std::move(st->requests[i]), std::chrono::milliseconds{0},
                   [st, i](caf::expected<Response> resp) { on_answer(st, i, std::move(resp)); });
}

void on_answer(const std::shared_ptr<GatewayPost>& st, size_t i, caf::expected<Response> resp) {
  {
    std::lock_guard<std::mutex> guard{st->mtx};
    --st->in_flight;
    if (resp) {
      auto& a = st->answers[i];
      a.docs = std::move(resp->docs);
      a.parameters = std::move(resp->parameters);
      a.failed_shards = resp->shards_failed;
      a.failures = std::move(resp->failures);
      ++st->completed;
      if (st->options.on_progress)
        st->options.on_progress(st->completed, st->requests.size());
    } else if (!st->error) {
      st->error = std::move(resp.error());  // stop sending, wait for the rest
    }
    if (st->completed == st->requests.size() || (st->error && st->in_flight == 0)) {
      st->finished = true;
      st->cv.notify_all();
      return;
    }
  }
  pump(st);
}

}  // namespace

caf::expected<PostResult> post_through(caf::actor_system& sys, const gateway_actor& gateway,
                                       const std::string& endpoint, DocumentArray docs,
                                       PostOptions options) {
  // Declared before the state: destroyed after the caller stopped waiting,
  // it waits for a callback still returning (GatewayBridge's destructor).
  GatewayBridge bridge{sys, gateway};
  auto st = std::make_shared<GatewayPost>(bridge);
  auto all = std::move(docs).docs();
  for (auto [begin, end] : request_slices(all.size(), options.request_size)) {
    Request req;
    req.id = new_document_id();
    req.endpoint = endpoint;
    req.parameters = options.parameters;
    req.target_executor = options.target_executor;
    req.docs = std::vector<Document>(std::make_move_iterator(all.begin() + begin),
                                     std::make_move_iterator(all.begin() + end));
    st->requests.push_back(std::move(req));
  }
  st->answers.resize(st->requests.size());
  st->options = std::move(options);
  pump(st);
  {
    std::unique_lock<std::mutex> lock{st->mtx};
    st->cv.wait(lock, [&] { return st->finished; });
  }
  if (st->error)
    return std::move(st->error);
  return join_answers(st->answers);
}

}  // namespace caflow::detail
