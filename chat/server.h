// Server: owns every part of a running roomchat server and the order in which they stop.
//
//   acceptor threads (line port, TLS port) --Connect--> Registry --Admit--> lobby thread
//   HTTP threads (HTTP port, HTTPS port: web client, /ws) --Connect-->       <--moves--> rooms
//
// Start() binds the listening socket and starts the lobby and acceptor threads; rooms start their
// own threads as they are created. Shutdown() stops accepting, then refuses moves and new room
// threads, then has every place send its clients "BYE server-shutdown" and end, then joins every
// thread. See docs/ARCHITECTURE.md.
//
// Thread contract: Start(), port() and Shutdown() are for the owning thread (main, or a test).
#ifndef ROOMCHAT_CHAT_SERVER_H_
#define ROOMCHAT_CHAT_SERVER_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chat/accounts/account_service.h"
#include "chat/accounts/login_guard.h"
#include "chat/cluster/cluster_history.h"
#include "chat/cluster/cluster_node.h"
#include "chat/cluster/redis_account_store.h"
#include "chat/loop/socket.h"
#include "chat/loop/thread_reaper.h"
#include "chat/metrics/metrics.h"
#include "chat/net/acceptor.h"
#include "chat/options.h"
#include "chat/places/lobby.h"
#include "chat/places/place.h"
#include "chat/places/registry.h"
#include "chat/web/http_server.h"

namespace roomchat {

class Server {
 public:
  explicit Server(const ServerOptions& options);
  // Shuts down if still running.
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  absl::Status Start();
  // The port listened on (useful with port 0); valid after Start().
  int port() const { return port_; }
  // The HTTP port listened on, or -1 when it is off; valid after Start().
  int http_port() const { return http_port_; }
  // Idempotent.
  void Shutdown();
  // Reads the TLS certificate and key again for new connections (SIGHUP); OK and nothing done
  // without TLS. On failure the old ones stay in use.
  absl::Status ReloadTls();
  // The TLS port listened on, or -1 when there is none; valid after Start().
  int tls_port() const { return tls_port_; }
  // The HTTPS port listened on, or -1 when there is none; valid after Start().
  int https_port() const { return https_port_; }

  // For tests: connected clients and open rooms, as the registry counts them.
  const Registry& registry() const { return registry_; }
  // For tests: the acceptor, while running (null after Shutdown()).
  const Acceptor* TEST_acceptor() const { return acceptor_.get(); }
  // For tests: the cluster node (null when alone).
  ClusterNode* TEST_cluster() const { return cluster_.get(); }
  const LoginGuard* TEST_login_guard() const { return login_guard_.get(); }
  // For tests: the history store (null when history is off).
  HistoryStore* TEST_history() const { return history_.get(); }
  // For tests: the lobby, while running.
  const Place* TEST_lobby() const { return lobby_.get(); }
  // For tests: runs on the creating place's thread after a new room's name is reserved and
  // before its thread starts. Set before Start().
  void TEST_SetBeforeRoomStart(std::function<void()> hook) { before_room_start_ = std::move(hook); }
  // For tests, safe from any thread: whether room threads can still start.
  bool TEST_rooms_closed() const { return reaper_.closed(); }

 private:
  absl::Status StartRoom(std::shared_ptr<Place> room);
  // What the lobby and the rooms share (the lobby itself is filled in once it exists).
  PlaceContext MakePlaceContext();
  // Opens the history store and starts its thread; nothing when history is off.
  absl::Status OpenHistory();
  // Joins the cluster when --cluster_redis is given (the link thread starts; Redis may come
  // later); nothing otherwise.
  // What the cluster node tells this server (messages, lost nicks, login failures elsewhere),
  // and what the login guard tells it; cluster_ and login_guard_ exist.
  void ConnectClusterSinks();
  absl::Status JoinCluster();
  // Opens the accounts store (and, with history off, takes the data directory's lock).
  absl::Status OpenAccounts();
  // Binds the HTTP port and, with TLS, the HTTPS port, and makes their servers (not started yet);
  // nothing when the HTTP port is off.
  absl::Status CreateHttpServers();
  // One HTTP server on `port` (`*bound_port` says which), over TLS when `tls` is not null.
  absl::StatusOr<std::unique_ptr<HttpServer>> CreateHttpServer(int port, int* bound_port,
                                                               TlsContext* tls);
  // In a cluster: the accounts in Redis (RedisAccountStore), on the same accounts thread.
  absl::Status OpenClusterAccounts();
  // Loads the certificate when a TLS port or the HTTPS port will use it.
  absl::Status LoadTls();
  // Binds the TLS port and makes its acceptor; nothing without TLS.
  absl::Status CreateTlsAcceptor();

  // Const after construction.
  const ServerOptions options_;

  // Owned by the owning thread; each member below is safe from any thread once started.
  Registry registry_;
  std::unique_ptr<HistoryStore> history_;  // null when history is off
  UniqueFd data_dir_lock_;                  // held here when history is off and accounts on
  std::unique_ptr<AccountService> accounts_;  // null when accounts are off
  std::unique_ptr<LoginGuard> login_guard_;
  std::unique_ptr<ClusterNode> cluster_;  // null when this node runs alone
  std::unique_ptr<ClusterHistory> cluster_history_;  // in a cluster with history on
  ThreadReaper reaper_;
  std::unique_ptr<Lobby> lobby_;
  PlaceContext room_context_;
  std::function<void()> before_room_start_;
  std::unique_ptr<Acceptor> acceptor_;
  std::unique_ptr<TlsContext> tls_;
  std::unique_ptr<Acceptor> tls_acceptor_;
  int tls_port_ = -1;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<HttpServer> https_;
  int https_port_ = -1;
  std::atomic<ClientId> next_client_id_{1};  // shared by the acceptors and the HTTP ports
  std::atomic<bool> accepting_{false};       // what /healthz reports
  ServerMetrics metrics_;
  std::thread lobby_thread_;
  int port_ = 0;
  int http_port_ = -1;
  bool started_ = false;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_SERVER_H_
