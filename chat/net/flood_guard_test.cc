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

// Two legal bursts of 400, 2.2 s apart, taken together after the server took the input late:
// none is a flood. Without the backlog rule the second burst would find 400 tokens and lose its
// overflow.
TEST(FloodGuardTest, LinesTheServerTookLateAreNotAFloodWhenTakenTogether) {
  std::chrono::steady_clock::time_point t0;
  FloodGuard guard({200, 400, 1000}, t0);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(guard.OnLine(t0), FloodGuard::Verdict::kAccept);
  guard.Backlogged(t0 + std::chrono::milliseconds(10));
  std::chrono::steady_clock::time_point later = t0 + std::chrono::milliseconds(3000);
  for (int i = 0; i < 750; ++i) {
    ASSERT_EQ(guard.OnLine(later), FloodGuard::Verdict::kAccept) << "line " << i;
  }
  // The average still holds: 352 tokens when the backlog began, 598 refilled in the 2.99 s it
  // lasted, 750 spent; the 200 left go, and the 201st line at the same instant is a flood.
  for (int i = 0; i < 200; ++i) ASSERT_EQ(guard.OnLine(later), FloodGuard::Verdict::kAccept);
  EXPECT_EQ(guard.OnLine(later), FloodGuard::Verdict::kDropFirst);
}

// Lines read one by one during a long backlog keep the credit (the backlog is not over at each
// line), and a moment after catching up too (the client's kernel may still hold lines it sent
// during the backlog), but not for long: unused credit is not a licence for a later burst.
TEST(FloodGuardTest, CatchingUpCapsTheCreditAgain) {
  std::chrono::steady_clock::time_point t0;
  FloodGuard guard({200, 400, 1000}, t0);
  guard.Backlogged(t0);
  for (int ms = 0; ms < 2000; ms += 10) {
    ASSERT_EQ(guard.OnLine(t0 + std::chrono::milliseconds(ms)), FloodGuard::Verdict::kAccept);
  }
  std::chrono::steady_clock::time_point caught_up = t0 + std::chrono::milliseconds(3000);
  guard.CaughtUp(caught_up);  // 400 + 600 - 200 = 800 tokens
  std::chrono::steady_clock::time_point moment_later = caught_up + std::chrono::milliseconds(100);
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(guard.OnLine(moment_later), FloodGuard::Verdict::kAccept) << "line " << i;
  }
  guard.Backlogged(moment_later);
  guard.CaughtUp(moment_later);
  // A quiet second later the cap is back: 400, not the 320 left plus 220 refilled.
  std::chrono::steady_clock::time_point later = moment_later + std::chrono::milliseconds(1100);
  for (int i = 0; i < 400; ++i) ASSERT_EQ(guard.OnLine(later), FloodGuard::Verdict::kAccept);
  EXPECT_EQ(guard.OnLine(later), FloodGuard::Verdict::kDropFirst);
}

// A client that sends faster than the rate runs dry even while its input is always waiting.
TEST(FloodGuardTest, AFloodThatKeepsABacklogStillRunsDry) {
  std::chrono::steady_clock::time_point t0;
  FloodGuard guard({200, 400, 1000000}, t0);
  guard.Backlogged(t0);
  int accepted = 0;
  for (int i = 0; i < 10000; ++i) {  // 1000 lines/s for 10 s
    if (guard.OnLine(t0 + std::chrono::milliseconds(i)) == FloodGuard::Verdict::kAccept) {
      ++accepted;
    }
  }
  EXPECT_LE(accepted, 400 + 2000 + 1);
  EXPECT_GE(accepted, 400 + 2000 - 1);
}

TEST(FloodGuardTest, ZeroRateIsOff) {
  FloodGuard guard({0, 0, 0}, kStart);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(guard.OnLine(kStart), Verdict::kAccept);
}

}  // namespace
}  // namespace roomchat
