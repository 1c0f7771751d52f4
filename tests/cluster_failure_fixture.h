// The fixture of the cluster's failure tests (tests/cluster_failure_test.cc,
// tests/cluster_nick_conflict_test.cc): every node a real chat_server child process (so it can be
// killed, stopped and its log read) and a redis-server of the test's own.
#ifndef ROOMCHAT_TESTS_CLUSTER_FAILURE_FIXTURE_H_
#define ROOMCHAT_TESTS_CLUSTER_FAILURE_FIXTURE_H_

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/cluster/test_redis.h"
#include "gtest/gtest.h"
#include "tests/data_dir.h"
#include "tests/server_fixture.h"
#include "tests/subprocess.h"
#include "tests/test_client.h"

namespace roomchat {
namespace cluster_failure {

inline constexpr char kServerPath[] = "chat/chat_server";
// --cluster_node_ttl_s of every node: short, so a dead node is reaped within seconds, and long
// enough (a node key lives 3.6 s) that a node slowed by a loaded sanitizer run is not taken for
// a dead one.
inline constexpr int kTtlSeconds = 6;
// How long the reaping of a killed node may take before the test fails: three TTLs and the
// deadline of a line on a loaded machine (a sanitizer build is much slower). Not a timing claim:
// docs/CLUSTER.md promises 4/5 of one TTL.
inline absl::Duration ReapDeadline() { return absl::Seconds(3 * kTtlSeconds) + kLineDeadline; }
// How long a node may take to notice that Redis came back (its backoff reaches 5 s) and register
// again.
inline absl::Duration RecoveryDeadline() { return absl::Seconds(10) + kLineDeadline; }

struct Node {
  std::string id;
  std::unique_ptr<Subprocess> process;
  int port = 0;
};

class ClusterFailureTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }

  void TearDown() override {
    for (const std::unique_ptr<Node>& node : nodes_) {
      // A sanitizer build's report (the child's TSAN_OPTIONS/ASAN_OPTIONS come from the test's).
      EXPECT_FALSE(absl::StrContains(node->process->Stderr(), "Sanitizer")) << "node " << node->id;
    }
    if (!HasFailure()) return;
    for (const std::unique_ptr<Node>& node : nodes_) {
      std::cerr << "---- log of node " << node->id << " ----\n" << node->process->Stderr() << "\n";
    }
  }

  std::string RedisAddress() const { return absl::StrCat("127.0.0.1:", redis_.port()); }

  // Starts chat_server as node `id` and waits until its link to Redis is up.
  Node& StartNode(const std::string& id) {
    Node node;
    node.id = id;
    node.process = std::make_unique<Subprocess>(
        kServerPath,
        std::vector<std::string>{"--port=0", "--http_port=0", DataDirFlag(),
                                 absl::StrCat("--cluster_redis=", RedisAddress()),
                                 absl::StrCat("--node_id=", id),
                                 absl::StrCat("--cluster_node_ttl_s=", kTtlSeconds)});
    std::optional<int> port = WaitUntilListening(*node.process, kLineDeadline);
    EXPECT_TRUE(port.has_value()) << node.process->Stderr();
    node.port = port.value_or(0);
    EXPECT_TRUE(node.process->WaitForStderr(
        absl::StrCat("redis link to ", RedisAddress(), " up"), kLineDeadline))
        << node.process->Stderr();
    nodes_.push_back(std::make_unique<Node>(std::move(node)));
    return *nodes_.back();
  }

  bool Running(Node& node) { return !node.process->WaitForExit(absl::Milliseconds(10)); }

  TestRedis redis_;
  std::vector<std::unique_ptr<Node>> nodes_;  // stable addresses: tests keep Node&
};

// Reads until `want`; returns the lines read before it (in `skipped`) and whether it came.
inline bool ReadUntilLine(TestClient& client, absl::string_view want, Lines* skipped,
                   absl::Duration deadline = kLineDeadline) {
  absl::Time until = absl::Now() + deadline;
  while (absl::Now() < until) {
    absl::StatusOr<std::string> line = client.ReadLine(until - absl::Now());
    if (!line.ok()) return false;
    if (*line == want) return true;
    skipped->push_back(*line);
  }
  return false;
}

// For EXPECT_TRUE: every line in `lines` is a JOIN in room r (what re-registration may announce).
inline ::testing::AssertionResult OnlyJoins(const Lines& lines) {
  for (const std::string& line : lines) {
    if (!absl::StartsWith(line, "JOIN r ")) {
      return ::testing::AssertionFailure() << "unexpected lines: " << absl::StrJoin(lines, " | ");
    }
  }
  return ::testing::AssertionSuccess();
}

// `reader` gets `line` (after at most JOINs of room r, which a re-registration may announce).
inline void ExpectLineAfterJoins(TestClient& reader, absl::string_view line) {
  Lines skipped;
  EXPECT_TRUE(ReadUntilLine(reader, line, &skipped)) << line;
  EXPECT_TRUE(OnlyJoins(skipped));
}

}  // namespace cluster_failure
}  // namespace roomchat

#endif  // ROOMCHAT_TESTS_CLUSTER_FAILURE_FIXTURE_H_
