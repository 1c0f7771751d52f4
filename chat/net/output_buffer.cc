#include "chat/net/output_buffer.h"

#include <algorithm>

namespace roomchat {

OutputBuffer::OutputBuffer(const OutputLimits& limits, TimePoint now)
    : limits_(limits), last_drain_(now) {}

bool OutputBuffer::Append(absl::string_view bytes, TimePoint now) {
  if (overflowed_ || unsent() + bytes.size() > limits_.max_bytes) {
    overflowed_ = true;
    refused_bytes_ += bytes.size();
    return false;
  }
  bool was_above = above_high_water();
  if (empty()) {
    data_.clear();
    sent_ = 0;
    last_drain_ = now;
  }
  data_.append(bytes.data(), bytes.size());
  return !was_above && above_high_water();
}

absl::Status OutputBuffer::WriteTo(Transport& transport, size_t max_bytes, TimePoint now,
                                   bool* blocked) {
  *blocked = false;
  size_t written = 0;
  absl::Status status;
  while (!empty() && written < max_bytes) {
    size_t chunk = std::min(unsent(), max_bytes - written);
    absl::StatusOr<size_t> n = transport.Write(data_.data() + sent_, chunk);
    if (!n.ok()) {
      status = n.status();
      break;
    }
    if (*n == 0) {
      *blocked = true;
      break;
    }
    sent_ += *n;
    written += *n;
  }
  if (written > 0) last_drain_ = now;
  if (empty()) {
    if (data_.capacity() > kKeepCapacity) {
      std::string().swap(data_);
    } else {
      data_.clear();
    }
    sent_ = 0;
  } else if (sent_ > kKeepCapacity && sent_ > data_.size() / 2) {
    data_.erase(0, sent_);
    sent_ = 0;
  }
  return status;
}

bool OutputBuffer::Stuck(TimePoint now) {
  if (limits_.soft_bytes == 0 || unsent() <= limits_.soft_bytes) {
    over_soft_since_.reset();
    return false;
  }
  if (!over_soft_since_) over_soft_since_ = now;
  return now - *over_soft_since_ >= limits_.soft_duration;
}

}  // namespace roomchat
