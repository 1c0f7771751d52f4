#include "chat/net/transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace roomchat {

absl::StatusOr<Transport::ReadResult> TcpTransport::Read(char* buffer, size_t size) {
  while (true) {
    ssize_t n = ::read(fd_.get(), buffer, size);
    if (n > 0) return ReadResult{ReadResult::Kind::kData, static_cast<size_t>(n)};
    if (n == 0) return ReadResult{ReadResult::Kind::kEndOfInput};
    switch (errno) {
      case EINTR: continue;
      case EAGAIN: return ReadResult{ReadResult::Kind::kWouldBlock};
      case ECONNRESET: return absl::AbortedError("reset");
      default: return ErrnoStatus("read");
    }
  }
}

absl::StatusOr<size_t> TcpTransport::Write(const char* data, size_t size) {
  while (true) {
    ssize_t n = ::send(fd_.get(), data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return static_cast<size_t>(n);
    switch (errno) {
      case EINTR: continue;
      case EAGAIN: return 0;
      case ECONNRESET:
      case EPIPE: return absl::AbortedError("reset");
      default: return ErrnoStatus("send");
    }
  }
}

void TcpTransport::ShutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

}  // namespace roomchat
