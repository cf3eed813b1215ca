#include "cli/input.hpp"

#include <fstream>
#include <iostream>

#include "caflow/errors.hpp"
#include "caflow/jsonl.hpp"

namespace caflow::cli {

namespace {

caf::expected<DocumentArray> read_jsonl(std::istream& in, const std::string& name) {
  JsonlReader reader{in, name};
  DocumentArray all;
  for (;;) {
    auto batch = reader.next(4096);
    if (!batch)
      return batch.error();
    if (batch->empty())
      return all;
    for (auto& doc : *batch)
      all.push_back(std::move(doc));
  }
}

DocumentArray read_lines(std::istream& in) {
  DocumentArray docs;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (!line.empty())
      docs.emplace_back().text = std::move(line);
  }
  return docs;
}

}  // namespace

caf::expected<DocumentArray> read_input(const InputOptions& in) {
  if (!in.text.empty()) {
    DocumentArray docs;
    docs.emplace_back().text = in.text;
    return docs;
  }
  if (!in.text_file.empty()) {
    if (in.text_file == "-")
      return read_lines(std::cin);
    std::ifstream file{in.text_file};
    if (!file)
      return make_error(errc::io_error, "cannot read " + in.text_file);
    return read_lines(file);
  }
  if (in.jsonl_file.empty() || in.jsonl_file == "-")
    return read_jsonl(std::cin, "<stdin>");
  std::ifstream file{in.jsonl_file};
  if (!file)
    return make_error(errc::io_error, "cannot read " + in.jsonl_file);
  return read_jsonl(file, in.jsonl_file);
}

}  // namespace caflow::cli
