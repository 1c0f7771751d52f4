// rc_join and rc_create's admission by a room's bans and key, what becomes of a room's settings
// when it closes (rc_leave, rc_prune, the reaper) unless an account owns it, and rc_nick's
// refresh of a nick's account and address, against a real redis-server (settings_scripts_fixture.h).
#include "chat/cluster/settings_scripts_fixture.h"

namespace roomchat {
namespace cluster {
namespace {

using namespace testing_util;  // NOLINT: the test's own helpers
// ---- rc_join and rc_create: admission.

TEST_F(SettingsScriptsTest, JoinRefusesAFullRoomThenByBansAndKey) {
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
  // room-full before the room's settings, as one node asks (Registry::JoinRoom).
  const std::string full = "Den holds its maximum of 1 members";
  EXPECT_TRUE(IsError(Join(dan, "den", "", "", "attic", /*max_members=*/1), ErrorCode::kRoomFull,
                      full));
  EXPECT_TRUE(IsError(Join(eve, "den", "k1", "", "", 1), ErrorCode::kRoomFull, full));
  EXPECT_TRUE(IsError(Join(dan, "den", "k1", "", "attic", 1), ErrorCode::kRoomFull, full));
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
  const Texts settings{"key=k1", "name=Den", "owner=olga", "topic=Kept", "topic_by=Olga"};
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
                      "wrong key for Den"));  // the name it was registered under, as one node says
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
  EXPECT_EQ(Settings("lounge"), (Texts{"name=Lounge", "owner=olga"}));
  EXPECT_EQ(Ops("lounge"), Texts{"olga"});
  EXPECT_EQ(Owned("olga"), Texts{"lounge"});
  absl::StatusOr<Entered> hall = Create(bob_, "Hall", "hk");
  ASSERT_TRUE(hall.ok()) << hall.status();
  EXPECT_EQ(Settings("hall"), (Texts{"key=hk", "name=Hall", "owner=bob"}));
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
  // Its seq kept for its next lifetime; its stream (only events: no line gave a retention) gone.
  EXPECT_EQ(Integer({"EXISTS", SeqKey("den")}), 1);
  EXPECT_EQ(Integer({"EXISTS", HistoryKey("den")}), 0);

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

  Do({"DEL", NodeKey("a")});  // a died
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
  const Texts settings{"key=k1", "name=Den", "owner=olga", "topic=Kept", "topic_by=Olga"};
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
  Do({"DEL", NodeKey("b")});  // b died
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
  EXPECT_EQ(String({"GET", NickKey("alice")}), "a inc-a Alice - 127.0.0.1 0");
  Claim(bob_);
  EXPECT_EQ(String({"GET", NickKey("bob")}), "b inc-b Bob bob 127.0.0.2 0");

  ASSERT_TRUE(Refresh(a_, "Alice", "alice", "127.0.0.9").ok());  // registered
  EXPECT_EQ(String({"GET", NickKey("alice")}), "a inc-a Alice alice 127.0.0.9 0");
  Do({"HSET", "rc:acct:alice", "nick", "Alice"});
  ASSERT_TRUE(Refresh(a_, "Alice", "", "").ok());  // logged out: never nick-registered
  EXPECT_EQ(String({"GET", NickKey("alice")}), "a inc-a Alice - - 0");
  EXPECT_EQ(Integer({"PTTL", NickKey("alice")}), -1);

  // Another node's nick, another incarnation's, nobody's: nothing changes.
  const std::string before = Everything();
  EXPECT_TRUE(Refresh(a_, "Bob", "", "127.0.0.1").ok());
  EXPECT_TRUE(Refresh({"b", "inc-old"}, "Bob", "", "127.0.0.1").ok());
  EXPECT_TRUE(Refresh({"a", "inc-new"}, "Alice", "alice", "127.0.0.1").ok());
  EXPECT_TRUE(Refresh(a_, "Nobody", "nobody", "127.0.0.1").ok());
  EXPECT_EQ(Everything(), before);
  EXPECT_EQ(Integer({"EXISTS", NickKey("nobody")}), 0);
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
