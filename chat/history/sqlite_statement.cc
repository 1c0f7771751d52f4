#include "chat/history/sqlite_statement.h"

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

}  // namespace roomchat
