#include "chat/history/history_store.h"

#include <stdlib.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(20);

std::string FreshDir() {
  std::string dir = absl::StrCat(getenv("TEST_TMPDIR"), "/store-XXXXXX");
  EXPECT_NE(mkdtemp(dir.data()), nullptr);
  return dir;
}

StoredLine Line(absl::string_view room, uint64_t id, int64_t time_ms) {
  return StoredLine{std::string(room), std::string(room), id, time_ms, "nick",
                    absl::StrCat("line ", id)};
}

HistoryStoreOptions Options() {
  HistoryStoreOptions options;
  options.data_dir = FreshDir();
  options.max_lines_per_room = 10000;
  options.max_days = 30;
  options.queue_max_lines = 100000;
  return options;
}

// Collects ACKs (on the store thread) for the test's thread.
class Acks {
 public:
  HistoryStore::AckSink Sink() {
    return [this](uint64_t client, const StoredLine& line) {
      absl::MutexLock lock(&mu_);
      acked_.push_back(line.id);
    };
  }
  // The ids acknowledged once `count` are in (or what there is at the deadline).
  std::vector<uint64_t> WaitFor(size_t count) {
    absl::MutexLock lock(&mu_);
    auto enough = [&] { return acked_.size() >= count; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), kDeadline);
    return acked_;
  }

 private:
  absl::Mutex mu_;
  std::vector<uint64_t> acked_ ABSL_GUARDED_BY(mu_);
};

// Reads a room's page on the store thread and waits for it.
std::vector<uint64_t> IdsAfter(HistoryStore& store, absl::string_view room, uint64_t after) {
  absl::Notification done;
  std::vector<uint64_t> ids;
  store.ReadAfter(std::string(room), after, 1000, [&](absl::StatusOr<HistoryDb::Page> page) {
    EXPECT_TRUE(page.ok()) << page.status();
    if (page.ok()) {
      for (const StoredLine& line : page->lines) ids.push_back(line.id);
    }
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(kDeadline));
  return ids;
}

// The room's ids once it holds `count` lines (retention runs once a second), or what it holds at
// the deadline.
std::vector<uint64_t> WaitForLineCount(HistoryStore& store, absl::string_view room, size_t count) {
  absl::Time deadline = absl::Now() + kDeadline;
  std::vector<uint64_t> ids;
  do {
    ids = IdsAfter(store, room, 0);
    if (ids.size() == count) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  return ids;
}

TEST(HistoryStoreTest, AcksComeAfterTheCommitInOrderAndAReadSeesEverythingBeforeIt) {
  Acks acks;
  auto store = HistoryStore::Open(Options(), acks.Sink());
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Start().ok());
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  std::vector<uint64_t> sent;
  for (uint64_t id = 1; id <= 1200; ++id) {
    (*store)->Append(Line("lounge", id, now_ms), id % 2 == 0 ? 7 : 0);  // every other line acked
    if (id % 2 == 0) sent.push_back(id);
  }
  // A read queued after the appends commits them first.
  std::vector<uint64_t> stored = IdsAfter(**store, "lounge", 0);
  ASSERT_EQ(stored.size(), 1000u);  // the page's limit
  EXPECT_EQ(stored.front(), 1u);
  EXPECT_EQ(IdsAfter(**store, "lounge", 1000).size(), 200u);
  EXPECT_EQ(acks.WaitFor(sent.size()), sent);
}

TEST(HistoryStoreTest, RetentionByAgeRunsInTheBackground) {
  Acks acks;
  HistoryStoreOptions options = Options();
  options.max_days = 1;
  auto store = HistoryStore::Open(options, acks.Sink());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Start().ok());
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  const int64_t two_days_ago = now_ms - 2 * 86400 * 1000;
  for (uint64_t id = 1; id <= 10; ++id) (*store)->Append(Line("old", id, two_days_ago), 1);
  for (uint64_t id = 11; id <= 15; ++id) (*store)->Append(Line("old", id, now_ms), 1);
  ASSERT_EQ(acks.WaitFor(15).size(), 15u);
  EXPECT_EQ(WaitForLineCount(**store, "old", 5), (std::vector<uint64_t>{11, 12, 13, 14, 15}));
  absl::Notification loaded;
  (*store)->LoadRoom("old", 10, [&](absl::StatusOr<HistoryDb::RoomState> state) {
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state->last_id, 15u);
    EXPECT_EQ(state->trimmed_to, 10u) << "what retention deleted is known";
    loaded.Notify();
  });
  EXPECT_TRUE(loaded.WaitForNotificationWithTimeout(kDeadline));
}

TEST(HistoryStoreTest, PastTheQueueBoundLinesAreLeftOutNotWaitedFor) {
  Acks acks;
  HistoryStoreOptions options = Options();
  options.queue_max_lines = 1000;
  auto store = HistoryStore::Open(options, acks.Sink());
  ASSERT_TRUE(store.ok());
  (*store)->TEST_SetCommitDelay(absl::Milliseconds(200));
  ASSERT_TRUE((*store)->Start().ok());
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  // The store is busy in a slow commit while 5000 lines come: at most the bound waits (plus the
  // groups being written); the rest is left out instead of making the producer wait.
  for (uint64_t id = 1; id <= 5000; ++id) (*store)->Append(Line("busy", id, now_ms), 1);
  std::vector<uint64_t> stored = IdsAfter(**store, "busy", 0);
  EXPECT_LT(stored.size(), 5000u);
  EXPECT_GE(stored.size(), 1000u);
  for (size_t i = 1; i < stored.size(); ++i) ASSERT_LT(stored[i - 1], stored[i]);
}

TEST(HistoryStoreTest, OneRoomsBadLineDoesNotCostTheOtherRoomsTheirs) {
  Acks acks;
  auto store = HistoryStore::Open(Options(), acks.Sink());
  ASSERT_TRUE(store.ok());
  (*store)->TEST_SetCommitDelay(absl::Milliseconds(50));  // so both rooms share one group
  ASSERT_TRUE((*store)->Start().ok());
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  for (uint64_t id = 1; id <= 20; ++id) {
    (*store)->Append(Line("good", id, now_ms), 1);
    (*store)->Append(Line("bad", id == 10 ? 0 : id, now_ms), 1);  // id 0 is refused
  }
  std::vector<uint64_t> good = IdsAfter(**store, "good", 0);
  EXPECT_EQ(good.size(), 20u);
  EXPECT_EQ(acks.WaitFor(20).size() >= 20, true);
}

TEST(HistoryStoreTest, RetentionCoversRoomsOverACapLoweredSinceTheLastRun) {
  Acks acks;
  HistoryStoreOptions options = Options();
  {
    auto store = HistoryStore::Open(options, acks.Sink());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Start().ok());
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    for (uint64_t id = 1; id <= 300; ++id) (*store)->Append(Line("big", id, now_ms), 0);
    ASSERT_EQ(IdsAfter(**store, "big", 0).size(), 300u);
  }
  options.max_lines_per_room = 100;
  auto store = HistoryStore::Open(options, acks.Sink());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Start().ok());
  // No new line: the first pass over every room covers it.
  std::vector<uint64_t> left = WaitForLineCount(**store, "big", 100);
  ASSERT_EQ(left.size(), 100u);
  EXPECT_EQ(left.front(), 201u);
}

}  // namespace
}  // namespace roomchat
