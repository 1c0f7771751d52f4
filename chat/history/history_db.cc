#include "chat/history/history_db.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "chat/history/data_dir.h"
#include "chat/history/sqlite_statement.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// The schema, version 1. Statements are separated by ';' so that `sqlite3 FILE < schema.sql`
// and sqlite3_exec() both accept it as it stands.
//   meta   key/value pairs about the file; 'schema_version' is the version of this schema.
//   rooms  one row per room ever stored: `key` is the server's case-insensitive room key, `name`
//          the display name of its newest stored line, `last_id` the highest line id ever stored
//          (kept when the lines are trimmed, so ids are never reused), `trimmed_to` the highest
//          id retention has deleted (a reader asking for lines after an older id has a gap).
//   lines  one row per retained chat line, clustered by (room, id) (WITHOUT ROWID: a room's lines
//          are one range of the b-tree, read in id order without a sort). `room` is rooms.key,
//          `time_ms` Unix time in milliseconds UTC, `text` UTF-8.
//   lines_by_time  finds the lines older than the retention age, oldest first.
constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rooms(key TEXT PRIMARY KEY, name TEXT NOT NULL, last_id INTEGER NOT NULL,
  trimmed_to INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS lines(room TEXT NOT NULL, id INTEGER NOT NULL, time_ms INTEGER NOT NULL,
  nick TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY(room, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lines_by_time ON lines(time_ms);
)sql";

// The server keeps ids below 2^53; they are bound as SQLite integers (int64).
constexpr uint64_t kIdLimit = uint64_t{1} << 53;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

int64_t ClampToInt64(uint64_t value) {
  return value > static_cast<uint64_t>(kInt64Max) ? kInt64Max : static_cast<int64_t>(value);
}

// The data directory's errors, as the history db's.
absl::Status AsHistoryError(const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("history db: ", status.message()));
}

const char* SyncPragma(HistorySync sync) {
  switch (sync) {
    case HistorySync::kFull: return "PRAGMA synchronous=FULL";
    case HistorySync::kNormal: return "PRAGMA synchronous=NORMAL";
    case HistorySync::kOff: return "PRAGMA synchronous=OFF";
  }
  return "PRAGMA synchronous=FULL";
}

}  // namespace

// Prepared once at Open (SQLITE_PREPARE_PERSISTENT: they live as long as the connection).
struct HistoryDb::Statements {
  SqliteStatement begin, commit;
  SqliteStatement insert_line;  // ?1 room key, ?2 id, ?3 time_ms, ?4 nick, ?5 text
  SqliteStatement raise_room;   // ?1 room key, ?2 name, ?3 id
  SqliteStatement find_room;    // ?1 room key
  SqliteStatement before;       // ?1 room key, ?2 before id, ?3 limit; newest first
  SqliteStatement after;        // ?1 room key, ?2 after id, ?3 limit
  SqliteStatement first_id;     // ?1 room key
  SqliteStatement room_keys;
  SqliteStatement trim_by_age;  // ?1 min time_ms, ?2 limit
  SqliteStatement id_span;      // ?1 room key: min(id), max(id)
  SqliteStatement cutoff;       // ?1 room key, ?2 lines kept: the newest id to delete
  SqliteStatement trim_room;    // ?1 room key, ?2 cutoff, ?3 limit
  SqliteStatement raise_trimmed;  // ?1 room key, ?2 the highest id deleted
};

absl::StatusOr<std::unique_ptr<HistoryDb>> HistoryDb::Open(const std::string& dir,
                                                           HistorySync sync) {
  if (dir.empty()) return absl::InvalidArgumentError("history db: empty directory name");
  if (absl::Status made = MakeDataDir(dir); !made.ok()) return AsHistoryError(made);
  absl::StatusOr<int> lock = LockDataDir(dir);
  if (!lock.ok()) return AsHistoryError(lock.status());
  std::string path = absl::StrCat(dir, dir.back() == '/' ? "" : "/", kFileName);
  sqlite3* db = nullptr;
  int opened = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  if (db == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("history db ", path, ": out of memory"));
  }
  // From here the HistoryDb owns the connection: every failure below closes it.
  std::unique_ptr<HistoryDb> history(new HistoryDb(std::move(path), db, *lock));
  if (opened != SQLITE_OK) return history->sql_.Error("open");
  if (absl::Status status = history->Configure(sync); !status.ok()) return status;
  if (absl::Status status = history->CreateSchema(); !status.ok()) return status;
  if (absl::Status status = history->PrepareStatements(); !status.ok()) return status;
  return history;
}

HistoryDb::HistoryDb(std::string path, sqlite3* db, int lock_fd)
    : path_(std::move(path)), db_(db), sql_(db, "history db", path_), lock_fd_(lock_fd),
      statements_(std::make_unique<Statements>()) {}

HistoryDb::~HistoryDb() {
  statements_.reset();
  if (int closed = sqlite3_close(db_); closed != SQLITE_OK) {
    LOG(ERROR) << "history db " << path_ << ": close: " << sqlite3_errstr(closed);
  }
  ::close(lock_fd_);  // releases the directory for the next server
}

absl::Status HistoryDb::Configure(HistorySync sync) {
  if (sqlite3_busy_timeout(db_, kBusyTimeoutMs) != SQLITE_OK) return sql_.Error("busy_timeout");
  // journal_mode answers with the mode in force, which stays the old one where WAL is impossible
  // (e.g. a file system without shared memory). On a file that is not a database this is where
  // SQLite first reads it and fails.
  absl::StatusOr<std::optional<std::string>> mode =
      sql_.QueryOne("PRAGMA journal_mode=WAL", "set journal_mode=WAL");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal") {
    return absl::FailedPreconditionError(absl::StrCat("history db ", path_,
                                                      ": cannot use WAL journal mode (it is ",
                                                      mode->value_or("unknown"), ")"));
  }
  return sql_.Exec(SyncPragma(sync), "set synchronous");
}

absl::Status HistoryDb::CreateSchema() {
  if (absl::Status begun = sql_.Exec("BEGIN IMMEDIATE", "begin schema"); !begun.ok()) return begun;
  absl::Status status = CheckSchemaVersion();
  if (status.ok()) status = sql_.Exec(kSchema, "create schema");
  if (status.ok()) {
    std::string record = absl::StrCat(
        "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '", kSchemaVersion, "')");
    status = sql_.Exec(record.c_str(), "record schema version");
  }
  if (status.ok()) status = sql_.Exec("COMMIT", "commit schema");
  if (!status.ok()) sql_.Rollback();
  return status;
}

// Within the schema transaction, so no other process changes the version between the check and
// the CREATEs: refuses a file that a newer roomchat has written.
absl::Status HistoryDb::CheckSchemaVersion() {
  absl::StatusOr<std::optional<std::string>> has_meta =
      sql_.QueryOne("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'", "read schema");
  if (!has_meta.ok()) return has_meta.status();
  if (!has_meta->has_value()) return absl::OkStatus();  // a new file
  absl::StatusOr<std::optional<std::string>> version =
      sql_.QueryOne("SELECT value FROM meta WHERE key = 'schema_version'", "read schema version");
  if (!version.ok()) return version.status();
  if (!version->has_value()) return absl::OkStatus();
  int number = 0;
  if (!absl::SimpleAtoi(**version, &number) || number < 1) {
    return absl::DataLossError(
        absl::StrCat("history db ", path_, ": unreadable schema version '", **version, "'"));
  }
  if (number > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "history db ", path_, ": schema version ", number,
        " was written by a newer roomchat; this one knows up to version ", kSchemaVersion));
  }
  return absl::OkStatus();
}

absl::Status HistoryDb::PrepareStatements() {
  Statements& s = *statements_;
  const std::pair<SqliteStatement*, const char*> table[] = {
      {&s.begin, "BEGIN IMMEDIATE"},
      {&s.commit, "COMMIT"},
      {&s.insert_line,
       "INSERT INTO lines(room, id, time_ms, nick, text) VALUES(?1, ?2, ?3, ?4, ?5)"},
      // A batch may hold older lines than the file (never in the server's use): the name and
      // last_id follow the highest id only.
      {&s.raise_room,
       "INSERT INTO rooms(key, name, last_id) VALUES(?1, ?2, ?3) ON CONFLICT(key) DO UPDATE "
       "SET name = excluded.name, last_id = excluded.last_id "
       "WHERE excluded.last_id > rooms.last_id"},
      {&s.find_room, "SELECT name, last_id, trimmed_to FROM rooms WHERE key = ?1"},
      {&s.before,
       "SELECT id, time_ms, nick, text FROM lines WHERE room = ?1 AND id < ?2 "
       "ORDER BY id DESC LIMIT ?3"},
      {&s.after,
       "SELECT id, time_ms, nick, text FROM lines WHERE room = ?1 AND id > ?2 "
       "ORDER BY id LIMIT ?3"},
      {&s.first_id, "SELECT min(id) FROM lines WHERE room = ?1"},
      {&s.room_keys, "SELECT key FROM rooms ORDER BY key"},
      // The oldest first, through lines_by_time; each by its primary key.
      {&s.trim_by_age,
       "DELETE FROM lines WHERE (room, id) IN "
       "(SELECT room, id FROM lines WHERE time_ms < ?1 ORDER BY time_ms LIMIT ?2) "
       "RETURNING room, id"},
      // Two lookups at the ends of the room's range (the min/max optimization).
      {&s.id_span,
       "SELECT (SELECT min(id) FROM lines WHERE room = ?1), "
       "(SELECT max(id) FROM lines WHERE room = ?1)"},
      // Steps over the ?2 newest lines of the room to the newest one to delete.
      {&s.cutoff, "SELECT id FROM lines WHERE room = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2"},
      {&s.trim_room,
       "DELETE FROM lines WHERE room = ?1 AND id IN "
       "(SELECT id FROM lines WHERE room = ?1 AND id <= ?2 ORDER BY id LIMIT ?3) "
       "RETURNING room, id"},
      {&s.raise_trimmed,
       "UPDATE rooms SET trimmed_to = ?2 WHERE key = ?1 AND trimmed_to < ?2"},
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

absl::Status HistoryDb::Append(absl::Span<const StoredLine> lines) {
  for (const StoredLine& line : lines) {
    if (line.room_key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("history db ", path_, ": append: a line without a room key"));
    }
    if (line.id == 0 || line.id >= kIdLimit) {
      return absl::InvalidArgumentError(absl::StrCat("history db ", path_, ": append: line id ",
                                                     line.id, " of room ", line.room_key,
                                                     " is not in 1 to 2^53 - 1"));
    }
  }
  if (lines.empty()) return absl::OkStatus();
  if (absl::Status begun = sql_.Run(statements_->begin.get(), "begin append"); !begun.ok()) {
    return begun;
  }
  absl::Status status = WriteLines(lines);
  if (status.ok()) status = sql_.Run(statements_->commit.get(), "commit append");
  if (!status.ok()) sql_.Rollback();
  return status;
}

absl::Status HistoryDb::WriteLines(absl::Span<const StoredLine> lines) {
  absl::flat_hash_map<absl::string_view, const StoredLine*> highest;  // by room key
  for (const StoredLine& line : lines) {
    SqliteStatementUse use(statements_->insert_line.get());
    use.Bind(1, line.room_key)
        .Bind(2, static_cast<int64_t>(line.id))
        .Bind(3, line.time_ms)
        .Bind(4, line.nick)
        .Bind(5, line.text);
    if (use.Step() != SQLITE_DONE) {
      return sql_.Error(absl::StrCat("append line ", line.id, " of room ", line.room_key));
    }
    const StoredLine*& top = highest[line.room_key];
    if (top == nullptr || line.id > top->id) top = &line;
  }
  for (const auto& [room_key, line] : highest) {
    SqliteStatementUse use(statements_->raise_room.get());
    use.Bind(1, room_key).Bind(2, line->room).Bind(3, static_cast<int64_t>(line->id));
    if (use.Step() != SQLITE_DONE) return sql_.Error(absl::StrCat("update room ", room_key));
  }
  return absl::OkStatus();
}

absl::StatusOr<HistoryDb::RoomRow> HistoryDb::FindRoom(absl::string_view room_key) {
  SqliteStatementUse use(statements_->find_room.get());
  use.Bind(1, room_key);
  int step = use.Step();
  if (step == SQLITE_DONE) return RoomRow();
  if (step != SQLITE_ROW) return sql_.Error(absl::StrCat("find room ", room_key));
  return RoomRow{use.Text(0), static_cast<uint64_t>(use.Int64(1)),
                 static_cast<uint64_t>(use.Int64(2))};
}

absl::StatusOr<std::vector<StoredLine>> HistoryDb::ReadPage(sqlite3_stmt* statement,
                                                            absl::string_view room_key,
                                                            const std::string& room_name,
                                                            int64_t bound, size_t limit) {
  std::vector<StoredLine> lines;
  SqliteStatementUse use(statement);
  use.Bind(1, room_key).Bind(2, bound).Bind(3, ClampToInt64(limit));
  int step;
  while ((step = use.Step()) == SQLITE_ROW) {
    StoredLine& line = lines.emplace_back();
    line.room_key = std::string(room_key);
    line.room = room_name;
    line.id = static_cast<uint64_t>(use.Int64(0));
    line.time_ms = use.Int64(1);
    line.nick = use.Text(2);
    line.text = use.Text(3);
  }
  if (step != SQLITE_DONE) return sql_.Error(absl::StrCat("read lines of room ", room_key));
  return lines;
}

absl::StatusOr<HistoryDb::RoomState> HistoryDb::LoadRoom(absl::string_view room_key,
                                                         size_t recent) {
  absl::StatusOr<RoomRow> room = FindRoom(room_key);
  if (!room.ok()) return room.status();
  RoomState state;
  state.last_id = room->last_id;
  state.trimmed_to = room->trimmed_to;
  if (room->last_id == 0 || recent == 0) return state;
  absl::StatusOr<std::vector<StoredLine>> lines =
      ReadPage(statements_->before.get(), room_key, room->name, kInt64Max, recent);
  if (!lines.ok()) return lines.status();
  state.recent = *std::move(lines);
  std::reverse(state.recent.begin(), state.recent.end());
  return state;
}

absl::StatusOr<std::vector<StoredLine>> HistoryDb::Before(absl::string_view room_key,
                                                          uint64_t before_id, size_t limit) {
  absl::StatusOr<RoomRow> room = FindRoom(room_key);
  if (!room.ok()) return room.status();
  if (room->last_id == 0 || limit == 0) return std::vector<StoredLine>();
  int64_t bound = before_id == 0 ? kInt64Max : ClampToInt64(before_id);
  absl::StatusOr<std::vector<StoredLine>> lines =
      ReadPage(statements_->before.get(), room_key, room->name, bound, limit);
  if (lines.ok()) std::reverse(lines->begin(), lines->end());
  return lines;
}

absl::StatusOr<std::vector<StoredLine>> HistoryDb::After(absl::string_view room_key,
                                                         uint64_t after_id, size_t limit) {
  absl::StatusOr<Page> page = PageAfter(room_key, after_id, limit);
  if (!page.ok()) return page.status();
  return std::move(page->lines);
}

absl::StatusOr<HistoryDb::Page> HistoryDb::PageAfter(absl::string_view room_key,
                                                     uint64_t after_id, size_t limit) {
  absl::StatusOr<RoomRow> room = FindRoom(room_key);
  if (!room.ok()) return room.status();
  Page page;
  page.trimmed_to = room->trimmed_to;
  if (room->last_id == 0 || limit == 0) return page;
  absl::StatusOr<std::vector<StoredLine>> lines =
      ReadPage(statements_->after.get(), room_key, room->name, ClampToInt64(after_id), limit);
  if (!lines.ok()) return lines.status();
  page.lines = *std::move(lines);
  return page;
}

absl::StatusOr<size_t> HistoryDb::DeleteAndNote(SqliteStatementUse& use, absl::string_view what) {
  absl::flat_hash_map<std::string, int64_t> highest;  // room key -> highest id deleted
  size_t deleted = 0;
  {
    int step;
    while ((step = use.Step()) == SQLITE_ROW) {
      ++deleted;
      int64_t& id = highest[use.Text(0)];
      id = std::max(id, use.Int64(1));
    }
    if (step != SQLITE_DONE) return sql_.Error(what);
  }
  for (const auto& [room_key, id] : highest) {
    SqliteStatementUse use(statements_->raise_trimmed.get());
    use.Bind(1, room_key).Bind(2, id);
    if (use.Step() != SQLITE_DONE) return sql_.Error(absl::StrCat("note trim of ", room_key));
  }
  return deleted;
}

absl::StatusOr<uint64_t> HistoryDb::FirstId(absl::string_view room_key) {
  SqliteStatementUse use(statements_->first_id.get());
  use.Bind(1, room_key);
  if (use.Step() != SQLITE_ROW) return sql_.Error(absl::StrCat("first id of room ", room_key));
  // min() of no row is NULL, which reads as 0.
  return static_cast<uint64_t>(use.Int64(0));
}

absl::StatusOr<size_t> HistoryDb::Trim(size_t max_lines_per_room, int64_t min_time_ms,
                                       size_t max_deleted, const std::vector<std::string>* rooms) {
  if (max_deleted == 0) return 0;
  if (absl::Status begun = sql_.Run(statements_->begin.get(), "begin trim"); !begun.ok()) return begun;
  absl::StatusOr<size_t> deleted =
      TrimInTransaction(max_lines_per_room, min_time_ms, max_deleted, rooms);
  if (deleted.ok()) {
    if (absl::Status committed = sql_.Run(statements_->commit.get(), "commit trim"); !committed.ok()) {
      deleted = committed;
    }
  }
  if (!deleted.ok()) sql_.Rollback();
  return deleted;
}

absl::StatusOr<size_t> HistoryDb::TrimInTransaction(size_t max_lines_per_room, int64_t min_time_ms,
                                                    size_t max_deleted,
                                                    const std::vector<std::string>* rooms) {
  absl::StatusOr<size_t> by_age;
  {
    SqliteStatementUse use(statements_->trim_by_age.get());
    use.Bind(1, min_time_ms).Bind(2, ClampToInt64(max_deleted));
    by_age = DeleteAndNote(use, "trim by age");
  }
  if (!by_age.ok()) return by_age.status();
  size_t deleted = *by_age;
  std::vector<std::string> room_keys;
  if (rooms != nullptr) {
    room_keys = *rooms;
  } else {
    SqliteStatementUse use(statements_->room_keys.get());
    int step;
    while ((step = use.Step()) == SQLITE_ROW) {
      room_keys.push_back(use.Text(0));
    }
    if (step != SQLITE_DONE) return sql_.Error("list rooms");
  }
  // Always from the first room: one already down to its cap deletes nothing, so repeated calls
  // reach the later rooms.
  for (const std::string& room_key : room_keys) {
    if (deleted >= max_deleted) break;
    absl::StatusOr<size_t> trimmed = TrimRoom(room_key, max_lines_per_room, max_deleted - deleted);
    if (!trimmed.ok()) return trimmed.status();
    deleted += *trimmed;
  }
  return deleted;
}

absl::StatusOr<size_t> HistoryDb::TrimRoom(const std::string& room_key, size_t max_lines_per_room,
                                           size_t max_deleted) {
  {
    // Ids are distinct integers: a room whose ids span at most the cap holds at most the cap.
    SqliteStatementUse use(statements_->id_span.get());
    use.Bind(1, room_key);
    if (use.Step() != SQLITE_ROW) return sql_.Error(absl::StrCat("span of room ", room_key));
    if (use.IsNull(0)) return 0;  // no line
    uint64_t span = static_cast<uint64_t>(use.Int64(1) - use.Int64(0)) + 1;
    if (span <= max_lines_per_room) return 0;
  }
  int64_t cutoff = 0;  // the newest id to delete
  {
    SqliteStatementUse use(statements_->cutoff.get());
    use.Bind(1, room_key).Bind(2, ClampToInt64(max_lines_per_room));
    int step = use.Step();
    if (step == SQLITE_DONE) return 0;  // no more lines than the cap
    if (step != SQLITE_ROW) return sql_.Error(absl::StrCat("trim room ", room_key));
    cutoff = use.Int64(0);
  }
  SqliteStatementUse use(statements_->trim_room.get());
  use.Bind(1, room_key).Bind(2, cutoff).Bind(3, ClampToInt64(max_deleted));
  return DeleteAndNote(use, absl::StrCat("trim room ", room_key));
}

}  // namespace roomchat
