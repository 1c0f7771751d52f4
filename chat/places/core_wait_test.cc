#include "chat/places/core_wait.h"

#include <thread>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

TEST(CoreWaitTest, ReadsTheRunQueueWaitOfASchedstatLine) {
  uint64_t wait_ns = 0;
  EXPECT_TRUE(CoreWait::ParseWaitNs("698231582 510699072 2172\n", &wait_ns));
  EXPECT_EQ(wait_ns, 510699072u);
  EXPECT_FALSE(CoreWait::ParseWaitNs("", &wait_ns));
  EXPECT_FALSE(CoreWait::ParseWaitNs("12", &wait_ns));
  EXPECT_FALSE(CoreWait::ParseWaitNs("12 x 3", &wait_ns));
}

TEST(CoreWaitTest, TheShareIsZeroFirstThenWithinZeroAndOne) {
  CoreWait core_wait;
  Clock::time_point t0 = Clock::now();
  EXPECT_EQ(core_wait.ShareSinceLastAsked(t0), 0.0) << "nothing to compare with yet";
  // Whatever the machine's load: a share, never more than the time that passed.
  for (int i = 1; i <= 3; ++i) {
    std::this_thread::yield();
    double share = core_wait.ShareSinceLastAsked(Clock::now());
    EXPECT_GE(share, 0.0);
    EXPECT_LE(share, 1.0);
  }
}

}  // namespace
}  // namespace roomchat
