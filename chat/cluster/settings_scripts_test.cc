// rc_room_op, and the room settings that rc_join, rc_create, rc_leave, rc_prune, the reaper and
// rc_nick's refresh read or keep (docs/CLUSTER.md, "Room settings across nodes"), against a real
// redis-server through a RedisLink: each verb's reply and each refusal (code and text, as the
// single-node RoomSettings and Room give them), and exactly what Redis holds afterwards. A refusal
// must change nothing at all: Redis keeps the writes of a script that answers an error.
#include "chat/cluster/settings_scripts_fixture.h"

namespace roomchat {
namespace cluster {
namespace {

using namespace testing_util;  // NOLINT: the test's own helpers

TEST(RoomOpReplyTest, RepliesParseAndMalformedOnesAreInternalErrors) {
  using Type = RedisReply::Type;
  auto text = [](const std::string& s) { return RedisReply{Type::kString, s}; };
  auto count = [](int64_t n) { return RedisReply{Type::kInteger, "", n}; };
  RedisReply bans{Type::kArray};
  bans.elements = {text(""), text(""), text(""), count(0), count(0), count(0),
                   text("account bob Alice"), text("address ::1 Alice")};
  absl::StatusOr<RoomOpDone> done = ParseRoomOpReply(bans);
  ASSERT_TRUE(done.ok()) << done.status();
  RedisReply kicked{Type::kArray};
  kicked.elements = {text("Bob"), text(""), text(""), count(0), count(0), count(17)};
  absl::StatusOr<RoomOpDone> kick = ParseRoomOpReply(kicked);
  ASSERT_TRUE(kick.ok()) << kick.status();
  EXPECT_EQ(kick->seq, 17u) << "its KICK entry's";
  EXPECT_EQ(done->bans, (std::vector<RoomBan>{{RoomBan::Kind::kAccount, "bob", "Alice"},
                                              {RoomBan::Kind::kAddress, "::1", "Alice"}}));
  for (const char* bad : {"weird x Alice", "nick x", "nick x Alice more"}) {
    RedisReply malformed = bans;
    malformed.elements.back() = text(bad);
    EXPECT_EQ(ParseRoomOpReply(malformed).status().code(), absl::StatusCode::kInternal) << bad;
  }
  RedisReply short_reply{Type::kArray};
  short_reply.elements = {text("Bob"), text(""), text(""), count(0), count(0)};
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
  EXPECT_EQ(Settings("den"), (Texts{"name=Den", "owner=bob", "topic=", "topic_by=Bob"}));
  EXPECT_EQ(LastPosted("den"), "b TOPIC Bob ");
  absl::StatusOr<RoomOpDone> shown = Op(carol_, kNotHere, Verb::kShowTopic);
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_EQ(shown->topic, "");
  EXPECT_EQ(shown->topic_by, "Bob");

  const size_t posted = Posted("den").size();
  ExpectDone(Op(alice_, kOpHere, Verb::kKey, "", "s3cret"), "");
  EXPECT_EQ(Settings("den"),
            (Texts{"key=s3cret", "name=Den", "owner=bob", "topic=", "topic_by=Bob"}));
  ExpectDone(Op(alice_, kOpHere, Verb::kKey, "", "other"), "");
  EXPECT_EQ(String({"HGET", RoomSettingsKey("den"), "key"}), "other");
  ExpectDone(Op(alice_, kOpHere, Verb::kKey, "", "-"), "");
  EXPECT_EQ(Settings("den"), (Texts{"name=Den", "owner=bob", "topic=", "topic_by=Bob"}));
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
  EXPECT_EQ(Settings("den"), (Texts{"name=Den", "owner=bob"}));
  EXPECT_EQ(Owned("bob"), Texts{"den"});

  // The next one is an operator account only.
  ExpectDone(Op(bob_, kNotHere, Verb::kOp, "DAVE"), "Dave");
  EXPECT_EQ(LastPosted("den"), "b OP Dave Bob account");
  EXPECT_EQ(Ops("den"), (Texts{"bob", "dave"}));
  EXPECT_EQ(Settings("den"), (Texts{"name=Den", "owner=bob"}));
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
  EXPECT_EQ(Settings("den"), (Texts{"name=Den", "owner=bob"}));
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
  EXPECT_EQ(Settings("den"), (Texts{"name=Den", "owner=bob"}));
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

}  // namespace
}  // namespace cluster
}  // namespace roomchat
