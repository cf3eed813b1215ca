/// caflow's message vocabulary, registered with CAF in one type-ID block.
///
/// Every type that crosses actors (and therefore nodes) is listed here once.
/// A host program that hands caflow its own `caf::actor_system` must call
/// `caflow::add_types(cfg)` on its config before creating the system.
#pragma once

#include <caf/type_id.hpp>

#include "caflow/document.hpp"
#include "caflow/executor.hpp"
#include "caflow/messages.hpp"
#include "caflow/replication.hpp"
#include "caflow/value.hpp"

namespace caf {
class actor_system_config;
}

CAF_BEGIN_TYPE_ID_BLOCK(caflow, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(caflow, (caflow::Value))
CAF_ADD_TYPE_ID(caflow, (caflow::Embedding))
CAF_ADD_TYPE_ID(caflow, (caflow::Document))
CAF_ADD_TYPE_ID(caflow, (caflow::DocumentArray))
CAF_ADD_TYPE_ID(caflow, (caflow::Route))
CAF_ADD_TYPE_ID(caflow, (caflow::Request))
CAF_ADD_TYPE_ID(caflow, (caflow::Response))
CAF_ADD_TYPE_ID(caflow, (caflow::ExecutorContext))
CAF_ADD_TYPE_ID(caflow, (caflow::OpLogChunk))
CAF_ADD_TYPE_ID(caflow, (caflow::SnapshotChunk))
CAF_ADD_TYPE_ID(caflow, (caflow::replica_actor))
CAF_ADD_TYPE_ID(caflow, (std::vector<caflow::replica_actor>))
CAF_ADD_TYPE_ID(caflow, (caflow::head_actor))

CAF_END_TYPE_ID_BLOCK(caflow)

namespace caflow {

/// Registers caflow's message types and error category with `cfg`.
void add_types(caf::actor_system_config& cfg);

/// Sets the scheduler options caflow's actors run best with (work sharing,
/// one worker per core). Flow::start() applies it to the system it creates;
/// a host program that hands in its own system may call it on its config.
void configure_scheduler(caf::actor_system_config& cfg);

}  // namespace caflow
