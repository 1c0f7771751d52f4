#include "chat/server.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "chat/history/data_dir.h"
#include "chat/history/recent_lines.h"
#include "chat/loop/socket.h"
#include "chat/places/room.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

constexpr int kListenBacklog = 1024;

// Listens on host:port and says which port that is (port 0 picks one).
absl::StatusOr<UniqueFd> Listen(const std::string& host, int port, int* bound_port) {
  absl::StatusOr<UniqueFd> listen_fd = ListenTcp(host, port, kListenBacklog);
  if (!listen_fd.ok()) return listen_fd.status();
  absl::StatusOr<int> bound = LocalPort(listen_fd->get());
  if (!bound.ok()) return bound.status();
  *bound_port = *bound;
  return listen_fd;
}

// HOST:PORT of the line port; a wildcard host is the same on every machine, so the machine's
// name stands for it.
std::string DefaultNodeId(const std::string& host, int port) {
  if (host != "0.0.0.0" && host != "::" && !host.empty()) return absl::StrCat(host, ":", port);
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) name[0] = '\0';
  return absl::StrCat(name[0] != '\0' ? name : "node", ":", port);
}

}  // namespace

Server::Server(const ServerOptions& options)
    : options_(options),
      registry_(RegistryLimitsOf(options)),
      // A room thread that has ended asks the lobby thread to join it.
      reaper_([this] { lobby_->RunInLoop([this] { reaper_.JoinFinished(); }); }) {}

Server::~Server() { Shutdown(); }

PlaceContext Server::MakePlaceContext() {
  PlaceContext context;
  context.accounts = accounts_.get();
  context.login_guard = login_guard_.get();
  context.cluster = cluster_.get();
  context.allow_plaintext_auth = options_.allow_plaintext_auth;
  context.plaintext_auth_from_loopback = options_.plaintext_auth_from_loopback;
  context.registry = &registry_;
  context.history = history_ != nullptr ? static_cast<HistoryService*>(history_.get())
                                         : cluster_history_.get();
  context.history_on_join = options_.history_on_join;
  context.history_reply_bytes = HistoryReplyBytes(options_);
  context.history_retention_ms = RetentionMs(options_.history_max_days);
  context.metrics = &metrics_;
  context.max_line_bytes = options_.max_line_bytes;
  context.idle_timeout = std::chrono::seconds(options_.idle_timeout_s);
  context.make_room = [this](const std::string& name) -> absl::StatusOr<std::shared_ptr<Place>> {
    absl::StatusOr<std::shared_ptr<Room>> room = Room::Create(room_context_, name);
    if (!room.ok()) return room.status();
    return std::shared_ptr<Place>(*std::move(room));
  };
  context.start_room = [this](std::shared_ptr<Place> room) { return StartRoom(std::move(room)); };
  return context;
}

absl::Status Server::Start() {
  absl::StatusOr<UniqueFd> listen_fd = Listen(options_.host, options_.port, &port_);
  if (!listen_fd.ok()) return listen_fd.status();

  if (absl::Status history = OpenHistory(); !history.ok()) return history;
  if (absl::Status accounts = OpenAccounts(); !accounts.ok()) return accounts;
  if (absl::Status cluster = JoinCluster(); !cluster.ok()) return cluster;
  PlaceContext context = MakePlaceContext();
  absl::StatusOr<std::unique_ptr<Lobby>> lobby = Lobby::Create(context);
  if (!lobby.ok()) return lobby.status();
  lobby_ = *std::move(lobby);
  room_context_ = context;
  room_context_.lobby = lobby_.get();

  absl::StatusOr<std::unique_ptr<Acceptor>> acceptor =
      Acceptor::Create(*std::move(listen_fd), &registry_, lobby_.get(),
                       ConnectionLimitsOf(options_), &next_client_id_, &metrics_);
  if (!acceptor.ok()) return acceptor.status();
  acceptor_ = *std::move(acceptor);
  if (absl::Status tls = LoadTls(); !tls.ok()) return tls;
  if (absl::Status http = CreateHttpServers(); !http.ok()) return http;
  if (absl::Status tls = CreateTlsAcceptor(); !tls.ok()) return tls;

  lobby_thread_ = std::thread([this] { lobby_->Run(); });
  acceptor_->Start();
  if (tls_acceptor_ != nullptr) tls_acceptor_->Start();
  if (http_ != nullptr) http_->Start();
  if (https_ != nullptr) https_->Start();
  accepting_ = true;
  started_ = true;
  LOG(INFO) << "listening on " << options_.host << ":" << port_ << " (max_clients "
            << options_.max_clients << ", max_rooms " << options_.max_rooms << ", max_room_members "
            << options_.max_room_members << ", max_line_bytes " << options_.max_line_bytes
            << ", max_outbuf_bytes " << options_.max_outbuf_bytes << ", idle_timeout_s "
            << options_.idle_timeout_s << ")";
  if (http_ != nullptr) LOG(INFO) << "serving HTTP on " << options_.host << ":" << http_port_;
  if (tls_acceptor_ != nullptr) {
    LOG(INFO) << "listening for TLS on " << options_.host << ":" << tls_port_ << " (certificate "
              << options_.tls_cert << ")";
  }
  if (https_ != nullptr) {
    LOG(INFO) << "serving HTTPS on " << options_.host << ":" << https_port_ << " (certificate "
              << options_.tls_cert << ")";
  }
  return absl::OkStatus();
}

absl::Status Server::OpenHistory() {
  // A cluster's history is in Redis (JoinCluster()).
  if (!options_.history || !options_.cluster_redis.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<HistoryStore>> store = HistoryStore::Open(
      HistoryStoreOptionsOf(options_), [this](uint64_t client, const StoredLine& line) {
        registry_.ForwardPrivate(client, replies::Ack(line.room, line.id));
      });
  if (!store.ok()) return store.status();
  history_ = *std::move(store);
  if (absl::Status started = history_->Start(); !started.ok()) return started;
  LOG(INFO) << "history in " << options_.data_dir << " (sync " << options_.history_sync
            << ", " << options_.history_max_lines << " lines per room, "
            << options_.history_max_days << " days)";
  return absl::OkStatus();
}

void Server::ConnectClusterSinks() {
  cluster_->SetNodeMessageSink([this](uint64_t client, const std::string& line) {
    registry_.ForwardPrivate(client, line);  // gone meanwhile: as on one node
  });
  registry_.SetGuestNumbers([this] { return cluster_->NextGuestNumber(); });
  cluster_->SetHoldings(
      [this] {
        std::vector<cluster::Registration> held;
        for (Registry::Placement& client : registry_.Placements()) {
          held.push_back({client.id, std::move(client.nick), std::move(client.room_key),
                          std::move(client.room_name), "", std::move(client.account),
                          std::move(client.address)});
        }
        return held;
      },
      [this](uint64_t client, const std::string& nick) {
        registry_.RunWhereClientIs(
            client, Place::ClusterNickLost(nick, "another client took the nick while this server "
                                                 "was cut off from the cluster"));
      });
  // The per-address login throttle counts every node's failures (login_guard_ is made first).
  cluster_->SetLoginFailureSink([this](const std::string& address) {
    login_guard_->FailedElsewhere(address, LoginGuard::Clock::now());
  });
  login_guard_->SetShare([node = cluster_.get()](const std::string& address) {
    node->ShareLoginFailure(address);
  });
  cluster_->SetDataLostSink([this] { registry_.ForgetAccounts(); });
  cluster_->SetNickTakenSink([this](const std::string& nick_key) {
    ClientId holder = registry_.IdOf(nick_key);
    if (holder == 0) return;  // gone meanwhile
    // Named as the holder had it, as one node names it (the key is the nick in lower case).
    std::string shown = registry_.NickOf(holder);
    if (shown.empty()) shown = nick_key;
    registry_.RunWhereClientIs(
        holder, Place::ClusterNickLost(nick_key, absl::StrCat("someone logged in to the account ",
                                                              shown)));
  });
}

absl::Status Server::JoinCluster() {
  if (options_.cluster_redis.empty()) return absl::OkStatus();
  absl::StatusOr<std::pair<std::string, int>> redis = ParseHostPort(options_.cluster_redis);
  if (!redis.ok()) return redis.status();
  ClusterNodeOptions cluster;
  cluster.redis.host = redis->first;
  cluster.redis.port = redis->second;
  cluster.node_id = options_.node_id.empty() ? DefaultNodeId(options_.host, port_)
                                             : options_.node_id;
  cluster.node_ttl = std::chrono::seconds(options_.cluster_node_ttl_s);
  // Without history a room's stream is only the recent entries' buffer.
  constexpr size_t kEntriesWithoutHistory = 1000;
  cluster.max_stream_entries =
      options_.history ? options_.history_max_lines : kEntriesWithoutHistory;
  cluster.stream_retention_ms =
      options_.history ? RetentionMs(options_.history_max_days) : cluster::kNoHistory;
  if (options_.history) cluster.redis.scripts = ClusterHistory::Scripts();
  cluster.max_rooms = options_.max_rooms;
  cluster.max_room_members = options_.max_room_members;
  absl::StatusOr<std::unique_ptr<ClusterNode>> node = ClusterNode::Create(cluster);
  if (!node.ok()) return node.status();
  cluster_ = *std::move(node);
  if (options_.history) {
    cluster_history_ =
        std::make_unique<ClusterHistory>(&cluster_->link(), options_.history_max_days,
                                         options_.history_max_lines);
  }
  ConnectClusterSinks();
  LOG(INFO) << "cluster: node " << cluster.node_id << " with Redis at " << options_.cluster_redis
            << " (node TTL " << options_.cluster_node_ttl_s
            << " s); history " << (options_.history ? "in Redis" : "off");
  if (absl::Status started = cluster_->Start(); !started.ok()) return started;
  // Clients that came before the node is in the cluster would be refused its commands.
  constexpr absl::Duration kJoinWait = absl::Seconds(5);
  if (!cluster_->WaitUntilJoined(kJoinWait)) {
    LOG(WARNING) << "cluster: Redis at " << options_.cluster_redis << " has not answered in "
                 << absl::FormatDuration(kJoinWait)
                 << "; serving now, cluster-wide commands refused until it does";
  }
  return absl::OkStatus();
}

absl::Status Server::OpenAccounts() {
  login_guard_ = std::make_unique<LoginGuard>(LoginThrottleOptionsOf(options_, false),
                                              LoginThrottleOptionsOf(options_, true));
  if (!options_.accounts) return absl::OkStatus();
  if (!options_.cluster_redis.empty()) return OpenClusterAccounts();
  if (history_ == nullptr) {  // else the history store holds the directory
    if (absl::Status made = MakeDataDir(options_.data_dir); !made.ok()) return made;
    absl::StatusOr<int> lock = LockDataDir(options_.data_dir);
    if (!lock.ok()) return lock.status();
    data_dir_lock_ = UniqueFd(*lock);
  }
  absl::StatusOr<std::unique_ptr<AccountService>> accounts =
      AccountService::Open(AccountServiceOptions{options_.data_dir});
  if (!accounts.ok()) return accounts.status();
  accounts_ = *std::move(accounts);
  registry_.AddAccounts(accounts_->account_keys());
  registry_.AddRegisteredRooms(accounts_->rooms());
  if (absl::Status started = accounts_->Start(); !started.ok()) return started;
  LOG(INFO) << "accounts in " << options_.data_dir << ": " << accounts_->account_keys().size()
            << " accounts, " << accounts_->rooms().size() << " registered rooms";
  return absl::OkStatus();
}

absl::Status Server::OpenClusterAccounts() {
  absl::StatusOr<std::pair<std::string, int>> redis = ParseHostPort(options_.cluster_redis);
  if (!redis.ok()) return redis.status();
  absl::StatusOr<std::unique_ptr<AccountService>> accounts = AccountService::Create(
      AccountServiceOptions{}, std::make_unique<RedisAccountStore>(redis->first, redis->second));
  if (!accounts.ok()) return accounts.status();
  accounts_ = *std::move(accounts);
  registry_.AddAccounts(accounts_->account_keys());
  if (absl::Status started = accounts_->Start(); !started.ok()) return started;
  LOG(INFO) << "accounts in Redis at " << options_.cluster_redis << ": "
            << accounts_->account_keys().size() << " accounts";
  return absl::OkStatus();
}

absl::Status Server::LoadTls() {
  if (options_.tls_cert.empty() || (options_.tls_port < 0 && !HttpsOn(options_))) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<TlsContext>> tls =
      TlsContext::Load(options_.tls_cert, options_.tls_key);
  if (!tls.ok()) return tls.status();
  tls_ = *std::move(tls);
  return absl::OkStatus();
}

absl::Status Server::CreateTlsAcceptor() {
  if (tls_ == nullptr || options_.tls_port < 0) return absl::OkStatus();
  absl::StatusOr<UniqueFd> listen_fd = Listen(options_.host, options_.tls_port, &tls_port_);
  if (!listen_fd.ok()) return listen_fd.status();
  absl::StatusOr<std::unique_ptr<Acceptor>> acceptor = Acceptor::Create(
      *std::move(listen_fd), &registry_, lobby_.get(), ConnectionLimitsOf(options_),
      &next_client_id_, &metrics_,
      TlsAccepting{tls_.get(), std::chrono::seconds(options_.tls_handshake_timeout_s)});
  if (!acceptor.ok()) return acceptor.status();
  tls_acceptor_ = *std::move(acceptor);
  return absl::OkStatus();
}

absl::Status Server::ReloadTls() {
  if (tls_ == nullptr) return absl::OkStatus();
  absl::Status reloaded = tls_->Reload();
  if (reloaded.ok()) LOG(INFO) << "reloaded the TLS certificate " << options_.tls_cert;
  return reloaded;
}

absl::Status Server::CreateHttpServers() {
  if (options_.http_port < 0) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<HttpServer>> http =
      CreateHttpServer(options_.http_port, &http_port_, nullptr);
  if (!http.ok()) return http.status();
  http_ = *std::move(http);
  if (!HttpsOn(options_)) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<HttpServer>> https =
      CreateHttpServer(options_.https_port, &https_port_, tls_.get());
  if (!https.ok()) return https.status();
  https_ = *std::move(https);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<HttpServer>> Server::CreateHttpServer(int port, int* bound_port,
                                                                     TlsContext* tls) {
  absl::StatusOr<UniqueFd> listen_fd = Listen(options_.host, port, bound_port);
  if (!listen_fd.ok()) return listen_fd.status();
  return HttpServer::Create(
      *std::move(listen_fd),
      HttpRoutes(WebOptionsOf(options_, /*tls=*/tls != nullptr), &accepting_,
                 [this] { return metrics_.Render(registry_.room_count()); }),
      &registry_, lobby_.get(), ConnectionLimitsOf(options_), &next_client_id_, &metrics_,
      TlsAccepting{tls, std::chrono::seconds(options_.tls_handshake_timeout_s)});
}

absl::Status Server::StartRoom(std::shared_ptr<Place> room) {
  if (before_room_start_) before_room_start_();
  return reaper_.Spawn([room = std::move(room)] { room->Run(); });
}

void Server::Shutdown() {
  if (!started_) return;
  started_ = false;
  LOG(INFO) << "shutting down: " << registry_.client_count() << " clients, "
            << registry_.room_count() << " rooms";
  // No new clients; then no moves between places and no new room threads, so every client is
  // where its place will find it and every room thread that will ever run is running now.
  accepting_ = false;
  acceptor_.reset();  // Joins its thread and closes the listening socket.
  tls_acceptor_.reset();
  http_.reset();  // Likewise; WebSocket clients already belong to their places.
  https_.reset();
  std::vector<std::shared_ptr<Destination>> rooms = registry_.BeginShutdown();
  reaper_.Close();
  for (const std::shared_ptr<Destination>& room : rooms) room->Stop();
  lobby_->Stop();
  reaper_.JoinAll();
  lobby_thread_.join();
  if (history_ != nullptr) history_->Stop();  // commits what the rooms handed it
  if (accounts_ != nullptr) accounts_->Stop();  // stores the rooms' last settings
  if (cluster_ != nullptr) cluster_->Stop();  // after the places told Redis their clients left
  LOG(INFO) << "shut down";
}

}  // namespace roomchat
