#include "bench/histogram.h"

#include <algorithm>
#include <cmath>

namespace roomchat {

int LatencyHistogram::IndexOf(uint64_t value) {
  if (value < kSubBuckets) return static_cast<int>(value);
  int exponent = 63 - __builtin_clzll(value);  // >= kSubBucketBits
  int sub = static_cast<int>((value >> (exponent - kSubBucketBits)) & (kSubBuckets - 1));
  return (exponent - kSubBucketBits + 1) * kSubBuckets + sub;
}

int64_t LatencyHistogram::ValueOf(int index) {
  if (index < kSubBuckets) return index;
  int exponent = index / kSubBuckets + kSubBucketBits - 1;
  int sub = index % kSubBuckets;
  int shift = exponent - kSubBucketBits;
  int64_t lower = static_cast<int64_t>(kSubBuckets + sub) << shift;
  return lower + ((int64_t{1} << shift) >> 1);
}

void LatencyHistogram::Record(int64_t nanos) {
  if (nanos < 0) nanos = 0;
  ++counts_[IndexOf(static_cast<uint64_t>(nanos))];
  ++count_;
  max_ = std::max(max_, nanos);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

int64_t LatencyHistogram::Percentile(double percent) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  if (rank == count_) return max_;  // The top sample is known exactly.
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(ValueOf(i), max_);
  }
  return max_;
}

}  // namespace roomchat
