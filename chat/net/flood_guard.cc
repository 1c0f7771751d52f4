#include "chat/net/flood_guard.h"

#include <algorithm>

namespace roomchat {

FloodGuard::FloodGuard(const FloodLimits& limits, std::chrono::steady_clock::time_point now)
    : limits_(limits), tokens_(limits.burst), last_refill_(now), caught_up_at_(now - kCatchUpGrace) {}

void FloodGuard::Refill(std::chrono::steady_clock::time_point now) {
  std::chrono::duration<double> elapsed = now - last_refill_;
  if (elapsed.count() <= 0) return;
  double refilled = tokens_ + elapsed.count() * limits_.lines_per_s;
  // Backlogged, or just caught up: no cap. Otherwise capped at the burst.
  bool uncapped = backlogged_ || now - caught_up_at_ < kCatchUpGrace;
  tokens_ = uncapped ? refilled : std::min(limits_.burst, refilled);
  last_refill_ = now;
}

void FloodGuard::Backlogged(std::chrono::steady_clock::time_point now) {
  if (backlogged_ || limits_.lines_per_s <= 0) return;
  Refill(now);
  backlogged_ = true;
}

void FloodGuard::CaughtUp(std::chrono::steady_clock::time_point now) {
  if (!backlogged_) return;
  Refill(now);
  backlogged_ = false;
  caught_up_at_ = now;
}

FloodGuard::Verdict FloodGuard::OnLine(std::chrono::steady_clock::time_point now) {
  if (limits_.lines_per_s <= 0) return Verdict::kAccept;
  Refill(now);
  if (tokens_ >= 1) {
    tokens_ -= 1;
    dropped_in_flood_ = 0;
    return Verdict::kAccept;
  }
  ++dropped_total_;
  ++dropped_in_flood_;
  if (dropped_in_flood_ > limits_.disconnect_after) return Verdict::kDisconnect;
  return dropped_in_flood_ == 1 ? Verdict::kDropFirst : Verdict::kDrop;
}

}  // namespace roomchat
