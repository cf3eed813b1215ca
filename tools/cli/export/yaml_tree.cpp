#include "cli/export/yaml_tree.hpp"

#include <regex>

#include <yaml-cpp/yaml.h>

namespace caflow::cli::exporter {

namespace {

// Strings a YAML 1.1 or 1.2 reader would take for a number, boolean or null
// (Kubernetes reads YAML 1.1-ish via go-yaml, compose via PyYAML or go-yaml):
// these must be quoted to stay strings.
bool looks_typed(const std::string& s) {
  static const std::regex typed{
    R"(^(|~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON)"
    R"(|off|Off|OFF|y|Y|n|N|[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?)"
    R"(|0x[0-9a-fA-F_]+|0o?[0-7_]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|[0-9][0-9_]*(:[0-5]?[0-9])+)$)"};
  return std::regex_match(s, typed);
}

}  // namespace

Yaml Yaml::from_node(const YAML::Node& node) {
  if (node.IsMap()) {
    Yaml out = map();
    for (const auto& kv : node)
      out.set(kv.first.Scalar(), from_node(kv.second));
    return out;
  }
  if (node.IsSequence()) {
    Yaml out = seq();
    for (const auto& item : node)
      out.push(from_node(item));
    return out;
  }
  if (!node.IsScalar())
    return null();
  const auto& text = node.Scalar();
  // yaml-cpp tags a quoted scalar "!" and a plain one "?": a plain scalar
  // is written back plain, so that it keeps whatever type it had.
  if (node.Tag() != "!")
    return Yaml{Plain{text}};
  return Yaml{text};
}

Yaml& Yaml::set(const std::string& key, Yaml value) {
  auto& m = std::get<Map>(v_);
  for (auto& kv : m)
    if (kv.first == key) {
      kv.second = std::move(value);
      return *this;
    }
  m.emplace_back(key, std::move(value));
  return *this;
}

Yaml& Yaml::push(Yaml value) {
  std::get<Seq>(v_).push_back(std::move(value));
  return *this;
}

void Yaml::emit(YAML::Emitter& out) const {
  if (std::holds_alternative<std::monostate>(v_)) {
    out << YAML::Null;
  } else if (const auto* p = std::get_if<Plain>(&v_)) {
    out << p->text;
  } else if (const auto* s = std::get_if<std::string>(&v_)) {
    if (s->find('\n') != std::string::npos)
      out << YAML::Literal << *s;
    else if (looks_typed(*s))
      out << YAML::DoubleQuoted << *s;
    else
      out << *s;  // the emitter quotes on its own what plain YAML cannot hold
  } else if (const auto* i = std::get_if<int64_t>(&v_)) {
    out << *i;
  } else if (const auto* b = std::get_if<bool>(&v_)) {
    out << YAML::TrueFalseBool << YAML::LowerCase << *b;
  } else if (const auto* seq = std::get_if<Seq>(&v_)) {
    if (seq->empty()) {
      out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
      return;
    }
    out << YAML::BeginSeq;
    for (const auto& item : *seq)
      item.emit(out);
    out << YAML::EndSeq;
  } else {
    const auto& m = std::get<Map>(v_);
    if (m.empty()) {
      out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      return;
    }
    out << YAML::BeginMap;
    for (const auto& [key, value] : m) {
      out << YAML::Key;
      if (looks_typed(key))
        out << YAML::DoubleQuoted;
      out << key << YAML::Value;
      value.emit(out);
    }
    out << YAML::EndMap;
  }
}

std::string emit_documents(const std::vector<Yaml>& docs) {
  std::string text;
  for (size_t i = 0; i < docs.size(); ++i) {
    YAML::Emitter out;
    out.SetIndent(2);
    out.SetSeqFormat(YAML::Block);
    docs[i].emit(out);
    if (i > 0)
      text += "---\n";
    text += out.c_str();
    text += '\n';
  }
  return text;
}

}  // namespace caflow::cli::exporter
