#include "chat/net/output_buffer.h"

#include <chrono>
#include <string>

#include "gtest/gtest.h"

namespace roomchat {
namespace {

using std::chrono::seconds;
using TimePoint = OutputBuffer::TimePoint;

// A transport that takes at most `room` bytes in all, then reports the socket full.
class FakeTransport : public Transport {
 public:
  explicit FakeTransport(size_t room) : room_(room) {}
  int fd() const override { return -1; }
  bool tls() const override { return false; }
  absl::StatusOr<ReadResult> Read(char*, size_t) override {
    return ReadResult{ReadResult::Kind::kWouldBlock};
  }
  absl::StatusOr<size_t> Write(const char* data, size_t size) override {
    if (reset) return absl::AbortedError("reset");
    size_t n = std::min(size, room_);
    room_ -= n;
    taken.append(data, n);
    return n;
  }
  void ShutdownWrite() override {}
  void AddRoom(size_t bytes) { room_ += bytes; }

  std::string taken;
  bool reset = false;

 private:
  size_t room_;
};

OutputLimits Limits() { return {1000, 400, seconds(10), 300}; }

TEST(OutputBufferTest, AppendsUpToTheHardCapThenRefusesAndCountsWhatDidNotFit) {
  TimePoint t0;
  OutputBuffer out(Limits(), t0);
  out.Append(std::string(600, 'a'), t0);
  EXPECT_FALSE(out.overflowed());
  out.Append(std::string(400, 'b'), t0);  // exactly at the cap: still fits
  EXPECT_FALSE(out.overflowed());
  EXPECT_EQ(out.unsent(), 1000u);
  out.Append("x", t0);
  EXPECT_TRUE(out.overflowed());
  EXPECT_EQ(out.refused_bytes(), 1u);
  out.Append("yy", t0);  // refused too, and counted
  EXPECT_EQ(out.refused_bytes(), 3u);
  EXPECT_EQ(out.unsent(), 1000u);
}

TEST(OutputBufferTest, ReportsCrossingTheHighWaterMarkOnce) {
  TimePoint t0;
  OutputBuffer out(Limits(), t0);
  EXPECT_FALSE(out.Append(std::string(300, 'a'), t0)) << "at the mark is not above it";
  EXPECT_TRUE(out.Append("b", t0));
  EXPECT_TRUE(out.above_high_water());
  EXPECT_FALSE(out.Append("c", t0)) << "already above: no second report";
}

TEST(OutputBufferTest, WritesWhatTheSocketTakesAndKeepsTheRestInOrder) {
  TimePoint t0;
  TimePoint t1 = t0 + seconds(1);
  OutputBuffer out(Limits(), t0);
  out.Append("hello ", t0);
  out.Append("world\n", t0);
  FakeTransport transport(4);
  bool blocked = false;
  ASSERT_TRUE(out.WriteTo(transport, 1000, t1, &blocked).ok());
  EXPECT_TRUE(blocked);
  EXPECT_EQ(transport.taken, "hell");
  EXPECT_EQ(out.unsent(), 8u);
  EXPECT_EQ(out.last_drain(), t1);
  transport.AddRoom(100);
  ASSERT_TRUE(out.WriteTo(transport, 3, t1, &blocked).ok());  // capped per call
  EXPECT_FALSE(blocked);
  EXPECT_EQ(transport.taken, "hello w");
  ASSERT_TRUE(out.WriteTo(transport, 1000, t1, &blocked).ok());
  EXPECT_EQ(transport.taken, "hello world\n");
  EXPECT_TRUE(out.empty());
}

TEST(OutputBufferTest, AResetIsReportedAndNothingIsLostFromTheBuffer) {
  TimePoint t0;
  OutputBuffer out(Limits(), t0);
  out.Append("line\n", t0);
  FakeTransport transport(100);
  transport.reset = true;
  bool blocked;
  EXPECT_TRUE(absl::IsAborted(out.WriteTo(transport, 1000, t0, &blocked)));
  EXPECT_EQ(out.unsent(), 5u);
}

TEST(OutputBufferTest, ASentPrefixIsCompactedAndADrainedBufferReleasesItsMemory) {
  TimePoint t0;
  OutputLimits big{1 << 22, 0, seconds(0), 1 << 21};
  OutputBuffer out(big, t0);
  out.Append(std::string(300 * 1024, 'a'), t0);
  FakeTransport transport(200 * 1024);
  bool blocked;
  ASSERT_TRUE(out.WriteTo(transport, 1 << 22, t0, &blocked).ok());
  // More than kKeepCapacity and more than half was sent: the sent prefix is dropped.
  EXPECT_EQ(out.unsent(), 100u * 1024);
  EXPECT_EQ(transport.taken.size(), 200u * 1024);
  out.Append("tail", t0);
  transport.AddRoom(1 << 20);
  ASSERT_TRUE(out.WriteTo(transport, 1 << 22, t0, &blocked).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(transport.taken.size(), 300u * 1024 + 4);
  EXPECT_EQ(transport.taken.substr(transport.taken.size() - 4), "tail");
  EXPECT_LE(out.TEST_capacity(), OutputBuffer::kKeepCapacity) << "a burst must not pin memory";
}

TEST(OutputBufferTest, StuckAfterStayingAboveTheSoftCapForItsDuration) {
  TimePoint t0;
  OutputBuffer out(Limits(), t0);
  out.Append(std::string(500, 'a'), t0);  // above the 400-byte soft cap
  EXPECT_FALSE(out.Stuck(t0));
  EXPECT_FALSE(out.Stuck(t0 + seconds(9)));
  // Dropping below resets the clock.
  FakeTransport transport(200);
  bool blocked;
  ASSERT_TRUE(out.WriteTo(transport, 1000, t0 + seconds(9), &blocked).ok());
  EXPECT_FALSE(out.Stuck(t0 + seconds(9)));
  out.Append(std::string(200, 'b'), t0 + seconds(9));
  EXPECT_FALSE(out.Stuck(t0 + seconds(10)));
  EXPECT_FALSE(out.Stuck(t0 + seconds(19)));
  EXPECT_TRUE(out.Stuck(t0 + seconds(20)));
}

TEST(OutputBufferTest, LastDrainMovesWhenBytesLeaveOrAnEmptyBufferGetsNewOutput) {
  TimePoint t0;
  OutputBuffer out(Limits(), t0);
  out.Append("a", t0 + seconds(5));
  EXPECT_EQ(out.last_drain(), t0 + seconds(5)) << "an empty buffer's reader was caught up";
  out.Append("b", t0 + seconds(6));
  EXPECT_EQ(out.last_drain(), t0 + seconds(5)) << "not empty: no progress";
  FakeTransport full(0);
  bool blocked;
  ASSERT_TRUE(out.WriteTo(full, 100, t0 + seconds(7), &blocked).ok());
  EXPECT_EQ(out.last_drain(), t0 + seconds(5)) << "nothing left: no progress";
}

}  // namespace
}  // namespace roomchat
