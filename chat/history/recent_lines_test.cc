#include "chat/history/recent_lines.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

HistoryLine Line(uint64_t id, size_t text_bytes = 10) {
  return HistoryLine{id, static_cast<int64_t>(id), "nick", std::string(text_bytes, 't')};
}

std::vector<uint64_t> Ids(const std::vector<const HistoryLine*>& lines) {
  std::vector<uint64_t> ids;
  for (const HistoryLine* line : lines) ids.push_back(line->id);
  return ids;
}

TEST(RecentLinesTest, KeepsEverythingWhileItFitsAndSaysSo) {
  RecentLines recent(2, 1 << 20);
  for (uint64_t id : {10, 20, 30}) recent.Push(Line(id));
  EXPECT_EQ(recent.covers_after(), 0u);
  EXPECT_EQ(recent.last_id(), 30u);
  EXPECT_EQ(Ids(recent.Newest(2, 0)), (std::vector<uint64_t>{20, 30}));
  EXPECT_EQ(Ids(recent.Newest(5, 30)), (std::vector<uint64_t>{10, 20}));
  EXPECT_EQ(Ids(recent.After(10)), (std::vector<uint64_t>{20, 30}));
  EXPECT_EQ(Ids(recent.After(15)), (std::vector<uint64_t>{20, 30}));
  EXPECT_TRUE(recent.After(30).empty());
}

TEST(RecentLinesTest, EvictsOldestPastTheBytesButKeepsTheMinimum) {
  const size_t one = Line(1, 100).bytes();
  RecentLines recent(3, 5 * one);
  for (uint64_t id = 1; id <= 10; ++id) recent.Push(Line(id, 100));
  EXPECT_EQ(recent.size(), 5u);
  EXPECT_EQ(recent.covers_after(), 5u);  // every line above 5 is held
  EXPECT_EQ(Ids(recent.After(5)), (std::vector<uint64_t>{6, 7, 8, 9, 10}));
  RecentLines big_lines(3, one);  // the minimum wins over the bytes
  for (uint64_t id = 1; id <= 10; ++id) big_lines.Push(Line(id, 100));
  EXPECT_EQ(big_lines.size(), 3u);
  EXPECT_EQ(big_lines.covers_after(), 7u);
}

TEST(RecentLinesTest, LinesPastTheRetentionAreForgottenAndNoLongerCovered) {
  RecentLines recent(10, 1 << 20);  // Line(id) was said at id ms
  for (uint64_t id = 1; id <= 5; ++id) recent.Push(Line(id));
  recent.DropOlderThan(3);
  EXPECT_EQ(Ids(recent.After(0)), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(recent.covers_after(), 2u) << "what is older must be asked of the store";
  recent.DropOlderThan(100);
  EXPECT_EQ(recent.size(), 0u);
  EXPECT_EQ(recent.covers_after(), 5u);
  EXPECT_EQ(recent.last_id(), 5u) << "ids go on above the forgotten ones";
  EXPECT_EQ(RetentionMs(0), 0);
  EXPECT_EQ(RetentionMs(-1), 0);
  EXPECT_EQ(RetentionMs(2), 2 * 86400000);
}

TEST(RecentLinesTest, LoadedLinesCoverWhatTheStoreSays) {
  RecentLines recent(2, 1 << 20);
  recent.Load({Line(5), Line(9)}, /*covers_after=*/4);
  EXPECT_EQ(recent.covers_after(), 4u);
  EXPECT_EQ(recent.last_id(), 9u);
  recent.Load({Line(5), Line(9)}, 0);
  EXPECT_EQ(recent.covers_after(), 0u);
  recent.Load({}, /*covers_after=*/0);
  EXPECT_EQ(recent.last_id(), 0u);
  recent.Load({}, /*covers_after=*/7);  // retention took every line
  EXPECT_EQ(recent.covers_after(), 7u);
  EXPECT_EQ(recent.last_id(), 7u);
}

}  // namespace
}  // namespace roomchat
