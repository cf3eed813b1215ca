// TLS between a flow and its nodes: certificates made at run time with the
// openssl command line (2048-bit RSA, one day), one CA for the cluster and a
// rogue CA for an intruder.
#include <doctest/doctest.h>

#include "caflow/errors.hpp"
#include "cluster/cluster_fixture.hpp"

using namespace caflow;
using namespace caflow::testing;

namespace {

struct Pki {
  std::string dir;
  TlsOptions flow, node, rogue;
};

// A CA and certificates signed by it for `names`, in `dir`.
void make_ca(const std::string& dir, const std::string& ca, std::vector<std::string> names) {
  std::string script = "set -e; cd '" + dir + "'; "
                       "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + ca + ".key -out "
                       + ca + ".pem -days 1 -subj /CN=" + ca + " 2>/dev/null; ";
  for (const auto& n : names)
    script += "openssl req -newkey rsa:2048 -nodes -keyout " + n + ".key -out " + n
              + ".csr -subj /CN=" + n + " 2>/dev/null; openssl x509 -req -in " + n + ".csr -CA "
              + ca + ".pem -CAkey " + ca + ".key -CAcreateserial -out " + n
              + ".pem -days 1 2>/dev/null; ";
  auto r = run({"/bin/sh", "-c", script});
  REQUIRE_MESSAGE(r.code == 0, r.output);
}

Pki make_pki() {
  Pki p;
  p.dir = temp_dir("pki");
  make_ca(p.dir, "ca", {"flow", "node"});
  make_ca(p.dir, "rogue-ca", {"rogue"});
  auto tls = [&](const std::string& name, const std::string& ca) {
    return TlsOptions{p.dir + "/" + name + ".pem", p.dir + "/" + name + ".key",
                      p.dir + "/" + ca + ".pem"};
  };
  p.flow = tls("flow", "ca");
  p.node = tls("node", "ca");
  p.rogue = tls("rogue", "rogue-ca");
  return p;
}

std::vector<std::string> tls_args(const TlsOptions& t) {
  return {"--tls-cert", t.cert, "--tls-key", t.key, "--tls-ca", t.ca};
}

Flow tagger_flow(const Pki& pki, std::vector<std::string> hosts, uint16_t cluster_port = 0) {
  FlowOptions options;
  options.plugins = {CAFLOW_CLUSTER_PLUGIN};
  options.tls = pki.flow;
  options.nodes = std::move(hosts);
  options.cluster_port = cluster_port;
  Flow flow{options};
  flow.add({.name = "tagger", .uses = "PidTagger"});
  return flow;
}

}  // namespace

TEST_CASE("tls: a node with the CA's certificate hosts replicas; others are refused") {
  auto pki = make_pki();
  auto good = NodeProcess::start(temp_dir("good"), 0, tls_args(pki.node));
  CHECK(good.proc->output().find("(tls)") != std::string::npos);

  auto flow = tagger_flow(pki, {good.address}).start();
  REQUIRE_MESSAGE(flow, describe(flow));
  CHECK(placement_of(*flow, "tagger").at(0).node == good.address);
  auto r = flow->post("/tag", numbered_docs(0, 10));
  REQUIRE_MESSAGE(r, describe(r));
  CHECK(r->docs[0].tags.get_int("tagger.pid", 0) == good.proc->pid());

  // A node whose certificate another CA signed cannot be spawned on...
  auto rogue = NodeProcess::start(temp_dir("rogue"), 0, tls_args(pki.rogue));
  auto refused = tagger_flow(pki, {rogue.address}).start();
  REQUIRE_FALSE(refused);
  CHECK(describe(refused.error()).find("tagger: node " + rogue.address + " unreachable")
        != std::string::npos);
  CHECK_MESSAGE(describe(refused).find("disagree on TLS") != std::string::npos, describe(refused));

  // ...nor join; neither can a node without TLS.
  auto port = free_port();
  auto joinable = tagger_flow(pki, {}, port).start();
  REQUIRE_MESSAGE(joinable, describe(joinable));
  auto join = "127.0.0.1:" + std::to_string(port);
  auto rogue_join = run(
    {CAFLOW_NODE_BINARY, "node", "--port", "0", "--workspace", temp_dir("rj"), "--join", join,
     "--tls-cert", pki.rogue.cert, "--tls-key", pki.rogue.key, "--tls-ca", pki.rogue.ca},
    60s);
  CHECK(rogue_join.code == 1);
  CHECK(rogue_join.output.find("cannot join the flow at " + join) != std::string::npos);
  auto plain_join = run(
    {CAFLOW_NODE_BINARY, "node", "--port", "0", "--workspace", temp_dir("pj"), "--join", join},
    60s);
  CHECK(plain_join.code == 1);
  CHECK(plain_join.output.find("cannot join the flow at " + join) != std::string::npos);
  // It used to say only "disconnect_during_handshake" (#14.14).
  CHECK_MESSAGE(plain_join.output.find("disagree on TLS") != std::string::npos, plain_join.output);
  CHECK(plain_join.output.find("this side uses plain TCP") != std::string::npos);
  // And a node with the right certificate joins.
  auto member = NodeProcess::start(temp_dir("member"), 0, [&] {
    auto a = tls_args(pki.node);
    a.push_back("--join");
    a.push_back(join);
    return a;
  }());
  CHECK(member.proc->wait_for("joined the flow", 30s));
}
