// chat_server: reads the flags once into ServerOptions, starts the Server, and waits for SIGINT or
// SIGTERM, which shut it down cleanly (every client gets "BYE server-shutdown", every thread is
// joined).
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "chat/options.h"
#include "chat/server.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

// Every default is read from a default ServerOptions (chat/options.h), where it is written once.
namespace {
const roomchat::ServerOptions kDefaults;
}  // namespace

DEFINE_string(host, kDefaults.host, "Address to listen on (an IP literal or a host name).");
DEFINE_int32(port, kDefaults.port, "TCP port to listen on; 0 picks a free port.");
DEFINE_int32(http_port, kDefaults.http_port,
             "HTTP port (web client, /ws WebSocket clients, /healthz); 0 picks a free port, -1 is "
             "off.");
DEFINE_string(web_root, kDefaults.web_root,
              "Serve the web client from this folder instead of the copy built in.");
DEFINE_string(http_allowed_origins, kDefaults.http_allowed_origins,
              "Comma-separated origins allowed to open /ws; empty: the server's own origin only.");
DEFINE_uint64(max_clients, kDefaults.max_clients,
              "Connections at once; one more gets 'BYE server-full'.");
DEFINE_uint64(max_rooms, kDefaults.max_rooms, "Rooms at once; one more /create gets 'ERR limit'.");
DEFINE_uint64(max_room_members, kDefaults.max_room_members,
              "Members per room; one more /join gets 'ERR room-full'.");
DEFINE_uint64(max_line_bytes, kDefaults.max_line_bytes,
              "Longest line accepted, terminator not counted; longer gets 'ERR line-too-long'.");
DEFINE_uint64(max_outbuf_bytes, kDefaults.max_outbuf_bytes,
              "Unsent output held per client; a client past it (it stopped reading) is "
              "disconnected and logged.");
DEFINE_uint64(
    outbuf_soft_bytes, kDefaults.outbuf_soft_bytes,
    "Unsent output held above this for --outbuf_soft_s disconnects the client; 0 is off.");
DEFINE_int32(outbuf_soft_s, kDefaults.outbuf_soft_s, "See --outbuf_soft_bytes.");
DEFINE_int32(idle_timeout_s, kDefaults.idle_timeout_s,
             "Seconds without a complete line from a client before 'BYE idle-timeout'; 0 is off.");
DEFINE_double(flood_lines_per_s, kDefaults.flood_lines_per_s,
              "Lines per second one connection may send on average; over it lines are dropped "
              "with 'ERR flood'. 0 turns flood control off.");
DEFINE_double(flood_burst, kDefaults.flood_burst,
              "Lines one connection may send at once before the rate applies.");
DEFINE_string(tls_cert, kDefaults.tls_cert,
              "PEM certificate chain; with --tls_key, serves the line protocol over TLS on "
              "--tls_port and, when the HTTP port is on, the web client and wss:// on "
              "--https_port (tools/make_cert.sh makes a self-signed one for local use).");
DEFINE_string(tls_key, kDefaults.tls_key, "PEM private key of --tls_cert.");
DEFINE_int32(tls_port, kDefaults.tls_port,
             "TLS port for the line protocol (with --tls_cert/--tls_key); 0 picks, -1 is off.");
DEFINE_int32(https_port, kDefaults.https_port,
             "HTTPS port: the web client and wss:// (with --tls_cert/--tls_key and the HTTP port "
             "on); 0 picks, -1 is off.");
DEFINE_int32(tls_handshake_timeout_s, kDefaults.tls_handshake_timeout_s,
             "Seconds a TLS handshake may take before the connection is cut.");
DEFINE_bool(history, kDefaults.history,
            "Keep chat lines in an embedded store: replay on join, /history, /join ROOM since=ID "
            "(docs/HISTORY.md); --history=false keeps nothing.");
DEFINE_string(data_dir, kDefaults.data_dir,
              "Folder of the history store (created if missing); relative to the working "
              "directory (under 'bazel run', the folder bazel was run from).");
DEFINE_string(history_sync, kDefaults.history_sync,
              "full, normal or off: SQLite's synchronous setting. full and normal lose no "
              "acknowledged line to a killed process; normal may lose the last commits to a power "
              "loss; off may lose more.");
DEFINE_uint64(history_on_join, kDefaults.history_on_join,
              "Lines replayed on /join and /create to clients that asked for replay.");
DEFINE_uint64(history_max_lines, kDefaults.history_max_lines, "Lines kept per room.");
DEFINE_int32(history_max_days, kDefaults.history_max_days,
             "Days a line is kept; 0 keeps lines whatever their age.");
DEFINE_uint64(history_queue_lines, kDefaults.history_queue_lines,
              "Lines waiting for the disk at most; past it lines are delivered but left out of "
              "the store (logged).");
DEFINE_bool(accounts, kDefaults.accounts,
            "Accounts (/register, /login) and registered rooms' settings, kept in the store under "
            "--data_dir (docs/PROTOCOL.md, \"Accounts and moderation\").");
DEFINE_bool(allow_plaintext_auth, kDefaults.allow_plaintext_auth,
            "Take passwords over plain-text connections from anywhere (by default only over TLS "
            "and from loopback addresses).");
DEFINE_bool(plaintext_auth_from_loopback, kDefaults.plaintext_auth_from_loopback,
            "Take passwords over plain text from loopback addresses; turn off behind a proxy on "
            "this machine, which makes every client look local.");
DEFINE_uint64(login_free_failures_per_connection, kDefaults.login_free_failures_per_connection,
              "Failed logins a connection may make before it must wait.");
DEFINE_uint64(login_free_failures_per_address, kDefaults.login_free_failures_per_address,
              "Failed logins an address may make before it must wait.");
DEFINE_int32(login_first_delay_s, kDefaults.login_first_delay_s,
             "The first wait after the free failed logins; it doubles with each further one.");
DEFINE_int32(login_max_delay_s, kDefaults.login_max_delay_s,
             "The longest wait between failed logins.");
DEFINE_int32(flood_disconnect_after, kDefaults.flood_disconnect_after,
             "Lines dropped in one flood before the client gets 'BYE flood' and is closed.");
DEFINE_string(cluster_redis, kDefaults.cluster_redis,
              "HOST:PORT of the Redis that joins this node to a cluster of roomchat nodes "
              "(docs/CLUSTER.md); empty: run alone.");
DEFINE_string(node_id, kDefaults.node_id,
              "This node's name in the cluster, unique, one word; empty: HOST:PORT of --port.");
DEFINE_int32(cluster_node_ttl_s, kDefaults.cluster_node_ttl_s,
             "A node that stops beating (killed, cut off from Redis) is reaped within this many "
             "seconds: its members leave their rooms, its nicks are freed.");

namespace {

roomchat::ServerOptions OptionsFromFlags() {
  roomchat::ServerOptions options;
  options.host = FLAGS_host;
  options.port = FLAGS_port;
  options.http_port = FLAGS_http_port;
  options.web_root = FLAGS_web_root;
  options.http_allowed_origins = FLAGS_http_allowed_origins;
  options.max_clients = FLAGS_max_clients;
  options.max_rooms = FLAGS_max_rooms;
  options.max_room_members = FLAGS_max_room_members;
  options.max_line_bytes = FLAGS_max_line_bytes;
  options.max_outbuf_bytes = FLAGS_max_outbuf_bytes;
  options.outbuf_soft_bytes = FLAGS_outbuf_soft_bytes;
  options.outbuf_soft_s = FLAGS_outbuf_soft_s;
  options.idle_timeout_s = FLAGS_idle_timeout_s;
  options.flood_lines_per_s = FLAGS_flood_lines_per_s;
  options.flood_burst = FLAGS_flood_burst;
  options.flood_disconnect_after = FLAGS_flood_disconnect_after;
  options.tls_cert = FLAGS_tls_cert;
  options.tls_key = FLAGS_tls_key;
  options.tls_port = FLAGS_tls_port;
  options.https_port = FLAGS_https_port;
  options.tls_handshake_timeout_s = FLAGS_tls_handshake_timeout_s;
  options.history = FLAGS_history;
  options.data_dir = FLAGS_data_dir;
  // Under 'bazel run' the working directory is the runfiles tree; the user's is this one.
  const char* user_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (!options.data_dir.empty() && options.data_dir[0] != '/' && user_dir != nullptr) {
    options.data_dir = std::string(user_dir) + "/" + options.data_dir;
  }
  options.history_sync = FLAGS_history_sync;
  options.history_on_join = FLAGS_history_on_join;
  options.history_max_lines = FLAGS_history_max_lines;
  options.history_max_days = FLAGS_history_max_days;
  options.history_queue_lines = FLAGS_history_queue_lines;
  options.accounts = FLAGS_accounts;
  options.allow_plaintext_auth = FLAGS_allow_plaintext_auth;
  options.plaintext_auth_from_loopback = FLAGS_plaintext_auth_from_loopback;
  options.login_free_failures_per_connection = FLAGS_login_free_failures_per_connection;
  options.login_free_failures_per_address = FLAGS_login_free_failures_per_address;
  options.login_first_delay_s = FLAGS_login_first_delay_s;
  options.login_max_delay_s = FLAGS_login_max_delay_s;
  options.cluster_redis = FLAGS_cluster_redis;
  options.node_id = FLAGS_node_id;
  options.cluster_node_ttl_s = FLAGS_cluster_node_ttl_s;
  return options;
}

// Raises the open-file limit to what the system allows: every client is a descriptor, every room
// two (its epoll instance and eventfd).
void RaiseFileLimit(size_t max_clients, size_t max_rooms) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (limit.rlim_cur != before && setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    limit.rlim_cur = before;
  }
  LOG(INFO) << "open file limit " << limit.rlim_cur
            << (limit.rlim_cur != before ? " (raised from " + std::to_string(before) + ")" : "");
  rlim_t needed = max_clients + 2 * max_rooms + 64;
  if (limit.rlim_cur < needed) {
    LOG(WARNING) << "open file limit " << limit.rlim_cur << " is below the " << needed
                 << " that --max_clients and --max_rooms may need; accepting will pause when "
                    "descriptors run out";
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Logs go to stderr unless the operator asks for files (--logtostderr=false --log_dir=...).
  FLAGS_logtostderr = true;
  gflags::SetUsageMessage("roomchat server: multi-room chat over TCP. See docs/PROTOCOL.md.");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);

  roomchat::ServerOptions options = OptionsFromFlags();
  if (absl::Status valid = roomchat::ValidateOptions(options); !valid.ok()) {
    std::fprintf(stderr, "chat_server: %s\n", std::string(valid.message()).c_str());
    return 2;
  }

  // A write to a connection the client has closed must be an error, not the end of the server:
  // TCP sends say MSG_NOSIGNAL, but OpenSSL writes with write(2).
  signal(SIGPIPE, SIG_IGN);

  // Every thread inherits this mask, so the signals are taken only by sigwait() below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  LOG(INFO) << "roomchat server starting";
  RaiseFileLimit(options.max_clients, options.max_rooms);
  roomchat::Server server(options);
  if (absl::Status started = server.Start(); !started.ok()) {
    LOG(ERROR) << "cannot start: " << started;
    std::fprintf(stderr, "chat_server: %s\n", std::string(started.message()).c_str());
    return 1;
  }
  while (true) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    LOG(INFO) << "received " << strsignal(signal_number);
    if (signal_number != SIGHUP) break;
    // SIGHUP: a renewed certificate for new TLS connections; existing ones keep theirs.
    if (absl::Status reloaded = server.ReloadTls(); !reloaded.ok()) {
      LOG(ERROR) << "kept the old TLS certificate: " << reloaded;
    }
  }
  server.Shutdown();
  return 0;
}
