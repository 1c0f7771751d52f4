#include "chat/protocol/line_framer.h"

#include <string>
#include <vector>

#include "chat/protocol/text_rules.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

// `frame` as "LINE:text", "EMPTY", "TOO-LONG" or "BAD:text".
std::string Describe(const Frame& frame) {
  switch (frame.kind) {
    case Frame::Kind::kLine: return "LINE:" + std::string(frame.text);
    case Frame::Kind::kEmpty: return "EMPTY";
    case Frame::Kind::kTooLong: return "TOO-LONG";
    case Frame::Kind::kBadEncoding: return "BAD:" + std::string(frame.text);
  }
  return "?";
}

// Every frame the framer yields after `chunks` are appended one by one.
std::vector<std::string> FramesOf(LineFramer& framer, const std::vector<std::string>& chunks) {
  std::vector<std::string> out;
  for (const std::string& chunk : chunks) {
    framer.Append(chunk);
    while (std::optional<Frame> frame = framer.Next()) out.push_back(Describe(*frame));
  }
  return out;
}

// Every frame Finish() yields at the end of the input.
std::vector<std::string> FinishFrames(LineFramer& framer) {
  std::vector<std::string> out;
  while (std::optional<Frame> frame = framer.Finish()) out.push_back(Describe(*frame));
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

TEST(LineFramerTest, ReportsEmptyLinesAsEmptyFrames) {
  LineFramer framer(100);
  EXPECT_EQ(FramesOf(framer, {"\n\r\n\nhi\n\n"}),
            (Frames{"EMPTY", "EMPTY", "EMPTY", "LINE:hi", "EMPTY"}));
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

TEST(LineFramerTest, RefusesC1SeparatorsAndUnbalancedBidiSayingWhy) {
  LineFramer framer(100);
  framer.Append(
      "csi \xc2\x9b\nline\xe2\x80\xa8sep\nrlo \xe2\x80\xae open\nrlo \xe2\x80\xae"
      "closed\xe2\x80\xac\nbell\a\n");
  std::optional<Frame> c1 = framer.Next();
  ASSERT_TRUE(c1.has_value());
  EXPECT_EQ(c1->kind, Frame::Kind::kBadEncoding);
  EXPECT_EQ(c1->problem, kC1OrSeparator);
  std::optional<Frame> separator = framer.Next();
  ASSERT_TRUE(separator.has_value());
  EXPECT_EQ(separator->problem, kC1OrSeparator);
  std::optional<Frame> open = framer.Next();
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->kind, Frame::Kind::kBadEncoding);
  EXPECT_EQ(open->problem, kUnbalancedBidi);
  std::optional<Frame> closed = framer.Next();
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->kind, Frame::Kind::kLine);
  EXPECT_EQ(closed->problem, "");
  std::optional<Frame> bell = framer.Next();
  ASSERT_TRUE(bell.has_value());
  EXPECT_EQ(bell->problem,
            "lines must be UTF-8 without control characters other than TAB; dropped");
}

TEST(LineFramerFinishTest, TakesALastLineWithoutLfAsComplete) {
  LineFramer framer(100);
  EXPECT_EQ(FramesOf(framer, {"hello\n/qu", "it"}), (Frames{"LINE:hello"}));
  EXPECT_EQ(FinishFrames(framer), (Frames{"LINE:/quit"}));
  EXPECT_EQ(framer.buffered_bytes(), 0u);
}

TEST(LineFramerFinishTest, GivesUnreadCompleteLinesFirst) {
  LineFramer framer(100);
  framer.Append("one\ntwo\r\n\nlast\r");
  EXPECT_EQ(FinishFrames(framer), (Frames{"LINE:one", "LINE:two", "EMPTY", "LINE:last"}));
}

TEST(LineFramerFinishTest, NothingBufferedIsNothing) {
  LineFramer framer(100);
  EXPECT_EQ(FinishFrames(framer), Frames{});
  EXPECT_EQ(FramesOf(framer, {"a\n"}), (Frames{"LINE:a"}));
  EXPECT_EQ(FinishFrames(framer), Frames{});
}

TEST(LineFramerFinishTest, AppliesTheSameChecks) {
  LineFramer bad(100);
  bad.Append("x\a");
  EXPECT_EQ(FinishFrames(bad), (Frames{"BAD:x\a"}));
  LineFramer cr_only(100);
  cr_only.Append("\r");
  EXPECT_EQ(FinishFrames(cr_only), (Frames{"EMPTY"}));
  LineFramer at_limit(4);
  at_limit.Append("1234\r");
  EXPECT_EQ(FinishFrames(at_limit), (Frames{"LINE:1234"}));
}

TEST(LineFramerFinishTest, ATooLongLineBeingDiscardedIsNothing) {
  LineFramer framer(4);
  EXPECT_EQ(FramesOf(framer, {"123456"}), (Frames{"TOO-LONG"}));
  framer.Append("789");
  EXPECT_EQ(FinishFrames(framer), Frames{});
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
