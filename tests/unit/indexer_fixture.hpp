// The shipped Indexer used directly (no actors), as the unit tests start it.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <utility>

#include "caflow/errors.hpp"
#include "caflow/executor.hpp"

namespace caflow::test {

/// The context of an Indexer named "indexer" working in `workspace`; tests
/// set shard, replica and flow fields on the result where they need them.
inline ExecutorContext indexer_context(const std::filesystem::path& workspace,
                                       Params uses_with = Params::object()) {
  ExecutorContext ctx;
  ctx.name = "indexer";
  ctx.uses = "Indexer";
  ctx.workspace = workspace.string();
  ctx.uses_with = std::move(uses_with);
  return ctx;
}

/// Starts the executor of `ctx`; the error when it refuses to start.
inline caf::expected<std::unique_ptr<Executor>> start_executor(const ExecutorContext& ctx) {
  return ExecutorRegistry::instance().create(ctx);
}

/// Starts the executor of `ctx`, failing the test (with the reason) if it refuses.
inline std::unique_ptr<Executor> make_executor(const ExecutorContext& ctx) {
  auto e = start_executor(ctx);
  REQUIRE_MESSAGE(e, describe(e));
  return std::move(*e);
}

}  // namespace caflow::test
