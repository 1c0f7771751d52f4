// TestRedis: a redis-server of a test's own, on a free loopback port, in a temporary directory,
// persisting nothing (--save "" --appendonly no). Redis has no "--port 0", so a port is found by
// binding a socket to port 0 and closing it; if another process takes it first, redis-server
// exits and Start() tries another. Kill() stops it (SIGKILL) and Restart() brings it back on the
// same port, empty, as a Redis that crashed and came back would be.
//
// Thread contract: for the test's thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_TEST_REDIS_H_
#define ROOMCHAT_CHAT_CLUSTER_TEST_REDIS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tests/subprocess.h"

namespace roomchat {

class TestRedis {
 public:
  static constexpr const char* kServer = "/usr/bin/redis-server";

  TestRedis() = default;
  ~TestRedis() { Kill(); }

  // Starts redis-server on a free port, waiting at most `deadline` for it to accept connections.
  absl::Status Start(absl::Duration deadline = absl::Seconds(20));
  // Kills it (SIGKILL) and waits for it to exit.
  void Kill();
  // Freezes it (SIGSTOP): connections stay open and nothing is answered, as with a hung Redis or
  // a peer gone without a reset. Thaw() continues it (SIGCONT).
  void Freeze();
  void Thaw();
  // Starts it again on the same port.
  absl::Status Restart(absl::Duration deadline = absl::Seconds(20));
  int port() const { return port_; }

 private:
  absl::Status StartOn(int port, absl::Duration deadline);

  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_TEST_REDIS_H_
