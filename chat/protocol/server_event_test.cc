#include "chat/protocol/server_event.h"

#include <string>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

using Kind = ServerEvent::Kind;

ServerEvent Parse(absl::string_view line) {
  absl::StatusOr<ServerEvent> event = ParseServerLine(line);
  EXPECT_TRUE(event.ok()) << line << ": " << event.status();
  return event.ok() ? *event : ServerEvent{Kind::kBye};
}

TEST(ServerEventTest, ParsesEveryKind) {
  ServerEvent welcome = Parse("WELCOME guest7 Welcome to roomchat. You are in the lobby.");
  EXPECT_EQ(welcome.kind, Kind::kWelcome);
  EXPECT_EQ(welcome.nick, "guest7");
  EXPECT_EQ(welcome.text, "Welcome to roomchat. You are in the lobby.");

  ServerEvent ok = Parse("OK JOIN Lounge 3");
  EXPECT_EQ(ok.kind, Kind::kOk);
  EXPECT_EQ(ok.command, "JOIN");
  EXPECT_EQ(ok.args, (std::vector<std::string>{"Lounge", "3"}));
  EXPECT_TRUE(Parse("OK HELP").args.empty());

  ServerEvent err = Parse("ERR no-such-room no room called x");
  EXPECT_EQ(err.code, "no-such-room");
  EXPECT_EQ(err.text, "no room called x");

  ServerEvent msg = Parse("MSG Lounge alice hello  there, you");
  EXPECT_EQ(msg.kind, Kind::kMsg);
  EXPECT_EQ(msg.room, "Lounge");
  EXPECT_EQ(msg.nick, "alice");
  EXPECT_EQ(msg.text, "hello  there, you");

  ServerEvent priv = Parse("PRIV carol psst");
  EXPECT_EQ(priv.nick, "carol");
  EXPECT_EQ(priv.text, "psst");

  ServerEvent join = Parse("JOIN Lounge bob");
  EXPECT_EQ(join.kind, Kind::kJoin);
  EXPECT_EQ(join.room, "Lounge");
  EXPECT_EQ(join.nick, "bob");
  EXPECT_EQ(Parse("LEAVE Lounge bob").kind, Kind::kLeave);

  ServerEvent nick = Parse("NICK bob robert");
  EXPECT_EQ(nick.nick, "bob");
  EXPECT_EQ(nick.new_nick, "robert");

  ServerEvent room = Parse("ROOM Lounge 12");
  EXPECT_EQ(room.room, "Lounge");
  EXPECT_EQ(room.count, 12);

  EXPECT_EQ(Parse("MEMBER alice").nick, "alice");
  EXPECT_EQ(Parse("PONG").text, "");
  EXPECT_EQ(Parse("PONG abc 1").text, "abc 1");
  EXPECT_EQ(Parse("HELP /nick NAME  change it").text, "/nick NAME  change it");
  EXPECT_EQ(Parse("BYE server-shutdown").text, "server-shutdown");
}

TEST(ServerEventTest, EmptyChatTextIsAllowed) {
  // The server never sends it, but a MSG whose text is empty is still well-formed.
  EXPECT_EQ(Parse("MSG r n ").text, "");
}

TEST(ServerEventTest, RejectsMalformedLinesClearly) {
  for (absl::string_view line :
       {"", "HELLO there", "msg lowercase tag", "MSG onlyroom", "MSG room", "JOIN room",
        "JOIN  bob", "NICK onlyone", "ROOM Lounge many", "ROOM Lounge -1", "ROOM Lounge", "MEMBER",
        "OK", "WELCOME", "ERR"}) {
    absl::StatusOr<ServerEvent> event = ParseServerLine(line);
    EXPECT_FALSE(event.ok()) << "'" << line << "'";
    EXPECT_TRUE(absl::IsInvalidArgument(event.status())) << line;
    EXPECT_FALSE(event.status().message().empty());
  }
}

TEST(ServerEventTest, SurvivesArbitraryBytes) {
  std::string bytes;
  for (int i = 0; i < 4096; ++i) {
    bytes.push_back(static_cast<char>((i * 7919) % 256));
    ParseServerLine(bytes).IgnoreError();
    ParseServerLine(absl::string_view(bytes).substr(i / 2)).IgnoreError();
  }
}

}  // namespace
}  // namespace roomchat
