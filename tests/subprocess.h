// Subprocess: a program run by a test, with a pipe to its stdin and its stdout and stderr collected
// by threads, so the test can wait (with a deadline) for what it prints.
//
// Thread contract: the methods are for the test's thread; the collecting threads only append under
// mu_.
#ifndef ROOMCHAT_TESTS_SUBPROCESS_H_
#define ROOMCHAT_TESTS_SUBPROCESS_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace roomchat {

class Subprocess {
 public:
  // Starts `path` with `args`. Its stdin is a pipe the test writes to (closed by CloseStdin()).
  Subprocess(const std::string& path, const std::vector<std::string>& args);
  // Kills the process if it is still running.
  ~Subprocess();

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  void WriteStdin(absl::string_view bytes);
  void CloseStdin();
  void Signal(int signal_number);

  // Waits until stdout (or stderr) holds `text`; false if it did not in time.
  bool WaitForStdout(absl::string_view text, absl::Duration deadline);
  bool WaitForStderr(absl::string_view text, absl::Duration deadline);
  // The exit status (as from waitpid), or nullopt if the process did not exit in time.
  std::optional<int> WaitForExit(absl::Duration deadline);
  // True when it exited normally with `code`, waiting up to `deadline`.
  bool ExitsWith(int code, absl::Duration deadline);

  // The process id, for a test that inspects or limits the process (/proc, prlimit(2)).
  pid_t pid() const { return pid_; }

  // What it printed so far; after exit, all of it.
  std::string Stdout();
  std::string Stderr();

 private:
  void Collect(int fd, std::string* into);
  bool WaitFor(const std::string* stream, bool* closed, absl::string_view text,
               absl::Duration deadline);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::optional<int> exit_status_;
  std::vector<std::thread> collectors_;
  absl::Mutex mu_;
  std::string stdout_ ABSL_GUARDED_BY(mu_);
  std::string stderr_ ABSL_GUARDED_BY(mu_);
  bool stdout_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stderr_closed_ ABSL_GUARDED_BY(mu_) = false;
};

// For a chat_server child: the port in its "listening on 127.0.0.1:<port>" log line, once it has
// logged it (within `deadline`).
std::optional<int> WaitUntilListening(Subprocess& server, absl::Duration deadline);

}  // namespace roomchat

#endif  // ROOMCHAT_TESTS_SUBPROCESS_H_
