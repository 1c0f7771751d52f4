// rc_heartbeat and rc_reap against a real redis-server: a node that stops beating is reported dead
// within its key's life, and reaping it frees its nicks, removes its members with a LEAVE entry on
// each room's channel, closes the rooms that emptied, and leaves everything else alone. A nick is
// held only while its node's key lives, so a beat costs the same whatever the node holds.
#include "chat/cluster/node_scripts.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/scripts.h"
#include "chat/cluster/test_redis.h"
#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace cluster {
namespace {

using namespace testing_util;  // NOLINT: the test's own helpers

constexpr InboxLimits kInbox{std::chrono::seconds(30), 1000};  // what rc_msg keeps of what it sends

class NodeScriptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    RedisLinkOptions options = DefaultOptions(redis_.port());
    options.scripts = AllScripts();
    link_ = StartLink(redis_.port(), reports_, &options);
    ASSERT_TRUE(reports_.WaitForState(RedisLink::State::kConnected));
  }

  void Do(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Ask(*link_, argv);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_NE(reply->type, RedisReply::Type::kError) << argv[0] << ": " << reply->str;
  }

  // What Redis holds for node `node`'s client `nick` (display `shown`) in room `room`.
  void AddMember(const std::string& node, const std::string& room, const std::string& nick,
                 const std::string& shown) {
    Do({"HSET", RoomKey(room), "name", room});
    Do({"ZADD", kRoomsKey, "0", room});
    Do({"HSET", RoomMembersKey(room), nick, absl::StrCat(node, " ", shown)});
    Do({"SADD", NodeMembersKey(node), absl::StrCat(room, " ", nick)});
  }
  void AddNick(const std::string& node, const std::string& nick, const std::string& shown) {
    Do({"SET", NickKey(nick), absl::StrCat(node, " inc ", shown, " - - 1")});
    Do({"SADD", NodeNicksKey(node), nick});
  }

  std::vector<std::string> Heartbeat(const std::string& node, std::chrono::milliseconds ttl) {
    absl::StatusOr<RedisReply> reply = Ask(*link_, HeartbeatCommand(node, "inc", TimesForTtl(ttl)));
    EXPECT_TRUE(reply.ok()) << reply.status();
    std::vector<std::string> dead;
    if (!reply.ok()) return dead;
    EXPECT_EQ(reply->type, RedisReply::Type::kArray) << reply->str;
    for (const RedisReply& node_id : reply->elements) dead.push_back(node_id.str);
    return dead;
  }

  int64_t Integer(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Ask(*link_, argv);
    EXPECT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->type, RedisReply::Type::kInteger) << reply->str;
    return reply.ok() ? reply->integer : -100;
  }

  // How many commands Redis ran since its statistics were last reset, those of scripts included.
  int64_t CommandCalls() {
    absl::StatusOr<RedisReply> info = Ask(*link_, {"INFO", "commandstats"});
    EXPECT_TRUE(info.ok()) << info.status();
    int64_t calls = 0;
    for (absl::string_view line : absl::StrSplit(info.ok() ? info->str : "", '\n')) {
      size_t at = line.find(":calls=");
      if (at == absl::string_view::npos) continue;
      int64_t n = 0;
      EXPECT_TRUE(absl::SimpleAtoi(line.substr(at + 7, line.find(',', at) - at - 7), &n)) << line;
      calls += n;
    }
    return calls;
  }
  absl::Status Claim(const NodeIdentity& self, const std::string& nick) {
    return ParseStatusReply(Ask(*link_, NickCommand(self, {"", nick, ""}, 1000)));
  }

  TestRedis redis_;
  Reports reports_;
  std::unique_ptr<RedisLink> link_;
};

TEST(NodeTimesTest, TimesFitInTheTtl) {
  NodeTimes times = TimesForTtl(std::chrono::seconds(15));
  EXPECT_EQ(times.every, std::chrono::seconds(3));
  EXPECT_EQ(times.node_key, std::chrono::seconds(9));
  EXPECT_LE(times.node_key + times.every, std::chrono::seconds(15));
}

TEST_F(NodeScriptsTest, ANodeThatStopsBeatingIsReportedDeadWithinItsTtl) {
  const auto short_ttl = std::chrono::milliseconds(500);
  const auto long_ttl = std::chrono::seconds(60);
  // A node's first beat finds its own key gone (it is new): the answer names it.
  EXPECT_EQ(Heartbeat("a", short_ttl), std::vector<std::string>{"a"});
  EXPECT_EQ(Heartbeat("b", long_ttl), std::vector<std::string>{"b"});
  EXPECT_TRUE(Heartbeat("a", short_ttl).empty());
  // "a" stops; "b" goes on beating (bounded by count and time) until it reports "a".
  absl::Time stopped = absl::Now();
  std::vector<std::string> dead;
  for (int i = 0; i < 400 && dead.empty(); ++i) {
    dead = Heartbeat("b", long_ttl);
    if (dead.empty()) absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(dead, std::vector<std::string>{"a"});
  absl::Duration took = absl::Now() - stopped;
  // The node key lives 3/5 of the TTL: 300 ms; Redis expires it on access, so not much later.
  EXPECT_GE(took, absl::Milliseconds(250));
  EXPECT_LT(took, absl::Seconds(3));
  // "a" beats again: it learns its key was gone meanwhile (it may have been reaped).
  EXPECT_EQ(Heartbeat("a", short_ttl), std::vector<std::string>{"a"});
  EXPECT_TRUE(Heartbeat("a", short_ttl).empty());
}

TEST_F(NodeScriptsTest, ReapingFreesNicksAnnouncesLeavesAndClosesEmptiedRooms) {
  AddMember("a", "lounge", "alice", "Alice");
  AddMember("b", "lounge", "bob", "Bob");
  AddMember("a", "den", "alice", "Alice");
  AddNick("a", "alice", "Alice");
  AddNick("b", "bob", "Bob");
  Heartbeat("b", std::chrono::seconds(60));
  Do({"SADD", kNodesKey, "a"});  // registered once, its key long gone

  Reports listener_reports;
  std::unique_ptr<RedisLink> listener = StartLink(redis_.port(), listener_reports);
  ASSERT_TRUE(SubscribeAndWait(*listener, RoomChannel("lounge")));

  EXPECT_EQ(Integer(ReapCommand("b", "a", 1000)), 2);
  std::vector<std::string> got = listener_reports.WaitForCount(1);
  ASSERT_EQ(got.size(), 1u);
  absl::StatusOr<RoomEntry> leave = HeardEntry("lounge", got[0]);
  ASSERT_TRUE(leave.ok()) << leave.status();
  EXPECT_EQ(leave->kind, "LEAVE");
  EXPECT_EQ(leave->body, "Alice");
  EXPECT_EQ(leave->origin, "b");
  EXPECT_EQ(leave->seq, 1u);

  EXPECT_EQ(Integer({"EXISTS", NickKey("alice")}), 0);  // freed
  EXPECT_EQ(Integer({"EXISTS", NickKey("bob")}), 1);    // another node's
  EXPECT_EQ(Integer({"HEXISTS", RoomMembersKey("lounge"), "alice"}), 0);
  EXPECT_EQ(Integer({"HEXISTS", RoomMembersKey("lounge"), "bob"}), 1);
  EXPECT_EQ(Integer({"EXISTS", RoomKey("den")}), 0);  // emptied: closed
  absl::StatusOr<RedisReply> rooms = Ask(*link_, {"ZRANGE", kRoomsKey, "0", "-1"});
  ASSERT_TRUE(rooms.ok());
  ASSERT_EQ(rooms->elements.size(), 1u);
  EXPECT_EQ(rooms->elements[0].str, "lounge");
  EXPECT_EQ(Integer({"SISMEMBER", kNodesKey, "a"}), 0);
  EXPECT_EQ(Integer({"SISMEMBER", kNodesKey, "b"}), 1);
  EXPECT_EQ(Integer({"EXISTS", NodeMembersKey("a"), NodeNicksKey("a")}), 0);
  EXPECT_TRUE(Heartbeat("b", std::chrono::seconds(60)).empty());

  // Twice: nothing left to do. A live node: not reaped.
  EXPECT_EQ(Integer(ReapCommand("b", "a", 1000)), -2);
  EXPECT_EQ(Integer(ReapCommand("a", "b", 1000)), -1);
}

TEST_F(NodeScriptsTest, ARestartedNodeTakesOverItsOldIncarnation) {
  AddMember("a", "lounge", "alice", "Alice");
  AddNick("a", "alice", "Alice");
  Do({"SET", NodeKey("a"), "1-old", "PX", "60000"});
  Do({"SADD", kNodesKey, "a"});
  EXPECT_EQ(Integer(ReapCommand("b", "a", 1000)), -1);            // alive to others
  const NodeTimes times = TimesForTtl(std::chrono::seconds(60));
  EXPECT_EQ(Integer(TakeOverCommand("a", "2-new", 1000, times)), 1);  // the new "a" takes over
  EXPECT_EQ(Integer({"EXISTS", NickKey("alice")}), 0);
  EXPECT_EQ(Integer({"EXISTS", RoomKey("lounge")}), 0);

  // The key is the new process's at once; the old process's next heartbeat is refused and does
  // not take it back.
  absl::StatusOr<RedisReply> held = Ask(*link_, {"GET", NodeKey("a")});
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->str, "2-new");
  absl::StatusOr<RedisReply> old_beat = Ask(*link_, HeartbeatCommand("a", "1-old", times));
  ASSERT_TRUE(old_beat.ok());
  EXPECT_EQ(old_beat->type, RedisReply::Type::kError);
  EXPECT_EQ(old_beat->str, "REPLACED 2-new");
  held = Ask(*link_, {"GET", NodeKey("a")});
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->str, "2-new");
  EXPECT_EQ(Integer(TakeOverCommand("a", "2-new", 1000, times)), -1);  // already its own

  // A key rolled back to the older incarnation (a failover to a replica that missed the
  // takeover) does not fence the newer process: its heartbeat takes the key back.
  Do({"SET", NodeKey("a"), "1-old", "PX", "60000"});
  absl::StatusOr<RedisReply> new_beat = Ask(*link_, HeartbeatCommand("a", "2-new", times));
  ASSERT_TRUE(new_beat.ok());
  EXPECT_EQ(new_beat->type, RedisReply::Type::kArray) << new_beat->str;
  held = Ask(*link_, {"GET", NodeKey("a")});
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->str, "2-new");
}

// A node with ten thousand clients beats as cheaply as one with none: its nicks' keys have no
// expiry to re-arm (a beat that did re-arm them held Redis, and every line, for about 10 ms).
TEST_F(NodeScriptsTest, ABeatCostsTheSameWhateverTheNodeHolds) {
  auto calls_of_a_beat = [this] {
    Do({"CONFIG", "RESETSTAT"});
    EXPECT_TRUE(Heartbeat("a", std::chrono::seconds(60)).empty());
    return CommandCalls();
  };
  Heartbeat("a", std::chrono::seconds(60));
  AddNick("a", "alice", "Alice");
  const int64_t with_one = calls_of_a_beat();
  EXPECT_GT(with_one, 3);  // the EVALSHA and the commands it ran
  for (int i = 0; i < 300; ++i) AddNick("a", absl::StrCat("guest", i), absl::StrCat("Guest", i));
  EXPECT_EQ(calls_of_a_beat(), with_one);
  EXPECT_EQ(Integer({"PTTL", NickKey("alice")}), -1);
}

// Nobody holds a nick whose node's key is gone (it died and is not reaped yet) or names another
// incarnation (another process took the id over): it is free to claim, and /msg finds nobody.
TEST_F(NodeScriptsTest, ANickIsHeldOnlyWhileItsNodeLives) {
  const NodeIdentity a{"a", "inc-a"}, b{"b", "inc-b"};
  Do({"SET", NodeKey("a"), "inc-a"});
  Do({"SET", NodeKey("b"), "inc-b"});
  ASSERT_TRUE(Claim(a, "Alice").ok());
  EXPECT_TRUE(HasErrorCode(Claim(b, "ALICE"), ErrorCode::kNickTaken));
  Reports node_a_heard;  // node a listens on its channel (rc_msg answers unavailable else)
  std::unique_ptr<RedisLink> node_a = StartLink(redis_.port(), node_a_heard);
  ASSERT_TRUE(SubscribeAndWait(*node_a, NodeChannel("a")));
  const std::vector<std::string> msg = MsgCommand(b, "alice", "PRIV x", false, kInbox);
  absl::StatusOr<MsgRoute> route = ParseMsgReply(Ask(*link_, msg));
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(*route, MsgRoute::kSent);

  Do({"DEL", NodeKey("a")});  // a died; nobody reaped it yet
  route = ParseMsgReply(Ask(*link_, msg));
  EXPECT_TRUE(HasErrorCode(route.status(), ErrorCode::kNoSuchNick)) << route.status();
  ASSERT_TRUE(Claim(b, "ALICE").ok());
  absl::StatusOr<RedisReply> held = Ask(*link_, {"GET", NickKey("alice")});
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->str, "b inc-b ALICE - - 0");

  Do({"SET", NodeKey("a"), "inc-a"});  // a is back, and b's id now another process's
  Do({"SET", NodeKey("b"), "inc-c"});
  Registration alice;
  alice.nick = "Alice";
  EXPECT_TRUE(ParseStatusReply(Ask(*link_, RegisterCommand(a, alice, "", 1000))).ok());
  held = Ask(*link_, {"GET", NickKey("alice")});
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->str, "a inc-a Alice - - 0");
}

// After Redis lost its data (rc:epoch is not the one the node knew), nobody saw a member go: its
// re-registration posts no JOIN, even where another node's line started the room's seq again
// (an attacker's review saw such JOINs). Where Redis kept its data (the node was reaped: the
// room saw a LEAVE), or the node knew no epoch (nobody ever saw the member), it does.
TEST_F(NodeScriptsTest, ARegistrationPostsAJoinOnlyWhereRedisKeptItsData) {
  const NodeIdentity a{"a", "inc-a"};
  Do({"SET", NodeKey("a"), "inc-a"});
  Do({"SET", kEpochKey, "after"});
  Do({"HSET", RoomKey("r"), "name", "R"});
  ASSERT_TRUE(Ask(*link_, PostCommand({"r", "b", "MSG", "1 Bob hi", 1000, kNoHistory})).ok());
  auto entries = [this] {
    return Integer({"XLEN", HistoryKey("r")}) + Integer({"XLEN", EventsKey("r")});
  };
  ASSERT_EQ(entries(), 1);
  auto register_in_r = [&](const std::string& nick, const std::string& known_epoch) {
    Registration client;
    client.nick = nick;
    client.room_key = "r";
    client.room_name = "R";
    EXPECT_TRUE(ParseStatusReply(Ask(*link_, RegisterCommand(a, client, known_epoch, 1000))).ok());
  };
  register_in_r("Alice", "before");  // Redis lost its data since
  EXPECT_EQ(entries(), 1);
  register_in_r("Bob", "after");  // kept: this node was reaped, the room saw Bob leave
  EXPECT_EQ(entries(), 2);
  register_in_r("Carol", "");  // never registered before
  EXPECT_EQ(entries(), 3);
  // Renamed by the conflict rule, its old entry taken by the winner: new to everyone.
  Do({"HSET", RoomMembersKey("r"), "dave", "b Dave"});
  Registration guest;
  guest.nick = "Guest7";
  guest.room_key = "r";
  guest.room_name = "R";
  guest.replaces = "Dave";
  EXPECT_TRUE(ParseStatusReply(Ask(*link_, RegisterCommand(a, guest, "before", 1000))).ok());
  EXPECT_EQ(entries(), 4);
}

// A nick is free to claim once its node's key is gone, maybe before the reaper ran, with the
// dead member still in a room: its new holder joining makes the room hear that member LEAVE
// first, and the reaper has nothing left to announce there.
TEST_F(NodeScriptsTest, ANewHolderOfADeadMembersNickMakesItLeaveFirst) {
  const NodeIdentity b{"b", "inc-b"};
  Do({"SET", NodeKey("b"), "inc-b"});
  AddMember("a", "r", "alice", "Alice");  // a's key is gone: it died
  AddNick("a", "alice", "Alice");
  Reports heard;
  std::unique_ptr<RedisLink> listener = StartLink(redis_.port(), heard);
  ASSERT_TRUE(SubscribeAndWait(*listener, RoomChannel("r")));
  ASSERT_TRUE(Claim(b, "ALICE").ok());
  RoomMove move{"alice", "ALICE", "r", "", ""};
  ASSERT_TRUE(ParseEnteredReply(Ask(*link_, JoinCommand(b, move, 0, 1000))).ok());
  EXPECT_EQ(Integer(ReapCommand("b", "a", 1000)), 0);
  std::vector<std::string> kinds;
  for (const std::string& message : heard.WaitForCount(2)) {
    absl::StatusOr<RoomEntry> entry = HeardEntry("r", message);
    ASSERT_TRUE(entry.ok()) << entry.status();
    kinds.push_back(absl::StrCat(entry->kind, " ", entry->body));
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"LEAVE Alice", "JOIN ALICE"}));
  EXPECT_EQ(Integer({"SISMEMBER", NodeMembersKey("a"), "r alice"}), 0);
}

// A new process registers its node at once, before its first beat: what it claims is reaped if
// it dies before beating.
TEST_F(NodeScriptsTest, ATakeoverRegistersTheNode) {
  EXPECT_EQ(Integer(TakeOverCommand("c", "inc-c", 1000, TimesForTtl(std::chrono::seconds(60)))),
            -2);  // nothing to free
  EXPECT_EQ(Integer({"SISMEMBER", kNodesKey, "c"}), 1);
}

}  // namespace
}  // namespace cluster
}  // namespace roomchat
