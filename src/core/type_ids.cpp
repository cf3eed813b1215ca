#include "caflow/type_ids.hpp"

#include <caf/actor_system_config.hpp>

#include "caflow/errors.hpp"
#include "cluster/protocol.hpp"

namespace caflow {

void add_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::caflow>();
  cfg.add_message_types<caf::id_block::caflow_cluster>();
  // Lets caf::to_string / system.render print our codes by name.
  cfg.add_error_category(error_category,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           return describe(caf::error{code, error_category, ctx});
                         });
}

}  // namespace caflow
