// chat_server: reads the flags once into ServerOptions, starts the Server, and waits for SIGINT or
// SIGTERM, which shut it down cleanly (every client gets "BYE server-shutdown", every thread is
// joined).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "chat/server.h"
#include "gflags/gflags.h"
#include "glog/logging.h"

DEFINE_string(host, "127.0.0.1", "Address to listen on (an IP literal or a host name).");
DEFINE_int32(port, 7070, "TCP port to listen on; 0 picks a free port.");
DEFINE_uint64(max_clients, 10000, "Connections at once; one more gets 'BYE server-full'.");
DEFINE_uint64(max_rooms, 2000, "Rooms at once; one more /create gets 'ERR limit'.");
DEFINE_uint64(max_room_members, 2000, "Members per room; one more /join gets 'ERR room-full'.");
DEFINE_uint64(max_line_bytes, 4096,
              "Longest line accepted, terminator not counted; longer gets 'ERR line-too-long'.");
DEFINE_uint64(max_outbuf_bytes, 1 << 20,
              "Unsent output held per client; a client past it (it stopped reading) is "
              "disconnected and logged.");
DEFINE_int32(idle_timeout_s, 0,
             "Seconds without a byte from a client before 'BYE idle-timeout'; 0 turns it off.");

namespace {

roomchat::ServerOptions OptionsFromFlags() {
  roomchat::ServerOptions options;
  options.host = FLAGS_host;
  options.port = FLAGS_port;
  options.max_clients = FLAGS_max_clients;
  options.max_rooms = FLAGS_max_rooms;
  options.max_room_members = FLAGS_max_room_members;
  options.max_line_bytes = FLAGS_max_line_bytes;
  options.max_outbuf_bytes = FLAGS_max_outbuf_bytes;
  options.idle_timeout_s = FLAGS_idle_timeout_s;
  return options;
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

  // Every thread inherits this mask, so the signals are taken only by sigwait() below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  LOG(INFO) << "roomchat server starting";
  roomchat::Server server(options);
  if (absl::Status started = server.Start(); !started.ok()) {
    LOG(ERROR) << "cannot start: " << started;
    std::fprintf(stderr, "chat_server: %s\n", std::string(started.message()).c_str());
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LOG(INFO) << "received " << strsignal(signal_number);
  server.Shutdown();
  return 0;
}
