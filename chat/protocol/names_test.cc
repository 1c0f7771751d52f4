#include "chat/protocol/names.h"

#include <string>

#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

TEST(NamesTest, AcceptsTheAllowedCharacters) {
  EXPECT_TRUE(ValidateName("nick", "alice").ok());
  EXPECT_TRUE(ValidateName("nick", "A").ok());
  EXPECT_TRUE(ValidateName("nick", "7up").ok());
  EXPECT_TRUE(ValidateName("room", "tea.room_2-b").ok());
  EXPECT_TRUE(ValidateName("room", std::string(32, 'r')).ok());
}

TEST(NamesTest, RejectsWithBadName) {
  for (const std::string& name :
       {std::string(""), std::string(33, 'r'), std::string("_lead"), std::string("-lead"),
        std::string(".lead"), std::string("sp ace"), std::string("tab\t"), std::string("slash/"),
        std::string("caf\xc3\xa9")}) {
    absl::Status status = ValidateName("nick", name);
    EXPECT_TRUE(HasErrorCode(status, ErrorCode::kBadName)) << "'" << name << "': " << status;
  }
}

TEST(NamesTest, MessagesSayTheRulesAreAscii) {
  EXPECT_EQ(ValidateName("nick", "\xc3\x89mile").message(),
            "nick must start with an ASCII letter or digit");
  EXPECT_EQ(ValidateName("room", "a\xc3\xa9").message(), "room may only use A-Z a-z 0-9 _ - .");
  EXPECT_TRUE(HasErrorCode(ValidateName("nick", "\xc3\x89mile"), ErrorCode::kBadName));
}

TEST(NamesTest, KeysFoldCase) {
  EXPECT_EQ(NameKey("Alice"), NameKey("aLICE"));
  EXPECT_NE(NameKey("alice"), NameKey("alice2"));
}

TEST(ProtocolErrorTest, FormatsTheWireLine) {
  EXPECT_EQ(ErrLine(ProtocolError(ErrorCode::kNoSuchRoom, "no room called x")),
            "ERR no-such-room no room called x\n");
  EXPECT_EQ(ErrLine(ProtocolError(ErrorCode::kLineTooLong, "too long")),
            "ERR line-too-long too long\n");
  EXPECT_TRUE(absl::IsNotFound(ProtocolError(ErrorCode::kNoSuchNick, "x")));
}

TEST(ProtocolErrorTest, MapsOtherStatusesToANearCode) {
  EXPECT_EQ(ErrLine(absl::InvalidArgumentError("odd")), "ERR bad-args odd\n");
  EXPECT_EQ(ErrLine(absl::UnavailableError("stopping")), "ERR limit stopping\n");
}

TEST(NamesTest, GuestNicks) {
  EXPECT_TRUE(IsGuestNick("guest1"));
  EXPECT_TRUE(IsGuestNick("Guest42"));
  EXPECT_FALSE(IsGuestNick("guest"));
  EXPECT_FALSE(IsGuestNick("guest1a"));
  EXPECT_FALSE(IsGuestNick("guesthouse"));
  EXPECT_FALSE(IsGuestNick("alice"));
}

}  // namespace
}  // namespace roomchat
