// End-to-end tests of room moderation (docs/PROTOCOL.md, "Accounts and moderation"), continued
// from moderation_test.cc: registered rooms whose settings come back when they are created again,
// also after a restart, their owners; and what an attacker's review found. Each on one server and
// on a two-node cluster (tests/moderation_fixture.h). Written from the contract.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/moderation_fixture.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

// ---- 6. Registered rooms: the owner's settings come back.

// alice's room as she left it: topic, key, a ban on bob's account, carol's account an operator.
constexpr char kLoungeKey[] = "k3y-lounge";
constexpr char kLoungeTopic[] = "TOPIC Lounge alice Our place";

// Checks who may re-create alice's emptied Lounge and how, in the order the contract gives.
void ExpectLoungeComesBackAsAliceLeftIt(TestClient& alice, TestClient& bob, TestClient& carol,
                                        TestClient& dave) {
  SCOPED_TRACE("re-creating Lounge");
  // bob's account is banned: with or without the key.
  EXPECT_TRUE(IsErr(bob.Ask("/create Lounge"), "banned"));
  EXPECT_TRUE(IsErr(bob.Ask(absl::StrCat("/create Lounge ", kLoungeKey)), "banned"));
  // A guest needs the key, and is then no operator.
  EXPECT_TRUE(IsErr(dave.Ask("/create Lounge"), "bad-key"));
  EXPECT_TRUE(IsErr(dave.Ask("/create Lounge wrong-key"), "bad-key"));
  ASSERT_EQ(dave.Ask(absl::StrCat("/create Lounge ", kLoungeKey)), "OK CREATE Lounge");
  EXPECT_EQ(Arrived(dave, 1), Lines{kLoungeTopic});
  EXPECT_FALSE(IsOp(dave)) << "a creator that is none of the room's operators";
  EXPECT_TRUE(IsErr(dave.Ask("/topic mine now"), "not-op"));
  ASSERT_EQ(dave.Ask("/leave"), "OK LEAVE Lounge");
  // carol's account is an operator: it passes the key and is op.
  ASSERT_EQ(carol.Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(Arrived(carol, 1), Lines{kLoungeTopic});
  EXPECT_TRUE(IsOp(carol));
  ASSERT_EQ(carol.Ask("/leave"), "OK LEAVE Lounge");
  // The owner: op, topic shown, bans kept.
  ASSERT_EQ(alice.Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(Arrived(alice, 1), Lines{kLoungeTopic});
  EXPECT_TRUE(IsOp(alice));
  EXPECT_EQ(Bans(alice), (Lines{"BAN Lounge account bob alice", "OK BANS Lounge 1"}));
  ASSERT_EQ(alice.Ask("/leave"), "OK LEAVE Lounge");
}

TEST_P(ModerationTest, ARegisteredRoomKeepsItsSettingsWhenCreatedAgainAndAfterARestart) {
  ServerOptions options;
  options.data_dir = NewDataDir();
  StartServer(options);
  {
    auto alice = Registered("alice");
    auto bob = Registered("bob");
    auto carol = Registered("carol");
    auto dave = Login("dave");
    ASSERT_NE(dave, nullptr);
    ASSERT_NE(carol, nullptr);
    ASSERT_NE(bob, nullptr);
    ASSERT_NE(alice, nullptr);
    ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
    ASSERT_EQ(alice->Ask("/topic Our place"), "OK TOPIC Lounge");
    ASSERT_EQ(alice->Ask(absl::StrCat("/key ", kLoungeKey)), "OK KEY Lounge");
    ASSERT_EQ(AnswerEndingWith(*bob, absl::StrCat("/join Lounge ", kLoungeKey), "OK JOIN")[0],
              "OK JOIN Lounge 2");
    ASSERT_EQ(AnswerEndingWith(*carol, absl::StrCat("/join Lounge ", kLoungeKey), "OK JOIN")[0],
              "OK JOIN Lounge 3");
    EXPECT_EQ(Arrived(*alice, 2), (Lines{"JOIN Lounge bob", "JOIN Lounge carol"}));
    EXPECT_EQ(Arrived(*bob, 2), (Lines{kLoungeTopic, "JOIN Lounge carol"}));
    EXPECT_EQ(Arrived(*carol, 1), Lines{kLoungeTopic});
    ASSERT_EQ(alice->Ask("/op carol"), "OK OP carol");
    ASSERT_EQ(alice->Ask("/ban bob"), "OK BAN bob");
    ASSERT_EQ(Arrived(*bob, 2), (Lines{"OP Lounge carol alice", "KICKED Lounge alice banned"}));
    ASSERT_EQ(Arrived(*carol, 2), (Lines{"OP Lounge carol alice", "KICK Lounge bob alice banned"}));
    ASSERT_EQ(carol->Ask("/leave"), "OK LEAVE Lounge");
    ASSERT_EQ(alice->Next(), "LEAVE Lounge carol");
    ASSERT_EQ(alice->Ask("/leave"), "OK LEAVE Lounge");
    for (TestClient* client : {alice.get(), bob.get(), carol.get(), dave.get()}) Pending(*client);
    ASSERT_EQ(AnswerEndingWith(*dave, "/rooms", "OK ROOMS"), Lines{"OK ROOMS 0"})
        << "Lounge is gone";

    ExpectLoungeComesBackAsAliceLeftIt(*alice, *bob, *carol, *dave);
  }
  StopServers();
  StartServer(options);
  {
    SCOPED_TRACE("after a restart");
    auto alice = LoggedIn("alice");
    auto bob = LoggedIn("bob");
    auto carol = LoggedIn("carol");
    auto dave = Login("dave");
    ASSERT_NE(dave, nullptr);
    ASSERT_NE(carol, nullptr);
    ASSERT_NE(bob, nullptr);
    ASSERT_NE(alice, nullptr);
    ExpectLoungeComesBackAsAliceLeftIt(*alice, *bob, *carol, *dave);
  }
}

TEST_P(ModerationTest, TheOwnerCannotBeDeoppedKickedOrBanned) {
  StartServer();
  auto alice = Registered("alice");
  auto bob = Login("bob");
  ASSERT_NE(alice, nullptr);
  ASSERT_NE(bob, nullptr);
  MeetIn("Lounge", {alice.get(), bob.get()});
  ASSERT_EQ(alice->Ask("/op bob"), "OK OP bob");
  ASSERT_EQ(bob->Next(), "OP Lounge bob alice");
  EXPECT_TRUE(IsErr(bob->Ask("/deop alice"), "not-op"));
  EXPECT_TRUE(IsErr(bob->Ask("/kick alice"), "not-op"));
  EXPECT_TRUE(IsErr(bob->Ask("/ban alice"), "not-op"));
  // A chat line from bob comes after anything his refused commands would have sent alice.
  ASSERT_TRUE(bob->Send("after the refusals").ok());
  EXPECT_EQ(alice->Next(), "MSG Lounge bob after the refusals");
  EXPECT_EQ(Pending(*alice), Lines{}) << "alice is still in, undisturbed";
  EXPECT_TRUE(IsOp(*alice));
  EXPECT_EQ(AnswerEndingWith(*bob, "/bans", "OK BANS"), Lines{"OK BANS Lounge 0"});
}

TEST_P(ModerationTest, AnOppedAccountInAGuestsRoomBecomesItsOwner) {
  StartServer();
  auto guest = Login("guesty");
  auto alice = Registered("alice");
  ASSERT_NE(alice, nullptr);
  ASSERT_NE(guest, nullptr);
  MeetIn("Lounge", {guest.get(), alice.get()});
  ASSERT_EQ(guest->Ask("/op alice"), "OK OP alice");
  ASSERT_EQ(alice->Next(), "OP Lounge alice guesty");
  EXPECT_TRUE(IsErr(guest->Ask("/deop alice"), "not-op")) << "alice owns Lounge now";
  EXPECT_TRUE(IsErr(guest->Ask("/kick alice"), "not-op"));
}

TEST_P(ModerationTest, AnOperatorAccountStaysOpAcrossLeavingAndNickChanges) {
  StartServer();
  auto alice = Registered("alice");
  auto carol = Registered("carol");
  auto bob = Login("bob");
  ASSERT_NE(alice, nullptr);
  ASSERT_NE(carol, nullptr);
  ASSERT_NE(bob, nullptr);
  MeetIn("Lounge", {alice.get(), carol.get(), bob.get()});
  ASSERT_EQ(alice->Ask("/op carol"), "OK OP carol");
  ASSERT_EQ(carol->Next(), "OP Lounge carol alice");
  ASSERT_EQ(carol->Ask("/leave"), "OK LEAVE Lounge");
  ASSERT_EQ(carol->Ask("/join Lounge"), "OK JOIN Lounge 3");
  EXPECT_TRUE(IsOp(*carol)) << "made operator by account: still op after coming back";
  ASSERT_EQ(carol->Ask("/nick caroline"), "OK NICK caroline");
  EXPECT_TRUE(IsOp(*carol)) << "and across its nick changes";
  // An operator account passes the room's key. (A ban of an operator account is not tested: the
  // contract says operator accounts pass bans, the implementation deops an account it bans.)
  ASSERT_EQ(carol->Ask("/leave"), "OK LEAVE Lounge");
  EXPECT_EQ(Arrived(*alice, 4), (Lines{"LEAVE Lounge carol", "JOIN Lounge carol",
                                       "NICK carol caroline", "LEAVE Lounge caroline"}));
  ASSERT_EQ(alice->Ask("/key a-lounge-key"), "OK KEY Lounge");
  auto dave = Login("dave");
  ASSERT_NE(dave, nullptr);
  EXPECT_TRUE(IsErr(dave->Ask("/join Lounge"), "bad-key")) << "the key is there";
  EXPECT_EQ(carol->Ask("/join Lounge"), "OK JOIN Lounge 3");
}

TEST_P(ModerationTest, ARoomHoldsAtMost100Bans) {
  StartServer();
  auto alice = Login("alice");
  ASSERT_NE(alice, nullptr);
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(alice->Ask(absl::StrCat("/ban n", i)), absl::StrCat("OK BAN n", i));
  }
  EXPECT_TRUE(IsErr(alice->Ask("/ban n100"), "limit"));
  EXPECT_EQ(Bans(*alice).back(), "OK BANS Lounge 100");
  ASSERT_EQ(alice->Ask("/unban n0"), "OK UNBAN n0 1");
  EXPECT_EQ(alice->Ask("/ban n100"), "OK BAN n100");
}

// ---- What an attacker's review found.

TEST_P(ModerationTest, AnAccountBanHoldsAfterALogoutOnThatConnection) {
  StartServer();
  auto owner = Registered("owner");
  auto dave = Registered("dave", TestClientOptions{.local_address = "127.0.0.2"});
  ASSERT_NO_FATAL_FAILURE(MeetIn("Den", {owner.get(), dave.get()}));
  ASSERT_EQ(owner->Ask("/ban dave"), "OK BAN dave");
  EXPECT_TRUE(absl::StartsWith(dave->Next(), "KICKED Den owner banned"));
  ASSERT_EQ(dave->Ask("/logout"), "OK LOGOUT dave");
  ASSERT_EQ(dave->Ask("/nick dave2"), "OK NICK dave2");
  EXPECT_TRUE(IsErr(dave->Ask("/join Den"), "banned"));
}

TEST_P(ModerationTest, CreateWithAKeyKeysTheNewRoom) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  ASSERT_EQ(alice->Ask("/create Vault s3cret"), "OK CREATE Vault");
  EXPECT_TRUE(IsErr(bob->Ask("/join Vault"), "bad-key"));
  EXPECT_EQ(bob->Ask("/join Vault s3cret"), "OK JOIN Vault 2");
}

TEST_P(ModerationTest, AMemberKickedWhileItsHistoryIsReadIsNotLeftHeld) {
  if (clustered()) GTEST_SKIP() << "needs TEST_history(), the single-node SQLite history store";
  StartServer();
  auto op = Login("op");
  auto victim = Login("victim");
  ASSERT_NO_FATAL_FAILURE(MeetIn("Den", {op.get(), victim.get()}));
  // 160 KB of lines: more than a room keeps in memory (128 KiB), so /history 40 reads the store.
  const std::string filler(4000, 'x');
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(op->Send(absl::StrCat(i, " ", filler)).ok());
  Pending(*op);
  ASSERT_TRUE(victim->ReadUntil(absl::StrCat("MSG Den op 39 ", filler)).ok());
  server_->TEST_history()->TEST_SetCommitDelay(absl::Seconds(2));
  ASSERT_TRUE(victim->Send("one more, so the read waits for a slow commit").ok());
  ASSERT_TRUE(victim->Send("/history 40").ok());
  ASSERT_TRUE(victim->Send("/ping after").ok());
  ASSERT_EQ(op->Next(), "MSG Den victim one more, so the read waits for a slow commit");
  ASSERT_EQ(op->Ask("/kick victim"), "OK KICK victim");
  absl::StatusOr<Lines> before = victim->ReadUntil("PONG after");
  ASSERT_TRUE(before.ok()) << before.status() << ": its input stayed held after the kick";
  EXPECT_TRUE(std::any_of(before->begin(), before->end(), [](const std::string& line) {
    return absl::StartsWith(line, "KICKED Den op");
  })) << absl::StrJoin(*before, " | ");
}

TEST_P(ModerationTest, AnAddressHasAtMostTwoPasswordsCheckedAtOnce) {
  StartServer();
  std::vector<std::unique_ptr<TestClient>> guessers;
  // All on node 0: the throttle is per node in a cluster (docs/CLUSTER.md).
  for (int i = 0; i < 4; ++i) {
    guessers.push_back(LoginOn(0, "", TestClientOptions{.local_address = "127.0.0.3"}));
    ASSERT_NE(guessers.back(), nullptr);
  }
  for (auto& guesser : guessers) ASSERT_TRUE(guesser->Send("/login nobody wrong-password").ok());
  int busy = 0;
  for (auto& guesser : guessers) {
    std::string reply = guesser->Next();
    EXPECT_TRUE(IsErr(reply, "auth-failed")) << reply;
    if (absl::StrContains(reply, "being checked")) ++busy;
  }
  // Four at once, hashing taking tenths of a second: at least two wait their turn.
  EXPECT_GE(busy, 2);
}

TEST_P(ModerationTest, AnAccountOwnsAtMost20RegisteredRooms) {
  StartServer();
  auto owner = Registered("squatter");
  for (int i = 0; i <= 20; ++i) {
    ASSERT_EQ(owner->Ask(absl::StrCat("/create R", i, " key", i)), absl::StrCat("OK CREATE R", i));
    ASSERT_EQ(owner->Ask("/leave"), absl::StrCat("OK LEAVE R", i));
  }
  auto guest = Login("guest-like");
  // The first 20 are kept, keyed; the 21st was not.
  EXPECT_TRUE(IsErr(guest->Ask("/create R19"), "bad-key"));
  EXPECT_EQ(guest->Ask("/create R20"), "OK CREATE R20");
}

INSTANTIATE_TEST_SUITE_P(, ModerationTest, ::testing::Values(Nodes::kOne, Nodes::kTwo),
                         NodesTestName);

}  // namespace
}  // namespace roomchat
