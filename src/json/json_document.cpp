#include "caflow/json.hpp"

#include <cmath>

#include "caflow/errors.hpp"
#include "json/base64.hpp"
#include "json/json_embedding.hpp"
#include "json/json_path.hpp"

namespace caflow {

namespace {

using json_path::element;
using json_path::field;
using json_path::invalid;
using json_path::type_error;

// Matches and chunks nest; parse_json's depth limit already bounds this for
// parsed text, the explicit bound covers values built in code.
constexpr int max_nesting = 100;

caf::error read_string(const Value& x, const std::string& path, std::string& out) {
  if (!x.is_string())
    return type_error(path, "a string", x);
  out = x.as_string();
  return {};
}

// Ids are strings, but some clients send numbers: keep their text. An empty
// id keeps the fresh one the Document was born with.
caf::error read_id(const Value& x, const std::string& path, std::string& out) {
  if (x.is_int()) {
    out = std::to_string(x.as_int());
  } else if (x.is_double()) {
    auto d = x.as_double();
    bool whole = std::trunc(d) == d && std::fabs(d) < 9e15;
    out = whole ? std::to_string(static_cast<int64_t>(d)) : to_json(x);
  } else if (x.is_string()) {
    if (!x.as_string().empty())
      out = x.as_string();
  } else {
    return type_error(path, "a string or a number", x);
  }
  return {};
}

caf::error read_blob(const Value& x, const std::string& path, std::string& out) {
  if (!x.is_string())
    return type_error(path, "a base64 string", x);
  auto bytes = base64::decode(x.as_string());
  if (!bytes)
    return invalid(path, "invalid base64");
  out = std::move(*bytes);
  return {};
}

caf::error read_tags(const Value& x, const std::string& path, Value& out) {
  if (!x.is_object())
    return type_error(path, "an object", x);
  out = x;
  return {};
}

// Scores arrive as Jina's NamedScore ({"value": x, "op_name": ...}) or as
// plain numbers; a null value is no score.
caf::error read_scores(const Value& x, const std::string& path,
                       std::map<std::string, double>& out) {
  if (!x.is_object())
    return type_error(path, "an object", x);
  for (const auto& [name, score] : x.as_object()) {
    const Value* v = &score;
    auto score_path = field(path, name);
    if (score.is_object()) {
      v = score.find("value");
      score_path = field(score_path, "value");
      if (v == nullptr)
        continue;
    }
    if (v->is_number())
      out[name] = v->as_double();
    else if (!v->is_null())
      return type_error(score_path, "a number", *v);
  }
  return {};
}

caf::error read_document(const Value& x, std::string_view where, int depth, Document& out);

caf::error read_docs(const Value& x, const std::string& path, int depth,
                     std::vector<Document>& out) {
  if (!x.is_array())
    return type_error(path, "an array", x);
  const auto& xs = x.as_array();
  out.reserve(xs.size());
  for (size_t i = 0; i < xs.size(); ++i)
    if (auto err = read_document(xs[i], element(path, i), depth + 1, out.emplace_back()))
      return err;
  return {};
}

caf::error read_document(const Value& x, std::string_view where, int depth, Document& out) {
  if (!x.is_object())
    return type_error(where, "an object", x);
  if (depth > max_nesting)
    return invalid(where, "documents nested deeper than " + std::to_string(max_nesting)
                            + " levels");
  // Reads `key` with `read` unless it is absent or null: Jina's clients send
  // every field, mostly null, and null always means absent.
  caf::error err;
  auto member = [&](std::string_view key, auto read) {
    if (err)
      return;
    if (auto* v = x.find(key); v != nullptr && !v->is_null())
      err = read(*v, field(where, key));
  };
  member("id", [&](const Value& v, const std::string& p) { return read_id(v, p, out.id); });
  member("parent_id",
         [&](const Value& v, const std::string& p) { return read_id(v, p, out.parent_id); });
  member("text", [&](const Value& v, const std::string& p) {
    return read_string(v, p, out.text);
  });
  member("uri", [&](const Value& v, const std::string& p) { return read_string(v, p, out.uri); });
  member("mime_type", [&](const Value& v, const std::string& p) {
    return read_string(v, p, out.mime_type);
  });
  member("blob", [&](const Value& v, const std::string& p) { return read_blob(v, p, out.blob); });
  member("tags", [&](const Value& v, const std::string& p) { return read_tags(v, p, out.tags); });
  auto* embedding = x.find("embedding");
  // DocArray calls a vector that is not an embedding `tensor`: take it when
  // there is no embedding.
  auto embedding_key = embedding == nullptr || embedding->is_null() ? "tensor" : "embedding";
  member(embedding_key, [&](const Value& v, const std::string& p) {
    return read_embedding(v, p, out.embedding);
  });
  member("scores", [&](const Value& v, const std::string& p) {
    return read_scores(v, p, out.scores);
  });
  member("matches", [&](const Value& v, const std::string& p) {
    return read_docs(v, p, depth, out.matches);
  });
  member("chunks", [&](const Value& v, const std::string& p) {
    return read_docs(v, p, depth, out.chunks);
  });
  return err;
}

Value docs_value(const std::vector<Document>& docs) {
  Value::Array out;
  out.reserve(docs.size());
  for (const auto& d : docs)
    out.push_back(to_value(d));
  return out;
}

}  // namespace

caf::expected<Document> to_document(const Value& value, std::string_view where) {
  Document doc;
  if (auto err = read_document(value, where, 0, doc))
    return err;
  return doc;
}

caf::expected<Document> parse_document(std::string_view text) {
  auto value = parse_json(text);
  if (!value)
    return std::move(value.error());
  return to_document(*value);
}

caf::expected<DocumentArray> to_documents(const Value& value, std::string_view where) {
  constexpr std::string_view top = "documents";
  const Value* docs = &value;
  std::string path{where};
  if (value.is_object()) {  // DocArray's shape: {"docs": [...]}
    path = field(where, "docs");
    docs = value.find("docs");
    if (docs == nullptr)
      return invalid(where, "expected an array of documents or an object with \"docs\"", top);
  }
  if (!docs->is_array())
    return type_error(path, "an array", *docs, top);
  const auto& xs = docs->as_array();
  DocumentArray out;
  out.reserve(xs.size());
  for (size_t i = 0; i < xs.size(); ++i)
    if (auto err = read_document(xs[i], element(path, i), 0, out.emplace_back()))
      return err;
  return out;
}

caf::expected<DocumentArray> parse_documents(std::string_view text) {
  auto value = parse_json(text);
  if (!value)
    return std::move(value.error());
  return to_documents(*value);
}

Value to_value(const Document& doc) {
  auto out = Value::object();
  auto& obj = out.as_object();
  auto put = [&](const char* key, const std::string& x) {
    if (!x.empty())
      obj.emplace(key, x);
  };
  put("id", doc.id);
  put("parent_id", doc.parent_id);
  put("text", doc.text);
  put("uri", doc.uri);
  put("mime_type", doc.mime_type);
  if (!doc.blob.empty())
    obj.emplace("blob", base64::encode(doc.blob));
  if (doc.tags.is_object() && doc.tags.size() > 0)
    obj.emplace("tags", doc.tags);
  if (!doc.embedding.empty())
    obj.emplace("embedding", embedding_value(doc.embedding));
  if (!doc.scores.empty()) {
    auto scores = Value::object();
    for (const auto& [name, v] : doc.scores)
      scores.as_object().emplace(name, Value{{"value", v}});
    obj.emplace("scores", std::move(scores));
  }
  if (!doc.matches.empty())
    obj.emplace("matches", docs_value(doc.matches));
  if (!doc.chunks.empty())
    obj.emplace("chunks", docs_value(doc.chunks));
  return out;
}

Value to_value(const DocumentArray& docs) {
  return docs_value(docs.docs());
}

std::string to_json(const Document& doc) {
  return to_json(to_value(doc));
}

std::string to_json(const DocumentArray& docs) {
  return to_json(to_value(docs));
}

}  // namespace caflow
