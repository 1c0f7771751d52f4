// Thin, Status-returning wrappers over the POSIX socket calls the server makes, and UniqueFd, the
// owner of a file descriptor. Safe from any thread; a UniqueFd itself is owned by one thread at a
// time.
#ifndef ROOMCHAT_CHAT_LOOP_SOCKET_H_
#define ROOMCHAT_CHAT_LOOP_SOCKET_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace roomchat {

// Owns a file descriptor and closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset();

 private:
  int fd_ = -1;
};

// An absl::Status for the current errno, e.g. "bind 127.0.0.1:7070: Address already in use".
absl::Status ErrnoStatus(absl::string_view what);

// A non-blocking, close-on-exec TCP socket listening on host:port (an IPv4 or IPv6 literal, or a
// name such as "localhost"); port 0 picks a free one.
absl::StatusOr<UniqueFd> ListenTcp(const std::string& host, int port, int backlog);

// The local port `fd` is bound to.
absl::StatusOr<int> LocalPort(int fd);

// "address:port" of the peer of `fd`, or "unknown".
std::string PeerAddress(int fd);

// Disables Nagle's algorithm, so small chat lines leave at once.
absl::Status SetNoDelay(int fd);

// Descriptors a server keeps for its own use (a room's epoll set and eventfd, the Redis link's
// reconnections, the stores' files): a listener turns away a connection accepted into the last
// this many under the open-file limit.
inline constexpr int kReservedDescriptors = 32;
// The lowest descriptor number an accepted connection may not have: the open-file limit less
// kReservedDescriptors (the kernel hands out the lowest free number, so all lower ones are taken).
int AcceptedDescriptorCap();

// An eventfd for waking a poll loop: non-blocking, close-on-exec.
absl::StatusOr<UniqueFd> MakeEventFd();

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_LOOP_SOCKET_H_
