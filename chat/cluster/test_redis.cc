#include "chat/cluster/test_redis.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace roomchat {
namespace {

// A loopback port nobody was using a moment ago (0 if none could be had).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

absl::Status TestRedis::Start(absl::Duration deadline) {
  if (dir_.empty()) {
    const char* tmp = ::getenv("TEST_TMPDIR");
    std::string pattern = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/redis.XXXXXX");
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) return absl::InternalError("mkdtemp failed");
    dir_ = buffer.data();
  }
  absl::Status last = absl::UnavailableError("no free port");
  for (int attempt = 0; attempt < 5; ++attempt) {
    int port = FreePort();
    if (port == 0) continue;
    last = StartOn(port, deadline);
    if (last.ok()) return last;
  }
  return last;
}

absl::Status TestRedis::Restart(absl::Duration deadline) {
  Kill();
  // The port was ours a moment ago; a collision here is unlikely but retried briefly.
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    last = StartOn(port_, deadline);
    if (last.ok()) return last;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return last;
}

absl::Status TestRedis::StartOn(int port, absl::Duration deadline) {
  process_ = std::make_unique<Subprocess>(
      kServer, std::vector<std::string>{"--port", absl::StrCat(port), "--bind", "127.0.0.1",
                                        "--save", "", "--appendonly", "no", "--dir", dir_,
                                        "--logfile", "", "--loglevel", "notice"});
  if (!process_->WaitForStdout("Ready to accept connections", deadline)) {
    std::string output = process_->Stdout();
    Kill();
    return absl::UnavailableError(
        absl::StrCat("redis-server on port ", port, " did not start: ", output));
  }
  port_ = port;
  return absl::OkStatus();
}

void TestRedis::Freeze() {
  if (process_ != nullptr) process_->Signal(SIGSTOP);
}

void TestRedis::Thaw() {
  if (process_ != nullptr) process_->Signal(SIGCONT);
}

void TestRedis::Kill() {
  if (process_ == nullptr) return;
  process_->Signal(SIGKILL);
  process_->WaitForExit(absl::Seconds(10));
  process_.reset();
}

}  // namespace roomchat
