#include "chat/client/session.h"

#include "absl/strings/str_cat.h"
#include "chat/protocol/command.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace client {
namespace {

// Feeds `line` (a server line) and returns what the session wants sent.
std::string Feed(Session& session, absl::string_view line) {
  absl::StatusOr<ServerEvent> event = ParseServerLine(line);
  EXPECT_TRUE(event.ok()) << line;
  return event.ok() ? session.OnEvent(*event).send : "<bad line>";
}

bool Quiet(Session& session, absl::string_view line) {
  absl::StatusOr<ServerEvent> event = ParseServerLine(line);
  return event.ok() && session.OnEvent(*event).quiet;
}

TEST(SessionTest, NoSetupWanted) {
  Session session("", "");
  EXPECT_FALSE(session.setup_done());
  EXPECT_EQ(Feed(session, "WELCOME guest3 hi"), "");
  EXPECT_TRUE(session.setup_done());
  EXPECT_EQ(session.Prompt(), "guest3@lobby> ");
}

TEST(SessionTest, TakesTheNickThenJoinsTheRoom) {
  Session session("alice", "lounge");
  EXPECT_EQ(Feed(session, "WELCOME guest3 hi"), "/nick alice\n");
  EXPECT_EQ(Feed(session, "OK NICK alice"), "/join lounge\n");
  EXPECT_FALSE(session.setup_done());
  EXPECT_EQ(Feed(session, "OK JOIN Lounge 2"), "");
  EXPECT_TRUE(session.setup_done());
  EXPECT_EQ(session.Prompt(), "alice@Lounge> ");
}

TEST(SessionTest, CreatesTheRoomWhenItDoesNotExist) {
  Session session("", "lounge");
  EXPECT_EQ(Feed(session, "WELCOME guest3 hi"), "/join lounge\n");
  EXPECT_EQ(Feed(session, "ERR no-such-room no room called lounge"), "/create lounge\n");
  EXPECT_EQ(Feed(session, "OK CREATE lounge"), "");
  EXPECT_TRUE(session.setup_done());
  EXPECT_EQ(session.room(), "lounge");
}

TEST(SessionTest, JoinsAfterLosingTheRaceToCreate) {
  Session session("", "lounge");
  Feed(session, "WELCOME guest3 hi");
  Feed(session, "ERR no-such-room no room called lounge");
  EXPECT_EQ(Feed(session, "ERR room-exists lounge exists"), "/join lounge\n");
  EXPECT_EQ(Feed(session, "OK JOIN lounge 2"), "");
  EXPECT_TRUE(session.setup_done());
}

TEST(SessionTest, ExpectedSetupErrorsAreQuietOthersAreNot) {
  Session session("alice", "lounge");
  Feed(session, "WELCOME guest3 hi");
  EXPECT_FALSE(Quiet(session, "ERR nick-taken alice is taken")) << "the person should know";
  EXPECT_TRUE(Quiet(session, "ERR no-such-room no room called lounge"));
  EXPECT_TRUE(Quiet(session, "ERR room-exists lounge exists"));
  EXPECT_FALSE(Quiet(session, "ERR room-full lounge is full"));
}

TEST(SessionTest, GivesUpAfterBoundedRetries) {
  Session session("", "flaky");
  Feed(session, "WELCOME guest3 hi");
  for (int i = 0; i < 10 && !session.setup_done(); ++i) {
    Feed(session, "ERR no-such-room gone");
    Feed(session, "ERR room-exists there");
  }
  EXPECT_TRUE(session.setup_done());
  EXPECT_EQ(session.room(), "");
}

TEST(SessionTest, ATakenNickStillJoinsTheRoom) {
  Session session("alice", "lounge");
  Feed(session, "WELCOME guest3 hi");
  EXPECT_EQ(Feed(session, "ERR nick-taken alice is taken"), "/join lounge\n");
  EXPECT_EQ(session.nick(), "guest3");
}

TEST(SessionTest, TracksNickAndRoomAfterSetup) {
  Session session("", "");
  Feed(session, "WELCOME guest3 hi");
  Feed(session, "OK NICK bob");
  Feed(session, "OK CREATE Den");
  EXPECT_EQ(session.Prompt(), "bob@Den> ");
  Feed(session, "OK LEAVE Den");
  EXPECT_EQ(session.Prompt(), "bob@lobby> ");
}

TEST(SessionTest, WithHistoryAsksForTagsAndReplayQuietlyFirst) {
  Session session("alice", "lounge", {/*history=*/true});
  EXPECT_EQ(Feed(session, "WELCOME guest3 hi"), "/cap\n");
  EXPECT_TRUE(Quiet(session, "OK CAP ack replay tags"));
  Session asked("alice", "lounge", {/*history=*/true});
  Feed(asked, "WELCOME guest3 hi");
  EXPECT_EQ(Feed(asked, "OK CAP ack replay tags"), "/cap req replay tags\n");
  EXPECT_TRUE(Quiet(asked, "OK CAP REQ replay tags"));
}

TEST(SessionTest, WithHistoryAsksOnlyForWhatTheServerOffers) {
  Session session("", "", {/*history=*/true});
  Feed(session, "WELCOME guest3 hi");
  EXPECT_EQ(Feed(session, "OK CAP tags"), "/cap req tags\n");
  EXPECT_EQ(Feed(session, "OK CAP REQ tags"), "");
  EXPECT_TRUE(session.setup_done());
}

TEST(SessionTest, AnOlderServerWithoutCapIsFine) {
  Session session("alice", "", {/*history=*/true});
  Feed(session, "WELCOME guest3 hi");
  absl::StatusOr<ServerEvent> refused =
      ParseServerLine("ERR unknown-command no command /cap; /help lists them");
  ASSERT_TRUE(refused.ok());
  Session::Reaction reaction = session.OnEvent(*refused);
  EXPECT_TRUE(reaction.quiet);
  EXPECT_EQ(reaction.send, "/nick alice\n");
}

TEST(SessionTest, RejoinsWithSinceAndTracksTheLastIdOfItsRoom) {
  Session session("alice", "lounge", {/*history=*/true, /*since_id=*/41});
  Feed(session, "WELCOME guest3 hi");
  Feed(session, "OK CAP ack replay tags");
  EXPECT_EQ(Feed(session, "OK CAP REQ replay tags"), "/nick alice\n");
  EXPECT_EQ(Feed(session, "OK NICK alice"), "/join lounge since=41\n");
  EXPECT_EQ(session.seen_up_to(), 41u);
  Feed(session, "OK JOIN Lounge 2");
  EXPECT_EQ(session.last_id(), 41u);
  Feed(session, "@id=50;time=2026-12-01T10:00:00.000Z;history MSG Lounge bob missed");
  Feed(session, "@id=60;time=2026-12-01T10:00:01.000Z MSG lounge bob live");
  Feed(session, "@id=99;time=2026-12-01T10:00:01.000Z MSG Elsewhere bob not here");
  EXPECT_EQ(session.last_id(), 60u);
  Feed(session, "OK JOIN Den 1");  // another room: its ids start over
  EXPECT_EQ(session.last_id(), 0u);
}

Command Typed(absl::string_view line) {
  absl::StatusOr<Command> command = ParseCommand(line);
  EXPECT_TRUE(command.ok()) << line;
  return command.ok() ? *command : Command{Command::Kind::kChat};
}

// A session after setup, in `room` (with history, so ids are tracked).
Session InRoom(absl::string_view room) {
  Session session("", "", {/*history=*/true});
  Feed(session, "WELCOME guest3 hi");
  Feed(session, "ERR unknown-command no /cap");
  Feed(session, absl::StrCat("OK JOIN ", room, " 2"));
  EXPECT_TRUE(session.setup_done());
  return session;
}

TEST(SessionTest, KickedIsBackInTheLobbyAndDoesNotRejoinOnReconnect) {
  Session session = InRoom("Lounge");
  Feed(session, "@id=60;time=2026-12-01T10:00:01.000Z MSG Lounge bob live");
  Feed(session, "KICKED Lounge alice be nice");
  EXPECT_EQ(session.room(), "");
  EXPECT_EQ(session.Prompt(), "guest3@lobby> ");
  EXPECT_EQ(session.last_id(), 0u);
  Session after = session.ForReconnect();
  Feed(after, "WELCOME guest9 hi");
  Feed(after, "OK CAP tags");
  EXPECT_EQ(Feed(after, "OK CAP REQ tags"), "/nick guest3\n");
  EXPECT_EQ(Feed(after, "OK NICK guest3"), "") << "kicked: it must not rejoin Lounge";
  EXPECT_TRUE(after.setup_done());
}

TEST(SessionTest, ReconnectRejoinsItsRoomWithSince) {
  Session session = InRoom("Lounge");
  Feed(session, "@id=60;time=2026-12-01T10:00:01.000Z MSG Lounge bob live");
  Session again = session.ForReconnect();
  Feed(again, "WELCOME guest9 hi");
  Feed(again, "OK CAP tags");
  EXPECT_EQ(Feed(again, "OK CAP REQ tags"), "/nick guest3\n");
  EXPECT_EQ(Feed(again, "OK NICK guest3"), "/join Lounge since=60\n");
}

TEST(SessionTest, FollowsTheNickThroughLoginAndRenamed) {
  Session session = InRoom("Lounge");
  Feed(session, "OK LOGIN alice");
  EXPECT_EQ(session.nick(), "alice");
  EXPECT_TRUE(session.logged_in());
  EXPECT_EQ(session.Prompt(), "alice@Lounge> ");
  Feed(session, "RENAMED alice guest7 someone logged in to the account alice");
  EXPECT_EQ(session.nick(), "guest7");
  EXPECT_FALSE(session.logged_in());
  Feed(session, "OK NICK carol");
  Feed(session, "OK REGISTER carol");
  EXPECT_TRUE(session.logged_in());
  Feed(session, "OK LOGOUT carol");
  EXPECT_FALSE(session.logged_in());
  EXPECT_EQ(session.nick(), "carol");
}

TEST(SessionTest, ALoggedInSessionDoesNotAskForTheAccountsNickOnReconnect) {
  Session session = InRoom("Lounge");
  Feed(session, "OK LOGIN alice");
  Session again = session.ForReconnect();
  Feed(again, "WELCOME guest9 hi");
  Feed(again, "OK CAP tags");
  EXPECT_EQ(Feed(again, "OK CAP REQ tags"), "/join Lounge\n")
      << "/nick alice would get ERR nick-registered; /login needs the password again";
}

TEST(SessionTest, RejoinsAKeyedRoomWithTheKeyTyped) {
  Session session = InRoom("Den");
  session.OnTypedCommand(Typed("/join lounge s3cret"));
  Feed(session, "OK JOIN Lounge 2");
  Feed(session, "@id=70;time=2026-12-01T10:00:01.000Z MSG Lounge bob live");
  Session again = session.ForReconnect();
  Feed(again, "WELCOME guest9 hi");
  Feed(again, "OK CAP tags");
  Feed(again, "OK CAP REQ tags");
  EXPECT_EQ(Feed(again, "OK NICK guest3"), "/join Lounge s3cret since=70\n");
  EXPECT_EQ(Feed(again, "ERR no-such-room gone"), "/create Lounge s3cret\n");
  EXPECT_EQ(again.Prompt().find("s3cret"), std::string::npos);
}

TEST(SessionTest, TheRoomKeyFollowsKeyAndIsForgottenOnLeavingTheRoom) {
  Session session = InRoom("Lounge");
  session.OnTypedCommand(Typed("/key n3wkey"));
  Feed(session, "OK KEY Lounge");
  Session keyed = session.ForReconnect();
  Feed(keyed, "WELCOME guest9 hi");
  Feed(keyed, "OK CAP tags");
  Feed(keyed, "OK CAP REQ tags");
  EXPECT_EQ(Feed(keyed, "OK NICK guest3"), "/join Lounge n3wkey\n");
  session.OnTypedCommand(Typed("/join lounge"));
  Feed(session, "OK JOIN Lounge 2");  // the room it is in: changes nothing
  session.OnTypedCommand(Typed("/key -"));
  Feed(session, "OK KEY Lounge -");
  Session unkeyed = session.ForReconnect();
  Feed(unkeyed, "WELCOME guest9 hi");
  Feed(unkeyed, "OK CAP tags");
  Feed(unkeyed, "OK CAP REQ tags");
  EXPECT_EQ(Feed(unkeyed, "OK NICK guest3"), "/join Lounge\n");
}

TEST(SessionTest, AKeyThatDidNotWorkIsNotKept) {
  Session session = InRoom("Den");
  session.OnTypedCommand(Typed("/join lounge wrong"));
  Feed(session, "ERR bad-key Lounge needs a key");
  session.OnTypedCommand(Typed("/join elsewhere"));
  Feed(session, "OK JOIN Elsewhere 1");
  session.OnTypedCommand(Typed("/join lounge wrong"));
  Feed(session, "ERR bad-key Lounge needs a key");
  Feed(session, "KICKED Elsewhere bob bye");
  session.OnTypedCommand(Typed("/create Attic"));
  Feed(session, "OK CREATE Attic");
  Session again = session.ForReconnect();
  Feed(again, "WELCOME guest9 hi");
  Feed(again, "OK CAP tags");
  Feed(again, "OK CAP REQ tags");
  EXPECT_EQ(Feed(again, "OK NICK guest3"), "/join Attic\n");
}

}  // namespace
}  // namespace client
}  // namespace roomchat
