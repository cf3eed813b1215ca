#include "runtime/post.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "caflow/errors.hpp"
#include "runtime/reduce.hpp"

namespace caflow::detail {

namespace {

// One post through the gateway actor, shared between the blocked caller
// and the client actor that sends its requests.
struct GatewayPost {
  std::mutex mtx;
  std::condition_variable cv;
  bool finished = false;
  std::vector<Request> requests;
  std::vector<std::optional<Response>> answers;
  caf::error error;
  size_t next = 0;       // next request to send
  size_t completed = 0;  // answers received
  size_t in_flight = 0;
  PostOptions options;
};

void finish(GatewayPost& st) {
  std::lock_guard<std::mutex> guard{st.mtx};
  st.finished = true;
  st.cv.notify_all();
}

void send_next(caf::event_based_actor* self, const gateway_actor& gw,
               std::shared_ptr<GatewayPost> st) {
  while (!st->error && st->next < st->requests.size()
         && st->in_flight < std::max<size_t>(1, st->options.prefetch)) {
    auto i = st->next++;
    ++st->in_flight;
    self->request(gw, caf::infinite, std::move(st->requests[i]))
      .then(
        [self, gw, st, i](Response& resp) {
          --st->in_flight;
          st->answers[i] = std::move(resp);
          ++st->completed;
          if (st->options.on_progress)
            st->options.on_progress(st->completed, st->requests.size());
          if (st->completed == st->requests.size()) {
            finish(*st);
            self->quit();
            return;
          }
          send_next(self, gw, st);
        },
        [self, st](caf::error& err) {
          --st->in_flight;
          if (!st->error)
            st->error = std::move(err);
          // Stop sending; wait for what is in flight so nothing dangles.
          if (st->in_flight == 0) {
            finish(*st);
            self->quit();
          }
        });
  }
}

}  // namespace

caf::expected<PostResult> post_through(caf::actor_system& sys, const gateway_actor& gateway,
                                       const std::string& endpoint, DocumentArray docs,
                                       PostOptions options) {
  auto st = std::make_shared<GatewayPost>();
  auto size = std::max<size_t>(1, options.request_size);
  auto all = std::move(docs).docs();
  auto make_request = [&](DocumentArray part) {
    Request req;
    req.id = new_document_id();
    req.endpoint = endpoint;
    req.parameters = options.parameters;
    req.target_executor = options.target_executor;
    req.docs = std::move(part);
    st->requests.push_back(std::move(req));
  };
  for (size_t begin = 0; begin < all.size(); begin += size) {
    auto end = std::min(all.size(), begin + size);
    make_request(std::vector<Document>(std::make_move_iterator(all.begin() + begin),
                                       std::make_move_iterator(all.begin() + end)));
  }
  if (st->requests.empty())  // Jina sends one empty request (e.g. /count)
    make_request({});
  st->answers.resize(st->requests.size());
  st->options = std::move(options);
  // The state goes in as spawn arguments, not captures: CAF 0.17.6 applies
  // an argument-less actor function to `*args_`, a null
  // std::shared_ptr<std::tuple<>> (caf/detail/init_fun_factory.hpp), which
  // is undefined behaviour (UBSan: reference binding to null pointer).
  sys.spawn([](caf::event_based_actor* self, gateway_actor gw,
               std::shared_ptr<GatewayPost> state) { send_next(self, gw, state); },
            gateway, st);
  {
    std::unique_lock<std::mutex> lock{st->mtx};
    st->cv.wait(lock, [&] { return st->finished; });
  }
  if (st->error)
    return std::move(st->error);
  PostResult out;
  size_t total = 0;
  for (auto& a : st->answers)
    total += a->docs.size();
  out.docs.reserve(total);
  std::vector<Params> params;
  for (auto& a : st->answers) {
    out.docs.append(std::move(a->docs));
    params.push_back(std::move(a->parameters));
    out.failed_shards += a->shards_failed;
    for (auto& f : a->failures)
      out.failures.push_back(std::move(f));
  }
  out.parameters = reduce_parameters(params);
  return out;
}

}  // namespace caflow::detail
