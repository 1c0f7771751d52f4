// End-to-end tests of room moderation (docs/PROTOCOL.md, "Accounts and moderation"): who is an
// operator, /op /deop /kick /ban /unban /bans /topic /key, and registered rooms whose settings come
// back when they are created again, also after a restart. Written from the contract.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <signal.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/data_dir.h"
#include "tests/server_fixture.h"
#include "tests/subprocess.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

class ModerationTest : public ServerFixture {
 protected:
  // A client that takes `nick` and registers it (so it is logged in); null (and a failure) if not.
  std::unique_ptr<TestClient> Registered(absl::string_view nick, TestClientOptions options = {}) {
    auto client = Login(nick, options);
    if (client == nullptr) return nullptr;
    std::string reply = client->Ask(absl::StrCat("/register ", PasswordOf(nick)));
    if (reply != absl::StrCat("OK REGISTER ", nick)) {
      ADD_FAILURE() << "expected OK REGISTER " << nick << ", got " << reply;
      return nullptr;
    }
    return client;
  }
  // A new connection logged in to `nick`'s account.
  std::unique_ptr<TestClient> LoggedIn(absl::string_view nick) {
    auto client = Login();
    if (client == nullptr) return nullptr;
    std::string reply = client->Ask(absl::StrCat("/login ", nick, " ", PasswordOf(nick)));
    if (reply != absl::StrCat("OK LOGIN ", nick)) {
      ADD_FAILURE() << "expected OK LOGIN " << nick << ", got " << reply;
      return nullptr;
    }
    return client;
  }
  static std::string PasswordOf(absl::string_view nick) { return absl::StrCat(nick, "-password"); }
};

// The creator makes `room` and the others join it; every JOIN event read.
void MeetIn(absl::string_view room, const std::vector<TestClient*>& members) {
  for (TestClient* member : members) ASSERT_NE(member, nullptr);
  ASSERT_EQ(members[0]->Ask(absl::StrCat("/create ", room)), absl::StrCat("OK CREATE ", room));
  for (size_t i = 1; i < members.size(); ++i) {
    ASSERT_EQ(members[i]->Ask(absl::StrCat("/join ", room)),
              absl::StrCat("OK JOIN ", room, " ", i + 1));
  }
  for (TestClient* member : members) Pending(*member);  // the JOIN events
}

// Sends `command` and reads until a line starting with `end` (or an ERR, or no line in time);
// returns every line, that one last.
Lines AskUntil(TestClient& client, absl::string_view command, absl::string_view end) {
  Lines lines;
  if (!client.Send(command).ok()) return {"<send failed>"};
  while (true) {
    std::string line = client.Next();
    lines.push_back(line);
    if (absl::StartsWith(line, end) || absl::StartsWith(line, "ERR ") ||
        absl::StartsWith(line, "<")) {
      return lines;
    }
  }
}

// `client`'s answer to /bans: the BAN lines sorted, then the OK line.
Lines Bans(TestClient& client) {
  Lines lines = AskUntil(client, "/bans", "OK BANS ");
  if (!lines.empty()) std::sort(lines.begin(), lines.end() - 1);
  return lines;
}

// Whether `client` is an operator of its room, asked without changing anything: /kick of a nick
// that is not there is "no-such-nick" for an operator and "not-op" for anyone else.
bool IsOp(TestClient& client) {
  std::string reply = client.Ask("/kick nobody-at-all");
  EXPECT_TRUE(IsErr(reply, "no-such-nick") || IsErr(reply, "not-op")) << reply;
  return IsErr(reply, "no-such-nick");
}

// ---- 1. Operators.

TEST_F(ModerationTest, TheCreatorIsOpAndEveryOpCommandRefusesOthers) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  ASSERT_NE(carol, nullptr);
  EXPECT_TRUE(IsErr(alice->Ask("/op bob"), "not-in-room")) << "in the lobby";
  EXPECT_TRUE(IsErr(alice->Ask("/topic"), "not-in-room"));
  MeetIn("Lounge", {alice.get(), bob.get(), carol.get()});
  for (const char* command : {"/op carol", "/deop alice", "/kick alice", "/kick carol noisy",
                              "/ban carol", "/unban carol", "/bans", "/topic bob was here",
                              "/topic -", "/key sesame-42", "/key -"}) {
    EXPECT_TRUE(IsErr(bob->Ask(command), "not-op")) << command;
  }
  EXPECT_EQ(AskUntil(*bob, "/topic", "OK TOPIC"), Lines{"OK TOPIC Lounge"}) << "anyone may ask";
  EXPECT_EQ(Pending(*alice), Lines{}) << "nothing happened";
  EXPECT_EQ(Pending(*carol), Lines{});
  EXPECT_TRUE(IsOp(*alice));
  EXPECT_FALSE(IsOp(*bob));

  // /op shares it; /deop takes it.
  EXPECT_TRUE(IsErr(alice->Ask("/op nobody-at-all"), "no-such-nick"));
  ASSERT_EQ(alice->Ask("/op bob"), "OK OP bob");
  EXPECT_EQ(bob->Next(), "OP Lounge bob alice");
  EXPECT_EQ(carol->Next(), "OP Lounge bob alice");
  EXPECT_TRUE(IsOp(*bob));
  ASSERT_EQ(bob->Ask("/topic set by bob"), "OK TOPIC Lounge");
  EXPECT_EQ(alice->Next(), "TOPIC Lounge bob set by bob");
  EXPECT_EQ(carol->Next(), "TOPIC Lounge bob set by bob");
  ASSERT_EQ(alice->Ask("/deop bob"), "OK DEOP bob");
  EXPECT_EQ(bob->Next(), "DEOP Lounge bob alice");
  EXPECT_EQ(carol->Next(), "DEOP Lounge bob alice");
  EXPECT_FALSE(IsOp(*bob));
  EXPECT_TRUE(IsErr(bob->Ask("/topic again"), "not-op"));
  EXPECT_EQ(Pending(*alice), Lines{});

  // A guest's operator status lasts while it stays: bob, opped, leaves and comes back without it.
  ASSERT_EQ(alice->Ask("/op bob"), "OK OP bob");
  EXPECT_EQ(bob->Next(), "OP Lounge bob alice");
  EXPECT_EQ(carol->Next(), "OP Lounge bob alice");
  ASSERT_EQ(bob->Ask("/leave"), "OK LEAVE Lounge");
  ASSERT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 3");
  EXPECT_EQ(bob->Next(), "TOPIC Lounge bob set by bob");
  EXPECT_FALSE(IsOp(*bob));
  EXPECT_EQ(Pending(*alice), (Lines{"LEAVE Lounge bob", "JOIN Lounge bob"}));
  EXPECT_EQ(Pending(*carol), (Lines{"LEAVE Lounge bob", "JOIN Lounge bob"}));

  // In a guest's room the creator is no owner: another operator may deop it.
  ASSERT_EQ(alice->Ask("/op carol"), "OK OP carol");
  EXPECT_EQ(carol->Next(), "OP Lounge carol alice");
  ASSERT_EQ(carol->Ask("/deop alice"), "OK DEOP alice");
  EXPECT_EQ(alice->Next(), "DEOP Lounge alice carol");
  EXPECT_FALSE(IsOp(*alice));
}

// ---- 2. /kick.

TEST_F(ModerationTest, KickSendsTheTargetToTheLobbyAndItMayComeBack) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  ASSERT_NE(carol, nullptr);
  MeetIn("Lounge", {alice.get(), bob.get(), carol.get()});
  EXPECT_TRUE(IsErr(alice->Ask("/kick nobody-at-all"), "no-such-nick"));
  EXPECT_TRUE(IsErr(alice->Ask("/kick alice"), "bad-args")) << "yourself";
  ASSERT_EQ(alice->Ask("/kick bob being loud"), "OK KICK bob");
  EXPECT_EQ(bob->Next(), "KICKED Lounge alice being loud");
  EXPECT_EQ(carol->Next(), "KICK Lounge bob alice being loud");
  EXPECT_EQ(Pending(*alice), Lines{}) << "the op gets OK KICK only";
  EXPECT_TRUE(IsErr(bob->Ask("still talking"), "not-in-room")) << "bob is in the lobby";
  ASSERT_EQ(bob->Ask("/whoami"), "OK WHOAMI bob -");
  EXPECT_EQ(AskUntil(*alice, "/who", "OK WHO"),
            (Lines{"MEMBER alice", "MEMBER carol", "OK WHO Lounge 2"}));

  // A kick is not a ban.
  ASSERT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 3");
  EXPECT_EQ(alice->Next(), "JOIN Lounge bob");
  EXPECT_EQ(carol->Next(), "JOIN Lounge bob");
  // Without a reason, the lines still name the room and who kicked.
  ASSERT_EQ(alice->Ask("/kick bob"), "OK KICK bob");
  EXPECT_TRUE(absl::StartsWith(bob->Next(), "KICKED Lounge alice"));
  EXPECT_TRUE(absl::StartsWith(carol->Next(), "KICK Lounge bob alice"));
}

// ---- 3. /ban, /bans, /unban.

TEST_F(ModerationTest, BanOfALoggedInMemberIsByAccountAcrossNickChanges) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Registered("bob");
  auto carol = Login("carol");
  ASSERT_NE(carol, nullptr);
  ASSERT_NE(bob, nullptr);
  MeetIn("Lounge", {alice.get(), bob.get(), carol.get()});
  EXPECT_TRUE(IsErr(alice->Ask("/ban alice"), "bad-args")) << "yourself";
  ASSERT_EQ(alice->Ask("/ban bob"), "OK BAN bob");
  EXPECT_EQ(bob->Next(), "KICKED Lounge alice banned");
  EXPECT_EQ(carol->Next(), "KICK Lounge bob alice banned");
  EXPECT_TRUE(IsErr(bob->Ask("/join Lounge"), "banned"));
  // Still logged in under another nick: still banned.
  ASSERT_EQ(bob->Ask("/nick robert"), "OK NICK robert");
  EXPECT_TRUE(IsErr(bob->Ask("/join Lounge"), "banned"));
  EXPECT_EQ(Bans(*alice), (Lines{"BAN Lounge account bob alice", "OK BANS Lounge 1"}));
  // The account, not the address: a guest from the same address comes in.
  auto dave = Login("dave");
  ASSERT_NE(dave, nullptr);
  ASSERT_EQ(dave->Ask("/join Lounge"), "OK JOIN Lounge 3");
  EXPECT_EQ(alice->Next(), "JOIN Lounge dave");

  EXPECT_TRUE(IsErr(alice->Ask("/unban nobody-at-all"), "bad-args")) << "no ban matches";
  ASSERT_EQ(alice->Ask("/unban bob"), "OK UNBAN bob 1");
  EXPECT_EQ(Bans(*alice), (Lines{"OK BANS Lounge 0"}));
  ASSERT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 4");
}

TEST_F(ModerationTest, BanOfAGuestIsByNickAndAddress) {
  StartServer();
  TestClientOptions from_mallory{.local_address = "127.0.0.2"};
  auto alice = Login("alice");
  auto mallory = Login("mallory", from_mallory);
  ASSERT_NE(mallory, nullptr);
  MeetIn("Lounge", {alice.get(), mallory.get()});
  ASSERT_EQ(alice->Ask("/ban mallory"), "OK BAN mallory");
  EXPECT_EQ(mallory->Next(), "KICKED Lounge alice banned");
  EXPECT_TRUE(IsErr(mallory->Ask("/join Lounge"), "banned"));
  EXPECT_EQ(Bans(*alice), (Lines{"BAN Lounge address 127.0.0.2 alice",
                                 "BAN Lounge nick mallory alice", "OK BANS Lounge 2"}));

  // Another nick from that address: banned by address.
  ASSERT_EQ(mallory->Ask("/nick mal2"), "OK NICK mal2");
  EXPECT_TRUE(IsErr(mallory->Ask("/join Lounge"), "banned"));
  auto accomplice = Login("accomplice", from_mallory);
  ASSERT_NE(accomplice, nullptr);
  EXPECT_TRUE(IsErr(accomplice->Ask("/join Lounge"), "banned"));
  // The nick from another address: banned by nick.
  auto namesake = Login("mallory");
  ASSERT_NE(namesake, nullptr);
  EXPECT_TRUE(IsErr(namesake->Ask("/join Lounge"), "banned"));
  // Another guest from 127.0.0.1 comes in.
  auto dave = Login("dave");
  ASSERT_NE(dave, nullptr);
  ASSERT_EQ(dave->Ask("/join Lounge"), "OK JOIN Lounge 2");
  EXPECT_EQ(alice->Next(), "JOIN Lounge dave");

  ASSERT_EQ(alice->Ask("/unban 127.0.0.2"), "OK UNBAN 127.0.0.2 1");
  ASSERT_EQ(accomplice->Ask("/join Lounge"), "OK JOIN Lounge 3");
  EXPECT_EQ(alice->Next(), "JOIN Lounge accomplice");
  EXPECT_TRUE(IsErr(namesake->Ask("/join Lounge"), "banned")) << "the nick ban stays";
  ASSERT_EQ(alice->Ask("/unban mallory"), "OK UNBAN mallory 1");
  ASSERT_EQ(namesake->Ask("/join Lounge"), "OK JOIN Lounge 4");
}

TEST_F(ModerationTest, BanOfANickNotInTheRoom) {
  StartServer();
  auto alice = Login("alice");
  ASSERT_NE(Registered("bob"), nullptr);
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  ASSERT_EQ(alice->Ask("/ban bob"), "OK BAN bob");
  ASSERT_EQ(alice->Ask("/ban zed"), "OK BAN zed");
  EXPECT_EQ(Bans(*alice), (Lines{"BAN Lounge account bob alice", "BAN Lounge nick zed alice",
                                 "OK BANS Lounge 2"}))
      << "a registered nick by account, another by nick";
  auto bob = LoggedIn("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_TRUE(IsErr(bob->Ask("/join Lounge"), "banned"));
  auto zed = Login("zed");
  ASSERT_NE(zed, nullptr);
  EXPECT_TRUE(IsErr(zed->Ask("/join Lounge"), "banned"));
}

// ---- 4. /key.

TEST_F(ModerationTest, KeyIsNeededToJoinAndNeverShown) {
  constexpr char kKey[] = "sesame-42";
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  ASSERT_NE(carol, nullptr);
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  for (const std::string& bad : {std::string("since=5"), std::string(65, 'k')}) {
    EXPECT_TRUE(IsErr(alice->Ask("/key " + bad), "bad-args")) << bad;
  }
  EXPECT_TRUE(IsErr(alice->Ask("/key two words"), "bad-args"));

  Lines seen;  // every line any client got while the room had the key
  auto ask = [&](TestClient& client, absl::string_view command) {
    std::string reply = client.Ask(command);
    seen.push_back(reply);
    return reply;
  };
  EXPECT_EQ(ask(*alice, absl::StrCat("/key ", kKey)), "OK KEY Lounge");
  EXPECT_TRUE(IsErr(ask(*bob, "/join Lounge"), "bad-key"));
  EXPECT_TRUE(IsErr(ask(*bob, "/join Lounge sesame-41"), "bad-key"));
  EXPECT_TRUE(IsErr(ask(*bob, "/join Lounge sesame-42x"), "bad-key"));
  EXPECT_EQ(ask(*bob, absl::StrCat("/join Lounge ", kKey)), "OK JOIN Lounge 2");
  EXPECT_EQ(alice->Next(), "JOIN Lounge bob");
  EXPECT_EQ(ask(*alice, "/ban zed"), "OK BAN zed");
  for (TestClient* client : {alice.get(), bob.get(), carol.get()}) {
    for (const Lines& lines : {AskUntil(*client, "/rooms", "OK ROOMS"),
                               AskUntil(*client, "/who Lounge", "OK WHO"), Pending(*client)}) {
      seen.insert(seen.end(), lines.begin(), lines.end());
    }
  }
  Lines bans = Bans(*alice);
  seen.insert(seen.end(), bans.begin(), bans.end());
  EXPECT_EQ(bans, (Lines{"BAN Lounge nick zed alice", "OK BANS Lounge 1"}));
  for (const std::string& line : seen) EXPECT_FALSE(absl::StrContains(line, kKey)) << line;

  // Members already in stay; /key - lifts it.
  ASSERT_EQ(alice->Ask("/key -"), "OK KEY Lounge -");
  ASSERT_EQ(carol->Ask("/join Lounge"), "OK JOIN Lounge 3");
  EXPECT_EQ(AskUntil(*carol, "/who", "OK WHO"),
            (Lines{"MEMBER alice", "MEMBER bob", "MEMBER carol", "OK WHO Lounge 3"}));
}

// ---- 5. /topic.

TEST_F(ModerationTest, TopicIsShownToJoinersAndOnlyOpsSetIt) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  auto dave = Login("dave");
  ASSERT_NE(dave, nullptr);
  MeetIn("Lounge", {alice.get(), bob.get()});
  EXPECT_EQ(AskUntil(*alice, "/topic", "OK TOPIC"), Lines{"OK TOPIC Lounge"}) << "no topic yet";
  EXPECT_TRUE(IsErr(alice->Ask("/topic " + std::string(391, 't')), "bad-args"));
  ASSERT_EQ(alice->Ask("/topic Welcome to the lounge"), "OK TOPIC Lounge");
  EXPECT_EQ(bob->Next(), "TOPIC Lounge alice Welcome to the lounge");
  EXPECT_EQ(Pending(*alice), Lines{}) << "the setter gets OK TOPIC only";

  ASSERT_EQ(carol->Ask("/join Lounge"), "OK JOIN Lounge 3");
  EXPECT_EQ(carol->Next(), "TOPIC Lounge alice Welcome to the lounge") << "right after OK JOIN";
  EXPECT_EQ(alice->Next(), "JOIN Lounge carol");
  EXPECT_EQ(bob->Next(), "JOIN Lounge carol");
  EXPECT_EQ(AskUntil(*carol, "/topic", "OK TOPIC"),
            (Lines{"TOPIC Lounge alice Welcome to the lounge", "OK TOPIC Lounge"}));
  EXPECT_TRUE(IsErr(carol->Ask("/topic hijacked"), "not-op"));
  EXPECT_EQ(AskUntil(*bob, "/topic", "OK TOPIC"),
            (Lines{"TOPIC Lounge alice Welcome to the lounge", "OK TOPIC Lounge"}));

  ASSERT_EQ(alice->Ask("/topic -"), "OK TOPIC Lounge");
  EXPECT_EQ(Pending(*bob), (Lines{"TOPIC Lounge alice"}));
  EXPECT_EQ(carol->Next(), "TOPIC Lounge alice");
  ASSERT_EQ(dave->Ask("/join Lounge"), "OK JOIN Lounge 4");
  EXPECT_EQ(Pending(*dave), Lines{}) << "no topic, no TOPIC line";
  EXPECT_EQ(AskUntil(*dave, "/topic", "OK TOPIC"), Lines{"OK TOPIC Lounge"});
}

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
  EXPECT_EQ(Pending(dave), Lines{kLoungeTopic});
  EXPECT_FALSE(IsOp(dave)) << "a creator that is none of the room's operators";
  EXPECT_TRUE(IsErr(dave.Ask("/topic mine now"), "not-op"));
  ASSERT_EQ(dave.Ask("/leave"), "OK LEAVE Lounge");
  // carol's account is an operator: it passes the key and is op.
  ASSERT_EQ(carol.Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(Pending(carol), Lines{kLoungeTopic});
  EXPECT_TRUE(IsOp(carol));
  ASSERT_EQ(carol.Ask("/leave"), "OK LEAVE Lounge");
  // The owner: op, topic shown, bans kept.
  ASSERT_EQ(alice.Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(Pending(alice), Lines{kLoungeTopic});
  EXPECT_TRUE(IsOp(alice));
  EXPECT_EQ(Bans(alice), (Lines{"BAN Lounge account bob alice", "OK BANS Lounge 1"}));
  ASSERT_EQ(alice.Ask("/leave"), "OK LEAVE Lounge");
}

TEST_F(ModerationTest, ARegisteredRoomKeepsItsSettingsWhenCreatedAgainAndAfterARestart) {
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
    ASSERT_EQ(AskUntil(*bob, absl::StrCat("/join Lounge ", kLoungeKey), "OK JOIN")[0],
              "OK JOIN Lounge 2");
    ASSERT_EQ(AskUntil(*carol, absl::StrCat("/join Lounge ", kLoungeKey), "OK JOIN")[0],
              "OK JOIN Lounge 3");
    for (TestClient* client : {alice.get(), bob.get(), carol.get()}) Pending(*client);
    ASSERT_EQ(alice->Ask("/op carol"), "OK OP carol");
    ASSERT_EQ(alice->Ask("/ban bob"), "OK BAN bob");
    ASSERT_EQ(Pending(*bob), (Lines{"OP Lounge carol alice", "KICKED Lounge alice banned"}));
    ASSERT_EQ(Pending(*carol), (Lines{"OP Lounge carol alice", "KICK Lounge bob alice banned"}));
    ASSERT_EQ(carol->Ask("/leave"), "OK LEAVE Lounge");
    ASSERT_EQ(alice->Next(), "LEAVE Lounge carol");
    ASSERT_EQ(alice->Ask("/leave"), "OK LEAVE Lounge");
    for (TestClient* client : {alice.get(), bob.get(), carol.get(), dave.get()}) Pending(*client);
    ASSERT_EQ(AskUntil(*dave, "/rooms", "OK ROOMS"), Lines{"OK ROOMS 0"}) << "Lounge is gone";

    ExpectLoungeComesBackAsAliceLeftIt(*alice, *bob, *carol, *dave);
  }
  server_.reset();
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

TEST_F(ModerationTest, TheOwnerCannotBeDeoppedKickedOrBanned) {
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
  EXPECT_EQ(Pending(*alice), Lines{}) << "alice is still in, undisturbed";
  EXPECT_TRUE(IsOp(*alice));
  EXPECT_EQ(AskUntil(*bob, "/bans", "OK BANS"), Lines{"OK BANS Lounge 0"});
}

TEST_F(ModerationTest, AnOppedAccountInAGuestsRoomBecomesItsOwner) {
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

TEST_F(ModerationTest, AnOperatorAccountStaysOpAcrossLeavingAndNickChanges) {
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
  Pending(*alice);
  ASSERT_EQ(alice->Ask("/key a-lounge-key"), "OK KEY Lounge");
  auto dave = Login("dave");
  ASSERT_NE(dave, nullptr);
  EXPECT_TRUE(IsErr(dave->Ask("/join Lounge"), "bad-key")) << "the key is there";
  EXPECT_EQ(carol->Ask("/join Lounge"), "OK JOIN Lounge 3");
}

TEST_F(ModerationTest, ARoomHoldsAtMost100Bans) {
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

// ---- 7. The server's log: no key, no password (the chat_server binary, its stderr read).

// ---- What an attacker's review found.

TEST_F(ModerationTest, AnAccountBanHoldsAfterALogoutOnThatConnection) {
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

TEST_F(ModerationTest, CreateWithAKeyKeysTheNewRoom) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  ASSERT_EQ(alice->Ask("/create Vault s3cret"), "OK CREATE Vault");
  EXPECT_TRUE(IsErr(bob->Ask("/join Vault"), "bad-key"));
  EXPECT_EQ(bob->Ask("/join Vault s3cret"), "OK JOIN Vault 2");
}

TEST_F(ModerationTest, AMemberKickedWhileItsHistoryIsReadIsNotLeftHeld) {
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

TEST_F(ModerationTest, AnAddressHasAtMostTwoPasswordsCheckedAtOnce) {
  StartServer();
  std::vector<std::unique_ptr<TestClient>> guessers;
  for (int i = 0; i < 4; ++i) {
    guessers.push_back(Login("", TestClientOptions{.local_address = "127.0.0.3"}));
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

TEST_F(ModerationTest, AnAccountOwnsAtMost20RegisteredRooms) {
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

TEST(ModerationLogTest, NeitherKeysNorPasswordsAreLogged) {
  constexpr char kKey[] = "log-key-5150";
  constexpr char kPassword[] = "log-password-8086";
  constexpr char kWrongPassword[] = "log-wrong-1234";
  Subprocess server("chat/chat_server", {"--port=0", "--http_port=0", DataDirFlag()});
  std::optional<int> port = WaitUntilListening(server, kLineDeadline);
  ASSERT_TRUE(port.has_value()) << server.Stderr();
  auto alice = Login(*port, "alice");
  auto bob = Login(*port, "bob");
  ASSERT_NE(bob, nullptr);
  ASSERT_EQ(alice->Ask(absl::StrCat("/register ", kPassword)), "OK REGISTER alice");
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  ASSERT_EQ(alice->Ask(absl::StrCat("/key ", kKey)), "OK KEY Lounge");
  EXPECT_TRUE(IsErr(bob->Ask("/join Lounge wrong-key-77"), "bad-key"));
  ASSERT_EQ(bob->Ask(absl::StrCat("/join Lounge ", kKey)), "OK JOIN Lounge 2");
  ASSERT_EQ(alice->Next(), "JOIN Lounge bob");
  ASSERT_EQ(alice->Ask("/kick bob"), "OK KICK bob");
  ASSERT_TRUE(absl::StartsWith(bob->Next(), "KICKED Lounge alice"));
  EXPECT_TRUE(IsErr(bob->Ask(absl::StrCat("/login alice ", kWrongPassword)), "auth-failed"));
  ASSERT_EQ(bob->Ask(absl::StrCat("/login alice ", kPassword)), "OK LOGIN alice");
  ASSERT_EQ(bob->Ask(absl::StrCat("/password ", kPassword, " new-", kPassword)), "OK PASSWORD");
  server.Signal(SIGTERM);
  ASSERT_TRUE(server.ExitsWith(0, kLineDeadline)) << server.Stderr();
  std::string log = server.Stderr();
  EXPECT_TRUE(absl::StrContains(log, "room Lounge opened by alice")) << "the log was read";
  for (const char* secret : {kKey, "wrong-key-77", kPassword, kWrongPassword}) {
    EXPECT_FALSE(absl::StrContains(log, secret)) << secret << " in the log:\n" << log;
  }
}

}  // namespace
}  // namespace roomchat
