// Acceptor: the thread that accepts connections and hands each new client to the lobby.
//
// It runs an EventLoop watching the listening socket. Each accepted socket is made non-blocking
// with TCP_NODELAY, wrapped in a Connection (TCP transport, line codec) and registered, which
// admits it to the lobby. Past --max_clients a connection gets only "BYE server-full" and is
// closed. When accept(2) runs out of descriptors or memory, the acceptor stops watching the
// socket for kBackoff (a timer) instead of spinning, and says so in the log once per episode.
//
// With a TlsContext (the TLS port), each accepted socket first completes a TLS handshake on this
// thread (TlsHandshaker) and becomes a client only then, with a TlsTransport under its codec.
//
// Thread contract: Create(), Start() and Stop() are called by the owner (the Server); the
// accepting itself runs on the acceptor's own thread. The TEST_ counters are safe from any thread.
#ifndef ROOMCHAT_CHAT_NET_ACCEPTOR_H_
#define ROOMCHAT_CHAT_NET_ACCEPTOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chat/loop/event_loop.h"
#include "chat/loop/socket.h"
#include "chat/metrics/metrics.h"
#include "chat/net/connection.h"
#include "chat/net/tls.h"
#include "chat/net/tls_handshaker.h"
#include "chat/places/registry.h"

namespace roomchat {

// Registers `connection` with the registry, which admits it to `lobby`, and counts it by its
// transport. When the registry refuses (the server is full or shutting down) the client gets
// "BYE server-full" when full, then the door. Safe from any thread that owns `connection`.
void ConnectOrTurnAway(std::unique_ptr<Connection> connection, Registry* registry,
                       Destination* lobby, ServerMetrics* metrics, Clock::time_point now);

// What an acceptor of the TLS port needs: the certificate, and how long a handshake may take.
struct TlsAccepting {
  TlsContext* context = nullptr;
  std::chrono::seconds handshake_timeout{};  // ServerOptions::tls_handshake_timeout_s
};

class Acceptor final : private EventLoop::IoHandler {
 public:
  // How long accepting pauses after EMFILE, ENFILE, ENOBUFS or ENOMEM. A connection accepted
  // into the kReservedDescriptors (chat/loop/socket.h) is turned away (BYE server-full).
  static constexpr std::chrono::milliseconds kBackoff{100};

  // `ids` hands out client ids (shared with the HTTP port's WebSocket clients) and `metrics`
  // counts connections; both outlive the acceptor.
  // `tls.context`, when not null (the TLS port), outlives the acceptor.
  static absl::StatusOr<std::unique_ptr<Acceptor>> Create(UniqueFd listen_fd, Registry* registry,
                                                          Destination* lobby,
                                                          const ConnectionLimits& limits,
                                                          std::atomic<ClientId>* ids,
                                                          ServerMetrics* metrics,
                                                          TlsAccepting tls = TlsAccepting());
  ~Acceptor() override;

  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  void Start();
  // Stops the loop and joins its thread. Idempotent.
  void Stop();

  uint64_t TEST_accept_calls() const { return accept_calls_.load(std::memory_order_relaxed); }
  uint64_t TEST_pauses() const { return pauses_.load(std::memory_order_relaxed); }

 private:
  Acceptor(std::unique_ptr<EventLoop> loop, UniqueFd listen_fd, Registry* registry,
           Destination* lobby, const ConnectionLimits& limits, std::atomic<ClientId>* ids,
           ServerMetrics* metrics);

  // EventLoop::IoHandler: the listening socket is readable.
  void OnIo(uint64_t key, uint32_t events) override;
  // Accepts until the backlog is empty; false when out of resources (back off).
  bool AcceptAll();
  void BackOff();
  void Hand(UniqueFd fd);
  // Closes a connection accepted into the reserved descriptors, telling it the server is full.
  void TurnAway(UniqueFd fd);
  // A connection ready to be a client (accepted, or done with its TLS handshake).
  void Admit(std::unique_ptr<Transport> transport, std::string peer, bool maybe_readable);

  // Const after construction.
  const std::unique_ptr<EventLoop> loop_;
  const UniqueFd listen_fd_;
  const int descriptor_cap_;  // an accepted descriptor this high or higher is turned away
  Registry* const registry_;
  Destination* const lobby_;
  const ConnectionLimits limits_;
  std::atomic<ClientId>* const ids_;
  ServerMetrics* const metrics_;

  // Owned by the acceptor thread.
  bool warned_ = false;  // the current run of resource errors has been logged
  uint64_t turned_away_ = 0;  // connections turned away to keep kReservedDescriptors
  std::unique_ptr<TlsHandshaker> handshaker_;  // the TLS port only

  // Written by the acceptor thread, read by tests.
  std::atomic<uint64_t> accept_calls_{0};
  std::atomic<uint64_t> pauses_{0};

  // Owned by the owner's thread.
  std::thread thread_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_NET_ACCEPTOR_H_
