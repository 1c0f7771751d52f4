#include "chat/accounts/account_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "chat/history/data_dir.h"
#include "chat/history/history_db.h"
#include "chat/history/sqlite_statement.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// The account tables, version 1, beside HistoryDb's (meta, rooms, lines) in the same file. `meta`
// is HistoryDb's key/value table, declared the same way so that either may create it; the version
// of these tables is its 'accounts_schema_version' row (HistoryDb's is 'schema_version').
//   accounts       one row per registered nick: `account_key` is NameKey(nick), `nick` as
//                  registered, `password_hash` an Argon2id string (crypto_pwhash_str),
//                  `created_ms` Unix time in milliseconds UTC.
//   room_settings  one row per registered room: `room_key` NameKey(name), `name` as created,
//                  `owner` the owning account's key, `topic` and `topic_by` ('' for none), and
//                  `join_key`, the key /join must give ('' for none; kept as given, since it is
//                  compared with what a client sends).
//   room_ops       the room's operator accounts; `position` keeps their order.
//   room_bans      the room's bans: `kind` 'account', 'nick' or 'address' (RoomBanKindName),
//                  `value` what it matches, `set_by` the operator's nick; `position` keeps order.
constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts(account_key TEXT PRIMARY KEY, nick TEXT NOT NULL,
  password_hash TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS room_settings(room_key TEXT PRIMARY KEY, name TEXT NOT NULL,
  owner TEXT NOT NULL, topic TEXT NOT NULL, topic_by TEXT NOT NULL, join_key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS room_ops(room_key TEXT NOT NULL, account_key TEXT NOT NULL,
  position INTEGER NOT NULL, PRIMARY KEY(room_key, account_key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS room_bans(room_key TEXT NOT NULL, kind TEXT NOT NULL,
  value TEXT NOT NULL, set_by TEXT NOT NULL, position INTEGER NOT NULL,
  PRIMARY KEY(room_key, kind, value)) WITHOUT ROWID;
)sql";

constexpr char kVersionKey[] = "accounts_schema_version";

absl::Status AsAccountError(const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("account db: ", status.message()));
}

}  // namespace

// Prepared once at Open (SQLITE_PREPARE_PERSISTENT: they live as long as the connection).
struct AccountDb::Statements {
  SqliteStatement begin, commit;
  SqliteStatement insert_account;  // ?1 key, ?2 nick, ?3 hash, ?4 created_ms
  SqliteStatement find_hash;       // ?1 key
  SqliteStatement set_hash;        // ?1 key, ?2 hash
  SqliteStatement account_keys;
  SqliteStatement delete_room, delete_ops, delete_bans;  // ?1 room key
  SqliteStatement insert_room;  // ?1 room key, ?2 name, ?3 owner, ?4 topic, ?5 topic_by, ?6 key
  SqliteStatement insert_op;    // ?1 room key, ?2 account key, ?3 position
  SqliteStatement insert_ban;   // ?1 room key, ?2 kind, ?3 value, ?4 set_by, ?5 position
  SqliteStatement rooms, ops, bans;
};

absl::StatusOr<std::unique_ptr<AccountDb>> AccountDb::Open(const std::string& dir) {
  if (absl::Status made = MakeDataDir(dir); !made.ok()) return AsAccountError(made);
  std::string path = absl::StrCat(dir, dir.back() == '/' ? "" : "/", HistoryDb::kFileName);
  sqlite3* db = nullptr;
  int opened = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  if (db == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("account db ", path, ": out of memory"));
  }
  // From here the AccountDb owns the connection: every failure below closes it.
  std::unique_ptr<AccountDb> accounts(new AccountDb(std::move(path), db));
  if (opened != SQLITE_OK) return accounts->sql_.Error("open");
  if (absl::Status status = accounts->Configure(); !status.ok()) return status;
  if (absl::Status status = accounts->CreateSchema(); !status.ok()) return status;
  if (absl::Status status = accounts->PrepareStatements(); !status.ok()) return status;
  return accounts;
}

AccountDb::AccountDb(std::string path, sqlite3* db)
    : path_(std::move(path)), db_(db), sql_(db, "account db", path_),
      statements_(std::make_unique<Statements>()) {}

AccountDb::~AccountDb() {
  statements_.reset();
  if (int closed = sqlite3_close(db_); closed != SQLITE_OK) {
    LOG(ERROR) << "account db " << path_ << ": close: " << sqlite3_errstr(closed);
  }
}

absl::Status AccountDb::Configure() {
  if (sqlite3_busy_timeout(db_, HistoryDb::kBusyTimeoutMs) != SQLITE_OK) {
    return sql_.Error("busy_timeout");
  }
  // On a file that is not a database this is where SQLite first reads it and fails.
  absl::StatusOr<std::optional<std::string>> mode =
      sql_.QueryOne("PRAGMA journal_mode=WAL", "set journal_mode=WAL");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal") {
    return absl::FailedPreconditionError(absl::StrCat("account db ", path_,
                                                      ": cannot use WAL journal mode (it is ",
                                                      mode->value_or("unknown"), ")"));
  }
  return sql_.Exec("PRAGMA synchronous=FULL", "set synchronous");
}

absl::Status AccountDb::CreateSchema() {
  if (absl::Status begun = sql_.Exec("BEGIN IMMEDIATE", "begin schema"); !begun.ok()) return begun;
  absl::Status status = CheckSchemaVersion();
  if (status.ok()) status = sql_.Exec(kSchema, "create schema");
  if (status.ok()) {
    std::string record = absl::StrCat("INSERT OR IGNORE INTO meta(key, value) VALUES('",
                                      kVersionKey, "', '", kSchemaVersion, "')");
    status = sql_.Exec(record.c_str(), "record schema version");
  }
  if (status.ok()) status = sql_.Exec("COMMIT", "commit schema");
  if (!status.ok()) sql_.Rollback();
  return status;
}

// Within the schema transaction: refuses account tables that a newer roomchat has written.
absl::Status AccountDb::CheckSchemaVersion() {
  absl::StatusOr<std::optional<std::string>> has_meta =
      sql_.QueryOne("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'", "read schema");
  if (!has_meta.ok()) return has_meta.status();
  if (!has_meta->has_value()) return absl::OkStatus();  // a new file
  std::string query = absl::StrCat("SELECT value FROM meta WHERE key = '", kVersionKey, "'");
  absl::StatusOr<std::optional<std::string>> version =
      sql_.QueryOne(query.c_str(), "read schema version");
  if (!version.ok()) return version.status();
  if (!version->has_value()) return absl::OkStatus();  // no account tables yet
  int number = 0;
  if (!absl::SimpleAtoi(**version, &number) || number < 1) {
    return absl::DataLossError(absl::StrCat("account db ", path_, ": unreadable ", kVersionKey,
                                            " '", **version, "'"));
  }
  if (number > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "account db ", path_, ": account schema version ", number,
        " was written by a newer roomchat; this one knows up to version ", kSchemaVersion));
  }
  return absl::OkStatus();
}

absl::Status AccountDb::PrepareStatements() {
  Statements& s = *statements_;
  const std::pair<SqliteStatement*, const char*> table[] = {
      {&s.begin, "BEGIN IMMEDIATE"},
      {&s.commit, "COMMIT"},
      {&s.insert_account,
       "INSERT INTO accounts(account_key, nick, password_hash, created_ms) "
       "VALUES(?1, ?2, ?3, ?4)"},
      {&s.find_hash, "SELECT password_hash FROM accounts WHERE account_key = ?1"},
      {&s.set_hash, "UPDATE accounts SET password_hash = ?2 WHERE account_key = ?1"},
      {&s.account_keys, "SELECT account_key FROM accounts ORDER BY account_key"},
      {&s.delete_room, "DELETE FROM room_settings WHERE room_key = ?1"},
      {&s.delete_ops, "DELETE FROM room_ops WHERE room_key = ?1"},
      {&s.delete_bans, "DELETE FROM room_bans WHERE room_key = ?1"},
      {&s.insert_room,
       "INSERT INTO room_settings(room_key, name, owner, topic, topic_by, join_key) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
      {&s.insert_op, "INSERT INTO room_ops(room_key, account_key, position) VALUES(?1, ?2, ?3)"},
      {&s.insert_ban,
       "INSERT INTO room_bans(room_key, kind, value, set_by, position) "
       "VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&s.rooms,
       "SELECT room_key, name, owner, topic, topic_by, join_key FROM room_settings "
       "ORDER BY room_key"},
      {&s.ops, "SELECT room_key, account_key FROM room_ops ORDER BY room_key, position"},
      {&s.bans,
       "SELECT room_key, kind, value, set_by FROM room_bans ORDER BY room_key, position"},
  };
  for (const auto& [statement, sql] : table) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
      return sql_.Error(absl::StrCat("prepare \"", sql, "\""));
    }
    statement->reset(raw);
  }
  return absl::OkStatus();
}

absl::Status AccountDb::CreateAccount(absl::string_view account_key, absl::string_view nick,
                                      absl::string_view password_hash, int64_t created_ms) {
  if (account_key.empty() || password_hash.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("account db ", path_, ": create account: empty account key or hash"));
  }
  SqliteStatementUse use(statements_->insert_account.get());
  use.Bind(1, account_key).Bind(2, nick).Bind(3, password_hash).Bind(4, created_ms);
  if (use.Step() != SQLITE_DONE) return sql_.Error(absl::StrCat("create account ", account_key));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> AccountDb::PasswordHash(absl::string_view account_key) {
  SqliteStatementUse use(statements_->find_hash.get());
  use.Bind(1, account_key);
  int step = use.Step();
  if (step == SQLITE_DONE) return std::optional<std::string>();
  if (step != SQLITE_ROW) return sql_.Error(absl::StrCat("read account ", account_key));
  return std::optional<std::string>(use.Text(0));
}

absl::Status AccountDb::SetPasswordHash(absl::string_view account_key,
                                        absl::string_view password_hash) {
  if (password_hash.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("account db ", path_, ": set password of ", account_key, ": empty hash"));
  }
  SqliteStatementUse use(statements_->set_hash.get());
  use.Bind(1, account_key).Bind(2, password_hash);
  if (use.Step() != SQLITE_DONE) {
    return sql_.Error(absl::StrCat("set password of ", account_key));
  }
  if (sqlite3_changes(db_) == 0) {
    return absl::NotFoundError(
        absl::StrCat("account db ", path_, ": set password: no account ", account_key));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> AccountDb::AccountKeys() {
  std::vector<std::string> keys;
  SqliteStatementUse use(statements_->account_keys.get());
  int step;
  while ((step = use.Step()) == SQLITE_ROW) keys.push_back(use.Text(0));
  if (step != SQLITE_DONE) return sql_.Error("list accounts");
  return keys;
}

namespace {

// The checks that keep a save from failing half-way on a primary key.
absl::Status CheckRoom(const std::string& path, const RoomSettings& settings) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("account db ", path, ": save room ", settings.name, ": ", why));
  };
  if (settings.room_key.empty()) return invalid("empty room key");
  absl::flat_hash_set<absl::string_view> ops;
  for (const std::string& op : settings.op_accounts) {
    if (!ops.insert(op).second) return invalid(absl::StrCat("operator ", op, " listed twice"));
  }
  absl::flat_hash_set<std::pair<RoomBan::Kind, absl::string_view>> bans;
  for (const RoomBan& ban : settings.bans) {
    if (!bans.insert({ban.kind, ban.value}).second) {
      return invalid(absl::StrCat(RoomBanKindName(ban.kind), " ban of ", ban.value, " twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AccountDb::SaveRoom(const RoomSettings& settings) {
  if (absl::Status valid = CheckRoom(path_, settings); !valid.ok()) return valid;
  if (absl::Status begun = sql_.Run(statements_->begin.get(), "begin save room"); !begun.ok()) {
    return begun;
  }
  absl::Status status = WriteRoom(settings);
  if (status.ok()) status = sql_.Run(statements_->commit.get(), "commit save room");
  if (!status.ok()) sql_.Rollback();
  return status;
}

absl::Status AccountDb::WriteRoom(const RoomSettings& settings) {
  const std::string what = absl::StrCat("save room ", settings.name);
  for (sqlite3_stmt* remove : {statements_->delete_room.get(), statements_->delete_ops.get(),
                               statements_->delete_bans.get()}) {
    SqliteStatementUse use(remove);
    use.Bind(1, settings.room_key);
    if (use.Step() != SQLITE_DONE) return sql_.Error(what);
  }
  if (!settings.registered()) return absl::OkStatus();
  {
    SqliteStatementUse use(statements_->insert_room.get());
    use.Bind(1, settings.room_key).Bind(2, settings.name).Bind(3, settings.owner);
    use.Bind(4, settings.topic).Bind(5, settings.topic_by).Bind(6, settings.key);
    if (use.Step() != SQLITE_DONE) return sql_.Error(what);
  }
  for (size_t i = 0; i < settings.op_accounts.size(); ++i) {
    SqliteStatementUse use(statements_->insert_op.get());
    use.Bind(1, settings.room_key).Bind(2, settings.op_accounts[i]);
    use.Bind(3, static_cast<int64_t>(i));
    if (use.Step() != SQLITE_DONE) return sql_.Error(what);
  }
  for (size_t i = 0; i < settings.bans.size(); ++i) {
    const RoomBan& ban = settings.bans[i];
    SqliteStatementUse use(statements_->insert_ban.get());
    use.Bind(1, settings.room_key).Bind(2, RoomBanKindName(ban.kind)).Bind(3, ban.value);
    use.Bind(4, ban.by).Bind(5, static_cast<int64_t>(i));
    if (use.Step() != SQLITE_DONE) return sql_.Error(what);
  }
  return absl::OkStatus();
}

// Three reads, each a consistent snapshot on its own: the worker thread is the only writer of
// these tables, and it is the one reading.
absl::StatusOr<std::vector<RoomSettings>> AccountDb::LoadRooms() {
  std::vector<RoomSettings> rooms;
  {
    SqliteStatementUse use(statements_->rooms.get());
    int step;
    while ((step = use.Step()) == SQLITE_ROW) {
      RoomSettings& room = rooms.emplace_back();
      room.room_key = use.Text(0);
      room.name = use.Text(1);
      room.owner = use.Text(2);
      room.topic = use.Text(3);
      room.topic_by = use.Text(4);
      room.key = use.Text(5);
    }
    if (step != SQLITE_DONE) return sql_.Error("load rooms");
  }
  if (absl::Status read = ReadOps(rooms); !read.ok()) return read;
  if (absl::Status read = ReadBans(rooms); !read.ok()) return read;
  return rooms;
}

namespace {

// The room of `room_key` in `rooms` (sorted by room key), or nullptr.
RoomSettings* FindRoom(std::vector<RoomSettings>& rooms, absl::string_view room_key) {
  auto found = std::lower_bound(
      rooms.begin(), rooms.end(), room_key,
      [](const RoomSettings& room, absl::string_view key) { return room.room_key < key; });
  return found != rooms.end() && found->room_key == room_key ? &*found : nullptr;
}

}  // namespace

absl::Status AccountDb::ReadOps(std::vector<RoomSettings>& rooms) {
  SqliteStatementUse use(statements_->ops.get());
  int step;
  while ((step = use.Step()) == SQLITE_ROW) {
    // An operator row without its room (edited by hand) is left out.
    if (RoomSettings* room = FindRoom(rooms, use.Text(0)); room != nullptr) {
      room->op_accounts.push_back(use.Text(1));
    }
  }
  if (step != SQLITE_DONE) return sql_.Error("load room operators");
  return absl::OkStatus();
}

absl::Status AccountDb::ReadBans(std::vector<RoomSettings>& rooms) {
  SqliteStatementUse use(statements_->bans.get());
  int step;
  while ((step = use.Step()) == SQLITE_ROW) {
    RoomSettings* room = FindRoom(rooms, use.Text(0));
    if (room == nullptr) continue;
    RoomBan ban;
    std::string kind = use.Text(1);
    if (!RoomBanKindByName(kind, &ban.kind)) {
      return absl::DataLossError(absl::StrCat("account db ", path_, ": room ", room->name,
                                              " has a ban of unknown kind '", kind, "'"));
    }
    ban.value = use.Text(2);
    ban.by = use.Text(3);
    room->bans.push_back(std::move(ban));
  }
  if (step != SQLITE_DONE) return sql_.Error("load room bans");
  return absl::OkStatus();
}

}  // namespace roomchat
