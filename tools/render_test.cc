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

}  // namespace
}  // namespace roomchat
