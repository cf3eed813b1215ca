// Test fixtures: documents with every field set.
#pragma once

#include "caflow/document.hpp"

namespace caflow::testing {

/// A document with every field set, including nested matches and chunks.
inline Document full_document() {
  Document d;
  d.id = "doc-1";
  d.parent_id = "parent";
  d.text = "hello wörld";
  d.uri = "file:///tmp/x.txt";
  d.blob = std::string("\0\x01\xff\xfe binary", 12);
  d.mime_type = "text/plain";
  d.tags = Value{{"group", "spam"}, {"n", 3},
                 {"x", 0.25},       {"ok", true},
                 {"none", nullptr}, {"list", Value::Array{1, "a", Value{{"k", 1}}}}};
  d.embedding = Embedding::dense_vector({0.5f, -1.25f, 3.0f});
  d.scores = {{"cosine", 0.875}, {"bm25", 12.5}};
  Document m;
  m.id = "match-1";
  m.text = "a match";
  m.scores = {{"cosine", 0.75}};
  m.embedding = Embedding::sparse_vector(100, {2, 50}, {1.0f, 0.5f});
  Document mc;
  mc.id = "match-1-chunk";
  mc.text = "nested";
  m.chunks.push_back(mc);
  d.matches.push_back(m);
  Document c;
  c.id = "chunk-1";
  c.parent_id = "doc-1";
  c.text = "a chunk";
  d.chunks.push_back(c);
  return d;
}

}  // namespace caflow::testing
