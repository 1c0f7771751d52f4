// Acceptor: the thread that accepts connections and hands each new client to the lobby.
//
// It makes each socket non-blocking with TCP_NODELAY, wraps it in a Client and registers it, which
// admits it to the lobby. Past --max_clients a connection gets only "BYE server-full" and is
// closed. When accept(2) runs out of descriptors or memory, the acceptor stops accepting for a
// moment instead of spinning, and says so in the log once per episode.
//
// Thread contract: Start() and Stop() are called by the owner (the Server), once each; the
// accepting itself runs on the acceptor's own thread.
#ifndef ROOMCHAT_CHAT_SERVER_ACCEPTOR_H_
#define ROOMCHAT_CHAT_SERVER_ACCEPTOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chat/conn/client.h"
#include "chat/server/registry.h"
#include "chat/base/socket.h"

namespace roomchat {

class Acceptor {
 public:
  // How long accepting pauses after EMFILE, ENFILE, ENOBUFS or ENOMEM.
  static constexpr std::chrono::milliseconds kBackoff{100};

  static absl::StatusOr<std::unique_ptr<Acceptor>> Create(UniqueFd listen_fd, Registry* registry,
                                                          Destination* lobby,
                                                          const ClientLimits& limits);
  ~Acceptor();

  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  void Start();
  // Wakes the thread and joins it. Idempotent.
  void Stop();

  // For tests, safe from any thread: accept(2) calls made, and pauses taken after resource errors.
  uint64_t TEST_accept_calls() const { return accept_calls_.load(std::memory_order_relaxed); }
  uint64_t TEST_pauses() const { return pauses_.load(std::memory_order_relaxed); }

 private:
  Acceptor(UniqueFd listen_fd, UniqueFd wake_fd, Registry* registry, Destination* lobby,
           const ClientLimits& limits);

  void Run();
  // Accepts until the backlog is empty; false when out of resources (back off).
  bool AcceptAll();
  void Hand(UniqueFd fd);

  // Const after construction.
  const UniqueFd listen_fd_;
  const UniqueFd wake_fd_;
  Registry* const registry_;
  Destination* const lobby_;
  const ClientLimits limits_;

  // Owned by the acceptor thread.
  ClientId next_id_ = 1;
  bool backing_off_ = false;  // pausing after a resource error
  bool warned_ = false;       // the current run of resource errors has been logged

  // Written by the acceptor thread, read by tests.
  std::atomic<uint64_t> accept_calls_{0};
  std::atomic<uint64_t> pauses_{0};

  // Owned by the owner's thread.
  std::thread thread_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_SERVER_ACCEPTOR_H_
