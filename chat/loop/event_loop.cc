#include "chat/loop/event_loop.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "glog/logging.h"

namespace roomchat {
namespace {

// The eventfd's key in epoll; callers' keys are never 0.
constexpr uint64_t kWakeKey = 0;
constexpr int kMaxEventsPerWait = 256;

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(std::string name) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return ErrnoStatus("epoll_create1");
  absl::StatusOr<UniqueFd> wake = MakeEventFd();
  if (!wake.ok()) return wake.status();
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeKey;
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake->get(), &event) != 0) {
    return ErrnoStatus("epoll_ctl");
  }
  return std::unique_ptr<EventLoop>(
      new EventLoop(std::move(name), std::move(epoll), *std::move(wake)));
}

EventLoop::EventLoop(std::string name, UniqueFd epoll, UniqueFd wake)
    : name_(std::move(name)),
      epoll_fd_(std::move(epoll)),
      wake_fd_(std::move(wake)),
      now_(Clock::now()),
      events_(kMaxEventsPerWait) {}

EventLoop::~EventLoop() = default;

void EventLoop::Post(Task task) {
  bool was_empty;
  {
    absl::MutexLock lock(&mu_);
    was_empty = pending_.empty();
    pending_.push_back(std::move(task));
  }
  // A non-empty queue means a wake-up is already on its way (the loop drains the eventfd before it
  // swaps the queue out), so one write per batch is enough.
  if (was_empty) {
    uint64_t one = 1;
    ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
    (void)n;  // EAGAIN means the counter is already non-zero: the loop will wake.
  }
}

void EventLoop::RunInLoop(Task task) {
  if (IsInLoopThread()) {
    std::move(task)();
  } else {
    Post(std::move(task));
  }
}

void EventLoop::Quit() {
  quit_.store(true, std::memory_order_release);
  Post([] {});  // wakes the loop if it is waiting
}

bool EventLoop::IsInLoopThread() const {
  return loop_thread_.load(std::memory_order_acquire) == std::this_thread::get_id();
}

void EventLoop::AssertInLoopThread() const {
  std::thread::id owner = loop_thread_.load(std::memory_order_acquire);
  // Before Run(), the thread setting the loop up stands in for the loop thread.
  DCHECK(owner == std::thread::id() || owner == std::this_thread::get_id())
      << name_ << ": called off its loop thread";
}

void EventLoop::Run() {
  loop_thread_.store(std::this_thread::get_id(), std::memory_order_release);
  // The thread takes the loop's name (at most 15 bytes), so `top -H` and `perf` tell them apart.
  ::pthread_setname_np(::pthread_self(), name_.substr(0, 15).c_str());
  now_ = Clock::now();
  hook_deadline_ = now_;  // the first round runs the hook without waiting for an event
  while (!quit_.load(std::memory_order_acquire)) RunRound();
  // Work that raced with the quit: the tasks posted before it.
  RunPendingTasks();
}

void EventLoop::RunRound() {
  rounds_.fetch_add(1, std::memory_order_relaxed);
  int64_t timeout_ns = WaitTimeoutNs(hook_deadline_);
  timespec timeout{static_cast<time_t>(timeout_ns / 1000000000),
                   static_cast<long>(timeout_ns % 1000000000)};
  int ready = ::epoll_pwait2(epoll_fd_.get(), events_.data(), static_cast<int>(events_.size()),
                             &timeout, nullptr);
  if (ready < 0 && errno != EINTR) PLOG(ERROR) << name_ << ": epoll_wait";
  now_ = Clock::now();
  Dispatch(ready);
  RunPendingTasks();
  RunDueTimers();
  hook_deadline_ = round_hook_ ? round_hook_() : Clock::time_point::max();
}

int64_t EventLoop::WaitTimeoutNs(Clock::time_point hook_deadline) {
  while (!due_.empty() && !timers_.contains(due_.top().id)) due_.pop();  // cancelled
  Clock::time_point wake = hook_deadline;
  if (!due_.empty()) wake = std::min(wake, due_.top().when);
  if (wake <= now_) return 0;
  if (wake == Clock::time_point::max()) return 3600LL * 1000000000;  // nothing to wait for
  // Measured from the clock now, not from the round's start: the round's work took time.
  auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(wake - Clock::now());
  return std::max<int64_t>(0, wait.count());
}

void EventLoop::Dispatch(int ready) {
  for (int i = 0; i < ready; ++i) {
    uint64_t key = events_[i].data.u64;
    if (key == kWakeKey) {
      DrainWakeFd();
      continue;
    }
    // A handler may unwatch other descriptors while handling its event: look each one up afresh.
    auto it = handlers_.find(key);
    if (it != handlers_.end()) it->second->OnIo(key, events_[i].events);
  }
}

void EventLoop::RunPendingTasks() {
  std::vector<Task> tasks;
  {
    absl::MutexLock lock(&mu_);
    tasks.swap(pending_);
  }
  for (Task& task : tasks) std::move(task)();
}

void EventLoop::RunDueTimers() {
  while (!due_.empty() && due_.top().when <= now_) {
    Due due = due_.top();
    due_.pop();
    auto it = timers_.find(due.id);
    if (it == timers_.end()) continue;  // cancelled
    // Copied: the callback may cancel its own timer, or add timers and rehash the map.
    std::function<void()> callback = it->second.callback;
    if (it->second.interval > Clock::duration::zero()) {
      due_.push({now_ + it->second.interval, due.id});
    } else {
      timers_.erase(it);
    }
    callback();
  }
}

void EventLoop::DrainWakeFd() {
  uint64_t count;
  ssize_t n = ::read(wake_fd_.get(), &count, sizeof(count));
  (void)n;
}

absl::Status EventLoop::Watch(int fd, uint32_t events, uint64_t key, IoHandler* handler) {
  AssertInLoopThread();
  DCHECK_NE(key, kWakeKey);
  epoll_event event{};
  event.events = events;
  event.data.u64 = key;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    return ErrnoStatus("epoll_ctl add");
  }
  handlers_[key] = handler;
  return absl::OkStatus();
}

absl::Status EventLoop::Modify(int fd, uint32_t events, uint64_t key) {
  AssertInLoopThread();
  epoll_event event{};
  event.events = events;
  event.data.u64 = key;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &event) != 0) {
    return ErrnoStatus("epoll_ctl mod");
  }
  return absl::OkStatus();
}

void EventLoop::Unwatch(int fd, uint64_t key) {
  AssertInLoopThread();
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
  handlers_.erase(key);
}

EventLoop::TimerId EventLoop::RunAfter(Clock::duration delay, std::function<void()> callback) {
  return AddTimer(delay, Clock::duration::zero(), std::move(callback));
}

EventLoop::TimerId EventLoop::RunEvery(Clock::duration interval, std::function<void()> callback) {
  DCHECK(interval > Clock::duration::zero());
  return AddTimer(interval, interval, std::move(callback));
}

EventLoop::TimerId EventLoop::AddTimer(Clock::duration delay, Clock::duration interval,
                                       std::function<void()> callback) {
  AssertInLoopThread();
  TimerId id = next_timer_id_++;
  timers_.emplace(id, Timer{std::move(callback), interval});
  // Before Run(), now_ is the time of construction; the clock is read instead.
  bool running = loop_thread_.load(std::memory_order_acquire) != std::thread::id();
  due_.push({(running ? now_ : Clock::now()) + delay, id});
  return id;
}

void EventLoop::Cancel(TimerId id) {
  AssertInLoopThread();
  timers_.erase(id);
}

}  // namespace roomchat
