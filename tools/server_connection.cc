#include "tools/server_connection.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace roomchat {

absl::StatusOr<std::unique_ptr<ServerConnection>> ServerConnection::Connect(
    const std::string& host, int port) {
  std::string where = absl::StrCat(host, ":", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), absl::StrCat(port).c_str(), &hints, &found);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ", where, ": ",
                                               ::gai_strerror(rc)));
  }
  std::string reason = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) {
      reason = std::strerror(errno);
      continue;
    }
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      reason = std::strerror(errno);
      continue;
    }
    ::freeaddrinfo(found);
    SetNoDelay(fd.get()).IgnoreError();
    return std::unique_ptr<ServerConnection>(new ServerConnection(std::move(fd)));
  }
  ::freeaddrinfo(found);
  return absl::UnavailableError(absl::StrCat("cannot connect to ", where, ": ", reason));
}

std::unique_ptr<ServerConnection> ServerConnection::FromFd(UniqueFd fd) {
  return std::unique_ptr<ServerConnection>(new ServerConnection(std::move(fd)));
}

absl::Status ServerConnection::Send(absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status ServerConnection::ReadLines(std::vector<std::string>* lines) {
  char chunk[65536];
  ssize_t n;
  do {
    n = ::read(fd_.get(), chunk, sizeof(chunk));
  } while (n < 0 && errno == EINTR);
  if (n == 0) return absl::UnavailableError("the server closed the connection");
  if (n < 0) return absl::UnavailableError(absl::StrCat("read: ", std::strerror(errno)));
  partial_.append(chunk, static_cast<size_t>(n));
  size_t start = 0;
  for (size_t newline; (newline = partial_.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    lines->push_back(partial_.substr(start, newline - start));
  }
  partial_.erase(0, start);
  return absl::OkStatus();
}

}  // namespace roomchat
