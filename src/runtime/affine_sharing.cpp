#include "runtime/affine_sharing.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/scheduler/coordinator.hpp>

namespace caflow::detail {

void use_affine_sharing(caf::actor_system_config& cfg) {
  cfg.load<caf::scheduler::coordinator<AffineSharing>>();
}

}  // namespace caflow::detail
