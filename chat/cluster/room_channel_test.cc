// The room entry format, and rc_post against a real redis-server: ids and seqs as designed, the
// stream and the channel in one order, two posting nodes never sharing an id.
#include "chat/cluster/room_channel.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/test_redis.h"
#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace cluster {
namespace {

using namespace testing_util;  // NOLINT: the test's own helpers

TEST(RoomEntryTest, FormatAndParseRoundTrip) {
  RoomEntry entry{7,     1764629244123456,          1764629244123, "node-a:7070",
                  "MSG", "alice hello  there, שלום"};
  absl::StatusOr<RoomEntry> parsed = ParseRoomEntry(FormatRoomEntry(entry));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->seq, 7u);
  EXPECT_EQ(parsed->id, 1764629244123456u);
  EXPECT_EQ(parsed->time_ms, 1764629244123);
  EXPECT_EQ(parsed->origin, "node-a:7070");
  EXPECT_EQ(parsed->kind, "MSG");
  EXPECT_EQ(parsed->body, "alice hello  there, שלום");

  absl::StatusOr<RoomEntry> no_body = ParseRoomEntry("1 1 2 3 n JOIN ");
  ASSERT_TRUE(no_body.ok());
  EXPECT_EQ(no_body->body, "");
}

TEST(RoomEntryTest, RefusesWhatItDoesNotKnow) {
  EXPECT_FALSE(ParseRoomEntry("2 1 2 3 n MSG a b").ok());  // another version
  EXPECT_FALSE(ParseRoomEntry("1 1 2 3 n").ok());          // too few fields
  EXPECT_FALSE(ParseRoomEntry("1 x 2 3 n MSG a b").ok());  // not a number
  EXPECT_FALSE(ParseRoomEntry("1 1 2 3  MSG a b").ok());   // empty origin
  EXPECT_FALSE(ParseRoomEntry("").ok());
}

TEST(RoomEntryTest, StreamIdsIncreaseWithIds) {
  EXPECT_EQ(StreamId(1764629244123456), "1764629244123-456");
  EXPECT_EQ(StreamId(1000), "1-0");
  EXPECT_EQ(StreamId(999), "0-999");
}

class RoomChannelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }

  // A link that posts: rc_post loaded.
  std::unique_ptr<RedisLink> StartPoster(Reports& reports) {
    RedisLinkOptions options = DefaultOptions(redis_.port());
    options.scripts = {PostScript()};
    return StartLink(redis_.port(), reports, &options);
  }

  // Posts one entry and returns {id, seq}.
  std::pair<uint64_t, uint64_t> Post(RedisLink& link, const std::string& room,
                                     const std::string& body) {
    absl::StatusOr<RedisReply> reply =
        Ask(link, PostCommand({room, "node-a", "MSG", body, 10000, 0}));
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok() || reply->type != RedisReply::Type::kArray || reply->elements.size() != 2) {
      ADD_FAILURE() << "bad rc_post reply: " << (reply.ok() ? reply->str : "");
      return {0, 0};
    }
    return {static_cast<uint64_t>(reply->elements[0].integer),
            static_cast<uint64_t>(reply->elements[1].integer)};
  }

  TestRedis redis_;
};

TEST_F(RoomChannelTest, PostSequencesStoresAndPublishesInOneOrder) {
  Reports node_reports, listener_reports;
  std::unique_ptr<RedisLink> node = StartPoster(node_reports);
  std::unique_ptr<RedisLink> listener = StartLink(redis_.port(), listener_reports);
  ASSERT_TRUE(SubscribeAndWait(*listener, RoomChannel("lounge")));
  ASSERT_TRUE(node_reports.WaitForState(RedisLink::State::kConnected));

  constexpr int kLines = 200;
  std::vector<std::pair<uint64_t, uint64_t>> posted;
  for (int i = 0; i < kLines; ++i) posted.push_back(Post(*node, "lounge", absl::StrCat("a ", i)));
  for (int i = 0; i < kLines; ++i) {
    EXPECT_EQ(posted[i].second, static_cast<uint64_t>(i + 1));
    if (i > 0) {
      EXPECT_GT(posted[i].first, posted[i - 1].first);
    }
  }

  // The listener's subscription was confirmed before the first post: it has every entry.
  std::vector<std::string> got = listener_reports.WaitForCount(kLines);
  ASSERT_EQ(got.size(), static_cast<size_t>(kLines));
  const std::string prefix = absl::StrCat(RoomChannel("lounge"), " ");
  for (int i = 0; i < kLines; ++i) {
    absl::StatusOr<RoomEntry> entry = ParseRoomEntry(got[i].substr(prefix.size()));
    ASSERT_TRUE(entry.ok()) << entry.status();
    EXPECT_EQ(entry->seq, posted[i].second);
    EXPECT_EQ(entry->id, posted[i].first);
    EXPECT_EQ(entry->body, absl::StrCat("a ", i));
  }

  // The stream holds the same entries under their ids.
  absl::StatusOr<RedisReply> range = Ask(*node, {"XRANGE", HistoryKey("lounge"), "-", "+"});
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->elements.size(), static_cast<size_t>(kLines));
  for (int i = 0; i < kLines; ++i) {
    ASSERT_EQ(range->elements[i].elements.size(), 2u);
    EXPECT_EQ(range->elements[i].elements[0].str, StreamId(posted[i].first));
    EXPECT_EQ(range->elements[i].elements[1].elements[1].str, got[i].substr(prefix.size()));
  }
}

TEST_F(RoomChannelTest, IdsNear2To53AreExactAndStreamIdsSplitThem) {
  Reports reports;
  std::unique_ptr<RedisLink> node = StartPoster(reports);
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kConnected));
  // Where id / 1000 no longer has room for the remainder in a double's mantissa.
  const uint64_t last = 9007199254739998ull;  // 2^53 - 1 - 993
  ASSERT_TRUE(Ask(*node, {"HSET", SeqKey("den"), "last_id", absl::StrCat(last)}).ok());
  std::pair<uint64_t, uint64_t> first = Post(*node, "den", "x");
  EXPECT_EQ(first.first, last + 1);
  EXPECT_EQ(first.second, 1u);
  std::pair<uint64_t, uint64_t> second = Post(*node, "den", "y");
  EXPECT_EQ(second.first, last + 2);
  absl::StatusOr<RedisReply> range = Ask(*node, {"XRANGE", HistoryKey("den"), "-", "+"});
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->elements.size(), 2u);
  EXPECT_EQ(range->elements[0].elements[0].str, StreamId(last + 1));
  EXPECT_EQ(range->elements[1].elements[0].str, StreamId(last + 2));
  EXPECT_EQ(StreamId(last + 1), "9007199254739-999");
  EXPECT_EQ(StreamId(last + 2), "9007199254740-0");
}

TEST_F(RoomChannelTest, TwoNodesPostingAtOnceNeverShareAnIdAndKeepTheirOwnOrder) {
  Reports a_reports, b_reports;
  std::unique_ptr<RedisLink> a = StartPoster(a_reports);
  std::unique_ptr<RedisLink> b = StartPoster(b_reports);
  ASSERT_TRUE(a_reports.WaitForState(RedisLink::State::kConnected));
  ASSERT_TRUE(b_reports.WaitForState(RedisLink::State::kConnected));

  constexpr int kEach = 2000;
  absl::Mutex mu;
  std::vector<std::pair<uint64_t, uint64_t>> from_a, from_b;  // in each node's send order
  int failures = 0;
  auto post = [&](RedisLink& link, std::vector<std::pair<uint64_t, uint64_t>>& into, int i) {
    link.Command(PostCommand({"busy", "n", "MSG", absl::StrCat("x ", i), 100000, 0}),
                 [&](absl::StatusOr<RedisReply> reply) {
                   absl::MutexLock lock(&mu);
                   if (!reply.ok() || reply->elements.size() != 2) {
                     ++failures;
                     return;
                   }
                   into.emplace_back(reply->elements[0].integer, reply->elements[1].integer);
                 });
  };
  for (int i = 0; i < kEach; ++i) {
    post(*a, from_a, i);
    post(*b, from_b, i);
  }
  absl::MutexLock lock(&mu);
  auto all = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return from_a.size() + from_b.size() + failures == 2u * kEach;
  };
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all), kDeadline));
  ASSERT_EQ(failures, 0);
  std::vector<bool> seq_seen(2 * kEach + 1, false);
  std::vector<uint64_t> ids;
  for (auto* from : {&from_a, &from_b}) {
    for (size_t i = 0; i < from->size(); ++i) {
      const auto [id, seq] = (*from)[i];
      ASSERT_GE(seq, 1u);
      ASSERT_LE(seq, 2u * kEach);
      EXPECT_FALSE(seq_seen[seq]) << "seq " << seq << " twice";
      seq_seen[seq] = true;
      ids.push_back(id);
      if (i > 0) {  // one node's lines: in the order it sent them
        EXPECT_GT(seq, (*from)[i - 1].second);
        EXPECT_GT(id, (*from)[i - 1].first);
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "an id given twice";
}

// A poster named: only a member Redis has in the room, on the posting node, says anything there.
TEST_F(RoomChannelTest, APosterRedisHasOutOfTheRoomIsRefused) {
  Reports reports;
  std::unique_ptr<RedisLink> node = StartPoster(reports);
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kConnected));
  ASSERT_TRUE(Ask(*node, {"SET", RoomKey("lounge"), "x"}).ok());
  ASSERT_TRUE(Ask(*node, {"HSET", RoomKey("lounge") + ":members", "tom", "node-a 1 tom",
                          "eve", "node-b 1 eve"})
                  .ok());
  auto post_as = [&](const std::string& poster) {
    PostRequest request{"lounge", "node-a", "MSG", "1 x hi", 10000, 0};
    request.poster_key = poster;
    return Ask(*node, PostCommand(request));
  };
  absl::StatusOr<RedisReply> member = post_as("tom");
  ASSERT_TRUE(member.ok());
  EXPECT_EQ(member->type, RedisReply::Type::kArray) << member->str;
  for (const char* outsider : {"bob", "eve"}) {  // not a member; another node's
    absl::StatusOr<RedisReply> refused = post_as(outsider);
    ASSERT_TRUE(refused.ok());
    std::optional<absl::Status> refusal = PostRefusal(*refused);
    ASSERT_TRUE(refusal.has_value()) << refused->str;
    EXPECT_EQ(ErrLine(*refusal), "ERR not-in-room the room no longer had you when this line reached it\n") << outsider;
    EXPECT_EQ(RefusedAtSeq(*refusal), 1u) << "the room's seq then: tom's line";
  }
  EXPECT_EQ(PostRefusal(*member), std::nullopt);
  absl::StatusOr<RedisReply> stream = Ask(*node, {"XLEN", HistoryKey("lounge")});
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->integer, 1) << "only tom's line";
}

}  // namespace
}  // namespace cluster
}  // namespace roomchat
