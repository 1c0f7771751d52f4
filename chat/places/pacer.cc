#include "chat/places/pacer.h"

#include <algorithm>

namespace roomchat {

void Pacer::Track(ClientId id, Clock::time_point last_drain) { tracked_[id] = last_drain; }

bool Pacer::Drained(ClientId id, bool above_high_water, Clock::time_point now) {
  auto it = tracked_.find(id);
  if (it == tracked_.end()) return false;
  if (above_high_water) {
    it->second = now;
    return false;
  }
  tracked_.erase(it);
  return true;
}

bool Pacer::InputPaused(Clock::time_point now) const {
  for (const auto& [id, last_drain] : tracked_) {
    if (now - last_drain < stall_after_) return true;
  }
  return false;
}

Clock::time_point Pacer::PauseRecheck(Clock::time_point now) const {
  Clock::time_point earliest = Clock::time_point::max();
  for (const auto& [id, last_drain] : tracked_) {
    Clock::time_point stalls_at = last_drain + stall_after_;
    if (stalls_at > now) earliest = std::min(earliest, stalls_at);
  }
  return earliest;
}

void Pacer::StartPass(Clock::time_point now) {
  pass_started_ = now;
  pass_lines_ = 0;
  pass_sends_ = 0;
  pass_bytes_ = 0;
}

Clock::duration Pacer::EndPass(Clock::time_point now, absl::FunctionRef<double()> wait_share) {
  const size_t lines = lines_since_pass_;
  lines_since_pass_ = 0;
  Clock::duration took = now - pass_started_;
  bool small_sends = pass_sends_ > 0 && pass_bytes_ / pass_sends_ < kSmallSend;
  if (lines == 0 || took < kSlowPass || !small_sends) return Clock::duration::zero();
  if (wait_share() >= kSaturatedWaitShare) return std::min<Clock::duration>(2 * took, kMaxPassGap);
  if (pass_lines_ == 0) return Clock::duration::zero();
  return std::min<Clock::duration>(took, kMaxPassGap);
}

}  // namespace roomchat
