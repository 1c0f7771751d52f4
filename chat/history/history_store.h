// HistoryStore: the store thread. It owns the history database (HistoryDb) and runs an EventLoop
// like every other thread of the server. Room threads hand it chat lines through a mutex-guarded
// queue and never wait on disk: Append() is a push under a lock held for nothing else. The thread
// commits in groups: when commit_window has passed since the first queued line, or commit_lines are
// waiting, whichever comes first; each commit is one transaction, and the ACKs of its lines go out
// only after it. Reads (a room's state when it opens, pages of /history and of a reconnect's
// since=) are tasks on the same thread, each after a commit of everything queued before it, and
// answer through a callback that runs on the store thread (the caller posts it home).
//
// The queue is bounded (queue_max_lines): past it, lines are left out of the store (fan-out never
// waits for the disk) and the log says how many and why, once a second while it lasts. Retention
// (max_lines_per_room, max_days) runs on a timer, a bounded slice at a time.
//
// Thread contract: Append(), LoadRoom(), ReadBefore(), ReadAfter() and TEST_SetCommitDelay() are
// safe from any thread; Start() and Stop() are called by the owner (the Server), once each.
#ifndef ROOMCHAT_CHAT_HISTORY_HISTORY_STORE_H_
#define ROOMCHAT_CHAT_HISTORY_HISTORY_STORE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "chat/history/history_db.h"
#include "chat/history/history_service.h"
#include "chat/loop/event_loop.h"

namespace roomchat {

struct HistoryStoreOptions {
  std::string data_dir;
  HistorySync sync = HistorySync::kNormal;
  size_t max_lines_per_room = 0;
  int max_days = 0;
  // Lines waiting for the disk at most; more are left out of the store (logged).
  size_t queue_max_lines = 0;
  std::chrono::milliseconds commit_window{5};
  size_t commit_lines = 500;
};

class HistoryStore final : public HistoryService {
 public:
  // Told, on the store thread, that line `id` of client `client` is committed.
  using AckSink = absl::AnyInvocable<void(uint64_t client, const StoredLine& line)>;
  // Opens the database (creating `data_dir`); fails with the path and the reason.
  static absl::StatusOr<std::unique_ptr<HistoryStore>> Open(const HistoryStoreOptions& options,
                                                            AckSink ack_sink);
  ~HistoryStore() override;

  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // Starts the store thread.
  absl::Status Start();
  // Commits what is queued, answers what was asked, and ends the thread.
  void Stop();

  // ---- Safe from any thread.
  // Queues `line` for the next commit; `ack_client` (0: none) is told when it is committed.
  void Append(StoredLine line, uint64_t ack_client) override;
  // A room's state as it opens: its last id and its newest `recent` lines.
  void LoadRoom(std::string room_key, size_t recent, Done<HistoryDb::RoomState> done) override;
  // Pages: the newest `limit` lines below `before_id` (0: the newest), and the oldest `limit`
  // lines above `after_id`, both oldest first.
  void ReadBefore(std::string room_key, uint64_t before_id, size_t limit,
                  Done<std::vector<StoredLine>> done) override;
  void ReadAfter(std::string room_key, uint64_t after_id, size_t limit,
                 Done<HistoryDb::Page> done) override;
  // For tests: each commit takes this much longer (a slow disk).
  void TEST_SetCommitDelay(absl::Duration delay);

 private:
  struct Pending {
    StoredLine line;
    uint64_t ack_client;
  };

  HistoryStore(const HistoryStoreOptions& options, std::unique_ptr<HistoryDb> db,
               std::unique_ptr<EventLoop> loop, AckSink ack_sink);

  // Store thread only.
  void OnQueued();
  void Commit();
  // After a failed group: each room's lines on their own, so one bad room loses only its lines.
  void CommitRoomByRoom(std::vector<StoredLine>& lines);
  // The lines [begin, end) of committing_ are stored: count them for retention, send the ACKs.
  void Acknowledge(const std::vector<StoredLine>& lines, size_t begin, size_t end);
  void Housekeeping();
  // Runs `read` on the store thread after committing what was queued before it.
  void Read(absl::AnyInvocable<void() &&> read);

  // Const after construction.
  const HistoryStoreOptions options_;
  const std::unique_ptr<EventLoop> loop_;

  // Owned by the store thread.
  std::unique_ptr<HistoryDb> db_;
  AckSink ack_sink_;
  EventLoop::TimerId commit_timer_ = 0;
  std::vector<Pending> committing_;
  // Lines stored per room since retention last looked at it. Counting a room's lines to find
  // where its cap falls costs up to max_lines_per_room index steps (ids are sparse), so a room is
  // looked at only once it has added a tenth of its cap: at most ~10 steps per line stored.
  absl::flat_hash_map<std::string, size_t> added_since_trim_;
  bool trim_all_rooms_ = true;  // until retention has been over every room once

  absl::Mutex mu_;
  std::vector<Pending> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t left_out_ ABSL_GUARDED_BY(mu_) = 0;  // lines not stored since the last report
  absl::Duration commit_delay_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_HISTORY_HISTORY_STORE_H_
