/// JSON Lines files: one document per line, read and written as a stream.
///
/// The reader holds one batch at a time, so a file larger than memory can be
/// processed batch by batch:
///
///   auto reader = caflow::JsonlReader::open("docs.jsonl");
///   if (!reader) return reader.error();
///   while (true) {
///     auto batch = reader->next(100);      // up to 100 documents
///     if (!batch) return batch.error();    // "docs.jsonl:7: ..." on bad input
///     if (batch->empty()) break;           // end of file
///     ...
///   }
///
/// Blank lines are skipped. Neither class is thread-safe.
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "caflow/document.hpp"

namespace caflow {

/// Reads documents from a JSON Lines file or stream.
class JsonlReader {
 public:
  /// Opens `path` for reading.
  static caf::expected<JsonlReader> open(const std::string& path);

  /// Reads from `in`, which must outlive the reader. `name` appears in errors.
  JsonlReader(std::istream& in, std::string name);

  JsonlReader(JsonlReader&&) noexcept;
  JsonlReader& operator=(JsonlReader&&) noexcept;
  ~JsonlReader();

  /// The next up to `max_docs` documents; an empty array at end of input.
  /// A malformed line is an error naming the file and line number.
  caf::expected<DocumentArray> next(size_t max_docs);

  /// The number of lines consumed so far.
  [[nodiscard]] size_t line() const noexcept { return line_; }

 private:
  std::unique_ptr<std::ifstream> file_;  // owned input when opened by path
  std::istream* in_;
  std::string name_;
  size_t line_ = 0;
};

/// Writes documents as JSON Lines.
class JsonlWriter {
 public:
  /// Creates (or truncates) `path`.
  static caf::expected<JsonlWriter> create(const std::string& path);

  /// Writes to `out`, which must outlive the writer.
  explicit JsonlWriter(std::ostream& out);

  JsonlWriter(JsonlWriter&&) noexcept;
  JsonlWriter& operator=(JsonlWriter&&) noexcept;
  ~JsonlWriter();

  /// Appends one document as one line.
  caf::error write(const Document& doc);
  /// Appends every document of `docs`.
  caf::error write(const DocumentArray& docs);
  /// Flushes buffered output.
  caf::error flush();

 private:
  std::unique_ptr<std::ofstream> file_;
  std::ostream* out_;
};

}  // namespace caflow
