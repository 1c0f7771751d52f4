#include "chat/accounts/account_service.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/history/history_db.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

// Every hash takes 64 MiB and up to ~0.4 s here: the tests make about fifteen in all.
constexpr absl::Duration kDeadline = absl::Seconds(60);

// One job's outcome and the thread its Done ran on, for the test's thread to wait for.
class Outcome {
 public:
  AccountService::Done Done() {
    return [this](absl::Status status) {
      absl::MutexLock lock(&mu_);
      status_ = std::move(status);
      thread_ = std::this_thread::get_id();
    };
  }
  absl::Status Wait() {
    absl::MutexLock lock(&mu_);
    auto done = [this] { return status_.has_value(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&done), kDeadline)) {
      return absl::DeadlineExceededError("no answer");
    }
    return *status_;
  }
  std::thread::id thread() {
    absl::MutexLock lock(&mu_);
    return thread_;
  }

 private:
  absl::Mutex mu_;
  std::optional<absl::Status> status_ ABSL_GUARDED_BY(mu_);
  std::thread::id thread_ ABSL_GUARDED_BY(mu_);
};

class AccountServiceTest : public ::testing::Test {
 protected:
  AccountServiceTest() {
    options_.data_dir = absl::StrCat(getenv("TEST_TMPDIR"), "/service-XXXXXX");
    EXPECT_NE(mkdtemp(options_.data_dir.data()), nullptr);
  }

  std::unique_ptr<AccountService> OpenService(bool start = true) {
    absl::StatusOr<std::unique_ptr<AccountService>> service = AccountService::Open(options_);
    EXPECT_TRUE(service.ok()) << service.status();
    if (!service.ok()) return nullptr;
    if (start) {
      EXPECT_TRUE((*service)->Start().ok());
    }
    return *std::move(service);
  }

  absl::Status Register(AccountService& service, const std::string& nick,
                        const std::string& password) {
    Outcome outcome;
    if (!service.Register(absl::AsciiStrToLower(nick), nick, password, outcome.Done())) {
      return absl::UnavailableError("refused");
    }
    return outcome.Wait();
  }
  absl::Status Verify(AccountService& service, const std::string& key,
                      const std::string& password) {
    Outcome outcome;
    if (!service.Verify(key, password, outcome.Done())) return absl::UnavailableError("refused");
    return outcome.Wait();
  }

  // The first column of the first row of `sql`, through a connection of the test's own.
  std::string Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    std::string path = absl::StrCat(options_.data_dir, "/", HistoryDb::kFileName);
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    // The service may hold the write lock (a save being retried): wait for it as it would.
    sqlite3_busy_timeout(db, HistoryDb::kBusyTimeoutMs);
    std::string result;
    char* error = nullptr;
    sqlite3_exec(
        db, sql.c_str(),
        [](void* out, int columns, char** values, char**) {
          if (columns > 0 && values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
          return 0;
        },
        &result, &error);
    EXPECT_EQ(error, nullptr) << error;
    sqlite3_free(error);
    sqlite3_close(db);
    return result;
  }

  AccountServiceOptions options_;
};

RoomSettings Room(const std::string& key, const std::string& topic) {
  RoomSettings room;
  room.room_key = key;
  room.name = "Room-" + key;
  room.owner = "alice";
  room.op_accounts = {"alice"};
  room.topic = topic;
  room.key = "secret";
  return room;
}

TEST_F(AccountServiceTest, RegistersVerifiesAndChangesPasswords) {
  auto service = OpenService();
  ASSERT_TRUE(Register(*service, "Alice", "first password").ok());
  EXPECT_TRUE(absl::IsAlreadyExists(Register(*service, "Alice", "other")));
  EXPECT_TRUE(Verify(*service, "alice", "first password").ok());
  absl::Status wrong = Verify(*service, "alice", "wrong");
  absl::Status unknown = Verify(*service, "nobody", "first password");
  EXPECT_TRUE(absl::IsUnauthenticated(wrong)) << wrong;
  EXPECT_EQ(wrong, unknown) << "a wrong password and an unknown nick look the same";

  Outcome bad_old;
  ASSERT_TRUE(service->ChangePassword("alice", "wrong", "new password", bad_old.Done()));
  EXPECT_TRUE(absl::IsUnauthenticated(bad_old.Wait()));
  Outcome changed;
  ASSERT_TRUE(
      service->ChangePassword("alice", "first password", "new password", changed.Done()));
  ASSERT_TRUE(changed.Wait().ok());
  EXPECT_TRUE(Verify(*service, "alice", "new password").ok());
  EXPECT_TRUE(absl::IsUnauthenticated(Verify(*service, "alice", "first password")));
  EXPECT_EQ(Sql("SELECT substr(password_hash, 1, 10) FROM accounts"), "$argon2id$");
}

TEST_F(AccountServiceTest, RefusesEmptyPasswordsWithoutHashing) {
  auto service = OpenService();
  EXPECT_TRUE(absl::IsInvalidArgument(Register(*service, "Bob", "")));
  EXPECT_EQ(Sql("SELECT count(*) FROM accounts"), "0");
}

TEST_F(AccountServiceTest, DoneRunsOnTheWorkerThread) {
  auto service = OpenService();
  Outcome outcome;
  ASSERT_TRUE(service->Verify("nobody", "x", outcome.Done()));
  EXPECT_TRUE(absl::IsUnauthenticated(outcome.Wait()));
  EXPECT_NE(outcome.thread(), std::this_thread::get_id());
  EXPECT_NE(outcome.thread(), std::thread::id());
}

TEST_F(AccountServiceTest, RefusesJobsPastMaxPending) {
  options_.max_pending = 2;
  auto service = OpenService(/*start=*/false);  // nothing runs: the jobs wait
  Outcome first, second, third;
  ASSERT_TRUE(service->Register("carol", "Carol", "pw", first.Done()));
  ASSERT_TRUE(service->Verify("carol", "pw", second.Done()));
  EXPECT_FALSE(service->Verify("carol", "pw", third.Done()));
  EXPECT_FALSE(service->ChangePassword("carol", "pw", "new", third.Done()));
  EXPECT_FALSE(service->Register("dave", "Dave", "pw", third.Done()));
  ASSERT_TRUE(service->Start().ok());
  EXPECT_TRUE(first.Wait().ok());
  EXPECT_TRUE(second.Wait().ok()) << "in order, after the register";
  EXPECT_TRUE(Verify(*service, "carol", "pw").ok()) << "room again once they are done";
  service->Stop();
  EXPECT_FALSE(service->Verify("carol", "pw", third.Done())) << "refused after the stop";
}

TEST_F(AccountServiceTest, AStopAnswersJobsNotStartedWithoutHashingThem) {
  auto service = OpenService();
  Outcome outcomes[6];
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(service->Register(absl::StrCat("user", i), absl::StrCat("User", i), "password",
                                  outcomes[i].Done()));
  }
  service->Stop();
  int unavailable = 0;
  for (Outcome& outcome : outcomes) {
    absl::Status status = outcome.Wait();
    if (status.code() == absl::StatusCode::kUnavailable) ++unavailable;
  }
  // Six hashes take seconds; the stop came at once, so the last ones never started.
  EXPECT_GE(unavailable, 1);
}

TEST_F(AccountServiceTest, RoomSavesAreCoalescedAndSurviveAReopen) {
  {
    auto service = OpenService(/*start=*/false);
    EXPECT_TRUE(service->rooms().empty());
    // Counts the writes of each room.
    Sql("CREATE TABLE room_writes(room_key TEXT);"
        "CREATE TRIGGER count_room_writes AFTER INSERT ON room_settings "
        "BEGIN INSERT INTO room_writes VALUES(new.room_key); END;");
    service->SaveRoom(Room("a", "one"));
    service->SaveRoom(Room("b", "only"));
    service->SaveRoom(Room("a", "two"));
    service->SaveRoom(Room("a", "three"));
    ASSERT_TRUE(service->Start().ok());
    service->Stop();  // drains
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM room_writes WHERE room_key = 'a'"), "1");
  auto service = OpenService();
  ASSERT_EQ(service->rooms().size(), 2u);
  EXPECT_TRUE(service->rooms()[0] == Room("a", "three"));
  EXPECT_TRUE(service->rooms()[1] == Room("b", "only"));
  RoomSettings released = Room("b", "only");
  released.owner.clear();
  service->SaveRoom(released);
  service->Stop();
  EXPECT_EQ(Sql("SELECT group_concat(room_key) FROM room_settings"), "a");
}

TEST_F(AccountServiceTest, AccountKeysAreLoadedAtOpen) {
  {
    auto service = OpenService();
    ASSERT_TRUE(Register(*service, "Zed", "pw").ok());
  }
  auto service = OpenService(/*start=*/false);
  EXPECT_EQ(service->account_keys(), std::vector<std::string>{"zed"});
}

TEST_F(AccountServiceTest, AFailedRoomSaveIsRetried) {
  options_.room_save_retry = std::chrono::milliseconds(50);
  auto service = OpenService();
  Sql("DROP TABLE room_bans");  // every save fails until it is back
  service->SaveRoom(Room("a", "kept"));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(Sql("SELECT count(*) FROM room_settings"), "0");
  Sql("CREATE TABLE room_bans(room_key TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, "
      "set_by TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY(room_key, kind, value)) "
      "WITHOUT ROWID");
  absl::Time deadline = absl::Now() + kDeadline;
  while (Sql("SELECT count(*) FROM room_settings") != "1" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(Sql("SELECT topic FROM room_settings"), "kept");
}

}  // namespace
}  // namespace roomchat
