// Redis up but refusing commands (docs/CLUSTER.md, "Redis unavailable"): out of memory
// (`maxmemory` with `noeviction`), as a read-only replica or a failed save would. A refused
// command is answered as when Redis is away (`ERR unavailable`, never Redis's own error), and
// what a node holds that Redis refused to record (a guest's nick) is registered again once Redis
// takes writes: no two clients ever hold one nick. In-process nodes, a redis-server of the test's
// own, and a probe connection to change its configuration.
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/test_redis.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

class ClusterRefusalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    probe_ = testing_util::StartLink(redis_.port(), probe_reports_);
    ASSERT_TRUE(probe_reports_.WaitForState(RedisLink::State::kConnected));
    ASSERT_EQ(Redis({"CONFIG", "SET", "maxmemory-policy", "noeviction"}), "OK");
  }
  void TearDown() override {
    nodes_.clear();
    if (probe_ != nullptr) probe_->Stop();
  }

  // One command on the probe connection; its answer as text ("<error>" when it failed).
  std::string Redis(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = testing_util::Ask(*probe_, std::move(argv));
    if (!reply.ok()) return "<error>";
    return reply->type == RedisReply::Type::kInteger ? absl::StrCat(reply->integer) : reply->str;
  }
  // Redis refuses every command that may grow its memory (1 byte of room), or takes them again.
  void RefuseWrites(bool refuse) {
    ASSERT_EQ(Redis({"CONFIG", "SET", "maxmemory", refuse ? "1" : "0"}), "OK");
  }

  // Alice (node 0) and bob (node 1) in room r; `leave` has alice leave while Redis refuses it
  // and lets Redis take commands again: bob sees her go, and /who agrees.
  void LeaveWhileRedisRefuses(absl::FunctionRef<void(TestClient& alice)> leave) {
    StartClusterNodes(redis_.port(), 2, {}, &nodes_);
    auto alice = Login(nodes_[0]->port(), "alice");
    auto bob = Login(nodes_[1]->port(), "bob");
    ASSERT_TRUE(alice && bob);
    ASSERT_NO_FATAL_FAILURE(SeatInRoom("r", {{alice.get(), "alice"}, {bob.get(), "bob"}}));
    ASSERT_NO_FATAL_FAILURE(leave(*alice));
    EXPECT_EQ(bob->Next(kLineDeadline + absl::Seconds(10)), "LEAVE r alice");
    const Lines who = {"MEMBER bob", "OK WHO r 1"};
    EXPECT_EQ(AnswerUntil(*bob, "/who r", who), who);
  }

  TestRedis redis_;
  testing_util::Reports probe_reports_;
  std::unique_ptr<RedisLink> probe_;
  std::vector<std::unique_ptr<Server>> nodes_;
};

// The nick in "OK WHOAMI <nick> <room>".
std::string NickOf(const std::string& whoami) {
  std::vector<std::string> words = absl::StrSplit(whoami, ' ');
  return words.size() == 4 ? words[2] : "";
}

TEST_F(ClusterRefusalsTest, ARefusedCommandIsUnavailableNotRedissError) {
  StartClusterNodes(redis_.port(), 2, {}, &nodes_);
  auto alice = Login(nodes_[0]->port(), "alice");
  ASSERT_TRUE(alice);
  RefuseWrites(true);
  EXPECT_EQ(alice->Ask("/create r"), "ERR unavailable the cluster is unavailable; try again");
  EXPECT_EQ(alice->Ask("/nick alicia"), "ERR unavailable the cluster is unavailable; try again");
  RefuseWrites(false);
  EXPECT_EQ(alice->Ask("/create r"), "OK CREATE r");
}

TEST_F(ClusterRefusalsTest, AGuestNickRedisRefusedIsClaimedOnceItTakesWritesAgain) {
  StartClusterNodes(redis_.port(), 2, {}, &nodes_);
  RefuseWrites(true);
  auto guest = Login(nodes_[0]->port());  // its nick's claim is refused
  ASSERT_TRUE(guest);
  const std::string nick = NickOf(guest->Ask("/whoami"));
  ASSERT_TRUE(absl::StartsWith(nick, "guest")) << nick;
  // Asked after the claim on the same connection to Redis: answered after it.
  EXPECT_TRUE(IsErr(guest->Ask("/create r"), "unavailable"));
  RefuseWrites(false);
  // The next heartbeat gets through: the node registers its clients again.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Redis({"EXISTS", absl::StrCat("rc:nick:", nick)}) == "1";
      },
      kLineDeadline + absl::Seconds(10)))
      << nick << " never registered";
  auto other = Login(nodes_[1]->port());
  ASSERT_TRUE(other);
  EXPECT_EQ(other->Ask(absl::StrCat("/nick ", nick)),
            absl::StrCat("ERR nick-taken ", nick, " is taken"));
  EXPECT_EQ(guest->Ask("/whoami"), absl::StrCat("OK WHOAMI ", nick, " -")) << "kept its nick";
}

// A leave Redis refused keeps the member there; once Redis takes commands again the node
// registers what it holds anew, and the member is gone for everyone.
TEST_F(ClusterRefusalsTest, AMemberWhoLeftWhileRedisRefusedIsGoneOnceItTakesWritesAgain) {
  LeaveWhileRedisRefuses([&](TestClient& alice) {
    RefuseWrites(true);
    EXPECT_EQ(alice.Ask("/leave"), "OK LEAVE r");  // here at once; refused in Redis
    EXPECT_TRUE(IsErr(alice.Ask("/create s"), "unavailable"));  // (after the leave, in order)
    RefuseWrites(false);
  });
}

// A client here whose nick Redis does not have (its claim was refused, and the node has not
// registered it again yet) still gets a private message from a room member here, as on one node.
TEST_F(ClusterRefusalsTest, AMessageToAClientHereWhoseNickRedisLostStillReachesIt) {
  StartClusterNodes(redis_.port(), 2, {}, &nodes_);
  auto alice = Login(nodes_[0]->port(), "alice");
  auto bob = Login(nodes_[0]->port(), "bob");
  ASSERT_TRUE(alice && bob);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  ASSERT_EQ(Redis({"DEL", "rc:nick:bob"}), "1");
  EXPECT_EQ(alice->Ask("/msg bob hi"), "OK MSG bob");
  EXPECT_EQ(bob->Next(), "PRIV alice hi");
  EXPECT_TRUE(IsErr(alice->Ask("/msg nobody hi"), "no-such-nick"));
}

// An operator's SCRIPT FLUSH: the leave that meets NOSCRIPT did not run, as one Redis refused;
// the node registers what it holds anew, and the member is gone for everyone.
TEST_F(ClusterRefusalsTest, AMemberWhoLeftAsRedisLostItsScriptsIsGoneOnceTheyAreBack) {
  LeaveWhileRedisRefuses([&](TestClient& alice) {
    ASSERT_EQ(Redis({"SCRIPT", "FLUSH"}), "OK");
    EXPECT_EQ(alice.Ask("/leave"), "OK LEAVE r");  // here at once; NOSCRIPT in Redis
  });
}

}  // namespace
}  // namespace roomchat
