#include "chat/accounts/login_guard.h"

#include <chrono>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

using std::chrono::seconds;

LoginThrottleOptions Options(size_t free_failures) {
  LoginThrottleOptions options;
  options.free_failures = free_failures;
  options.first_delay = seconds(1);
  options.max_delay = seconds(60);
  return options;
}

TEST(LoginGuardTest, AConnectionWaitsAfterItsFreeFailures) {
  LoginGuard guard(Options(3), Options(10));
  auto now = LoginGuard::Clock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(guard.WaitFor(1, "10.0.0.1", now).count(), 0) << i;
    guard.Failed(1, "10.0.0.1", now);
  }
  EXPECT_EQ(guard.WaitFor(1, "10.0.0.1", now).count(), 0) << "the third failure was free";
  guard.Failed(1, "10.0.0.1", now);
  EXPECT_GT(guard.WaitFor(1, "10.0.0.1", now).count(), 0);
  // Another connection from the address is not held back yet (4 of its 10).
  EXPECT_EQ(guard.WaitFor(2, "10.0.0.1", now).count(), 0);
  guard.Succeeded(1);
  EXPECT_EQ(guard.WaitFor(1, "10.0.0.1", now).count(), 0);
}

TEST(LoginGuardTest, AnAddressWaitsAfterItsFreeFailuresWhateverTheConnection) {
  LoginGuard guard(Options(3), Options(10));
  auto now = LoginGuard::Clock::now();
  for (uint64_t connection = 1; connection <= 11; ++connection) {
    guard.Failed(connection, "10.0.0.1", now);
  }
  EXPECT_GT(guard.WaitFor(99, "10.0.0.1", now).count(), 0) << "a fresh connection waits too";
  EXPECT_EQ(guard.WaitFor(99, "10.0.0.2", now).count(), 0) << "another address does not";
  guard.Succeeded(99);
  EXPECT_GT(guard.WaitFor(99, "10.0.0.1", now).count(), 0) << "a success does not clear it";
}

TEST(LoginGuardTest, RegistrationsCountAgainstTheirAddress) {
  LoginGuard guard(Options(3), Options(10));
  auto now = LoginGuard::Clock::now();
  for (int i = 0; i < 11; ++i) guard.Registering("10.0.0.1", now);
  EXPECT_GT(guard.WaitFor(7, "10.0.0.1", now).count(), 0);
}

TEST(LoginGuardTest, LoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.2"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_TRUE(IsLoopbackAddress("::ffff:127.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("1127.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("::2"));
  EXPECT_FALSE(IsLoopbackAddress("unknown"));
}

}  // namespace
}  // namespace roomchat
