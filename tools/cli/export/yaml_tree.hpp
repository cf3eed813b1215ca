// A typed, ordered YAML tree for the manifests `caflow export` writes, and
// its emission through yaml-cpp's Emitter.
//
// yaml-cpp's own YAML::Node keeps every scalar as text, so `containerPort:
// 4242` and `args: ["4242"]` would come out alike, and Kubernetes rejects a
// number where it expects a string. This tree keeps the type; the emitter
// quotes a string exactly when YAML would read it as something else, writes
// multi-line strings as literal blocks (a ConfigMap's flow.yml stays
// readable) and keeps keys in the order they were added (apiVersion, kind,
// metadata, spec, as kubectl users expect).
//
//   Yaml doc = Yaml::map();
//   doc.set("apiVersion", "v1").set("kind", "ConfigMap");
//   doc.set("data", Yaml::map().set("flow.yml", text));
//   std::string out = emit_documents({doc});
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <yaml-cpp/node/node.h>

namespace YAML {
class Emitter;
}  // namespace YAML

namespace caflow::cli::exporter {

/// One YAML value: null, string, integer, boolean, sequence or mapping (ordered).
class Yaml {
 public:
  using Seq = std::vector<Yaml>;
  using Map = std::vector<std::pair<std::string, Yaml>>;

  Yaml(std::string s) : v_(std::move(s)) {}  // NOLINT: implicit on purpose
  Yaml(const char* s) : v_(std::string{s}) {}
  Yaml(int64_t i) : v_(i) {}
  Yaml(int i) : v_(int64_t{i}) {}
  Yaml(bool b) : v_(b) {}

  /// Null (`~`).
  [[nodiscard]] static Yaml null() { return Yaml{std::monostate{}}; }
  /// An empty mapping.
  [[nodiscard]] static Yaml map() { return Yaml{Map{}}; }
  /// A sequence of `items`.
  [[nodiscard]] static Yaml seq(Seq items = {}) { return Yaml{std::move(items)}; }
  /// A YAML document parsed by yaml-cpp, converted (scalars typed as the
  /// flow loader types them: quoted stays a string).
  [[nodiscard]] static Yaml from_node(const YAML::Node& node);

  /// Sets `key` (appended, or replaced in place when present); returns *this.
  Yaml& set(const std::string& key, Yaml value);
  /// Appends to a sequence; returns *this.
  Yaml& push(Yaml value);

  /// Writes this value into `out` (see the file comment for the styles).
  void emit(YAML::Emitter& out) const;

 private:
  // A plain scalar read from a config, written back as it was (0.5, 1e3, ...).
  struct Plain {
    std::string text;
  };
  explicit Yaml(Plain p) : v_(std::move(p)) {}
  explicit Yaml(std::monostate n) : v_(n) {}
  explicit Yaml(Map m) : v_(std::move(m)) {}
  explicit Yaml(Seq s) : v_(std::move(s)) {}
  std::variant<std::monostate, Plain, std::string, int64_t, bool, Seq, Map> v_;
};

/// The documents as one YAML stream (`---` between them), ending in a newline.
[[nodiscard]] std::string emit_documents(const std::vector<Yaml>& docs);

}  // namespace caflow::cli::exporter
