// The fixture of the attacker's tests of room moderation across cluster nodes
// (cluster_moderation_attack_test.cc, cluster_moderation_races_test.cc): in-process nodes sharing
// a redis-server of the test's own (frozen, killed and restarted where a test says so), clients
// spread over them, and a probe connection that reads what Redis holds afterwards.
//
// Thread contract: as a gtest fixture, for the test's thread.
#ifndef ROOMCHAT_TESTS_CLUSTER_MODERATION_FIXTURE_H_
#define ROOMCHAT_TESTS_CLUSTER_MODERATION_FIXTURE_H_

#include <algorithm>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/cluster/cluster_node.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/scripts.h"
#include "chat/cluster/settings_scripts.h"
#include "chat/cluster/test_redis.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/data_dir.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {


// Long enough that no node key expires while Redis is frozen for the link's command timeout (5 s):
// a node key lives 3/5 of it (18 s), so no node is reaped by the other when Redis is thawed.
inline constexpr int kTtlSeconds = 30;

class ClusterModerationAttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    probe_ = testing_util::StartLink(redis_.port(), probe_reports_);
    ASSERT_TRUE(probe_reports_.WaitForState(RedisLink::State::kConnected));
  }
  void TearDown() override {
    nodes_.clear();
    if (probe_ != nullptr) probe_->Stop();
  }

  void StartNodes(int count, ServerOptions options = {}) {
    options.cluster_node_ttl_s = kTtlSeconds;
    StartClusterNodes(redis_.port(), count, options, &nodes_);
  }

  std::unique_ptr<TestClient> On(int node, absl::string_view nick = "") {
    return Login(nodes_[node]->port(), nick);
  }

  // Waits until node `node`'s link to Redis is up (or down).
  ::testing::AssertionResult WaitLink(int node, bool up) {
    return WaitClusterLink(*nodes_[node], up) << " (node " << node << ")";
  }

  // One command on the probe connection (Redis must be answering).
  RedisReply Redis(std::vector<std::string> argv) {
    // After a restart the probe reconnects too (with its backoff).
    for (absl::Time until = absl::Now() + kLineDeadline; !probe_->up() && absl::Now() < until;) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    absl::StatusOr<RedisReply> reply = testing_util::Ask(*probe_, argv);
    EXPECT_TRUE(reply.ok()) << absl::StrJoin(argv, " ") << ": " << reply.status();
    return reply.ok() ? *reply : RedisReply{};
  }
  // The strings of an array reply, sorted (SMEMBERS, HKEYS).
  std::vector<std::string> Sorted(std::vector<std::string> argv) {
    RedisReply reply = Redis(std::move(argv));
    std::vector<std::string> out;
    for (const RedisReply& element : reply.elements) out.push_back(element.str);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> RoomMembers(absl::string_view room) {
    return Sorted({"HKEYS", absl::StrCat("rc:room:", room, ":members")});
  }
  std::vector<std::string> NodeMembers(int node) {
    return Sorted({"SMEMBERS", absl::StrCat("rc:node:n", node, ":members")});
  }

  TestRedis redis_;
  testing_util::Reports probe_reports_;
  std::unique_ptr<RedisLink> probe_;
  std::vector<std::unique_ptr<Server>> nodes_;
};

// The next line of `client` that is not one of `skipped`-prefixed lines.
inline std::string NextSkipping(TestClient& client, const std::vector<std::string>& skipped) {
  for (int i = 0; i < 1000; ++i) {
    std::string line = client.Next();
    bool skip = false;
    for (const std::string& prefix : skipped) skip = skip || absl::StartsWith(line, prefix);
    if (!skip) return line;
  }
  return "<too many skipped lines>";
}


// Every line `client` gets until it has all of `want` (each waited for), then what else arrived
// before a round trip; sorted, for lines whose order between two sources is not promised.
inline Lines Gather(TestClient& client, size_t count) {
  Lines lines;
  for (size_t i = 0; i < count; ++i) {
    lines.push_back(client.Next());
    if (absl::StartsWith(lines.back(), "<")) break;
  }
  Lines rest = Pending(client);
  lines.insert(lines.end(), rest.begin(), rest.end());
  std::sort(lines.begin(), lines.end());
  return lines;
}
inline Lines SortedLines(Lines lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}


}  // namespace roomchat

#endif  // ROOMCHAT_TESTS_CLUSTER_MODERATION_FIXTURE_H_
