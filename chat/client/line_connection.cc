#include "chat/client/line_connection.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace roomchat {
namespace {

// Binds `fd` (of `family`) to the numeric address `address`, any port.
absl::Status BindLocal(int fd, int family, const std::string& address) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  addrinfo* local = nullptr;
  int rc = ::getaddrinfo(address.c_str(), "0", &hints, &local);
  if (rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("local address ", address, ": ", ::gai_strerror(rc)));
  }
  int bound = ::bind(fd, local->ai_addr, local->ai_addrlen);
  ::freeaddrinfo(local);
  if (bound != 0) return ErrnoStatus(absl::StrCat("bind ", address));
  return absl::OkStatus();
}

// A socket connected to `ai`, with `options` applied before connecting; the error says why not.
absl::StatusOr<UniqueFd> ConnectTo(const addrinfo& ai, const LineConnectionOptions& options) {
  UniqueFd fd(::socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC, ai.ai_protocol));
  if (!fd.valid()) return absl::UnavailableError(std::strerror(errno));
  if (options.receive_buffer_bytes > 0 &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &options.receive_buffer_bytes,
                   sizeof(options.receive_buffer_bytes)) != 0) {
    return ErrnoStatus("SO_RCVBUF");
  }
  if (!options.local_address.empty()) {
    if (absl::Status bound = BindLocal(fd.get(), ai.ai_family, options.local_address);
        !bound.ok()) {
      return bound;
    }
  }
  if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
    return absl::UnavailableError(std::strerror(errno));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LineConnection>> LineConnection::Connect(
    const std::string& host, int port, LineConnectionOptions options) {
  std::string where = absl::StrCat(host, ":", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), absl::StrCat(port).c_str(), &hints, &found);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to ", where, ": ", ::gai_strerror(rc)));
  }
  std::string reason = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    absl::StatusOr<UniqueFd> fd = ConnectTo(*ai, options);
    if (!fd.ok()) {
      reason = std::string(fd.status().message());
      continue;
    }
    ::freeaddrinfo(found);
    SetNoDelay(fd->get()).IgnoreError();
    std::unique_ptr<LineConnection> connection = Adopt(*std::move(fd));
    if (options.tls) {
      absl::StatusOr<std::unique_ptr<ClientTls>> tls =
          ClientTls::Handshake(connection->fd(), host, options.tls_options);
      if (!tls.ok()) {
        return absl::UnavailableError(
            absl::StrCat("cannot connect to ", where, ": ", tls.status().message()));
      }
      connection->tls_ = *std::move(tls);
    }
    return connection;
  }
  ::freeaddrinfo(found);
  return absl::UnavailableError(absl::StrCat("cannot connect to ", where, ": ", reason));
}

std::unique_ptr<LineConnection> LineConnection::Adopt(UniqueFd fd) {
  return std::unique_ptr<LineConnection>(new LineConnection(std::move(fd)));
}

absl::Status LineConnection::Send(absl::string_view bytes) {
  if (tls_ != nullptr) return tls_->Write(bytes);
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE || errno == ECONNRESET) {
        return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
      }
      return ErrnoStatus("send");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status LineConnection::Fill(absl::Time deadline) {
  while (true) {
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("no line in time");
      timeout_ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    }
    if (tls_ == nullptr || tls_->pending() == 0) {
      pollfd pfd{fd_.get(), POLLIN, 0};
      int ready = ::poll(&pfd, 1, timeout_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) return ErrnoStatus("poll");
      if (ready == 0) continue;
    }
    if (read_pos_ > 0) {
      buffer_.erase(0, read_pos_);
      read_pos_ = 0;
    }
    char chunk[65536];
    absl::StatusOr<ssize_t> n = ReadSome(chunk, sizeof(chunk));
    if (!n.ok()) return n.status();
    if (*n < 0) continue;  // nothing after all: poll again
    if (*n == 0) return absl::UnavailableError("the server closed the connection");
    buffer_.append(chunk, static_cast<size_t>(*n));
    // What OpenSSL decrypted beyond that would be invisible to the next poll: take it now.
    while (tls_ != nullptr && tls_->pending() > 0) {
      n = ReadSome(chunk, sizeof(chunk));
      if (!n.ok() || *n <= 0) break;
      buffer_.append(chunk, static_cast<size_t>(*n));
    }
    return absl::OkStatus();
  }
}

absl::StatusOr<ssize_t> LineConnection::ReadSome(char* buffer, size_t size) {
  if (tls_ != nullptr) {
    absl::StatusOr<size_t> n = tls_->Read(buffer, size);
    if (!n.ok()) return n.status();
    return static_cast<ssize_t>(*n);
  }
  while (true) {
    ssize_t n = ::recv(fd_.get(), buffer, size, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return -1;
    if (errno == ECONNRESET) return absl::UnavailableError("the server reset the connection");
    return ErrnoStatus("recv");
  }
}

bool LineConnection::TakeLine(std::string* line) {
  size_t newline = buffer_.find('\n', read_pos_);
  if (newline == std::string::npos) return false;
  line->assign(buffer_, read_pos_, newline - read_pos_);
  read_pos_ = newline + 1;
  return true;
}

absl::Status LineConnection::ReadLines(std::vector<std::string>* lines) {
  if (absl::Status filled = Fill(absl::InfiniteFuture()); !filled.ok()) return filled;
  std::string line;
  while (TakeLine(&line)) lines->push_back(std::move(line));
  return absl::OkStatus();
}

absl::StatusOr<std::string> LineConnection::ReadLine(absl::Time deadline) {
  std::string line;
  while (!TakeLine(&line)) {
    if (absl::Status filled = Fill(deadline); !filled.ok()) return filled;
  }
  return line;
}

void LineConnection::Reset() {
  linger hard{1, 0};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  fd_.Reset();
}

}  // namespace roomchat
