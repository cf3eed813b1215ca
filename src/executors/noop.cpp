// NoOp: the pass-through executor (Jina's BaseExecutor): every endpoint
// returns its documents unchanged. Useful as a placeholder and to measure
// the runtime's own overhead.
#include <array>
#include <string_view>

#include "caflow/executor.hpp"

namespace caflow {
namespace {

class NoOp : public Executor {
 public:
  /// NoOp takes no parameters: any uses_with key is a mistake.
  static constexpr std::array<std::string_view, 0> uses_with_keys{};
  /// It returns at once and never blocks: its replicas run on the scheduler.
  static constexpr bool runs_on_scheduler = true;

  explicit NoOp(ExecutorContext ctx) : Executor(std::move(ctx)) {}
};

CAFLOW_REGISTER_EXECUTOR(NoOp);

}  // namespace
}  // namespace caflow
