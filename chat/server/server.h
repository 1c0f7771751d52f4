// Server: owns every part of a running roomchat server and the order in which they stop.
//
//   acceptor thread --Connect--> Registry --Admit--> lobby thread <--moves--> room threads
//
// Start() binds the listening socket and starts the lobby and acceptor threads; rooms start their
// own threads as they are created. Shutdown() stops accepting, then has every place send its
// clients "BYE server-shutdown" and end, then joins every thread. See docs/ARCHITECTURE.md.
//
// Thread contract: Start(), port() and Shutdown() are for the owning thread (main, or a test).
#ifndef ROOMCHAT_CHAT_SERVER_SERVER_H_
#define ROOMCHAT_CHAT_SERVER_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "chat/server/acceptor.h"
#include "chat/server/lobby.h"
#include "chat/server/place.h"
#include "chat/server/registry.h"
#include "chat/base/thread_reaper.h"

namespace roomchat {

struct ServerOptions {
  // Address to listen on; "127.0.0.1" keeps the server local. Port 0 picks a free port.
  std::string host = "127.0.0.1";
  int port = 7070;
  // Connections at once; one more gets "BYE server-full".
  size_t max_clients = 10000;
  // Rooms at once; one more /create gets "ERR limit".
  size_t max_rooms = 2000;
  // Members of one room; one more /join gets "ERR room-full".
  size_t max_room_members = 2000;
  // Longest line accepted, terminator not counted; longer lines get "ERR line-too-long".
  size_t max_line_bytes = 4096;
  // Unsent output held for one client; past it the client is disconnected (it stopped reading).
  size_t max_outbuf_bytes = 1 << 20;
  // Unsent output held above this for outbuf_soft_s seconds disconnects the client; 0 is off.
  size_t outbuf_soft_bytes = 256 * 1024;
  int outbuf_soft_s = 10;
  // Seconds without a complete line from a client before "BYE idle-timeout"; 0 turns it off.
  int idle_timeout_s = 300;
  // Lines per second a connection may send on average, and in a burst; past them lines are dropped
  // ("ERR flood"); past flood_disconnect_after dropped lines in one flood, "BYE flood". 0 lines/s
  // turns flood control off.
  double flood_lines_per_s = 200;
  double flood_burst = 400;
  int flood_disconnect_after = 1000;
};

// OK, or InvalidArgument naming the first nonsense value.
absl::Status ValidateOptions(const ServerOptions& options);

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
  // Idempotent.
  void Shutdown();

  // For tests: connected clients and open rooms, as the registry counts them.
  const Registry& registry() const { return registry_; }
  // For tests: the acceptor, while running (null after Shutdown()).
  const Acceptor* TEST_acceptor() const { return acceptor_.get(); }

 private:
  absl::StatusOr<std::shared_ptr<Destination>> OpenRoom(const std::string& name);

  // Const after construction.
  const ServerOptions options_;

  // Owned by the owning thread; each member below is safe from any thread once started.
  Registry registry_;
  ThreadReaper reaper_;
  std::unique_ptr<Lobby> lobby_;
  PlaceContext room_context_;
  std::unique_ptr<Acceptor> acceptor_;
  std::thread lobby_thread_;
  int port_ = 0;
  bool started_ = false;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_SERVER_SERVER_H_
