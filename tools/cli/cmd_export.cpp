// caflow export kubernetes|compose FLOW.yml OUTDIR — a flow's topology as
// Kubernetes manifests or a docker compose project (see cli/export/export.hpp).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "caflow/errors.hpp"
#include "cli/commands.hpp"
#include "cli/export/export.hpp"
#include "cli/options.hpp"

namespace caflow::cli {

namespace {

constexpr const char* export_usage
  = "usage: caflow export kubernetes FLOW.yml OUTDIR [--namespace NS] [--image IMAGE]\n"
    "                                               [--storage SIZE]\n"
    "       caflow export compose FLOW.yml OUTDIR [--image IMAGE]\n"
    "\n"
    "Writes the flow's topology into OUTDIR: the node daemons that its hosts:\n"
    "and nodes: name (a StatefulSet with a volume per pod, or one compose\n"
    "service each), the flow with its gateway and cluster ports and `caflow\n"
    "ping` probes, the config with hosts: rewritten to the nodes' stable DNS\n"
    "names, and the TLS files as secrets. The image must have `caflow` on its\n"
    "PATH (and plugins under /opt/caflow/lib).";

}  // namespace

int run_export(int argc, char** argv) {
  std::string target;
  std::string config;
  std::string outdir;
  exporter::Options options;
  po::options_description desc{"options"};
  desc.add_options()("target", po::value(&target)->required(), "kubernetes or compose")(
    "config", po::value(&config)->required(), "the flow's YAML file")(
    "outdir", po::value(&outdir)->required(), "directory for the files (created)")(
    "namespace,n", po::value(&options.ns)->default_value(options.ns),
    "Kubernetes namespace of the objects")("image",
                                           po::value(&options.image)->default_value(options.image),
                                           "container image with caflow on its PATH")(
    "storage", po::value(&options.storage)->default_value(options.storage),
    "size of each PersistentVolumeClaim");
  po::positional_options_description positional;
  positional.add("target", 1).add("config", 1).add("outdir", 1);
  po::variables_map vm;
  if (int rc = parse_options(argc, argv, export_usage, desc, positional, vm); rc >= 0)
    return rc;
  caf::expected<std::vector<exporter::OutputFile>> files{std::vector<exporter::OutputFile>{}};
  if (target == "kubernetes" || target == "k8s") {
    files = exporter::kubernetes(config, options);
  } else if (target == "compose") {
    if (!vm["namespace"].defaulted() || !vm["storage"].defaulted()) {
      std::cerr << "caflow export: --namespace and --storage are for kubernetes\n";
      return 2;
    }
    files = exporter::compose(config, options);
  } else {
    std::cerr << "caflow export: unknown target '" << target << "' (kubernetes or compose)\n\n"
              << export_usage << '\n';
    return 2;
  }
  if (!files) {
    std::cerr << "caflow export: " << error_message(files.error()) << '\n';
    return 1;
  }
  namespace fs = std::filesystem;
  for (const auto& f : *files) {
    auto path = fs::path{outdir} / f.path;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream out{path, std::ios::binary | std::ios::trunc};
    out << f.text;
    out.close();
    if (ec || !out) {
      std::cerr << "caflow export: cannot write " << path.string()
                << (ec ? ": " + ec.message() : std::string{}) << '\n';
      return 1;
    }
    std::cout << path.string() << '\n';
  }
  return 0;
}

}  // namespace caflow::cli
