#include "chat/net/tls_handshaker.h"

#include <sys/epoll.h>

#include <utility>

#include "glog/logging.h"

namespace roomchat {

TlsHandshaker::TlsHandshaker(EventLoop* loop, TlsContext* context, std::chrono::seconds timeout,
                             uint64_t first_key, Done done)
    : loop_(loop), context_(context), timeout_(timeout), done_(std::move(done)),
      next_key_(first_key) {}

// Runs after the loop has stopped (the acceptor joins its thread first), on the owner's thread:
// the loop's methods are not called; closing the sockets is all that is left to do.
TlsHandshaker::~TlsHandshaker() { pending_.clear(); }

void TlsHandshaker::Start(UniqueFd fd, std::string peer) {
  if (pending_.size() >= kMaxPending) {
    LOG_EVERY_N(WARNING, 100) << "limit hit: " << kMaxPending
                              << " TLS handshakes in progress; turned away " << peer;
    return;  // closed as `fd` goes
  }
  std::string address = peer.substr(0, peer.rfind(':'));
  if (auto found = pending_by_address_.find(address);
      found != pending_by_address_.end() && found->second >= kMaxPendingPerAddress) {
    LOG_EVERY_N(WARNING, 100) << "limit hit: " << kMaxPendingPerAddress
                              << " TLS handshakes in progress from " << address
                              << "; turned away " << peer;
    return;
  }
  absl::StatusOr<SSL*> ssl = context_->NewSsl(fd.get());
  if (!ssl.ok()) {
    LOG(ERROR) << "tls: cannot start a handshake with " << peer << ": " << ssl.status();
    return;
  }
  const uint64_t key = next_key_++;
  int raw_fd = fd.get();
  auto transport = std::make_unique<TlsTransport>(std::move(fd), *ssl);
  absl::Status watched = loop_->Watch(raw_fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, key, this);
  if (!watched.ok()) {
    LOG(ERROR) << "tls: cannot watch " << peer << ": " << watched;
    return;
  }
  EventLoop::TimerId deadline = loop_->RunAfter(timeout_, [this, key] {
    auto it = pending_.find(key);
    if (it == pending_.end()) return;
    LOG(INFO) << "tls: " << it->second.peer << " did not finish its handshake in "
              << timeout_.count() << " s; closed";
    it->second.deadline = 0;  // this timer
    Finish(key);
  });
  ++pending_by_address_[address];
  pending_.emplace(key, Pending{std::move(transport), std::move(peer), std::move(address),
                                deadline});
  Step(key);
}

void TlsHandshaker::OnIo(uint64_t key, uint32_t events) { Step(key); }

void TlsHandshaker::Step(uint64_t key) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  absl::StatusOr<TlsTransport::Progress> progress = it->second.transport->Handshake();
  if (progress.ok() && *progress != TlsTransport::Progress::kDone) return;  // the next event
  Pending finished = Finish(key);
  if (!progress.ok()) {
    LOG(INFO) << "tls: handshake with " << finished.peer << " failed: " << progress.status();
    return;
  }
  VLOG(1) << "tls: " << finished.peer << " speaks " << finished.transport->Version();
  done_(std::move(finished.transport), std::move(finished.peer));
}

TlsHandshaker::Pending TlsHandshaker::Finish(uint64_t key) {
  auto it = pending_.find(key);
  Pending pending = std::move(it->second);
  pending_.erase(it);
  auto count = pending_by_address_.find(pending.address);
  if (--count->second == 0) pending_by_address_.erase(count);
  loop_->Unwatch(pending.transport->fd(), key);
  if (pending.deadline != 0) loop_->Cancel(pending.deadline);
  return pending;
}

}  // namespace roomchat
