// End-to-end tests of //tools:chat_client against the real server: script mode, exit codes, and the
// interactive mode through a real terminal (tmux), checking what a person would see on the screen.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "chat/server.h"
#include "chat/loop/socket.h"
#include "gtest/gtest.h"
#include "tests/data_dir.h"
#include "tests/subprocess.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

constexpr char kClientPath[] = "tools/chat_client";

class ChatClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.port = 0;
    options.http_port = 0;
    data_dir_ = NewDataDir();
    options.data_dir = data_dir_;
    server_ = std::make_unique<Server>(options);
    ASSERT_TRUE(server_->Start().ok());
  }

  std::unique_ptr<Subprocess> StartClient(std::vector<std::string> flags) {
    flags.push_back(absl::StrCat("--port=", server_->port()));
    return std::make_unique<Subprocess>(kClientPath, flags);
  }

  std::string data_dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(ChatClientTest, TwoScriptedClientsChat) {
  auto alice = StartClient({"--nick=alice", "--room=lounge"});
  ASSERT_TRUE(alice->WaitForStdout("* You created lounge and are in it\n", kLineDeadline))
      << alice->Stdout() << alice->Stderr();
  auto bob = StartClient({"--nick=bob", "--room=lounge"});
  ASSERT_TRUE(bob->WaitForStdout("* You joined lounge (2 here)\n", kLineDeadline)) << bob->Stdout();
  ASSERT_TRUE(alice->WaitForStdout("* bob joined lounge\n", kLineDeadline)) << alice->Stdout();

  alice->WriteStdin("hello bob\n/msg bob just you\n");
  EXPECT_TRUE(bob->WaitForStdout("[lounge] alice: hello bob\n", kLineDeadline)) << bob->Stdout();
  EXPECT_TRUE(bob->WaitForStdout("(private) alice: just you\n", kLineDeadline)) << bob->Stdout();
  bob->WriteStdin("//slash is text\n");
  EXPECT_TRUE(alice->WaitForStdout("[lounge] bob: /slash is text\n", kLineDeadline));

  // End of input: /quit, BYE, exit 0.
  alice->CloseStdin();
  EXPECT_TRUE(alice->ExitsWith(0, kLineDeadline));
  EXPECT_TRUE(bob->WaitForStdout("* alice left lounge\n", kLineDeadline)) << bob->Stdout();
  bob->CloseStdin();
  EXPECT_TRUE(bob->ExitsWith(0, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(alice->Stdout(), "* Bye.\n"));
  EXPECT_FALSE(absl::StrContains(alice->Stdout(), "\x1b[")) << "no color into a pipe";
  EXPECT_FALSE(absl::StrContains(alice->Stdout(), "no-such-room"))
      << "the expected miss before creating --room is not shown";
}

TEST_F(ChatClientTest, ShowsErrorsAndServerReplies) {
  auto carol = StartClient({"--nick=carol"});
  carol->WriteStdin("/join nowhere\n/whoami\nhi\n");
  EXPECT_TRUE(carol->WaitForStdout("! no room called nowhere (no-such-room)\n", kLineDeadline))
      << carol->Stdout();
  EXPECT_TRUE(carol->WaitForStdout("* You are carol in the lobby\n", kLineDeadline));
  EXPECT_TRUE(carol->WaitForStdout("(not-in-room)\n", kLineDeadline));
  carol->CloseStdin();
  EXPECT_TRUE(carol->ExitsWith(0, kLineDeadline));
}

TEST_F(ChatClientTest, HelpIsAnsweredLocally) {
  auto client = StartClient({});
  client->WriteStdin("/help\n");
  client->CloseStdin();
  EXPECT_TRUE(client->ExitsWith(0, kLineDeadline));
  std::string out = client->Stdout();
  EXPECT_TRUE(absl::StrContains(out, "/join ROOM        move into a room")) << out;
  EXPECT_TRUE(absl::StrContains(out, "Up/Down for history")) << out;
  EXPECT_FALSE(absl::StrContains(out, "  /nick NAME       change your nickname"))
      << "the server's help was not asked for";
}

TEST_F(ChatClientTest, CannotConnectExitsTwoNamingHostAndPort) {
  // A port that was free a moment ago and has nobody listening.
  absl::StatusOr<UniqueFd> probe = ListenTcp("127.0.0.1", 0, 1);
  ASSERT_TRUE(probe.ok());
  int port = *LocalPort(probe->get());
  probe->Reset();
  Subprocess client(kClientPath, {absl::StrCat("--port=", port)});
  EXPECT_TRUE(client.ExitsWith(2, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(
      client.Stderr(), absl::StrCat("cannot connect to 127.0.0.1:", port, ": Connection refused")))
      << client.Stderr();
}

TEST_F(ChatClientTest, ServerShutdownExitsThree) {
  auto client = StartClient({"--nick=dave"});
  ASSERT_TRUE(client->WaitForStdout("* You are now dave\n", kLineDeadline));
  server_->Shutdown();
  EXPECT_TRUE(client->ExitsWith(3, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(client->Stdout(), "(server-shutdown)")) << client->Stdout();
  EXPECT_TRUE(absl::StrContains(client->Stderr(), "disconnected by 127.0.0.1:"))
      << client->Stderr();
}

// A person's client comes back by itself after the server restarts and shows what was said while
// it was away: exactly once, and nothing it had already shown again.
TEST_F(ChatClientTest, ReconnectsAfterARestartAndMissesNothing) {
  auto bob = StartClient({"--nick=bob", "--room=lounge", "--reconnect=always"});
  ASSERT_TRUE(bob->WaitForStdout("* You created lounge and are in it\n", kLineDeadline))
      << bob->Stdout() << bob->Stderr();
  auto alice = Login(server_->port(), "alice");
  ASSERT_NE(alice, nullptr);
  ASSERT_TRUE(absl::StartsWith(alice->Ask("/join lounge"), "OK JOIN lounge"));
  ASSERT_TRUE(alice->Send("said before").ok());
  ASSERT_TRUE(bob->WaitForStdout("[lounge] alice: said before\n", kLineDeadline)) << bob->Stdout();
  alice.reset();

  // The same port and data: a restart.
  ServerOptions options;
  options.port = server_->port();
  options.http_port = 0;
  options.data_dir = data_dir_;
  server_.reset();
  ASSERT_TRUE(bob->WaitForStderr("reconnecting in", kLineDeadline)) << bob->Stderr();
  server_ = std::make_unique<Server>(options);
  ASSERT_TRUE(server_->Start().ok());
  auto carol = Login(server_->port(), "carol");
  ASSERT_NE(carol, nullptr);
  std::string joined = carol->Ask("/join lounge");
  if (absl::StartsWith(joined, "ERR no-such-room")) joined = carol->Ask("/create lounge");
  ASSERT_TRUE(absl::StartsWith(joined, "OK ")) << joined;
  ASSERT_TRUE(carol->Send("said while bob was away").ok());
  ASSERT_TRUE(bob->WaitForStdout("carol: said while bob was away\n", kLineDeadline))
      << bob->Stdout() << bob->Stderr();
  ASSERT_TRUE(carol->Send("said after").ok());
  ASSERT_TRUE(bob->WaitForStdout("[lounge] carol: said after\n", kLineDeadline)) << bob->Stdout();
  std::string out = bob->Stdout();
  auto count = [&](const std::string& text) {
    size_t n = 0;
    for (size_t at = out.find(text); at != std::string::npos; at = out.find(text, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("alice: said before"), 1u) << out;
  EXPECT_EQ(count("carol: said while bob was away"), 1u) << out;
  bob->CloseStdin();
  EXPECT_TRUE(bob->ExitsWith(0, kLineDeadline)) << bob->Stderr();
}

TEST(ChatClientLostTest, AConnectionThatDropsExitsThree) {
  // A "server" that greets and hangs up without BYE.
  absl::StatusOr<UniqueFd> listener = ListenTcp("127.0.0.1", 0, 1);
  ASSERT_TRUE(listener.ok());
  int port = *LocalPort(listener->get());
  Subprocess client(kClientPath, {absl::StrCat("--port=", port)});
  std::thread server([&] {
    pollfd pfd{listener->get(), POLLIN, 0};
    ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(kLineDeadline)));
    UniqueFd connection(::accept(listener->get(), nullptr, nullptr));
    const char kWelcome[] = "WELCOME guest1 hello\n";
    ::send(connection.get(), kWelcome, sizeof(kWelcome) - 1, MSG_NOSIGNAL);
  });
  server.join();
  EXPECT_TRUE(client.ExitsWith(3, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(client.Stderr(), "lost the connection to 127.0.0.1:"))
      << client.Stderr();
}

// ---- Interactive mode, in a real terminal: tmux runs the client and shows its screen.

class Tmux {
 public:
  explicit Tmux(const std::string& command) {
    // Not under TEST_TMPDIR: Bazel's paths pass the 108-byte limit of a Unix socket's name.
    char dir[] = "/tmp/roomchat-tmux-XXXXXX";
    if (::mkdtemp(dir) != nullptr) dir_ = dir;
    socket_ = dir_ + "/socket";
    Run(absl::StrCat("new-session -d -s chat -x 100 -y 24 '", command, "'"));
  }
  ~Tmux() {
    Run("kill-server");
    ::unlink(socket_.c_str());
    ::rmdir(dir_.c_str());
  }

  void Keys(const std::string& keys) { Run(absl::StrCat("send-keys -t chat ", keys)); }

  // The visible screen, one string per row, trailing spaces dropped; with color codes if `escapes`.
  std::vector<std::string> Screen(bool escapes = false) {
    std::string out = Capture(absl::StrCat("capture-pane -p -t chat", escapes ? " -e" : ""));
    std::vector<std::string> rows = absl::StrSplit(out, '\n');
    for (std::string& row : rows) row.erase(row.find_last_not_of(' ') + 1);
    while (!rows.empty() && rows.back().empty()) rows.pop_back();
    return rows;
  }

  // Waits until the screen's last non-empty row is `row`.
  bool WaitForLastRow(const std::string& row) {
    absl::Time until = absl::Now() + kLineDeadline;
    while (absl::Now() < until) {
      std::vector<std::string> screen = Screen();
      if (!screen.empty() && screen.back() == row) return true;
      absl::SleepFor(absl::Milliseconds(20));  // Polling interval, not a guess at timing.
    }
    return false;
  }

 private:
  std::string Base() const { return absl::StrCat("tmux -f /dev/null -S ", socket_, " "); }
  void Run(const std::string& arguments) {
    int rc = std::system((Base() + arguments + " >/dev/null 2>&1").c_str());
    (void)rc;
  }
  std::string Capture(const std::string& arguments) {
    std::string out;
    FILE* pipe = ::popen((Base() + arguments).c_str(), "r");
    if (pipe == nullptr) return out;
    char chunk[4096];
    size_t n;
    while ((n = std::fread(chunk, 1, sizeof(chunk), pipe)) > 0) out.append(chunk, n);
    ::pclose(pipe);
    return out;
  }

  std::string dir_;
  std::string socket_;
};

std::string Joined(const std::vector<std::string>& rows) { return absl::StrJoin(rows, "\n"); }

TEST_F(ChatClientTest, InteractiveLinesArriveAboveWhatIsBeingTyped) {
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  Tmux tmux(absl::StrCat("env -u NO_COLOR TERM=xterm-256color ", cwd, "/", kClientPath,
                         " --port=", server_->port(), " --nick=alice --room=lounge"));
  ASSERT_TRUE(tmux.WaitForLastRow("alice@lounge>")) << Joined(tmux.Screen());

  auto bob = Login(server_->port(), "bob");
  ASSERT_EQ(bob->Ask("/join lounge"), "OK JOIN lounge 2");
  ASSERT_TRUE(tmux.WaitForLastRow("alice@lounge>")) << Joined(tmux.Screen());

  // Half a line typed, then a message arrives: it appears above, the typing is untouched.
  tmux.Keys("'half a thou'");
  ASSERT_TRUE(tmux.WaitForLastRow("alice@lounge> half a thou")) << Joined(tmux.Screen());
  ASSERT_TRUE(bob->Send("are you there?").ok());
  // The prompt row was already there before the line came: wait for the line itself.
  const std::string line = "[lounge] bob: are you there?";
  std::vector<std::string> screen;
  absl::Time until = absl::Now() + kLineDeadline;
  do {
    screen = tmux.Screen();
  } while ((screen.size() < 2 || screen[screen.size() - 2] != line) && absl::Now() < until);
  ASSERT_TRUE(tmux.WaitForLastRow("alice@lounge> half a thou")) << Joined(tmux.Screen());
  screen = tmux.Screen();
  ASSERT_GE(screen.size(), 2u);
  EXPECT_EQ(screen[screen.size() - 2], line) << Joined(screen);

  // Finishing the line sends it whole, and the cursor was where it was left.
  tmux.Keys("'ght' Enter");
  EXPECT_EQ(bob->Next(), "MSG lounge alice half a thought");

  // History: Up brings the line back.
  tmux.Keys("Up");
  EXPECT_TRUE(tmux.WaitForLastRow("alice@lounge> half a thought")) << Joined(tmux.Screen());
  tmux.Keys("C-u");

  // Errors are red on a color terminal.
  tmux.Keys("'/join' Enter");
  ASSERT_TRUE(tmux.WaitForLastRow("alice@lounge>")) << Joined(tmux.Screen());
  std::string colored = Joined(tmux.Screen(/*escapes=*/true));
  EXPECT_TRUE(absl::StrContains(colored, "\x1b[31m! usage: /join ROOM (bad-args)")) << colored;

  // Ctrl-D on an empty line leaves cleanly: bob sees alice go.
  tmux.Keys("C-d");
  EXPECT_EQ(bob->Next(), "LEAVE lounge alice");
}

}  // namespace
}  // namespace roomchat
