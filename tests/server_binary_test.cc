// End-to-end tests of the chat_server binary itself: what main() does with flags, signals and logs.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

constexpr char kServerPath[] = "chat/chat_server";

// The server binary as a child process, with its stderr (the log) collected by a thread.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> flags) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(pipe_fds[1], STDERR_FILENO);
      std::vector<char*> argv{const_cast<char*>(kServerPath)};
      for (std::string& flag : flags) argv.push_back(flag.data());
      argv.push_back(nullptr);
      ::execv(kServerPath, argv.data());
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    reader_ = std::thread([this, fd = pipe_fds[0]] { CollectLog(fd); });
  }

  ~ServerProcess() {
    if (pid_ > 0 && !exit_status_) {
      ::kill(pid_, SIGKILL);
      WaitForExit();
    }
    if (reader_.joinable()) reader_.join();
  }

  // Waits for the "listening on host:port" log line; the port, or nullopt if the server exited or
  // said nothing in time.
  std::optional<int> WaitUntilListening() {
    const std::string marker = "listening on 127.0.0.1:";
    absl::MutexLock lock(&mu_);
    auto ready = [&] { return absl::StrContains(log_, marker) || log_closed_; };
    mu_.AwaitWithTimeout(absl::Condition(&ready), kLineDeadline);
    size_t at = log_.find(marker);
    if (at == std::string::npos) return std::nullopt;
    int port = 0;
    std::string digits =
        log_.substr(at + marker.size(), log_.find(' ', at + marker.size()) - (at + marker.size()));
    if (!absl::SimpleAtoi(digits, &port)) return std::nullopt;
    return port;
  }

  // The exit status (as from waitpid), waiting for it with a deadline.
  std::optional<int> WaitForExit(absl::Duration deadline = kLineDeadline) {
    absl::Time until = absl::Now() + deadline;
    while (!exit_status_ && absl::Now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_status_ = status;
      } else {
        absl::SleepFor(absl::Milliseconds(5));  // Polling interval, not a guess at timing.
      }
    }
    return exit_status_;
  }

  void Signal(int signal_number) { ::kill(pid_, signal_number); }

  std::string Log() {
    if (reader_.joinable()) reader_.join();  // After exit: the whole log.
    absl::MutexLock lock(&mu_);
    return log_;
  }

 private:
  void CollectLog(int fd) {
    char chunk[4096];
    ssize_t n;
    while ((n = ::read(fd, chunk, sizeof(chunk))) > 0) {
      absl::MutexLock lock(&mu_);
      log_.append(chunk, static_cast<size_t>(n));
    }
    ::close(fd);
    absl::MutexLock lock(&mu_);
    log_closed_ = true;
  }

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::thread reader_;
  absl::Mutex mu_;
  std::string log_ ABSL_GUARDED_BY(mu_);
  bool log_closed_ ABSL_GUARDED_BY(mu_) = false;
};

bool ExitedWith(std::optional<int> status, int code) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

void ExpectCleanShutdownOn(int signal_number) {
  ServerProcess server({"--port=0"});
  std::optional<int> port = server.WaitUntilListening();
  ASSERT_TRUE(port.has_value()) << server.Log();
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
  EXPECT_TRUE(ExitedWith(server.WaitForExit(), 0));
  std::string log = server.Log();
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
  ServerProcess server({"--port=0"});
  std::optional<int> port = server.WaitUntilListening();
  ASSERT_TRUE(port.has_value()) << server.Log();
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
  ASSERT_TRUE(ExitedWith(server.WaitForExit(), 0));
  std::string log = server.Log();
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
      {"--max_outbuf_bytes=100", "--max_outbuf_bytes must be at least twice --max_line_bytes"},
      {"--idle_timeout_s=-5", "--idle_timeout_s must be 0 (off) or more"},
      {"--host=", "--host must not be empty"},
  };
  for (const auto& [flag, message] : cases) {
    ServerProcess server({flag});
    EXPECT_TRUE(ExitedWith(server.WaitForExit(), 2)) << flag;
    std::string log = server.Log();
    EXPECT_TRUE(absl::StrContains(log, message)) << flag << ": " << log;
  }
}

TEST(ServerBinaryTest, SaysWhyItCannotListen) {
  ServerProcess first({"--port=0"});
  std::optional<int> port = first.WaitUntilListening();
  ASSERT_TRUE(port.has_value());
  ServerProcess second({absl::StrCat("--port=", *port)});
  EXPECT_TRUE(ExitedWith(second.WaitForExit(), 1));
  EXPECT_TRUE(absl::StrContains(second.Log(), "Address already in use")) << second.Log();
}

}  // namespace
}  // namespace roomchat
