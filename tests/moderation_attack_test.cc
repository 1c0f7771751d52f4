// Hostile input to the moderation commands (docs/PROTOCOL.md, "Rooms and their operators"), on
// one server and on a two-node cluster (tests/moderation_fixture.h) with the same assertions: a
// cluster carries topics, kick reasons, keys and ban values through Redis and its Lua scripts
// byte for byte as one node does. Values that look like entry fields ("1 2 3"), Lua pattern
// characters (% . - [ ] * +) where the scripts match with string.match, non-ASCII text, and values
// at their length limits.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/moderation_fixture.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

TEST_P(ModerationTest, HostileTopicsAndKickReasonsArriveVerbatim) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  ASSERT_NO_FATAL_FAILURE(MeetIn("R-1.x", {alice.get(), bob.get(), carol.get()}));
  const std::string at_limit = absl::StrCat(std::string(194, 'x'), std::string(196 / 2, ' ') ,
                                            std::string(98, '%'));  // 390 bytes
  ASSERT_EQ(at_limit.size(), 390u);
  for (const std::string& topic :
       {std::string("1 2 3"), std::string("%s %d %% [a-z]+ .* (x) $1 %1"),
        std::string("h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC"),
        std::string("TOPIC R-1.x mallory fake"), std::string("a  b   c"), at_limit}) {
    ASSERT_EQ(alice->Ask(absl::StrCat("/topic ", topic)), "OK TOPIC R-1.x") << topic;
    EXPECT_EQ(Arrived(*bob, 1), Lines{absl::StrCat("TOPIC R-1.x alice ", topic)});
    EXPECT_EQ(Arrived(*carol, 1), Lines{absl::StrCat("TOPIC R-1.x alice ", topic)});
    EXPECT_EQ(AnswerEndingWith(*bob, "/topic", "OK TOPIC"),
              (Lines{absl::StrCat("TOPIC R-1.x alice ", topic), "OK TOPIC R-1.x"}));
  }
  EXPECT_TRUE(IsErr(alice->Ask(absl::StrCat("/topic ", at_limit, "y")), "bad-args"));
  // A joiner reads the topic as set, with its spaces and bytes.
  auto dave = Login("dave");
  EXPECT_EQ(AnswerEndingWith(*dave, "/join R-1.x", "TOPIC"),
            (Lines{"OK JOIN R-1.x 4", absl::StrCat("TOPIC R-1.x alice ", at_limit)}));
  EXPECT_EQ(Arrived(*alice, 1), Lines{"JOIN R-1.x dave"});
  EXPECT_EQ(Arrived(*bob, 1), Lines{"JOIN R-1.x dave"});
  EXPECT_EQ(Arrived(*carol, 1), Lines{"JOIN R-1.x dave"});

  // A kick reason that looks like more fields, with pattern characters; and one near the line
  // limit (the KICK line is longer than any line a client may send: it arrives whole).
  const std::string reason = "bob alice 1 2 3 %s [x] .- KICKED R-1.x";
  ASSERT_EQ(alice->Ask(absl::StrCat("/kick bob ", reason)), "OK KICK bob");
  EXPECT_EQ(Arrived(*bob, 1), Lines{absl::StrCat("KICKED R-1.x alice ", reason)});
  EXPECT_EQ(Arrived(*carol, 1), Lines{absl::StrCat("KICK R-1.x bob alice ", reason)});
  EXPECT_EQ(Arrived(*dave, 1), Lines{absl::StrCat("KICK R-1.x bob alice ", reason)});
  const std::string long_reason(4096 - std::string("/kick dave ").size(), '\xC3');
  std::string utf8_reason;
  for (size_t i = 0; i + 2 <= long_reason.size(); i += 2) utf8_reason += "\xC3\xA9";
  ASSERT_EQ(alice->Ask(absl::StrCat("/kick dave ", utf8_reason)), "OK KICK dave");
  EXPECT_EQ(Arrived(*dave, 1), Lines{absl::StrCat("KICKED R-1.x alice ", utf8_reason)});
  EXPECT_EQ(Arrived(*carol, 1), Lines{absl::StrCat("KICK R-1.x dave alice ", utf8_reason)});
  EXPECT_EQ(AnswerEndingWith(*alice, "/who", "OK WHO"),
            (Lines{"MEMBER alice", "MEMBER carol", "OK WHO R-1.x 2"}));
}

TEST_P(ModerationTest, KeysAndBanValuesWithPatternCharactersMatchOnlyExactly) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("a-b.c");
  ASSERT_TRUE(alice && bob && carol);
  ASSERT_EQ(alice->Ask("/create R-1.x"), "OK CREATE R-1.x");
  ASSERT_EQ(alice->Ask("/key %a.[-]*"), "OK KEY R-1.x");
  EXPECT_TRUE(IsErr(bob->Ask("/join R-1.x %a.[-]+"), "bad-key"));
  EXPECT_TRUE(IsErr(bob->Ask("/join R-1.x %A.[-]*"), "bad-key"));
  EXPECT_TRUE(IsErr(bob->Ask("/join R-1.x ."), "bad-key"));
  EXPECT_EQ(bob->Ask("/join R-1.x %a.[-]*"), "OK JOIN R-1.x 2");
  EXPECT_EQ(Arrived(*alice, 1), Lines{"JOIN R-1.x bob"});
  ASSERT_EQ(alice->Ask("/key -"), "OK KEY R-1.x -");

  // A nick with '-' and '.' (pattern characters in Lua), not in the room: banned by nick.
  ASSERT_EQ(alice->Ask("/ban a-b.c"), "OK BAN a-b.c");
  EXPECT_TRUE(IsErr(carol->Ask("/join R-1.x"), "banned"));
  EXPECT_TRUE(IsErr(alice->Ask("/unban a.b-c"), "bad-args"));
  EXPECT_TRUE(IsErr(alice->Ask("/unban %"), "bad-args"));
  EXPECT_TRUE(IsErr(alice->Ask("/unban .*"), "bad-args"));
  EXPECT_TRUE(IsErr(alice->Ask("/unban a-b"), "bad-args"));
  EXPECT_EQ(Bans(*alice), (Lines{"BAN R-1.x nick a-b.c alice", "OK BANS R-1.x 1"}));
  EXPECT_EQ(alice->Ask("/unban A-B.C"), "OK UNBAN A-B.C 1") << "nicks case-insensitively";
  EXPECT_EQ(carol->Ask("/join R-1.x"), "OK JOIN R-1.x 3");
  EXPECT_EQ(Arrived(*alice, 1), Lines{"JOIN R-1.x a-b.c"});
  EXPECT_EQ(Arrived(*bob, 1), Lines{"JOIN R-1.x a-b.c"});

  // In the room: banned by nick and address; an address is lifted only as written.
  ASSERT_EQ(alice->Ask("/ban a-b.c"), "OK BAN a-b.c");
  EXPECT_EQ(Arrived(*carol, 1), Lines{"KICKED R-1.x alice banned"});
  EXPECT_EQ(Bans(*alice), (Lines{"BAN R-1.x address 127.0.0.1 alice",
                                 "BAN R-1.x nick a-b.c alice", "OK BANS R-1.x 2"}));
  for (const char* near : {"127.0.0.%d", "127.0.0.", "127%.0%.0%.1", "127.0.0.1.", "127.0.0.[1]"}) {
    EXPECT_TRUE(IsErr(alice->Ask(absl::StrCat("/unban ", near)), "bad-args")) << near;
  }
  EXPECT_EQ(alice->Ask("/unban 127.0.0.1"), "OK UNBAN 127.0.0.1 1");
  EXPECT_EQ(alice->Ask("/unban a-b.c"), "OK UNBAN a-b.c 1");
  EXPECT_EQ(Bans(*alice), (Lines{"OK BANS R-1.x 0"}));
}

INSTANTIATE_TEST_SUITE_P(, ModerationTest, ::testing::Values(Nodes::kOne, Nodes::kTwo),
                         NodesTestName);

}  // namespace
}  // namespace roomchat
