#include "chat/client/session.h"

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

}  // namespace
}  // namespace client
}  // namespace roomchat
