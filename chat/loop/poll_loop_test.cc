#include "chat/loop/poll_loop.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

class NoClients : public PollLoop::Handler {
  void OnFrame(Client&, const Frame&) override {}
  void OnDeparture(Client&, const Departure&) override {}
  void OnStop() override {}
};

TEST(PollLoopTest, RunsPostedTasksOnItsThreadAndStops) {
  NoClients handler;
  auto loop = PollLoop::Create("test", &handler, std::chrono::seconds(0));
  ASSERT_TRUE(loop.ok());
  std::thread runner([&] { (*loop)->Run(); });
  const std::thread::id loop_thread = runner.get_id();
  absl::Notification ran;
  std::thread::id ran_on;
  (*loop)->Post([&] {
    ran_on = std::this_thread::get_id();
    ran.Notify();
  });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(20)));
  (*loop)->Stop();
  runner.join();
  EXPECT_EQ(ran_on, loop_thread);
}

// An idle loop sleeps until its once-a-second housekeeping: a wait computed too short (rounded
// down, or aimed at a flush time already past) turns every idle place into a spinning core. The
// bound holds on any machine: a slow one makes fewer rounds, a spin makes hundreds of thousands.
TEST(PollLoopTest, AnIdleLoopDoesNotSpin) {
  NoClients handler;
  auto loop = PollLoop::Create("idle", &handler, std::chrono::seconds(0));
  ASSERT_TRUE(loop.ok());
  std::thread runner([&] { (*loop)->Run(); });
  absl::SleepFor(absl::Milliseconds(1500));  // the window measured, not a wait for an event
  uint64_t rounds = (*loop)->TEST_rounds();
  (*loop)->Stop();
  runner.join();
  EXPECT_LE(rounds, 10u) << "an idle loop should wake about once a second";
}

}  // namespace
}  // namespace roomchat
