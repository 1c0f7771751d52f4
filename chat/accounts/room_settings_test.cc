#include "chat/accounts/room_settings.h"

#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

RoomSettings Lounge() {
  RoomSettings settings;
  settings.room_key = "lounge";
  settings.name = "Lounge";
  settings.owner = "alice";
  settings.op_accounts = {"alice", "carol"};
  return settings;
}

TEST(RoomSettingsTest, AnOpenRoomAdmitsEveryone) {
  RoomSettings settings = Lounge();
  EXPECT_TRUE(AdmitToRoom(settings, {"", "", "guest1", "127.0.0.1"}, "").ok());
  EXPECT_TRUE(AdmitToRoom(settings, {"bob", "", "bob", "10.0.0.1"}, "anything").ok());
}

TEST(RoomSettingsTest, EachKindOfBanMatchesItsOwnField) {
  RoomSettings settings = Lounge();
  settings.bans = {{RoomBan::Kind::kAccount, "bob", "alice"},
                   {RoomBan::Kind::kNick, "mallory", "alice"},
                   {RoomBan::Kind::kAddress, "10.0.0.9", "alice"}};
  // The account ban follows the account whatever its nick.
  EXPECT_TRUE(HasErrorCode(AdmitToRoom(settings, {"bob", "", "robert", "10.0.0.1"}, ""),
                           ErrorCode::kBanned));
  // Nor does logging out escape it.
  EXPECT_TRUE(HasErrorCode(AdmitToRoom(settings, {"", "bob", "robert", "10.0.0.1"}, ""),
                           ErrorCode::kBanned));
  // A guest whose nick is "bob" is not the account bob.
  EXPECT_TRUE(AdmitToRoom(settings, {"", "", "bob", "10.0.0.1"}, "").ok());
  EXPECT_TRUE(HasErrorCode(AdmitToRoom(settings, {"", "", "mallory", "10.0.0.1"}, ""),
                           ErrorCode::kBanned));
  EXPECT_TRUE(HasErrorCode(AdmitToRoom(settings, {"", "", "guest7", "10.0.0.9"}, ""),
                           ErrorCode::kBanned));
}

TEST(RoomSettingsTest, AKeyedRoomWantsTheExactKey) {
  RoomSettings settings = Lounge();
  settings.key = "s3cret";
  EXPECT_TRUE(HasErrorCode(AdmitToRoom(settings, {"", "", "dave", "10.0.0.1"}, ""),
                           ErrorCode::kBadKey));
  EXPECT_TRUE(HasErrorCode(AdmitToRoom(settings, {"", "", "dave", "10.0.0.1"}, "s3cre"),
                           ErrorCode::kBadKey));
  EXPECT_TRUE(HasErrorCode(AdmitToRoom(settings, {"", "", "dave", "10.0.0.1"}, "s3cret!"),
                           ErrorCode::kBadKey));
  EXPECT_TRUE(AdmitToRoom(settings, {"", "", "dave", "10.0.0.1"}, "s3cret").ok());
}

TEST(RoomSettingsTest, OperatorAccountsPassBansAndKeys) {
  RoomSettings settings = Lounge();
  settings.key = "s3cret";
  settings.bans = {{RoomBan::Kind::kAddress, "10.0.0.9", "alice"}};
  EXPECT_TRUE(AdmitToRoom(settings, {"carol", "", "carol", "10.0.0.9"}, "").ok());
  // A guest holding an operator's nick is not that operator.
  EXPECT_FALSE(AdmitToRoom(settings, {"", "", "carol", "10.0.0.1"}, "").ok());
}

TEST(RoomSettingsTest, TheKeyNeverAppearsInTheRefusal) {
  RoomSettings settings = Lounge();
  settings.key = "s3cret";
  absl::Status refused = AdmitToRoom(settings, {"", "", "dave", "10.0.0.1"}, "guess");
  EXPECT_EQ(ErrLine(refused).find("s3cret"), std::string::npos) << ErrLine(refused);
}

TEST(RoomSettingsTest, PeerAddressDropsThePort) {
  EXPECT_EQ(PeerAddress("127.0.0.2:5555"), "127.0.0.2");
  EXPECT_EQ(PeerAddress("[::1]:5555"), "::1");
  EXPECT_EQ(PeerAddress("[::ffff:10.0.0.7]:5555"), "10.0.0.7");
  EXPECT_EQ(PeerAddress("unknown"), "unknown");
}

TEST(RoomSettingsTest, BanKindNamesRoundTrip) {
  for (RoomBan::Kind kind :
       {RoomBan::Kind::kAccount, RoomBan::Kind::kNick, RoomBan::Kind::kAddress}) {
    RoomBan::Kind back;
    ASSERT_TRUE(RoomBanKindByName(RoomBanKindName(kind), &back));
    EXPECT_EQ(back, kind);
  }
  RoomBan::Kind unused;
  EXPECT_FALSE(RoomBanKindByName("mask", &unused));
}

}  // namespace
}  // namespace roomchat
