#include "chat/loop/event_loop.h"

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(20);

// Runs a loop on its own thread for the length of a test.
class LoopThread {
 public:
  LoopThread() {
    auto loop = EventLoop::Create("test");
    EXPECT_TRUE(loop.ok());
    loop_ = *std::move(loop);
  }
  ~LoopThread() { Stop(); }
  void Start() {
    thread_ = std::thread([this] { loop_->Run(); });
  }
  void Stop() {
    if (!thread_.joinable()) return;
    loop_->Quit();
    thread_.join();
  }
  EventLoop& loop() { return *loop_; }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

// Runs `task` on the loop thread and waits for it.
void OnLoop(EventLoop& loop, std::function<void()> task) {
  absl::Notification done;
  loop.Post([&] {
    task();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kDeadline));
}

TEST(EventLoopTest, RunsPostedTasksOnItsThreadInOrder) {
  LoopThread runner;
  runner.Start();
  std::vector<int> order;
  std::thread::id ran_on;
  for (int i = 0; i < 3; ++i) runner.loop().Post([&order, i] { order.push_back(i); });
  OnLoop(runner.loop(), [&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, runner.id());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

TEST(EventLoopTest, ItsThreadTakesTheLoopsName) {
  LoopThread runner;
  runner.Start();
  char name[16] = {};
  OnLoop(runner.loop(), [&] { ::pthread_getname_np(::pthread_self(), name, sizeof(name)); });
  EXPECT_STREQ(name, "test");
}

TEST(EventLoopTest, RunInLoopRunsAtOnceOnTheLoopThreadAndQueuesFromOthers) {
  LoopThread runner;
  runner.Start();
  std::vector<std::string> order;
  OnLoop(runner.loop(), [&] {
    runner.loop().Post([&] { order.push_back("posted"); });
    runner.loop().RunInLoop([&] { order.push_back("in loop"); });
    order.push_back("after");
  });
  OnLoop(runner.loop(), [] {});
  EXPECT_EQ(order, (std::vector<std::string>{"in loop", "after", "posted"}));
  std::atomic<bool> ran{false};
  runner.loop().RunInLoop([&] { ran = true; });  // from this thread: queued, then run
  OnLoop(runner.loop(), [] {});
  EXPECT_TRUE(ran);
}

TEST(EventLoopTest, TimersFireInDeadlineOrderAndCancelledOnesNever) {
  LoopThread runner;
  std::vector<int> fired;
  absl::Notification last;
  EventLoop& loop = runner.loop();
  // Set up before Run(), from the thread that starts it.
  loop.RunAfter(std::chrono::milliseconds(30), [&] { fired.push_back(3); });
  EventLoop::TimerId cancelled =
      loop.RunAfter(std::chrono::milliseconds(10), [&] { fired.push_back(99); });
  loop.RunAfter(std::chrono::milliseconds(1), [&] { fired.push_back(1); });
  loop.RunAfter(std::chrono::milliseconds(60), [&] { last.Notify(); });
  loop.Cancel(cancelled);
  runner.Start();
  ASSERT_TRUE(last.WaitForNotificationWithTimeout(kDeadline));
  runner.Stop();
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
}

TEST(EventLoopTest, RunEveryRepeatsUntilCancelledFromItsOwnCallback) {
  LoopThread runner;
  runner.Start();
  std::atomic<int> count{0};
  absl::Notification done;
  OnLoop(runner.loop(), [&] {
    auto id = std::make_shared<EventLoop::TimerId>();
    *id = runner.loop().RunEvery(std::chrono::milliseconds(1), [&, id] {
      if (++count == 3) {
        runner.loop().Cancel(*id);
        runner.loop().RunAfter(std::chrono::milliseconds(20), [&] { done.Notify(); });
      }
    });
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kDeadline));
  EXPECT_EQ(count, 3);
}

// The wait is derived from the earliest timer: a timer far away leaves an idle loop asleep, and a
// wait computed too short (rounded down, or aimed at a time already past) would spin. The bound
// holds on any machine: a slow one makes fewer rounds, a spin makes hundreds of thousands.
TEST(EventLoopTest, AnIdleLoopSleepsUntilItsTimer) {
  LoopThread runner;
  runner.loop().RunEvery(std::chrono::seconds(1), [] {});
  runner.Start();
  absl::SleepFor(absl::Milliseconds(1500));  // the window measured, not a wait for an event
  uint64_t rounds = runner.loop().TEST_rounds();
  runner.Stop();
  EXPECT_LE(rounds, 10u) << "an idle loop should wake about once a second";
}

class RecordingHandler : public EventLoop::IoHandler {
 public:
  void OnIo(uint64_t key, uint32_t events) override {
    keys.push_back(key);
    if (on_io) on_io(key);
  }
  std::vector<uint64_t> keys;
  std::function<void(uint64_t)> on_io;
};

TEST(EventLoopTest, WatchedDescriptorsReportTheirKeyUntilUnwatched) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
  UniqueFd ours(pair[0]), theirs(pair[1]);
  LoopThread runner;
  RecordingHandler handler;
  absl::Notification seen;
  handler.on_io = [&](uint64_t key) {
    runner.loop().Unwatch(ours.get(), key);  // level-triggered: would report again otherwise
    seen.Notify();
  };
  ASSERT_TRUE(runner.loop().Watch(ours.get(), EPOLLIN, 42, &handler).ok());
  EXPECT_FALSE(runner.loop().Watch(ours.get(), EPOLLIN, 43, &handler).ok()) << "watched twice";
  runner.Start();
  ASSERT_EQ(::write(theirs.get(), "x", 1), 1);
  ASSERT_TRUE(seen.WaitForNotificationWithTimeout(kDeadline));
  OnLoop(runner.loop(), [] {});
  runner.Stop();
  EXPECT_EQ(handler.keys, std::vector<uint64_t>{42});
}

TEST(EventLoopTest, TheRoundHookRunsEveryRoundAndItsDeadlineWakesTheLoop) {
  LoopThread runner;
  std::atomic<int> rounds{0};
  absl::Notification three;
  // The hook asks for another round at once twice, then for one 5 ms later.
  runner.loop().SetRoundHook([&]() -> Clock::time_point {
    int round = ++rounds;
    if (round == 3) three.Notify();
    if (round < 3) return runner.loop().now();
    return round == 3 ? runner.loop().now() + std::chrono::milliseconds(5)
                      : Clock::time_point::max();
  });
  runner.Start();
  ASSERT_TRUE(three.WaitForNotificationWithTimeout(kDeadline));
  absl::SleepFor(absl::Milliseconds(200));  // the window measured
  runner.Stop();
  EXPECT_GE(rounds.load(), 4) << "the hook's deadline must wake the loop";
  EXPECT_LE(rounds.load(), 10) << "after the deadline the loop must sleep";
}

TEST(EventLoopTest, TasksPostedBeforeQuitRun) {
  LoopThread runner;
  runner.Start();
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) runner.loop().Post([&] { ++ran; });
  runner.Stop();
  EXPECT_EQ(ran, 100);
}

}  // namespace
}  // namespace roomchat
