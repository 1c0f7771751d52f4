#include "chat/net/acceptor.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/loop/log_sampling.h"
#include "chat/protocol/replies.h"
#include "chat/protocol/words.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

constexpr uint64_t kListenKey = 1;

}  // namespace

absl::StatusOr<std::unique_ptr<Acceptor>> Acceptor::Create(UniqueFd listen_fd, Registry* registry,
                                                           Destination* lobby,
                                                           const ConnectionLimits& limits,
                                                           std::atomic<ClientId>* ids,
                                                           ServerMetrics* metrics,
                                                           TlsAccepting tls) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create("acceptor");
  if (!loop.ok()) return loop.status();
  std::unique_ptr<Acceptor> acceptor(
      new Acceptor(*std::move(loop), std::move(listen_fd), registry, lobby, limits, ids, metrics));
  absl::Status watched =
      acceptor->loop_->Watch(acceptor->listen_fd_.get(), EPOLLIN, kListenKey, acceptor.get());
  if (!watched.ok()) return watched;
  if (tls.context != nullptr) {
    Acceptor* raw = acceptor.get();
    acceptor->handshaker_ = std::make_unique<TlsHandshaker>(
        acceptor->loop_.get(), tls.context, tls.handshake_timeout, kListenKey + 1,
        [raw](std::unique_ptr<TlsTransport> transport, std::string peer) {
          // The client's first lines may have come with the handshake's last flight and wait,
          // decrypted, inside OpenSSL: the socket will not signal them, so read at once.
          raw->Admit(std::move(transport), std::move(peer), /*maybe_readable=*/true);
        });
  }
  return acceptor;
}

Acceptor::Acceptor(std::unique_ptr<EventLoop> loop, UniqueFd listen_fd, Registry* registry,
                   Destination* lobby, const ConnectionLimits& limits, std::atomic<ClientId>* ids,
                   ServerMetrics* metrics)
    : loop_(std::move(loop)),
      listen_fd_(std::move(listen_fd)),
      descriptor_cap_(AcceptedDescriptorCap()),
      registry_(registry),
      lobby_(lobby),
      limits_(limits),
      ids_(ids),
      metrics_(metrics) {}

Acceptor::~Acceptor() { Stop(); }

void Acceptor::Start() {
  thread_ = std::thread([this] { loop_->Run(); });
}

void Acceptor::Stop() {
  if (thread_.joinable()) {
    loop_->Quit();
    thread_.join();
  }
  handshaker_.reset();  // closes the handshakes still in progress
}

void Acceptor::OnIo(uint64_t key, uint32_t events) {
  if (AcceptAll()) return;
  if (!warned_) {
    PLOG(WARNING) << "limit hit: accept failed; pausing accepts for " << kBackoff.count()
                  << " ms at a time until one succeeds";
    warned_ = true;
  }
  BackOff();
}

void Acceptor::BackOff() {
  pauses_.fetch_add(1, std::memory_order_relaxed);
  loop_->Unwatch(listen_fd_.get(), kListenKey);
  loop_->RunAfter(kBackoff, [this] {
    absl::Status watched = loop_->Watch(listen_fd_.get(), EPOLLIN, kListenKey, this);
    if (!watched.ok()) {
      LOG(ERROR) << "acceptor: cannot watch the listening socket again: " << watched;
      BackOff();
    }
  });
}

bool Acceptor::AcceptAll() {
  while (true) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    accept_calls_.fetch_add(1, std::memory_order_relaxed);
    if (fd >= descriptor_cap_) {
      TurnAway(UniqueFd(fd));
      continue;
    }
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

void Acceptor::TurnAway(UniqueFd fd) {
  const std::string bye = replies::Bye(words::kByeServerFull);
  (void)::send(fd.get(), bye.data(), bye.size(), MSG_NOSIGNAL | MSG_DONTWAIT);  // best effort
  ++turned_away_;
  if (LogsOccurrence(turned_away_, /*first=*/1)) {
    LOG(WARNING) << "limit hit: descriptors nearly exhausted (accepted descriptor " << fd.get()
                 << ", the last " << kReservedDescriptors
                 << " under the open-file limit are kept for the server): turned away "
                 << turned_away_ << " connections so far";
  }
}

void Acceptor::Hand(UniqueFd fd) {
  if (absl::Status nodelay = SetNoDelay(fd.get()); !nodelay.ok()) {
    LOG(WARNING) << "acceptor: " << nodelay;
  }
  std::string peer = PeerAddress(fd.get());
  if (handshaker_ != nullptr) return handshaker_->Start(std::move(fd), std::move(peer));
  Admit(std::make_unique<TcpTransport>(std::move(fd)), std::move(peer), false);
}

void Acceptor::Admit(std::unique_ptr<Transport> transport, std::string peer,
                     bool maybe_readable) {
  auto connection = std::make_unique<Connection>(
      ids_->fetch_add(1, std::memory_order_relaxed), std::move(peer), std::move(transport),
      std::make_unique<LineCodec>(limits_.max_line_bytes), limits_, loop_->now());
  connection->loop_state().readable = maybe_readable;
  ConnectOrTurnAway(std::move(connection), registry_, lobby_, metrics_, loop_->now());
}

void ConnectOrTurnAway(std::unique_ptr<Connection> connection, Registry* registry,
                       Destination* lobby, ServerMetrics* metrics, Clock::time_point now) {
  ServerMetrics::Transport transport = ServerMetrics::TransportOf(
      connection->codec().kind() == Codec::Kind::kWebSocket, connection->tls());
  absl::Status connected = registry->Connect(connection, lobby);
  if (connected.ok()) return metrics->Accepted(transport);
  LOG_EVERY_N(WARNING, 100) << "limit hit: refused " << connection->peer() << ": " << connected
                            << " (" << google::COUNTER << " refused so far)";
  if (absl::IsResourceExhausted(connected)) {
    connection->Send(replies::Bye(words::kByeServerFull), now);
  }
  connection->EndOutput(now);
  connection->FinishOutput(now);
}

}  // namespace roomchat
