#include "actors/read_lane.hpp"

#include "actors/serve.hpp"

namespace caflow::actors {

read_lane_actor::behavior_type read_lane(read_lane_actor::stateful_pointer<read_lane_state> self,
                                         std::shared_ptr<Executor> executor, std::string label,
                                         std::map<std::string, DynamicBatching> batching) {
  self->state.executor = std::move(executor);
  self->state.label = std::move(label);
  self->state.batcher = detail::Batcher{std::move(batching)};
  return {
    [self](Request& req) -> caf::result<Response> { return serve(self, req); },
    [self](batch_atom, const std::string& group, uint64_t generation) {
      expire_batch(self, group, generation);
    },
  };
}

std::set<std::string, std::less<>> lane_endpoints(const std::string& uses) {
  auto& registry = ExecutorRegistry::instance();
  if (!registry.concurrent_reads(uses))
    return {};
  auto reads = registry.read_endpoints(uses);
  return {reads.begin(), reads.end()};
}

std::shared_ptr<Executor> share_executor(std::unique_ptr<Executor> executor,
                                         std::shared_ptr<std::latch> closed) {
  return {executor.release(), [closed = std::move(closed)](Executor* ex) {
            // Flush executor state (storage) whatever the reason the replica stops.
            try {
              ex->close();
            } catch (...) {
              // Nothing to report to: the replica is gone. close() should not throw.
            }
            delete ex;
            closed->count_down();
          }};
}

}  // namespace caflow::actors
