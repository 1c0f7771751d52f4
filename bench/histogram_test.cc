#include "bench/histogram.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

TEST(LatencyHistogramTest, PercentilesOfAUniformSpread) {
  LatencyHistogram histogram;
  for (int64_t v = 1; v <= 100000; ++v) histogram.Record(v * 1000);  // 1 us .. 100 ms
  EXPECT_EQ(histogram.count(), 100000u);
  EXPECT_EQ(histogram.max(), 100000000);
  // Within the 1/32 bucket resolution.
  EXPECT_NEAR(histogram.Percentile(50), 50e6, 50e6 / 32);
  EXPECT_NEAR(histogram.Percentile(99), 99e6, 99e6 / 32);
  EXPECT_NEAR(histogram.Percentile(99.9), 99.9e6, 99.9e6 / 32);
  EXPECT_EQ(histogram.Percentile(100), 100000000);
}

TEST(LatencyHistogramTest, ExactForSmallValuesAndBoundedByMax) {
  LatencyHistogram histogram;
  for (int64_t v : {3, 3, 7, 31}) histogram.Record(v);
  EXPECT_EQ(histogram.Percentile(50), 3);
  EXPECT_EQ(histogram.Percentile(75), 7);
  EXPECT_EQ(histogram.Percentile(100), 31);
}

TEST(LatencyHistogramTest, MergesAndClears) {
  LatencyHistogram a, b;
  for (int i = 0; i < 90; ++i) a.Record(1000);
  for (int i = 0; i < 10; ++i) b.Record(1000000);
  a.Merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_NEAR(a.Percentile(50), 1000, 1000 / 32);
  EXPECT_NEAR(a.Percentile(95), 1000000, 1000000 / 32);
  a.Clear();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.Percentile(99), 0);
}

TEST(LatencyHistogramTest, HandlesExtremes) {
  LatencyHistogram histogram;
  histogram.Record(-5);  // clock skew: counted as 0
  histogram.Record(INT64_MAX);
  EXPECT_EQ(histogram.Percentile(50), 0);
  EXPECT_EQ(histogram.Percentile(100), INT64_MAX);
}

}  // namespace
}  // namespace roomchat
