// A cluster answers as one node does, byte for byte: refusals whose wording or order differed
// between one server and a two-node cluster (found by a differential run of the same script
// against both, 2026-12-03). Each test runs on one server and on two nodes
// (tests/moderation_fixture.h); the clients a test needs side by side are on the same node, where
// a node's own checks answer before Redis is asked, unless a test says otherwise.
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/moderation_fixture.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

using SameAnswersTest = ModerationTest;

TEST_P(SameAnswersTest, AMissingRoomIsNamedAsAsked) {
  StartServer();
  auto carol = LoginOn(0, "carol");
  ASSERT_NE(carol, nullptr);
  EXPECT_EQ(carol->Ask("/join Nowhere"), "ERR no-such-room no room called Nowhere");
  EXPECT_EQ(carol->Ask("/who Nowhere"), "ERR no-such-room no room called Nowhere");
}

TEST_P(SameAnswersTest, TheRoomLimitIsTheServers) {
  ServerOptions options;
  options.max_rooms = 1;
  StartServer(options);
  auto alice = Login("alice");
  auto bob = Login("bob");  // on the other node: Redis, not bob's node, counts alice's room
  ASSERT_NE(bob, nullptr);
  ASSERT_EQ(alice->Ask("/create Den"), "OK CREATE Den");
  EXPECT_EQ(bob->Ask("/create Attic"),
            "ERR limit the server holds its maximum of 1 rooms; cannot create Attic");
}

TEST_P(SameAnswersTest, ARegisteredNickIsRefusedAsRegisteredThoughSomeoneHereHoldsIt) {
  StartServer();
  auto alice = Registered("alice");  // node 0 (in turn)
  auto bob = LoginOn(0, "bob");
  ASSERT_NE(alice, nullptr);
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->Ask("/nick alice"), "ERR nick-registered alice is registered; /login alice "
                                     "PASSWORD");
  EXPECT_EQ(bob->Ask("/nick ALICE"), "ERR nick-registered ALICE is registered; /login ALICE "
                                     "PASSWORD");
  // A login elsewhere on this node takes the nick; its former holder asks for it back.
  ASSERT_EQ(bob->Ask("/register " + PasswordOf("bob")), "OK REGISTER bob");
  auto carol = LoginOn(0, "carol");
  ASSERT_NE(carol, nullptr);
  ASSERT_EQ(carol->Ask("/login bob " + PasswordOf("bob")), "OK LOGIN bob");
  ASSERT_TRUE(absl::StartsWith(bob->Next(), "RENAMED bob guest"));
  EXPECT_EQ(bob->Ask("/nick bob"), "ERR nick-registered bob is registered; /login bob PASSWORD");
}

TEST_P(SameAnswersTest, AFullRoomIsFullBeforeItsBans) {
  ServerOptions options;
  options.max_room_members = 2;
  StartServer(options);
  auto alice = LoginOn(0, "alice");
  auto bob = LoginOn(0, "bob");
  auto frank = LoginOn(0, "frank");
  ASSERT_NE(frank, nullptr);
  MeetIn("Mod", {alice.get(), bob.get()});
  ASSERT_EQ(alice->Ask("/ban frank"), "OK BAN frank");
  EXPECT_EQ(frank->Ask("/join Mod"), "ERR room-full Mod holds its maximum of 2 members");
  ASSERT_EQ(bob->Ask("/leave"), "OK LEAVE Mod");
  EXPECT_EQ(frank->Ask("/join Mod"), "ERR banned you are banned from Mod");
}

TEST_P(SameAnswersTest, ARegisteredRoomIsNamedInItsRefusalsAsItWasRegistered) {
  StartServer();
  auto alice = Registered("alice");  // node 0
  auto frank = LoginOn(0, "frank");
  auto kate = LoginOn(0, "kate");
  ASSERT_NE(kate, nullptr);
  ASSERT_EQ(alice->Ask("/create Reg regkey"), "OK CREATE Reg");
  ASSERT_EQ(alice->Ask("/ban frank"), "OK BAN frank");
  ASSERT_EQ(alice->Ask("/leave"), "OK LEAVE Reg");  // closed, kept: alice's account owns it
  EXPECT_EQ(kate->Ask("/create reg wrongkey"), "ERR bad-key wrong key for Reg");
  ASSERT_EQ(kate->Ask("/create reg regkey"), "OK CREATE reg");
  EXPECT_EQ(frank->Ask("/join reg regkey"), "ERR banned you are banned from Reg");
  // A change to its settings while it is called reg keeps that name (an attacker's differential
  // run: a cluster went on calling it Reg).
  ASSERT_EQ(alice->Ask("/join reg regkey"), "OK JOIN reg 2");
  ASSERT_EQ(alice->Ask("/ban nobodyhere"), "OK BAN nobodyhere");
  EXPECT_EQ(frank->Ask("/join reg regkey"), "ERR banned you are banned from reg");
}

INSTANTIATE_TEST_SUITE_P(, SameAnswersTest, ::testing::Values(Nodes::kOne, Nodes::kTwo),
                         NodesTestName);

}  // namespace
}  // namespace roomchat
