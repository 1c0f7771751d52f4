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

}  // namespace
}  // namespace client
}  // namespace roomchat
