// HistoryDb: the SQLite file that holds roomchat's message history, one table row per chat line.
//
// A room's lines are keyed by (room key, id); ids are given by the server, strictly increasing
// within a room, and below 2^53. Each room also has a row that keeps its display name and the
// highest id ever stored, which survives retention (Trim), so a restarted room goes on numbering
// where it left off. The file is `dir`/roomchat.sqlite3 in WAL mode: the `sqlite3` command-line
// tool can read it while the server writes. Its schema is the constant kSchema in history_db.cc.
//
// Every write is one transaction: Append stores a whole batch or nothing, and Trim deletes a
// bounded number of rows, so the store thread that owns the database can group the lines of many
// rooms into one commit (one fsync) and spread retention over many short calls.
//
// Errors name the file and SQLite's message, never the text of a line.
//
// Thread contract: not thread-safe. One store thread owns a HistoryDb and calls every method; the
// SQLite connection is opened without its own mutex (SQLITE_OPEN_NOMUTEX).
#ifndef ROOMCHAT_CHAT_HISTORY_HISTORY_DB_H_
#define ROOMCHAT_CHAT_HISTORY_HISTORY_DB_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "chat/history/sqlite_statement.h"

namespace roomchat {

// One stored chat line. `room` is the room's display name as created; the database keys rooms by
// `room_key` (the case-insensitive key the server computes; passed in, the db does not compute it).
struct StoredLine {
  std::string room_key;
  std::string room;
  uint64_t id = 0;      // strictly increasing within a room, 1 to 2^53 - 1
  int64_t time_ms = 0;  // Unix time, milliseconds, UTC
  std::string nick;
  std::string text;  // UTF-8, no LF, CR or NUL
};

// How hard a commit tries to reach the disk (PRAGMA synchronous). In WAL mode kNormal loses the
// last commits on a power cut but never corrupts the file; kFull syncs on every commit.
enum class HistorySync { kFull, kNormal, kOff };

class HistoryDb {
 public:
  // The file Open() creates inside its directory.
  static constexpr char kFileName[] = "roomchat.sqlite3";
  // The schema this build writes; a file of a newer version is refused.
  static constexpr int kSchemaVersion = 1;
  // How long a statement waits for a lock another process holds (e.g. a `sqlite3` reader during a
  // checkpoint) before it fails with Unavailable.
  static constexpr int kBusyTimeoutMs = 5000;

  // Opens (creating if needed) `dir`/roomchat.sqlite3, creating `dir` (mkdir -p, mode 0700) if
  // missing; sets WAL journal mode, `sync` and the busy timeout; creates the schema if missing and
  // records its version. FailedPrecondition when the file has a newer schema version, `dir` is
  // not a directory, or another server has it open (`dir`/roomchat.lock is held).
  static absl::StatusOr<std::unique_ptr<HistoryDb>> Open(const std::string& dir, HistorySync sync);
  ~HistoryDb();  // finalizes the statements and closes the file

  HistoryDb(const HistoryDb&) = delete;
  HistoryDb& operator=(const HistoryDb&) = delete;

  // Stores `lines` in one transaction and raises each room's last_id to the highest id given
  // (never lowers it); when it is raised, the room's stored display name becomes that line's. On
  // any failure nothing of the batch is stored: InvalidArgument for an empty room key or an id out
  // of range, AlreadyExists for a (room key, id) stored before or twice in the batch. An empty
  // span is OK and touches nothing.
  absl::Status Append(absl::Span<const StoredLine> lines);

  struct RoomState {
    uint64_t last_id = 0;            // highest id ever stored for the room (survives Trim); 0: none
    uint64_t trimmed_to = 0;         // highest id retention deleted; 0: none
    std::vector<StoredLine> recent;  // the newest `recent` retained lines, oldest first
  };
  absl::StatusOr<RoomState> LoadRoom(absl::string_view room_key, size_t recent);

  // Up to `limit` retained lines with id < before_id (0 = no bound), the NEWEST such lines,
  // returned oldest first. Page backwards by passing the first id returned as the next before_id.
  absl::StatusOr<std::vector<StoredLine>> Before(absl::string_view room_key, uint64_t before_id,
                                                 size_t limit);
  // Up to `limit` retained lines with id > after_id, the OLDEST such lines, oldest first. Page
  // forwards by passing the last id returned as the next after_id.
  absl::StatusOr<std::vector<StoredLine>> After(absl::string_view room_key, uint64_t after_id,
                                                size_t limit);
  // The oldest retained id of the room, 0 if it holds no line.
  absl::StatusOr<uint64_t> FirstId(absl::string_view room_key);

  // Retention, in one transaction: deletes, over all rooms, lines with time_ms < `min_time_ms`
  // (oldest first) and then lines beyond the newest `max_lines_per_room` of their room (0 keeps
  // none; SIZE_MAX keeps all), at most `max_deleted` rows in all. Returns how many were deleted;
  // fewer than `max_deleted` means nothing is left to trim. Rooms keep their last_id.
  // Cost of a call: O(log n) per room to see whether it is over its cap, O(max_lines_per_room)
  // index steps for each room that may be (the newest lines it keeps are counted), and
  // O(log n) per deleted row.
  // `rooms`, when given, limits the cap by lines to those room keys (the rooms written to since the
  // last call: the others cannot be over their cap); the age rule always covers every room. Every
  // room that loses lines has its trimmed_to raised to the highest id deleted.
  absl::StatusOr<size_t> Trim(size_t max_lines_per_room, int64_t min_time_ms, size_t max_deleted,
                              const std::vector<std::string>* rooms = nullptr);

  // After(), with the highest id retention has deleted from the room (0: none), so that a reader
  // that last saw an id below it knows it missed lines.
  struct Page {
    std::vector<StoredLine> lines;
    uint64_t trimmed_to = 0;
  };
  absl::StatusOr<Page> PageAfter(absl::string_view room_key, uint64_t after_id, size_t limit);

 private:
  struct Statements;  // every prepared statement; defined in history_db.cc
  struct RoomRow {
    std::string name;
    uint64_t last_id = 0;
    uint64_t trimmed_to = 0;
  };

  HistoryDb(std::string path, sqlite3* db, int lock_fd);

  absl::Status Configure(HistorySync sync);
  absl::Status CreateSchema();
  absl::Status CheckSchemaVersion();
  absl::Status PrepareStatements();

  absl::Status WriteLines(absl::Span<const StoredLine> lines);
  // The room's row; last_id 0 when the room was never stored.
  absl::StatusOr<RoomRow> FindRoom(absl::string_view room_key);
  // Runs `statement` (Before's or After's query) with ?1 room_key, ?2 `bound`, ?3 `limit`;
  // returns the lines in the order the query gives them.
  absl::StatusOr<std::vector<StoredLine>> ReadPage(sqlite3_stmt* statement,
                                                   absl::string_view room_key,
                                                   const std::string& room_name, int64_t bound,
                                                   size_t limit);
  absl::StatusOr<size_t> TrimInTransaction(size_t max_lines_per_room, int64_t min_time_ms,
                                           size_t max_deleted,
                                           const std::vector<std::string>* rooms);
  // Steps `use`, a DELETE ... RETURNING room, id; raises each room's trimmed_to; how many rows.
  absl::StatusOr<size_t> DeleteAndNote(SqliteStatementUse& use, absl::string_view what);
  absl::StatusOr<size_t> TrimRoom(const std::string& room_key, size_t max_lines_per_room,
                                  size_t max_deleted);

  // Const after construction.
  const std::string path_;
  sqlite3* const db_;
  // Errors that name this database and its file; one-shot SQL; Run and Rollback.
  const SqliteCalls sql_;
  const int lock_fd_;  // flock on the directory's roomchat.lock while this is open

  std::unique_ptr<Statements> statements_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_HISTORY_HISTORY_DB_H_
