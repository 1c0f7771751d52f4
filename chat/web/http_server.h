// HttpServer: the HTTP port's thread. It accepts connections on the HTTP listening socket and
// answers their requests on its own EventLoop (no thread per request), with HttpRoutes deciding
// what each gets. An HTTP connection holds at most one request head (8 KiB) and its responses;
// one that does not complete a request within kIdle of the last is closed, so idle and slowloris
// connections cost at most that long. A client that pipelines requests without reading the answers
// is read no further while kMaxPendingOutput bytes of answers wait for it. Past kMaxConnections
// open HTTP connections, a new one is closed at once.
//
// A GET /ws that upgrades becomes a roomchat client: the transport and the bytes that came after
// the request go into a Connection (WebSocketCodec) whose output starts with the 101 response, and
// the registry admits it to the lobby like a TCP client; from then on it is not the HTTP thread's.
//
// With a TlsContext (the HTTPS port, a second HttpServer on its own thread) each accepted socket
// first completes a TLS handshake on this thread (TlsHandshaker, as on the TLS line port; pending
// handshakes count against kMaxConnections), then is served exactly as above over a TlsTransport,
// which an upgrade hands on to the Connection (wss://): its SSL moves with it to the lobby and
// rooms.
//
// Thread contract: Create(), Start() and Stop() are for the owner (the Server); everything else
// runs on the HTTP thread.
#ifndef ROOMCHAT_CHAT_WEB_HTTP_SERVER_H_
#define ROOMCHAT_CHAT_WEB_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chat/loop/event_loop.h"
#include "chat/loop/socket.h"
#include "chat/metrics/metrics.h"
#include "chat/net/acceptor.h"
#include "chat/net/connection.h"
#include "chat/net/tls_handshaker.h"
#include "chat/net/transport.h"
#include "chat/places/registry.h"
#include "chat/web/http_request.h"
#include "chat/web/http_routes.h"

namespace roomchat {

class HttpServer final : private EventLoop::IoHandler {
 public:
  static constexpr std::chrono::seconds kIdle{10};
  static constexpr size_t kMaxConnections = 1024;
  // Responses held for a client that does not read; past it, its further requests wait.
  static constexpr size_t kMaxPendingOutput = 256 * 1024;

  // `ids` hands out client ids shared with the TCP acceptor, `metrics` counts WebSocket clients;
  // both outlive the server. `tls.context`, when not null (the HTTPS port), outlives it too.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(UniqueFd listen_fd, HttpRoutes routes,
                                                            Registry* registry, Destination* lobby,
                                                            const ConnectionLimits& limits,
                                                            std::atomic<ClientId>* ids,
                                                            ServerMetrics* metrics,
                                                            TlsAccepting tls = TlsAccepting());
  ~HttpServer() override;

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void Start();
  // Stops the loop, joins its thread and closes every HTTP connection. Idempotent.
  void Stop();

 private:
  struct HttpConnection {
    std::unique_ptr<Transport> transport;  // TCP, or TLS once its handshake is done
    std::string peer;
    HttpRequestParser parser;
    std::string out;  // responses not yet written
    bool close_when_written = false;
    bool input_ended = false;  // the client closed its side; answer what it asked, then close
    EventLoop::TimerId idle = 0;
  };

  HttpServer(std::unique_ptr<EventLoop> loop, UniqueFd listen_fd, HttpRoutes routes,
             Registry* registry, Destination* lobby, const ConnectionLimits& limits,
             std::atomic<ClientId>* ids, ServerMetrics* metrics);

  // EventLoop::IoHandler: the listening socket or an HTTP connection.
  void OnIo(uint64_t key, uint32_t events) override;
  void AcceptAll();
  // Serves a connection ready for requests (accepted, or done with its TLS handshake).
  void Add(std::unique_ptr<Transport> transport, std::string peer);
  void Serve(uint64_t key);
  // Answers the complete requests buffered while the responses pending stay under
  // kMaxPendingOutput; false once the connection is upgraded.
  bool Answer(uint64_t key, HttpConnection& http);
  void Upgrade(uint64_t key, HttpConnection& http, std::string response);
  // Writes what it can; closes when done and asked to. False once the connection is gone.
  bool Write(uint64_t key, HttpConnection& http);
  void RestartIdleTimer(uint64_t key, HttpConnection& http);
  void Close(uint64_t key);

  // Const after construction.
  const std::unique_ptr<EventLoop> loop_;
  const UniqueFd listen_fd_;
  const int descriptor_cap_;  // an accepted descriptor this high or higher is closed at once
  const HttpRoutes routes_;
  Registry* const registry_;
  Destination* const lobby_;
  const ConnectionLimits limits_;
  std::atomic<ClientId>* const ids_;
  ServerMetrics* const metrics_;

  // Owned by the HTTP thread.
  absl::flat_hash_map<uint64_t, std::unique_ptr<HttpConnection>> connections_;
  uint64_t next_key_ = 2;  // 1 is the listening socket; the handshaker's keys are far above
  std::unique_ptr<TlsHandshaker> handshaker_;  // the HTTPS port only

  // Owned by the owner's thread.
  std::thread thread_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_WEB_HTTP_SERVER_H_
