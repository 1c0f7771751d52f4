#include "chat/history/history_store.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "chat/history/recent_lines.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// How much retention removes per housekeeping tick, so that one tick stays short.
constexpr size_t kTrimPerTick = 20000;
constexpr std::chrono::seconds kHousekeepingEvery{1};
// Past this many rooms with uncounted lines, retention looks at every room once and starts over.
constexpr size_t kMostRoomsCounted = 65536;

}  // namespace

absl::StatusOr<std::unique_ptr<HistoryStore>> HistoryStore::Open(
    const HistoryStoreOptions& options, AckSink ack_sink) {
  absl::StatusOr<std::unique_ptr<HistoryDb>> db = HistoryDb::Open(options.data_dir, options.sync);
  if (!db.ok()) return db.status();
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create("history");
  if (!loop.ok()) return loop.status();
  return std::unique_ptr<HistoryStore>(
      new HistoryStore(options, *std::move(db), *std::move(loop), std::move(ack_sink)));
}

HistoryStore::HistoryStore(const HistoryStoreOptions& options, std::unique_ptr<HistoryDb> db,
                           std::unique_ptr<EventLoop> loop, AckSink ack_sink)
    : options_(options), loop_(std::move(loop)), db_(std::move(db)),
      ack_sink_(std::move(ack_sink)) {}

HistoryStore::~HistoryStore() { Stop(); }

absl::Status HistoryStore::Start() {
  try {
    thread_ = std::thread([this] {
      loop_->RunEvery(kHousekeepingEvery, [this] { Housekeeping(); });
      loop_->Run();
      Commit();  // what was queued before the stop
      db_.reset();
    });
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot start the history thread: ", e.what()));
  }
  return absl::OkStatus();
}

void HistoryStore::Stop() {
  if (!thread_.joinable()) return;
  loop_->Quit();
  thread_.join();
}

void HistoryStore::Append(StoredLine line, uint64_t ack_client) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (queue_.size() >= options_.queue_max_lines) {
      ++left_out_;
      return;
    }
    queue_.push_back({std::move(line), ack_client});
    // The first line starts the commit window; a full group is committed at once.
    wake = queue_.size() == 1 || queue_.size() == options_.commit_lines;
  }
  if (wake) loop_->Post([this] { OnQueued(); });
}

void HistoryStore::OnQueued() {
  bool full;
  {
    absl::MutexLock lock(&mu_);
    full = queue_.size() >= options_.commit_lines;
  }
  if (full) return Commit();
  if (commit_timer_ == 0) {
    commit_timer_ = loop_->RunAfter(options_.commit_window, [this] {
      commit_timer_ = 0;
      Commit();
    });
  }
}

void HistoryStore::Commit() {
  if (commit_timer_ != 0) {
    loop_->Cancel(commit_timer_);
    commit_timer_ = 0;
  }
  absl::Duration delay;
  {
    absl::MutexLock lock(&mu_);
    committing_.swap(queue_);
    delay = commit_delay_;
  }
  if (committing_.empty()) return;
  if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
  std::vector<StoredLine> lines;
  lines.reserve(committing_.size());
  for (Pending& pending : committing_) lines.push_back(std::move(pending.line));
  if (absl::Status stored = db_->Append(lines); stored.ok()) {
    Acknowledge(lines, 0, lines.size());
  } else {
    // One room's bad line must not cost the other rooms theirs: store room by room.
    LOG(WARNING) << "history: a group of " << lines.size()
                 << " lines could not be stored; storing it room by room: " << stored;
    CommitRoomByRoom(lines);
  }
  committing_.clear();
}

void HistoryStore::CommitRoomByRoom(std::vector<StoredLine>& lines) {
  // Lines of one room are consecutive after a stable sort by room, each room's in its order.
  std::vector<size_t> order(lines.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return lines[a].room_key < lines[b].room_key; });
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin;
    std::vector<StoredLine> room_lines;
    while (end < order.size() && lines[order[end]].room_key == lines[order[begin]].room_key) {
      room_lines.push_back(lines[order[end++]]);
    }
    if (absl::Status stored = db_->Append(room_lines); !stored.ok()) {
      LOG(ERROR) << "history: " << room_lines.size() << " lines of room "
                 << room_lines.front().room << " could not be stored and are lost to history "
                 << "(they were delivered): " << stored;
    } else {
      for (size_t i = begin; i < end; ++i) Acknowledge(lines, order[i], order[i] + 1);
    }
    begin = end;
  }
}

void HistoryStore::Acknowledge(const std::vector<StoredLine>& lines, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    ++added_since_trim_[lines[i].room_key];
    if (committing_[i].ack_client != 0) ack_sink_(committing_[i].ack_client, lines[i]);
  }
}

void HistoryStore::Housekeeping() {
  uint64_t left_out;
  {
    absl::MutexLock lock(&mu_);
    left_out = left_out_;
    left_out_ = 0;
  }
  if (left_out > 0) {
    LOG(WARNING) << "history: the disk is behind: " << left_out
                 << " lines were left out of the store in the last second (more than "
                 << options_.queue_max_lines
                 << " lines were waiting to be written); they were delivered but will not be "
                    "replayed";
  }
  int64_t now_ms = absl::ToUnixMillis(absl::Now());
  int64_t oldest_ms = options_.max_days > 0 ? now_ms - RetentionMs(options_.max_days) : 0;
  // Rooms that may be over their cap; all of them when too many rooms were written to keep count.
  const size_t look_after = std::max<size_t>(1, options_.max_lines_per_room / 10);
  // Every room at first: a room over a lowered cap, or idle since the last run, is trimmed too.
  const bool all_rooms = trim_all_rooms_ || added_since_trim_.size() > kMostRoomsCounted;
  std::vector<std::string> rooms;
  for (const auto& [room, added] : added_since_trim_) {
    if (added >= look_after) rooms.push_back(room);
  }
  absl::StatusOr<size_t> trimmed = db_->Trim(options_.max_lines_per_room, oldest_ms, kTrimPerTick,
                                             all_rooms ? nullptr : &rooms);
  if (!trimmed.ok()) {
    LOG_EVERY_N(ERROR, 60) << "history: retention failed: " << trimmed.status();
    return;
  }
  if (*trimmed < kTrimPerTick) {  // those rooms are within their caps now
    if (all_rooms) {
      added_since_trim_.clear();
      trim_all_rooms_ = false;
    }
    for (const std::string& room : rooms) added_since_trim_.erase(room);
  }
  if (*trimmed > 0) VLOG(1) << "history: retention removed " << *trimmed << " lines";
}

void HistoryStore::Read(absl::AnyInvocable<void() &&> read) {
  loop_->Post([this, read = std::move(read)]() mutable {
    Commit();
    std::move(read)();
  });
}

void HistoryStore::LoadRoom(std::string room_key, size_t recent, Done<HistoryDb::RoomState> done) {
  Read([this, room_key = std::move(room_key), recent, done = std::move(done)]() mutable {
    std::move(done)(db_->LoadRoom(room_key, recent));
  });
}

void HistoryStore::ReadBefore(std::string room_key, uint64_t before_id, size_t limit,
                              Done<std::vector<StoredLine>> done) {
  Read([this, room_key = std::move(room_key), before_id, limit, done = std::move(done)]() mutable {
    std::move(done)(db_->Before(room_key, before_id, limit));
  });
}

void HistoryStore::ReadAfter(std::string room_key, uint64_t after_id, size_t limit,
                             Done<HistoryDb::Page> done) {
  Read([this, room_key = std::move(room_key), after_id, limit, done = std::move(done)]() mutable {
    std::move(done)(db_->PageAfter(room_key, after_id, limit));
  });
}

void HistoryStore::TEST_SetCommitDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  commit_delay_ = delay;
}

}  // namespace roomchat
