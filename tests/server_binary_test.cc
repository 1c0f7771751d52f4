// End-to-end tests of the chat_server binary itself: what main() does with flags, signals, logs
// and process limits.
#include <dirent.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/data_dir.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

using Lines = std::vector<std::string>;

constexpr char kServerPath[] = "chat/chat_server";

void ExpectCleanShutdownOn(int signal_number) {
  Subprocess server(kServerPath, {"--port=0", "--http_port=0", DataDirFlag()});
  std::optional<int> port = WaitUntilListening(server, kLineDeadline);
  ASSERT_TRUE(port.has_value()) << server.Stderr();
  auto alice = Login(*port, "alice");
  auto bob = Login(*port, "bob");
  ASSERT_NE(bob, nullptr);
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");

  server.Signal(signal_number);
  for (TestClient* client : {alice.get(), bob.get()}) {
    absl::StatusOr<std::vector<std::string>> last = client->ReadUntilClosed();
    ASSERT_TRUE(last.ok()) << last.status();
    EXPECT_EQ(*last, std::vector<std::string>{"BYE server-shutdown"});
  }
  EXPECT_TRUE(server.ExitsWith(0, kLineDeadline));
  std::string log = server.Stderr();
  EXPECT_TRUE(absl::StrContains(log, "roomchat server starting")) << log;
  EXPECT_TRUE(absl::StrContains(log, "connected from 127.0.0.1:")) << log;
  EXPECT_TRUE(absl::StrContains(log, "room Lounge opened by alice")) << log;
  EXPECT_TRUE(absl::StrContains(log, "disconnected from Lounge: server shutdown")) << log;
  EXPECT_TRUE(absl::StrContains(log, "room Lounge closed")) << log;
  EXPECT_TRUE(absl::StrContains(log, "shut down")) << log;
}

TEST(ServerBinaryTest, SigtermSaysByeJoinsEveryThreadAndExitsZero) {
  ExpectCleanShutdownOn(SIGTERM);
}

TEST(ServerBinaryTest, SigintDoesTheSame) { ExpectCleanShutdownOn(SIGINT); }

TEST(ServerBinaryTest, LogsNoChatLinesAtInfo) {
  Subprocess server(kServerPath, {"--port=0", "--http_port=0", DataDirFlag()});
  std::optional<int> port = WaitUntilListening(server, kLineDeadline);
  ASSERT_TRUE(port.has_value()) << server.Stderr();
  auto alice = Login(*port, "alice");
  auto bob = Login(*port, "bob");
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  ASSERT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
  bob->Send("a secret chat line").IgnoreError();
  ASSERT_EQ(alice->Next(), "JOIN Lounge bob");
  ASSERT_EQ(alice->Next(), "MSG Lounge bob a secret chat line");
  bob->Send("/msg alice a secret whisper").IgnoreError();
  ASSERT_EQ(alice->Next(), "PRIV bob a secret whisper");
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.ExitsWith(0, kLineDeadline));
  std::string log = server.Stderr();
  EXPECT_FALSE(absl::StrContains(log, "secret")) << log;
}

TEST(ServerBinaryTest, RefusesNonsenseFlagsWithAClearMessage) {
  const std::pair<std::string, std::string> cases[] = {
      {"--port=70000", "--port must be 0-65535"},
      {"--port=-1", "--port must be 0-65535"},
      {"--max_clients=0", "--max_clients must be at least 1"},
      {"--max_rooms=0", "--max_rooms must be at least 1"},
      {"--max_room_members=0", "--max_room_members must be at least 1"},
      {"--max_line_bytes=10", "--max_line_bytes must be 64-1048576"},
      {"--max_outbuf_bytes=100", "--max_outbuf_bytes must be at least "},
      {"--idle_timeout_s=-5", "--idle_timeout_s must be 0 (off) or more"},
      {"--host=", "--host must not be empty"},
  };
  for (const auto& [flag, message] : cases) {
    Subprocess server(kServerPath, {flag});
    EXPECT_TRUE(server.ExitsWith(2, kLineDeadline)) << flag;
    std::string log = server.Stderr();
    EXPECT_TRUE(absl::StrContains(log, message)) << flag << ": " << log;
  }
}

TEST(ServerBinaryTest, SaysWhyItCannotListen) {
  Subprocess first(kServerPath, {"--port=0", "--http_port=0", DataDirFlag()});
  std::optional<int> port = WaitUntilListening(first, kLineDeadline);
  ASSERT_TRUE(port.has_value());
  Subprocess second(kServerPath, {absl::StrCat("--port=", *port), "--http_port=0"});
  EXPECT_TRUE(second.ExitsWith(1, kLineDeadline));
  EXPECT_TRUE(absl::StrContains(second.Stderr(), "Address already in use")) << second.Stderr();
}

// ---- Flags that leave no room for one reply.

// The first number after "at least" in `message` that is larger than `refused`: the minimum the
// server names when it refuses a value.
std::optional<size_t> MinimumNamedIn(const std::string& message, size_t refused) {
  size_t at = message.find("at least");
  while (at != std::string::npos && at < message.size()) {
    at = message.find_first_of("0123456789", at);
    if (at == std::string::npos) break;
    size_t end = message.find_first_not_of("0123456789", at);
    size_t value = 0;
    if (absl::SimpleAtoi(message.substr(at, end - at), &value) && value > refused) return value;
    at = end;
  }
  return std::nullopt;
}

// Starts the server with `flags`; empty when it refuses them (exit 2, the reason on stderr).
std::unique_ptr<Subprocess> StartWith(const std::vector<std::string>& flags, std::string* refusal) {
  auto server = std::make_unique<Subprocess>(kServerPath, flags);
  if (server->WaitForStderr("listening on ", kLineDeadline)) return server;
  *refusal =
      server->ExitsWith(2, kLineDeadline) ? server->Stderr() : "<no exit 2> " + server->Stderr();
  return nullptr;
}

TEST(ServerBinaryTest, RefusesAnOutbufTooSmallForOneReplyAndServesWithTheSmallestItAccepts) {
  // The soft cap is off (it must not exceed the hard cap): only --max_outbuf_bytes is in question.
  const std::vector<std::string> too_small = {"--port=0", "--http_port=0", DataDirFlag(), "--outbuf_soft_bytes=0",
                                              "--max_line_bytes=64", "--max_outbuf_bytes=128"};
  std::string refusal;
  std::unique_ptr<Subprocess> accepted = StartWith(too_small, &refusal);
  if (accepted != nullptr) {
    // Show what such a server does with the longest fixed reply, then fail.
    std::optional<int> port = WaitUntilListening(*accepted, kLineDeadline);
    std::string help = "<no port>";
    if (port) {
      auto client = Login(*port);
      if (client != nullptr && client->Send("/help").ok()) {
        absl::StatusOr<Lines> lines = client->ReadUntilClosed();
        help = lines.ok() ? absl::StrCat(lines->size(), " lines then closed")
                          : lines.status().ToString();
      }
    }
    FAIL() << "--max_line_bytes=64 --max_outbuf_bytes=128 was accepted; /help then got: " << help;
  }
  EXPECT_TRUE(absl::StrContains(refusal, "--max_outbuf_bytes")) << refusal;
  std::optional<size_t> minimum = MinimumNamedIn(refusal, 128);
  ASSERT_TRUE(minimum.has_value()) << "no minimum above 128 after 'at least' in: " << refusal;

  // The minimum is exact: one byte less is refused too.
  std::string below;
  EXPECT_EQ(StartWith({"--port=0", "--http_port=0", DataDirFlag(), "--outbuf_soft_bytes=0", "--max_line_bytes=64",
                       absl::StrCat("--max_outbuf_bytes=", *minimum - 1)},
                      &below),
            nullptr)
      << "--max_outbuf_bytes=" << *minimum - 1 << " accepted, though " << *minimum << " is named";

  std::unique_ptr<Subprocess> server =
      StartWith({"--port=0", "--http_port=0", DataDirFlag(), "--outbuf_soft_bytes=0", "--max_line_bytes=64",
                 absl::StrCat("--max_outbuf_bytes=", *minimum)},
                &refusal);
  ASSERT_NE(server, nullptr) << "the named minimum " << *minimum << " is refused: " << refusal;
  std::optional<int> port = WaitUntilListening(*server, kLineDeadline);
  ASSERT_TRUE(port.has_value()) << server->Stderr();
  const std::string alice(32, 'a');
  const std::string bob(32, 'b');
  const std::string room(32, 'r');
  auto a = Login(*port, alice);
  auto b = Login(*port, bob);
  ASSERT_NE(b, nullptr);

  ASSERT_TRUE(a->Send("/help").ok());
  absl::StatusOr<Lines> help = a->ReadUntil("OK HELP");
  ASSERT_TRUE(help.ok()) << help.status() << "\n" << server->Stderr();
  EXPECT_GE(help->size(), 10u);

  ASSERT_EQ(a->Ask("/create " + room), "OK CREATE " + room);
  ASSERT_EQ(b->Ask("/join " + room), "OK JOIN " + room + " 2");
  ASSERT_EQ(a->Next(), "JOIN " + room + " " + bob);
  const std::string longest(64, 'x');  // --max_line_bytes, the LF not counted
  ASSERT_TRUE(b->Send(longest).ok());
  EXPECT_EQ(a->Next(), absl::StrCat("MSG ", room, " ", bob, " ", longest)) << server->Stderr();

  ASSERT_TRUE(a->Send("/rooms").ok());
  absl::StatusOr<Lines> rooms = a->ReadUntil("OK ROOMS 1");
  ASSERT_TRUE(rooms.ok()) << rooms.status() << "\n" << server->Stderr();
  EXPECT_EQ(*rooms, Lines{"ROOM " + room + " 2"});
  EXPECT_FALSE(absl::StrContains(server->Stderr(), "cut off")) << server->Stderr();
}

// ---- A room thread that cannot be created.

constexpr uid_t kNobody = 65534;

// Tasks (threads) of every process whose real uid is `uid`: what RLIMIT_NPROC counts.
int TasksOfUser(uid_t uid) {
  int tasks = 0;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return -1;
  while (dirent* entry = ::readdir(proc)) {
    if (!std::isdigit(static_cast<unsigned char>(entry->d_name[0]))) continue;
    std::ifstream status(absl::StrCat("/proc/", entry->d_name, "/status"));
    std::string line;
    bool owned = false;
    int threads = 0;
    while (std::getline(status, line)) {
      unsigned real_uid = 0;
      if (absl::StartsWith(line, "Uid:") && std::sscanf(line.c_str(), "Uid: %u", &real_uid) == 1) {
        owned = real_uid == uid;
      } else if (absl::StartsWith(line, "Threads:")) {
        std::sscanf(line.c_str(), "Threads: %d", &threads);
      }
    }
    if (owned) tasks += threads;
  }
  ::closedir(proc);
  return tasks;
}

int ThreadsOf(pid_t pid) {
  int count = 0;
  DIR* dir = ::opendir(absl::StrCat("/proc/", pid, "/task").c_str());
  if (dir == nullptr) return -1;
  while (dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
  ::closedir(dir);
  return count;
}

// A copy of the server binary that user nobody can run: the runfiles tree under /root is not
// readable by it. Empty on failure.
std::string CopyServerForNobody() {
  char dir[] = "/tmp/roomchat-nproc-XXXXXX";
  if (::mkdtemp(dir) == nullptr || ::chmod(dir, 0755) != 0) return "";
  std::string copy = absl::StrCat(dir, "/chat_server");
  {
    std::ifstream from(kServerPath, std::ios::binary);
    std::ofstream to(copy, std::ios::binary);
    to << from.rdbuf();
    if (!from || !to) return "";
  }
  return ::chmod(copy.c_str(), 0755) == 0 ? copy : "";
}

// Lowers the soft RLIMIT_NPROC of process `pid`, which runs as `uid`, to `limit`. Without
// CAP_SYS_RESOURCE (which containers often drop) only a process of the same user may do that, so
// a child process becomes that user first. 0, or the errno that went wrong.
int LowerProcessLimitAs(uid_t uid, pid_t pid, rlim_t limit) {
  pid_t child = ::fork();
  if (child == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      ::_exit(errno);
    }
    rlimit now{};
    if (::prlimit(pid, RLIMIT_NPROC, nullptr, &now) != 0) ::_exit(errno);
    rlimit lower{std::min(limit, now.rlim_max), now.rlim_max};
    ::_exit(::prlimit(pid, RLIMIT_NPROC, &lower, nullptr) == 0 ? 0 : errno);
  }
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child) return errno;
  return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

// How a server process ended, for a failure message; waits briefly.
std::string HowItEnded(Subprocess& server) {
  std::optional<int> status = server.WaitForExit(absl::Seconds(2));
  if (!status) return "still running";
  if (WIFSIGNALED(*status)) return absl::StrCat("killed by signal ", WTERMSIG(*status));
  return absl::StrCat("exited with ", WEXITSTATUS(*status));
}

TEST(ServerBinaryTest, ARoomThreadThatCannotStartIsErrLimitAndTheServerKeepsServing) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: the server runs as nobody, since root ignores RLIMIT_NPROC";
  }
  const char kSetpriv[] = "/usr/bin/setpriv";
  if (::access(kSetpriv, X_OK) != 0) GTEST_SKIP() << "needs setpriv (util-linux)";
  std::string binary = CopyServerForNobody();
  ASSERT_FALSE(binary.empty()) << "cannot copy " << kServerPath << " under /tmp";
  Subprocess server(kSetpriv,
                    {"--reuid=65534", "--regid=65534", "--clear-groups", binary, "--port=0", "--http_port=0",
                     "--history=false", "--accounts=false"});
  std::optional<int> port = WaitUntilListening(server, kLineDeadline);
  // The running server keeps its binary open; the copy is no longer needed on disk.
  ::unlink(binary.c_str());
  ::rmdir(binary.substr(0, binary.rfind('/')).c_str());
  ASSERT_TRUE(port.has_value()) << server.Stderr();
  auto first = Login(*port, "creator0");
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(first->Ask("/ping warm"), "PONG warm");

  // Room for two more threads of user nobody (counting its other processes): two rooms start.
  const int nobody_tasks = TasksOfUser(kNobody);
  ASSERT_GT(nobody_tasks, 0);
  int lowered = LowerProcessLimitAs(kNobody, server.pid(), nobody_tasks + 2);
  ASSERT_EQ(lowered, 0) << "prlimit(RLIMIT_NPROC): " << std::strerror(lowered);

  std::vector<std::unique_ptr<TestClient>> creators;
  creators.push_back(std::move(first));
  std::string refusal;
  for (int i = 0; i < 8; ++i) {
    if (i > 0) creators.push_back(Login(*port, absl::StrCat("creator", i)));
    ASSERT_NE(creators.back(), nullptr) << "server " << HowItEnded(server) << "\n"
                                        << server.Stderr();
    std::string reply = creators.back()->Ask(absl::StrCat("/create room", i));
    if (reply != absl::StrCat("OK CREATE room", i)) {
      refusal = reply;
      break;
    }
  }
  ASSERT_TRUE(absl::StartsWith(refusal, "ERR limit "))
      << "the refused /create got '" << refusal << "'; the server " << HowItEnded(server) << "\n"
      << server.Stderr().substr(server.Stderr().size() > 3000 ? server.Stderr().size() - 3000 : 0);
  const int rooms = static_cast<int>(creators.size()) - 1;
  ASSERT_GE(rooms, 1) << "no room started under the limit";
  TestClient& refused = *creators.back();
  EXPECT_EQ(refused.Ask("/whoami"), absl::StrCat("OK WHOAMI creator", rooms, " -"));

  // A new connection is welcomed, and an existing room keeps working.
  auto joiner = Login(*port, "joiner");
  ASSERT_NE(joiner, nullptr);
  EXPECT_EQ(joiner->Ask("/join room0"), "OK JOIN room0 2");
  EXPECT_EQ(creators[0]->Next(), "JOIN room0 joiner");
  ASSERT_TRUE(joiner->Send("still here").ok());
  EXPECT_EQ(creators[0]->Next(), "MSG room0 joiner still here");

  // Once a room closes and its thread is gone, a /create succeeds again.
  const int threads_before = ThreadsOf(server.pid());
  TestClient& last_creator = *creators[rooms - 1];
  EXPECT_EQ(last_creator.Ask("/leave"), absl::StrCat("OK LEAVE room", rooms - 1));
  absl::Time until = absl::Now() + kLineDeadline;
  while (ThreadsOf(server.pid()) >= threads_before && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));  // polling interval
  }
  EXPECT_LT(ThreadsOf(server.pid()), threads_before) << "the emptied room's thread did not end";
  EXPECT_EQ(refused.Ask("/create again"), "OK CREATE again");

  server.Signal(SIGTERM);
  EXPECT_TRUE(server.ExitsWith(0, kLineDeadline)) << server.Stderr();
}

}  // namespace
}  // namespace roomchat
