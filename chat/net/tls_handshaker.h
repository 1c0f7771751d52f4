// TlsHandshaker: the TLS handshakes of newly accepted connections, run on the acceptor's loop so
// that a client becomes a roomchat client (WELCOME, a nick, a lobby slot) only once it speaks TLS.
//
// Each handshake is non-blocking: the socket is watched (edge-triggered) and the handshake stepped
// on every event. One that does not finish within the timeout is cut, as is one that fails (a
// client sending plaintext to the TLS port, an old protocol version, a bad record); the log says
// who and why. At most kMaxPending handshakes are in progress, and at most kMaxPendingPerAddress
// from one address (so one host opening silent sockets cannot keep everyone else out); more are
// turned away at once.
//
// Thread contract: everything runs on the loop's thread (the acceptor's), except the destructor,
// which runs once that loop has stopped.
#ifndef ROOMCHAT_CHAT_NET_TLS_HANDSHAKER_H_
#define ROOMCHAT_CHAT_NET_TLS_HANDSHAKER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "chat/loop/event_loop.h"
#include "chat/loop/socket.h"
#include "chat/net/tls.h"

namespace roomchat {

class TlsHandshaker final : private EventLoop::IoHandler {
 public:
  static constexpr size_t kMaxPending = 1024;
  static constexpr size_t kMaxPendingPerAddress = 16;
  // Gets each connection whose handshake is done, with its peer address.
  using Done = std::function<void(std::unique_ptr<TlsTransport>, std::string peer)>;

  // Keys for the loop are taken from `first_key` up; the caller's own keys must be below it.
  TlsHandshaker(EventLoop* loop, TlsContext* context, std::chrono::seconds timeout,
                uint64_t first_key, Done done);
  ~TlsHandshaker() override;

  TlsHandshaker(const TlsHandshaker&) = delete;
  TlsHandshaker& operator=(const TlsHandshaker&) = delete;

  // Starts the handshake of an accepted, non-blocking socket.
  void Start(UniqueFd fd, std::string peer);
  size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    std::unique_ptr<TlsTransport> transport;
    std::string peer;
    std::string address;  // the peer without its port
    EventLoop::TimerId deadline;
  };

  void OnIo(uint64_t key, uint32_t events) override;
  void Step(uint64_t key);
  // Ends a pending handshake: unwatched, its timer cancelled; returns its connection.
  Pending Finish(uint64_t key);

  EventLoop* const loop_;
  TlsContext* const context_;
  const std::chrono::seconds timeout_;
  const Done done_;

  uint64_t next_key_;
  absl::flat_hash_map<uint64_t, Pending> pending_;
  absl::flat_hash_map<std::string, size_t> pending_by_address_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_NET_TLS_HANDSHAKER_H_
