// EventLoop: what every server thread runs (the acceptor, the lobby, each room).
//
// One loop per thread: a private epoll instance, an eventfd to wake it, a mutex-guarded queue of
// tasks other threads hand it (muduo's queueInLoop/doPendingFunctors: the queue is swapped out
// under the lock and run outside it), and timers (muduo's TimerQueue: RunAfter, RunEvery, Cancel by
// id) instead of hand-computed wait deadlines. Each round it:
//   1. waits for I/O, for the earliest timer, or for the owner's next deadline (RoundHook);
//   2. reads the clock once: now() is the round's time for every decision made in it;
//   3. passes each I/O event to the IoHandler watching that descriptor;
//   4. runs the posted tasks, then the timers that are due;
//   5. calls the RoundHook, which does the owner's per-round work and says when the next round must
//      start at the latest (now(): at once, for work left over).
// epoll rather than poll(2): a round's wait then costs the same with 2 or 2000 descriptors
// (bench/poll_benchmark, docs/PERFORMANCE.md).
//
// Thread contract: Post(), RunInLoop(), Quit() and TEST_rounds() are safe from any thread.
// Everything else is for the loop thread (the thread that calls Run()); debug builds check it.
#ifndef ROOMCHAT_CHAT_LOOP_EVENT_LOOP_H_
#define ROOMCHAT_CHAT_LOOP_EVENT_LOOP_H_

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "chat/loop/socket.h"

namespace roomchat {

using Clock = std::chrono::steady_clock;

class EventLoop {
 public:
  using Task = absl::AnyInvocable<void() &&>;
  using TimerId = uint64_t;

  // Told about I/O on a descriptor it watches. Called on the loop thread.
  class IoHandler {
   public:
    virtual ~IoHandler() = default;
    // `key` is what Watch() was given; `events` the epoll bits (EPOLLIN, EPOLLOUT, EPOLLHUP, ...).
    virtual void OnIo(uint64_t key, uint32_t events) = 0;
  };

  // The owner's per-round work, run last in every round. Returns the latest time the next round
  // may start: now() for at once, Clock::time_point::max() for no limit of its own.
  using RoundHook = absl::AnyInvocable<Clock::time_point()>;

  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(std::string name);
  ~EventLoop();

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // ---- Safe from any thread.
  // Queues `task` for the loop thread and wakes the loop, even when called on the loop thread.
  // Tasks posted before the loop ends run; a task posted after that is destroyed unrun.
  void Post(Task task);
  // Runs `task` now when called on the loop thread, else as Post().
  void RunInLoop(Task task);
  // Makes Run() return after the current round (and the tasks posted before this call).
  void Quit();
  // Rounds run so far, for tests (an idle loop makes about one per timer).
  uint64_t TEST_rounds() const { return rounds_.load(std::memory_order_relaxed); }

  // Runs rounds on the calling thread, which becomes the loop thread, until Quit().
  void Run();

  // ---- Loop thread only (and before Run(), from the thread that will call it).
  const std::string& name() const { return name_; }
  bool IsInLoopThread() const;
  void AssertInLoopThread() const;
  // The time the current round began.
  Clock::time_point now() const { return now_; }
  void SetRoundHook(RoundHook hook) { round_hook_ = std::move(hook); }

  // Watches `fd` for `events` (EPOLLIN, EPOLLOUT, EPOLLET...), reporting to `handler` with `key`.
  // A key is unique within the loop and not 0. Modify() changes the events; Unwatch() stops.
  absl::Status Watch(int fd, uint32_t events, uint64_t key, IoHandler* handler);
  absl::Status Modify(int fd, uint32_t events, uint64_t key);
  void Unwatch(int fd, uint64_t key);

  // Runs `callback` once, `delay` from now(); RunEvery() every `interval` until cancelled.
  TimerId RunAfter(Clock::duration delay, std::function<void()> callback);
  TimerId RunEvery(Clock::duration interval, std::function<void()> callback);
  // Cancels a timer that has not fired (or a repeating one); unknown ids are ignored.
  void Cancel(TimerId id);

 private:
  struct Timer {
    std::function<void()> callback;
    Clock::duration interval;  // zero for a one-shot timer
  };
  struct Due {
    Clock::time_point when;
    TimerId id;
    bool operator>(const Due& other) const {
      return when != other.when ? when > other.when : id > other.id;
    }
  };

  EventLoop(std::string name, UniqueFd epoll, UniqueFd wake);

  void RunRound();
  // How long the next wait may block, from the earliest timer and the hook's deadline.
  int64_t WaitTimeoutNs(Clock::time_point hook_deadline);
  void Dispatch(int ready);
  void RunPendingTasks();
  void RunDueTimers();
  void DrainWakeFd();
  TimerId AddTimer(Clock::duration delay, Clock::duration interval, std::function<void()> callback);

  // Const after construction.
  const std::string name_;
  const UniqueFd epoll_fd_;
  const UniqueFd wake_fd_;

  std::atomic<uint64_t> rounds_{0};
  std::atomic<bool> quit_{false};
  // Set once by Run() before any other thread can tell; read by IsInLoopThread().
  std::atomic<std::thread::id> loop_thread_{};

  absl::Mutex mu_;
  std::vector<Task> pending_ ABSL_GUARDED_BY(mu_);

  // Owned by the loop thread.
  Clock::time_point now_;
  Clock::time_point hook_deadline_ = Clock::time_point::max();
  RoundHook round_hook_;
  absl::flat_hash_map<uint64_t, IoHandler*> handlers_;  // by key
  std::vector<epoll_event> events_;
  absl::flat_hash_map<TimerId, Timer> timers_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;  // may hold cancelled ids
  TimerId next_timer_id_ = 1;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_LOOP_EVENT_LOOP_H_
