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

TEST(PacerTest, ASlowPassOfSmallSendsWithLinesToSendIsFollowedByAGap) {
  Pacer pacer(seconds(1));
  Clock::time_point t0;
  pacer.StartPass(t0);
  pacer.CountLine();
  for (int i = 0; i < 10; ++i) pacer.CountSend(100);
  EXPECT_EQ(pacer.EndPass(t0 + microseconds(800)), microseconds(1600)) << "twice the pass";
  pacer.CountLine();
  EXPECT_EQ(pacer.EndPass(t0 + milliseconds(50)), Pacer::kMaxPassGap) << "capped";
}

// A part of a room in a cluster reads no line from its members: the lines it fans out come from
// the link, each one just before the pass it starts. They count all the same.
TEST(PacerTest, ALineFannedOutBeforeThePassStartedCounts) {
  Pacer pacer(seconds(1));
  Clock::time_point t0;
  pacer.CountLine();
  pacer.StartPass(t0);
  for (int i = 0; i < 300; ++i) pacer.CountSend(70);
  EXPECT_EQ(pacer.EndPass(t0 + microseconds(700)), microseconds(1400));
  pacer.StartPass(t0 + milliseconds(2));
  for (int i = 0; i < 300; ++i) pacer.CountSend(70);
  EXPECT_EQ(pacer.EndPass(t0 + milliseconds(3)), Clock::duration::zero())
      << "counted for one pass only: nothing new since";
}

TEST(PacerTest, NoGapForAFastPassBigSendsOrNoNewLines) {
  Pacer pacer(seconds(1));
  Clock::time_point t0;
  pacer.StartPass(t0);
  pacer.CountLine();
  pacer.CountSend(100);
  EXPECT_EQ(pacer.EndPass(t0 + microseconds(100)), Clock::duration::zero()) << "fast";
  pacer.StartPass(t0);
  pacer.CountLine();
  pacer.CountSend(64 * 1024);
  EXPECT_EQ(pacer.EndPass(t0 + milliseconds(1)), Clock::duration::zero()) << "big sends";
  pacer.StartPass(t0);
  pacer.CountSend(100);
  EXPECT_EQ(pacer.EndPass(t0 + milliseconds(1)), Clock::duration::zero()) << "no new lines";
}

}  // namespace
}  // namespace roomchat
