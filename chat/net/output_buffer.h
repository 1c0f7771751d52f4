// OutputBuffer: a connection's unsent output, with the limits that decide when its reader has
// fallen too far behind.
//
//   hard cap    Append() past max_bytes refuses the bytes and marks the buffer overflowed (the
//               owner disconnects the connection); the refused bytes are counted for the log.
//   soft cap    unsent output above soft_bytes for soft_duration makes Stuck() true (Redis's rule).
//   high water  unsent output above high_water_bytes means the place should stop taking input
//               that would add to it (docs/RELIABILITY.md, flow control). Append() reports the
//               crossing once, so the owner can start tracking the connection.
// A drained buffer larger than kKeepCapacity is released, and a large sent prefix is compacted
// away, so a burst does not pin memory per idle connection.
//
// Time is passed in. Thread contract: not thread-safe; owned with its Connection.
#ifndef ROOMCHAT_CHAT_NET_OUTPUT_BUFFER_H_
#define ROOMCHAT_CHAT_NET_OUTPUT_BUFFER_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "chat/net/transport.h"

namespace roomchat {

struct OutputLimits {
  size_t max_bytes;
  size_t soft_bytes;  // 0: no soft cap
  std::chrono::seconds soft_duration;
  size_t high_water_bytes;
};

class OutputBuffer {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr size_t kKeepCapacity = 64 * 1024;

  OutputBuffer(const OutputLimits& limits, TimePoint now);

  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;

  // Appends `bytes` at `now`, or refuses all of them when that would pass the hard cap (and every
  // later append). True when this append took the unsent output above the high-water mark.
  bool Append(absl::string_view bytes, TimePoint now);
  // Writes up to `max_bytes` through `transport`, stopping when the socket is full. False in
  // `*blocked` when everything offered was taken. Errors are the transport's.
  absl::Status WriteTo(Transport& transport, size_t max_bytes, TimePoint now, bool* blocked);

  bool empty() const { return sent_ == data_.size(); }
  size_t unsent() const { return data_.size() - sent_; }
  bool overflowed() const { return overflowed_; }
  // Bytes refused by the hard cap.
  size_t refused_bytes() const { return refused_bytes_; }
  bool above_high_water() const { return unsent() > limits_.high_water_bytes; }
  // When the reader last made progress: bytes left, or the buffer was empty (a reader with
  // nothing to read is caught up). A reader that reads keeps this recent.
  TimePoint last_drain() const { return last_drain_; }
  // True once unsent output has stayed above the soft cap for the soft duration. Tracks when it
  // went above; call after each write and periodically.
  bool Stuck(TimePoint now);
  // For tests: bytes held, sent or not.
  size_t TEST_capacity() const { return data_.capacity(); }

 private:
  // Const after construction.
  const OutputLimits limits_;

  std::string data_;
  size_t sent_ = 0;  // data_[0, sent_) has been written
  bool overflowed_ = false;
  size_t refused_bytes_ = 0;
  TimePoint last_drain_;
  std::optional<TimePoint> over_soft_since_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_NET_OUTPUT_BUFFER_H_
