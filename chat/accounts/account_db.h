// AccountDb: the accounts (registered nicks and their password hashes) and the settings of
// registered rooms, in the server's SQLite file.
//
// It opens `dir`/roomchat.sqlite3 (HistoryDb::kFileName), the file the history lives in, through a
// connection of its own: the two keep separate tables (see kSchema in account_db.cc) and record
// their schema versions under separate keys of the shared `meta` table, so either may create the
// file and either may open first. WAL mode lets the `sqlite3` tool read it while the server runs.
//
// It does NOT take the directory lock (`dir`/roomchat.lock, LockDataDir): the server holds it,
// through HistoryDb when history is on and by itself otherwise, before it opens this.
//
// Errors name the file and SQLite's message; never a password hash or a room's key.
//
// Thread contract: not thread-safe. One thread (the accounts worker, AccountService) owns an
// AccountDb and calls every method; the connection is opened SQLITE_OPEN_NOMUTEX.
#ifndef ROOMCHAT_CHAT_ACCOUNTS_ACCOUNT_DB_H_
#define ROOMCHAT_CHAT_ACCOUNTS_ACCOUNT_DB_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/accounts/account_store.h"
#include "chat/accounts/room_settings.h"
#include "chat/history/sqlite_statement.h"

namespace roomchat {

class AccountDb final : public AccountStore {
 public:
  // The version of the account tables this build writes; a file with a newer one is refused.
  static constexpr int kSchemaVersion = 1;

  // Opens (creating if needed) `dir`/roomchat.sqlite3, creating `dir` (mkdir -p, mode 0700);
  // sets WAL mode and synchronous=FULL (accounts change rarely and must not be lost); creates the
  // account tables if missing. FailedPrecondition when `dir` is not a directory or the account
  // tables are of a newer version; DataLoss when the file is not a database.
  static absl::StatusOr<std::unique_ptr<AccountDb>> Open(const std::string& dir);
  ~AccountDb() override;  // finalizes the statements and closes the connection

  AccountDb(const AccountDb&) = delete;
  AccountDb& operator=(const AccountDb&) = delete;

  // ---- Accounts, by account key (NameKey of the nick).
  // AlreadyExists when `account_key` is taken; InvalidArgument for an empty key or hash.
  absl::Status CreateAccount(absl::string_view account_key, absl::string_view nick,
                             absl::string_view password_hash, int64_t created_ms) override;
  // The account's password hash; nullopt when there is no such account.
  absl::StatusOr<std::optional<std::string>> PasswordHash(absl::string_view account_key) override;
  // NotFound when there is no such account.
  absl::Status SetPasswordHash(absl::string_view account_key, absl::string_view password_hash) override;
  // Every account key, in byte order.
  absl::StatusOr<std::vector<std::string>> AccountKeys() override;

  // ---- Registered rooms.
  // Replaces all that is stored for settings.room_key with `settings`, in one transaction; when
  // it is not registered (empty owner), deletes the room's rows instead. InvalidArgument for an
  // empty room key or an account or ban (kind, value) listed twice.
  absl::Status SaveRoom(const RoomSettings& settings) override;
  // Every stored room, by room key; operators and bans in the order they were saved.
  absl::StatusOr<std::vector<RoomSettings>> LoadRooms() override;

 private:
  struct Statements;  // every prepared statement; defined in account_db.cc

  AccountDb(std::string path, sqlite3* db);

  absl::Status Configure();
  absl::Status CreateSchema();
  absl::Status CheckSchemaVersion();
  absl::Status PrepareStatements();

  absl::Status WriteRoom(const RoomSettings& settings);
  absl::Status ReadOps(std::vector<RoomSettings>& rooms);
  absl::Status ReadBans(std::vector<RoomSettings>& rooms);

  // Const after construction.
  const std::string path_;
  sqlite3* const db_;
  // Errors that name this database and its file; one-shot SQL; Run and Rollback.
  const SqliteCalls sql_;

  std::unique_ptr<Statements> statements_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_ACCOUNTS_ACCOUNT_DB_H_
