// LatencyHistogram: a log-bucket histogram of durations in nanoseconds, in the manner of
// HdrHistogram: 32 sub-buckets per power of two (about 3% resolution), fixed memory (1,920
// counters) whatever the number of samples, mergeable across threads.
//
// Thread contract: not thread-safe; each thread records into its own and they are merged.
#ifndef ROOMCHAT_BENCH_HISTOGRAM_H_
#define ROOMCHAT_BENCH_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace roomchat {

class LatencyHistogram {
 public:
  void Record(int64_t nanos);
  void Merge(const LatencyHistogram& other);
  void Clear() { *this = LatencyHistogram(); }

  uint64_t count() const { return count_; }
  int64_t max() const { return max_; }
  // The value below which `percent` of the samples fall (0 < percent <= 100), to within the bucket
  // resolution; 0 when empty.
  int64_t Percentile(double percent) const;

 private:
  static constexpr int kSubBucketBits = 5;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBuckets = (64 - kSubBucketBits + 1) * kSubBuckets;

  static int IndexOf(uint64_t value);
  // The midpoint of the values that fall in bucket `index`.
  static int64_t ValueOf(int index);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  int64_t max_ = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_BENCH_HISTOGRAM_H_
