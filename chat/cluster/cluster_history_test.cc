// ClusterHistory's retention by age against a real redis-server: lines older than
// --history_max_days are never read back, even from a room nobody posted to since (the reads trim
// them), and a stream nobody posts to expires once its newest entry is past the retention.
#include "chat/cluster/cluster_history.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/test_redis.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

using namespace testing_util;  // NOLINT: the test's own helpers

constexpr int kMaxDays = 7;

class ClusterHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    RedisLinkOptions options = DefaultOptions(redis_.port());
    options.scripts = ClusterHistory::Scripts();
    options.scripts.push_back(cluster::PostScript());
    link_ = StartLink(redis_.port(), reports_, &options);
    ASSERT_TRUE(reports_.WaitForState(RedisLink::State::kConnected));
  }

  // Appends a chat line as rc_post would have `days_ago` days ago (its id from then).
  void AddOldLine(const std::string& room, double days_ago, const std::string& text) {
    const int64_t ms = absl::ToUnixMillis(absl::Now() - absl::Hours(24) * days_ago);
    const uint64_t id = static_cast<uint64_t>(ms) * 1000;
    cluster::RoomEntry entry{++seq_, id, ms, "node-a", "MSG", cluster::ChatBody(1, "alice", text)};
    ASSERT_TRUE(Ask(*link_, {"XADD", cluster::HistoryKey(room), cluster::StreamId(id), "e",
                             cluster::FormatRoomEntry(entry)})
                    .ok());
    ASSERT_TRUE(Ask(*link_, {"HSET", cluster::SeqKey(room), "last_id", absl::StrCat(id), "seq",
                             absl::StrCat(seq_)})
                    .ok());
  }

  // The texts of the room's newest lines as `history` reads them, and what it says was trimmed.
  std::pair<std::vector<std::string>, uint64_t> Newest(ClusterHistory& history,
                                                       const std::string& room) {
    absl::Notification done;
    absl::StatusOr<HistoryDb::RoomState> state;
    history.LoadRoom(room, 10, [&](absl::StatusOr<HistoryDb::RoomState> loaded) {
      state = std::move(loaded);
      done.Notify();
    });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(kDeadline));
    EXPECT_TRUE(state.ok()) << state.status();
    if (!state.ok()) return {};
    std::vector<std::string> texts;
    for (const StoredLine& line : state->recent) texts.push_back(line.text);
    return {texts, state->trimmed_to};
  }

  std::vector<std::string> After(ClusterHistory& history, const std::string& room) {
    absl::Notification done;
    absl::StatusOr<HistoryDb::Page> page;
    history.ReadAfter(room, 0, 10, [&](absl::StatusOr<HistoryDb::Page> read) {
      page = std::move(read);
      done.Notify();
    });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(kDeadline));
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> texts;
    if (page.ok()) {
      for (const StoredLine& line : page->lines) texts.push_back(line.text);
    }
    return texts;
  }

  TestRedis redis_;
  Reports reports_;
  std::unique_ptr<RedisLink> link_;
  uint64_t seq_ = 0;
};

TEST_F(ClusterHistoryTest, LinesPastTheRetentionAreNeverReadBackFromAnIdleRoom) {
  AddOldLine("lounge", 9, "nine days ago");
  AddOldLine("lounge", 8, "eight days ago");
  AddOldLine("lounge", 1, "yesterday");
  ClusterHistory forever(link_.get(), 0);
  EXPECT_EQ(Newest(forever, "lounge").first,
            (std::vector<std::string>{"nine days ago", "eight days ago", "yesterday"}));

  ClusterHistory week(link_.get(), kMaxDays);
  std::pair<std::vector<std::string>, uint64_t> newest = Newest(week, "lounge");
  EXPECT_EQ(newest.first, std::vector<std::string>{"yesterday"});
  EXPECT_GT(newest.second, 0u) << "the reader is told that older lines were removed";
  EXPECT_EQ(After(week, "lounge"), std::vector<std::string>{"yesterday"});
  absl::StatusOr<RedisReply> left = Ask(*link_, {"XLEN", cluster::HistoryKey("lounge")});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->integer, 1) << "trimmed from the stream, not only skipped";
}

// The stream's time to live, in ms (-1: none).
int64_t Ttl(RedisLink& link, const std::string& room) {
  absl::StatusOr<RedisReply> ttl = Ask(link, {"PTTL", cluster::HistoryKey(room)});
  EXPECT_TRUE(ttl.ok());
  return ttl.ok() ? ttl->integer : 0;
}

// An event as the room scripts post it: post() with the retention left to the room's seq hash.
absl::StatusOr<RedisReply> PostEvent(RedisLink& link, const std::string& room) {
  return Ask(link, {"EVAL",
                    absl::StrCat(cluster::kPostFunction,
                                 "return post(KEYS[1], KEYS[2], ARGV[1], 1000, '', 'node-a', "
                                 "'JOIN', 'bob')"),
                    "2", cluster::SeqKey(room), cluster::HistoryKey(room),
                    cluster::RoomChannel(room)});
}

TEST_F(ClusterHistoryTest, AStreamNobodyPostsToExpiresWithTheRetention) {
  const int64_t week_ms = int64_t{kMaxDays} * 24 * 3600 * 1000;
  cluster::PostRequest post{"den", "node-a", "MSG", cluster::ChatBody(1, "alice", "hi"), 1000,
                            week_ms};
  ASSERT_TRUE(Ask(*link_, cluster::PostCommand(post)).ok());
  EXPECT_GT(Ttl(*link_, "den"), week_ms - 60 * 1000);
  EXPECT_LE(Ttl(*link_, "den"), week_ms);
  // An event (JOIN, LEAVE, ...) keeps the stream alive as long as a line would: the retention the
  // room's last line gave, even on a stream it creates again.
  ASSERT_TRUE(Ask(*link_, {"PERSIST", cluster::HistoryKey("den")}).ok());
  ASSERT_TRUE(PostEvent(*link_, "den").ok());
  EXPECT_GT(Ttl(*link_, "den"), week_ms - 60 * 1000);
  // The age limit lifted: the stream stays.
  post.retention_ms = 0;
  ASSERT_TRUE(Ask(*link_, cluster::PostCommand(post)).ok());
  EXPECT_EQ(Ttl(*link_, "den"), -1);
  ASSERT_TRUE(PostEvent(*link_, "den").ok());
  EXPECT_EQ(Ttl(*link_, "den"), -1);
}

}  // namespace
}  // namespace roomchat
