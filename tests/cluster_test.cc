// End-to-end tests of a cluster (docs/CLUSTER.md): two or three in-process nodes sharing a real
// redis-server of the test's own, clients spread over them, each rule of "What a user sees".
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "chat/cluster/test_redis.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }
  void TearDown() override { nodes_.clear(); }

  // Starts `count` nodes (node ids n0, n1, ...) with `options`.
  void StartNodes(int count, ServerOptions options = {}) {
    StartClusterNodes(redis_.port(), count, options, &nodes_);
  }

  std::unique_ptr<TestClient> On(int node, absl::string_view nick = "") {
    return Login(nodes_[node]->port(), nick);
  }

  // Alice on node 0 and bob on node 1 in room r; bob's node misses two of alice's lines (as if
  // published while it was cut off from Redis) and its first `failed_reads` reads of them fail
  // (the link dropped under them, or Redis refused them). Bob still gets every line, in order,
  // once.
  void ReadMissedLines(int failed_reads) {
    StartNodes(2);
    auto alice = On(0, "alice");
    auto bob = On(1, "bob");
    ASSERT_TRUE(alice && bob);
    ASSERT_NO_FATAL_FAILURE(SeatInRoom("r", {{alice.get(), "alice"}, {bob.get(), "bob"}}));
    nodes_[1]->TEST_cluster()->TEST_DropRoomEntries(2);
    nodes_[1]->TEST_cluster()->TEST_FailReads(failed_reads);
    for (const char* text : {"one", "two", "three"}) ASSERT_TRUE(alice->Send(text).ok());
    EXPECT_EQ(bob->Next(), "MSG r alice one");
    EXPECT_EQ(bob->Next(), "MSG r alice two");
    EXPECT_EQ(bob->Next(), "MSG r alice three");
    ASSERT_TRUE(alice->Send("four").ok());
    EXPECT_EQ(bob->Next(), "MSG r alice four");
    EXPECT_EQ(Pending(*bob), Lines{}) << "each once";
  }

  TestRedis redis_;
  std::vector<std::unique_ptr<Server>> nodes_;
};

TEST_F(ClusterTest, NicksAreUniqueAcrossNodes) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && bob);
  EXPECT_TRUE(IsErr(bob->Ask("/nick Alice"), "nick-taken"));
  EXPECT_EQ(bob->Ask("/nick bob2"), "OK NICK bob2");
  EXPECT_TRUE(IsErr(alice->Ask("/nick BOB2"), "nick-taken"));
  EXPECT_EQ(alice->Ask("/nick bob"), "OK NICK bob") << "freed by bob's rename on the other node";
  alice->Close();
  EXPECT_EQ(AskUntil(*bob, "/nick bob", "OK NICK"), "OK NICK bob") << "freed by the quit";
}

TEST_F(ClusterTest, TwoClientsOfOneNodeAskingForOneNickLeaveRedisRight) {
  StartNodes(2);
  auto one = On(0, "one");
  auto two = On(0, "two");
  auto other = On(1, "other");
  ASSERT_TRUE(one && two && other);
  ASSERT_TRUE(one->Send("/nick x").ok());
  ASSERT_TRUE(two->Send("/nick x").ok());
  std::string first = one->Next();
  std::string second = two->Next();
  EXPECT_NE(first == "OK NICK x", second == "OK NICK x") << first << " | " << second;
  const std::string loser = first == "OK NICK x" ? "two" : "one";
  // The loser still holds its nick in Redis: nobody elsewhere can take it.
  EXPECT_TRUE(IsErr(other->Ask(absl::StrCat("/nick ", loser)), "nick-taken"));
  EXPECT_TRUE(IsErr(other->Ask("/nick x"), "nick-taken"));
}

TEST_F(ClusterTest, AClientGoneBeforeItsJoinIsAnsweredLeavesNoGhost) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(alice->Ask("/create r"), "OK CREATE r");
  ASSERT_TRUE(bob->Send("/join r").ok());
  bob->Reset();  // gone while its /join is on the way to Redis
  EXPECT_EQ(alice->Next(), "JOIN r bob");
  EXPECT_EQ(alice->Next(), "LEAVE r bob") << "the join undone";
  ASSERT_TRUE(alice->Send("/who").ok());
  absl::StatusOr<Lines> who = alice->ReadUntil("OK WHO r 1");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, Lines{"MEMBER alice"});
  auto again = On(1);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->Ask("/nick bob"), "OK NICK bob") << "its nick freed too";
}

TEST_F(ClusterTest, GuestNicksDoNotCollideAcrossNodes) {
  StartNodes(2);
  std::map<std::string, int> seen;
  std::string guest_on_1;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::unique_ptr<TestClient>> client =
        TestClient::Connect(nodes_[i % 2]->port());
    ASSERT_TRUE(client.ok());
    std::string welcome = (*client)->Next();
    ASSERT_TRUE(absl::StartsWith(welcome, "WELCOME guest")) << welcome;
    std::vector<std::string> words = absl::StrSplit(welcome, ' ');
    seen[words[1]]++;
    if (i % 2 == 1) guest_on_1 = words[1];
    clients.push_back(*std::move(client));
  }
  EXPECT_EQ(seen.size(), 20u);
  // A guest's nick is claimed in the cluster: nobody on another node can take it. (The claim is
  // on its way when the guest is welcomed; a cluster command on that node's link comes after.)
  ASSERT_TRUE(absl::StartsWith(clients.back()->Ask("/rooms"), "OK ROOMS"));
  auto carol = On(0, "carol");
  ASSERT_TRUE(carol);
  EXPECT_TRUE(IsErr(carol->Ask(absl::StrCat("/nick ", guest_on_1)), "nick-taken"));
}

TEST_F(ClusterTest, AGuestNickTakenElsewhereFirstIsReplaced) {
  StartNodes(2);
  auto taker = On(1, "");
  ASSERT_TRUE(taker);
  EXPECT_EQ(taker->Ask("/nick guest77"), "OK NICK guest77");
  // Guest numbers come in a random order: the test chooses n0's next one.
  nodes_[0]->TEST_cluster()->TEST_PutGuestNumberNext(77);
  absl::StatusOr<std::unique_ptr<TestClient>> guest = TestClient::Connect(nodes_[0]->port());
  ASSERT_TRUE(guest.ok());
  EXPECT_TRUE(absl::StartsWith((*guest)->Next(), "WELCOME guest77 "));
  std::vector<std::string> renamed = absl::StrSplit((*guest)->Next(), ' ');
  ASSERT_GE(renamed.size(), 4u);
  EXPECT_EQ(renamed[0], "RENAMED");
  EXPECT_EQ(renamed[1], "guest77");
  EXPECT_EQ((*guest)->Ask("/whoami"), absl::StrCat("OK WHOAMI ", renamed[2], " -"));
  EXPECT_EQ(taker->Ask("/whoami"), "OK WHOAMI guest77 -");
}

TEST_F(ClusterTest, RoomsWhoAndCreateSeeEveryNode) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_TRUE(IsErr(bob->Ask("/create lounge"), "room-exists"));
  EXPECT_EQ(bob->Ask("/join LOUNGE"), "OK JOIN Lounge 2");
  EXPECT_EQ(alice->Next(), "JOIN Lounge bob");
  EXPECT_EQ(bob->Ask("/create Den"), "OK CREATE Den");
  EXPECT_EQ(alice->Next(), "LEAVE Lounge bob");
  for (TestClient* client : {alice.get(), bob.get()}) {
    ASSERT_TRUE(client->Send("/rooms").ok());
    absl::StatusOr<Lines> rooms = client->ReadUntil("OK ROOMS 2");
    ASSERT_TRUE(rooms.ok()) << rooms.status();
    EXPECT_EQ(*rooms, (Lines{"ROOM Den 1", "ROOM Lounge 1"}));
  }
  EXPECT_EQ(alice->Ask("/join den"), "OK JOIN Den 2");
  EXPECT_EQ(bob->Next(), "JOIN Den alice");
  ASSERT_TRUE(bob->Send("/who").ok());
  absl::StatusOr<Lines> who = bob->ReadUntil("OK WHO Den 2");
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(*who, (Lines{"MEMBER alice", "MEMBER bob"}));
  EXPECT_EQ(bob->Ask("/join Den"), "OK JOIN Den 2") << "already in: the members on every node";
  EXPECT_EQ(Pending(*alice), Lines{});
  EXPECT_TRUE(IsErr(alice->Ask("/who Lounge"), "no-such-room")) << "closed with its last member";
  EXPECT_TRUE(IsErr(alice->Ask("/join nowhere"), "no-such-room"));
}

TEST_F(ClusterTest, OkLeaveComesOnceRedisHasTheMemberOut) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && bob);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  redis_.Freeze();
  ASSERT_TRUE(alice->Send("/leave").ok());
  // Not before Redis has done it (a frozen Redis is noticed only after 5 s).
  EXPECT_EQ(alice->Next(absl::Milliseconds(300)), "<timeout>");
  redis_.Thaw();
  EXPECT_EQ(alice->Next(), "OK LEAVE r");
  EXPECT_EQ(bob->Ask("/create r"), "OK CREATE r") << "the room closed everywhere with OK LEAVE";
}

// A member gone (here: idle past --idle_timeout_s) while its rename waits for Redis: Redis renames
// it after all, and its node then takes it out of the room under the new nick, as its own leave
// named the old one.
TEST_F(ClusterTest, AMemberGoneWhileItsRenameWaitedLeavesUnderTheNewNick) {
  ServerOptions idle_soon;
  idle_soon.idle_timeout_s = 1;
  StartNodes(1, idle_soon);  // n0: ghost's
  StartNodes(1);             // n1: alice's, with the default timeout
  auto alice = On(1, "alice");
  auto ghost = On(0, "ghost");
  ASSERT_TRUE(alice && ghost);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  ASSERT_EQ(ghost->Ask("/join r"), "OK JOIN r 2");
  ASSERT_EQ(alice->Next(), "JOIN r ghost");
  redis_.Freeze();
  ASSERT_TRUE(ghost->Send("/nick ghost2").ok());
  // Idle while its rename waits; alice stays (a /ping does not need Redis).
  EXPECT_TRUE(WaitUntil(
      [&] {
        return alice->Ask("/ping") == "PONG" && ghost->Next(absl::Milliseconds(1)) == "<closed>";
      },
      absl::Seconds(4)))
      << "ghost was not timed out";
  redis_.Thaw();
  EXPECT_EQ(alice->Next(), "NICK ghost ghost2");
  EXPECT_EQ(alice->Next(), "LEAVE r ghost2");
  const Lines who = {"MEMBER alice", "OK WHO r 1"};
  EXPECT_EQ(AnswerUntil(*alice, "/who r", who), who);
}

TEST_F(ClusterTest, EntriesANodeMissedAreReadFromTheRoomsStream) { ReadMissedLines(0); }

// A hole whose read fails is read again: its lines were lost for the members there.
TEST_F(ClusterTest, AHoleWhoseReadFailsIsReadAgain) { ReadMissedLines(2); }

// A member that sends a rename and a line after it, then closes with output unread (a reset): one
// node handles every line it sent, and so must a cluster, though the rename waits for Redis and
// the member's sends fail meanwhile. (A differential run against one node found the line lost,
// and the member kept in Redis under its new nick for good: its leave named the old one.)
TEST_F(ClusterTest, LinesSentAfterARenameBeforeAResetAreHandledAndTheMemberLeaves) {
  StartNodes(2);
  auto alice = On(1, "alice");
  auto ghost = On(0, "ghost");
  ASSERT_TRUE(alice && ghost);
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  // The join's answer is sent after the reset came: that send fails while the rename waits.
  ASSERT_TRUE(ghost->SendRaw("/join Lounge\nhello from ghost\n/nick ghost2\nafter rename\n").ok());
  ghost->Reset();
  EXPECT_EQ(alice->Next(), "JOIN Lounge ghost");
  EXPECT_EQ(alice->Next(), "MSG Lounge ghost hello from ghost");
  EXPECT_EQ(alice->Next(), "NICK ghost ghost2");
  EXPECT_EQ(alice->Next(), "MSG Lounge ghost2 after rename");
  EXPECT_EQ(alice->Next(), "LEAVE Lounge ghost2");
  const Lines who = {"MEMBER alice", "OK WHO Lounge 1"};
  EXPECT_EQ(AnswerUntil(*alice, "/who", who), who);
  auto other = On(1);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->Ask("/nick ghost2"), "OK NICK ghost2") << "freed";
}

// A joiner whose JOIN entry never reaches its node's new part (dropped, as if published while the
// link was down) is let in after a wait: with the cluster's count, and then the room's lines
// from its JOIN on, nothing older read from the stream.
TEST_F(ClusterTest, AJoinerWhoseJoinNeverCameGetsTheClustersCountAndOnlyNewerEntries) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto carol = On(0, "carol");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && carol && bob);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  ASSERT_TRUE(alice->Send("before bob").ok());
  ASSERT_EQ(carol->Ask("/join r"), "OK JOIN r 2");
  ASSERT_EQ(alice->Next(), "JOIN r carol");
  nodes_[1]->TEST_cluster()->TEST_DropRoomEntries(1);
  // The part waits 5 s for the JOIN (kJoinerWait), then lets bob in.
  ASSERT_TRUE(bob->Send("/join r").ok());
  EXPECT_EQ(bob->Next(absl::Seconds(5) + kLineDeadline), "OK JOIN r 3");
  EXPECT_EQ(alice->Next(), "JOIN r bob");
  ASSERT_TRUE(alice->Send("after bob").ok());
  EXPECT_EQ(bob->Next(), "MSG r alice after bob");
  EXPECT_EQ(Pending(*bob), Lines{}) << "nothing from before its JOIN";
}

TEST_F(ClusterTest, LinesAndEventsReachEveryMemberOnEveryNode) {
  StartNodes(3);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  auto carol = On(2, "carol");
  auto dave = On(0, "dave");
  ASSERT_TRUE(alice && bob && carol && dave);
  EXPECT_EQ(alice->Ask("/create r"), "OK CREATE r");
  EXPECT_EQ(bob->Ask("/join r"), "OK JOIN r 2");
  EXPECT_EQ(carol->Ask("/join r"), "OK JOIN r 3");
  EXPECT_EQ(dave->Ask("/join r"), "OK JOIN r 4");
  // Each node delivers the JOINs as Redis publishes them: read, not assumed already there.
  for (const char* joined : {"bob", "carol", "dave"}) {
    EXPECT_EQ(alice->Next(), absl::StrCat("JOIN r ", joined));
  }
  for (const char* joined : {"carol", "dave"}) EXPECT_EQ(bob->Next(), absl::StrCat("JOIN r ", joined));
  EXPECT_EQ(carol->Next(), "JOIN r dave");

  ASSERT_TRUE(bob->Send("hello from one").ok());
  for (TestClient* reader : {alice.get(), carol.get(), dave.get()}) {
    EXPECT_EQ(reader->Next(), "MSG r bob hello from one");
  }
  EXPECT_EQ(Pending(*bob), Lines{}) << "a sender does not get its own line back";

  EXPECT_EQ(carol->Ask("/nick Caroline"), "OK NICK Caroline");
  for (TestClient* reader : {alice.get(), bob.get(), dave.get()}) {
    EXPECT_EQ(reader->Next(), "NICK carol Caroline");
  }
  EXPECT_EQ(dave->Ask("/leave"), "OK LEAVE r");
  for (TestClient* reader : {alice.get(), bob.get(), carol.get()}) {
    EXPECT_EQ(reader->Next(), "LEAVE r dave");
  }
  alice->Close();
  for (TestClient* reader : {bob.get(), carol.get()}) EXPECT_EQ(reader->Next(), "LEAVE r alice");
  EXPECT_EQ(Pending(*dave), Lines{}) << "nothing of r after leaving it";
}

TEST_F(ClusterTest, TagsCarryTheClusterIdOfALine) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(bob->Ask("/cap req tags"), "OK CAP REQ tags");
  EXPECT_EQ(alice->Ask("/create r"), "OK CREATE r");
  EXPECT_EQ(bob->Ask("/join r"), "OK JOIN r 2");
  EXPECT_EQ(alice->Next(), "JOIN r bob");
  uint64_t last_id = 0;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(alice->Send(absl::StrCat("line ", i)).ok());
    std::string line = bob->Next();
    ASSERT_TRUE(absl::StartsWith(line, "@id=")) << line;
    uint64_t id = 0;
    ASSERT_TRUE(absl::SimpleAtoi(line.substr(4, line.find(';') - 4), &id)) << line;
    EXPECT_GT(id, last_id) << line;
    last_id = id;
    EXPECT_TRUE(absl::EndsWith(line, absl::StrCat(" MSG r alice line ", i))) << line;
  }
}

TEST_F(ClusterTest, PrivateMessagesReachANickOnAnyNode) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(alice->Ask("/msg BOB psst, over there"), "OK MSG BOB");
  EXPECT_EQ(bob->Next(), "PRIV alice psst, over there");
  EXPECT_EQ(bob->Ask("/msg alice back"), "OK MSG alice");
  EXPECT_EQ(alice->Next(), "PRIV bob back");
  EXPECT_TRUE(IsErr(alice->Ask("/msg nobody hi"), "no-such-nick"));
}

TEST_F(ClusterTest, LimitsCountTheWholeCluster) {
  ServerOptions options;
  options.max_rooms = 2;
  options.max_room_members = 2;
  StartNodes(2, options);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  auto carol = On(1, "carol");
  ASSERT_TRUE(alice && bob && carol);
  EXPECT_EQ(alice->Ask("/create one"), "OK CREATE one");
  EXPECT_EQ(bob->Ask("/join one"), "OK JOIN one 2");
  EXPECT_TRUE(IsErr(carol->Ask("/join one"), "room-full"));
  EXPECT_EQ(carol->Ask("/create two"), "OK CREATE two");
  auto dave = On(0, "dave");
  ASSERT_TRUE(dave);
  EXPECT_TRUE(IsErr(dave->Ask("/create three"), "limit"));
}

TEST_F(ClusterTest, ANodeThatShutsDownTellsTheOthersItsClientsLeft) {
  ServerOptions options;
  options.cluster_node_ttl_s = 120;  // reaping would take far longer than the line deadline
  StartNodes(2, options);
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(alice->Ask("/create r"), "OK CREATE r");
  EXPECT_EQ(bob->Ask("/join r"), "OK JOIN r 2");
  EXPECT_EQ(alice->Next(), "JOIN r bob");
  nodes_[1].reset();  // SIGTERM's path: Server::Shutdown
  EXPECT_EQ(alice->Next(), "LEAVE r bob");
  EXPECT_EQ(alice->Ask("/nick bob"), "OK NICK bob") << "freed at once";
}

// Every member, on every node, sees each sender's lines in order, none missing, while senders on
// different nodes talk at once and others join and leave.
TEST_F(ClusterTest, ConcurrentSendersOnDifferentNodesKeepOrderAndLoseNothing) {
  StartNodes(3);
  constexpr int kLines = 300;
  std::vector<std::unique_ptr<TestClient>> members;
  for (int i = 0; i < 6; ++i) {
    members.push_back(On(i % 3, absl::StrCat("m", i)));
    ASSERT_TRUE(members.back());
  }
  EXPECT_EQ(members[0]->Ask("/create busy"), "OK CREATE busy");
  for (int i = 1; i < 6; ++i) {
    EXPECT_EQ(members[i]->Ask("/join busy"), absl::StrCat("OK JOIN busy ", i + 1));
  }
  for (auto& member : members) Pending(*member);
  // m0 (node 0) and m1 (node 1) send; m4 (node 1) leaves and comes back meanwhile.
  for (int i = 0; i < kLines; ++i) {
    ASSERT_TRUE(members[0]->Send(absl::StrCat("a ", i)).ok());
    ASSERT_TRUE(members[1]->Send(absl::StrCat("b ", i)).ok());
  }
  ASSERT_TRUE(members[4]->Send("/leave").ok());
  ASSERT_TRUE(members[4]->Send("/join busy").ok());
  for (int reader : {2, 3, 5}) {
    std::map<std::string, int> next = {{"m0", 0}, {"m1", 0}};
    int seen = 0;
    while (seen < 2 * kLines) {
      std::string line = members[reader]->Next();
      if (!absl::StartsWith(line, "MSG busy ")) {
        // m4's leave and return, and JOINs from other nodes that came after the last Pending().
        ASSERT_TRUE(absl::StrContains(line, " m4") || absl::StartsWith(line, "JOIN busy "))
            << line;
        continue;
      }
      std::vector<std::string> words = absl::StrSplit(line, ' ');
      ASSERT_EQ(words.size(), 5u) << line;
      int number = 0;
      ASSERT_TRUE(absl::SimpleAtoi(words[4], &number)) << line;
      ASSERT_EQ(number, next[words[2]]++) << "reader m" << reader << ": " << line;
      ++seen;
    }
  }
}

// Redis gone: rooms keep working on each node, cluster-wide commands say so; Redis back (empty):
// each node registers again what it holds, and the cluster is whole again.
TEST_F(ClusterTest, RedisRestartedEmptyIsRebuiltFromTheNodes) {
  StartNodes(2);
  auto alice = On(0, "alice");
  auto bob = On(0, "bob");
  auto carol = On(1, "carol");
  auto dave = On(0, "dave");
  ASSERT_TRUE(alice && bob && carol && dave);
  EXPECT_EQ(alice->Ask("/create r"), "OK CREATE r");
  EXPECT_EQ(bob->Ask("/join r"), "OK JOIN r 2");
  EXPECT_EQ(carol->Ask("/join r"), "OK JOIN r 3");
  EXPECT_EQ(alice->Next(), "JOIN r bob");
  EXPECT_EQ(alice->Next(), "JOIN r carol");
  EXPECT_EQ(bob->Next(), "JOIN r carol");
  redis_.Kill();
  EXPECT_TRUE(IsErr(AskUntil(*carol, "/rooms", "ERR"), "unavailable"));
  EXPECT_TRUE(IsErr(AskUntil(*alice, "/rooms", "ERR"), "unavailable"));
  EXPECT_TRUE(IsErr(alice->Ask("/nick alice2"), "unavailable"));
  ASSERT_TRUE(alice->Send("said while Redis is away").ok());
  EXPECT_EQ(bob->Next(), "MSG r alice said while Redis is away");
  EXPECT_EQ(Pending(*carol), Lines{}) << "another node's members cannot hear it";
  // Only Redis holds the room's bans and key: no /join, even of a room with a part here.
  EXPECT_TRUE(IsErr(dave->Ask("/join r"), "unavailable"));
  EXPECT_TRUE(IsErr(dave->Ask("/join elsewhere"), "unavailable"));

  ASSERT_TRUE(redis_.Restart().ok());
  const Lines listing = {"ROOM r 3", "OK ROOMS 1"};
  EXPECT_EQ(AnswerUntil(*carol, "/rooms", listing), listing);
  EXPECT_EQ(AnswerUntil(*alice, "/rooms", listing), listing);
  auto eve = On(1);
  ASSERT_TRUE(eve);
  EXPECT_TRUE(IsErr(eve->Ask("/nick alice"), "nick-taken"));
  ASSERT_TRUE(carol->Send("back again").ok());
  EXPECT_EQ(alice->Next(), "MSG r carol back again");
  EXPECT_EQ(bob->Next(), "MSG r carol back again");
  ASSERT_TRUE(alice->Send("and here").ok());
  EXPECT_EQ(carol->Next(), "MSG r alice and here");
}

}  // namespace
}  // namespace roomchat
