#include "chat/history/recent_lines.h"

#include <algorithm>
#include <utility>

namespace roomchat {

void RecentLines::Load(std::vector<HistoryLine> lines, uint64_t covers_after) {
  lines_.clear();
  bytes_ = 0;
  covers_after_ = covers_after;
  for (HistoryLine& line : lines) {
    bytes_ += line.bytes();
    lines_.push_back(std::move(line));
  }
  Evict();
}

void RecentLines::Push(HistoryLine line) {
  bytes_ += line.bytes();
  lines_.push_back(std::move(line));
  Evict();
}

int64_t RetentionMs(int max_days) { return int64_t{std::max(max_days, 0)} * 24 * 3600 * 1000; }

void RecentLines::DropOlderThan(int64_t oldest_ms) {
  while (!lines_.empty() && lines_.front().time_ms < oldest_ms) {
    bytes_ -= lines_.front().bytes();
    covers_after_ = lines_.front().id;
    lines_.pop_front();
  }
}

void RecentLines::Evict() {
  while (lines_.size() > min_lines_ && bytes_ > max_bytes_) {
    bytes_ -= lines_.front().bytes();
    covers_after_ = lines_.front().id;
    lines_.pop_front();
  }
}

std::vector<const HistoryLine*> RecentLines::Newest(size_t count, uint64_t before_id) const {
  auto end = before_id == 0 ? lines_.end()
                            : std::lower_bound(lines_.begin(), lines_.end(), before_id,
                                               [](const HistoryLine& line, uint64_t id) {
                                                 return line.id < id;
                                               });
  size_t available = static_cast<size_t>(end - lines_.begin());
  std::vector<const HistoryLine*> out;
  for (auto it = end - static_cast<std::ptrdiff_t>(std::min(count, available)); it != end; ++it) {
    out.push_back(&*it);
  }
  return out;
}

std::vector<const HistoryLine*> RecentLines::After(uint64_t after_id) const {
  auto begin = std::upper_bound(
      lines_.begin(), lines_.end(), after_id,
      [](uint64_t id, const HistoryLine& line) { return id < line.id; });
  std::vector<const HistoryLine*> out;
  for (auto it = begin; it != lines_.end(); ++it) out.push_back(&*it);
  return out;
}

}  // namespace roomchat
