#include "chat/history/history_db.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

StoredLine Line(const std::string& room, uint64_t id, int64_t time_ms = 0,
                const std::string& text = "") {
  StoredLine line;
  line.room_key = absl::AsciiStrToLower(room);
  line.room = room;
  line.id = id;
  line.time_ms = time_ms == 0 ? 1'700'000'000'000 + static_cast<int64_t>(id) : time_ms;
  line.nick = "nick" + std::to_string(id % 7);
  line.text = text.empty() ? "line " + std::to_string(id) : text;
  return line;
}

// Lines first_id..last_id of `room`, one a millisecond.
std::vector<StoredLine> Lines(const std::string& room, uint64_t first_id, uint64_t last_id) {
  std::vector<StoredLine> lines;
  for (uint64_t id = first_id; id <= last_id; ++id) lines.push_back(Line(room, id));
  return lines;
}

std::vector<uint64_t> Ids(const std::vector<StoredLine>& lines) {
  std::vector<uint64_t> ids;
  for (const StoredLine& line : lines) ids.push_back(line.id);
  return ids;
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> ids;
  for (uint64_t id = first; id <= last; ++id) ids.push_back(id);
  return ids;
}

class HistoryDbTest : public ::testing::Test {
 protected:
  HistoryDbTest() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    dir_ = root_ + "/history";
  }

  std::string file() const { return dir_ + "/" + HistoryDb::kFileName; }

  std::unique_ptr<HistoryDb> OpenDb(HistorySync sync = HistorySync::kNormal) {
    absl::StatusOr<std::unique_ptr<HistoryDb>> db = HistoryDb::Open(dir_, sync);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  // Runs `sql` on the file through a connection of its own, as an operator's sqlite3 would;
  // returns the first column of the first row.
  std::string Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(file().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    std::string first;
    char* error = nullptr;
    auto keep_first = [](void* out, int columns, char** values, char**) {
      auto* first = static_cast<std::string*>(out);
      if (first->empty() && columns > 0 && values[0] != nullptr) *first = values[0];
      return 0;
    };
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), keep_first, &first, &error), SQLITE_OK) << error;
    sqlite3_free(error);
    sqlite3_close(db);
    return first;
  }

  std::string root_;
  std::string dir_;
};

TEST_F(HistoryDbTest, OpenCreatesTheDirectoryAndTheFile) {
  dir_ = root_ + "/a/b/history";
  ASSERT_NE(OpenDb(), nullptr);
  struct stat info;
  ASSERT_EQ(stat(dir_.c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(file().c_str(), &info), 0);
  EXPECT_TRUE(S_ISREG(info.st_mode));
}

TEST_F(HistoryDbTest, UsesWalAndRecordsTheSchemaVersion) {
  auto db = OpenDb();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Sql("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(Sql("SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  EXPECT_EQ(Sql("SELECT count(*) FROM sqlite_master WHERE name IN "
                "('meta', 'rooms', 'lines', 'lines_by_time')"),
            "4");
}

TEST_F(HistoryDbTest, ReopenKeepsTheLines) {
  ASSERT_TRUE(OpenDb()->Append(Lines("Room", 1, 3)).ok());
  auto db = OpenDb(HistorySync::kFull);
  ASSERT_NE(db, nullptr);
  absl::StatusOr<HistoryDb::RoomState> state = db->LoadRoom("room", 10);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->last_id, 3u);
  EXPECT_EQ(Ids(state->recent), Range(1, 3));
  EXPECT_EQ(Sql("SELECT value FROM meta WHERE key = 'schema_version'"), "1");
}

TEST_F(HistoryDbTest, LoadRoomGivesLastIdAndTheNewestLinesOldestFirst) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Append(Lines("Room", 1, 5)).ok());
  absl::StatusOr<HistoryDb::RoomState> state = db->LoadRoom("room", 3);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->last_id, 5u);
  EXPECT_EQ(Ids(state->recent), Range(3, 5));
  const StoredLine& line = state->recent[0];
  EXPECT_EQ(line.room_key, "room");
  EXPECT_EQ(line.room, "Room");
  EXPECT_EQ(line.time_ms, Line("Room", 3).time_ms);
  EXPECT_EQ(line.nick, "nick3");
  EXPECT_EQ(line.text, "line 3");

  EXPECT_EQ(Ids(db->LoadRoom("room", 100)->recent), Range(1, 5));
  EXPECT_TRUE(db->LoadRoom("room", 0)->recent.empty());
  EXPECT_EQ(db->LoadRoom("room", 0)->last_id, 5u);
  EXPECT_EQ(db->LoadRoom("nowhere", 10)->last_id, 0u);
  EXPECT_TRUE(db->LoadRoom("nowhere", 10)->recent.empty());
}

TEST_F(HistoryDbTest, AppendNeverLowersLastId) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Append({Line("Room", 10)}).ok());
  ASSERT_TRUE(db->Append({Line("ROOM", 4)}).ok());  // an older line, another spelling
  absl::StatusOr<HistoryDb::RoomState> state = db->LoadRoom("room", 10);
  EXPECT_EQ(state->last_id, 10u);
  EXPECT_EQ(Ids(state->recent), (std::vector<uint64_t>{4, 10}));
  EXPECT_EQ(state->recent[0].room, "Room") << "the name of the highest id";
}

TEST_F(HistoryDbTest, RoomsAreSeparateAndKeyedByKey) {
  auto db = OpenDb();
  std::vector<StoredLine> batch = Lines("General", 1, 4);
  for (const StoredLine& line : Lines("Random", 1, 2)) batch.push_back(line);
  ASSERT_TRUE(db->Append(batch).ok());
  absl::StatusOr<HistoryDb::RoomState> general = db->LoadRoom("general", 10);
  EXPECT_EQ(general->last_id, 4u);
  EXPECT_EQ(Ids(general->recent), Range(1, 4));
  EXPECT_EQ(general->recent[0].room, "General");
  absl::StatusOr<HistoryDb::RoomState> random = db->LoadRoom("random", 10);
  EXPECT_EQ(random->last_id, 2u);
  EXPECT_EQ(random->recent[1].room, "Random");
  // The db compares keys as given: folding case is the server's job.
  EXPECT_EQ(db->LoadRoom("General", 10)->last_id, 0u);
  EXPECT_EQ(*db->FirstId("General"), 0u);
}

TEST_F(HistoryDbTest, PagesThroughAThousandLinesBothWays) {
  auto db = OpenDb();
  for (uint64_t first = 1; first <= 1000; first += 100) {
    ASSERT_TRUE(db->Append(Lines("Room", first, first + 99)).ok());
  }
  std::vector<uint64_t> backwards;  // pages newest first, each oldest first
  for (uint64_t before = 0;;) {
    absl::StatusOr<std::vector<StoredLine>> page = db->Before("room", before, 37);
    ASSERT_TRUE(page.ok()) << page.status();
    if (page->empty()) break;
    ASSERT_LE(page->size(), 37u);
    for (auto line = page->rbegin(); line != page->rend(); ++line) backwards.push_back(line->id);
    for (size_t i = 1; i < page->size(); ++i) ASSERT_LT((*page)[i - 1].id, (*page)[i].id);
    before = page->front().id;
  }
  std::vector<uint64_t> expected_backwards = Range(1, 1000);
  std::reverse(expected_backwards.begin(), expected_backwards.end());
  EXPECT_EQ(backwards, expected_backwards);

  std::vector<uint64_t> forwards;
  for (uint64_t after = 0;;) {
    absl::StatusOr<std::vector<StoredLine>> page = db->After("room", after, 37);
    ASSERT_TRUE(page.ok()) << page.status();
    if (page->empty()) break;
    for (const StoredLine& line : *page) forwards.push_back(line.id);
    after = page->back().id;
  }
  EXPECT_EQ(forwards, Range(1, 1000));

  EXPECT_EQ(Ids(*db->Before("room", 500, 3)), Range(497, 499));
  EXPECT_EQ(Ids(*db->After("room", 500, 3)), Range(501, 503));
  EXPECT_TRUE(db->Before("room", 1, 10)->empty());
  EXPECT_TRUE(db->After("room", 1000, 10)->empty());
  EXPECT_TRUE(db->Before("room", 0, 0)->empty());
  EXPECT_TRUE(db->After("nowhere", 0, 10)->empty());
}

TEST_F(HistoryDbTest, FirstIdIsTheOldestRetained) {
  auto db = OpenDb();
  EXPECT_EQ(*db->FirstId("room"), 0u);
  ASSERT_TRUE(db->Append(Lines("Room", 3, 12)).ok());
  EXPECT_EQ(*db->FirstId("room"), 3u);
  ASSERT_EQ(*db->Trim(4, 0, 100), 6u);
  EXPECT_EQ(*db->FirstId("room"), 9u);
}

TEST_F(HistoryDbTest, TrimKeepsTheNewestLinesOfEachRoom) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Append(Lines("Busy", 1, 50)).ok());
  ASSERT_TRUE(db->Append(Lines("Quiet", 1, 5)).ok());
  absl::StatusOr<size_t> deleted = db->Trim(10, 0, 1000);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 40u);
  EXPECT_EQ(Ids(db->LoadRoom("busy", 100)->recent), Range(41, 50));
  EXPECT_EQ(db->LoadRoom("busy", 100)->last_id, 50u);
  EXPECT_EQ(Ids(db->LoadRoom("quiet", 100)->recent), Range(1, 5));
  EXPECT_EQ(*db->Trim(10, 0, 1000), 0u);
  EXPECT_EQ(*db->Trim(std::numeric_limits<size_t>::max(), 0, 1000), 0u);
}

TEST_F(HistoryDbTest, TrimDeletesLinesOlderThanTheAgeInEveryRoom) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Append({Line("A", 1, 1000), Line("A", 2, 2000), Line("A", 3, 3000)}).ok());
  ASSERT_TRUE(db->Append({Line("B", 1, 1500), Line("B", 2, 2500)}).ok());
  EXPECT_EQ(*db->Trim(100, 2000, 1000), 2u);  // A 1 (1000) and B 1 (1500); A 2 is not older
  EXPECT_EQ(Ids(db->LoadRoom("a", 10)->recent), Range(2, 3));
  EXPECT_EQ(Ids(db->LoadRoom("b", 10)->recent), Range(2, 2));
}

TEST_F(HistoryDbTest, LastIdSurvivesATrimOfEveryLine) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Append(Lines("Room", 1, 20)).ok());
  EXPECT_EQ(*db->Trim(0, 0, 1000), 20u);  // keep none
  absl::StatusOr<HistoryDb::RoomState> state = db->LoadRoom("room", 10);
  EXPECT_EQ(state->last_id, 20u);
  EXPECT_TRUE(state->recent.empty());
  EXPECT_EQ(*db->FirstId("room"), 0u);
  ASSERT_TRUE(db->Append(Lines("Room", 21, 22)).ok());
  EXPECT_EQ(*db->Trim(100, std::numeric_limits<int64_t>::max(), 1000), 2u);  // by age
  EXPECT_EQ(db->LoadRoom("room", 10)->last_id, 22u);
}

TEST_F(HistoryDbTest, MaxDeletedBoundsOneTrimAndRepeatedTrimsFinish) {
  auto db = OpenDb();
  for (const char* room : {"A", "B", "C"}) ASSERT_TRUE(db->Append(Lines(room, 1, 100)).ok());
  // Every line older than B's 51st goes by age, then all rooms down to 10 lines.
  int64_t min_time_ms = Line("B", 51).time_ms;
  size_t total = 0;
  int calls = 0;
  for (;;) {
    absl::StatusOr<size_t> deleted = db->Trim(10, min_time_ms, 25);
    ASSERT_TRUE(deleted.ok()) << deleted.status();
    ASSERT_LE(*deleted, 25u);
    total += *deleted;
    if (*deleted < 25) break;
    ASSERT_LT(++calls, 100);
  }
  EXPECT_EQ(total, 270u);
  EXPECT_EQ(*db->Trim(10, min_time_ms, 25), 0u);
  for (const char* key : {"a", "b", "c"}) {
    absl::StatusOr<HistoryDb::RoomState> state = db->LoadRoom(key, 100);
    EXPECT_EQ(Ids(state->recent), Range(91, 100)) << key;
    EXPECT_EQ(state->last_id, 100u) << key;
  }
}

TEST_F(HistoryDbTest, AppendOfNothingIsOk) {
  auto db = OpenDb();
  EXPECT_TRUE(db->Append({}).ok());
  EXPECT_EQ(Sql("SELECT count(*) FROM rooms"), "0");
}

TEST_F(HistoryDbTest, ADuplicateLineFailsTheWholeBatch) {
  auto db = OpenDb();
  ASSERT_TRUE(db->Append(Lines("Room", 1, 3)).ok());
  absl::Status stored_before = db->Append({Line("Other", 1), Line("Room", 4), Line("Room", 3)});
  EXPECT_EQ(stored_before.code(), absl::StatusCode::kAlreadyExists) << stored_before;
  EXPECT_NE(stored_before.message().find(file()), absl::string_view::npos) << stored_before;
  absl::Status twice = db->Append({Line("Room", 5), Line("Room", 5)});
  EXPECT_EQ(twice.code(), absl::StatusCode::kAlreadyExists) << twice;

  EXPECT_EQ(db->LoadRoom("room", 10)->last_id, 3u);
  EXPECT_EQ(Ids(db->LoadRoom("room", 10)->recent), Range(1, 3));
  EXPECT_EQ(db->LoadRoom("other", 10)->last_id, 0u);
  EXPECT_TRUE(db->Append(Lines("Room", 4, 5)).ok()) << "the db is usable after a failed batch";
  EXPECT_EQ(db->LoadRoom("room", 10)->last_id, 5u);
}

TEST_F(HistoryDbTest, AppendRefusesIdsOutOfRange) {
  auto db = OpenDb();
  EXPECT_EQ(db->Append({Line("Room", 1), Line("Room", 0)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(db->Append({Line("Room", uint64_t{1} << 53)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(db->Append({Line("Room", (uint64_t{1} << 53) - 1)}).ok());
  EXPECT_EQ(db->LoadRoom("room", 10)->last_id, (uint64_t{1} << 53) - 1);
}

TEST_F(HistoryDbTest, TextWithQuotesUnicodeAndPercentRoundTrips) {
  auto db = OpenDb();
  const std::vector<std::string> texts = {"it's \"quoted\"",      "'); DROP TABLE lines; --",
                                          "héllo 世界 🎉",         "100% %s %d %n %%",
                                          "tab\tand \\backslash", "?1 ?2 :name @x $y"};
  std::vector<StoredLine> batch;
  for (size_t i = 0; i < texts.size(); ++i) batch.push_back(Line("Café", i + 1, 0, texts[i]));
  batch.back().nick = "nïck'%";
  ASSERT_TRUE(db->Append(batch).ok());
  absl::StatusOr<HistoryDb::RoomState> state = db->LoadRoom("café", 100);
  ASSERT_EQ(state->recent.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(state->recent[i].text, texts[i]);
  EXPECT_EQ(state->recent.back().nick, "nïck'%");
  EXPECT_EQ(state->recent[0].room, "Café");
}

TEST_F(HistoryDbTest, OpenOnAFileFailsClearly) {
  ASSERT_EQ(mkdir(root_.c_str(), 0700), 0);
  std::ofstream(dir_) << "not a directory";
  absl::StatusOr<std::unique_ptr<HistoryDb>> db = HistoryDb::Open(dir_, HistorySync::kNormal);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kFailedPrecondition) << db.status();
  EXPECT_NE(db.status().message().find(dir_), absl::string_view::npos) << db.status();
  EXPECT_NE(db.status().message().find("not a directory"), absl::string_view::npos);

  db = HistoryDb::Open(dir_ + "/below", HistorySync::kNormal);
  EXPECT_FALSE(db.ok());
}

TEST_F(HistoryDbTest, OpenOnAFileThatIsNotADatabaseFails) {
  ASSERT_EQ(mkdir(root_.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  std::ofstream(file()) << std::string(4096, 'x');
  absl::StatusOr<std::unique_ptr<HistoryDb>> db = HistoryDb::Open(dir_, HistorySync::kNormal);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kDataLoss) << db.status();
  EXPECT_NE(db.status().message().find(file()), absl::string_view::npos) << db.status();
}

TEST_F(HistoryDbTest, RefusesAFileOfANewerSchemaVersion) {
  ASSERT_TRUE(OpenDb()->Append(Lines("Room", 1, 2)).ok());
  Sql("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  absl::StatusOr<std::unique_ptr<HistoryDb>> db = HistoryDb::Open(dir_, HistorySync::kNormal);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kFailedPrecondition) << db.status();
  EXPECT_NE(db.status().message().find("version 2"), absl::string_view::npos) << db.status();
  EXPECT_EQ(Sql("SELECT value FROM meta WHERE key = 'schema_version'"), "2") << "left as it was";
  EXPECT_EQ(Sql("SELECT count(*) FROM lines"), "2");
}

// Not a benchmark (those live in bench/): the log shows what one store-thread commit of a full
// batch costs on this machine, with the fsyncs of HistorySync::kFull.
TEST_F(HistoryDbTest, AppendsABatchOf500LinesInOneCommit) {
  auto db = OpenDb(HistorySync::kFull);
  std::vector<StoredLine> batch;
  for (int room = 0; room < 10; ++room) {
    for (const StoredLine& line : Lines(absl::StrCat("Room", room), 1, 50)) batch.push_back(line);
  }
  for (StoredLine& line : batch) line.text = std::string(120, 'x');
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(db->Append(batch).ok());
  auto elapsed = std::chrono::steady_clock::now() - start;
  std::printf("Append of 500 lines in 10 rooms, synchronous=FULL: %.2f ms\n",
              std::chrono::duration<double, std::milli>(elapsed).count());
  EXPECT_EQ(Sql("SELECT count(*) FROM lines"), "500");
}

TEST(HistoryDbLockTest, ASecondOpenOfTheSameFolderIsRefusedUntilTheFirstCloses) {
  std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/locked");
  absl::StatusOr<std::unique_ptr<HistoryDb>> first = HistoryDb::Open(dir, HistorySync::kNormal);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<HistoryDb>> second = HistoryDb::Open(dir, HistorySync::kNormal);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), "in use by another roomchat server"))
      << second.status();
  first->reset();
  EXPECT_TRUE(HistoryDb::Open(dir, HistorySync::kNormal).ok());
}

}  // namespace
}  // namespace roomchat
