// The network under the cluster: CAF's middleman over plain TCP, or over TLS
// when the actor system carries CAF's OpenSSL manager. Every caflow process
// of a cluster (flow, node, `caflow scale`) configures its system through
// configure_network and then publishes and connects through these helpers,
// so that one setting decides the transport for all of them.
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>

#include "caflow/flow.hpp"

namespace caflow::detail {

/// Loads the middleman into `cfg`, and with `tls` enabled the OpenSSL
/// manager with its certificate, key and CA. Checks that all three are given
/// and exist: errc::invalid_argument / io_error naming the missing one.
[[nodiscard]] caf::error configure_network(caf::actor_system_config& cfg, const TlsOptions& tls);

/// `err` of connecting to `address` in words that say what is wrong: CAF
/// says only "disconnect_during_handshake" when one side speaks TLS and the
/// other plain TCP, or when a peer refuses the other's certificate.
[[nodiscard]] std::string describe_connect_error(caf::actor_system& sys, const caf::error& err);

/// True when `sys` talks TLS to its peers.
[[nodiscard]] inline bool uses_tls(caf::actor_system& sys) {
  return sys.has_openssl_manager();
}

/// Publishes `whom` on host:port (0 = a free port) over the system's
/// transport; returns the bound port. SO_REUSEADDR, so that a restarted node
/// gets its port back at once.
template <class Handle>
caf::expected<uint16_t> publish(caf::actor_system& sys, const Handle& whom, uint16_t port,
                                const std::string& host) {
  if (uses_tls(sys))
    return caf::openssl::publish(whom, port, host.c_str(), true);
  return sys.middleman().publish(whom, port, host.c_str(), true);
}

/// Connects to the actor published on host:port (blocks the caller).
template <class Handle>
caf::expected<Handle> connect(caf::actor_system& sys, const std::string& host, uint16_t port) {
  if (uses_tls(sys))
    return caf::openssl::remote_actor<Handle>(sys, host, port);
  return sys.middleman().template remote_actor<Handle>(host, port);
}

/// The middleman actor of the system's transport, for connecting from inside
/// an actor without blocking: request (connect_atom, host, port).
[[nodiscard]] inline caf::io::middleman_actor connector(caf::actor_system& sys) {
  if (uses_tls(sys))
    return sys.openssl_manager().actor_handle();
  return sys.middleman().actor_handle();
}

}  // namespace caflow::detail
