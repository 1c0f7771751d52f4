// RecentLines: a room's newest chat lines, kept in memory by the room thread so that the replay on
// join, a short /history and most reconnects (/join since=ID) are answered without the store.
//
// It keeps at least `min_lines` lines (what a join replays) and, beyond that, as many more as fit in
// `max_bytes`. It knows how far back it is complete: every line with an id above covers_after() is
// held, so a request that starts there needs no store.
//
// Thread contract: not thread-safe; owned by one room thread.
#ifndef ROOMCHAT_CHAT_HISTORY_RECENT_LINES_H_
#define ROOMCHAT_CHAT_HISTORY_RECENT_LINES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace roomchat {

// --history_max_days in milliseconds (0 and below: no limit by age, 0).
int64_t RetentionMs(int max_days);

// One chat line of a room, as history keeps it.
struct HistoryLine {
  uint64_t id = 0;
  int64_t time_ms = 0;  // Unix time, UTC
  std::string nick;
  std::string text;

  size_t bytes() const { return nick.size() + text.size() + sizeof(HistoryLine); }
};

class RecentLines {
 public:
  RecentLines(size_t min_lines, size_t max_bytes) : min_lines_(min_lines), max_bytes_(max_bytes) {}

  // What the store holds, newest last; every line above `covers_after` is among them.
  void Load(std::vector<HistoryLine> lines, uint64_t covers_after);
  // A new line, its id above every held one.
  void Push(HistoryLine line);
  // Forgets the lines said before `oldest_ms` (Unix ms): retention by age has deleted them from
  // the store, and nothing may replay them from memory either (--history_max_days).
  void DropOlderThan(int64_t oldest_ms);

  // Every line with an id above this is held (0: every line there is).
  uint64_t covers_after() const { return covers_after_; }
  // The newest id held or loaded (0: none).
  uint64_t last_id() const { return lines_.empty() ? covers_after_ : lines_.back().id; }
  size_t size() const { return lines_.size(); }

  // The newest `count` lines with an id below `before_id` (0: no bound), oldest first. Complete
  // only when covers_after() is below the first line returned or nothing older exists.
  std::vector<const HistoryLine*> Newest(size_t count, uint64_t before_id) const;
  // Every held line with an id above `after_id`, oldest first.
  std::vector<const HistoryLine*> After(uint64_t after_id) const;

 private:
  void Evict();

  const size_t min_lines_;
  const size_t max_bytes_;
  std::deque<HistoryLine> lines_;
  size_t bytes_ = 0;
  uint64_t covers_after_ = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_HISTORY_RECENT_LINES_H_
