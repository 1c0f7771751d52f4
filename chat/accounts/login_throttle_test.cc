#include "chat/accounts/login_throttle.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

using std::chrono::seconds;

LoginThrottleOptions Options() {
  LoginThrottleOptions options;
  options.free_failures = 2;
  options.first_delay = seconds(1);
  options.max_delay = seconds(8);
  options.forget_after = seconds(100);
  options.max_keys = 3;
  return options;
}

class LoginThrottleTest : public ::testing::Test {
 protected:
  LoginThrottle::TimePoint At(int second) const { return start_ + seconds(second); }

  const LoginThrottle::TimePoint start_ = std::chrono::steady_clock::now();
  LoginThrottle throttle_{Options()};
};

TEST_F(LoginThrottleTest, DelaysDoubleAfterTheFreeFailuresAndStopAtTheCap) {
  EXPECT_EQ(throttle_.WaitFor("a", At(0)), seconds(0));
  throttle_.Failed("a", At(0));
  throttle_.Failed("a", At(0));
  EXPECT_EQ(throttle_.WaitFor("a", At(0)), seconds(0)) << "two free failures";
  const int expected[] = {1, 2, 4, 8, 8, 8};
  int now = 0;
  for (int delay : expected) {
    throttle_.Failed("a", At(now));
    EXPECT_EQ(throttle_.WaitFor("a", At(now)), seconds(delay)) << "at " << now;
    EXPECT_EQ(throttle_.WaitFor("b", At(now)), seconds(0)) << "other keys are not touched";
    now += delay;
    EXPECT_EQ(throttle_.WaitFor("a", At(now)), seconds(0)) << "the block has ended";
  }
}

TEST_F(LoginThrottleTest, WaitIsRoundedUpToWholeSeconds) {
  for (int i = 0; i < 4; ++i) throttle_.Failed("a", At(0));  // blocked for 2 s
  EXPECT_EQ(throttle_.WaitFor("a", At(0) + std::chrono::milliseconds(1500)), seconds(1));
  EXPECT_EQ(throttle_.WaitFor("a", At(0) + std::chrono::milliseconds(500)), seconds(2));
}

TEST_F(LoginThrottleTest, SucceededForgetsTheKey) {
  for (int i = 0; i < 5; ++i) throttle_.Failed("a", At(0));
  EXPECT_GT(throttle_.WaitFor("a", At(0)), seconds(0));
  throttle_.Succeeded("a");
  EXPECT_EQ(throttle_.WaitFor("a", At(0)), seconds(0));
  EXPECT_EQ(throttle_.size(), 0u);
  throttle_.Failed("a", At(0));
  throttle_.Failed("a", At(0));
  EXPECT_EQ(throttle_.WaitFor("a", At(0)), seconds(0)) << "free failures again";
  throttle_.Succeeded("never seen");
}

TEST_F(LoginThrottleTest, AKeyIsForgottenForgetAfterItsBlockEnds) {
  for (int i = 0; i < 3; ++i) throttle_.Failed("a", At(0));  // blocked until 1
  throttle_.Failed("b", At(50));
  throttle_.Failed("c", At(100));                            // a would be forgotten at 101
  EXPECT_EQ(throttle_.size(), 3u);
  throttle_.Failed("c", At(101));
  EXPECT_EQ(throttle_.size(), 2u) << "a is gone";
  throttle_.Failed("a", At(101));
  throttle_.Failed("a", At(101));
  EXPECT_EQ(throttle_.WaitFor("a", At(101)), seconds(0)) << "a starts over with free failures";
  throttle_.Failed("a", At(101));
  EXPECT_EQ(throttle_.WaitFor("a", At(101)), seconds(1));
}

TEST_F(LoginThrottleTest, NeverHoldsMoreThanMaxKeysAndKeepsTheLongestBlocks) {
  for (int i = 0; i < 6; ++i) throttle_.Failed("blocked", At(0));  // blocked for 8 s
  for (int i = 0; i < 1000; ++i) {
    throttle_.Failed(absl::StrCat("address-", i), At(1));
    ASSERT_LE(throttle_.size(), 3u);
  }
  EXPECT_EQ(throttle_.WaitFor("blocked", At(1)), seconds(7))
      << "keys cycling through one free failure each evict one another first";
  EXPECT_EQ(throttle_.WaitFor("address-999", At(1)), seconds(0));
}

TEST_F(LoginThrottleTest, ExpiredKeysGoBeforeLiveOnes) {
  throttle_.Failed("old", At(0));
  throttle_.Failed("x", At(200));
  throttle_.Failed("y", At(200));
  EXPECT_EQ(throttle_.size(), 2u) << "old was forgotten on the way";
  throttle_.Failed("z", At(200));
  EXPECT_EQ(throttle_.size(), 3u);
  for (int i = 0; i < 3; ++i) throttle_.Failed("x", At(201));
  EXPECT_EQ(throttle_.WaitFor("x", At(201)), seconds(2));
}

TEST(LoginThrottleNoKeysTest, MaxKeysZeroThrottlesNothing) {
  LoginThrottleOptions options = Options();
  options.max_keys = 0;
  LoginThrottle throttle(options);
  auto now = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) throttle.Failed("a", now);
  EXPECT_EQ(throttle.WaitFor("a", now), seconds(0));
  EXPECT_EQ(throttle.size(), 0u);
}

}  // namespace
}  // namespace roomchat
