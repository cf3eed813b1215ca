#include "caflow/executor.hpp"

#include <filesystem>

namespace caflow {

namespace {

// Runs a typed uses_with lookup and names the executor and key on failure.
template <class F>
auto lookup(const ExecutorContext& ctx, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(errc::invalid_argument, ctx.name + ": uses_with." + e.what());
  }
}

}  // namespace

std::string ExecutorContext::executor_workspace() const {
  if (workspace.empty())
    return {};
  return (std::filesystem::path{workspace} / name).string();
}

std::string ExecutorContext::resolve_path(const std::string& path) const {
  if (path.empty() || config_dir.empty() || std::filesystem::path{path}.is_absolute())
    return path;
  return (std::filesystem::path{config_dir} / path).lexically_normal().string();
}

bool ExecutorContext::get(std::string_view key, bool fallback) const {
  return lookup(*this, [&] { return uses_with.get_bool(key, fallback); });
}

int64_t ExecutorContext::get(std::string_view key, int64_t fallback) const {
  return lookup(*this, [&] { return uses_with.get_int(key, fallback); });
}

double ExecutorContext::get(std::string_view key, double fallback) const {
  return lookup(*this, [&] { return uses_with.get_double(key, fallback); });
}

std::string ExecutorContext::get(std::string_view key, const char* fallback) const {
  return get(key, std::string{fallback});
}

std::string ExecutorContext::get(std::string_view key, std::string fallback) const {
  return lookup(*this, [&] { return uses_with.get_string(key, std::move(fallback)); });
}

Executor::Executor(ExecutorContext ctx) : ctx_(std::move(ctx)) {
}

Executor::~Executor() = default;

void Executor::on(std::string endpoint, Handler handler) {
  handlers_[std::move(endpoint)] = std::move(handler);
}

Params Executor::handle(std::string_view endpoint, DocumentArray& docs, const Params& params) {
  auto i = handlers_.find(endpoint);
  if (i == handlers_.end())
    i = handlers_.find(std::string_view{"*"});
  if (i == handlers_.end())
    return Params::object();  // Jina: an unbound endpoint passes through.
  return i->second(docs, params);
}

Params Executor::handle(std::string_view endpoint, DocumentArray& docs, const Params& params,
                        const WriteStamp& stamp) {
  // Reset however the handler leaves (it may throw).
  struct Reset {
    const WriteStamp*& at;
    ~Reset() { at = nullptr; }
  } reset{stamp_};
  stamp_ = &stamp;
  return handle(endpoint, docs, params);
}

Replicated::~Replicated() = default;

bool Executor::binds(std::string_view endpoint) const {
  return endpoint != "*" && handlers_.find(endpoint) != handlers_.end();
}

std::vector<std::string> Executor::endpoints() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : handlers_)
    out.push_back(name);
  return out;
}

}  // namespace caflow
