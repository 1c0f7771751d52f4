// rc_room_op, and the room settings that rc_join, rc_create, rc_leave, rc_prune, the reaper and
// rc_nick's refresh read or keep (docs/CLUSTER.md, "Room settings across nodes"), against a real
// redis-server through a RedisLink: each verb's reply and each refusal (code and text, as the
// single-node RoomSettings and Room give them), and exactly what Redis holds afterwards. A refusal
// must change nothing at all: Redis keeps the writes of a script that answers an error.
#include "chat/cluster/settings_scripts.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "chat/accounts/room_settings.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/scripts.h"
#include "chat/cluster/test_redis.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace cluster {
namespace {

using namespace testing_util;  // NOLINT: the test's own helpers
using Verb = RoomOp::Verb;
using Texts = std::vector<std::string>;

constexpr auto kTtl = std::chrono::seconds(60);
constexpr size_t kEntries = 1000;
constexpr bool kOpHere = true;   // the asker is an operator by connection on its node
constexpr bool kNotHere = false;

// A client as the scripts see it: its node, nick, account ('' a guest) and address.
struct Client {
  NodeIdentity self;
  std::string nick;
  std::string account;
  std::string address;
};

::testing::AssertionResult IsError(const absl::Status& status, ErrorCode code,
                                   const std::string& message) {
  if (!HasErrorCode(status, code) || status.message() != message) {
    return ::testing::AssertionFailure()
           << "got " << status << "; want " << ErrorCodeName(code) << " \"" << message << "\"";
  }
  return ::testing::AssertionSuccess();
}
template <typename T>
::testing::AssertionResult IsError(const absl::StatusOr<T>& result, ErrorCode code,
                                   const std::string& message) {
  return IsError(result.status(), code, message);
}

class SettingsScriptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    RedisLinkOptions options = DefaultOptions(redis_.port());
    options.scripts = AllScripts();
    link_ = StartLink(redis_.port(), reports_, &options);
    ASSERT_TRUE(reports_.WaitForState(RedisLink::State::kConnected));
  }

  absl::StatusOr<RedisReply> Run(std::vector<std::string> argv) {
    return Ask(*link_, std::move(argv));
  }
  void Do(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Run(argv);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_NE(reply->type, RedisReply::Type::kError) << argv[0] << ": " << reply->str;
  }
  int64_t Integer(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Run(std::move(argv));
    EXPECT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->type, RedisReply::Type::kInteger) << reply->str;
    return reply.ok() ? reply->integer : -100;
  }
  std::string String(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Run(std::move(argv));
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->str : "";
  }
  Texts List(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Run(std::move(argv));
    EXPECT_TRUE(reply.ok()) << reply.status();
    Texts out;
    if (reply.ok()) {
      for (const RedisReply& element : reply->elements) out.push_back(element.str);
    }
    return out;
  }
  Texts Sorted(Texts texts) {
    std::sort(texts.begin(), texts.end());
    return texts;
  }
  // A hash as sorted "field=value" texts.
  Texts Hash(const std::string& key) {
    Texts pairs = List({"HGETALL", key});
    Texts out;
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) out.push_back(pairs[i] + "=" + pairs[i + 1]);
    return Sorted(out);
  }

  // A room's settings hash, operator accounts (sorted) and bans (in order).
  Texts Settings(const std::string& room) { return Hash(RoomSettingsKey(room)); }
  Texts Ops(const std::string& room) { return Sorted(List({"SMEMBERS", RoomOpsKey(room)})); }
  Texts Bans(const std::string& room) { return List({"LRANGE", RoomBansKey(room), "0", "-1"}); }
  Texts Owned(const std::string& account) {
    return Sorted(List({"SMEMBERS", absl::StrCat("rc:owned:", account)}));
  }
  Texts Members(const std::string& room) { return Hash(RoomMembersKey(room)); }
  Texts OpenRooms() { return List({"ZRANGE", kRoomsKey, "0", "-1"}); }

  // The room's stream as "<origin> <kind> <body>", oldest first; their seqs must be 1, 2, 3, ...
  Texts Posted(const std::string& room) {
    absl::StatusOr<RedisReply> reply = Run({"XRANGE", HistoryKey(room), "-", "+"});
    EXPECT_TRUE(reply.ok()) << reply.status();
    Texts out;
    if (!reply.ok()) return out;
    for (const RedisReply& item : reply->elements) {
      EXPECT_EQ(item.elements.size(), 2u);
      if (item.elements.size() != 2 || item.elements[1].elements.size() != 2) continue;
      absl::StatusOr<RoomEntry> entry = ParseRoomEntry(item.elements[1].elements[1].str);
      EXPECT_TRUE(entry.ok()) << entry.status();
      if (!entry.ok()) continue;
      EXPECT_EQ(entry->seq, out.size() + 1);
      out.push_back(absl::StrCat(entry->origin, " ", entry->kind, " ", entry->body));
    }
    return out;
  }
  std::string LastPosted(const std::string& room) {
    Texts posted = Posted(room);
    return posted.empty() ? "" : posted.back();
  }

  // Everything Redis holds, key by key (TTLs aside), as text: a refusal must leave it as it was.
  std::string Everything() {
    std::string out;
    for (const std::string& key : Sorted(List({"KEYS", "*"}))) {
      const std::string type = String({"TYPE", key});
      Texts value;
      if (type == "string") {
        value = {String({"GET", key})};
      } else if (type == "hash") {
        value = Hash(key);
      } else if (type == "set") {
        value = Sorted(List({"SMEMBERS", key}));
      } else if (type == "list") {
        value = List({"LRANGE", key, "0", "-1"});
      } else if (type == "zset") {
        value = List({"ZRANGE", key, "0", "-1", "WITHSCORES"});
      } else if (type == "stream") {
        absl::StatusOr<RedisReply> reply = Run({"XRANGE", key, "-", "+"});
        if (reply.ok()) {
          for (const RedisReply& item : reply->elements) {
            value.push_back(absl::StrCat(item.elements[0].str, " ",
                                         item.elements[1].elements[1].str));
          }
        }
      }
      absl::StrAppend(&out, key, " (", type, "): ", absl::StrJoin(value, " | "), "\n");
    }
    return out;
  }

  // rc_nick's first claim of the client's nick, with its account (registered in rc:acct) and
  // address.
  void Claim(const Client& client) {
    if (!client.account.empty()) {
      Do({"HSET", absl::StrCat("rc:acct:", client.account), "nick", client.nick});
    }
    NickChange change{"", client.nick, "", client.account, /*take=*/false, client.address};
    absl::Status status =
        ParseStatusReply(Run(NickCommand(client.self, change, kTtl, kEntries)));
    ASSERT_TRUE(status.ok()) << status;
  }
  absl::Status Refresh(const NodeIdentity& self, const std::string& nick,
                       const std::string& account, const std::string& address) {
    NickChange change{nick, nick, "", account, /*take=*/false, address};
    change.refresh = true;
    return ParseStatusReply(Run(NickCommand(self, change, kTtl, kEntries)));
  }
  absl::StatusOr<Entered> Create(const Client& client, const std::string& room,
                                 const std::string& key = "", const std::string& former = "",
                                 const std::string& old_room = "") {
    RoomMove move{NameKey(client.nick), client.nick, NameKey(room), room,   old_room,
                  client.account,       former,      client.address, key};
    return ParseEnteredReply(Run(CreateCommand(client.self, move, 0, kEntries)));
  }
  absl::StatusOr<Entered> Join(const Client& client, const std::string& room,
                               const std::string& key = "", const std::string& former = "",
                               const std::string& old_room = "", size_t max_members = 0) {
    RoomMove move{NameKey(client.nick), client.nick, room,          "", old_room,
                  client.account,       former,      client.address, key};
    return ParseEnteredReply(Run(JoinCommand(client.self, move, max_members, kEntries)));
  }
  absl::Status Leave(const Client& client, const std::string& room) {
    return ParseStatusReply(
        Run(LeaveCommand(client.self, room, NameKey(client.nick), false, kEntries)));
  }
  absl::StatusOr<RoomOpDone> Op(const Client& asker, bool op_here, Verb verb,
                                const std::string& target = "", const std::string& text = "",
                                const std::string& room = "den") {
    RoomOp op;
    op.verb = verb;
    op.room_key = room;
    op.nick = asker.nick;
    op.account = asker.account;
    op.op_here = op_here;
    op.target = target;
    op.text = text;
    return ParseRoomOpReply(Run(RoomOpCommand(asker.self, op, kEntries)));
  }
  // A reply with nothing but `target`, `lifted` and the limit flag.
  void ExpectDone(const absl::StatusOr<RoomOpDone>& done, const std::string& target,
                  uint64_t lifted = 0, bool limit_hit = false) {
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_EQ(done->target, target);
    EXPECT_EQ(done->topic, "");
    EXPECT_EQ(done->topic_by, "");
    EXPECT_EQ(done->lifted, lifted);
    EXPECT_EQ(done->owner_limit_hit, limit_hit);
    EXPECT_TRUE(done->bans.empty());
  }
  // Gives `account` the ownership of `count` other rooms (rc:owned:<account>).
  void OwnRooms(const std::string& account, int count) {
    for (int i = 1; i <= count; ++i) {
      Do({"SADD", absl::StrCat("rc:owned:", account), absl::StrCat("elsewhere", i)});
    }
  }

  // Den: created by the guest Alice (an operator by connection; nobody owns it), with the
  // logged-in Bob and the guest Carol on node b, the logged-in Dave and the guest Guest42 on a.
  void OpenDen() {
    for (const Client* client : {&alice_, &bob_, &carol_, &dave_, &guest_}) Claim(*client);
    absl::StatusOr<Entered> den = Create(alice_, "Den");
    ASSERT_TRUE(den.ok()) << den.status();
    ASSERT_TRUE(den->creator_is_op);
    for (const Client* client : {&bob_, &carol_, &dave_, &guest_}) {
      ASSERT_TRUE(Join(*client, "den").ok());
    }
    ASSERT_EQ(Members("den"), (Texts{"alice=a Alice", "bob=b Bob", "carol=b Carol", "dave=a Dave",
                                     "guest42=a Guest42"}));
    ASSERT_EQ(Settings("den"), Texts{});
  }

  const NodeIdentity a_{"a", "inc-a"};
  const NodeIdentity b_{"b", "inc-b"};
  const Client alice_{a_, "Alice", "", "127.0.0.1"};
  const Client bob_{b_, "Bob", "bob", "127.0.0.2"};
  const Client carol_{b_, "Carol", "", "127.0.0.3"};
  const Client dave_{a_, "Dave", "dave", "127.0.0.4"};
  const Client guest_{a_, "Guest42", "", "127.0.0.5"};
  TestRedis redis_;
  Reports reports_;
  std::unique_ptr<RedisLink> link_;
};

TEST(RoomOpReplyTest, RepliesParseAndMalformedOnesAreInternalErrors) {
  using Type = RedisReply::Type;
  auto text = [](const std::string& s) { return RedisReply{Type::kString, s}; };
  auto count = [](int64_t n) { return RedisReply{Type::kInteger, "", n}; };
  RedisReply bans{Type::kArray};
  bans.elements = {text(""), text(""), text(""), count(0), count(0),
                   text("account bob Alice"), text("address ::1 Alice")};
  absl::StatusOr<RoomOpDone> done = ParseRoomOpReply(bans);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->bans, (std::vector<RoomBan>{{RoomBan::Kind::kAccount, "bob", "Alice"},
                                              {RoomBan::Kind::kAddress, "::1", "Alice"}}));
  for (const char* bad : {"weird x Alice", "nick x", "nick x Alice more"}) {
    RedisReply malformed = bans;
    malformed.elements.back() = text(bad);
    EXPECT_EQ(ParseRoomOpReply(malformed).status().code(), absl::StatusCode::kInternal) << bad;
  }
  RedisReply short_reply{Type::kArray};
  short_reply.elements = {text("Bob"), text(""), text(""), count(0)};
  EXPECT_EQ(ParseRoomOpReply(short_reply).status().code(), absl::StatusCode::kInternal);
  RedisReply refused{Type::kError, "not-op you are not an operator of Den"};
  EXPECT_TRUE(IsError(ParseRoomOpReply(refused), ErrorCode::kNotOp,
                      "you are not an operator of Den"));
  EXPECT_TRUE(HasErrorCode(ParseRoomOpReply(absl::UnavailableError("down")).status(),
                           ErrorCode::kUnavailable));
}

// ---- rc_room_op: who may ask.

TEST_F(SettingsScriptsTest, OnlyThisNodesMembersAskAndOnlyOperatorsChange) {
  OpenDen();
  Client eve{a_, "Eve", "", "127.0.0.6"};
  Claim(eve);
  const std::string before = Everything();
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kTopic, "", "hi", "nowhere"),
                      ErrorCode::kNotInRoom, "you are no longer in nowhere"));
  EXPECT_TRUE(IsError(Op(eve, kOpHere, Verb::kTopic, "", "hi"), ErrorCode::kNotInRoom,
                      "you are no longer in Den"));
  EXPECT_TRUE(IsError(Op(eve, kNotHere, Verb::kShowTopic), ErrorCode::kNotInRoom,
                      "you are no longer in Den"));
  Client alice_on_b = alice_;  // the nick is a's member: b may not ask for it
  alice_on_b.self = b_;
  EXPECT_TRUE(IsError(Op(alice_on_b, kOpHere, Verb::kKick, "Carol", "x"), ErrorCode::kNotInRoom,
                      "you are no longer in Den"));

  // Neither an operator here nor an operator account: every verb but show-topic is refused.
  for (Verb verb : {Verb::kTopic, Verb::kKey, Verb::kOp, Verb::kDeop, Verb::kKick, Verb::kBan,
                    Verb::kUnban, Verb::kBans}) {
    EXPECT_TRUE(IsError(Op(carol_, kNotHere, verb, "Guest42", "x"), ErrorCode::kNotOp,
                        "you are not an operator of Den"));
    EXPECT_TRUE(IsError(Op(bob_, kNotHere, verb, "Guest42", "x"), ErrorCode::kNotOp,
                        "you are not an operator of Den"));  // logged in is not enough
  }
  EXPECT_EQ(Everything(), before);

  absl::StatusOr<RoomOpDone> shown = Op(carol_, kNotHere, Verb::kShowTopic);
  ExpectDone(shown, "");
  EXPECT_EQ(Everything(), before);  // show-topic writes and posts nothing

  // An operator by connection (a guest here) may; so may one with an account that is not an
  // operator account.
  ExpectDone(Op(alice_, kOpHere, Verb::kTopic, "", "Welcome"), "");
  ExpectDone(Op(dave_, kOpHere, Verb::kTopic, "", "Welcome back"), "");
  shown = Op(carol_, kNotHere, Verb::kShowTopic);
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->topic, "Welcome back");
  EXPECT_EQ(shown->topic_by, "Dave");

  // An operator account may wherever it is, without being an operator by connection; once
  // deopped, no more.
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Bob"), "Bob");
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Dave"), "Dave");
  ExpectDone(Op(bob_, kNotHere, Verb::kTopic, "", "From b"), "");
  ExpectDone(Op(dave_, kNotHere, Verb::kTopic, "", "From a"), "");
  ExpectDone(Op(bob_, kNotHere, Verb::kDeop, "Dave"), "Dave");
  EXPECT_TRUE(IsError(Op(dave_, kNotHere, Verb::kTopic, "", "again"), ErrorCode::kNotOp,
                      "you are not an operator of Den"));
  EXPECT_EQ(Ops("den"), Texts{"bob"});
}

// ---- /topic and /key.

TEST_F(SettingsScriptsTest, TopicIsStoredAndPostedKeyOnlyStored) {
  OpenDen();
  ExpectDone(Op(alice_, kOpHere, Verb::kTopic, "", "Rules: be kind"), "");
  EXPECT_EQ(Settings("den"), (Texts{"topic=Rules: be kind", "topic_by=Alice"}));
  EXPECT_EQ(LastPosted("den"), "a TOPIC Alice Rules: be kind");
  Client eve{b_, "Eve", "", "127.0.0.6"};
  Claim(eve);
  absl::StatusOr<Entered> joined = Join(eve, "den");  // a member who comes in learns it
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(joined->topic, "Rules: be kind");
  EXPECT_EQ(joined->topic_by, "Alice");

  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Bob"), "Bob");
  ExpectDone(Op(bob_, kNotHere, Verb::kTopic, "", "-"), "");  // '-' clears it
  EXPECT_EQ(Settings("den"), (Texts{"owner=bob", "topic=", "topic_by=Bob"}));
  EXPECT_EQ(LastPosted("den"), "b TOPIC Bob ");
  absl::StatusOr<RoomOpDone> shown = Op(carol_, kNotHere, Verb::kShowTopic);
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->topic, "");
  EXPECT_EQ(shown->topic_by, "Bob");

  const size_t posted = Posted("den").size();
  ExpectDone(Op(alice_, kOpHere, Verb::kKey, "", "s3cret"), "");
  EXPECT_EQ(Settings("den"), (Texts{"key=s3cret", "owner=bob", "topic=", "topic_by=Bob"}));
  ExpectDone(Op(alice_, kOpHere, Verb::kKey, "", "other"), "");
  EXPECT_EQ(String({"HGET", RoomSettingsKey("den"), "key"}), "other");
  ExpectDone(Op(alice_, kOpHere, Verb::kKey, "", "-"), "");
  EXPECT_EQ(Settings("den"), (Texts{"owner=bob", "topic=", "topic_by=Bob"}));
  EXPECT_EQ(Posted("den").size(), posted);  // a key is never shown
}

// ---- /op and /deop.

TEST_F(SettingsScriptsTest, OpOfAGuestIsByConnectionOfALoggedInMemberByAccount) {
  OpenDen();
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "carol"), "Carol");  // named as the room knows it
  EXPECT_EQ(LastPosted("den"), "a OP Carol Alice guest");
  EXPECT_EQ(Integer({"EXISTS", RoomOpsKey("den"), RoomSettingsKey("den")}), 0);

  // The first logged-in operator account owns the unowned room: it is kept while closed.
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Bob"), "Bob");
  EXPECT_EQ(LastPosted("den"), "a OP Bob Alice account");
  EXPECT_EQ(Ops("den"), Texts{"bob"});
  EXPECT_EQ(Settings("den"), Texts{"owner=bob"});
  EXPECT_EQ(Owned("bob"), Texts{"den"});

  // The next one is an operator account only.
  ExpectDone(Op(bob_, kNotHere, Verb::kOp, "DAVE"), "Dave");
  EXPECT_EQ(LastPosted("den"), "b OP Dave Bob account");
  EXPECT_EQ(Ops("den"), (Texts{"bob", "dave"}));
  EXPECT_EQ(Settings("den"), Texts{"owner=bob"});
  EXPECT_EQ(Integer({"EXISTS", "rc:owned:dave"}), 0);
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Dave"), "Dave");  // again: announced, nothing new
  EXPECT_EQ(LastPosted("den"), "a OP Dave Alice account");
  EXPECT_EQ(Ops("den"), (Texts{"bob", "dave"}));

  Client eve{a_, "Eve", "", "127.0.0.6"};  // online, in no room
  Claim(eve);
  std::string before = Everything();
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kOp, "Zed"), ErrorCode::kNoSuchNick,
                      "Zed is not in Den"));
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kOp, "Eve"), ErrorCode::kNoSuchNick,
                      "Eve is not in Den"));
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kDeop, "Eve"), ErrorCode::kNoSuchNick,
                      "Eve is not in Den"));
  // The owner stays operator.
  EXPECT_TRUE(IsError(Op(dave_, kNotHere, Verb::kDeop, "bob"), ErrorCode::kNotOp,
                      "bob owns Den and stays operator"));
  EXPECT_EQ(Everything(), before);

  ExpectDone(Op(alice_, kOpHere, Verb::kDeop, "dave"), "Dave");
  EXPECT_EQ(LastPosted("den"), "a DEOP Dave Alice");
  EXPECT_EQ(Ops("den"), Texts{"bob"});
  ExpectDone(Op(alice_, kOpHere, Verb::kDeop, "Carol"), "Carol");  // by connection: on b
  EXPECT_EQ(LastPosted("den"), "a DEOP Carol Alice");
  EXPECT_EQ(Ops("den"), Texts{"bob"});
  EXPECT_EQ(Settings("den"), Texts{"owner=bob"});
}

TEST_F(SettingsScriptsTest, AnOperatorAccountOwnsTheRoomOnlyWithinItsLimit) {
  OpenDen();
  OwnRooms("dave", RoomSettings::kMaxOwnedPerAccount);
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Dave"), "Dave", 0, /*limit_hit=*/true);
  EXPECT_EQ(LastPosted("den"), "a OP Dave Alice account");
  EXPECT_EQ(Ops("den"), Texts{"dave"});
  EXPECT_EQ(Integer({"EXISTS", RoomSettingsKey("den")}), 0);  // not owned, not kept
  EXPECT_EQ(Integer({"SCARD", "rc:owned:dave"}), 20);
  EXPECT_EQ(Integer({"SISMEMBER", "rc:owned:dave", "den"}), 0);

  // One below the limit: it may own one more.
  OwnRooms("bob", RoomSettings::kMaxOwnedPerAccount - 1);
  ExpectDone(Op(dave_, kNotHere, Verb::kOp, "Bob"), "Bob");
  EXPECT_EQ(Ops("den"), (Texts{"bob", "dave"}));
  EXPECT_EQ(Settings("den"), Texts{"owner=bob"});
  EXPECT_EQ(Integer({"SCARD", "rc:owned:bob"}), 20);
  EXPECT_EQ(Integer({"SISMEMBER", "rc:owned:bob", "den"}), 1);
}

TEST_F(SettingsScriptsTest, OperatorAccountsAreLimited) {
  OpenDen();
  for (size_t i = 1; i < RoomSettings::kMaxOpAccounts; ++i) {
    Do({"SADD", RoomOpsKey("den"), absl::StrCat("op", i)});
  }
  Do({"SADD", RoomOpsKey("den"), "dave"});
  ASSERT_EQ(Integer({"SCARD", RoomOpsKey("den")}), 50);
  const std::string before = Everything();
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kOp, "Bob"), ErrorCode::kLimit,
                      "too many operator accounts"));
  EXPECT_EQ(Everything(), before);
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Dave"), "Dave");    // one already: no new one
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Carol"), "Carol");  // a guest: no account
  EXPECT_EQ(Integer({"SCARD", RoomOpsKey("den")}), 50);
}

// ---- /kick.

TEST_F(SettingsScriptsTest, KickRemovesTheMemberWhereverItIsAndPostsKick) {
  OpenDen();
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Bob"), "Bob");  // Den's owner
  const size_t posted = Posted("den").size();
  ExpectDone(Op(alice_, kOpHere, Verb::kKick, "carol", "spamming links"), "Carol");
  EXPECT_EQ(Posted("den").size(), posted + 1);
  EXPECT_EQ(LastPosted("den"), "a KICK Carol Alice spamming links");
  EXPECT_EQ(Integer({"HEXISTS", RoomMembersKey("den"), "carol"}), 0);
  EXPECT_EQ(List({"SMEMBERS", NodeMembersKey("b")}), Texts{"den bob"});
  EXPECT_EQ(Integer({"EXISTS", NickKey("carol")}), 1);  // still online, in the lobby
  EXPECT_EQ(OpenRooms(), Texts{"den"});

  // An operator account on b kicks a's member.
  ExpectDone(Op(bob_, kNotHere, Verb::kKick, "Dave", "(no reason)"), "Dave");
  EXPECT_EQ(LastPosted("den"), "b KICK Dave Bob (no reason)");
  EXPECT_EQ(Sorted(List({"SMEMBERS", NodeMembersKey("a")})), (Texts{"den alice", "den guest42"}));
  EXPECT_EQ(Members("den"), (Texts{"alice=a Alice", "bob=b Bob", "guest42=a Guest42"}));

  const std::string before = Everything();
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kKick, "ALICE", "x"), ErrorCode::kBadArgs,
                      "to leave, /leave"));
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kKick, "bob", "x"), ErrorCode::kNotOp,
                      "bob owns Den"));
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kKick, "Carol", "x"), ErrorCode::kNoSuchNick,
                      "Carol is not in Den"));
  EXPECT_TRUE(IsError(Op(guest_, kNotHere, Verb::kKick, "Alice", "x"), ErrorCode::kNotOp,
                      "you are not an operator of Den"));
  EXPECT_EQ(Everything(), before);
}

// ---- /ban, /unban, /bans.

TEST_F(SettingsScriptsTest, BanBansByAccountNickOrAddressAsRoomSettingsDoes) {
  OpenDen();
  const Client eve{b_, "Eve", "", "127.0.0.3"};  // Carol's address
  Claim(eve);
  ASSERT_TRUE(Join(eve, "den").ok());
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Bob"), "Bob");  // Den's owner
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Dave"), "Dave");
  ASSERT_EQ(Ops("den"), (Texts{"bob", "dave"}));

  // A logged-in member: by account, which stops being an operator account; kicked.
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "dave"), "Dave");
  EXPECT_EQ(Bans("den"), Texts{"account dave Alice"});
  EXPECT_EQ(Ops("den"), Texts{"bob"});
  EXPECT_EQ(LastPosted("den"), "a KICK Dave Alice banned");
  EXPECT_EQ(Integer({"HEXISTS", RoomMembersKey("den"), "dave"}), 0);
  EXPECT_EQ(Integer({"SISMEMBER", NodeMembersKey("a"), "den dave"}), 0);

  // A guest member: by nick and address; kicked (on b, by a).
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "Carol"), "Carol");
  EXPECT_EQ(Bans("den"), (Texts{"account dave Alice", "nick carol Alice",
                                "address 127.0.0.3 Alice"}));
  EXPECT_EQ(LastPosted("den"), "a KICK Carol Alice banned");
  EXPECT_EQ(Sorted(List({"SMEMBERS", NodeMembersKey("b")})), (Texts{"den bob", "den eve"}));
  // Another guest from the same address: only its nick is new.
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "Eve"), "Eve");
  EXPECT_EQ(Bans("den"), (Texts{"account dave Alice", "nick carol Alice",
                                "address 127.0.0.3 Alice", "nick eve Alice"}));
  EXPECT_EQ(LastPosted("den"), "a KICK Eve Alice banned");
  EXPECT_EQ(List({"SMEMBERS", NodeMembersKey("b")}), Texts{"den bob"});

  // A guest member under a guest nick: by address only.
  ExpectDone(Op(bob_, kNotHere, Verb::kBan, "guest42"), "Guest42");
  EXPECT_EQ(Bans("den"), (Texts{"account dave Alice", "nick carol Alice",
                                "address 127.0.0.3 Alice", "nick eve Alice",
                                "address 127.0.0.5 Bob"}));
  EXPECT_EQ(LastPosted("den"), "b KICK Guest42 Bob banned");
  EXPECT_EQ(Members("den"), (Texts{"alice=a Alice", "bob=b Bob"}));

  // Not in the room: a registered nick by account, any other by nick (nothing posted).
  Do({"HSET", "rc:acct:rita", "nick", "Rita"});
  const size_t posted = Posted("den").size();
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "Rita"), "");
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "Sam"), "");
  EXPECT_EQ(Bans("den"), (Texts{"account dave Alice", "nick carol Alice",
                                "address 127.0.0.3 Alice", "nick eve Alice",
                                "address 127.0.0.5 Bob", "account rita Alice", "nick sam Alice"}));
  EXPECT_EQ(Posted("den").size(), posted);

  // An absent operator account is no longer one once banned.
  Do({"SADD", RoomOpsKey("den"), "rita"});
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "rita"), "");
  EXPECT_EQ(Ops("den"), Texts{"bob"});

  // Already listed (by kind and value, whoever set it): not listed twice.
  const Texts listed = Bans("den");
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "SAM"), "");
  ExpectDone(Op(bob_, kNotHere, Verb::kBan, "Dave"), "");  // absent now: its account
  ExpectDone(Op(bob_, kNotHere, Verb::kBan, "carol"), "");  // absent now: its nick
  EXPECT_EQ(Bans("den"), listed);

  const std::string before = Everything();
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kBan, "Guest77"), ErrorCode::kNoSuchNick,
                      "Guest77 is not here; a guest is banned by its address, while it is in "
                      "the room"));
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kBan, "alice"), ErrorCode::kBadArgs,
                      "not yourself"));
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kBan, "BOB"), ErrorCode::kNotOp, "BOB owns Den"));
  EXPECT_EQ(Everything(), before);
  ASSERT_TRUE(Leave(bob_, "den").ok());  // the owner, absent: still protected
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kBan, "Bob"), ErrorCode::kNotOp, "Bob owns Den"));

  // The list, oldest first, with who set each.
  absl::StatusOr<RoomOpDone> bans = Op(alice_, kOpHere, Verb::kBans);
  ASSERT_TRUE(bans.ok()) << bans.status();
  using Kind = RoomBan::Kind;
  EXPECT_EQ(bans->bans, (std::vector<RoomBan>{{Kind::kAccount, "dave", "Alice"},
                                              {Kind::kNick, "carol", "Alice"},
                                              {Kind::kAddress, "127.0.0.3", "Alice"},
                                              {Kind::kNick, "eve", "Alice"},
                                              {Kind::kAddress, "127.0.0.5", "Bob"},
                                              {Kind::kAccount, "rita", "Alice"},
                                              {Kind::kNick, "sam", "Alice"}}));
  EXPECT_EQ(bans->target, "");
}

TEST_F(SettingsScriptsTest, TheBanLimitIsCheckedBeforeAnyWrite) {
  OpenDen();
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Bob"), "Bob");
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Dave"), "Dave");
  for (size_t i = 1; i < RoomSettings::kMaxBans; ++i) {
    Do({"RPUSH", RoomBansKey("den"), absl::StrCat("nick n", i, " Alice")});
  }
  const std::string limit = "Den holds its maximum of 100 bans";
  std::string before = Everything();
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kBan, "Carol"), ErrorCode::kLimit, limit));
  EXPECT_EQ(Everything(), before);  // two bans would not fit: Carol stays, nothing posted

  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "Sam"), "");
  EXPECT_EQ(Integer({"LLEN", RoomBansKey("den")}), 100);
  before = Everything();
  // Dave stays an operator account and a member.
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kBan, "Dave"), ErrorCode::kLimit, limit));
  // As RoomSettings counts: the bans a /ban makes, before dropping those already listed.
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kBan, "Sam"), ErrorCode::kLimit, limit));
  EXPECT_EQ(Everything(), before);
  EXPECT_EQ(Ops("den"), (Texts{"bob", "dave"}));

  ExpectDone(Op(alice_, kOpHere, Verb::kUnban, "n1"), "", /*lifted=*/1);
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "Dave"), "Dave");
  EXPECT_EQ(Integer({"LLEN", RoomBansKey("den")}), 100);
  EXPECT_EQ(Ops("den"), Texts{"bob"});
}

TEST_F(SettingsScriptsTest, UnbanMatchesAnAddressExactlyAndNicksAndAccountsByKey) {
  OpenDen();
  for (const char* ban : {"account bob Alice", "nick carol Alice", "address 127.0.0.3 Alice",
                          "nick sam Alice", "account sam Bob", "address ::1 Bob",
                          "address fe80::1 Bob"}) {
    Do({"RPUSH", RoomBansKey("den"), ban});
  }
  ExpectDone(Op(alice_, kOpHere, Verb::kUnban, "127.0.0.3"), "", 1);
  EXPECT_EQ(Bans("den"), (Texts{"account bob Alice", "nick carol Alice", "nick sam Alice",
                                "account sam Bob", "address ::1 Bob", "address fe80::1 Bob"}));
  ExpectDone(Op(alice_, kOpHere, Verb::kUnban, "CAROL"), "", 1);
  ExpectDone(Op(alice_, kOpHere, Verb::kUnban, "Sam"), "", 2);  // its nick and its account
  EXPECT_EQ(Bans("den"), (Texts{"account bob Alice", "address ::1 Bob", "address fe80::1 Bob"}));

  const std::string before = Everything();
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kUnban, "Sam"), ErrorCode::kBadArgs,
                      "no ban matches Sam"));
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kUnban, "127.0.0.9"), ErrorCode::kBadArgs,
                      "no ban matches 127.0.0.9"));
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kUnban, "alice"), ErrorCode::kBadArgs,
                      "no ban matches alice"));
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kUnban, "::1:"), ErrorCode::kBadArgs,
                      "no ban matches ::1:"));
  // An address is matched as written, not by its name key.
  EXPECT_TRUE(IsError(Op(alice_, kOpHere, Verb::kUnban, "FE80::1"), ErrorCode::kBadArgs,
                      "no ban matches FE80::1"));
  EXPECT_EQ(Everything(), before);

  ExpectDone(Op(alice_, kOpHere, Verb::kUnban, "::1"), "", 1);
  ExpectDone(Op(alice_, kOpHere, Verb::kUnban, "fe80::1"), "", 1);
  ExpectDone(Op(alice_, kOpHere, Verb::kUnban, "BOB"), "", 1);
  EXPECT_EQ(Integer({"EXISTS", RoomBansKey("den")}), 0);
  absl::StatusOr<RoomOpDone> none = Op(alice_, kOpHere, Verb::kBans);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->bans.empty());
}

// ---- rc_join and rc_create: admission.

TEST_F(SettingsScriptsTest, JoinAdmitsByBansAndKeyBeforeRoomFull) {
  const Client olga{a_, "Olga", "olga", "127.0.0.1"};
  Claim(olga);
  ASSERT_TRUE(Create(olga, "Den").ok());
  ExpectDone(Op(olga, kNotHere, Verb::kKey, "", "k1"), "");
  ExpectDone(Op(olga, kNotHere, Verb::kTopic, "", "Hi"), "");
  for (const char* ban : {"account bob Olga", "nick carol Olga", "address 127.0.0.5 Olga"}) {
    Do({"RPUSH", RoomBansKey("den"), ban});
  }
  const Client bobby{b_, "Bobby", "", "127.0.0.2"};  // logged out of bob since
  const Client caroline{b_, "CAROL", "", "127.0.0.3"};
  const Client eve{a_, "Eve", "", "127.0.0.5"};
  const Client dan{a_, "Dan", "", "127.0.0.6"};
  for (const Client* client : {&bob_, &bobby, &caroline, &eve, &dan}) Claim(*client);
  ASSERT_TRUE(Create(dan, "Attic").ok());

  const std::string before = Everything();
  const std::string banned = "you are banned from Den";
  EXPECT_TRUE(IsError(Join(bob_, "den", "k1"), ErrorCode::kBanned, banned));  // account
  EXPECT_TRUE(IsError(Join(bob_, "den"), ErrorCode::kBanned, banned));  // a ban before the key
  EXPECT_TRUE(IsError(Join(bobby, "den", "k1", /*former=*/"bob"), ErrorCode::kBanned, banned));
  EXPECT_TRUE(IsError(Join(caroline, "den", "k1"), ErrorCode::kBanned, banned));  // nick key
  EXPECT_TRUE(IsError(Join(eve, "den", "k1"), ErrorCode::kBanned, banned));       // address
  EXPECT_TRUE(IsError(Join(dan, "den", "", "", "attic"), ErrorCode::kBadKey,
                      "Den needs a key: /join Den KEY"));
  EXPECT_TRUE(IsError(Join(dan, "den", "K1", "", "attic"), ErrorCode::kBadKey,
                      "wrong key for Den"));
  EXPECT_TRUE(IsError(Join(dan, "den", "", "", "attic", /*max_members=*/1), ErrorCode::kBadKey,
                      "Den needs a key: /join Den KEY"));  // admission before room-full
  EXPECT_TRUE(IsError(Join(eve, "den", "k1", "", "", 1), ErrorCode::kBanned, banned));
  EXPECT_TRUE(IsError(Join(dan, "den", "k1", "", "attic", 1), ErrorCode::kRoomFull,
                      "Den holds its maximum of 1 members"));
  EXPECT_EQ(Everything(), before);  // nobody moved: Dan is still in Attic

  absl::StatusOr<Entered> in = Join(dan, "den", "k1", "", "attic");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->room_name, "Den");
  EXPECT_EQ(in->members, 2u);
  EXPECT_EQ(in->topic, "Hi");
  EXPECT_EQ(in->topic_by, "Olga");
  EXPECT_EQ(Integer({"EXISTS", RoomKey("attic")}), 0);

  // An operator account passes bans and the key.
  Do({"SADD", RoomOpsKey("den"), "bob"});
  absl::StatusOr<Entered> bob = Join(bob_, "den");
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_EQ(bob->members, 3u);
  // Not an account it was logged in to, though.
  Do({"SADD", RoomOpsKey("den"), "eve"});
  EXPECT_TRUE(IsError(Join(eve, "den", "k1", /*former=*/"eve"), ErrorCode::kBanned, banned));
  EXPECT_EQ(Members("den"), (Texts{"bob=b Bob", "dan=a Dan", "olga=a Olga"}));
}

TEST_F(SettingsScriptsTest, CreatingAKeptRoomAdmitsAsJoinAndKeepsItsSettings) {
  const Client olga{a_, "Olga", "olga", "127.0.0.1"};
  const Client sam{b_, "Sam", "", "127.0.0.9"};
  const Client eve{a_, "Eve", "", "127.0.0.5"};
  const Client dan{a_, "Dan", "", "127.0.0.6"};
  for (const Client* client : {&olga, &sam, &eve, &dan}) Claim(*client);
  absl::StatusOr<Entered> first = Create(olga, "Den");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->creator_is_op);
  ExpectDone(Op(olga, kNotHere, Verb::kKey, "", "k1"), "");
  ExpectDone(Op(olga, kNotHere, Verb::kTopic, "", "Kept"), "");
  ExpectDone(Op(olga, kNotHere, Verb::kBan, "Sam"), "");
  Do({"RPUSH", RoomBansKey("den"), "address 127.0.0.5 Olga"});
  ASSERT_TRUE(Leave(olga, "den").ok());
  const Texts settings{"key=k1", "owner=olga", "topic=Kept", "topic_by=Olga"};
  const Texts bans{"nick sam Olga", "address 127.0.0.5 Olga"};
  ASSERT_EQ(Settings("den"), settings);
  ASSERT_EQ(Integer({"EXISTS", RoomKey("den")}), 0);  // closed

  ASSERT_TRUE(Create(dan, "Attic").ok());
  const std::string before = Everything();
  EXPECT_TRUE(IsError(Create(sam, "Den", "k1"), ErrorCode::kBanned, "you are banned from Den"));
  EXPECT_TRUE(IsError(Create(eve, "Den", "k1"), ErrorCode::kBanned, "you are banned from Den"));
  EXPECT_TRUE(IsError(Create(dan, "Den", "", "", "attic"), ErrorCode::kBadKey,
                      "Den needs a key: /join Den KEY"));
  EXPECT_TRUE(IsError(Create(dan, "DEN", "k2", "", "attic"), ErrorCode::kBadKey,
                      "wrong key for DEN"));
  EXPECT_EQ(Everything(), before);  // nothing created; Dan still in Attic

  absl::StatusOr<Entered> again = Create(dan, "Den", "k1", "", "attic");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->room_name, "Den");
  EXPECT_EQ(again->members, 1u);
  EXPECT_FALSE(again->creator_is_op);  // fresh = 0: its operators are its operator accounts
  EXPECT_FALSE(again->owner_limit_hit);
  EXPECT_EQ(again->topic, "Kept");
  EXPECT_EQ(again->topic_by, "Olga");
  EXPECT_EQ(Settings("den"), settings);
  EXPECT_EQ(Ops("den"), Texts{"olga"});
  EXPECT_EQ(Bans("den"), bans);
  EXPECT_EQ(Owned("olga"), Texts{"den"});
  EXPECT_EQ(Members("den"), Texts{"dan=a Dan"});
  EXPECT_EQ(OpenRooms(), Texts{"den"});
  EXPECT_TRUE(IsError(Op(dan, kNotHere, Verb::kTopic, "", "mine"), ErrorCode::kNotOp,
                      "you are not an operator of Den"));

  // Its owner's account passes the bans (its address is banned here) and the key.
  ASSERT_TRUE(Leave(dan, "den").ok());
  Client olga_banned_address = olga;
  olga_banned_address.address = "127.0.0.5";
  absl::StatusOr<Entered> owner = Create(olga_banned_address, "Den");
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_FALSE(owner->creator_is_op);
  EXPECT_EQ(Settings("den"), settings);
}

TEST_F(SettingsScriptsTest, CreatingAFreshRoomStartsItsSettingsAnew) {
  const Client dan{a_, "Dan", "", "127.0.0.6"};
  const Client olga{a_, "Olga", "olga", "127.0.0.1"};
  for (const Client* client : {&dan, &olga, &bob_, &dave_}) Claim(*client);
  // What an unowned room left behind (nothing but an owner keeps it): dropped, not applied.
  Do({"HSET", RoomSettingsKey("den"), "topic", "Old", "topic_by", "X", "key", "old"});
  Do({"SADD", RoomOpsKey("den"), "zed"});
  Do({"RPUSH", RoomBansKey("den"), "nick dan X"});
  absl::StatusOr<Entered> den = Create(dan, "Den", "k9");
  ASSERT_TRUE(den.ok()) << den.status();
  EXPECT_TRUE(den->creator_is_op);
  EXPECT_FALSE(den->owner_limit_hit);
  EXPECT_EQ(den->topic, "");
  EXPECT_EQ(den->topic_by, "");
  EXPECT_EQ(Settings("den"), Texts{"key=k9"});
  EXPECT_EQ(Integer({"EXISTS", RoomOpsKey("den"), RoomBansKey("den")}), 0);
  EXPECT_TRUE(IsError(Join(bob_, "den"), ErrorCode::kBadKey, "Den needs a key: /join Den KEY"));

  // A logged-in creator: an operator account and the owner.
  absl::StatusOr<Entered> lounge = Create(olga, "Lounge");
  ASSERT_TRUE(lounge.ok()) << lounge.status();
  EXPECT_TRUE(lounge->creator_is_op);
  EXPECT_FALSE(lounge->owner_limit_hit);
  EXPECT_EQ(Settings("lounge"), Texts{"owner=olga"});
  EXPECT_EQ(Ops("lounge"), Texts{"olga"});
  EXPECT_EQ(Owned("olga"), Texts{"lounge"});
  absl::StatusOr<Entered> hall = Create(bob_, "Hall", "hk");
  ASSERT_TRUE(hall.ok()) << hall.status();
  EXPECT_EQ(Settings("hall"), (Texts{"key=hk", "owner=bob"}));
  EXPECT_EQ(Ops("hall"), Texts{"bob"});

  // One that owns its maximum of rooms: an operator account, not the owner (the room is not kept).
  OwnRooms("dave", RoomSettings::kMaxOwnedPerAccount);
  absl::StatusOr<Entered> attic = Create(dave_, "Attic", "ak");
  ASSERT_TRUE(attic.ok()) << attic.status();
  EXPECT_TRUE(attic->creator_is_op);
  EXPECT_TRUE(attic->owner_limit_hit);
  EXPECT_EQ(Settings("attic"), Texts{"key=ak"});
  EXPECT_EQ(Ops("attic"), Texts{"dave"});
  EXPECT_EQ(Integer({"SCARD", "rc:owned:dave"}), 20);
  EXPECT_EQ(Integer({"SISMEMBER", "rc:owned:dave", "attic"}), 0);
}

// ---- A room's settings live with it unless an account owns it.

TEST_F(SettingsScriptsTest, AnUnownedRoomsSettingsGoWhenItsLastMemberLeaves) {
  OpenDen();
  OwnRooms("dave", RoomSettings::kMaxOwnedPerAccount);
  ExpectDone(Op(alice_, kOpHere, Verb::kOp, "Dave"), "Dave", 0, /*limit_hit=*/true);
  ExpectDone(Op(alice_, kOpHere, Verb::kTopic, "", "Short-lived"), "");
  ExpectDone(Op(alice_, kOpHere, Verb::kKey, "", "k"), "");
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "Sam"), "");
  ExpectDone(Op(alice_, kOpHere, Verb::kKick, "Carol", "bye"), "Carol");  // not the last one
  for (const Client* client : {&bob_, &dave_, &guest_}) {
    ASSERT_TRUE(Leave(*client, "den").ok());
    EXPECT_EQ(Settings("den"), (Texts{"key=k", "topic=Short-lived", "topic_by=Alice"}));
  }
  EXPECT_EQ(Ops("den"), Texts{"dave"});
  EXPECT_EQ(Bans("den"), Texts{"nick sam Alice"});
  ASSERT_TRUE(Leave(alice_, "den").ok());
  EXPECT_EQ(Integer({"EXISTS", RoomKey("den"), RoomMembersKey("den"), RoomSettingsKey("den"),
                     RoomOpsKey("den"), RoomBansKey("den")}),
            0);
  EXPECT_EQ(OpenRooms(), Texts{});
  EXPECT_EQ(Integer({"EXISTS", SeqKey("den"), HistoryKey("den")}), 2);  // kept, as always

  // The next Den starts anew.
  absl::StatusOr<Entered> again = Create(carol_, "Den");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->creator_is_op);
  EXPECT_EQ(again->topic, "");
  EXPECT_EQ(Integer({"EXISTS", RoomSettingsKey("den")}), 0);
}

TEST_F(SettingsScriptsTest, AnUnownedRoomsSettingsGoWhenTheReaperOrPruneEmptiesIt) {
  OpenDen();  // Den: members on a and b
  ExpectDone(Op(alice_, kOpHere, Verb::kTopic, "", "Den's"), "");
  const Client dan{a_, "Dan", "", "127.0.0.6"};
  Claim(dan);
  ASSERT_TRUE(Create(dan, "Lounge", "lk").ok());  // only a's members
  ASSERT_TRUE(Join(guest_, "lounge", "lk", "", "den").ok());
  ExpectDone(Op(dan, kOpHere, Verb::kBan, "Sam", "", "lounge"), "");
  ASSERT_EQ(Bans("lounge"), Texts{"nick sam Dan"});

  EXPECT_EQ(Integer(ReapCommand("b", "a", kEntries)), 4);  // Alice, Dave in Den; Dan, Guest42
  EXPECT_EQ(Integer({"EXISTS", RoomKey("lounge"), RoomSettingsKey("lounge"),
                     RoomBansKey("lounge")}),
            0);
  EXPECT_EQ(OpenRooms(), Texts{"den"});
  EXPECT_EQ(Settings("den"), (Texts{"topic=Den's", "topic_by=Alice"}));  // b's members stay

  // rc_prune: b forgets Bob and Carol after an outage; Den empties.
  EXPECT_EQ(Integer(PruneCommand(b_, {}, kEntries)), 2);
  EXPECT_EQ(Integer({"EXISTS", RoomKey("den"), RoomSettingsKey("den")}), 0);
  EXPECT_EQ(OpenRooms(), Texts{});
}

TEST_F(SettingsScriptsTest, AnOwnedRoomKeepsItsSettingsWhileClosed) {
  const Client olga{a_, "Olga", "olga", "127.0.0.1"};
  const Client sam{b_, "Sam", "", "127.0.0.9"};
  for (const Client* client : {&olga, &bob_, &sam, &carol_}) Claim(*client);
  ASSERT_TRUE(Create(olga, "Den", "k1").ok());
  ASSERT_TRUE(Join(bob_, "den", "k1").ok());
  ExpectDone(Op(olga, kNotHere, Verb::kOp, "Bob"), "Bob");
  ExpectDone(Op(olga, kNotHere, Verb::kTopic, "", "Kept"), "");
  ExpectDone(Op(olga, kNotHere, Verb::kBan, "Sam"), "");
  const Texts settings{"key=k1", "owner=olga", "topic=Kept", "topic_by=Olga"};
  const Texts ops{"bob", "olga"};
  const Texts bans{"nick sam Olga"};
  auto expect_kept = [&] {
    EXPECT_EQ(Settings("den"), settings);
    EXPECT_EQ(Ops("den"), ops);
    EXPECT_EQ(Bans("den"), bans);
    EXPECT_EQ(Owned("olga"), Texts{"den"});
  };

  // rc_leave empties it.
  ASSERT_TRUE(Leave(bob_, "den").ok());
  ASSERT_TRUE(Leave(olga, "den").ok());
  EXPECT_EQ(Integer({"EXISTS", RoomKey("den"), RoomMembersKey("den")}), 0);
  EXPECT_EQ(OpenRooms(), Texts{});
  expect_kept();

  // The reaper empties it: Bob, an operator account, created it again on b (no key needed).
  absl::StatusOr<Entered> by_bob = Create(bob_, "Den");
  ASSERT_TRUE(by_bob.ok()) << by_bob.status();
  EXPECT_FALSE(by_bob->creator_is_op);
  EXPECT_EQ(by_bob->topic, "Kept");
  expect_kept();
  EXPECT_EQ(Integer(ReapCommand("a", "b", kEntries)), 1);
  EXPECT_EQ(Integer({"EXISTS", RoomKey("den")}), 0);
  expect_kept();

  // rc_prune empties it.
  ASSERT_TRUE(Create(olga, "Den").ok());
  EXPECT_EQ(Integer(PruneCommand(a_, {}, kEntries)), 1);
  EXPECT_EQ(Integer({"EXISTS", RoomKey("den")}), 0);
  expect_kept();

  // And it applies at the next creation: a ban refuses, the key is needed.
  Claim(sam);  // reaped with b
  EXPECT_TRUE(IsError(Create(sam, "Den", "k1"), ErrorCode::kBanned, "you are banned from Den"));
  Claim(carol_);
  EXPECT_TRUE(IsError(Create(carol_, "Den"), ErrorCode::kBadKey,
                      "Den needs a key: /join Den KEY"));
  absl::StatusOr<Entered> by_carol = Create(carol_, "Den", "k1");
  ASSERT_TRUE(by_carol.ok()) << by_carol.status();
  EXPECT_FALSE(by_carol->creator_is_op);
  EXPECT_EQ(by_carol->topic, "Kept");
  EXPECT_EQ(by_carol->topic_by, "Olga");
  expect_kept();
}

// ---- rc_nick's refresh.

TEST_F(SettingsScriptsTest, RefreshRewritesOnlyTheAccountAndAddressOfThisNodesNick) {
  Claim(alice_);
  EXPECT_EQ(String({"GET", NickKey("alice")}), "a inc-a Alice - 127.0.0.1");
  Claim(bob_);
  EXPECT_EQ(String({"GET", NickKey("bob")}), "b inc-b Bob bob 127.0.0.2");
  Do({"PEXPIRE", NickKey("alice"), "30000"});

  ASSERT_TRUE(Refresh(a_, "Alice", "alice", "127.0.0.9").ok());  // registered
  EXPECT_EQ(String({"GET", NickKey("alice")}), "a inc-a Alice alice 127.0.0.9");
  int64_t ttl = Integer({"PTTL", NickKey("alice")});
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 30000);  // kept: not the 60 s a claim sets
  Do({"HSET", "rc:acct:alice", "nick", "Alice"});
  ASSERT_TRUE(Refresh(a_, "Alice", "", "").ok());  // logged out: never nick-registered
  EXPECT_EQ(String({"GET", NickKey("alice")}), "a inc-a Alice - -");
  ttl = Integer({"PTTL", NickKey("alice")});
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 30000);

  // Another node's nick, another incarnation's, nobody's: nothing changes.
  const std::string before = Everything();
  EXPECT_TRUE(Refresh(a_, "Bob", "", "127.0.0.1").ok());
  EXPECT_TRUE(Refresh({"b", "inc-old"}, "Bob", "", "127.0.0.1").ok());
  EXPECT_TRUE(Refresh({"a", "inc-new"}, "Alice", "alice", "127.0.0.1").ok());
  EXPECT_TRUE(Refresh(a_, "Nobody", "nobody", "127.0.0.1").ok());
  EXPECT_EQ(Everything(), before);
  EXPECT_EQ(Integer({"EXISTS", NickKey("nobody")}), 0);
  EXPECT_LE(Integer({"PTTL", NickKey("alice")}), 30000);
}

TEST_F(SettingsScriptsTest, ARefreshedNickIsBannedByWhatItNowIs) {
  OpenDen();
  const size_t posted = Posted("den").size();
  ASSERT_TRUE(Refresh(b_, "Carol", "carol", "127.0.0.3").ok());  // Carol registered on b
  EXPECT_EQ(Posted("den").size(), posted);  // a refresh is no rename: nothing posted
  EXPECT_EQ(Members("den").size(), 5u);
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "Carol"), "Carol");
  ASSERT_TRUE(Refresh(a_, "Dave", "", "127.0.0.4").ok());  // Dave logged out on a
  ExpectDone(Op(alice_, kOpHere, Verb::kBan, "Dave"), "Dave");
  EXPECT_EQ(Bans("den"), (Texts{"account carol Alice", "nick dave Alice",
                                "address 127.0.0.4 Alice"}));
}

}  // namespace
}  // namespace cluster
}  // namespace roomchat
