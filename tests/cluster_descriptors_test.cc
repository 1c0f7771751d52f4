// A clustered node out of descriptors (docs/RELIABILITY.md): clients that would take the last
// kReservedDescriptors under its open-file limit are turned away (BYE server-full), so its link
// to Redis can still reconnect. An attacker's review held 400 idle connections to a node limited
// to 256 descriptors and cut its Redis connections: the link could not reconnect ("Too many open
// files") until the clients left, and the other node reaped it. The node here is a chat_server
// child process started under prlimit(1), with a redis-server of the test's own.
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "chat/client/line_connection.h"
#include "gtest/gtest.h"
#include "tests/cluster_failure_fixture.h"
#include "tests/server_fixture.h"
#include "tests/subprocess.h"

namespace roomchat {
namespace cluster_failure {
namespace {

constexpr int kOpenFileLimit = 128;
constexpr int kConnections = 160;  // more than the limit

TEST_F(ClusterFailureTest, ANodeOutOfDescriptorsTurnsClientsAwayAndKeepsItsLinkToRedis) {
  Subprocess node(
      "/usr/bin/prlimit",
      {absl::StrCat("--nofile=", kOpenFileLimit, ":", kOpenFileLimit), kServerPath, "--port=0",
       "--http_port=-1", DataDirFlag(), absl::StrCat("--cluster_redis=", RedisAddress()),
       "--node_id=a", absl::StrCat("--cluster_node_ttl_s=", kTtlSeconds)});
  std::optional<int> port = WaitUntilListening(node, kLineDeadline);
  ASSERT_TRUE(port.has_value()) << node.Stderr();
  ASSERT_TRUE(
      node.WaitForStderr(absl::StrCat("redis link to ", RedisAddress(), " up"), kLineDeadline))
      << node.Stderr();

  std::vector<std::unique_ptr<LineConnection>> held;
  for (int i = 0; i < kConnections; ++i) {
    absl::StatusOr<std::unique_ptr<LineConnection>> connection =
        LineConnection::Connect("127.0.0.1", *port);
    if (connection.ok()) held.push_back(*std::move(connection));
  }
  EXPECT_TRUE(node.WaitForStderr("limit hit: descriptors nearly exhausted", kLineDeadline))
      << "no connection turned away";

  // Cut the node's connections to Redis (redis-cli's own survives: SKIPME); its link drops.
  Subprocess kill("/usr/bin/redis-cli", {"-p", absl::StrCat(redis_.port()), "CLIENT", "KILL",
                                         "TYPE", "normal", "SKIPME", "yes"});
  ASSERT_TRUE(kill.ExitsWith(0, kLineDeadline)) << kill.Stderr();
  ASSERT_TRUE(
      node.WaitForStderr(absl::StrCat("redis link to ", RedisAddress(), " lost"), kLineDeadline));
  EXPECT_TRUE(node.WaitForStderr(absl::StrCat("redis link to ", RedisAddress(), " restored"),
                                 RecoveryDeadline()))
      << "the link did not reconnect while the clients held the descriptors";
  held.clear();
  if (HasFailure()) std::cerr << "---- log of node a ----\n" << node.Stderr() << "\n";
}

}  // namespace
}  // namespace cluster_failure
}  // namespace roomchat
