#include "chat/base/thread_reaper.h"

#include <utility>

namespace roomchat {

ThreadReaper::ThreadReaper(absl::AnyInvocable<void() const> on_finished)
    : on_finished_(std::move(on_finished)) {}

ThreadReaper::~ThreadReaper() { JoinAll(); }

void ThreadReaper::Spawn(absl::AnyInvocable<void() &&> body) {
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  // The new thread's MarkFinished() takes mu_, so it cannot run before the handle is stored.
  running_.emplace(id, std::thread([this, id, body = std::move(body)]() mutable {
                     std::move(body)();
                     MarkFinished(id);
                     on_finished_();
                   }));
}

void ThreadReaper::MarkFinished(uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = running_.find(id);
  finished_.push_back(std::move(it->second));
  running_.erase(it);
}

void ThreadReaper::JoinFinished() {
  std::vector<std::thread> finished;
  {
    absl::MutexLock lock(&mu_);
    finished.swap(finished_);
  }
  for (std::thread& thread : finished) thread.join();
}

void ThreadReaper::JoinAll() {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](absl::flat_hash_map<uint64_t, std::thread>* running) { return running->empty(); },
        &running_));
  }
  JoinFinished();
}

size_t ThreadReaper::running() const {
  absl::MutexLock lock(&mu_);
  return running_.size();
}

}  // namespace roomchat
