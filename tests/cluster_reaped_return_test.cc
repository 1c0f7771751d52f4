// What the members of a node see when it comes back after the others took it for dead (docs/
// CLUSTER.md, "On return"): a reaper announced its members as gone (LEAVE) while it was cut off,
// and it registers them again (JOIN) when its link returns. The other nodes' members see both; the
// node's own members, who never left, see neither of each other, as one node never shows a member
// leaving and coming back. In-process nodes and a redis-server of the test's own.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/test_redis.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

class ClusterReapedReturnTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }
  void TearDown() override { nodes_.clear(); }

  // Runs `command` on a connection of the test's own (made before any requirepass), which must
  // succeed; its reply.
  RedisReply Run(std::vector<std::string> command) {
    if (probe_ == nullptr) {
      probe_ = testing_util::StartLink(redis_.port(), reports_);
      EXPECT_TRUE(reports_.WaitForState(RedisLink::State::kConnected));
    }
    absl::StatusOr<RedisReply> reply = testing_util::Ask(*probe_, command);
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return {};
    EXPECT_NE(reply->type, RedisReply::Type::kError) << command[0] << ": " << reply->str;
    return *std::move(reply);
  }
  // Reaps node n0 at once (its key deleted, its members' LEAVEs posted by n1), in one step.
  void Reap() {
    for (std::vector<std::string> command :
         {std::vector<std::string>{"MULTI"}, {"DEL", cluster::NodeKey("n0")},
          cluster::ReapCommand("n1", "n0", 1000), {"EXEC"}}) {
      Run(command);
    }
  }

  // Node n0 alone, alice_ and dave_ on it in room r.
  void SeatAliceAndDave() {
    StartClusterNodes(redis_.port(), 1, {}, &nodes_);
    alice_ = Login(nodes_[0]->port(), "alice");
    dave_ = Login(nodes_[0]->port(), "dave");
    ASSERT_TRUE(alice_ && dave_);
    ASSERT_NO_FATAL_FAILURE(SeatInRoom("r", {{alice_.get(), "alice"}, {dave_.get(), "dave"}}));
  }
  // Redis asks for a password the nodes do not have from now on (connections made before, the
  // test's and the nodes', stay in).
  void RequirePassword() { Run({"CONFIG", "SET", "requirepass", "cut-off"}); }
  // Cuts n0 off: its subscriber connection dropped (it drops its other one, and cannot connect
  // again while Redis asks for a password).
  void CutOff() {
    Run({"CLIENT", "KILL", "TYPE", "pubsub"});
    ASSERT_TRUE(WaitClusterLink(*nodes_[0], /*up=*/false));
  }
  // Lets n0 back in, once it has reconnected.
  void LetBackIn() {
    Run({"CONFIG", "SET", "requirepass", ""});
    ASSERT_TRUE(WaitClusterLink(*nodes_[0], /*up=*/true));
  }

  TestRedis redis_;
  std::vector<std::unique_ptr<Server>> nodes_;
  std::unique_ptr<TestClient> alice_, dave_;  // SeatAliceAndDave
  testing_util::Reports reports_;
  std::unique_ptr<RedisLink> probe_;
};

// Reads `client`'s lines until each of `want` has come (in any order) or the deadline; the lines
// that are not among them.
Lines ReadUntilAll(TestClient& client, std::set<std::string> want) {
  Lines others;
  const absl::Time until = absl::Now() + kLineDeadline;
  while (!want.empty() && absl::Now() < until) {
    absl::StatusOr<std::string> line = client.ReadLine(until - absl::Now());
    if (!line.ok()) break;
    if (want.erase(*line) == 0) others.push_back(*line);
  }
  EXPECT_TRUE(want.empty()) << "still waiting for " << absl::StrJoin(want, " | ");
  return others;
}

// An attacker's review (4 of 4 runs): the LEAVEs were skipped in the hole the node read on its
// return, but the JOINs of its re-registration, heard live, were shown to its members.
TEST_F(ClusterReapedReturnTest, NodeMatesDoNotSeeEachOtherLeaveOrJoinAgain) {
  ServerOptions options;
  options.cluster_node_ttl_s = 2;  // the node notices its key gone within a beat (400 ms)
  StartClusterNodes(redis_.port(), 2, options, &nodes_);
  auto alice = Login(nodes_[0]->port(), "alice");
  auto dave = Login(nodes_[0]->port(), "dave");
  auto bob = Login(nodes_[1]->port(), "bob");
  ASSERT_TRUE(alice && dave && bob);
  ASSERT_NO_FATAL_FAILURE(
      SeatInRoom("r", {{alice.get(), "alice"}, {dave.get(), "dave"}, {bob.get(), "bob"}}));

  // n0 is taken for dead and reaped in one step (its key gone, its members' LEAVEs posted by n1),
  // and does not hear the LEAVEs: as when it is cut off from Redis meanwhile.
  nodes_[0]->TEST_cluster()->TEST_DropRoomEntries(2);
  ASSERT_NO_FATAL_FAILURE(Reap());
  // bob sees them go, and come back once n0's heartbeat found its key gone and it registered
  // them again.
  EXPECT_EQ(ReadUntilAll(*bob, {"LEAVE r alice", "LEAVE r dave"}), Lines{});
  EXPECT_EQ(ReadUntilAll(*bob, {"JOIN r alice", "JOIN r dave"}), Lines{});

  // alice and dave, who never left, hear nothing of it: the next thing each hears is bob's line.
  ASSERT_TRUE(bob->Send("after").ok());
  EXPECT_EQ(alice->Next(), "MSG r bob after");
  EXPECT_EQ(dave->Next(), "MSG r bob after");
}

// A member that left during the outage was announced gone here at once; the reaper's LEAVE for it,
// read on return, is not shown again (an attacker's review: LEAVE twice, 6 of 6 runs).
TEST_F(ClusterReapedReturnTest, AMemberThatLeftDuringTheOutageIsNotSeenLeavingTwice) {
  ASSERT_NO_FATAL_FAILURE(SeatAliceAndDave());
  RequirePassword();
  ASSERT_NO_FATAL_FAILURE(CutOff());
  EXPECT_EQ(dave_->Ask("/leave"), "OK LEAVE r");
  EXPECT_EQ(alice_->Next(), "LEAVE r dave");
  // Meanwhile the node is taken for dead, and reaped (LEAVE alice, LEAVE dave), the room kept
  // open by a member elsewhere (as if on another node); then the node is back.
  Run({"HSET", cluster::RoomMembersKey("r"), "carol", "n2 carol"});
  ASSERT_NO_FATAL_FAILURE(Reap());
  ASSERT_NO_FATAL_FAILURE(LetBackIn());
  EXPECT_EQ(AskUntil(*dave_, "/join r", "OK JOIN"), "OK JOIN r 3");
  EXPECT_EQ(alice_->Next(), "JOIN r dave");
}

// The node stalled instead (its link up): its members saw the reaper's LEAVEs as they came. One
// that then leaves, or talks, while the node is cut off is not seen leaving again, nor talking
// after it left (an attacker's review, SIGSTOP: LEAVE twice with a line between, 2 of 8 runs).
TEST_F(ClusterReapedReturnTest, AMemberSeenLeavingWhileStalledNeitherLeavesAgainNorTalks) {
  ASSERT_NO_FATAL_FAILURE(SeatAliceAndDave());
  RequirePassword();
  Run({"HSET", cluster::RoomMembersKey("r"), "carol", "n2 carol"});  // the room stays open
  ASSERT_NO_FATAL_FAILURE(Reap());
  EXPECT_EQ(alice_->Next(), "LEAVE r dave");
  EXPECT_EQ(dave_->Next(), "LEAVE r alice");
  ASSERT_NO_FATAL_FAILURE(CutOff());
  ASSERT_TRUE(dave_->Send("said after its LEAVE").ok());
  EXPECT_EQ(dave_->Next(), "ERR not-in-room the room no longer had you when this line reached it");
  EXPECT_EQ(dave_->Ask("/leave"), "OK LEAVE r");
  ASSERT_NO_FATAL_FAILURE(LetBackIn());
  EXPECT_EQ(AskUntil(*dave_, "/join r", "OK JOIN"), "OK JOIN r 3");
  EXPECT_EQ(alice_->Next(), "JOIN r dave");
}

// Stalled and reaped, its member still holding its nick here: someone on another node who took
// the nick meanwhile joins and leaves, and the member sees both, as everyone does (an attacker's
// review: the LEAVE was kept from it, taken for its own, 2 of 2 runs).
TEST_F(ClusterReapedReturnTest, AMemberSeesTheLeaveOfWhoeverTookItsNickElsewhere) {
  StartClusterNodes(redis_.port(), 2, {}, &nodes_);
  auto alice = Login(nodes_[0]->port(), "alice");
  auto dave = Login(nodes_[0]->port(), "dave");
  auto bob = Login(nodes_[1]->port(), "bob");
  auto taker = Login(nodes_[1]->port(), "taker");
  ASSERT_TRUE(alice && dave && bob && taker);
  ASSERT_NO_FATAL_FAILURE(
      SeatInRoom("r", {{alice.get(), "alice"}, {dave.get(), "dave"}, {bob.get(), "bob"}}));
  // Reaped, and its key put back at once: n0 heard the LEAVEs, and its heartbeat will not notice.
  const std::string incarnation = Run({"GET", cluster::NodeKey("n0")}).str;
  ASSERT_NO_FATAL_FAILURE(Reap());
  Run({"SET", cluster::NodeKey("n0"), incarnation, "PX", "60000"});
  EXPECT_EQ(dave->Next(), "LEAVE r alice");
  EXPECT_EQ(taker->Ask("/nick dave"), "OK NICK dave");
  EXPECT_EQ(taker->Ask("/join r"), "OK JOIN r 2");
  EXPECT_EQ(taker->Ask("/leave"), "OK LEAVE r");
  EXPECT_EQ(dave->Next(), "JOIN r dave");
  EXPECT_EQ(dave->Next(), "LEAVE r dave");
}

}  // namespace
}  // namespace roomchat
