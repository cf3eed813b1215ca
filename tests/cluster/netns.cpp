#include "cluster/netns.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>

#include "daemon/process.hpp"

namespace caflow::testing {

namespace {

std::string ip_binary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
    if (std::filesystem::exists(p))
      return p;
  return "";
}

// Runs `ip args...`; "" when it succeeded, else its output.
std::string ip(std::vector<std::string> args) {
  auto binary = ip_binary();
  if (binary.empty())
    return "no ip binary (iproute2)";
  args.insert(args.begin(), binary);
  auto r = run(std::move(args), std::chrono::seconds(10));
  return r.code == 0 ? "" : (r.output.empty() ? "exit " + std::to_string(r.code) : r.output);
}

}  // namespace

std::optional<NetNamespace> NetNamespace::open(std::string& why) {
  if (::geteuid() != 0) {
    why = "not root";
    return std::nullopt;
  }
  // Names and the /30 from this process's id, so that concurrent test runs
  // on one machine do not meet.
  static std::atomic<unsigned> counter{0};
  auto n = static_cast<unsigned>(::getpid()) * 4 + (counter++ % 4);
  NetNamespace ns;
  auto tag = std::to_string(n % 10'000'000);
  ns.name_ = "caflow-test-" + tag;
  ns.outer_ = "cfo" + tag;
  auto inner_if = "cfi" + tag;
  auto net = "10." + std::to_string(200 + (n >> 14) % 50) + "." + std::to_string((n >> 6) % 256)
             + "." + std::to_string((n % 64) * 4);
  auto base = net.substr(0, net.rfind('.') + 1);
  auto last = std::stoi(net.substr(net.rfind('.') + 1));
  auto outer_ip = base + std::to_string(last + 1);
  ns.inner_ = base + std::to_string(last + 2);
  if (why = ip({"netns", "add", ns.name_}); !why.empty())
    return std::nullopt;
  // From here on the destructor cleans up whatever was made.
  for (auto step : std::vector<std::vector<std::string>>{
         {"link", "add", ns.outer_, "type", "veth", "peer", "name", inner_if},
         {"link", "set", inner_if, "netns", ns.name_},
         {"addr", "add", outer_ip + "/30", "dev", ns.outer_},
         {"link", "set", ns.outer_, "up"},
         {"-n", ns.name_, "addr", "add", ns.inner_ + "/30", "dev", inner_if},
         {"-n", ns.name_, "link", "set", inner_if, "up"},
         {"-n", ns.name_, "link", "set", "lo", "up"}})
    if (why = ip(step); !why.empty())
      return std::nullopt;
  return ns;
}

NetNamespace::NetNamespace(NetNamespace&& other) noexcept
  : name_(std::move(other.name_)),
    outer_(std::move(other.outer_)),
    inner_(std::move(other.inner_)) {
  other.name_.clear();
  other.outer_.clear();
}

NetNamespace::~NetNamespace() {
  if (!outer_.empty())
    (void)ip({"link", "del", outer_});  // both ends go
  if (!name_.empty())
    (void)ip({"netns", "del", name_});
}

std::vector<std::string> NetNamespace::exec_prefix() const {
  return {ip_binary(), "netns", "exec", name_};
}

void NetNamespace::partition(bool cut) {
  if (auto err = ip({"link", "set", outer_, cut ? "down" : "up"}); !err.empty())
    throw std::runtime_error("ip link set " + outer_ + ": " + err);
}

}  // namespace caflow::testing
