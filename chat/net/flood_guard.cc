#include "chat/net/flood_guard.h"

#include <algorithm>

namespace roomchat {

FloodGuard::FloodGuard(const FloodLimits& limits, std::chrono::steady_clock::time_point now)
    : limits_(limits), tokens_(limits.burst), last_refill_(now) {}

FloodGuard::Verdict FloodGuard::OnLine(std::chrono::steady_clock::time_point now) {
  if (limits_.lines_per_s <= 0) return Verdict::kAccept;
  std::chrono::duration<double> elapsed = now - last_refill_;
  if (elapsed.count() > 0) {
    tokens_ = std::min(limits_.burst, tokens_ + elapsed.count() * limits_.lines_per_s);
    last_refill_ = now;
  }
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
