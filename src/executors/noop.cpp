// NoOp: the pass-through executor (Jina's BaseExecutor): every endpoint
// returns its documents unchanged. Useful as a placeholder and to measure
// the runtime's own overhead.
#include "caflow/executor.hpp"

namespace caflow {
namespace {

class NoOp : public Executor {
 public:
  explicit NoOp(ExecutorContext ctx) : Executor(std::move(ctx)) {}
};

CAFLOW_REGISTER_EXECUTOR(NoOp);

}  // namespace
}  // namespace caflow
