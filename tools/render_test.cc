#include "tools/render.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

std::string RenderLine(absl::string_view line, bool color = false) {
  absl::StatusOr<ServerEvent> event = ParseServerLine(line);
  EXPECT_TRUE(event.ok()) << line;
  return event.ok() ? Render(*event, RenderOptions{color}) : "<bad line>";
}

TEST(RenderTest, ChatEventsReadNaturally) {
  EXPECT_EQ(RenderLine("MSG lounge alice hello"), "[lounge] alice: hello");
  EXPECT_EQ(RenderLine("PRIV carol hi"), "(private) carol: hi");
  EXPECT_EQ(RenderLine("JOIN lounge bob"), "* bob joined lounge");
  EXPECT_EQ(RenderLine("LEAVE lounge bob"), "* bob left lounge");
  EXPECT_EQ(RenderLine("NICK bob robert"), "* bob is now robert");
}

TEST(RenderTest, RepliesReadNaturally) {
  EXPECT_EQ(RenderLine("OK JOIN lounge 3"), "* You joined lounge (3 here)");
  EXPECT_EQ(RenderLine("OK CREATE lounge"), "* You created lounge and are in it");
  EXPECT_EQ(RenderLine("OK LEAVE lounge"), "* You left lounge and are back in the lobby");
  EXPECT_EQ(RenderLine("OK WHOAMI alice -"), "* You are alice in the lobby");
  EXPECT_EQ(RenderLine("OK WHOAMI alice lounge"), "* You are alice in lounge");
  EXPECT_EQ(RenderLine("ROOM lounge 3"), "  lounge (3)");
  EXPECT_EQ(RenderLine("OK ROOMS 1"), "* 1 room");
  EXPECT_EQ(RenderLine("MEMBER alice"), "  alice");
  EXPECT_EQ(RenderLine("OK WHO lounge 2"), "* 2 in lounge");
  EXPECT_EQ(RenderLine("ERR no-such-room no room called x"), "! no room called x (no-such-room)");
  EXPECT_EQ(RenderLine("BYE idle-timeout"), "* The server closed the connection (idle-timeout)");
  EXPECT_EQ(RenderLine("BYE quit"), "* Bye.");
  EXPECT_EQ(RenderLine("OK HELP"), "");
  EXPECT_EQ(RenderLine("OK MSG bob"), "");
}

TEST(RenderTest, ColorOnlyWhenAsked) {
  std::string plain = RenderLine("ERR nick-taken alice is taken", false);
  std::string red = RenderLine("ERR nick-taken alice is taken", true);
  EXPECT_FALSE(absl::StrContains(plain, "\x1b["));
  EXPECT_TRUE(absl::StartsWith(red, "\x1b[31m")) << red;
  EXPECT_TRUE(absl::StrContains(red, plain));
  EXPECT_FALSE(absl::StrContains(RenderNote("lost", true, RenderOptions{false}), "\x1b["));
}

TEST(RenderTest, ColorRules) {
  EXPECT_TRUE(WantsColor(true, nullptr, "xterm-256color"));
  EXPECT_FALSE(WantsColor(false, nullptr, "xterm"));
  EXPECT_FALSE(WantsColor(true, "1", "xterm"));
  EXPECT_TRUE(WantsColor(true, "", "xterm")) << "NO_COLOR counts only when not empty";
  EXPECT_FALSE(WantsColor(true, nullptr, "dumb"));
  EXPECT_FALSE(WantsColor(true, nullptr, nullptr));
}

TEST(RenderTest, HistoryIsDimmedWithItsTimeAndLiveTagsChangeNothing) {
  EXPECT_EQ(LocalClock("2026-12-01T22:47:24.123Z", absl::UTCTimeZone()), "22:47");
  EXPECT_EQ(LocalClock("not a time", absl::UTCTimeZone()), "--:--");
  const std::string replayed = "@id=7;time=2026-12-01T22:47:24.123Z;history MSG lounge bob earlier";
  std::string expected = absl::StrCat("[lounge] ", LocalClock("2026-12-01T22:47:24.123Z"),
                                      " bob: earlier");
  EXPECT_EQ(RenderLine(replayed), expected);
  EXPECT_EQ(RenderLine(replayed, /*color=*/true), absl::StrCat("\x1b[2m", expected, "\x1b[0m"));
  EXPECT_EQ(RenderLine("@id=8;time=2026-12-01T22:47:25.000Z MSG lounge bob now"),
            "[lounge] bob: now");
  EXPECT_EQ(RenderLine("OK HISTORY lounge 2"),
            "* 2 earlier lines of lounge; /history again for the ones before");
  EXPECT_EQ(RenderLine("ACK lounge 8"), "");
}

TEST(RenderTest, ModerationLinesReadNaturally) {
  EXPECT_EQ(RenderLine("OP Lounge bob alice"), "* alice made bob an operator of Lounge");
  EXPECT_EQ(RenderLine("DEOP Lounge bob alice"), "* alice took operator away from bob in Lounge");
  EXPECT_EQ(RenderLine("KICKED Lounge alice be nice"),
            "* You were kicked from Lounge by alice: be nice; you are in the lobby");
  EXPECT_EQ(RenderLine("KICK Lounge bob alice be nice"),
            "* bob was kicked from Lounge by alice: be nice");
  EXPECT_EQ(RenderLine("TOPIC Lounge alice all about tea"),
            "* Topic of Lounge (set by alice): all about tea");
  EXPECT_EQ(RenderLine("TOPIC Lounge alice"), "* alice cleared the topic of Lounge");
  EXPECT_EQ(RenderLine("RENAMED alice guest7 someone logged in to the account alice"),
            "* You lost the nick alice (someone logged in to the account alice); "
            "you are guest7 now");
}

TEST(RenderTest, BansAreAListLikeRoomsAndMembers) {
  EXPECT_EQ(RenderLine("BAN Lounge account mallory alice"), "  account mallory (banned by alice)");
  EXPECT_EQ(RenderLine("BAN Lounge address 192.0.2.7 alice"),
            "  address 192.0.2.7 (banned by alice)");
  EXPECT_EQ(RenderLine("OK BANS Lounge 2"), "* 2 bans in Lounge");
  EXPECT_EQ(RenderLine("OK BANS Lounge 1"), "* 1 ban in Lounge");
}

TEST(RenderTest, AccountAndModerationRepliesReadNaturally) {
  EXPECT_EQ(RenderLine("OK REGISTER alice"), "* Registered alice; you are logged in to it");
  EXPECT_EQ(RenderLine("OK LOGIN alice"), "* Logged in as alice");
  EXPECT_EQ(RenderLine("OK PASSWORD"), "* Password changed");
  EXPECT_EQ(RenderLine("OK LOGOUT alice"),
            "* Logged out; you keep the nick alice as a guest until someone logs in to it");
  EXPECT_EQ(RenderLine("OK OP bob"), "* You made bob an operator");
  EXPECT_EQ(RenderLine("OK DEOP bob"), "* bob is no longer an operator");
  EXPECT_EQ(RenderLine("OK KICK bob"), "* You kicked bob");
  EXPECT_EQ(RenderLine("OK BAN bob"), "* You banned bob");
  EXPECT_EQ(RenderLine("OK UNBAN bob 2"), "* Removed 2 bans on bob");
  EXPECT_EQ(RenderLine("OK UNBAN 192.0.2.7 1"), "* Removed 1 ban on 192.0.2.7");
  EXPECT_EQ(RenderLine("OK KEY Lounge"), "* Key set for Lounge");
  EXPECT_EQ(RenderLine("OK KEY Lounge -"), "* Lounge needs no key any more");
  EXPECT_EQ(RenderLine("OK TOPIC Lounge"), "") << "ChatApp says what the /topic typed did";
}

TEST(RenderTest, KickedAndRenamedStandOutInColor) {
  EXPECT_TRUE(absl::StartsWith(RenderLine("KICKED Lounge alice spam", true), "\x1b[31m"));
  EXPECT_TRUE(absl::StartsWith(RenderLine("RENAMED alice guest7 why", true), "\x1b[31m"));
}

}  // namespace
}  // namespace roomchat
