#include "storage/atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include "caflow/errors.hpp"

namespace caflow {

caf::expected<uint32_t> file_crc32(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(errc::io_error, "cannot open " + path + ": " + describe_errno(errno));
  // zlib's crc32 (the same CRC-32 as boost::crc_32_type, which earlier
  // markers were written with), several bytes at a time.
  uLong crc = ::crc32(0L, Z_NULL, 0);
  std::vector<unsigned char> buffer(1 << 20);
  for (;;) {
    auto n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_error(errc::io_error, "cannot read " + path + ": " + describe_errno(err));
    }
    if (n == 0)
      break;
    crc = ::crc32(crc, buffer.data(), static_cast<uInt>(n));
  }
  ::close(fd);
  return static_cast<uint32_t>(crc);
}

std::string describe_errno(int err) {
  std::string out = std::strerror(err);
  if (err == ENOSPC || err == EDQUOT)
    out += " (the disk is full)";
  return out;
}

caf::error write_file_atomically(const std::string& path, std::string_view content) {
  static std::atomic<uint64_t> calls{0};
  auto tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(++calls);
  auto failed = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());
    return make_error(errc::io_error, path + ": " + what + ": " + describe_errno(err));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(errc::io_error,
                      path + ": cannot create " + tmp + ": " + describe_errno(errno));
  const char* at = content.data();
  size_t left = content.size();
  while (left > 0) {
    auto n = ::write(fd, at, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return failed("writing " + tmp, err);
    }
    at += n;
    left -= static_cast<size_t>(n);
  }
  // fsync before rename: otherwise a crash can leave the new name on an empty file.
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return failed("syncing " + tmp, err);
  }
  if (::close(fd) != 0)
    return failed("closing " + tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return failed("renaming " + tmp, errno);
  auto dir = std::filesystem::path{path}.parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    // The rename is durable once the directory is; a failure here loses
    // nothing that is not on disk already, so it is not an error.
    [[maybe_unused]] auto ignored = ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace caflow
