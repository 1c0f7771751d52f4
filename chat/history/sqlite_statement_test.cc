#include "chat/history/sqlite_statement.h"

#include <string>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

class SqliteStatementTest : public ::testing::Test {
 protected:
  SqliteStatementTest() {
    EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "CREATE TABLE t(k TEXT PRIMARY KEY, v INTEGER)", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    insert_ = Prepare("INSERT INTO t(k, v) VALUES(?1, ?2)");
    select_ = Prepare("SELECT k, v FROM t WHERE k = ?1");
  }
  ~SqliteStatementTest() override {
    insert_.reset();
    select_.reset();
    sqlite3_close(db_);
  }

  SqliteStatement Prepare(const char* sql) {
    sqlite3_stmt* raw = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr), SQLITE_OK);
    return SqliteStatement(raw);
  }

  sqlite3* db_ = nullptr;
  SqliteStatement insert_;
  SqliteStatement select_;
};

TEST_F(SqliteStatementTest, BindsStepsReadsAndIsReusable) {
  for (int64_t v : {1, 2}) {
    SqliteStatementUse use(insert_.get());
    use.Bind(1, "key" + std::to_string(v)).Bind(2, v);  // a temporary: text is copied
    EXPECT_EQ(use.Step(), SQLITE_DONE);
  }
  SqliteStatementUse use(select_.get());
  use.Bind(1, std::string("key2"));
  ASSERT_EQ(use.Step(), SQLITE_ROW);
  EXPECT_EQ(use.Text(0), "key2");
  EXPECT_EQ(use.Int64(1), 2);
  EXPECT_FALSE(use.IsNull(1));
  EXPECT_EQ(use.Step(), SQLITE_DONE);
}

TEST_F(SqliteStatementTest, TextKeepsEmbeddedBytes) {
  const std::string key("a\0b", 3);
  {
    SqliteStatementUse use(insert_.get());
    use.Bind(1, key).Bind(2, 7);
    ASSERT_EQ(use.Step(), SQLITE_DONE);
  }
  SqliteStatementUse use(select_.get());
  use.Bind(1, key);
  ASSERT_EQ(use.Step(), SQLITE_ROW);
  EXPECT_EQ(use.Text(0), key);
}

TEST_F(SqliteStatementTest, AFailedBindIsReportedByStep) {
  SqliteStatementUse use(select_.get());
  use.Bind(5, "out of range");
  EXPECT_EQ(use.Step(), SQLITE_RANGE);
}

TEST_F(SqliteStatementTest, ConstraintFailuresAndCodesMapToStatusCodes) {
  for (int round = 0; round < 2; ++round) {
    SqliteStatementUse use(insert_.get());
    use.Bind(1, "same").Bind(2, round);
    EXPECT_EQ(use.Step(), round == 0 ? SQLITE_DONE : SQLITE_CONSTRAINT);
  }
  EXPECT_EQ(SqliteStatusCode(sqlite3_extended_errcode(db_)), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(SqliteStatusCode(SQLITE_CONSTRAINT_NOTNULL), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteStatusCode(SQLITE_BUSY_SNAPSHOT), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteStatusCode(SQLITE_IOERR_FSYNC), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SqliteStatusCode(SQLITE_NOTADB), absl::StatusCode::kDataLoss);
  EXPECT_EQ(SqliteStatusCode(SQLITE_READONLY), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SqliteStatusCode(SQLITE_MISUSE), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace roomchat
