#include "chat/net/flood_guard.h"

#include "gtest/gtest.h"

namespace roomchat {
namespace {

using Verdict = FloodGuard::Verdict;
using std::chrono::milliseconds;

const std::chrono::steady_clock::time_point kStart{};

TEST(FloodGuardTest, AllowsTheBurstThenDrops) {
  FloodGuard guard({/*lines_per_s=*/10, /*burst=*/5, /*disconnect_after=*/100}, kStart);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(guard.OnLine(kStart), Verdict::kAccept) << i;
  EXPECT_EQ(guard.OnLine(kStart), Verdict::kDropFirst);
  EXPECT_EQ(guard.OnLine(kStart), Verdict::kDrop);
  EXPECT_EQ(guard.dropped_total(), 2u);
}

TEST(FloodGuardTest, RefillsAtTheRate) {
  FloodGuard guard({10, 5, 100}, kStart);
  for (int i = 0; i < 5; ++i) guard.OnLine(kStart);
  EXPECT_EQ(guard.OnLine(kStart + milliseconds(50)), Verdict::kDropFirst);  // half a token
  EXPECT_EQ(guard.OnLine(kStart + milliseconds(100)), Verdict::kAccept);    // one token
  EXPECT_EQ(guard.OnLine(kStart + milliseconds(100)), Verdict::kDropFirst) << "a new flood";
  // A long pause refills only up to the burst.
  auto later = kStart + std::chrono::seconds(60);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(guard.OnLine(later), Verdict::kAccept);
  EXPECT_EQ(guard.OnLine(later), Verdict::kDropFirst);
}

TEST(FloodGuardTest, DisconnectsAClientThatKeepsFlooding) {
  FloodGuard guard({1, 1, 3}, kStart);
  EXPECT_EQ(guard.OnLine(kStart), Verdict::kAccept);
  EXPECT_EQ(guard.OnLine(kStart), Verdict::kDropFirst);
  EXPECT_EQ(guard.OnLine(kStart), Verdict::kDrop);
  EXPECT_EQ(guard.OnLine(kStart), Verdict::kDrop);
  EXPECT_EQ(guard.OnLine(kStart), Verdict::kDisconnect);
}

TEST(FloodGuardTest, ZeroRateIsOff) {
  FloodGuard guard({0, 0, 0}, kStart);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(guard.OnLine(kStart), Verdict::kAccept);
}

}  // namespace
}  // namespace roomchat
