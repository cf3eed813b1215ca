/// Writing a whole file so that readers see the old or the new content, never
/// half of it, and a failure leaves nothing behind.
///
///   if (auto err = write_file_atomically("/ws/vectorizer/tfidf.model", bytes))
///     ...  // errc::io_error: "... No space left on device (the disk is full)"
#pragma once

#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace caflow {

/// Writes `content` to a temporary file beside `path` (unique per process and
/// call), fsyncs it, renames it over `path` and fsyncs the directory. On any
/// failure the temporary file is removed and the error (errc::io_error) says
/// which step failed and why, naming a full disk as such.
[[nodiscard]] caf::error write_file_atomically(const std::string& path, std::string_view content);

/// The CRC-32 (zlib's polynomial) of the file at `path`; errc::io_error when
/// it cannot be read.
caf::expected<uint32_t> file_crc32(const std::string& path);

/// strerror(`err`), with " (the disk is full)" for ENOSPC and EDQUOT.
std::string describe_errno(int err);

}  // namespace caflow
