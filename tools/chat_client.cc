// chat_client: a terminal client for roomchat.
//
//   bazel run //tools:chat_client -- --nick alice --room lounge
//
// Interactive when stdin and stdout are terminals: a line editor with history, a "nick@room> "
// prompt, incoming lines printed above what is being typed. Otherwise script mode: lines are read
// from stdin and sent, what arrives is printed in the same friendly form, and at the end of input
// the client sends /quit and exits once the server says BYE (or after a short grace period).
//
// Exit codes: 0 normal end, 2 cannot connect, 3 connection lost (or closed by the server).
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

void PrintLine(absl::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
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

// The exit for a connection that ended without our /quit.
int ConnectionLost(const ChatApp& app) {
  std::string where = absl::StrCat(FLAGS_host, ":", FLAGS_port);
  std::string note = app.got_bye()
                         ? absl::StrCat("disconnected by ", where, " (", app.bye_reason(), ")")
                         : absl::StrCat("lost the connection to ", where);
  std::fputs((RenderNote(note, true, app.render()) + "\n").c_str(), stderr);
  return kExitConnectionLost;
}

std::chrono::milliseconds KeepAliveInterval() {
  return std::chrono::milliseconds(static_cast<int64_t>(FLAGS_keepalive_s * 1000));
}

// Script mode: stdin lines are sent once --nick/--room setup is over.
int RunScript(LineConnection& connection, client::Session& session, RenderOptions render) {
  ChatApp app(&connection, &session, render, PrintLine, KeepAliveInterval(),
              std::chrono::steady_clock::now());
  std::string typed;
  bool input_open = true;
  while (true) {
    bool read_stdin = input_open && session.setup_done() && !app.quitting();
    pollfd fds[2] = {{connection.fd(), POLLIN, 0}, {read_stdin ? STDIN_FILENO : -1, POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0) {
      if (errno == EINTR) continue;
      return ConnectionLost(app);
    }
    if (!app.KeepAlive(std::chrono::steady_clock::now()).ok()) return ConnectionLost(app);
    if (fds[0].revents != 0) {
      if (!app.OnServerReadable().ok() || app.got_bye()) {
        return app.quitting() ? kExitOk : ConnectionLost(app);
      }
    }
    if (fds[1].revents == 0) continue;
    char chunk[4096];
    ssize_t n = ::read(STDIN_FILENO, chunk, sizeof(chunk));
    if (n <= 0) {
      input_open = false;
      if (!app.Quit().ok()) return ConnectionLost(app);
      AwaitClose(app, connection.fd());
      return kExitOk;
    }
    typed.append(chunk, static_cast<size_t>(n));
    for (size_t newline; (newline = typed.find('\n')) != std::string::npos;) {
      std::string line = typed.substr(0, newline);
      typed.erase(0, newline + 1);
      if (!app.OnTypedLine(line).ok()) return ConnectionLost(app);
    }
    if (app.quitting()) {
      AwaitClose(app, connection.fd());
      return kExitOk;
    }
  }
}

int RunInteractive(const char* program, LineConnection& connection, client::Session& session,
                   RenderOptions render, int signal_fd) {
  bool lost = false;
  std::unique_ptr<ChatApp> app;
  LineEditor editor(
      program, [&] { return session.Prompt(); }, connection.fd(),
      [&] {
        lost = !app->OnServerReadable().ok() || app->got_bye();
        return !lost;
      },
      [&] { app->KeepAlive(std::chrono::steady_clock::now()).IgnoreError(); }, signal_fd);
  app = std::make_unique<ChatApp>(
      &connection, &session, render, [&](absl::string_view text) { editor.PrintAbove(text); },
      KeepAliveInterval(), std::chrono::steady_clock::now());
  PrintLine(
      RenderNote("Connected. /help lists the commands; Ctrl-D or /quit leaves.", false, render));
  while (std::optional<std::string> line = editor.ReadLine()) {
    if (!app->OnTypedLine(*line).ok()) {
      lost = true;
      break;
    }
    if (app->quitting()) break;
  }
  if (lost && !app->quitting()) {
    std::fputs("\r\x1b[K", stdout);  // The note goes where the prompt was.
    std::fflush(stdout);
    return ConnectionLost(*app);
  }
  if (!app->Quit().ok()) return ConnectionLost(*app);
  AwaitClose(*app, connection.fd());
  return kExitOk;
}

}  // namespace
}  // namespace roomchat

int main(int argc, char** argv) {
  std::setlocale(LC_CTYPE, "");
  gflags::SetUsageMessage("roomchat terminal client: --host, --port, --nick, --room");
  gflags::ParseCommandLineFlags(&argc, &argv, true);

  bool interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  roomchat::RenderOptions render{
      roomchat::WantsColor(isatty(STDOUT_FILENO), std::getenv("NO_COLOR"), std::getenv("TERM"))};

  absl::StatusOr<std::unique_ptr<roomchat::LineConnection>> connection =
      roomchat::LineConnection::Connect(FLAGS_host, FLAGS_port);
  if (!connection.ok()) {
    std::fprintf(stderr, "chat_client: %s\n", std::string(connection.status().message()).c_str());
    return roomchat::kExitCannotConnect;
  }
  roomchat::client::Session session(FLAGS_nick, FLAGS_room);
  if (!interactive) return roomchat::RunScript(**connection, session, render);

  // Ctrl-C and window resizes arrive through a signalfd, read by the line editor.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGWINCH);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  int code = roomchat::RunInteractive(argv[0], **connection, session, render, signal_fd);
  close(signal_fd);
  return code;
}
