#include "chat/accounts/account_db.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "chat/history/history_db.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

// Hashes are opaque strings to the db: the tests store made-up ones and hash nothing.
class AccountDbTest : public ::testing::Test {
 protected:
  AccountDbTest() {
    dir_ = absl::StrCat(getenv("TEST_TMPDIR"), "/accounts-XXXXXX");
    EXPECT_NE(mkdtemp(dir_.data()), nullptr);
  }

  std::unique_ptr<AccountDb> OpenDb() {
    absl::StatusOr<std::unique_ptr<AccountDb>> db = AccountDb::Open(dir_);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  // The first column of the first row of `sql`, through a connection of the test's own.
  std::string Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    std::string path = absl::StrCat(dir_, "/", HistoryDb::kFileName);
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string result;
    sqlite3_exec(
        db, sql.c_str(),
        [](void* out, int columns, char** values, char**) {
          if (columns > 0 && values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
          return 0;
        },
        &result, nullptr);
    sqlite3_close(db);
    return result;
  }

  std::string dir_;
};

RoomSettings Room(const std::string& key) {
  RoomSettings room;
  room.room_key = key;
  room.name = "Room " + key;
  room.owner = "alice";
  room.op_accounts = {"alice", "zed", "bob"};  // not in byte order: the order is kept
  room.topic = "the topic";
  room.topic_by = "Alice";
  room.key = "s3cret";
  room.bans = {{RoomBan::Kind::kNick, "troll", "Alice"},
               {RoomBan::Kind::kAddress, "127.0.0.2", "Bob"},
               {RoomBan::Kind::kAccount, "mallory", "Alice"}};
  return room;
}

TEST_F(AccountDbTest, CreatesAnAccountOnceAndReadsItsHash) {
  auto db = OpenDb();
  ASSERT_TRUE(db->CreateAccount("alice", "Alice", "$hash-1", 1700000000000).ok());
  absl::Status again = db->CreateAccount("alice", "ALICE", "$hash-2", 1700000000001);
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  EXPECT_FALSE(absl::StrContains(again.message(), "$hash")) << "never a hash in a message";
  absl::StatusOr<std::optional<std::string>> hash = db->PasswordHash("alice");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(*hash, "$hash-1");
  hash = db->PasswordHash("nobody");
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(hash->has_value());
  EXPECT_TRUE(absl::IsInvalidArgument(db->CreateAccount("", "x", "$h", 0)));
  EXPECT_TRUE(absl::IsInvalidArgument(db->CreateAccount("x", "x", "", 0)));
  EXPECT_EQ(Sql("SELECT nick || ' ' || created_ms FROM accounts"), "Alice 1700000000000");
}

TEST_F(AccountDbTest, SetsAPasswordHashOfAnAccountThatExists) {
  auto db = OpenDb();
  ASSERT_TRUE(db->CreateAccount("alice", "Alice", "$old", 1).ok());
  ASSERT_TRUE(db->SetPasswordHash("alice", "$new").ok());
  EXPECT_EQ(*db->PasswordHash("alice"), "$new");
  absl::Status missing = db->SetPasswordHash("nobody", "$new");
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  EXPECT_FALSE(absl::StrContains(missing.message(), "$new"));
}

TEST_F(AccountDbTest, AccountsAndRoomsSurviveAReopen) {
  {
    auto db = OpenDb();
    ASSERT_TRUE(db->CreateAccount("bob", "Bob", "$b", 2).ok());
    ASSERT_TRUE(db->CreateAccount("alice", "Alice", "$a", 1).ok());
    ASSERT_TRUE(db->SaveRoom(Room("lobby")).ok());
  }
  auto db = OpenDb();
  absl::StatusOr<std::vector<std::string>> keys = db->AccountKeys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(*keys, (std::vector<std::string>{"alice", "bob"}));
  absl::StatusOr<std::vector<RoomSettings>> rooms = db->LoadRooms();
  ASSERT_TRUE(rooms.ok()) << rooms.status();
  ASSERT_EQ(rooms->size(), 1u);
  EXPECT_TRUE((*rooms)[0] == Room("lobby"));
}

TEST_F(AccountDbTest, SaveRoomReplacesEverythingOfThatRoomOnly) {
  auto db = OpenDb();
  ASSERT_TRUE(db->SaveRoom(Room("a")).ok());
  ASSERT_TRUE(db->SaveRoom(Room("b")).ok());
  RoomSettings changed = Room("a");
  changed.op_accounts = {"alice"};
  changed.bans = {{RoomBan::Kind::kNick, "someone", "Alice"}};
  changed.topic = "";
  changed.key = "";
  ASSERT_TRUE(db->SaveRoom(changed).ok());
  absl::StatusOr<std::vector<RoomSettings>> rooms = db->LoadRooms();
  ASSERT_TRUE(rooms.ok()) << rooms.status();
  ASSERT_EQ(rooms->size(), 2u);
  EXPECT_TRUE((*rooms)[0] == changed);
  EXPECT_TRUE((*rooms)[1] == Room("b"));
  EXPECT_EQ(Sql("SELECT count(*) FROM room_bans WHERE room_key = 'a'"), "1");
}

TEST_F(AccountDbTest, SavingAnUnregisteredRoomDeletesIt) {
  auto db = OpenDb();
  ASSERT_TRUE(db->SaveRoom(Room("a")).ok());
  RoomSettings released = Room("a");
  released.owner = "";
  ASSERT_TRUE(db->SaveRoom(released).ok());
  EXPECT_TRUE(db->LoadRooms()->empty());
  EXPECT_EQ(Sql("SELECT (SELECT count(*) FROM room_settings) + (SELECT count(*) FROM room_ops)"
                " + (SELECT count(*) FROM room_bans)"),
            "0");
  ASSERT_TRUE(db->SaveRoom(released).ok()) << "deleting what is not there is fine";
}

TEST_F(AccountDbTest, AnInvalidRoomChangesNothing) {
  auto db = OpenDb();
  ASSERT_TRUE(db->SaveRoom(Room("a")).ok());
  RoomSettings twice = Room("a");
  twice.op_accounts.push_back("zed");
  EXPECT_TRUE(absl::IsInvalidArgument(db->SaveRoom(twice)));
  twice = Room("a");
  twice.bans.push_back({RoomBan::Kind::kNick, "troll", "Bob"});
  absl::Status status = db->SaveRoom(twice);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_FALSE(absl::StrContains(status.message(), "s3cret")) << "never the room's key";
  EXPECT_TRUE(absl::IsInvalidArgument(db->SaveRoom(RoomSettings())));
  EXPECT_TRUE(db->LoadRooms()->at(0) == Room("a"));
}

TEST_F(AccountDbTest, ABanOfUnknownKindIsDataLoss) {
  auto db = OpenDb();
  ASSERT_TRUE(db->SaveRoom(Room("a")).ok());
  Sql("UPDATE room_bans SET kind = 'planet' WHERE value = 'troll'");
  absl::StatusOr<std::vector<RoomSettings>> rooms = db->LoadRooms();
  EXPECT_TRUE(absl::IsDataLoss(rooms.status())) << rooms.status();
}

TEST_F(AccountDbTest, RefusesAccountTablesOfANewerVersion) {
  OpenDb();
  Sql("UPDATE meta SET value = '2' WHERE key = 'accounts_schema_version'");
  absl::StatusOr<std::unique_ptr<AccountDb>> db = AccountDb::Open(dir_);
  EXPECT_TRUE(absl::IsFailedPrecondition(db.status())) << db.status();
  EXPECT_TRUE(absl::StrContains(db.status().message(), "version 2")) << db.status();
}

TEST_F(AccountDbTest, OpenOnAFileFailsAndNamesIt) {
  Sql("SELECT 1");  // creates the database file
  absl::StatusOr<std::unique_ptr<AccountDb>> db =
      AccountDb::Open(absl::StrCat(dir_, "/", HistoryDb::kFileName));
  EXPECT_TRUE(absl::IsFailedPrecondition(db.status())) << db.status();
  EXPECT_TRUE(absl::StrContains(db.status().message(), "account db: ")) << db.status();
}

// The server's order: history first (it takes the directory lock), accounts beside it.
TEST_F(AccountDbTest, SharesTheFileWithHistoryOpenedFirst) {
  absl::StatusOr<std::unique_ptr<HistoryDb>> history = HistoryDb::Open(dir_, HistorySync::kNormal);
  ASSERT_TRUE(history.ok()) << history.status();
  auto accounts = OpenDb();
  ASSERT_NE(accounts, nullptr);
  StoredLine line{"lobby", "Lobby", 1, 1700000000000, "alice", "hello"};
  ASSERT_TRUE((*history)->Append({line}).ok());
  ASSERT_TRUE(accounts->CreateAccount("alice", "Alice", "$a", 1).ok());
  ASSERT_TRUE(accounts->SaveRoom(Room("lobby")).ok());
  EXPECT_EQ((*history)->LoadRoom("lobby", 10)->recent.size(), 1u);
  EXPECT_EQ(Sql("SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  EXPECT_EQ(Sql("SELECT value FROM meta WHERE key = 'accounts_schema_version'"), "1");
}

TEST_F(AccountDbTest, SharesTheFileWithHistoryOpenedSecond) {
  {
    auto accounts = OpenDb();
    ASSERT_TRUE(accounts->CreateAccount("alice", "Alice", "$a", 1).ok());
  }
  auto accounts = OpenDb();
  absl::StatusOr<std::unique_ptr<HistoryDb>> history = HistoryDb::Open(dir_, HistorySync::kNormal);
  ASSERT_TRUE(history.ok()) << history.status();
  StoredLine line{"lobby", "Lobby", 1, 1700000000000, "alice", "hello"};
  ASSERT_TRUE((*history)->Append({line}).ok());
  EXPECT_EQ(*accounts->PasswordHash("alice"), "$a");
  EXPECT_EQ(Sql("SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  history->reset();
  history = HistoryDb::Open(dir_, HistorySync::kNormal);
  ASSERT_TRUE(history.ok()) << "reopens: " << history.status();
}

}  // namespace
}  // namespace roomchat
