#include "http/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace caflow::testing {

RawSocket::RawSocket(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    throw std::runtime_error(std::string{"connect: "} + std::strerror(errno));
}

RawSocket::~RawSocket() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool RawSocket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a server that closed on us must fail the send, not kill
    // the test process with SIGPIPE.
    auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR)
        continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawSocket::shutdown_send() {
  ::shutdown(fd_, SHUT_WR);
}

int RawSocket::fill(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0)
    return -1;
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
    return -1;
  char chunk[16384];
  auto n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0)
    return 0;  // EOF or reset: both mean the server is done with us
  buffer_.append(chunk, static_cast<size_t>(n));
  return 1;
}

std::optional<RawReply> RawSocket::read_reply(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t end = 0;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (fill(deadline) <= 0)
      return std::nullopt;
  RawReply reply;
  reply.headers = buffer_.substr(0, end);
  // "HTTP/1.1 400 Bad Request"
  auto sp = reply.headers.find(' ');
  if (sp == std::string::npos)
    return std::nullopt;
  reply.status = std::atoi(reply.headers.c_str() + sp + 1);
  std::optional<size_t> length;
  std::string lower = reply.headers;
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto at = lower.find("\r\ncontent-length:"); at != std::string::npos)
    length = std::stoul(lower.substr(at + 17));
  auto body_start = end + 4;
  for (;;) {
    auto have = buffer_.size() - body_start;
    if (length && have >= *length)
      break;
    int r = fill(deadline);
    if (r < 0)
      return std::nullopt;
    if (r == 0) {
      if (length)
        return std::nullopt;  // closed before the promised body arrived
      break;
    }
  }
  auto n = length.value_or(buffer_.size() - body_start);
  reply.body = buffer_.substr(body_start, n);
  buffer_.erase(0, body_start + n);
  return reply;
}

bool RawSocket::closed_within(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int r = fill(deadline);
    if (r == 0)
      return true;
    if (r < 0)
      return false;
    buffer_.clear();
  }
}

}  // namespace caflow::testing
