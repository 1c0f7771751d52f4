// What a clustered node tells a client comes in the order one node would tell it, although Redis
// answers a node on two connections, its commands' and its subscriptions', and nothing orders the
// two (docs/CLUSTER.md, "rc_msg"). In-process nodes and a redis-server of the test's own.
#include <memory>
#include <vector>

#include "chat/cluster/test_redis.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

class ClusterAnswerOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    StartClusterNodes(redis_.port(), 2, {}, &nodes_);
  }
  void TearDown() override { nodes_.clear(); }

  TestRedis redis_;
  std::vector<std::unique_ptr<Server>> nodes_;
};

// A /msg that Redis resolved to a client's new nick reaches it after its OK NICK, as on one node,
// where the rename and its answer are one step (the message came on the subscriber connection
// while the answer to the /nick was still unread on the command connection).
TEST_F(ClusterAnswerOrderTest, AMsgToANewNickComesAfterTheOkNick) {
  auto alice = Login(nodes_[0]->port(), "alice");
  auto bob = Login(nodes_[1]->port(), "bob");
  ASSERT_TRUE(alice && bob);
  ClusterNode& bobs_node = *nodes_[1]->TEST_cluster();
  const uint64_t heard_before = bobs_node.TEST_messages_heard();
  // Bob's node is slow to read Redis's answers; its subscriber connection is not.
  bobs_node.TEST_HoldReplies(true);
  ASSERT_TRUE(bob->Send("/nick robert").ok());
  // Once Redis has renamed him, alice's message finds the new nick.
  EXPECT_EQ(AskUntil(*alice, "/msg robert hi", "OK MSG"), "OK MSG robert");
  EXPECT_TRUE(WaitUntil([&] { return bobs_node.TEST_messages_heard() > heard_before; }))
      << "bob's node never heard the message";
  bobs_node.TEST_HoldReplies(false);
  EXPECT_EQ(bob->Next(), "OK NICK robert");
  EXPECT_EQ(bob->Next(), "PRIV alice hi");
}

// Lines said after a /msg come after its PRIV, though the PRIV waits for the answers before it
// (above) and the lines do not need to.
TEST_F(ClusterAnswerOrderTest, ALineSaidAfterAMsgComesAfterThePriv) {
  auto alice = Login(nodes_[0]->port(), "alice");
  auto bob = Login(nodes_[1]->port(), "bob");
  auto carol = Login(nodes_[1]->port(), "carol");
  ASSERT_TRUE(alice && bob && carol);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  for (TestClient* joiner : {bob.get(), carol.get()}) {
    ASSERT_EQ(joiner->Ask("/join r").substr(0, 9), "OK JOIN r");
  }
  ASSERT_EQ(alice->Next(), "JOIN r bob");
  ASSERT_EQ(alice->Next(), "JOIN r carol");
  ASSERT_EQ(bob->Next(), "JOIN r carol");
  ClusterNode& alices_node = *nodes_[0]->TEST_cluster();
  const uint64_t heard_before = alices_node.TEST_messages_heard();
  alices_node.TEST_HoldReplies(true);
  ASSERT_TRUE(bob->SendRaw("/msg alice psst\nsaid after\n").ok());
  EXPECT_EQ(bob->Next(), "OK MSG alice");
  EXPECT_EQ(carol->Next(), "MSG r bob said after");
  // Alice's node has both: the message on its channel, the line on the room's.
  EXPECT_TRUE(WaitUntil([&] { return alices_node.TEST_messages_heard() >= heard_before + 2; }));
  alices_node.TEST_HoldReplies(false);
  EXPECT_EQ(alice->Next(), "PRIV bob psst");
  EXPECT_EQ(alice->Next(), "MSG r bob said after");
}

}  // namespace
}  // namespace roomchat
