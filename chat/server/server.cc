#include "chat/server/server.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/server/room.h"
#include "chat/base/socket.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

constexpr int kListenBacklog = 1024;

RegistryLimits LimitsOf(const ServerOptions& options) {
  return {options.max_clients, options.max_rooms, options.max_room_members};
}

}  // namespace

absl::Status ValidateOptions(const ServerOptions& options) {
  auto invalid = [](auto&&... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (options.host.empty()) return invalid("--host must not be empty");
  if (options.port < 0 || options.port > 65535) {
    return invalid("--port must be 0-65535, not ", options.port);
  }
  if (options.max_clients < 1) return invalid("--max_clients must be at least 1");
  if (options.max_rooms < 1) return invalid("--max_rooms must be at least 1");
  if (options.max_room_members < 1) return invalid("--max_room_members must be at least 1");
  if (options.max_line_bytes < 64 || options.max_line_bytes > (1 << 20)) {
    return invalid("--max_line_bytes must be 64-1048576, not ", options.max_line_bytes);
  }
  if (options.max_outbuf_bytes < 2 * options.max_line_bytes) {
    return invalid("--max_outbuf_bytes must be at least twice --max_line_bytes (",
                   2 * options.max_line_bytes, "), not ", options.max_outbuf_bytes);
  }
  if (options.idle_timeout_s < 0) {
    return invalid("--idle_timeout_s must be 0 (off) or more, not ", options.idle_timeout_s);
  }
  if (options.outbuf_soft_bytes > options.max_outbuf_bytes) {
    return invalid("--outbuf_soft_bytes must be at most --max_outbuf_bytes (",
                   options.max_outbuf_bytes, "), not ", options.outbuf_soft_bytes);
  }
  if (options.outbuf_soft_s < 0) return invalid("--outbuf_soft_s must be 0 or more");
  if (options.flood_lines_per_s < 0) {
    return invalid("--flood_lines_per_s must be 0 (off) or more, not ", options.flood_lines_per_s);
  }
  if (options.flood_lines_per_s > 0 && options.flood_burst < 1) {
    return invalid("--flood_burst must be at least 1, not ", options.flood_burst);
  }
  if (options.flood_disconnect_after < 0) {
    return invalid("--flood_disconnect_after must be 0 or more");
  }
  return absl::OkStatus();
}

Server::Server(const ServerOptions& options)
    : options_(options),
      registry_(LimitsOf(options)),
      // A room thread that has ended asks the lobby thread to join it.
      reaper_([this] { lobby_->RunInLoop([this] { reaper_.JoinFinished(); }); }) {}

Server::~Server() { Shutdown(); }

absl::Status Server::Start() {
  absl::StatusOr<UniqueFd> listen_fd = ListenTcp(options_.host, options_.port, kListenBacklog);
  if (!listen_fd.ok()) return listen_fd.status();
  absl::StatusOr<int> port = LocalPort(listen_fd->get());
  if (!port.ok()) return port.status();
  port_ = *port;

  PlaceContext context;
  context.registry = &registry_;
  context.max_line_bytes = options_.max_line_bytes;
  context.idle_timeout = std::chrono::seconds(options_.idle_timeout_s);
  context.open_room = [this](const std::string& name) { return OpenRoom(name); };
  absl::StatusOr<std::unique_ptr<Lobby>> lobby = Lobby::Create(context);
  if (!lobby.ok()) return lobby.status();
  lobby_ = *std::move(lobby);
  room_context_ = context;
  room_context_.lobby = lobby_.get();

  ClientLimits limits;
  limits.max_line_bytes = options_.max_line_bytes;
  limits.max_outbuf_bytes = options_.max_outbuf_bytes;
  limits.outbuf_soft_bytes = options_.outbuf_soft_bytes;
  limits.outbuf_soft_duration = std::chrono::seconds(options_.outbuf_soft_s);
  limits.flood = {options_.flood_lines_per_s, options_.flood_burst,
                  static_cast<uint64_t>(options_.flood_disconnect_after)};
  absl::StatusOr<std::unique_ptr<Acceptor>> acceptor =
      Acceptor::Create(*std::move(listen_fd), &registry_, lobby_.get(), limits);
  if (!acceptor.ok()) return acceptor.status();
  acceptor_ = *std::move(acceptor);

  lobby_thread_ = std::thread([this] { lobby_->Run(); });
  acceptor_->Start();
  started_ = true;
  LOG(INFO) << "listening on " << options_.host << ":" << port_ << " (max_clients "
            << options_.max_clients << ", max_rooms " << options_.max_rooms << ", max_room_members "
            << options_.max_room_members << ", max_line_bytes " << options_.max_line_bytes
            << ", max_outbuf_bytes " << options_.max_outbuf_bytes << ", idle_timeout_s "
            << options_.idle_timeout_s << ")";
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Destination>> Server::OpenRoom(const std::string& name) {
  absl::StatusOr<std::shared_ptr<Room>> room = Room::Create(room_context_, name);
  if (!room.ok()) return room.status();
  reaper_.Spawn([room = *room, name] {
    room->Run();
    LOG(INFO) << "room " << name << " closed";
  });
  return std::shared_ptr<Destination>(*std::move(room));
}

void Server::Shutdown() {
  if (!started_) return;
  started_ = false;
  LOG(INFO) << "shutting down: " << registry_.client_count() << " clients, "
            << registry_.room_count() << " rooms";
  // No new clients; then no moves between places, so every client is where its place will find it.
  acceptor_.reset();  // Joins its thread and closes the listening socket.
  for (const std::shared_ptr<Destination>& room : registry_.BeginShutdown()) room->Stop();
  lobby_->Stop();
  reaper_.JoinAll();
  lobby_thread_.join();
  LOG(INFO) << "shut down";
}

}  // namespace roomchat
