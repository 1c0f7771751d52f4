// End-to-end tests of room moderation (docs/PROTOCOL.md, "Accounts and moderation"): who is an
// operator, /op /deop /kick /ban /unban /bans /topic /key; each on one server and on a two-node
// cluster (tests/moderation_fixture.h); and the chat_server binary's log. Registered rooms and
// what an attacker's review found: moderation_rooms_test.cc. Written from the contract.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <signal.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/data_dir.h"
#include "tests/moderation_fixture.h"
#include "tests/server_fixture.h"
#include "tests/subprocess.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

// ---- 1. Operators.

TEST_P(ModerationTest, TheCreatorIsOpAndEveryOpCommandRefusesOthers) {
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
  EXPECT_EQ(AnswerEndingWith(*bob, "/topic", "OK TOPIC"), Lines{"OK TOPIC Lounge"})
      << "anyone may ask";
  // A chat line from bob comes after anything his refused commands would have sent the others.
  ASSERT_TRUE(bob->Send("after the refusals").ok());
  EXPECT_EQ(alice->Next(), "MSG Lounge bob after the refusals");
  EXPECT_EQ(carol->Next(), "MSG Lounge bob after the refusals");
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
  EXPECT_EQ(Arrived(*alice, 2), (Lines{"LEAVE Lounge bob", "JOIN Lounge bob"}));
  EXPECT_EQ(Arrived(*carol, 2), (Lines{"LEAVE Lounge bob", "JOIN Lounge bob"}));

  // In a guest's room the creator is no owner: another operator may deop it.
  ASSERT_EQ(alice->Ask("/op carol"), "OK OP carol");
  EXPECT_EQ(carol->Next(), "OP Lounge carol alice");
  ASSERT_EQ(carol->Ask("/deop alice"), "OK DEOP alice");
  EXPECT_EQ(alice->Next(), "DEOP Lounge alice carol");
  EXPECT_FALSE(IsOp(*alice));
}

// ---- 2. /kick.

TEST_P(ModerationTest, KickSendsTheTargetToTheLobbyAndItMayComeBack) {
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
  EXPECT_EQ(AnswerEndingWith(*alice, "/who", "OK WHO"),
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

TEST_P(ModerationTest, BanOfALoggedInMemberIsByAccountAcrossNickChanges) {
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

TEST_P(ModerationTest, BanOfAGuestIsByNickAndAddress) {
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

TEST_P(ModerationTest, BanOfANickNotInTheRoom) {
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

TEST_P(ModerationTest, KeyIsNeededToJoinAndNeverShown) {
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
    for (const Lines& lines :
         {AnswerEndingWith(*client, "/rooms", "OK ROOMS"),
          AnswerEndingWith(*client, "/who Lounge", "OK WHO"), Pending(*client)}) {
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
  EXPECT_EQ(AnswerEndingWith(*carol, "/who", "OK WHO"),
            (Lines{"MEMBER alice", "MEMBER bob", "MEMBER carol", "OK WHO Lounge 3"}));
}

// ---- 5. /topic.

TEST_P(ModerationTest, TopicIsShownToJoinersAndOnlyOpsSetIt) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  auto dave = Login("dave");
  ASSERT_NE(dave, nullptr);
  MeetIn("Lounge", {alice.get(), bob.get()});
  EXPECT_EQ(AnswerEndingWith(*alice, "/topic", "OK TOPIC"), Lines{"OK TOPIC Lounge"})
      << "no topic yet";
  EXPECT_TRUE(IsErr(alice->Ask("/topic " + std::string(391, 't')), "bad-args"));
  ASSERT_EQ(alice->Ask("/topic Welcome to the lounge"), "OK TOPIC Lounge");
  EXPECT_EQ(bob->Next(), "TOPIC Lounge alice Welcome to the lounge");
  EXPECT_EQ(Pending(*alice), Lines{}) << "the setter gets OK TOPIC only";

  ASSERT_EQ(carol->Ask("/join Lounge"), "OK JOIN Lounge 3");
  EXPECT_EQ(carol->Next(), "TOPIC Lounge alice Welcome to the lounge") << "right after OK JOIN";
  EXPECT_EQ(alice->Next(), "JOIN Lounge carol");
  EXPECT_EQ(bob->Next(), "JOIN Lounge carol");
  EXPECT_EQ(AnswerEndingWith(*carol, "/topic", "OK TOPIC"),
            (Lines{"TOPIC Lounge alice Welcome to the lounge", "OK TOPIC Lounge"}));
  EXPECT_TRUE(IsErr(carol->Ask("/topic hijacked"), "not-op"));
  EXPECT_EQ(AnswerEndingWith(*bob, "/topic", "OK TOPIC"),
            (Lines{"TOPIC Lounge alice Welcome to the lounge", "OK TOPIC Lounge"}));

  ASSERT_EQ(alice->Ask("/topic -"), "OK TOPIC Lounge");
  EXPECT_EQ(Arrived(*bob, 1), (Lines{"TOPIC Lounge alice"}));
  EXPECT_EQ(carol->Next(), "TOPIC Lounge alice");
  ASSERT_EQ(dave->Ask("/join Lounge"), "OK JOIN Lounge 4");
  EXPECT_EQ(Pending(*dave), Lines{}) << "no topic, no TOPIC line";
  EXPECT_EQ(AnswerEndingWith(*dave, "/topic", "OK TOPIC"), Lines{"OK TOPIC Lounge"});
}

INSTANTIATE_TEST_SUITE_P(, ModerationTest, ::testing::Values(Nodes::kOne, Nodes::kTwo),
                         NodesTestName);

// ---- 6. Registered rooms: moderation_rooms_test.cc.

// ---- 7. The server's log: no key, no password (the chat_server binary, its stderr read; alone).

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
