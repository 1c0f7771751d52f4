// ServerOptions: every setting of a roomchat server, each default written once, here. main()
// binds its flags to these fields (the flag defaults are read from a default ServerOptions), and
// the parts of the server get the limits derived from them.
//
// Pure; safe from any thread.
#ifndef ROOMCHAT_CHAT_OPTIONS_H_
#define ROOMCHAT_CHAT_OPTIONS_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/accounts/login_throttle.h"
#include "chat/history/history_store.h"
#include "chat/net/connection.h"
#include "chat/places/registry.h"
#include "chat/web/http_routes.h"

namespace roomchat {

struct ServerOptions {
  // Address to listen on; "127.0.0.1" keeps the server local. Port 0 picks a free port.
  std::string host = "127.0.0.1";
  int port = 7070;
  // The HTTP port on `host`: the web client, /ws (WebSocket clients), /healthz. 0 picks a free
  // port; -1 turns it off.
  int http_port = 8080;
  // Serve the web client from this folder instead of the copy compiled in; empty: the copy.
  std::string web_root;
  // Comma-separated origins allowed to open /ws (e.g. "https://chat.example.org"); empty: the
  // server's own origin only.
  std::string http_allowed_origins;
  // Connections at once; one more gets "BYE server-full".
  size_t max_clients = 10000;
  // Rooms at once; one more /create gets "ERR limit".
  size_t max_rooms = 2000;
  // Members of one room; one more /join gets "ERR room-full".
  size_t max_room_members = 2000;
  // Longest line accepted, terminator not counted; longer lines get "ERR line-too-long".
  size_t max_line_bytes = 4096;
  // Unsent output held for one client; past it the client is disconnected (it stopped reading).
  // At least twice the largest reply the other options allow (LargestReplyBytes()).
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
  // TLS (docs/SECURITY.md): with both PEM files, the line protocol over TLS on tls_port and, when
  // the HTTP port is on, the web client and wss:// on https_port (each: 0 picks a free port; -1
  // turns it off), handshakes cut after tls_handshake_timeout_s. The plain ports stay as they are
  // (--port=-1 is not allowed; keep it on loopback to require TLS from outside).
  std::string tls_cert;
  std::string tls_key;
  int tls_port = 7443;
  int https_port = 8443;
  int tls_handshake_timeout_s = 10;
  // History (docs/HISTORY.md): chat lines kept in an embedded SQLite store under data_dir (relative
  // to the working directory), replayed on join, read back with /history and /join since=ID.
  bool history = true;
  std::string data_dir = "roomchat-data";
  // SQLite's synchronous setting: "full", "normal" or "off" (what each can lose: docs/HISTORY.md).
  std::string history_sync = "normal";
  // Lines a join replays (to clients that asked for replay); 0: none.
  size_t history_on_join = 20;
  // Retention: lines kept per room, and days a line is kept (0: no limit by age).
  size_t history_max_lines = 10000;
  int history_max_days = 30;
  // Lines waiting for the disk at most; past it lines are left out of the store (logged).
  size_t history_queue_lines = 100000;
  // Accounts and the settings of registered rooms (docs/PROTOCOL.md, "Accounts and moderation"),
  // kept in the same store under data_dir; false: /register and /login get ERR unavailable.
  bool accounts = true;
  // Passwords are taken over TLS, and from loopback addresses when plaintext_auth_from_loopback
  // (turn that off behind a proxy on the same machine: every client would look local); over any
  // connection with allow_plaintext_auth.
  bool allow_plaintext_auth = false;
  bool plaintext_auth_from_loopback = true;
  // Failed logins: free ones per connection and per address, then waits doubling from
  // login_first_delay_s up to login_max_delay_s.
  size_t login_free_failures_per_connection = 3;
  size_t login_free_failures_per_address = 10;
  int login_first_delay_s = 1;
  int login_max_delay_s = 60;
  // The cluster (docs/CLUSTER.md): HOST:PORT of the Redis shared by the nodes; empty: alone.
  std::string cluster_redis;
  // This node's name in the cluster (unique, no spaces); empty: HOST:PORT of the line port.
  std::string node_id;
  // A node that stops beating is reaped (its members leave, its nicks are freed) within this.
  int cluster_node_ttl_s = 15;
};

// "HOST:PORT" split (InvalidArgument if it is not that).
absl::StatusOr<std::pair<std::string, int>> ParseHostPort(absl::string_view address);

// OK, or InvalidArgument naming the first nonsense value.
absl::Status ValidateOptions(const ServerOptions& options);

// The most bytes one reply can put in a client's output at once with these options: the longest
// of a chat line between the longest names, /help, and /rooms or /who at their limits.
size_t LargestReplyBytes(const ServerOptions& options);

// Unsent output above which a place stops taking the input that would add to it (flow control,
// docs/RELIABILITY.md): the soft cap when there is one, and always room for one more reply under
// the hard cap.
size_t HighWaterBytes(const ServerOptions& options);

// At most this much history is queued for one client at once (a replay, a /history answer, a
// page of a catch-up): a quarter of the hard output cap, at most 128 KiB, and always one line.
size_t HistoryReplyBytes(const ServerOptions& options);
// The store's settings; history_sync must be valid (ValidateOptions).
HistoryStoreOptions HistoryStoreOptionsOf(const ServerOptions& options);

// Whether these options serve HTTPS: a certificate, the HTTP port on and https_port not -1.
bool HttpsOn(const ServerOptions& options);

ConnectionLimits ConnectionLimitsOf(const ServerOptions& options);
// The failed-login slowdown per connection (`per_address` false) or per source address.
LoginThrottleOptions LoginThrottleOptionsOf(const ServerOptions& options, bool per_address);
// The HTTP port's web options; `tls` for the HTTPS port's.
WebOptions WebOptionsOf(const ServerOptions& options, bool tls = false);
RegistryLimits RegistryLimitsOf(const ServerOptions& options);

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_OPTIONS_H_
