#include "chat/loop/thread_reaper.h"

#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace roomchat {

ThreadReaper::ThreadReaper(absl::AnyInvocable<void() const> on_finished)
    : on_finished_(std::move(on_finished)) {}

ThreadReaper::~ThreadReaper() { JoinAll(); }

absl::Status ThreadReaper::Spawn(absl::AnyInvocable<void() &&> body) {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::UnavailableError("the server is shutting down");
  uint64_t id = next_id_++;
  std::thread thread;
  try {
    // The new thread's MarkFinished() takes mu_, so it cannot run before the handle is stored.
    thread = std::thread([this, id, body = std::move(body)]() mutable {
      std::move(body)();
      MarkFinished(id);
      on_finished_();
    });
  } catch (const std::system_error& error) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot start a thread: ", error.what()));
  }
  running_.emplace(id, std::move(thread));
  return absl::OkStatus();
}

void ThreadReaper::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
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

bool ThreadReaper::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

size_t ThreadReaper::running() const {
  absl::MutexLock lock(&mu_);
  return running_.size();
}

}  // namespace roomchat
