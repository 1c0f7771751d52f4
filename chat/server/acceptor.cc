#include "chat/server/acceptor.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/strings/string_view.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {

absl::StatusOr<std::unique_ptr<Acceptor>> Acceptor::Create(UniqueFd listen_fd, Registry* registry,
                                                           Destination* lobby,
                                                           const ClientLimits& limits) {
  absl::StatusOr<UniqueFd> wake = MakeEventFd();
  if (!wake.ok()) return wake.status();
  return std::unique_ptr<Acceptor>(
      new Acceptor(std::move(listen_fd), *std::move(wake), registry, lobby, limits));
}

Acceptor::Acceptor(UniqueFd listen_fd, UniqueFd wake_fd, Registry* registry, Destination* lobby,
                   const ClientLimits& limits)
    : listen_fd_(std::move(listen_fd)),
      wake_fd_(std::move(wake_fd)),
      registry_(registry),
      lobby_(lobby),
      limits_(limits) {}

Acceptor::~Acceptor() { Stop(); }

void Acceptor::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Acceptor::Stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
  (void)n;
  thread_.join();
}

void Acceptor::Run() {
  while (true) {
    pollfd fds[2] = {{wake_fd_.get(), POLLIN, 0}, {listen_fd_.get(), POLLIN, 0}};
    // While backing off, only the stop request is watched, for kBackoff.
    int count = backing_off_ ? 1 : 2;
    int timeout = backing_off_ ? static_cast<int>(kBackoff.count()) : -1;
    int ready = ::poll(fds, count, timeout);
    if (ready < 0 && errno != EINTR) PLOG(ERROR) << "acceptor: poll";
    if (fds[0].revents != 0) return;
    if (backing_off_ && ready == 0) {
      backing_off_ = false;
      continue;
    }
    if (count == 2 && fds[1].revents != 0 && !AcceptAll()) {
      if (!warned_) {
        PLOG(WARNING) << "limit hit: accept failed; pausing accepts for " << kBackoff.count()
                      << " ms at a time until one succeeds";
        warned_ = true;
      }
      backing_off_ = true;
      pauses_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

bool Acceptor::AcceptAll() {
  while (true) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    accept_calls_.fetch_add(1, std::memory_order_relaxed);
    if (fd >= 0) {
      warned_ = false;
      Hand(UniqueFd(fd));
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM) {
      PLOG(ERROR) << "acceptor: accept";
    }
    return false;
  }
}

void Acceptor::Hand(UniqueFd fd) {
  if (absl::Status nodelay = SetNoDelay(fd.get()); !nodelay.ok()) {
    LOG(WARNING) << "acceptor: " << nodelay;
  }
  std::string peer = PeerAddress(fd.get());
  auto client = std::make_unique<Client>(next_id_++, std::move(fd), std::move(peer), limits_);
  absl::Status connected = registry_->Connect(client, lobby_);
  if (connected.ok()) return;
  // Refused: server full or shutting down. The client gets one line and the door.
  LOG_EVERY_N(WARNING, 100) << "limit hit: refused " << client->peer() << ": " << connected << " ("
                            << google::COUNTER << " refused so far)";
  if (absl::IsResourceExhausted(connected)) client->Send(replies::Bye("server-full"));
  client->FinishOutput();
}

}  // namespace roomchat
