#include "caflow/jsonl.hpp"

#include <cerrno>
#include <cstring>

#include "caflow/errors.hpp"
#include "caflow/json.hpp"

namespace caflow {

namespace {

bool blank(const std::string& line) {
  return line.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

caf::error cannot_open(const std::string& path) {
  return make_error(errc::io_error, "cannot open " + path + ": " + std::strerror(errno));
}

}  // namespace

caf::expected<JsonlReader> JsonlReader::open(const std::string& path) {
  errno = 0;
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!file->is_open())
    return cannot_open(path);
  JsonlReader reader(*file, path);
  reader.file_ = std::move(file);  // heap-owned, so in_ stays valid across moves
  return reader;
}

JsonlReader::JsonlReader(std::istream& in, std::string name) : in_(&in), name_(std::move(name)) {
}

JsonlReader::JsonlReader(JsonlReader&&) noexcept = default;
JsonlReader& JsonlReader::operator=(JsonlReader&&) noexcept = default;
JsonlReader::~JsonlReader() = default;

caf::expected<DocumentArray> JsonlReader::next(size_t max_docs) {
  DocumentArray out;
  std::string line;
  while (out.size() < max_docs && std::getline(*in_, line)) {
    ++line_;
    if (blank(line))
      continue;
    auto doc = parse_document(line);
    if (!doc)
      return make_error(errc::invalid_json,
                        name_ + ":" + std::to_string(line_) + ": " + error_message(doc.error()));
    out.push_back(std::move(*doc));
  }
  // getline sets failbit at a clean end of input too; only badbit is a failure.
  if (in_->bad())
    return make_error(errc::io_error, name_ + ":" + std::to_string(line_) + ": read failed");
  return out;
}

caf::expected<JsonlWriter> JsonlWriter::create(const std::string& path) {
  errno = 0;
  auto file = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
  if (!file->is_open())
    return cannot_open(path);
  JsonlWriter writer(*file);
  writer.file_ = std::move(file);
  return writer;
}

JsonlWriter::JsonlWriter(std::ostream& out) : out_(&out) {
}

JsonlWriter::JsonlWriter(JsonlWriter&&) noexcept = default;
JsonlWriter& JsonlWriter::operator=(JsonlWriter&&) noexcept = default;
JsonlWriter::~JsonlWriter() = default;

caf::error JsonlWriter::write(const Document& doc) {
  auto line = to_json(doc);
  line += '\n';
  out_->write(line.data(), static_cast<std::streamsize>(line.size()));
  if (!*out_)
    return make_error(errc::io_error, "JSON Lines output: write failed");
  return {};
}

caf::error JsonlWriter::write(const DocumentArray& docs) {
  for (const auto& doc : docs)
    if (auto err = write(doc))
      return err;
  return {};
}

caf::error JsonlWriter::flush() {
  out_->flush();
  if (!*out_)
    return make_error(errc::io_error, "JSON Lines output: flush failed");
  return {};
}

}  // namespace caflow
