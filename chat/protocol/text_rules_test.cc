#include "chat/protocol/text_rules.h"

#include <string>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

// UTF-8 of the bidirectional controls and separators, by name.
constexpr char kLre[] = "\xe2\x80\xaa";  // U+202A
constexpr char kRle[] = "\xe2\x80\xab";  // U+202B
constexpr char kPdf[] = "\xe2\x80\xac";  // U+202C
constexpr char kLro[] = "\xe2\x80\xad";  // U+202D
constexpr char kRlo[] = "\xe2\x80\xae";  // U+202E
constexpr char kLri[] = "\xe2\x81\xa6";  // U+2066
constexpr char kRli[] = "\xe2\x81\xa7";  // U+2067
constexpr char kFsi[] = "\xe2\x81\xa8";  // U+2068
constexpr char kPdi[] = "\xe2\x81\xa9";  // U+2069

std::string Cat(std::initializer_list<absl::string_view> parts) {
  std::string out;
  for (absl::string_view part : parts) out.append(part.data(), part.size());
  return out;
}

TEST(TextRulesTest, AcceptsOrdinaryTextTabsAndRightToLeftLetters) {
  EXPECT_EQ(CheckLineText("hello\tthere"), "");
  EXPECT_EQ(CheckLineText("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "");
  // Hebrew and Arabic letters need no controls.
  EXPECT_EQ(CheckLineText("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85"), "");
  // U+00A0 and U+2027 sit right beside the refused ranges.
  EXPECT_EQ(CheckLineText("\xc2\xa0\xe2\x80\xa7"), "");
}

TEST(TextRulesTest, RefusesInvalidUtf8AndC0WithTheOriginalText) {
  EXPECT_EQ(CheckLineText("\xff"), kNotUtf8OrControl);
  EXPECT_EQ(CheckLineText(std::string("a\0b", 3)), kNotUtf8OrControl);
  EXPECT_EQ(CheckLineText("bell\a"), kNotUtf8OrControl);
  EXPECT_EQ(CheckLineText("del\x7f"), kNotUtf8OrControl);
  EXPECT_EQ(kNotUtf8OrControl,
            "lines must be UTF-8 without control characters other than TAB; dropped");
  // The original refusal wins over the newer rules, wherever it is in the line.
  EXPECT_EQ(CheckLineText(Cat({"\xc2\x9b", kRlo, "x\a"})), kNotUtf8OrControl);
}

TEST(TextRulesTest, RefusesC1ControlsAndSeparators) {
  EXPECT_EQ(CheckLineText("csi \xc2\x9b"
                          "31m"),
            kC1OrSeparator);                                 // U+009B
  EXPECT_EQ(CheckLineText("nel \xc2\x85"), kC1OrSeparator);  // U+0085
  EXPECT_EQ(CheckLineText("\xc2\x80"), kC1OrSeparator);      // U+0080
  EXPECT_EQ(CheckLineText("\xc2\x9f"), kC1OrSeparator);      // U+009F
  EXPECT_EQ(CheckLineText("a\xe2\x80\xa8"
                          "b"),
            kC1OrSeparator);  // U+2028
  EXPECT_EQ(CheckLineText("a\xe2\x80\xa9"
                          "b"),
            kC1OrSeparator);  // U+2029
}

TEST(TextRulesTest, AcceptsBalancedAndNestedBidiControls) {
  EXPECT_EQ(CheckLineText(Cat({"a ", kRlo, "olleh", kPdf, " b"})), "");
  EXPECT_EQ(CheckLineText(Cat({kRli, "x", kPdi, kFsi, "y", kPdi})), "");
  EXPECT_EQ(
      CheckLineText(Cat({kLre, kRle, kLro, kRli, kLri, "deep", kPdi, kPdi, kPdf, kPdf, kPdf})), "");
  std::string deepest;
  for (int i = 0; i < kMaxBidiDepth; ++i) deepest += kFsi;
  for (int i = 0; i < kMaxBidiDepth; ++i) deepest += kPdi;
  EXPECT_EQ(CheckLineText(deepest), "");
}

TEST(TextRulesTest, RefusesUnbalancedOrCrossedBidiControls) {
  EXPECT_EQ(CheckLineText(Cat({"evil ", kRlo, "txt.exe"})), kUnbalancedBidi);  // left open
  EXPECT_EQ(CheckLineText(Cat({"x", kPdf})), kUnbalancedBidi);                 // nothing open
  EXPECT_EQ(CheckLineText(Cat({"x", kPdi})), kUnbalancedBidi);
  EXPECT_EQ(CheckLineText(Cat({kRli, "x", kPdf})), kUnbalancedBidi);  // PDF cannot close an isolate
  EXPECT_EQ(CheckLineText(Cat({kRle, "x", kPdi})),
            kUnbalancedBidi);  // PDI cannot close an embedding
  EXPECT_EQ(CheckLineText(Cat({kLre, kLri, "x", kPdf, kPdi})), kUnbalancedBidi);  // crossed
  EXPECT_EQ(CheckLineText(Cat({kLri, "x"})), kUnbalancedBidi);
  std::string too_deep;
  for (int i = 0; i <= kMaxBidiDepth; ++i) too_deep += kLri;
  for (int i = 0; i <= kMaxBidiDepth; ++i) too_deep += kPdi;
  EXPECT_EQ(CheckLineText(too_deep), kUnbalancedBidi);
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

TEST(ControlByteTest, FindsC0AndDelButNotTab) {
  EXPECT_FALSE(HasControlByte("tab\there"));
  EXPECT_TRUE(HasControlByte("x\ry"));
  EXPECT_TRUE(HasControlByte("\x7f"));
  EXPECT_FALSE(HasControlByte("\xc2\x85"));  // C1 is a character, not a byte, rule
}

}  // namespace
}  // namespace roomchat
