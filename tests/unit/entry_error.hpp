// For config tests of one executor entry's keys.
#pragma once

#include <string>

#include "caflow/errors.hpp"
#include "caflow/flow.hpp"

namespace caflow::testing {

/// The error of parsing + validating `body` as more keys of the executor
/// entry `- name: x / uses: NoOp` (so body's first key is on line 4 of
/// "flow.yml"), "" when there is none.
inline std::string entry_error(const std::string& body) {
  auto flow = Flow::parse("executors:\n  - name: x\n    uses: NoOp\n" + body, "flow.yml");
  if (!flow)
    return error_message(flow.error());
  if (auto err = flow->validate())
    return error_message(err);
  return {};
}

}  // namespace caflow::testing
