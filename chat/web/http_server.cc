#include "chat/web/http_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/net/acceptor.h"
#include "chat/web/websocket_codec.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

constexpr uint64_t kListenKey = 1;
constexpr uint32_t kConnectionEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
// The TLS handshaker's keys start here; HTTP connections count up from 2 and never get there.
constexpr uint64_t kFirstHandshakeKey = uint64_t{1} << 62;

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(
    UniqueFd listen_fd, HttpRoutes routes, Registry* registry, Destination* lobby,
    const ConnectionLimits& limits, std::atomic<ClientId>* ids, ServerMetrics* metrics,
    TlsAccepting tls) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop =
      EventLoop::Create(tls.context != nullptr ? "https" : "http");
  if (!loop.ok()) return loop.status();
  std::unique_ptr<HttpServer> server(new HttpServer(*std::move(loop), std::move(listen_fd),
                                                    std::move(routes), registry, lobby, limits, ids,
                                                    metrics));
  absl::Status watched =
      server->loop_->Watch(server->listen_fd_.get(), EPOLLIN, kListenKey, server.get());
  if (!watched.ok()) return watched;
  if (tls.context != nullptr) {
    HttpServer* raw = server.get();
    server->handshaker_ = std::make_unique<TlsHandshaker>(
        server->loop_.get(), tls.context, tls.handshake_timeout, kFirstHandshakeKey,
        [raw](std::unique_ptr<TlsTransport> transport, std::string peer) {
          raw->Add(std::move(transport), std::move(peer));
        });
  }
  return server;
}

HttpServer::HttpServer(std::unique_ptr<EventLoop> loop, UniqueFd listen_fd, HttpRoutes routes,
                       Registry* registry, Destination* lobby, const ConnectionLimits& limits,
                       std::atomic<ClientId>* ids, ServerMetrics* metrics)
    : loop_(std::move(loop)),
      listen_fd_(std::move(listen_fd)),
      descriptor_cap_(AcceptedDescriptorCap()),
      routes_(std::move(routes)),
      registry_(registry),
      lobby_(lobby),
      limits_(limits),
      ids_(ids),
      metrics_(metrics) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Start() {
  thread_ = std::thread([this] { loop_->Run(); });
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  loop_->Quit();
  thread_.join();
  connections_.clear();  // closes every HTTP connection still open
  handshaker_.reset();   // and every handshake still in progress
}

void HttpServer::OnIo(uint64_t key, uint32_t events) {
  if (key == kListenKey) return AcceptAll();
  Serve(key);
}

void HttpServer::AcceptAll() {
  while (true) {
    UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors: the level-triggered listening socket reports again next round.
      if (errno != EAGAIN) {
        PLOG_EVERY_N(WARNING, 100) << "limit hit: http accept failed";
      }
      return;
    }
    if (fd.get() >= descriptor_cap_) {  // the last descriptors are kept for the server
      LOG_EVERY_N(WARNING, 100) << "limit hit: descriptors nearly exhausted (accepted descriptor "
                                << fd.get() << "); closing a new HTTP connection";
      continue;
    }
    size_t handshaking = handshaker_ != nullptr ? handshaker_->pending() : 0;
    if (connections_.size() + handshaking >= kMaxConnections) {
      LOG_EVERY_N(WARNING, 100) << "limit hit: " << kMaxConnections
                                << " HTTP connections open; closing a new one";
      continue;
    }
    SetNoDelay(fd.get()).IgnoreError();
    std::string peer = PeerAddress(fd.get());
    if (handshaker_ != nullptr) {
      handshaker_->Start(std::move(fd), std::move(peer));
    } else {
      Add(std::make_unique<TcpTransport>(std::move(fd)), std::move(peer));
    }
  }
}

void HttpServer::Add(std::unique_ptr<Transport> transport, std::string peer) {
  uint64_t key = next_key_++;
  auto http = std::make_unique<HttpConnection>();
  http->peer = std::move(peer);
  http->transport = std::move(transport);
  if (!loop_->Watch(http->transport->fd(), kConnectionEvents, key, this).ok()) return;
  HttpConnection& added = *http;
  connections_.emplace(key, std::move(http));
  RestartIdleTimer(key, added);
  // Over TLS the first request may have come with the handshake's last flight and wait, decrypted,
  // inside OpenSSL, where epoll does not see it: serve at once.
  if (added.transport->tls()) Serve(key);
}

void HttpServer::Serve(uint64_t key) {
  auto it = connections_.find(key);
  if (it == connections_.end()) return;
  HttpConnection& http = *it->second;
  char buffer[16 * 1024];
  // Reads only when every buffered request is answered and written, so neither the requests held
  // nor the responses pending grow with what a client sends without reading.
  while (true) {
    if (!Answer(key, http) || !Write(key, http)) return;  // upgraded or closed
    if (!http.out.empty() || http.input_ended) return;    // EPOLLOUT (edge-triggered) resumes
    // A full buffer is read again; over TLS that also takes what OpenSSL holds decrypted.
    absl::StatusOr<Transport::ReadResult> read = http.transport->Read(buffer, sizeof(buffer));
    if (!read.ok()) return Close(key);
    switch (read->kind) {
      case Transport::ReadResult::Kind::kData:
        http.parser.Append(absl::string_view(buffer, read->bytes));
        continue;
      case Transport::ReadResult::Kind::kWouldBlock: return;
      case Transport::ReadResult::Kind::kEndOfInput:
        http.input_ended = true;  // EOF: what was asked is still answered, then the door
        continue;
    }
  }
}

bool HttpServer::Answer(uint64_t key, HttpConnection& http) {
  while (!http.close_when_written && http.out.size() < kMaxPendingOutput) {
    HttpRequestParser::Outcome next = http.parser.Next();
    if (next.kind == HttpRequestParser::Outcome::Kind::kNeedMore) {
      if (http.input_ended) http.close_when_written = true;
      return true;
    }
    if (next.kind == HttpRequestParser::Outcome::Kind::kError) {
      http.out += FormatResponse(next.status, "text/plain; charset=utf-8",
                                 absl::StrCat(next.reason, "\n"), "Connection: close\r\n");
      http.close_when_written = true;
      return true;
    }
    RouteResult route = routes_.Route(next.request);
    if (route.upgrade) {
      Upgrade(key, http, std::move(route.response));
      return false;
    }
    http.out += route.response;
    http.close_when_written = route.close || !next.request.keep_alive;
    RestartIdleTimer(key, http);
  }
  return true;
}

void HttpServer::Upgrade(uint64_t key, HttpConnection& http, std::string response) {
  Clock::time_point now = loop_->now();
  absl::StatusOr<std::unique_ptr<WebSocketCodec>> codec =
      WebSocketCodec::Create(limits_.max_line_bytes);
  if (!codec.ok()) {
    LOG(ERROR) << "cannot start a WebSocket for " << http.peer << ": " << codec.status();
    return Close(key);
  }
  loop_->Unwatch(http.transport->fd(), key);
  loop_->Cancel(http.idle);
  auto connection =
      std::make_unique<Connection>(ids_->fetch_add(1, std::memory_order_relaxed), http.peer,
                                   std::move(http.transport), *std::move(codec), limits_, now);
  // Frames may wait in the socket or, over TLS, decrypted inside OpenSSL (which epoll does not
  // report): the lobby reads at once.
  connection->loop_state().readable = true;
  // Responses to requests pipelined before the upgrade, then the 101, then any WebSocket frames.
  connection->SendEncoded(http.out + response, now);
  connection->AcceptInput(http.parser.TakeRest(), now);
  connections_.erase(key);
  ConnectOrTurnAway(std::move(connection), registry_, lobby_, metrics_, now);
}

bool HttpServer::Write(uint64_t key, HttpConnection& http) {
  while (!http.out.empty()) {
    absl::StatusOr<size_t> n = http.transport->Write(http.out.data(), http.out.size());
    if (!n.ok()) {
      Close(key);
      return false;
    }
    if (*n == 0) return true;  // EPOLLOUT (edge-triggered) says when to go on
    http.out.erase(0, *n);
  }
  if (!http.close_when_written) return true;
  http.transport->ShutdownWrite();  // over TLS, close_notify first
  Close(key);
  return false;
}

void HttpServer::RestartIdleTimer(uint64_t key, HttpConnection& http) {
  if (http.idle != 0) loop_->Cancel(http.idle);
  http.idle = loop_->RunAfter(kIdle, [this, key] { Close(key); });
}

void HttpServer::Close(uint64_t key) {
  auto it = connections_.find(key);
  if (it == connections_.end()) return;
  loop_->Unwatch(it->second->transport->fd(), key);
  loop_->Cancel(it->second->idle);
  connections_.erase(it);
}

}  // namespace roomchat
