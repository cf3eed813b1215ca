#include "caflow/json.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>

#include <boost/json/basic_parser_impl.hpp>

#include "caflow/errors.hpp"
#include "json/base64.hpp"
#include "json/json_embedding.hpp"
#include "json/json_fast.hpp"
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
    return invalid(where,
                   "documents nested deeper than " + std::to_string(max_nesting) + " levels");
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
  member("text", [&](const Value& v, const std::string& p) { return read_string(v, p, out.text); });
  member("uri", [&](const Value& v, const std::string& p) { return read_string(v, p, out.uri); });
  member("mime_type",
         [&](const Value& v, const std::string& p) { return read_string(v, p, out.mime_type); });
  member("blob", [&](const Value& v, const std::string& p) { return read_blob(v, p, out.blob); });
  member("tags", [&](const Value& v, const std::string& p) { return read_tags(v, p, out.tags); });
  auto* embedding = x.find("embedding");
  // DocArray calls a vector that is not an embedding `tensor`: take it when
  // there is no embedding.
  auto embedding_key = embedding == nullptr || embedding->is_null() ? "tensor" : "embedding";
  member(embedding_key,
         [&](const Value& v, const std::string& p) { return read_embedding(v, p, out.embedding); });
  member("scores",
         [&](const Value& v, const std::string& p) { return read_scores(v, p, out.scores); });
  member("matches",
         [&](const Value& v, const std::string& p) { return read_docs(v, p, depth, out.matches); });
  member("chunks",
         [&](const Value& v, const std::string& p) { return read_docs(v, p, depth, out.chunks); });
  return err;
}

// ---- the fast reader ---------------------------------------------------------

using boost::json::error_code;
using boost::json::string_view;

// A Document with an empty id, copied for every parsed document: cheaper
// than the default constructor's fresh id, which most documents overwrite.
// Documents that end up without an id get a fresh one when complete.
const Document& blank_document() {
  static const Document blank = [] {
    Document d;
    d.id.clear();
    return d;
  }();
  return blank;
}

enum class doc_field : uint8_t {
  id,
  parent_id,
  text,
  uri,
  mime_type,
  blob,
  tags,
  embedding,
  tensor,
  scores,
  matches,
  chunks,
  other
};

doc_field field_of(std::string_view key) {
  switch (key.size()) {
    case 2:
      if (key == "id")
        return doc_field::id;
      break;
    case 3:
      if (key == "uri")
        return doc_field::uri;
      break;
    case 4:
      if (key == "text")
        return doc_field::text;
      if (key == "blob")
        return doc_field::blob;
      if (key == "tags")
        return doc_field::tags;
      break;
    case 6:
      if (key == "tensor")
        return doc_field::tensor;
      if (key == "scores")
        return doc_field::scores;
      if (key == "chunks")
        return doc_field::chunks;
      break;
    case 7:
      if (key == "matches")
        return doc_field::matches;
      break;
    case 9:
      if (key == "parent_id")
        return doc_field::parent_id;
      if (key == "mime_type")
        return doc_field::mime_type;
      if (key == "embedding")
        return doc_field::embedding;
      break;
    default:
      break;
  }
  return doc_field::other;
}

// Builds Documents straight from parser events (see json_fast.hpp). Values
// that stay Values (tags, parameters, the envelope) are built as parse_json
// builds them; a sparse embedding or scores become a Value first and then go
// through the general path's converters. Any surprise sets `bailed` and stops
// the parse: the caller then runs the general path.
class fast_reader {
 public:
  static constexpr size_t max_array_size = static_cast<size_t>(-1);
  static constexpr size_t max_object_size = static_cast<size_t>(-1);
  static constexpr size_t max_string_size = static_cast<size_t>(-1);
  static constexpr size_t max_key_size = static_cast<size_t>(-1);

  enum class root_kind { document, documents, envelope };

  root_kind root = root_kind::document;
  Document* root_doc = nullptr;                // root_kind::document
  std::vector<Document>* root_docs = nullptr;  // root_kind::documents
  Value rest;                                  // root_kind::envelope
  std::optional<std::vector<Document>> data;   // root_kind::envelope
  bool bailed = false;
  size_t text_size = 0;  // the length of the text, to size arrays

  // Ready for another text: the stacks keep their capacity.
  void reset() {
    root = root_kind::document;
    root_doc = nullptr;
    root_docs = nullptr;
    rest = Value{};
    data.reset();
    bailed = false;
    text_size = 0;
    stack_.clear();
    buf_.clear();
  }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code& ec) { return begin(false, ec); }
  bool on_array_end(size_t, error_code& ec) { return end(ec); }
  bool on_object_begin(error_code& ec) { return begin(true, ec); }
  bool on_object_end(size_t, error_code& ec) { return end(ec); }
  bool on_string_part(string_view s, size_t, error_code&) {
    buf_.append(s.data(), s.size());
    return true;
  }
  bool on_string(string_view s, size_t, error_code& ec) {
    // A string in one piece needs no copy into buf_.
    std::string_view str{s.data(), s.size()};
    if (!buf_.empty()) {
      buf_.append(s.data(), s.size());
      str = buf_;
    }
    bool ok = string(str, ec);
    buf_.clear();
    return ok;
  }
  bool on_key_part(string_view s, size_t, error_code&) {
    buf_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, size_t, error_code& ec) {
    std::string_view str{s.data(), s.size()};
    if (!buf_.empty()) {
      buf_.append(s.data(), s.size());
      str = buf_;
    }
    bool ok = key(str, ec);
    buf_.clear();
    return ok;
  }
  bool on_number_part(string_view s, error_code&) {
    buf_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t i, string_view, error_code& ec) {
    buf_.clear();
    if (!stack_.empty() && stack_.back().k == kind::floats) {
      stack_.back().floats->push_back(static_cast<float>(static_cast<double>(i)));
      return true;
    }
    return add(Value{i}, ec);
  }
  bool on_uint64(uint64_t u, string_view, error_code& ec) {
    buf_.clear();
    return add(Value{static_cast<double>(u)}, ec);
  }
  bool on_double(double d, string_view s, error_code& ec) {
    buf_.append(s.data(), s.size());
    double exact = 0;
    auto [end, err] = std::from_chars(buf_.data(), buf_.data() + buf_.size(), exact);
    if (err == std::errc{} && end == buf_.data() + buf_.size())
      d = exact;
    buf_.clear();
    // Out of range (1e400, or 1e39 in an embedding): the exact parser that
    // the fallback runs says where and why.
    if (!std::isfinite(d))
      return bail(ec);
    if (!stack_.empty() && stack_.back().k == kind::floats) {
      if (!fits_float(d))
        return bail(ec);
      stack_.back().floats->push_back(static_cast<float>(d));
      return true;
    }
    return add(Value{d}, ec);
  }
  bool on_bool(bool b, error_code& ec) { return add(Value{b}, ec); }
  bool on_null(error_code& ec) { return add(Value{}, ec); }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

 private:
  enum class kind : uint8_t {
    value_array,   // building a Value array
    value_object,  // building a Value object; `name` is the pending key
    skip,          // an ignored member; `depth` counts open containers
    document,      // filling `doc`; `at` is the pending field
    documents,     // filling `docs`, documents at nesting `depth`
    floats,        // filling `floats` (a dense vector)
    envelope,      // the envelope object; `is_data` marks the "data" key
    docs_object,   // {"docs": [...]}; `is_data` marks the "docs" key
  };

  struct frame {
    kind k;
    doc_field at = doc_field::other;
    bool is_data = false;
    bool found = false;  // docs_object: saw "docs"; envelope: saw "data"
    uint16_t seen = 0;   // document: the fields seen
    bool has_tensor = false;
    bool has_embedding = false;
    int depth = 0;
    Value value{};
    std::string name{};
    Document* doc = nullptr;
    std::vector<Document>* docs = nullptr;
    std::vector<float>* floats = nullptr;
    Embedding tensor{};  // document: a "tensor" kept until "embedding" is known

    explicit frame(kind x) : k(x) {}
  };

  bool bail(error_code& ec) {
    bailed = true;
    ec = boost::json::error::syntax;
    return false;
  }

  frame& push(kind k) { return stack_.emplace_back(k); }

  bool push_docs(std::vector<Document>* docs, int depth) {
    // The top-level array is most of the text: guess its length (a short
    // document takes some 50 bytes) rather than grow it step by step; a
    // wrong guess is trimmed when the array ends.
    if (depth == 0 && docs->empty())
      docs->reserve(text_size / 48);
    auto& f = push(kind::documents);
    f.docs = docs;
    f.depth = depth;
    return true;
  }

  // An object or array opens: the first one is the root, later ones go
  // where the frame on top says.
  bool begin(bool object, error_code& ec) {
    if (stack_.empty())
      return begin_root(object, ec);
    auto& top = stack_.back();
    switch (top.k) {
      case kind::skip:
        ++top.depth;
        return true;
      case kind::value_array:
      case kind::value_object:
        return push_value(object);
      case kind::floats:
        return bail(ec);
      case kind::documents: {
        if (!object || top.depth > max_nesting)
          return bail(ec);
        auto* docs = top.docs;
        int depth = top.depth;
        docs->emplace_back();  // no fresh id: run() marks this thread as deserializing
        auto& f = push(kind::document);
        f.doc = &docs->back();
        f.depth = depth;
        return true;
      }
      case kind::document:
        return begin_in_document(top, object, ec);
      case kind::envelope:
        if (!top.is_data)
          return push_value(object);
        if (object) {
          auto& f = push(kind::docs_object);
          f.docs = &*data;
          return true;
        }
        return push_docs(&*data, 0);
      case kind::docs_object:
        if (!top.is_data) {
          push(kind::skip).depth = 1;
          return true;
        }
        if (object)
          return bail(ec);
        return push_docs(top.docs, 0);
    }
    return bail(ec);
  }

  // The root object or array: a document, documents (an array, or an object
  // with "docs") or a request envelope.
  bool begin_root(bool object, error_code& ec) {
    switch (root) {
      case root_kind::document: {
        if (!object)
          return bail(ec);
        auto& f = push(kind::document);
        f.doc = root_doc;
        return true;
      }
      case root_kind::documents:
        if (object) {
          auto& f = push(kind::docs_object);
          f.docs = root_docs;
          return true;
        }
        return push_docs(root_docs, 0);
      case root_kind::envelope: {
        if (!object)
          return bail(ec);
        auto& f = push(kind::envelope);
        f.value = Value::object();
        return true;
      }
    }
    return bail(ec);
  }

  // An object or array as the value of document field `top.at`.
  bool begin_in_document(frame& top, bool object, error_code& ec) {
    switch (top.at) {
      case doc_field::tags:
      case doc_field::scores:
        if (!object)
          return bail(ec);
        return push_value(true);
      case doc_field::embedding:
      case doc_field::tensor: {
        if (object)
          return push_value(true);  // sparse: through the general path
        push(kind::floats);
        // Pushing may move the frames: find the document's frame again.
        auto& d = stack_[stack_.size() - 2];
        stack_.back().floats = d.at == doc_field::embedding ? &d.doc->embedding.values
                                                            : &d.tensor.values;
        return true;
      }
      case doc_field::matches:
      case doc_field::chunks: {
        if (object)
          return bail(ec);
        auto* docs = top.at == doc_field::matches ? &top.doc->matches : &top.doc->chunks;
        return push_docs(docs, top.depth + 1);
      }
      case doc_field::other:
        push(kind::skip).depth = 1;
        return true;
      default:
        return bail(ec);
    }
  }

  bool push_value(bool object) {
    auto& f = push(object ? kind::value_object : kind::value_array);
    f.value = object ? Value::object() : Value::array();
    return true;
  }

  bool end(error_code& ec) {
    auto& top = stack_.back();
    switch (top.k) {
      case kind::skip:
        if (--top.depth == 0)
          stack_.pop_back();
        return true;
      case kind::value_array:
      case kind::value_object: {
        auto x = std::move(top.value);
        stack_.pop_back();
        return add(std::move(x), ec);
      }
      case kind::floats:
        stack_.pop_back();
        {
          auto& d = stack_.back();
          if (d.at == doc_field::embedding) {
            d.has_embedding = true;
            d.doc->embedding.dim = static_cast<uint32_t>(d.doc->embedding.values.size());
          } else {
            d.has_tensor = true;
            d.tensor.dim = static_cast<uint32_t>(d.tensor.values.size());
          }
        }
        return true;
      case kind::documents:
        if (top.depth == 0 && top.docs->capacity() > 2 * top.docs->size() + 16)
          top.docs->shrink_to_fit();
        stack_.pop_back();
        return true;
      case kind::document: {
        auto& doc = *top.doc;
        // DocArray's `tensor` stands in for a missing embedding.
        if (!top.has_embedding && top.has_tensor)
          doc.embedding = std::move(top.tensor);
        if (doc.id.empty())
          doc.id = new_document_id();
        stack_.pop_back();
        return true;
      }
      case kind::envelope:
        rest = std::move(top.value);
        stack_.pop_back();
        return true;
      case kind::docs_object:
        if (!top.found)
          return bail(ec);
        stack_.pop_back();
        return true;
    }
    return bail(ec);
  }

  // A string value: document fields take it without a Value in between.
  bool string(std::string_view s, error_code& ec) {
    if (!stack_.empty() && stack_.back().k == kind::document) {
      auto& top = stack_.back();
      auto& doc = *top.doc;
      switch (top.at) {
        case doc_field::id:
          if (!s.empty())
            doc.id.assign(s);
          return true;
        case doc_field::parent_id:
          if (!s.empty())
            doc.parent_id.assign(s);
          return true;
        case doc_field::text:
          doc.text.assign(s);
          return true;
        case doc_field::uri:
          doc.uri.assign(s);
          return true;
        case doc_field::mime_type:
          doc.mime_type.assign(s);
          return true;
        case doc_field::other:
          return true;
        default:
          break;
      }
    }
    return add(Value{std::string{s}}, ec);
  }

  bool key(std::string_view name, error_code& ec) {
    if (stack_.empty())
      return bail(ec);
    auto& top = stack_.back();
    switch (top.k) {
      case kind::value_object:
        top.name.assign(name);
        return true;
      case kind::document: {
        top.at = field_of(name);
        if (top.at == doc_field::other)
          return true;
        auto bit = static_cast<uint16_t>(1u << static_cast<unsigned>(top.at));
        if (top.seen & bit)
          return bail(ec);  // repeated: the general path keeps the last one
        top.seen |= bit;
        return true;
      }
      case kind::envelope:
      case kind::docs_object:
        top.is_data = name == (top.k == kind::envelope ? "data" : "docs");
        if (top.is_data) {
          if (top.found)
            return bail(ec);
          top.found = true;
          if (top.k == kind::envelope)
            data.emplace();
        } else if (top.k == kind::envelope) {
          top.name.assign(name);
        }
        return true;
      default:
        return true;
    }
  }

  // A scalar, or a finished Value container, for the innermost frame.
  bool add(Value x, error_code& ec) {
    if (stack_.empty())
      return bail(ec);
    auto& top = stack_.back();
    switch (top.k) {
      case kind::skip:
        return true;
      case kind::value_array:
        top.value.as_array().push_back(std::move(x));
        return true;
      case kind::value_object:
        top.value.as_object().insert_or_assign(std::move(top.name), std::move(x));
        return true;
      case kind::floats:
        if ((x.is_int() || x.is_double()) && fits_float(x.as_double())) {
          top.floats->push_back(static_cast<float>(x.as_double()));
          return true;
        }
        return bail(ec);
      case kind::documents:
        return bail(ec);
      case kind::document:
        return add_field(top, std::move(x), ec);
      case kind::envelope:
        if (top.is_data) {
          if (!x.is_null())
            return bail(ec);
          data.reset();  // null means absent
          return true;
        }
        top.value.as_object().insert_or_assign(std::move(top.name), std::move(x));
        return true;
      case kind::docs_object:
        return top.is_data ? bail(ec) : true;
    }
    return bail(ec);
  }

  bool add_field(frame& f, Value x, error_code& ec) {
    if (x.is_null() || f.at == doc_field::other)
      return true;  // null always means absent
    auto& doc = *f.doc;
    auto take_string = [&](std::string& out) {
      if (!x.is_string())
        return bail(ec);
      out = std::move(const_cast<std::string&>(x.as_string()));
      return true;
    };
    auto take_id = [&](std::string& out) {
      if (x.is_int()) {
        out = std::to_string(x.as_int());
        return true;
      }
      if (!x.is_string())
        return bail(ec);  // doubles and wrong types: the general path
      if (!x.as_string().empty())
        out = std::move(const_cast<std::string&>(x.as_string()));
      return true;
    };
    switch (f.at) {
      case doc_field::id:
        return take_id(doc.id);
      case doc_field::parent_id:
        return take_id(doc.parent_id);
      case doc_field::text:
        return take_string(doc.text);
      case doc_field::uri:
        return take_string(doc.uri);
      case doc_field::mime_type:
        return take_string(doc.mime_type);
      case doc_field::blob: {
        if (!x.is_string())
          return bail(ec);
        auto bytes = base64::decode(x.as_string());
        if (!bytes)
          return bail(ec);
        doc.blob = std::move(*bytes);
        return true;
      }
      case doc_field::tags:
        if (!x.is_object())
          return bail(ec);
        doc.tags = std::move(x);
        return true;
      case doc_field::embedding:
      case doc_field::tensor: {
        if (!x.is_object())
          return bail(ec);
        bool mine = f.at == doc_field::embedding;
        if (read_embedding(x, "", mine ? doc.embedding : f.tensor))
          return bail(ec);
        (mine ? f.has_embedding : f.has_tensor) = true;
        return true;
      }
      case doc_field::scores:
        if (!x.is_object() || read_scores(x, "", doc.scores))
          return bail(ec);
        return true;
      default:
        return bail(ec);  // matches and chunks must be arrays
    }
  }

  std::vector<frame> stack_;
  std::string buf_;
};

// Runs the fast reader over `text`: false when the general path must decide.
// The parser and its reader are this thread's, reused from text to text so
// that their stacks are not allocated anew for each request; a parse never
// starts another on its thread, and `in_use` turns a surprise into a fresh
// parser rather than a shared one.
class fast_parser {
 public:
  fast_parser() {
    auto& mine = local();
    if (!mine.in_use) {
      mine.in_use = true;
      state_ = &mine;
    } else {
      own_ = std::make_unique<state>();
      state_ = own_.get();
    }
    state_->parser.reset();
    reader().reset();
  }
  ~fast_parser() {
    if (!own_) {
      reader().reset();  // the documents go with their caller, the rest now
      state_->in_use = false;
    }
  }
  fast_parser(const fast_parser&) = delete;
  fast_parser& operator=(const fast_parser&) = delete;

  fast_reader& reader() { return state_->parser.handler(); }
  bool run(std::string_view text) {
    // Documents start without an id (most get theirs from the text; the
    // others get a fresh one when complete): no id made only to be replaced.
    detail::DeserializingDocuments no_fresh_ids;
    reader().text_size = text.size();
    error_code ec;
    auto consumed = state_->parser.write_some(false, text.data(), text.size(), ec);
    return !ec && consumed == text.size() && !reader().bailed;
  }

 private:
  static boost::json::parse_options options() {
    boost::json::parse_options opts;
    opts.max_depth = 512;  // as parse_json
    return opts;
  }
  struct state {
    boost::json::basic_parser<fast_reader> parser{options()};
    bool in_use = false;
  };
  static state& local() {
    thread_local state s;
    return s;
  }
  state* state_ = nullptr;
  std::unique_ptr<state> own_;
};

void append_docs(std::string& out, const std::vector<Document>& docs) {
  json_fast::append_documents(out, docs.data(), docs.size());
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
  Document doc = blank_document();
  if (json_fast::parse_document(text, doc))
    return doc;
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
  std::vector<Document> docs;
  if (json_fast::parse_documents(text, docs))
    return DocumentArray(std::move(docs));
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
  std::string out;
  json_fast::append_document(out, doc);
  return out;
}

std::string to_json(const DocumentArray& docs) {
  std::string out;
  json_fast::append_documents(out, docs.docs().data(), docs.size());
  return out;
}

namespace json_fast {

bool parse_document(std::string_view text, Document& out) {
  fast_parser p;
  p.reader().root = fast_reader::root_kind::document;
  p.reader().root_doc = &out;
  return p.run(text);
}

bool parse_documents(std::string_view text, std::vector<Document>& out) {
  fast_parser p;
  p.reader().root = fast_reader::root_kind::documents;
  p.reader().root_docs = &out;
  return p.run(text);
}

bool parse_envelope(std::string_view text, Value& rest,
                    std::optional<std::vector<Document>>& data) {
  fast_parser p;
  auto& r = p.reader();
  r.root = fast_reader::root_kind::envelope;
  if (!p.run(text))
    return false;
  rest = std::move(r.rest);
  data = std::move(r.data);
  return true;
}

// Keys in the order of to_value's object (sorted), empty fields left out.
void append_document(std::string& out, const Document& doc) {
  out.reserve(out.size() + 64 + doc.text.size() + doc.id.size());
  out += '{';
  bool first = true;
  auto key = [&](std::string_view k) {
    if (!first)
      out += ',';
    first = false;
    out += '"';
    out += k;
    out += "\":";
  };
  auto string = [&](std::string_view k, const std::string& x) {
    if (!x.empty()) {
      key(k);
      append_string(out, x);
    }
  };
  if (!doc.blob.empty()) {
    key("blob");
    out += '"';
    out += base64::encode(doc.blob);  // nothing to escape
    out += '"';
  }
  if (!doc.chunks.empty()) {
    key("chunks");
    append_docs(out, doc.chunks);
  }
  if (!doc.embedding.empty()) {
    key("embedding");
    append_embedding(out, doc.embedding);
  }
  string("id", doc.id);
  if (!doc.matches.empty()) {
    key("matches");
    append_docs(out, doc.matches);
  }
  string("mime_type", doc.mime_type);
  string("parent_id", doc.parent_id);
  if (!doc.scores.empty()) {
    key("scores");
    out += '{';
    bool first_score = true;
    for (const auto& [name, v] : doc.scores) {
      if (!first_score)
        out += ',';
      first_score = false;
      append_string(out, name);
      out += ":{\"value\":";
      append_double(out, v);
      out += '}';
    }
    out += '}';
  }
  if (doc.tags.is_object() && doc.tags.size() > 0) {
    key("tags");
    append_value(out, doc.tags);
  }
  string("text", doc.text);
  string("uri", doc.uri);
  out += '}';
}

void append_documents(std::string& out, const Document* first, size_t count) {
  out.reserve(out.size() + 2 + count * 64);
  out += '[';
  for (size_t i = 0; i < count; ++i) {
    if (i > 0)
      out += ',';
    append_document(out, first[i]);
  }
  out += ']';
}

}  // namespace json_fast

}  // namespace caflow
