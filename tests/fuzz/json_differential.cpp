// The fast JSON path against the general one (see json_differential.hpp).
#include "json_differential.hpp"

#include <optional>
#include <string>
#include <vector>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "fuzz_targets.hpp"
#include "json/json_fast.hpp"

namespace caflow::fuzz {

namespace {

// A document that the input gave no id gets a fresh one on each path (a
// counter), so such ids differ by construction. They are equated only when
// neither occurs in the input; any other difference is a disagreement.
bool same_doc(const Document& a, Document b, std::string_view input);

bool same_docs(const std::vector<Document>& a, const std::vector<Document>& b,
               std::string_view input) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_doc(a[i], b[i], input))
      return false;
  return true;
}

bool same_doc(const Document& a, Document b, std::string_view input) {
  if (a.id != b.id && input.find(a.id) == std::string_view::npos
      && input.find(b.id) == std::string_view::npos)
    b.id = a.id;
  if (!same_docs(a.matches, b.matches, input) || !same_docs(a.chunks, b.chunks, input))
    return false;
  b.matches = a.matches;
  b.chunks = a.chunks;
  return a == b;
}

[[noreturn]] void disagree(const char* what, std::string_view data, const std::string& why) {
  throw Failure{std::string{"fast and general JSON paths disagree on "} + what + " (" + why
                + "): " + std::string{data.substr(0, 400)}};
}

void check_document(std::string_view data) {
  Document fast;
  fast.id.clear();  // as parse_document starts
  if (!json_fast::parse_document(data, fast))
    return;
  auto value = parse_json(data);
  if (!value)
    disagree("a document", data, "general parse failed: " + describe(value.error()));
  auto general = to_document(*value);
  if (!general)
    disagree("a document", data, "general read failed: " + describe(general.error()));
  if (!same_doc(*general, fast, data))
    disagree("a document", data, "different documents");
}

void check_documents(std::string_view data) {
  std::vector<Document> fast;
  if (!json_fast::parse_documents(data, fast))
    return;
  auto value = parse_json(data);
  if (!value)
    disagree("documents", data, "general parse failed: " + describe(value.error()));
  auto general = to_documents(*value);
  if (!general)
    disagree("documents", data, "general read failed: " + describe(general.error()));
  if (!same_docs(general->docs(), fast, data))
    disagree("documents", data, "different documents");
}

void check_envelope(std::string_view data) {
  Value rest;
  std::optional<std::vector<Document>> fast;
  if (!json_fast::parse_envelope(data, rest, fast))
    return;
  auto value = parse_json(data);
  if (!value)
    disagree("an envelope", data, "general parse failed: " + describe(value.error()));
  if (!value->is_object())
    disagree("an envelope", data, "fast path accepted a non-object");
  auto expected_rest = *value;
  const Value* data_member = value->find("data");
  expected_rest.as_object().erase("data");
  if (!(rest == expected_rest))
    disagree("an envelope", data,
             "other members differ: " + to_json(rest) + " vs " + to_json(expected_rest));
  bool has_docs = data_member != nullptr && !data_member->is_null();
  if (has_docs != fast.has_value())
    disagree("an envelope", data, "\"data\" present on one path only");
  if (!has_docs)
    return;
  auto general = to_documents(*data_member, "data");
  if (!general)
    disagree("an envelope", data, "general read of data failed: " + describe(general.error()));
  if (!same_docs(general->docs(), *fast, data))
    disagree("an envelope", data, "different documents");
}

}  // namespace

void check_readers_agree(std::string_view data) {
  check_document(data);
  check_documents(data);
  check_envelope(data);
}

void check_writers_agree(const Document& doc) {
  std::string fast;
  json_fast::append_document(fast, doc);
  auto general = to_json(to_value(doc));
  if (fast != general)
    throw Failure{"fast and general JSON writers disagree: " + fast + " vs " + general};
}

}  // namespace caflow::fuzz
