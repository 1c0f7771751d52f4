#include "chat/loop/thread_reaper.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

TEST(ThreadReaperTest, JoinAllWaitsForEveryThread) {
  std::atomic<int> finished_callbacks{0};
  std::atomic<int> ran{0};
  ThreadReaper reaper([&] { ++finished_callbacks; });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(reaper.Spawn([&] { ++ran; }).ok());
  reaper.JoinAll();
  EXPECT_EQ(ran.load(), 20);
  EXPECT_EQ(finished_callbacks.load(), 20);
  EXPECT_EQ(reaper.running(), 0u);
}

TEST(ThreadReaperTest, JoinFinishedLeavesRunningThreadsAlone) {
  ThreadReaper reaper([] {});
  absl::Notification release;
  ASSERT_TRUE(reaper.Spawn([&] { release.WaitForNotification(); }).ok());
  reaper.JoinFinished();  // Must not block on the running thread.
  EXPECT_EQ(reaper.running(), 1u);
  release.Notify();
  reaper.JoinAll();
  EXPECT_EQ(reaper.running(), 0u);
}

TEST(ThreadReaperTest, CallsBackOnceEachThreadIsListedAsFinished) {
  absl::Notification finished;
  ThreadReaper* reaper_ptr = nullptr;
  std::atomic<size_t> running_seen{99};
  ThreadReaper reaper([&] {
    running_seen = reaper_ptr->running();
    finished.Notify();
  });
  reaper_ptr = &reaper;
  ASSERT_TRUE(reaper.Spawn([] {}).ok());
  finished.WaitForNotification();
  EXPECT_EQ(running_seen.load(), 0u);
  reaper.JoinFinished();
}

// Shutdown closes the reaper before it waits for every thread: a Spawn() that comes after can no
// longer start a thread nobody would join.
TEST(ThreadReaperTest, SpawnAfterCloseIsRefusedAndItsBodyNeverRuns) {
  ThreadReaper reaper([] {});
  reaper.Close();
  EXPECT_TRUE(reaper.closed());
  std::atomic<bool> ran{false};
  absl::Status spawned = reaper.Spawn([&] { ran = true; });
  EXPECT_TRUE(absl::IsUnavailable(spawned)) << spawned;
  reaper.JoinAll();
  EXPECT_EQ(reaper.running(), 0u);
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace roomchat
