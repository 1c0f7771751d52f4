#include "chat/protocol/line_framer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

// Every frame the framer yields after `chunks` are appended one by one, as "LINE:text",
// "TOO-LONG" or "BAD:text".
std::vector<std::string> FramesOf(LineFramer& framer, const std::vector<std::string>& chunks) {
  std::vector<std::string> out;
  for (const std::string& chunk : chunks) {
    framer.Append(chunk);
    while (std::optional<Frame> frame = framer.Next()) {
      switch (frame->kind) {
        case Frame::Kind::kLine: out.push_back("LINE:" + std::string(frame->text)); break;
        case Frame::Kind::kTooLong: out.push_back("TOO-LONG"); break;
        case Frame::Kind::kBadEncoding: out.push_back("BAD:" + std::string(frame->text)); break;
      }
    }
  }
  return out;
}

using Frames = std::vector<std::string>;

TEST(LineFramerTest, SplitsSeveralLinesInOneRead) {
  LineFramer framer(100);
  EXPECT_EQ(FramesOf(framer, {"one\ntwo\nthree\n"}),
            (Frames{"LINE:one", "LINE:two", "LINE:three"}));
}

TEST(LineFramerTest, JoinsALineSplitAcrossReads) {
  LineFramer framer(100);
  EXPECT_EQ(FramesOf(framer, {"he", "ll", "o\nwor", "ld", "\n"}),
            (Frames{"LINE:hello", "LINE:world"}));
  EXPECT_EQ(framer.buffered_bytes(), 0u);
}

TEST(LineFramerTest, DropsTheCrOfCrlfOnly) {
  LineFramer framer(100);
  EXPECT_EQ(FramesOf(framer, {"a\r\n", "b\r", "\n"}), (Frames{"LINE:a", "LINE:b"}));
  // A CR that does not end the line is a control byte.
  EXPECT_EQ(FramesOf(framer, {"x\ry\n"}), (Frames{"BAD:x\ry"}));
}

TEST(LineFramerTest, IgnoresEmptyLines) {
  LineFramer framer(100);
  EXPECT_EQ(FramesOf(framer, {"\n\r\n\nhi\n\n"}), (Frames{"LINE:hi"}));
}

TEST(LineFramerTest, KeepsAPartialLineUntilItsEnd) {
  LineFramer framer(100);
  EXPECT_EQ(FramesOf(framer, {"no newline yet"}), Frames{});
  EXPECT_EQ(framer.buffered_bytes(), 14u);
}

TEST(LineFramerTest, AcceptsALineOfExactlyTheLimit) {
  LineFramer framer(8);
  EXPECT_EQ(FramesOf(framer, {"12345678\n"}), (Frames{"LINE:12345678"}));
  EXPECT_EQ(FramesOf(framer, {"12345678\r", "\n"}), (Frames{"LINE:12345678"}));
}

TEST(LineFramerTest, RejectsALineOverTheLimitAndDiscardsItsRest) {
  LineFramer framer(8);
  EXPECT_EQ(FramesOf(framer, {"123456789\nok\n"}), (Frames{"TOO-LONG", "LINE:ok"}));
  // Reported once, as soon as the limit is passed, however long the line goes on.
  EXPECT_EQ(FramesOf(framer, {"1234567890", "abcdefghijk", "lmnop", "\nafter\n"}),
            (Frames{"TOO-LONG", "LINE:after"}));
}

TEST(LineFramerTest, BoundsTheBufferWhileDiscarding) {
  LineFramer framer(8);
  std::string flood(100000, 'x');
  EXPECT_EQ(FramesOf(framer, {flood, flood}), (Frames{"TOO-LONG"}));
  EXPECT_EQ(framer.buffered_bytes(), 0u);
}

TEST(LineFramerTest, RejectsNulAndControlBytesButNotTab) {
  LineFramer framer(100);
  EXPECT_EQ(FramesOf(framer, {std::string("a\0b\n", 4)}),
            (Frames{"BAD:" + std::string("a\0b", 3)}));
  EXPECT_EQ(FramesOf(framer, {"bell\a\n", "del\x7f\n", "tab\there\n"}),
            (Frames{"BAD:bell\a", "BAD:del\x7f", "LINE:tab\there"}));
}

TEST(LineFramerTest, RejectsInvalidUtf8) {
  LineFramer framer(100);
  EXPECT_EQ(FramesOf(framer, {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n"}),
            (Frames{"LINE:caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"}));
  EXPECT_EQ(FramesOf(framer, {"\xff\n"}).front().substr(0, 4), "BAD:");
}

TEST(Utf8Test, FollowsRfc3629) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong 3-byte
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xc3\x28"));          // bad continuation
}

TEST(LineFramerTest, LeavesUnreadLinesBufferedForTheNextOwner) {
  LineFramer framer(100);
  framer.Append("/join b\nhello\npart");
  std::optional<Frame> first = framer.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->text, "/join b");
  // The client moves here; whoever reads next sees the rest in order.
  EXPECT_EQ(framer.buffered_bytes(), 10u);
  EXPECT_EQ(FramesOf(framer, {"ial\n"}), (Frames{"LINE:hello", "LINE:partial"}));
}

}  // namespace
}  // namespace roomchat
