// Small RAII helpers over SQLite's C API for prepared statements: ownership (SqliteStatement),
// one bound-and-stepped use that always ends in a reset (SqliteStatementUse), and the mapping of
// SQLite's result codes onto absl::StatusCode.
//
// Thread contract: none of their own; a statement belongs to its connection, and a connection to
// one thread at a time (HistoryDb opens it SQLITE_OPEN_NOMUTEX).
#ifndef ROOMCHAT_CHAT_HISTORY_SQLITE_STATEMENT_H_
#define ROOMCHAT_CHAT_HISTORY_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace roomchat {

struct SqliteFinalize {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
// A prepared statement, finalized when dropped (before its connection is closed).
using SqliteStatement = std::unique_ptr<sqlite3_stmt, SqliteFinalize>;

// One use of a prepared statement: bind, step, read columns. The statement is reset and its
// bindings cleared when the use ends, so no statement stays in the middle of a read (which would
// hold back WAL checkpoints) or holds on to the last values bound. Text is copied when bound (a
// copy of a chat line costs nothing next to a b-tree insert, and a temporary string is safe to
// pass). A failed bind is reported by the next Step().
class SqliteStatementUse {
 public:
  explicit SqliteStatementUse(sqlite3_stmt* statement) : statement_(statement) {}
  ~SqliteStatementUse();

  SqliteStatementUse(const SqliteStatementUse&) = delete;
  SqliteStatementUse& operator=(const SqliteStatementUse&) = delete;

  // `index` counts from 1, as ?1 does in the SQL.
  SqliteStatementUse& Bind(int index, int64_t value);
  SqliteStatementUse& Bind(int index, absl::string_view text);
  // SQLITE_ROW, SQLITE_DONE, or an error code (SQLite's message is on the connection).
  int Step();

  // Columns of the current row, counted from 0. A NULL reads as 0 or "".
  int64_t Int64(int column) const { return sqlite3_column_int64(statement_, column); }
  std::string Text(int column) const;
  bool IsNull(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }

 private:
  sqlite3_stmt* const statement_;
  int bind_result_ = SQLITE_OK;  // the first failed bind
};

// The Status code for an (extended) SQLite result code: busy, locked, I/O, full, cannot open:
// Unavailable (worth a retry); corrupt or not a database: DataLoss; a primary key or unique
// constraint: AlreadyExists; other constraints, too big: InvalidArgument; read-only, permission:
// PermissionDenied; anything else Internal.
absl::StatusCode SqliteStatusCode(int extended_code);

// The calls a database class makes on its connection besides its prepared statements: errors
// that name the database and its file, one-shot SQL, a statement that returns no row, and the end
// of a failed transaction. HistoryDb and AccountDb each hold one.
//
// Thread contract: that of its connection.
class SqliteCalls {
 public:
  // `label` names the database in errors, e.g. "history db".
  SqliteCalls(sqlite3* db, absl::string_view label, absl::string_view path);

  // A Status that names the database, its file, `what` was being done, and SQLite's last error on
  // the connection; its code follows SQLite's (SqliteStatusCode).
  absl::Status Error(absl::string_view what) const;
  absl::Status Exec(const char* sql, absl::string_view what) const;
  // The first column of the first row of `sql` as text; nullopt when there is no row.
  absl::StatusOr<std::optional<std::string>> QueryOne(const char* sql,
                                                      absl::string_view what) const;
  // Steps a statement that returns no row.
  absl::Status Run(sqlite3_stmt* statement, absl::string_view what) const;
  // Ends a failed transaction, unless SQLite has already rolled it back.
  void Rollback() const;

 private:
  sqlite3* const db_;
  const std::string where_;  // "<label> <path>"
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_HISTORY_SQLITE_STATEMENT_H_
