#include "chat/history/sqlite_statement.h"

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace roomchat {

SqliteStatementUse::~SqliteStatementUse() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

SqliteStatementUse& SqliteStatementUse::Bind(int index, int64_t value) {
  int result = sqlite3_bind_int64(statement_, index, value);
  if (bind_result_ == SQLITE_OK) bind_result_ = result;
  return *this;
}

SqliteStatementUse& SqliteStatementUse::Bind(int index, absl::string_view text) {
  int result = sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                                 SQLITE_TRANSIENT);
  if (bind_result_ == SQLITE_OK) bind_result_ = result;
  return *this;
}

int SqliteStatementUse::Step() {
  return bind_result_ != SQLITE_OK ? bind_result_ : sqlite3_step(statement_);
}

std::string SqliteStatementUse::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(statement_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(statement_, column)));
}

absl::StatusCode SqliteStatusCode(int extended_code) {
  switch (extended_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM: return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return absl::StatusCode::kDataLoss;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH: return absl::StatusCode::kPermissionDenied;
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH: return absl::StatusCode::kInvalidArgument;
    case SQLITE_CONSTRAINT:
      return extended_code == SQLITE_CONSTRAINT_PRIMARYKEY ||
                     extended_code == SQLITE_CONSTRAINT_UNIQUE
                 ? absl::StatusCode::kAlreadyExists
                 : absl::StatusCode::kInvalidArgument;
    default: return absl::StatusCode::kInternal;
  }
}

SqliteCalls::SqliteCalls(sqlite3* db, absl::string_view label, absl::string_view path)
    : db_(db), where_(absl::StrCat(label, " ", path)) {}

absl::Status SqliteCalls::Error(absl::string_view what) const {
  int code = sqlite3_extended_errcode(db_);
  return absl::Status(SqliteStatusCode(code), absl::StrCat(where_, ": ", what, ": ",
                                                           sqlite3_errmsg(db_), " (SQLite code ",
                                                           code, ")"));
}

absl::Status SqliteCalls::Exec(const char* sql, absl::string_view what) const {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Error(what);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> SqliteCalls::QueryOne(const char* sql,
                                                                 absl::string_view what) const {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr) != SQLITE_OK) return Error(what);
  SqliteStatement statement(raw);
  SqliteStatementUse use(raw);
  int step = use.Step();
  if (step == SQLITE_DONE) return std::optional<std::string>();
  if (step != SQLITE_ROW) return Error(what);
  return std::optional<std::string>(use.Text(0));
}

absl::Status SqliteCalls::Run(sqlite3_stmt* statement, absl::string_view what) const {
  SqliteStatementUse use(statement);
  if (use.Step() != SQLITE_DONE) return Error(what);
  return absl::OkStatus();
}

void SqliteCalls::Rollback() const {
  if (sqlite3_get_autocommit(db_)) return;
  if (absl::Status rolled_back = Exec("ROLLBACK", "rollback"); !rolled_back.ok()) {
    LOG(ERROR) << rolled_back;
  }
}

}  // namespace roomchat
