#include "cluster/transport.hpp"

#include <filesystem>

#include <caf/sec.hpp>

#include "caflow/errors.hpp"

namespace caflow::detail {

namespace {

caf::error check_file(const std::string& path, const char* what) {
  if (path.empty())
    return make_error(errc::invalid_argument,
                      std::string{"tls: "} + what + " missing (give cert, key and ca together)");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return make_error(errc::io_error, std::string{"tls: "} + what + " " + path + ": no such file");
  return {};
}

}  // namespace

caf::error configure_network(caf::actor_system_config& cfg, const TlsOptions& tls) {
  cfg.load<caf::io::middleman>();
  if (!tls.enabled())
    return {};
  if (auto err = check_file(tls.cert, "certificate"))
    return err;
  if (auto err = check_file(tls.key, "key"))
    return err;
  if (auto err = check_file(tls.ca, "ca"))
    return err;
  // With a CA file CAF's OpenSSL manager turns on peer authentication: each
  // side requires the other's certificate and verifies it against the CA, so
  // a process without a certificate signed by it cannot connect either way.
  cfg.openssl_certificate = tls.cert;
  cfg.openssl_key = tls.key;
  cfg.openssl_cafile = tls.ca;
  cfg.load<caf::openssl::manager>();
  return {};
}

std::string describe_connect_error(caf::actor_system& sys, const caf::error& err) {
  auto what = caf::to_string(err);
  if (err != caf::sec::disconnect_during_handshake && err != caf::sec::cannot_connect_to_node)
    return what;
  if (err == caf::sec::cannot_connect_to_node && !uses_tls(sys))
    return what;
  return what + ": the connection closed during the handshake, so the two sides disagree on TLS ("
         + (uses_tls(sys) ? std::string{"this side uses TLS: is the peer started without "
                                        "--tls-cert/--tls-key/--tls-ca, or with a certificate "
                                        "another CA signed?"}
                          : std::string{"this side uses plain TCP: does the peer require TLS? "
                                        "Then give this side --tls-cert, --tls-key and "
                                        "--tls-ca too"})
         + ")";
}

}  // namespace caflow::detail
