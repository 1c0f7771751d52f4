#include "chat/loop/log_sampling.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

std::vector<uint64_t> Logged(uint64_t first, uint64_t up_to) {
  std::vector<uint64_t> logged;
  for (uint64_t count = 1; count <= up_to; ++count) {
    if (LogsOccurrence(count, first)) logged.push_back(count);
  }
  return logged;
}

TEST(LogSamplingTest, TheFirstFewThenEachPowerOfTwo) {
  EXPECT_EQ(Logged(3, 40), (std::vector<uint64_t>{1, 2, 3, 4, 8, 16, 32}));
  EXPECT_EQ(Logged(1, 40), (std::vector<uint64_t>{1, 2, 4, 8, 16, 32}));
  EXPECT_EQ(Logged(5, 10), (std::vector<uint64_t>{1, 2, 3, 4, 5, 8}));
}

}  // namespace
}  // namespace roomchat
