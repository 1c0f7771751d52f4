// An attacker's review of room moderation across cluster nodes (docs/CLUSTER.md, "Room settings
// across nodes"; docs/PROTOCOL.md, "Rooms and their operators" and "In a cluster"): in-process
// nodes sharing a redis-server of the test's own (frozen, killed and restarted where a test says
// so), clients spread over them, and a probe connection that reads what Redis holds afterwards, so
// each test checks both what the clients saw and that Redis agrees (the room's members hash, the
// node's members set, the settings keys).
//
// Every wait has a deadline: lines are waited for (TestClient::Next), states are polled until they
// hold. A sleep appears only where it widens a race window for coverage; no assertion depends on
// its length. Loops are bounded.
#include "tests/cluster_moderation_fixture.h"

namespace roomchat {
namespace {

// ---- Finding 1 (fixed): a part open on a node let anyone in while Redis was away, key and bans
// unchecked, and the node registered the intruder in the room when Redis was back. A /join now
// needs Redis wherever a part is open.

TEST_F(ClusterModerationAttackTest, ABannedOrKeylessClientIsNotLetInThroughAPartDuringAnOutage) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  auto eve = On(1, "eve");
  auto mallory = On(1, "mallory");
  ASSERT_TRUE(alice && bob && eve && mallory);
  ASSERT_EQ(alice->Ask("/create Vault s3cret"), "OK CREATE Vault");
  ASSERT_EQ(bob->Ask("/join Vault s3cret"), "OK JOIN Vault 2");  // node 1 has a part of Vault
  ASSERT_EQ(alice->Next(), "JOIN Vault bob");
  ASSERT_EQ(alice->Ask("/ban eve"), "OK BAN eve");
  // Redis up: both are refused.
  EXPECT_TRUE(IsErr(eve->Ask("/join Vault s3cret"), "banned"));
  EXPECT_TRUE(IsErr(mallory->Ask("/join Vault"), "bad-key"));

  redis_.Freeze();  // Redis keeps every key: only the link is lost
  ASSERT_TRUE(WaitLink(1, /*up=*/false));
  const std::string eve_join = eve->Ask("/join Vault s3cret");
  const std::string mallory_join = mallory->Ask("/join Vault");
  redis_.Thaw();

  EXPECT_FALSE(absl::StartsWith(eve_join, "OK JOIN")) << "a banned nick got in: " << eve_join;
  EXPECT_FALSE(absl::StartsWith(mallory_join, "OK JOIN"))
      << "a client without the key got in: " << mallory_join;
  ASSERT_TRUE(WaitLink(1, /*up=*/true));
  ASSERT_TRUE(WaitLink(0, /*up=*/true));
  // A round trip through node 1's link after it came back: its re-registration is in Redis.
  EXPECT_TRUE(absl::StartsWith(Answer(*bob, "/rooms").back(), "OK ROOMS"));
  EXPECT_EQ(RoomMembers("vault"), (std::vector<std::string>{"alice", "bob"}))
      << "Redis, whose bans and key were there all along, has the intruders as members";
  EXPECT_EQ(AnswerUntil(*alice, "/who", {"MEMBER alice", "MEMBER bob", "OK WHO Vault 2"}),
            (Lines{"MEMBER alice", "MEMBER bob", "OK WHO Vault 2"}));
}

// ---- Finding 2 (fixed): a LEAVE announced during an outage that Redis never posts (it lost its
// data) used to swallow the next LEAVE of that nick on the node, forever.

TEST_F(ClusterModerationAttackTest, ALeaveAnnouncedDuringAnOutageDoesNotHideALaterLeave) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto carol = On(0, "carol");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && carol && bob);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  ASSERT_EQ(bob->Ask("/join r"), "OK JOIN r 2");
  ASSERT_EQ(alice->Next(), "JOIN r bob");
  ASSERT_EQ(carol->Ask("/join r"), "OK JOIN r 3");
  ASSERT_EQ(alice->Next(), "JOIN r carol");
  ASSERT_EQ(bob->Next(), "JOIN r carol");

  redis_.Kill();
  ASSERT_TRUE(WaitLink(0, /*up=*/false));
  ASSERT_EQ(carol->Ask("/leave"), "OK LEAVE r");
  EXPECT_EQ(alice->Next(), "LEAVE r carol") << "announced by node 0 itself during the outage";
  ASSERT_TRUE(redis_.Restart().ok());  // empty: rc_prune will never post carol's LEAVE
  ASSERT_TRUE(WaitLink(0, /*up=*/true));
  ASSERT_TRUE(WaitLink(1, /*up=*/true));
  ASSERT_EQ(AnswerUntil(*bob, "/who r", {"MEMBER alice", "MEMBER bob", "OK WHO r 2"}),
            (Lines{"MEMBER alice", "MEMBER bob", "OK WHO r 2"}));

  ASSERT_EQ(carol->Ask("/join r"), "OK JOIN r 3");
  EXPECT_EQ(alice->Next(), "JOIN r carol");
  EXPECT_EQ(bob->Next(), "JOIN r carol");
  ASSERT_EQ(carol->Ask("/leave"), "OK LEAVE r");
  EXPECT_EQ(bob->Next(), "LEAVE r carol");
  EXPECT_EQ(alice->Next(), "LEAVE r carol") << "the member on carol's own node must hear it too";
}

// ---- Finding 3 (fixed): after Redis came back empty (its seqs from 1 again), a part kept the
// entries it had delivered before with their old seqs, and greeted a joiner as if they came after
// its JOIN: it was sent stale lines, and a stale KICK of its nick kicked it on its node while
// Redis kept it in the room (a ghost member that /who lists and nobody can reach).

TEST_F(ClusterModerationAttackTest, AKickBeforeRedisCameBackEmptyDoesNotKickTheNickAgain) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto carol = On(0, "carol");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && carol && bob);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  ASSERT_EQ(bob->Ask("/join r"), "OK JOIN r 2");
  ASSERT_EQ(alice->Next(), "JOIN r bob");
  ASSERT_EQ(carol->Ask("/join r"), "OK JOIN r 3");
  ASSERT_EQ(alice->Next(), "JOIN r carol");
  ASSERT_EQ(bob->Next(), "JOIN r carol");
  ASSERT_EQ(alice->Ask("/kick carol spam"), "OK KICK carol");
  ASSERT_EQ(carol->Next(), "KICKED r alice spam");
  ASSERT_EQ(bob->Next(), "KICK r carol alice spam");

  redis_.Kill();
  ASSERT_TRUE(WaitLink(0, /*up=*/false));
  ASSERT_TRUE(WaitLink(1, /*up=*/false));
  ASSERT_TRUE(redis_.Restart().ok());
  ASSERT_TRUE(WaitLink(0, /*up=*/true));
  ASSERT_TRUE(WaitLink(1, /*up=*/true));
  ASSERT_EQ(AnswerUntil(*bob, "/who r", {"MEMBER alice", "MEMBER bob", "OK WHO r 2"}),
            (Lines{"MEMBER alice", "MEMBER bob", "OK WHO r 2"}));

  ASSERT_EQ(carol->Ask("/join r"), "OK JOIN r 3");
  EXPECT_EQ(alice->Next(), "JOIN r carol");
  EXPECT_EQ(bob->Next(), "JOIN r carol");
  EXPECT_EQ(Pending(*carol), Lines{}) << "nothing from before the restart, no KICKED";
  EXPECT_EQ(carol->Ask("/whoami"), "OK WHOAMI carol r");
  EXPECT_EQ(RoomMembers("r"), (std::vector<std::string>{"alice", "bob", "carol"}));
  ASSERT_TRUE(carol->Send("still here").ok());
  EXPECT_EQ(alice->Next(), "MSG r carol still here");
  EXPECT_EQ(bob->Next(), "MSG r carol still here");
}

// ---- What held up: Redis frozen (shorter than the link's timeout) and killed during moderation.

TEST_F(ClusterModerationAttackTest, ModerationAnswersThroughAFreezeAndAnOutageAndWorksAfter) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  auto carol = On(0, "carol");
  auto dave = On(1, "dave");
  ASSERT_TRUE(alice && bob && carol && dave);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  for (TestClient* joiner : {bob.get(), carol.get(), dave.get()}) {
    ASSERT_TRUE(absl::StartsWith(joiner->Ask("/join r"), "OK JOIN r"));
  }
  ASSERT_EQ(Gather(*alice, 3), (Lines{"JOIN r bob", "JOIN r carol", "JOIN r dave"}));
  ASSERT_EQ(Gather(*bob, 2), (Lines{"JOIN r carol", "JOIN r dave"}));
  ASSERT_EQ(Gather(*carol, 1), (Lines{"JOIN r dave"}));
  ASSERT_EQ(alice->Ask("/op bob"), "OK OP bob");  // a guest operator on node 1
  ASSERT_EQ(bob->Next(), "OP r bob alice");
  ASSERT_EQ(carol->Next(), "OP r bob alice");
  ASSERT_EQ(dave->Next(), "OP r bob alice");

  // (a) Frozen for less than the link's command timeout: the commands wait, then all land.
  redis_.Freeze();
  ASSERT_TRUE(alice->Send("/topic frozen 1 2 3").ok());
  ASSERT_TRUE(alice->Send("/key k1").ok());
  ASSERT_TRUE(bob->Send("/kick dave why now").ok());
  ASSERT_TRUE(bob->Send("/bans").ok());
  absl::SleepFor(absl::Milliseconds(300));  // coverage only: the commands reach the frozen Redis
  redis_.Thaw();
  // bob's KICK may come between alice's answers (Redis orders the two nodes' commands).
  EXPECT_EQ(Gather(*alice, 3), (Lines{"KICK r dave bob why now", "OK KEY r", "OK TOPIC r"}));
  EXPECT_EQ(Gather(*bob, 3), (Lines{"OK BANS r 0", "OK KICK dave", "TOPIC r alice frozen 1 2 3"}));
  EXPECT_EQ(Gather(*carol, 2), (Lines{"KICK r dave bob why now", "TOPIC r alice frozen 1 2 3"}));
  Lines dave_saw = Gather(*dave, 1);
  EXPECT_TRUE(dave_saw == Lines{"KICKED r bob why now"} ||
              dave_saw == (Lines{"KICKED r bob why now", "TOPIC r alice frozen 1 2 3"}))
      << absl::StrJoin(dave_saw, " | ");
  EXPECT_EQ(RoomMembers("r"), (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(NodeMembers(1), (std::vector<std::string>{"r bob"}));
  EXPECT_TRUE(IsErr(dave->Ask("/join r"), "bad-key"));

  // (b) Killed: every moderation command answers unavailable, on both nodes; nothing changes.
  redis_.Kill();
  ASSERT_TRUE(WaitLink(0, /*up=*/false));
  ASSERT_TRUE(WaitLink(1, /*up=*/false));
  for (TestClient* op : {alice.get(), bob.get()}) {
    for (const char* command : {"/topic", "/topic down", "/kick carol", "/ban carol",
                                "/unban carol", "/bans", "/op carol", "/deop carol", "/key k2",
                                "/key -"}) {
      EXPECT_TRUE(IsErr(op->Ask(command), "unavailable")) << command;
    }
  }
  EXPECT_EQ(Pending(*carol), Lines{});
  ASSERT_TRUE(redis_.Restart().ok());  // empty: the settings are gone (no persistence here)
  ASSERT_TRUE(WaitLink(0, /*up=*/true));
  ASSERT_TRUE(WaitLink(1, /*up=*/true));
  ASSERT_EQ(AnswerUntil(*carol, "/who r",
                        {"MEMBER alice", "MEMBER bob", "MEMBER carol", "OK WHO r 3"}),
            (Lines{"MEMBER alice", "MEMBER bob", "MEMBER carol", "OK WHO r 3"}));
  // The guest operators by connection still are (they live on the nodes).
  EXPECT_EQ(alice->Ask("/topic after"), "OK TOPIC r");
  EXPECT_EQ(bob->Next(), "TOPIC r alice after");
  EXPECT_EQ(carol->Next(), "TOPIC r alice after");
  EXPECT_EQ(bob->Ask("/kick carol"), "OK KICK carol");
  EXPECT_EQ(carol->Next(), "KICKED r bob (no reason)");
  EXPECT_EQ(alice->Next(), "KICK r carol bob (no reason)");
  EXPECT_EQ(RoomMembers("r"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(NodeMembers(0), (std::vector<std::string>{"r alice"}));
}

// ---- What held up: /leave (OK LEAVE once Redis has the member out) under a freeze.

TEST_F(ClusterModerationAttackTest, AClientGoneWhileItsLeaveWaitsForAFrozenRedisLeavesOnce) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto carol = On(0, "carol");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && carol && bob);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  ASSERT_EQ(bob->Ask("/join r"), "OK JOIN r 2");
  ASSERT_EQ(carol->Ask("/join r"), "OK JOIN r 3");
  ASSERT_EQ(Gather(*alice, 2), (Lines{"JOIN r bob", "JOIN r carol"}));
  ASSERT_EQ(bob->Next(), "JOIN r carol");

  redis_.Freeze();
  ASSERT_TRUE(carol->Send("/leave").ok());
  absl::SleepFor(absl::Milliseconds(200));  // coverage only: the leave waits for Redis
  carol->Reset();
  absl::SleepFor(absl::Milliseconds(200));  // coverage only: the node sees the disconnect first
  redis_.Thaw();
  EXPECT_EQ(alice->Next(), "LEAVE r carol");
  EXPECT_EQ(bob->Next(), "LEAVE r carol");
  EXPECT_EQ(Pending(*alice), Lines{}) << "once";
  EXPECT_EQ(Pending(*bob), Lines{}) << "once";
  EXPECT_EQ(RoomMembers("r"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(NodeMembers(0), (std::vector<std::string>{"r alice"}));
  std::string nick = bob->Ask("/nick carol");
  for (int i = 0; i < 100 && IsErr(nick, "nick-taken"); ++i) {
    absl::SleepFor(absl::Milliseconds(20));  // polling interval: the release follows the leave
    nick = bob->Ask("/nick carol");
  }
  EXPECT_EQ(nick, "OK NICK carol") << "carol's nick is freed";
}

TEST_F(ClusterModerationAttackTest, EveryMemberLeavingAtOnceThroughAFreezeClosesTheRoom) {
  StartNodes(2);
  std::vector<std::unique_ptr<TestClient>> members;
  for (int i = 0; i < 8; ++i) {
    members.push_back(On(i % 2, absl::StrCat("m", i)));
    ASSERT_NE(members.back(), nullptr);
  }
  ASSERT_EQ(members[0]->Ask("/create r"), "OK CREATE r");
  ASSERT_EQ(members[0]->Ask("/topic soon gone"), "OK TOPIC r");
  for (size_t i = 1; i < members.size(); ++i) {
    ASSERT_EQ(members[i]->Ask("/join r"), absl::StrCat("OK JOIN r ", i + 1));
  }
  redis_.Freeze();
  for (auto& member : members) ASSERT_TRUE(member->Send("/leave").ok());
  absl::SleepFor(absl::Milliseconds(300));  // coverage only: the leaves wait for Redis
  redis_.Thaw();
  for (size_t i = 0; i < members.size(); ++i) {
    Lines answer;
    for (int j = 0; j < 50; ++j) {
      answer.push_back(members[i]->Next());
      if (!absl::StartsWith(answer.back(), "JOIN r ") &&
          !absl::StartsWith(answer.back(), "LEAVE r ") &&
          !absl::StartsWith(answer.back(), "TOPIC r ")) {
        break;
      }
    }
    EXPECT_EQ(answer.back(), "OK LEAVE r") << "m" << i << ": " << absl::StrJoin(answer, " | ");
  }
  EXPECT_EQ(Answer(*members[0], "/rooms"), Lines{"OK ROOMS 0"});
  for (const char* key : {"rc:room:r", "rc:room:r:members", "rc:room:r:settings"}) {
    EXPECT_EQ(Redis({"EXISTS", key}).integer, 0) << key;
  }
  EXPECT_EQ(NodeMembers(0), std::vector<std::string>{});
  EXPECT_EQ(NodeMembers(1), std::vector<std::string>{});
  EXPECT_EQ(members[1]->Ask("/create r"), "OK CREATE r");
  EXPECT_EQ(Pending(*members[1]), Lines{}) << "a new room: no topic of the old one";
}

TEST_F(ClusterModerationAttackTest, TheLastMemberGoneWithItsTopicInFlightLeavesNoSettings) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && bob);
  ASSERT_EQ(alice->Ask("/create r k1"), "OK CREATE r");
  ASSERT_TRUE(alice->Send("/topic last words").ok());
  alice->Reset();
  Lines created;
  for (int i = 0; i < 200; ++i) {
    created = Answer(*bob, "/create r");
    if (!IsErr(created.back(), "room-exists")) break;
    absl::SleepFor(absl::Milliseconds(20));  // polling interval: alice's leave reaches Redis
  }
  EXPECT_EQ(created, Lines{"OK CREATE r"}) << "no key, no topic of the room that closed";
  EXPECT_EQ(Redis({"HGETALL", "rc:room:r:settings"}).elements.size(), 0u);
}

// ---- Finding 4 (fixed): a kicked member's line that reached Redis after its KICK, before its
// node had heard the KICK, was posted: every member saw it after the KICK, and history kept it
// (8 runs of 14 with the member talking as fast as it could). Redis now refuses it, and the
// member is told after its KICKED, as one node answers a line said after a kick.

TEST_F(ClusterModerationAttackTest, ALineAKickedMemberSaidBeforeItsNodeHeardTheKickIsRefused) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  auto tom = On(1, "tom");
  ASSERT_TRUE(alice && bob && tom);
  ASSERT_NO_FATAL_FAILURE(
      SeatInRoom("r", {{alice.get(), "alice"}, {bob.get(), "bob"}, {tom.get(), "tom"}}));
  // Node 1 does not hear the KICK (as if it were late): tom talks on in the room there.
  ClusterNode& node1 = *nodes_[1]->TEST_cluster();
  node1.TEST_DropRoomEntries(1);
  ASSERT_EQ(alice->Ask("/kick tom enough"), "OK KICK tom");
  ASSERT_TRUE(WaitUntil([&] { return node1.TEST_room_entries_to_drop() == 0; }));
  ASSERT_TRUE(tom->Send("said after the kick").ok());
  // The next entry shows node 1 the hole: it reads the KICK from the stream.
  ASSERT_TRUE(alice->Send("next").ok());
  EXPECT_EQ(bob->Next(), "KICK r tom alice enough");
  EXPECT_EQ(bob->Next(), "MSG r alice next");
  EXPECT_EQ(tom->Next(), "KICKED r alice enough");
  EXPECT_TRUE(IsErr(tom->Next(), "not-in-room"));
  EXPECT_EQ(Pending(*alice), Lines{}) << "nothing of tom's after its KICK";
  EXPECT_EQ(Pending(*bob), Lines{});
}

}  // namespace
}  // namespace roomchat
