// Where `caflow post` takes its documents from.
#pragma once

#include <string>

#include <caf/expected.hpp>

#include "caflow/document.hpp"

namespace caflow::cli {

struct InputOptions {
  std::string jsonl_file;  ///< --input: JSON Lines of documents ("-": stdin)
  std::string text_file;   ///< --text-file: one document per line ("-": stdin)
  std::string text;        ///< --text: one document
};

/// Reads the documents named by `in`; with nothing named, JSON Lines from
/// standard input. Errors name the file and line.
caf::expected<DocumentArray> read_input(const InputOptions& in);

}  // namespace caflow::cli
