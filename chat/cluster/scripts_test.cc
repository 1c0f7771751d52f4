// The nick and room scripts against a real redis-server, through a RedisLink: what each one
// changes in Redis, the events it posts on room channels, its refusals as protocol errors, and
// that the reaper still frees what they registered.
#include "chat/cluster/scripts.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/scripts_fixture.h"
#include "chat/cluster/test_redis.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace cluster {
namespace {

using namespace testing_util;  // NOLINT: the test's own helpers

constexpr size_t kEntries = 1000;

class ScriptsTest : public ScriptsFixture {
 protected:
  void SetUp() override {
    ScriptsFixture::SetUp();
    listener_ = StartLink(redis_.port(), heard_);
  }

  absl::Status Nick(const NodeIdentity& self, const std::string& old_nick,
                    const std::string& new_nick, const std::string& room = "") {
    return ParseStatusReply(Run(NickCommand(self, {old_nick, new_nick, room}, kEntries)));
  }
  absl::StatusOr<Entered> Create(const NodeIdentity& self, const std::string& nick,
                                 const std::string& room, const std::string& old_room = "",
                                 size_t max_rooms = 0) {
    RoomMove move{NameKey(nick), nick, NameKey(room), room, old_room};
    return ParseEnteredReply(Run(CreateCommand(self, move, max_rooms, kEntries)));
  }
  absl::StatusOr<Entered> Join(const NodeIdentity& self, const std::string& nick,
                               const std::string& room, const std::string& old_room = "",
                               size_t max_members = 0) {
    RoomMove move{NameKey(nick), nick, NameKey(room), room, old_room};
    return ParseEnteredReply(Run(JoinCommand(self, move, max_members, kEntries)));
  }
  absl::Status Leave(const NodeIdentity& self, const std::string& room, const std::string& nick,
                     bool release = false) {
    return ParseStatusReply(Run(LeaveCommand(self, room, nick, release, kEntries)));
  }
  std::vector<std::string> Strings(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Run(std::move(argv));
    EXPECT_TRUE(reply.ok()) << reply.status();
    std::vector<std::string> out;
    if (reply.ok()) {
      for (const RedisReply& element : reply->elements) out.push_back(element.str);
    }
    return out;
  }

  // The payloads heard on `channel`, once there are at least `count`.
  std::vector<std::string> Heard(const std::string& channel, size_t count) {
    const std::string prefix = absl::StrCat(channel, " ");
    std::vector<std::string> on_channel;
    for (absl::Time end = absl::Now() + kDeadline; absl::Now() < end;) {
      on_channel.clear();
      for (const std::string& message : heard_.WaitForCount(0, absl::ZeroDuration())) {
        if (absl::StartsWith(message, prefix)) on_channel.push_back(message.substr(prefix.size()));
      }
      if (on_channel.size() >= count) break;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return on_channel;
  }
  // The room entries heard on room `room`'s channel, once there are `count`.
  std::vector<RoomEntry> Entries(const std::string& room, size_t count) {
    std::vector<RoomEntry> entries;
    for (const std::string& payload : Heard(RoomChannel(room), count)) {
      absl::StatusOr<RoomEntry> entry = ParseRoomEntry(payload);
      EXPECT_TRUE(entry.ok()) << entry.status();
      if (entry.ok()) entries.push_back(*entry);
    }
    EXPECT_EQ(entries.size(), count);
    return entries;
  }
  void Listen(const std::string& channel) { ASSERT_TRUE(SubscribeAndWait(*listener_, channel)); }

  Reports heard_;
  std::unique_ptr<RedisLink> listener_;
};

TEST(ScriptRepliesTest, ErrorsBecomeProtocolErrors) {
  absl::Status down = ParseStatusReply(absl::UnavailableError("link down"));
  EXPECT_TRUE(HasErrorCode(down, ErrorCode::kUnavailable));
  EXPECT_EQ(ErrLine(down), "ERR unavailable the cluster is unavailable; try again\n");
  RedisReply full{RedisReply::Type::kError, "room-full Den holds its maximum of 2 members"};
  absl::Status status = ParseStatusReply(full);
  EXPECT_TRUE(HasErrorCode(status, ErrorCode::kRoomFull));
  EXPECT_EQ(status.message(), "Den holds its maximum of 2 members");
  RedisReply other{RedisReply::Type::kError, "ERR something broke"};
  EXPECT_EQ(ParseStatusReply(other).code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(ParseStatusReply(RedisReply{RedisReply::Type::kStatus, "OK"}).ok());
  EXPECT_FALSE(ParseEnteredReply(RedisReply{RedisReply::Type::kStatus, "OK"}).ok());
  EXPECT_FALSE(ParseIntegerReply(RedisReply{RedisReply::Type::kInteger, "", -1}).ok());
}

TEST_F(ScriptsTest, NickClaimsAreClusterWide) {
  ASSERT_TRUE(Nick(a_, "", "Alice").ok());
  EXPECT_EQ(String({"GET", NickKey("alice")}), "a inc-a Alice - - 0");
  EXPECT_EQ(Integer({"PTTL", NickKey("alice")}), -1);  // held while a's key lives
  EXPECT_EQ(Strings({"SMEMBERS", NodeNicksKey("a")}), std::vector<std::string>{"alice"});

  absl::Status taken = Nick(b_, "", "ALICE");
  EXPECT_TRUE(HasErrorCode(taken, ErrorCode::kNickTaken)) << taken;
  EXPECT_EQ(taken.message(), "ALICE is taken");
  EXPECT_TRUE(HasErrorCode(Nick({"a", "inc-new"}, "", "alice"), ErrorCode::kNickTaken));
  EXPECT_EQ(Integer({"EXISTS", NodeNicksKey("b")}), 0);  // a refusal changes nothing
  EXPECT_TRUE(Nick(a_, "", "Alice").ok());  // this node claiming again (re-registration)
  EXPECT_TRUE(Nick(a_, "Alice", "aLiCe").ok());  // a case change
  EXPECT_EQ(String({"GET", NickKey("alice")}), "a inc-a aLiCe - - 0");
  EXPECT_EQ(Strings({"SMEMBERS", NodeNicksKey("a")}), std::vector<std::string>{"alice"});
  ASSERT_TRUE(Nick(a_, "aLiCe", "Al").ok());  // a rename frees the old nick
  EXPECT_EQ(Integer({"EXISTS", NickKey("alice")}), 0);
  EXPECT_EQ(Strings({"SMEMBERS", NodeNicksKey("a")}), std::vector<std::string>{"al"});
  EXPECT_TRUE(Nick(b_, "", "Alice").ok());
}

TEST_F(ScriptsTest, ARenameInARoomRenamesTheMemberAndPostsNick) {
  ASSERT_TRUE(Nick(a_, "", "Alice").ok());
  ASSERT_TRUE(Create(a_, "Alice", "Lounge").ok());
  Listen(RoomChannel("lounge"));
  ASSERT_TRUE(Nick(a_, "Alice", "Bob", "lounge").ok());
  std::vector<RoomEntry> entries = Entries("lounge", 1);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind, "NICK");
  EXPECT_EQ(entries[0].body, "Alice Bob");
  EXPECT_EQ(entries[0].origin, "a");
  EXPECT_EQ(entries[0].seq, 1u);
  EXPECT_EQ(Integer({"HEXISTS", RoomMembersKey("lounge"), "alice"}), 0);
  EXPECT_EQ(String({"HGET", RoomMembersKey("lounge"), "bob"}), "a Bob");
  EXPECT_EQ(Strings({"SMEMBERS", NodeMembersKey("a")}), std::vector<std::string>{"lounge bob"});
  EXPECT_EQ(Integer({"EXISTS", NickKey("alice")}), 0);

  ASSERT_TRUE(Nick(a_, "Bob", "BOB", "lounge").ok());  // a case change is announced too
  entries = Entries("lounge", 2);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].body, "Bob BOB");
  EXPECT_EQ(String({"HGET", RoomMembersKey("lounge"), "bob"}), "a BOB");
}

TEST_F(ScriptsTest, ReleasingANickFreesItOnlyForItsHolder) {
  ASSERT_TRUE(Nick(a_, "", "Alice").ok());
  EXPECT_TRUE(Leave({"a", "inc-old"}, "", "alice", /*release=*/true).ok());
  EXPECT_EQ(Integer({"EXISTS", NickKey("alice")}), 1);  // another incarnation's: kept
  EXPECT_TRUE(Leave(a_, "", "alice", /*release=*/true).ok());
  EXPECT_EQ(Integer({"EXISTS", NickKey("alice")}), 0);
  EXPECT_EQ(Integer({"SCARD", NodeNicksKey("a")}), 0);
  EXPECT_TRUE(Nick(b_, "", "alice").ok());
}

TEST_F(ScriptsTest, CreateRefusesAndContinuesARoomsSequence) {
  absl::StatusOr<Entered> den = Create(a_, "Alice", "Den");
  ASSERT_TRUE(den.ok()) << den.status();
  EXPECT_EQ(den->room_name, "Den");
  EXPECT_EQ(den->members, 1u);
  EXPECT_EQ(den->seq, 0u);
  EXPECT_EQ(String({"HGET", RoomKey("den"), "name"}), "Den");
  EXPECT_GT(std::stoll(String({"HGET", RoomKey("den"), "created_ms"})), 1600000000000);
  EXPECT_EQ(String({"HGET", RoomMembersKey("den"), "alice"}), "a Alice");
  EXPECT_EQ(Strings({"ZRANGE", kRoomsKey, "0", "-1"}), std::vector<std::string>{"den"});
  EXPECT_EQ(Strings({"SMEMBERS", NodeMembersKey("a")}), std::vector<std::string>{"den alice"});

  absl::StatusOr<Entered> again = Create(b_, "Bob", "DEN");
  EXPECT_TRUE(HasErrorCode(again.status(), ErrorCode::kRoomExists)) << again.status();
  EXPECT_EQ(again.status().message(), "Den exists");
  absl::StatusOr<Entered> limited = Create(b_, "Bob", "Attic", "", /*max_rooms=*/1);
  EXPECT_TRUE(HasErrorCode(limited.status(), ErrorCode::kLimit)) << limited.status();
  EXPECT_EQ(Integer({"EXISTS", RoomKey("attic")}), 0);

  // A name used before: its sequence goes on from the earlier lifetime's.
  ASSERT_TRUE(Run({"HSET", SeqKey("attic"), "last_id", "5", "seq", "41"}).ok());
  absl::StatusOr<Entered> attic = Create(b_, "Bob", "Attic", "", /*max_rooms=*/2);
  ASSERT_TRUE(attic.ok()) << attic.status();
  EXPECT_EQ(attic->seq, 41u);
}

TEST_F(ScriptsTest, CreatingFromARoomLeavesIt) {
  ASSERT_TRUE(Create(a_, "Alice", "Lounge").ok());
  ASSERT_TRUE(Join(b_, "Bob", "lounge").ok());
  ASSERT_TRUE(Create(a_, "Carol", "Hall").ok());
  Listen(RoomChannel("lounge"));
  Listen(RoomChannel("hall"));
  ASSERT_TRUE(Create(a_, "Alice", "Den", "lounge").ok());
  std::vector<RoomEntry> left = Entries("lounge", 1);  // Bob's JOIN came before: not heard
  ASSERT_GE(left.size(), 1u);
  EXPECT_EQ(left[0].kind, "LEAVE");
  EXPECT_EQ(left[0].body, "Alice");
  EXPECT_EQ(left[0].seq, 2u);
  EXPECT_EQ(Integer({"HEXISTS", RoomMembersKey("lounge"), "alice"}), 0);
  EXPECT_EQ(Integer({"SISMEMBER", NodeMembersKey("a"), "lounge alice"}), 0);
  EXPECT_EQ(Integer({"SISMEMBER", NodeMembersKey("a"), "den alice"}), 1);

  ASSERT_TRUE(Create(a_, "Carol", "Attic", "hall").ok());  // the last one out closes Hall
  EXPECT_EQ(Entries("hall", 1)[0].kind, "LEAVE");
  EXPECT_EQ(Integer({"EXISTS", RoomKey("hall")}), 0);
  EXPECT_EQ(Strings({"ZRANGE", kRoomsKey, "0", "-1"}),
            (std::vector<std::string>{"attic", "den", "lounge"}));
}

TEST_F(ScriptsTest, JoinCountsMembersOfEveryNodeAndPostsJoin) {
  absl::StatusOr<Entered> missing = Join(a_, "Alice", "NoWhere");
  EXPECT_TRUE(HasErrorCode(missing.status(), ErrorCode::kNoSuchRoom)) << missing.status();
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "no room called NoWhere"))
      << "named as asked, as one node does: " << missing.status();
  ASSERT_TRUE(Create(a_, "Alice", "Den").ok());
  Listen(RoomChannel("den"));
  absl::StatusOr<Entered> bob = Join(b_, "Bob", "den", "", /*max_members=*/2);
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_EQ(bob->room_name, "Den");
  EXPECT_EQ(bob->members, 2u);
  EXPECT_EQ(bob->seq, 1u);
  std::vector<RoomEntry> joined = Entries("den", 1);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].kind, "JOIN");
  EXPECT_EQ(joined[0].body, "Bob");
  EXPECT_EQ(joined[0].origin, "b");
  EXPECT_EQ(joined[0].seq, bob->seq);
  EXPECT_EQ(String({"HGET", RoomMembersKey("den"), "bob"}), "b Bob");
  EXPECT_EQ(Integer({"SISMEMBER", NodeMembersKey("b"), "den bob"}), 1);

  absl::StatusOr<Entered> full = Join(a_, "Carol", "den", "", 2);  // Alice on a, Bob on b
  EXPECT_TRUE(HasErrorCode(full.status(), ErrorCode::kRoomFull)) << full.status();
  EXPECT_EQ(full.status().message(), "Den holds its maximum of 2 members");
  EXPECT_TRUE(Join(b_, "Bob", "den", "", 2).ok());  // already a member: not refused
  absl::StatusOr<Entered> carol = Join(a_, "Carol", "den", "", 3);
  ASSERT_TRUE(carol.ok()) << carol.status();
  EXPECT_EQ(carol->members, 3u);
  EXPECT_EQ(carol->seq, 3u);

  ASSERT_TRUE(Create(a_, "Dave", "Attic").ok());
  ASSERT_TRUE(Join(a_, "Dave", "den", "attic").ok());  // leaving Attic, its last member
  EXPECT_EQ(Integer({"EXISTS", RoomKey("attic")}), 0);
  EXPECT_EQ(Integer({"EXISTS", SeqKey("attic")}), 1);  // the LEAVE's
  EXPECT_EQ(Integer({"HLEN", RoomMembersKey("den")}), 4);
}

TEST_F(ScriptsTest, LeavePostsLeaveAndTheLastOneOutClosesTheRoom) {
  ASSERT_TRUE(Create(a_, "Alice", "Den").ok());
  ASSERT_TRUE(Join(b_, "Bob", "den").ok());
  Listen(RoomChannel("den"));
  EXPECT_TRUE(Leave(a_, "den", "bob").ok());  // b's member: not a's to remove
  EXPECT_EQ(String({"HGET", RoomMembersKey("den"), "bob"}), "b Bob");
  ASSERT_TRUE(Leave(a_, "den", "alice").ok());
  std::vector<RoomEntry> left = Entries("den", 1);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].kind, "LEAVE");
  EXPECT_EQ(left[0].body, "Alice");
  EXPECT_EQ(Integer({"EXISTS", RoomKey("den")}), 1);
  EXPECT_EQ(Integer({"SCARD", NodeMembersKey("a")}), 0);

  ASSERT_TRUE(Leave(b_, "den", "bob").ok());
  EXPECT_EQ(Entries("den", 2)[1].body, "Bob");
  EXPECT_EQ(Integer({"EXISTS", RoomKey("den"), RoomMembersKey("den")}), 0);
  EXPECT_TRUE(Strings({"ZRANGE", kRoomsKey, "0", "-1"}).empty());
  EXPECT_EQ(String({"HGET", SeqKey("den"), "seq"}), "3");  // kept for the next lifetime
  EXPECT_EQ(Integer({"EXISTS", HistoryKey("den"), EventsKey("den")}), 0);  // nothing to keep
}

// What a closed room leaves in Redis: without history nothing for good (its seq for an hour, for
// the next lifetime's seqs to go on from), with a retention its seq for as long, with history kept
// for good everything. Room names are the client's to choose: a loop of /create and /leave must not
// grow Redis without bound.
TEST_F(ScriptsTest, AClosedRoomKeepsItsSeqAndStreamOnlyAsLongAsItsHistory) {
  constexpr int64_t kHourMs = 3600 * 1000;
  constexpr int64_t kTwoDaysMs = 2 * 24 * kHourMs;
  struct Case {
    std::string room;
    int64_t retention_ms;
  };
  for (const Case& room : {Case{"off", kNoHistory}, Case{"days", kTwoDaysMs}, Case{"kept", 0}}) {
    SCOPED_TRACE(room.room);
    ASSERT_TRUE(Create(a_, "Alice", room.room).ok());
    ASSERT_TRUE(ParseStatusReply(Run(PostCommand({room.room, "a", "MSG", "1 Alice hi", kEntries,
                                             room.retention_ms, a_.incarnation})))
                    .ok());
    ASSERT_TRUE(Leave(a_, room.room, "alice").ok());
    ASSERT_EQ(Integer({"EXISTS", RoomKey(room.room)}), 0);
    const int64_t seq_ttl = Integer({"PTTL", SeqKey(room.room)});
    const int64_t stream_ttl = Integer({"PTTL", HistoryKey(room.room)});
    const int64_t events_ttl = Integer({"PTTL", EventsKey(room.room)});
    if (room.retention_ms == kNoHistory) {
      EXPECT_GT(seq_ttl, kHourMs - 60 * 1000);
      EXPECT_LE(seq_ttl, kHourMs);
      EXPECT_EQ(stream_ttl, -2);  // gone
      EXPECT_EQ(events_ttl, -2);
    } else if (room.retention_ms > 0) {
      EXPECT_GT(seq_ttl, kTwoDaysMs - 60 * 1000);
      EXPECT_LE(seq_ttl, kTwoDaysMs);
      EXPECT_GT(stream_ttl, kTwoDaysMs - 60 * 1000);
    } else {
      EXPECT_EQ(seq_ttl, -1);  // kept, as the stream
      EXPECT_EQ(stream_ttl, -1);
    }
    if (room.retention_ms != kNoHistory) {  // the events only bridged outages
      EXPECT_GT(events_ttl, 0);
      EXPECT_LE(events_ttl, kHourMs);
    }
    // Opened again: its seqs go on (the MSG and the LEAVE were 1 and 2), its seq is kept again,
    // and its events as long as its lines.
    absl::StatusOr<Entered> again = Create(b_, "Bob", room.room);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->seq, 2u);
    EXPECT_EQ(Integer({"PTTL", SeqKey(room.room)}), -1);
    ASSERT_TRUE(Join(a_, "Alice", room.room).ok());
    if (room.retention_ms > 0) {
      EXPECT_GT(Integer({"PTTL", EventsKey(room.room)}), kTwoDaysMs - 60 * 1000);
    } else {
      EXPECT_EQ(Integer({"PTTL", EventsKey(room.room)}), -1);
    }
    ASSERT_TRUE(Leave(a_, room.room, "alice").ok());
    ASSERT_TRUE(Leave(b_, room.room, "bob").ok());
  }
}

// A line that reaches Redis after its room closed (sent before a /kick or the last /leave was
// answered) leaves no more than the closed room did; a node without history does not let a room's
// history go; a member added to a room makes its seq permanent, whatever opened it.
TEST_F(ScriptsTest, NothingAfterARoomClosedKeepsItsKeysForGood) {
  PostRequest line{"den", "a", "MSG", "1 Alice hi", kEntries, kNoHistory, a_.incarnation};
  ASSERT_TRUE(Create(a_, "Alice", "Den").ok());
  // An open room has a seq, even before its first entry (rc_register tells a lost room by it).
  EXPECT_EQ(String({"HGET", SeqKey("den"), "seq"}), "0");
  ASSERT_TRUE(Leave(a_, "den", "alice").ok());
  ASSERT_TRUE(ParseStatusReply(Run(PostCommand(line))).ok());
  EXPECT_EQ(Integer({"EXISTS", HistoryKey("den")}), 0);
  EXPECT_GT(Integer({"PTTL", SeqKey("den")}), 0);
  ASSERT_EQ(Integer({"DEL", SeqKey("den")}), 1);  // expired
  ASSERT_TRUE(ParseStatusReply(Run(PostCommand(line))).ok());
  EXPECT_GT(Integer({"PTTL", SeqKey("den")}), 0);

  // History kept for good by one node's line; another node's line without history comes last.
  ASSERT_TRUE(Create(a_, "Alice", "Attic").ok());
  line.room_key = "attic";
  line.retention_ms = 0;
  ASSERT_TRUE(ParseStatusReply(Run(PostCommand(line))).ok());
  line.retention_ms = kNoHistory;
  ASSERT_TRUE(ParseStatusReply(Run(PostCommand(line))).ok());
  ASSERT_TRUE(Leave(a_, "attic", "alice").ok());
  EXPECT_EQ(Integer({"XLEN", HistoryKey("attic")}), 2);  // both lines
  EXPECT_EQ(Integer({"PTTL", SeqKey("attic")}), -1);
  EXPECT_EQ(Integer({"PTTL", HistoryKey("attic")}), -1);
  // Its events (the LEAVE) only bridge a node's outages: they go within the hour.
  EXPECT_EQ(Integer({"XLEN", EventsKey("attic")}), 1);
  EXPECT_GT(Integer({"PTTL", EventsKey("attic")}), 0);
  EXPECT_LE(Integer({"PTTL", EventsKey("attic")}), 3600 * 1000);

  // A late line that makes a closed room's history kept for good keeps its seq too.
  line.room_key = "den";
  line.retention_ms = 0;
  ASSERT_TRUE(ParseStatusReply(Run(PostCommand(line))).ok());
  EXPECT_EQ(Integer({"PTTL", SeqKey("den")}), -1);
  EXPECT_EQ(Integer({"PTTL", HistoryKey("den")}), -1);

  // A room open while its seq counts down (opened by a script that did not keep it).
  ASSERT_TRUE(Create(a_, "Alice", "Den").ok());
  ASSERT_EQ(Integer({"PEXPIRE", SeqKey("den"), "100000"}), 1);
  ASSERT_TRUE(Join(b_, "Bob", "den").ok());
  EXPECT_EQ(Integer({"PTTL", SeqKey("den")}), -1);
}

TEST_F(ScriptsTest, RoomsAreListedByKeyWithTheirCounts) {
  ASSERT_TRUE(Create(a_, "Alice", "zeta").ok());
  ASSERT_TRUE(Create(b_, "Bob", "Alpha").ok());
  ASSERT_TRUE(Create(a_, "Carol", "Mid").ok());
  ASSERT_TRUE(Join(a_, "Dave", "alpha").ok());
  absl::StatusOr<std::vector<ClusterRoom>> rooms = ParseRoomsReply(Run(RoomsCommand()));
  ASSERT_TRUE(rooms.ok()) << rooms.status();
  ASSERT_EQ(rooms->size(), 3u);
  EXPECT_EQ((*rooms)[0].name, "Alpha");
  EXPECT_EQ((*rooms)[0].members, 2u);
  EXPECT_EQ((*rooms)[1].name, "Mid");
  EXPECT_EQ((*rooms)[1].members, 1u);
  EXPECT_EQ((*rooms)[2].name, "zeta");
  EXPECT_EQ((*rooms)[2].members, 1u);
}

TEST_F(ScriptsTest, WhoListsEveryNodesMembersCaseInsensitively) {
  ASSERT_TRUE(Create(a_, "carol", "Den").ok());
  ASSERT_TRUE(Join(b_, "Bob", "den").ok());
  ASSERT_TRUE(Join(a_, "alice", "den").ok());
  ASSERT_TRUE(Join(b_, "Dave", "den").ok());
  absl::StatusOr<ClusterWho> who = ParseWhoReply(Run(WhoCommand("den")));
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->room_name, "Den");
  EXPECT_EQ(who->nicks, (std::vector<std::string>{"alice", "Bob", "carol", "Dave"}));
  absl::StatusOr<ClusterWho> missing = ParseWhoReply(Run(WhoCommand("NoWhere")));
  EXPECT_TRUE(HasErrorCode(missing.status(), ErrorCode::kNoSuchRoom)) << missing.status();
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "no room called NoWhere"))
      << missing.status();
}

TEST_F(ScriptsTest, GuestNumbersComeInBlocks) {
  auto block_ending = [&](uint64_t floor) {
    absl::StatusOr<uint64_t> last = ParseIntegerReply(Run(GuestBlockCommand(1000, floor)));
    EXPECT_TRUE(last.ok()) << last.status();
    return last.value_or(0);
  };
  EXPECT_EQ(block_ending(0), 1000u);
  EXPECT_EQ(block_ending(0), 2000u);
  // A node that had numbers up to 5000 (Redis lost its count since): its next block is above.
  EXPECT_EQ(block_ending(5000), 6000u);
  EXPECT_EQ(block_ending(0), 7000u);
}

TEST_F(ScriptsTest, TheReaperFreesWhatTheseScriptsRegistered) {
  ASSERT_TRUE(Nick(a_, "", "Alice").ok());
  ASSERT_TRUE(Nick(a_, "", "Carol").ok());
  ASSERT_TRUE(Nick(b_, "", "Bob").ok());
  ASSERT_TRUE(Create(a_, "Alice", "Lounge").ok());
  ASSERT_TRUE(Join(b_, "Bob", "lounge").ok());
  ASSERT_TRUE(Create(a_, "Carol", "Den").ok());
  ASSERT_TRUE(Nick(a_, "Carol", "Cara", "den").ok());
  Listen(RoomChannel("lounge"));

  Run({"DEL", NodeKey("a")});  // a's key expired: it died
  EXPECT_EQ(Integer(ReapCommand("b", "a", kEntries)), 2);  // Alice in Lounge, Cara in Den
  std::vector<RoomEntry> left = Entries("lounge", 1);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].kind, "LEAVE");
  EXPECT_EQ(left[0].body, "Alice");
  EXPECT_EQ(Integer({"EXISTS", NickKey("alice"), NickKey("cara"), NickKey("carol")}), 0);
  EXPECT_EQ(Integer({"EXISTS", NickKey("bob")}), 1);
  EXPECT_EQ(Integer({"EXISTS", RoomKey("den")}), 0);
  EXPECT_EQ(Strings({"ZRANGE", kRoomsKey, "0", "-1"}), std::vector<std::string>{"lounge"});
  EXPECT_EQ(Strings({"HKEYS", RoomMembersKey("lounge")}), std::vector<std::string>{"bob"});
  EXPECT_EQ(Integer({"EXISTS", NodeMembersKey("a"), NodeNicksKey("a")}), 0);
}

// A process whose node id a newer process took over (the node key holds a later incarnation)
// writes nothing for the id: every script that registers holdings refuses it, before any write.
TEST_F(ScriptsTest, AReplacedProcessIsRefusedBeforeItWritesAnything) {
  ASSERT_TRUE(Nick(a_, "", "Alice").ok());
  ASSERT_TRUE(Create(a_, "Alice", "Lounge").ok());
  const NodeIdentity newer{"a", "inc-b"};  // sorts after inc-a
  Run({"SET", NodeKey("a"), newer.incarnation});
  EXPECT_TRUE(HasErrorCode(Nick(a_, "", "Zed"), ErrorCode::kUnavailable));
  EXPECT_TRUE(HasErrorCode(Create(a_, "Alice", "Den").status(), ErrorCode::kUnavailable));
  EXPECT_TRUE(HasErrorCode(Join(a_, "Alice", "lounge").status(), ErrorCode::kUnavailable));
  EXPECT_TRUE(HasErrorCode(Leave(a_, "lounge", "Alice", true), ErrorCode::kUnavailable));
  EXPECT_TRUE(HasErrorCode(ParseStatusReply(Run(PruneCommand(a_, {}, kEntries))),
                           ErrorCode::kUnavailable));
  Registration zed;
  zed.client = 1;
  zed.nick = "Zed";
  EXPECT_TRUE(HasErrorCode(ParseStatusReply(Run(RegisterCommand(a_, zed, "", kEntries))),
                           ErrorCode::kUnavailable));
  // Nor does a line of its clients (whose nicks may be others' by now) reach the room.
  PostRequest line{"lounge", "a", "MSG", "1 Alice hi", kEntries, kNoHistory, a_.incarnation};
  EXPECT_TRUE(HasErrorCode(ParseStatusReply(Run(PostCommand(line))), ErrorCode::kUnavailable));
  EXPECT_EQ(Integer({"EXISTS", HistoryKey("lounge")}), 0);
  EXPECT_EQ(Integer({"EXISTS", NickKey("zed"), RoomKey("den")}), 0);
  EXPECT_EQ(Strings({"HKEYS", RoomMembersKey("lounge")}), std::vector<std::string>{"alice"});
  EXPECT_EQ(Integer({"EXISTS", NickKey("alice")}), 1) << "the prune was refused too";
  // The newer process itself, and an older holder's key, are no bar.
  EXPECT_TRUE(Nick(newer, "", "Bob").ok());
  line.incarnation = newer.incarnation;
  EXPECT_TRUE(ParseStatusReply(Run(PostCommand(line))).ok());
  Run({"SET", NodeKey("a"), "inc-0"});
  EXPECT_TRUE(Nick(a_, "", "Zed").ok());
}

}  // namespace
}  // namespace cluster
}  // namespace roomchat
