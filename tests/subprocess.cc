#include "tests/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"

namespace roomchat {

Subprocess::Subprocess(const std::string& path, const std::vector<std::string>& args) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return;
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(path.c_str())};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  stdin_fd_ = in[1];
  collectors_.emplace_back([this, fd = out[0]] { Collect(fd, &stdout_); });
  collectors_.emplace_back([this, fd = err[0]] { Collect(fd, &stderr_); });
}

Subprocess::~Subprocess() {
  CloseStdin();
  if (pid_ > 0 && !exit_status_) {
    ::kill(pid_, SIGKILL);
    WaitForExit(absl::Seconds(10));
  }
  for (std::thread& collector : collectors_) collector.join();
}

void Subprocess::Collect(int fd, std::string* into) {
  char chunk[4096];
  ssize_t n;
  while ((n = ::read(fd, chunk, sizeof(chunk))) > 0) {
    absl::MutexLock lock(&mu_);
    into->append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  absl::MutexLock lock(&mu_);
  (into == &stdout_ ? stdout_closed_ : stderr_closed_) = true;
}

void Subprocess::WriteStdin(absl::string_view bytes) {
  while (!bytes.empty() && stdin_fd_ >= 0) {
    ssize_t n = ::write(stdin_fd_, bytes.data(), bytes.size());
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void Subprocess::CloseStdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

void Subprocess::Signal(int signal_number) { ::kill(pid_, signal_number); }

bool Subprocess::WaitFor(const std::string* stream, bool* closed, absl::string_view text,
                         absl::Duration deadline) {
  absl::MutexLock lock(&mu_);
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return absl::StrContains(*stream, text) || *closed;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), deadline);
  return absl::StrContains(*stream, text);
}

bool Subprocess::WaitForStdout(absl::string_view text, absl::Duration deadline) {
  return WaitFor(&stdout_, &stdout_closed_, text, deadline);
}

bool Subprocess::WaitForStderr(absl::string_view text, absl::Duration deadline) {
  return WaitFor(&stderr_, &stderr_closed_, text, deadline);
}

std::optional<int> Subprocess::WaitForExit(absl::Duration deadline) {
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

bool Subprocess::ExitsWith(int code, absl::Duration deadline) {
  std::optional<int> status = WaitForExit(deadline);
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

std::string Subprocess::Stdout() {
  if (exit_status_) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&stdout_closed_));
  }
  absl::MutexLock lock(&mu_);
  return stdout_;
}

std::string Subprocess::Stderr() {
  if (exit_status_) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&stderr_closed_));
  }
  absl::MutexLock lock(&mu_);
  return stderr_;
}

std::optional<int> WaitUntilListening(Subprocess& server, absl::Duration deadline) {
  const std::string marker = "listening on 127.0.0.1:";
  if (!server.WaitForStderr(marker, deadline)) return std::nullopt;
  std::string log = server.Stderr();
  size_t at = log.find(marker) + marker.size();
  int port = 0;
  if (!absl::SimpleAtoi(log.substr(at, log.find(' ', at) - at), &port)) return std::nullopt;
  return port;
}

}  // namespace roomchat
