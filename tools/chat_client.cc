// chat_client: a terminal client for roomchat.
//
//   bazel run //tools:chat_client -- --nick alice --room lounge
//
// Interactive when stdin and stdout are terminals: a line editor with history, a "nick@room> "
// prompt, incoming lines printed above what is being typed. Otherwise script mode: lines are read
// from stdin and sent, what arrives is printed in the same friendly form, and at the end of input
// the client sends /quit and exits once the server says BYE (or after a short grace period).
//
// History: the client asks the server for tags and replay, so a room's recent lines are shown dimmed
// with their time when joining, and /history scrolls back. When the connection is lost (or the server
// shuts down) it reconnects by itself with backoff (--reconnect: by default when interactive) and
// rejoins its room with "since=" the last line it saw, so the person misses nothing.
//
// Exit codes: 0 normal end, 2 cannot connect, 3 connection lost (or closed by the server) and not
// reconnecting.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "chat/client/line_connection.h"
#include "chat/client/session.h"
#include "gflags/gflags.h"
#include "tools/chat_app.h"
#include "tools/line_editor.h"
#include "tools/render.h"

DEFINE_string(host, "127.0.0.1", "Server to connect to.");
DEFINE_int32(port, 7070, "Server port.");
DEFINE_string(nick, "", "Nickname to take after connecting (default: the guest nick given).");
DEFINE_string(room, "", "Room to join after connecting; created if it does not exist.");
DEFINE_bool(tls, false,
            "Connect with TLS (the server's --tls_port; --port then defaults to 7443), checking "
            "the certificate against the system's CAs, or --tls_ca, and the host name.");
DEFINE_string(tls_ca, "", "With --tls: trust this CA (PEM), e.g. tools/make_cert.sh's cert.pem.");
DEFINE_bool(tls_insecure, false,
            "With --tls: accept any certificate (a self-signed test one); anyone on the path "
            "could read and change the chat.");
DEFINE_string(reconnect, "auto",
              "After a lost connection: 'always' reconnect (with backoff, rejoining the room "
              "with what was missed), 'never', or 'auto': when interactive.");
DEFINE_double(keepalive_s, 60,
              "Seconds without sending anything before a '/ping keepalive', so that reading "
              "without typing does not count as idle on the server; 0 turns it off.");

namespace roomchat {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitCannotConnect = 2;
constexpr int kExitConnectionLost = 3;
// How long to wait for BYE after sending /quit.
constexpr std::chrono::milliseconds kQuitGrace{2000};
// Reconnecting: the first wait, doubled after each failure up to the last.
constexpr std::chrono::milliseconds kFirstBackoff{500};
constexpr std::chrono::milliseconds kLastBackoff{15000};

// How a connection ended: an exit code, or lost (the caller may reconnect).
struct Ending {
  int exit_code;
  bool lost;
};

void PrintLine(absl::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// A note of the client's own (not the server's) on stderr, an error note when `error`.
void PrintNote(absl::string_view note, bool error, RenderOptions render) {
  std::fputs((RenderNote(note, error, render) + "\n").c_str(), stderr);
}

// After /quit: reads until the server closes the connection or the grace period ends.
void AwaitClose(ChatApp& app, int server_fd) {
  auto deadline = std::chrono::steady_clock::now() + kQuitGrace;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd fd{server_fd, POLLIN, 0};
    int ready = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return;
    if (!app.OnServerReadable().ok()) return;
  }
}

// A connection that ended without our /quit; says so on stderr.
Ending ConnectionLost(const ChatApp& app) {
  std::string where = absl::StrCat(FLAGS_host, ":", FLAGS_port);
  std::string note = app.got_bye()
                         ? absl::StrCat("disconnected by ", where, " (", app.bye_reason(), ")")
                         : absl::StrCat("lost the connection to ", where);
  PrintNote(note, true, app.render());
  return {kExitConnectionLost, true};
}

constexpr Ending kEnded{kExitOk, false};

// What script mode has read of stdin; it outlives a connection.
struct ScriptInput {
  std::string typed;
  bool open = true;
};

std::chrono::milliseconds KeepAliveInterval() {
  return std::chrono::milliseconds(static_cast<int64_t>(FLAGS_keepalive_s * 1000));
}

// Script mode: stdin lines are sent once --nick/--room setup is over.
Ending RunScript(LineConnection& connection, client::Session& session, RenderOptions render,
                 ScriptInput& input) {
  ChatApp app(&connection, &session, render, PrintLine, KeepAliveInterval(),
              std::chrono::steady_clock::now());
  std::string& typed = input.typed;
  while (true) {
    bool read_stdin = input.open && session.setup_done() && !app.quitting();
    pollfd fds[2] = {{connection.fd(), POLLIN, 0}, {read_stdin ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0) {
      if (errno == EINTR) continue;
      return ConnectionLost(app);
    }
    if (!app.KeepAlive(std::chrono::steady_clock::now()).ok()) return ConnectionLost(app);
    if (fds[0].revents != 0) {
      if (!app.OnServerReadable().ok() || app.got_bye()) {
        return app.quitting() ? kEnded : ConnectionLost(app);
      }
    }
    if (fds[1].revents == 0) continue;
    char chunk[4096];
    ssize_t n = ::read(STDIN_FILENO, chunk, sizeof(chunk));
    if (n <= 0) {
      input.open = false;
      if (!app.Quit().ok()) return ConnectionLost(app);
      AwaitClose(app, connection.fd());
      return kEnded;
    }
    typed.append(chunk, static_cast<size_t>(n));
    for (size_t newline; (newline = typed.find('\n')) != std::string::npos;) {
      std::string line = typed.substr(0, newline);
      typed.erase(0, newline + 1);
      if (!app.OnTypedLine(line).ok()) return ConnectionLost(app);
    }
    if (app.quitting()) {
      AwaitClose(app, connection.fd());
      return kEnded;
    }
  }
}

Ending RunInteractive(LineEditor& editor, LineConnection& connection, client::Session& session,
                      RenderOptions render) {
  bool lost = false;
  ChatApp app(
      &connection, &session, render, [&](absl::string_view text) { editor.PrintAbove(text); },
      KeepAliveInterval(), std::chrono::steady_clock::now());
  editor.Attach(
      connection.fd(),
      [&] {
        lost = !app.OnServerReadable().ok() || app.got_bye();
        return !lost;
      },
      [&] { app.KeepAlive(std::chrono::steady_clock::now()).IgnoreError(); });
  while (std::optional<std::string> line = editor.ReadLine()) {
    if (!app.OnTypedLine(*line).ok()) {
      lost = true;
      break;
    }
    if (app.quitting()) break;
  }
  if (lost && !app.quitting()) {
    std::fputs("\r\x1b[K", stdout);  // The note goes where the prompt was.
    std::fflush(stdout);
    return ConnectionLost(app);
  }
  if (!app.Quit().ok()) return ConnectionLost(app);
  AwaitClose(app, connection.fd());
  return kEnded;
}

// Waits `delay` before reconnecting; false if the person pressed Ctrl-C meanwhile (interactive:
// `signal_fd` reads SIGINT; -1 in script mode, where SIGINT ends the process as usual).
bool WaitToReconnect(std::chrono::milliseconds delay, int signal_fd, RenderOptions render) {
  PrintNote(absl::StrCat("reconnecting in ", delay.count() / 1000.0, " s",
                         signal_fd >= 0 ? " (Ctrl-C gives up)" : ""),
            false, render);
  auto deadline = std::chrono::steady_clock::now() + delay;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    pollfd fd{signal_fd, POLLIN, 0};
    int ready = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready > 0) {
      signalfd_siginfo info;
      if (::read(signal_fd, &info, sizeof(info)) == sizeof(info) && info.ssi_signo == SIGINT) {
        return false;
      }
    }
  }
}

// Connects, runs one session, and on a lost connection connects again (with backoff) when
// `reconnect`, rejoining the room with what was missed.
int Run(const char* program, bool interactive, bool reconnect, RenderOptions render,
        int signal_fd) {
  std::unique_ptr<LineEditor> editor;
  ScriptInput input;
  // The session of the next connection: after a lost one, one that carries it on.
  auto next = std::make_unique<client::Session>(FLAGS_nick, FLAGS_room,
                                                client::SessionOptions{/*history=*/true});
  std::chrono::milliseconds backoff = kFirstBackoff;
  client::Session* current = next.get();  // the session the prompt shows
  LineConnectionOptions options;
  options.tls = FLAGS_tls;
  options.tls_options = {FLAGS_tls_ca, FLAGS_tls_insecure};
  for (bool first = true;; first = false) {
    absl::StatusOr<std::unique_ptr<LineConnection>> connection =
        LineConnection::Connect(FLAGS_host, FLAGS_port, options);
    if (!connection.ok()) {
      std::fprintf(stderr, "chat_client: %s\n", std::string(connection.status().message()).c_str());
      if (first || !reconnect) return first ? kExitCannotConnect : kExitConnectionLost;
      if (!WaitToReconnect(backoff, signal_fd, render)) return kExitConnectionLost;
      backoff = std::min(backoff * 2, kLastBackoff);
      continue;
    }
    if (options.tls) {
      PrintNote(absl::StrCat("connected over ", (*connection)->tls_version()), false, render);
    }
    std::unique_ptr<client::Session> owned = std::move(next);
    client::Session& session = *owned;
    current = &session;
    Ending ending{};
    if (interactive) {
      if (editor == nullptr) {
        editor = std::make_unique<LineEditor>(
            program, [&current] { return current->Prompt(); }, -1, [] { return true; }, [] {},
            signal_fd, [](absl::string_view line) { return !HoldsSecret(line); });
        PrintLine(RenderNote("Connected. /help lists the commands; Ctrl-D or /quit leaves.", false,
                             render));
      } else {
        PrintLine(RenderNote("Reconnected.", false, render));
      }
      ending = RunInteractive(*editor, **connection, session, render);
    } else {
      ending = RunScript(**connection, session, render, input);
    }
    if (!ending.lost || !reconnect || (editor != nullptr && editor->interrupted())) {
      return ending.exit_code;
    }
    next = std::make_unique<client::Session>(session.ForReconnect());
    current = next.get();
    if (session.logged_in()) {
      PrintNote(absl::StrCat("you were logged in as ", session.nick(),
                             "; after reconnecting, /login again"),
                false, render);
    }
    backoff = kFirstBackoff;
    if (!WaitToReconnect(backoff, signal_fd, render)) return ending.exit_code;
  }
}

}  // namespace
}  // namespace roomchat

int main(int argc, char** argv) {
  std::setlocale(LC_CTYPE, "");
  gflags::SetUsageMessage("roomchat terminal client: --host, --port, --nick, --room, --reconnect");
  gflags::ParseCommandLineFlags(&argc, &argv, true);

  bool interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  // The TLS port's default, when --port was not given.
  constexpr int kDefaultTlsPort = 7443;
  if (FLAGS_tls && gflags::GetCommandLineFlagInfoOrDie("port").is_default) {
    FLAGS_port = kDefaultTlsPort;
  }
  // OpenSSL writes with write(2): a server gone away must be an error, not the end of the client.
  signal(SIGPIPE, SIG_IGN);
  if (FLAGS_reconnect != "auto" && FLAGS_reconnect != "always" && FLAGS_reconnect != "never") {
    std::fprintf(stderr, "chat_client: --reconnect must be auto, always or never\n");
    return roomchat::kExitCannotConnect;
  }
  bool reconnect =
      FLAGS_reconnect == "always" || (FLAGS_reconnect == "auto" && interactive);
  roomchat::RenderOptions render{
      roomchat::WantsColor(isatty(STDOUT_FILENO), std::getenv("NO_COLOR"), std::getenv("TERM"))};
  if (!interactive) return roomchat::Run(argv[0], false, reconnect, render, -1);

  // Ctrl-C and window resizes arrive through a signalfd, read by the line editor.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGWINCH);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  int code = roomchat::Run(argv[0], true, reconnect, render, signal_fd);
  close(signal_fd);
  return code;
}
