// ClusterNode against a real redis-server: nodes beat, a node that stops (as after kill -9) is
// reaped by a survivor within its TTL (its members' LEAVEs reach the room channel, its nicks are
// freed), and a node restarted under the same id frees its previous process's state at once.
#include "chat/cluster/cluster_node.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/scripts.h"
#include "chat/cluster/test_redis.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

using namespace testing_util;  // NOLINT: the test's own helpers
using namespace cluster;       // NOLINT: key names

constexpr std::chrono::milliseconds kTtl{1000};

class ClusterNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    // A second link plays the places' part (registering a node's members and nicks) and listens
    // to the room's channel.
    helper_ = StartLink(redis_.port(), helper_reports_);
    ASSERT_TRUE(SubscribeAndWait(*helper_, RoomChannel("lounge")));
  }

  std::unique_ptr<ClusterNode> StartNode(const std::string& id,
                                         ClusterNode::NodeMessageSink messages = nullptr) {
    ClusterNodeOptions options;
    options.redis = DefaultOptions(redis_.port());
    options.node_id = id;
    options.node_ttl = kTtl;
    options.max_stream_entries = 1000;
    absl::StatusOr<std::unique_ptr<ClusterNode>> node = ClusterNode::Create(options);
    EXPECT_TRUE(node.ok()) << node.status();
    if (messages) (*node)->SetNodeMessageSink(std::move(messages));
    EXPECT_TRUE((*node)->Start().ok());
    return *std::move(node);
  }

  static bool WaitForHeartbeats(const ClusterNode& node, uint64_t count) {
    absl::Time end = absl::Now() + kDeadline;
    while (node.TEST_heartbeats() < count && absl::Now() < end) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    return node.TEST_heartbeats() >= count;
  }

  void Do(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Ask(*helper_, argv);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_NE(reply->type, RedisReply::Type::kError) << reply->str;
  }

  // What the places of node `node` will register for client `nick` in the lounge.
  void Register(const std::string& node, const std::string& nick, const std::string& shown) {
    Do({"SET", NickKey(nick), absl::StrCat(node, " inc ", shown, " - - 1")});
    Do({"SADD", NodeNicksKey(node), nick});
    Do({"HSET", RoomKey("lounge"), "name", "Lounge"});
    Do({"ZADD", kRoomsKey, "0", "lounge"});
    Do({"HSET", RoomMembersKey("lounge"), nick, absl::StrCat(node, " ", shown)});
    Do({"SADD", NodeMembersKey(node), absl::StrCat("lounge ", nick)});
  }

  bool Exists(const std::string& key) {
    absl::StatusOr<RedisReply> reply = Ask(*helper_, {"EXISTS", key});
    return reply.ok() && reply->integer == 1;
  }

  // The first LEAVE on the lounge's channel, or an empty body if none came in time.
  RoomEntry WaitForLeave() {
    std::vector<std::string> got = helper_reports_.WaitForCount(1);
    if (got.empty()) return {};
    absl::StatusOr<RoomEntry> entry = HeardEntry("lounge", got[0]);
    EXPECT_TRUE(entry.ok()) << entry.status();
    return entry.ok() ? *entry : RoomEntry{};
  }

  TestRedis redis_;
  Reports helper_reports_;
  std::unique_ptr<RedisLink> helper_;
};

TEST_F(ClusterNodeTest, RefusesABadNodeId) {
  ClusterNodeOptions options;
  options.node_ttl = std::chrono::seconds(15);
  options.max_stream_entries = 1000;
  options.node_id = "two words";
  EXPECT_FALSE(ClusterNode::Create(options).ok());
  options.node_id = "";
  EXPECT_FALSE(ClusterNode::Create(options).ok());
}

TEST_F(ClusterNodeTest, AStoppedNodeIsReapedBySurvivorWithinItsTtl) {
  std::unique_ptr<ClusterNode> a = StartNode("a");
  std::unique_ptr<ClusterNode> b = StartNode("b");
  ASSERT_TRUE(WaitForHeartbeats(*a, 1));
  ASSERT_TRUE(WaitForHeartbeats(*b, 1));
  Register("a", "alice", "Alice");
  Register("b", "bob", "Bob");
  // a beats past its TTL: never taken for dead.
  ASSERT_TRUE(WaitForHeartbeats(*a, a->TEST_heartbeats() + 6));
  EXPECT_EQ(b->TEST_reaped(), 0u);

  a->Stop();  // no goodbye: as kill -9 leaves it
  absl::Time stopped = absl::Now();
  RoomEntry leave = WaitForLeave();
  absl::Duration took = absl::Now() - stopped;
  EXPECT_EQ(leave.kind, "LEAVE");
  EXPECT_EQ(leave.body, "Alice");
  EXPECT_EQ(leave.origin, "b");
  // Within the TTL (node key 3/5 + one beat 1/5 of it), with a margin for a loaded machine.
  EXPECT_LT(took, absl::Milliseconds(kTtl.count()) + absl::Milliseconds(500));
  EXPECT_FALSE(Exists(NickKey("alice")));
  EXPECT_TRUE(Exists(NickKey("bob")));
  absl::Time end = absl::Now() + kDeadline;
  while (b->TEST_reaped() == 0 && absl::Now() < end) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(b->TEST_reaped(), 1u);
}

TEST_F(ClusterNodeTest, ARestartedNodeFreesItsPreviousProcessAtOnce) {
  std::unique_ptr<ClusterNode> first = StartNode("a");
  ASSERT_TRUE(WaitForHeartbeats(*first, 1));
  Register("a", "alice", "Alice");
  first->Stop();  // killed; its key lives on for 3/5 of the TTL

  absl::Time restarted = absl::Now();
  std::unique_ptr<ClusterNode> second = StartNode("a");
  EXPECT_NE(second->incarnation(), first->incarnation());
  RoomEntry leave = WaitForLeave();
  EXPECT_EQ(leave.kind, "LEAVE");
  EXPECT_EQ(leave.body, "Alice");
  EXPECT_EQ(leave.origin, "a");
  // Well before the old key would have expired.
  EXPECT_LT(absl::Now() - restarted, absl::Milliseconds(kTtl.count() * 3 / 5));
  EXPECT_FALSE(Exists(NickKey("alice")));
  ASSERT_TRUE(WaitForHeartbeats(*second, 1));
  EXPECT_TRUE(Exists(NodeKey("a")));
}

// A private message names the process it is for: one published for an earlier (or later)
// process under the same node id reaches none of this one's clients, whose ids start at 1 too;
// and it is delivered once, a gap before it noticed.
// Guest numbers come from blocks of 1000 that Redis hands out (the first node's is 1 to 1000), in
// a random order: someone who reads one off a WELCOME cannot take the next few with /nick on
// another node and have each newcomer here renamed again and again.
TEST_F(ClusterNodeTest, AGuestBlocksNumbersComeInARandomOrder) {
  std::unique_ptr<ClusterNode> a = StartNode("a");
  constexpr uint64_t kRandomBeforeABlock = 1000000000;
  uint64_t first = kRandomBeforeABlock;
  const absl::Time end = absl::Now() + kDeadline;
  while (first >= kRandomBeforeABlock && absl::Now() < end) {
    first = a->NextGuestNumber();
    if (first >= kRandomBeforeABlock) absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_LT(first, kRandomBeforeABlock) << "no block came";
  std::vector<uint64_t> taken = {first};
  for (int i = 1; i < 1000; ++i) taken.push_back(a->NextGuestNumber());
  std::vector<uint64_t> sorted = taken;
  std::sort(sorted.begin(), sorted.end());
  std::vector<uint64_t> block(1000);
  for (uint64_t i = 0; i < block.size(); ++i) block[i] = i + 1;
  EXPECT_EQ(sorted, block) << "the first block, each number once";
  EXPECT_NE(taken, block) << "not in order";
  int next_is_one_more = 0;
  for (size_t i = 1; i < taken.size(); ++i) next_is_one_more += taken[i] == taken[i - 1] + 1;
  EXPECT_LT(next_is_one_more, 20) << "about one in a thousand by chance";
}

TEST_F(ClusterNodeTest, PrivateMessagesReachOnlyTheProcessTheyAreFor) {
  absl::Mutex mu;
  std::vector<std::string> got;
  std::unique_ptr<ClusterNode> a = StartNode("a", [&](uint64_t client, const std::string& line) {
    absl::MutexLock lock(&mu);
    got.push_back(absl::StrCat(client, " ", line));
  });
  ASSERT_TRUE(WaitForHeartbeats(*a, 1));
  auto publish = [&](const std::string& id, const std::string& prev, const std::string& rest) {
    Do({"PUBLISH", NodeChannel("a"), absl::StrCat("msg ", id, " ", prev, " ", rest)});
  };
  publish("1-0", "0-0", "0000-other 3 PRIV bob not for you");
  publish("2-0", "1-0", absl::StrCat(a->incarnation(), " 3 PRIV bob hi"));
  // A message is delivered once, in its inbox's order: one whose id is not past the last
  // delivered (heard again, or read from the inbox after being heard) is not delivered again.
  publish("2-0", "1-0", absl::StrCat(a->incarnation(), " 4 again"));
  publish("1-9", "1-0", absl::StrCat(a->incarnation(), " 4 older"));
  publish("3-0", "2-0", absl::StrCat(a->incarnation(), " 4 next"));
  EXPECT_EQ(a->TEST_inbox_gaps(), 0u);
  // One whose inbox entry came after another than the last delivered: that one was lost (its
  // inbox trimmed it). It is counted and logged, and this one delivered.
  publish("5-0", "4-0", absl::StrCat(a->incarnation(), " 4 after a gap"));
  absl::Time end = absl::Now() + kDeadline;
  for (bool done = false; !done && absl::Now() < end; absl::SleepFor(absl::Milliseconds(5))) {
    absl::MutexLock lock(&mu);
    done = got.size() >= 3;
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(got, (std::vector<std::string>{"3 PRIV bob hi", "4 next", "4 after a gap"}));
  EXPECT_EQ(a->TEST_inbox_gaps(), 1u);
}

// After Redis lost its data and the node re-registered what it held against the epoch it knew,
// a later registration (a client's room move that failed here, put back) is made against the
// epoch Redis has now: the room saw the client go, so it hears it come back.
TEST_F(ClusterNodeTest, ARegistrationAfterALossRoundIsAnnounced) {
  std::unique_ptr<ClusterNode> a = StartNode("a");
  ASSERT_TRUE(WaitForHeartbeats(*a, 1));
  redis_.Kill();
  ASSERT_TRUE(redis_.Restart().ok());  // empty
  const uint64_t beats = a->TEST_heartbeats();
  ASSERT_TRUE(WaitForHeartbeats(*a, beats + 1));  // up again, its epoch read before the beat
  Reports heard;
  std::unique_ptr<RedisLink> listener = StartLink(redis_.port(), heard);
  ASSERT_TRUE(SubscribeAndWait(*listener, RoomChannel("lounge")));
  cluster::Registration zed;
  zed.client = 5;
  zed.nick = "Zed";
  zed.room_key = "lounge";
  zed.room_name = "Lounge";
  a->Register(zed);
  std::vector<std::string> got = heard.WaitForCount(1);
  ASSERT_EQ(got.size(), 1u);
  absl::StatusOr<RoomEntry> join = HeardEntry("lounge", got[0]);
  ASSERT_TRUE(join.ok()) << join.status();
  EXPECT_EQ(join->kind, "JOIN");
  EXPECT_EQ(join->body, "Zed");
}

}  // namespace
}  // namespace roomchat
