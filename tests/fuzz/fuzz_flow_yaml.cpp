// libFuzzer target: flow configs from arbitrary YAML text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "caflow/executor.hpp"
#include "caflow/flow.hpp"
#include "fuzz_targets.hpp"

namespace caflow::fuzz {

namespace {

// The fuzzer links caflow's config code without the built-in executors
// (tests/fuzz/CMakeLists.txt): register stand-ins under their names so that
// validate() gets past the type check to needs, polling and placement, as it
// does for the shipped configs. With libcaflow (the regression test) the
// real ones are there already.
bool register_stand_ins() {
  auto& registry = ExecutorRegistry::instance();
  for (const char* type : {"NoOp", "TfidfVectorizer", "Indexer"})
    if (!registry.contains(type))
      registry.add(type, [](ExecutorContext ctx) -> std::unique_ptr<Executor> {
        return std::make_unique<Executor>(std::move(ctx));
      });
  return true;
}

}  // namespace

void flow_yaml(std::string_view data) {
  static const bool registered = register_stand_ins();
  (void)registered;
  auto flow = Flow::parse(std::string{data}, "fuzz.yml");
  if (!flow)
    return;
  // validate() walks needs (cycles, unknown names) and the executor registry;
  // its verdict does not matter, only that it gives one.
  [[maybe_unused]] auto err = flow->validate();
}

}  // namespace caflow::fuzz

#ifndef CAFLOW_FUZZ_NO_ENTRY
CAFLOW_FUZZ_ENTRY(caflow::fuzz::flow_yaml)
#endif
