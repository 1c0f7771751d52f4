// ClusterHistory's retention by age against a real redis-server: lines older than
// --history_max_days are never read back, even from a room nobody posted to since (the reads trim
// them), and a stream nobody posts to expires once its newest entry is past the retention.
#include "chat/cluster/cluster_history.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
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
constexpr size_t kManyLines = 10000;  // --history_max_lines, where the test is not about it

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
                             cluster::FormatRoomEntry(entry), "p", absl::StrCat(last_line_)})
                    .ok());
    ASSERT_TRUE(Ask(*link_, {"HSET", cluster::SeqKey(room), "last_id", absl::StrCat(id), "seq",
                             absl::StrCat(seq_), "last_line", absl::StrCat(id)})
                    .ok());
    last_line_ = id;
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
  uint64_t last_line_ = 0;  // AddOldLine's
};

TEST_F(ClusterHistoryTest, LinesPastTheRetentionAreNeverReadBackFromAnIdleRoom) {
  AddOldLine("lounge", 9, "nine days ago");
  AddOldLine("lounge", 8, "eight days ago");
  AddOldLine("lounge", 1, "yesterday");
  ClusterHistory forever(link_.get(), 0, kManyLines);
  EXPECT_EQ(Newest(forever, "lounge").first,
            (std::vector<std::string>{"nine days ago", "eight days ago", "yesterday"}));

  ClusterHistory week(link_.get(), kMaxDays, kManyLines);
  std::pair<std::vector<std::string>, uint64_t> newest = Newest(week, "lounge");
  EXPECT_EQ(newest.first, std::vector<std::string>{"yesterday"});
  EXPECT_GT(newest.second, 0u) << "the reader is told that older lines were removed";
  EXPECT_EQ(After(week, "lounge"), std::vector<std::string>{"yesterday"});
  absl::StatusOr<RedisReply> left = Ask(*link_, {"XLEN", cluster::HistoryKey("lounge")});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->integer, 1) << "trimmed from the stream, not only skipped";
}

// A key's time to live, in ms (-1: none).
int64_t Ttl(RedisLink& link, const std::string& key) {
  absl::StatusOr<RedisReply> ttl = Ask(link, {"PTTL", key});
  EXPECT_TRUE(ttl.ok());
  return ttl.ok() ? ttl->integer : 0;
}

// Posts to `room` as rc_post does for a node with history kept for good, at most `max_entries`
// per stream: `kind` MSG (a line, "<n>") or an event. Its id (0 if it failed).
uint64_t Post(RedisLink& link, const std::string& room, const std::string& kind, int n,
              size_t max_entries) {
  std::string body = kind == "MSG" ? cluster::ChatBody(1, "alice", absl::StrCat(n)) : "bob";
  cluster::PostRequest post{room, "node-a", kind, std::move(body), max_entries, 0};
  absl::StatusOr<RedisReply> reply = Ask(link, cluster::PostCommand(post));
  EXPECT_TRUE(reply.ok());
  if (!reply.ok() || reply->type != RedisReply::Type::kArray || reply->elements.empty()) {
    ADD_FAILURE() << "not posted: " << (reply.ok() ? reply->str : reply.status().ToString());
    return 0;
  }
  return static_cast<uint64_t>(reply->elements[0].integer);
}

TEST_F(ClusterHistoryTest, AStreamNobodyPostsToExpiresWithTheRetention) {
  const int64_t week_ms = int64_t{kMaxDays} * 24 * 3600 * 1000;
  const std::string lines = cluster::HistoryKey("den");
  const std::string events = cluster::EventsKey("den");
  ASSERT_TRUE(Ask(*link_, {"HSET", cluster::RoomKey("den"), "name", "Den"}).ok());  // open
  cluster::PostRequest post{"den", "node-a", "MSG", cluster::ChatBody(1, "alice", "hi"), 1000,
                            week_ms};
  ASSERT_TRUE(Ask(*link_, cluster::PostCommand(post)).ok());
  EXPECT_GT(Ttl(*link_, lines), week_ms - 60 * 1000);
  EXPECT_LE(Ttl(*link_, lines), week_ms);
  // An event (JOIN, LEAVE, ...) keeps the events' stream alive as long as a line keeps the lines:
  // the retention the room's last line gave.
  post.kind = "JOIN";
  post.body = "bob";
  post.retention_ms = cluster::kNoHistory;  // the room's retention, as the room scripts post
  ASSERT_TRUE(Ask(*link_, cluster::PostCommand(post)).ok());
  EXPECT_GT(Ttl(*link_, events), week_ms - 60 * 1000);
  // The age limit lifted: both streams stay.
  Post(*link_, "den", "MSG", 1, 1000);
  EXPECT_EQ(Ttl(*link_, lines), -1);
  Post(*link_, "den", "JOIN", 2, 1000);
  EXPECT_EQ(Ttl(*link_, events), -1);
}

// Events go to a stream of their own: however many joins, leaves and renames a room sees (members
// may make thousands within the flood limits), its lines stay within --history_max_lines and are
// read in one range; and a room whose first entries were events has lost no line.
TEST_F(ClusterHistoryTest, EventsNeitherPushLinesOutNorCountAsTrimmed) {
  constexpr size_t kMaxLines = 10;
  Post(*link_, "den", "JOIN", 0, kMaxLines);
  for (int i = 1; i <= 5; ++i) Post(*link_, "den", "MSG", i, kMaxLines);
  for (int i = 0; i < 500; ++i) Post(*link_, "den", "NICK", i, kMaxLines);
  ClusterHistory forever(link_.get(), 0, kMaxLines);
  std::pair<std::vector<std::string>, uint64_t> newest = Newest(forever, "den");
  EXPECT_EQ(newest.first, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(newest.second, 0u) << "no line was trimmed";
  absl::StatusOr<RedisReply> events = Ask(*link_, {"XLEN", cluster::EventsKey("den")});
  ASSERT_TRUE(events.ok());
  EXPECT_LT(events->integer, 250) << "the events' stream has a cap too (approximate)";

  // Lines past the cap are trimmed, and the reader is told exactly which was the last removed:
  // the line before the oldest kept (ids are microseconds: "just below the oldest kept" would
  // tell a client that had that line of a gap it does not have).
  std::vector<uint64_t> ids(401);
  for (int i = 6; i <= 400; ++i) ids[i] = Post(*link_, "den", "MSG", i, kMaxLines);
  newest = Newest(forever, "den");
  ASSERT_EQ(newest.first.size(), 10u);
  EXPECT_EQ(newest.first.back(), "400");
  // A read trims exactly to the newest kMaxLines first (rc_post's trimming is approximate).
  std::vector<std::string> from_the_start = After(forever, "den");
  ASSERT_EQ(from_the_start.size(), kMaxLines);
  EXPECT_EQ(from_the_start.front(), "391");
  EXPECT_EQ(newest.second, ids[390]);
}

// A room's stream as a build before the events' own stream wrote it: its events among its lines,
// no line's p field, no last_line in its seq hash. Its lines are still read (past the events), and what was trimmed
// is still told (by the old rule: the oldest entry is not seq 1), before and after a new line.
TEST_F(ClusterHistoryTest, AStreamAnOlderBuildWroteIsReadAsBefore) {
  for (uint64_t first_seq : {uint64_t{1}, uint64_t{50}}) {
    SCOPED_TRACE(first_seq);
    const std::string room = absl::StrCat("old", first_seq);
    const uint64_t base = static_cast<uint64_t>(absl::ToUnixMicros(absl::Now())) - 1000000;
    uint64_t seq = first_seq;
    for (int i = 0; i < 600; ++i, ++seq) {
      const bool line = i % 100 == 1;  // a line among 99 events
      cluster::RoomEntry entry{seq, base + seq, 1, "node-a", line ? "MSG" : "NICK",
                               line ? cluster::ChatBody(1, "alice", absl::StrCat(i)) : "a b"};
      ASSERT_TRUE(Ask(*link_, {"XADD", cluster::HistoryKey(room), cluster::StreamId(entry.id),
                               "e", cluster::FormatRoomEntry(entry)})
                      .ok());
    }
    ASSERT_TRUE(Ask(*link_, {"HSET", cluster::SeqKey(room), "last_id", absl::StrCat(base + seq - 1),
                             "seq", absl::StrCat(seq - 1), "retention_ms", "0"})
                    .ok());
    ClusterHistory forever(link_.get(), 0, kManyLines);
    std::pair<std::vector<std::string>, uint64_t> newest = Newest(forever, room);
    EXPECT_EQ(newest.first, (std::vector<std::string>{"1", "101", "201", "301", "401", "501"}));
    const bool trimmed = first_seq > 1;
    EXPECT_EQ(newest.second > 0, trimmed);
    Post(*link_, room, "MSG", 600, 10000);
    newest = Newest(forever, room);
    EXPECT_EQ(newest.first.back(), "600");
    EXPECT_EQ(newest.second > 0, trimmed) << "the same after a new line";
  }
}

}  // namespace
}  // namespace roomchat
