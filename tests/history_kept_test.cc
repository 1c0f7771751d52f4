// What history keeps, end to end: never a private message, and no line past the retention.
// Retention by age (--history_max_days) holds for what a room keeps in memory, not only for the
// store: a room open for days holds its recent lines in memory all that time, and once the
// store's housekeeping (every second) has deleted a line past the retention, the room must not
// replay, page or catch a client up with it from memory either.
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/history/history_db.h"
#include "chat/protocol/names.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/data_dir.h"
#include "tests/history_lines.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

class HistoryKeptTest : public ServerFixture {};

constexpr uint64_t kOldId = 100;  // said three days ago
constexpr uint64_t kNewId = 200;  // said a minute ago

// A data directory whose room "Lounge" holds a line said three days ago and one a minute ago.
std::string DataDirWithAnOldLine() {
  std::string dir = NewDataDir();
  absl::StatusOr<std::unique_ptr<HistoryDb>> db = HistoryDb::Open(dir, HistorySync::kNormal);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return dir;
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  const std::string key = NameKey("Lounge");
  absl::Status appended = (*db)->Append(
      {StoredLine{key, "Lounge", kOldId, now_ms - 3 * 24 * 3600 * 1000, "old", "three days ago"},
       StoredLine{key, "Lounge", kNewId, now_ms - 60 * 1000, "new", "a minute ago"}});
  EXPECT_TRUE(appended.ok()) << appended;
  return dir;
}

// Whether the store in `dir` still holds the line `id` (read with SQLite beside the server, which
// holds the directory's lock).
bool StoreHolds(const std::string& dir, uint64_t id) {
  const std::string path = absl::StrCat(dir, "/", HistoryDb::kFileName);
  sqlite3* db = nullptr;
  bool held = false;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, HistoryDb::kBusyTimeoutMs);
    sqlite3_stmt* query = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM lines WHERE id = ?1", -1, &query, nullptr) ==
        SQLITE_OK) {
      sqlite3_bind_int64(query, 1, static_cast<sqlite3_int64>(id));
      held = sqlite3_step(query) == SQLITE_ROW;
    }
    sqlite3_finalize(query);
  }
  sqlite3_close(db);
  return held;
}

// The room opens (and loads both lines into memory) before the store's housekeeping deletes the
// old one; from then on the room is a room open for days: only its memory has the old line.
TEST_F(HistoryKeptTest, ARoomOpenPastTheRetentionNeverGivesBackAnOlderLine) {
  ServerOptions options;
  options.data_dir = DataDirWithAnOldLine();
  options.history_max_days = 1;
  StartServer(options);
  auto alice = Login("alice");
  ASSERT_TRUE(alice);
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  bool held = true;
  for (absl::Time until = absl::Now() + kLineDeadline; held && absl::Now() < until;) {
    held = StoreHolds(options.data_dir, kOldId);
    if (held) absl::SleepFor(absl::Milliseconds(50));  // polling interval
  }
  ASSERT_FALSE(held) << "the store's housekeeping never deleted the old line";
  ASSERT_TRUE(StoreHolds(options.data_dir, kNewId));

  auto bob = Login("bob");
  ASSERT_TRUE(bob);
  RequestCaps(*bob, "replay");
  EXPECT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
  EXPECT_EQ(bob->Next(), "MSG Lounge new a minute ago");
  EXPECT_EQ(Pending(*bob), Lines{});
  ASSERT_TRUE(bob->Send("/history 10").ok());
  EXPECT_EQ(bob->Next(), "MSG Lounge new a minute ago");
  EXPECT_EQ(bob->Next(), "OK HISTORY Lounge 1");

  // Catching up from before both lines: retention removed the old one, and says so.
  auto carol = Login("carol");
  ASSERT_TRUE(carol);
  EXPECT_EQ(carol->Ask(absl::StrCat("/join Lounge since=", kOldId - 1)), "OK JOIN Lounge 3");
  EXPECT_TRUE(IsErr(carol->Next(), "history-gap"));
  EXPECT_EQ(carol->Next(), "MSG Lounge new a minute ago");
  EXPECT_EQ(Pending(*carol), Lines{});
}

TEST_F(HistoryKeptTest, PrivateMessagesAreNotKept) {
  StartServer();
  auto alice = Login("alice");
  auto bob = Login("bob");
  auto carol = Login("carol");
  ASSERT_NE(carol, nullptr);
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  ASSERT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
  ASSERT_EQ(alice->Next(), "JOIN Lounge bob");
  ASSERT_TRUE(alice->Send("public").ok());
  EXPECT_EQ(bob->Next(), "MSG Lounge alice public");
  EXPECT_EQ(alice->Ask("/msg bob a secret whisper"), "OK MSG bob");
  EXPECT_EQ(bob->Next(), "PRIV alice a secret whisper");
  EXPECT_EQ(carol->Ask("/msg alice from the lobby"), "OK MSG alice");
  EXPECT_EQ(alice->Next(), "PRIV carol from the lobby");

  HistoryAnswer answer = AskHistory(*bob, "/history");
  EXPECT_EQ(answer.lines, Lines{"MSG Lounge alice public"});
  EXPECT_EQ(answer.end, "OK HISTORY Lounge 1");
  // Nor in the store: the room, created again, loads what was stored.
  EveryoneLeaves("Lounge", {alice.get(), bob.get()});
  RequestCaps(*carol, "replay");
  EXPECT_EQ(carol->Ask("/create Lounge"), "OK CREATE Lounge");
  EXPECT_EQ(carol->Next(), "MSG Lounge alice public") << "replayed without tags";
  answer = AskHistory(*carol, "/history");
  EXPECT_EQ(answer.lines, Lines{"MSG Lounge alice public"});
  EXPECT_EQ(answer.end, "OK HISTORY Lounge 1");
  EXPECT_EQ(Pending(*carol), Lines{});
}

}  // namespace
}  // namespace roomchat
