#include "chat/places/pacer.h"

#include <chrono>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(PacerTest, ATrackedMemberThatStillReadsPausesInput) {
  Pacer pacer(seconds(1));
  Clock::time_point t0;
  EXPECT_FALSE(pacer.InputPaused(t0));
  EXPECT_EQ(pacer.PauseRecheck(t0), Clock::time_point::max());
  pacer.Track(7, t0);
  EXPECT_TRUE(pacer.InputPaused(t0 + milliseconds(999)));
  EXPECT_EQ(pacer.PauseRecheck(t0), t0 + seconds(1));
}

TEST(PacerTest, AMemberThatStopsReadingStopsHoldingInputBack) {
  Pacer pacer(seconds(1));
  Clock::time_point t0;
  pacer.Track(7, t0);
  EXPECT_FALSE(pacer.InputPaused(t0 + seconds(1))) << "no progress for stall_after: stalled";
  EXPECT_EQ(pacer.tracked(), 1u) << "still tracked: the caps deal with it";
  // Progress, still above the mark: it holds input back again.
  EXPECT_FALSE(pacer.Drained(7, /*above_high_water=*/true, t0 + seconds(2)));
  EXPECT_TRUE(pacer.InputPaused(t0 + seconds(2)));
}

TEST(PacerTest, DrainingBelowTheMarkReleasesTheMember) {
  Pacer pacer(seconds(1));
  Clock::time_point t0;
  pacer.Track(7, t0);
  pacer.Track(8, t0);
  EXPECT_TRUE(pacer.Drained(7, /*above_high_water=*/false, t0));
  EXPECT_TRUE(pacer.InputPaused(t0)) << "8 still holds";
  pacer.Forget(8);
  EXPECT_FALSE(pacer.InputPaused(t0));
  EXPECT_FALSE(pacer.Drained(9, false, t0)) << "never tracked";
}

double Idle() { return 0.0; }       // cores with room to spare
double Saturated() { return 0.5; }  // the thread waits for a core half the time

TEST(PacerTest, ASlowPassOfSmallSendsWithArrivingLinesIsFollowedByAGap) {
  Pacer pacer(seconds(1));
  Clock::time_point t0;
  pacer.StartPass(t0);
  pacer.CountLine();
  for (int i = 0; i < 10; ++i) pacer.CountSend(100);
  EXPECT_EQ(pacer.EndPass(t0 + microseconds(800), Idle), microseconds(800))
      << "as long as the pass";
  pacer.CountLine();
  EXPECT_EQ(pacer.EndPass(t0 + milliseconds(50), Idle), Pacer::kMaxPassGap) << "capped";
}

// The line that starts a pass (fanned out just before it) is no sign of being behind on cores
// with room to spare: a room of a few hundred members whose pass takes most of the time between
// two lines would otherwise wait after every line (measured: p50 0.55 -> 1.46 ms at 300 members,
// 1000 lines/s). On saturated cores it is: that room then gathers lines, twice as long.
TEST(PacerTest, ALineBeforeThePassCountsOnlyOnSaturatedCores) {
  Pacer pacer(seconds(1));
  Clock::time_point t0;
  pacer.CountLine();
  pacer.StartPass(t0);
  for (int i = 0; i < 300; ++i) pacer.CountSend(70);
  EXPECT_EQ(pacer.EndPass(t0 + microseconds(700), Idle), Clock::duration::zero());
  pacer.CountLine();
  pacer.StartPass(t0);
  for (int i = 0; i < 300; ++i) pacer.CountSend(70);
  EXPECT_EQ(pacer.EndPass(t0 + microseconds(700), Saturated), microseconds(1400));
  pacer.StartPass(t0);
  for (int i = 0; i < 300; ++i) pacer.CountSend(70);
  EXPECT_EQ(pacer.EndPass(t0 + microseconds(700), Saturated), Clock::duration::zero())
      << "no line since the last pass";
}

TEST(PacerTest, NoGapForAFastPassBigSendsOrNoNewLinesAndNoQuestionAsked) {
  Pacer pacer(seconds(1));
  Clock::time_point t0;
  int asked = 0;
  auto counted = [&asked] {
    ++asked;
    return 1.0;
  };
  pacer.StartPass(t0);
  pacer.CountLine();
  pacer.CountSend(100);
  EXPECT_EQ(pacer.EndPass(t0 + microseconds(100), counted), Clock::duration::zero()) << "fast";
  pacer.StartPass(t0);
  pacer.CountLine();
  pacer.CountSend(64 * 1024);
  EXPECT_EQ(pacer.EndPass(t0 + milliseconds(1), counted), Clock::duration::zero()) << "big sends";
  pacer.StartPass(t0);
  pacer.CountSend(100);
  EXPECT_EQ(pacer.EndPass(t0 + milliseconds(1), counted), Clock::duration::zero())
      << "no new lines";
  EXPECT_EQ(asked, 0) << "the thread's statistics are read only after a slow pass of small sends";
}

}  // namespace
}  // namespace roomchat
