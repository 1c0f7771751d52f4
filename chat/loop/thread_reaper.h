// ThreadReaper starts threads that end on their own (room threads) and joins them once they have.
//
// A room's thread ends when its last member leaves; nobody waits for it at that moment. Each
// finished thread is moved to a list and `on_finished` is called from it, so the owner can have a
// live thread (the lobby's) call JoinFinished() soon after. JoinAll() waits for every thread, for
// shutdown. Close() makes every later Spawn() fail, so that nothing can start a thread after
// shutdown has begun waiting for them; a thread that cannot be created (a pids or address-space
// limit) is a ResourceExhausted status, not an abort.
//
// Thread contract: every method is safe from any thread, except that JoinFinished() and JoinAll()
// must not be called from a thread this reaper started.
#ifndef ROOMCHAT_CHAT_LOOP_THREAD_REAPER_H_
#define ROOMCHAT_CHAT_LOOP_THREAD_REAPER_H_

#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace roomchat {

class ThreadReaper {
 public:
  // `on_finished` runs on each finishing thread, after it is listed as finished; it must be safe
  // from any thread and may run until JoinAll() returns.
  explicit ThreadReaper(absl::AnyInvocable<void() const> on_finished);
  // Joins every thread.
  ~ThreadReaper();

  ThreadReaper(const ThreadReaper&) = delete;
  ThreadReaper& operator=(const ThreadReaper&) = delete;

  // Starts a thread running `body`. ResourceExhausted when the system cannot create one,
  // Unavailable after Close(); `body` is then destroyed unrun.
  absl::Status Spawn(absl::AnyInvocable<void() &&> body);
  // Refuses every later Spawn().
  void Close();
  // Joins the threads that have finished; returns at once if none has.
  void JoinFinished();
  // Waits for every thread started so far to finish, and joins them.
  void JoinAll();
  size_t running() const;
  bool closed() const;

 private:
  void MarkFinished(uint64_t id);

  // Const after construction; called without mu_.
  absl::AnyInvocable<void() const> on_finished_;

  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, std::thread> running_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> finished_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_LOOP_THREAD_REAPER_H_
