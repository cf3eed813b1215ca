// libFuzzer target: documents from arbitrary JSON bytes, and their round trip.
#include <cstddef>
#include <cstdint>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"
#include "fuzz_targets.hpp"
#include "json_differential.hpp"

namespace caflow::fuzz {

namespace {

template <class T, class Parse>
void round_trip(const T& parsed, Parse parse, const char* what) {
  auto text = to_json(parsed);
  auto again = parse(text);
  if (!again)
    throw Failure{std::string{what} + ": to_json wrote text that does not parse back ("
                  + describe(again.error()) + "): " + text};
  if (!(*again == parsed))
    throw Failure{std::string{what} + ": parsed back unequal: " + text};
  if (auto text2 = to_json(*again); text2 != text)
    throw Failure{std::string{what} + ": second serialisation differs: " + text + " vs " + text2};
}

}  // namespace

void documents(std::string_view data) {
  // The two JSON implementations agree on whatever the fast one accepts.
  check_readers_agree(data);
  if (auto docs = parse_documents(data))
    round_trip(
      *docs, [](std::string_view t) { return parse_documents(t); }, "documents");
  if (auto doc = parse_document(data)) {
    check_writers_agree(*doc);
    round_trip(
      *doc, [](std::string_view t) { return parse_document(t); }, "document");
  }
  // The generic value layer under both.
  if (auto value = parse_json(data)) {
    auto text = to_json(*value);
    auto again = parse_json(text);
    if (!again)
      throw Failure{"value: to_json wrote text that does not parse back: " + text};
    if (to_json(*again) != text)
      throw Failure{"value: second serialisation differs: " + text};
  }
}

}  // namespace caflow::fuzz

#ifndef CAFLOW_FUZZ_NO_ENTRY
CAFLOW_FUZZ_ENTRY(caflow::fuzz::documents)
#endif
