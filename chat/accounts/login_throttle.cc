#include "chat/accounts/login_throttle.h"

#include <algorithm>

namespace roomchat {

LoginThrottle::LoginThrottle(const LoginThrottleOptions& options) : options_(options) {}

std::chrono::seconds LoginThrottle::WaitFor(absl::string_view key, TimePoint now) const {
  auto found = entries_.find(key);
  if (found == entries_.end() || found->second.blocked_until <= now) {
    return std::chrono::seconds::zero();
  }
  return std::chrono::ceil<std::chrono::seconds>(found->second.blocked_until - now);
}

std::chrono::seconds LoginThrottle::DelayAfter(size_t failures) const {
  if (failures <= options_.free_failures) return std::chrono::seconds::zero();
  std::chrono::seconds delay = options_.first_delay;
  // Doubles failures - free_failures - 1 times; stops at the cap (which also keeps it from
  // overflowing however many failures there were).
  for (size_t doublings = failures - options_.free_failures - 1;
       doublings > 0 && delay < options_.max_delay; --doublings) {
    delay *= 2;
  }
  return std::min(delay, options_.max_delay);
}

void LoginThrottle::Failed(absl::string_view key, TimePoint now) {
  Expire(now);
  auto found = entries_.find(key);
  if (found == entries_.end()) {
    if (options_.max_keys == 0) return;
    if (entries_.size() >= options_.max_keys) {
      // The key whose forgetting is nearest; copied, as erasing it frees the string.
      std::string evicted = by_forget_at_.begin()->second;
      Erase(evicted);
    }
    found = entries_.emplace(std::string(key), Entry()).first;
  } else {
    by_forget_at_.erase({found->second.forget_at, found->first});
  }
  Entry& entry = found->second;
  ++entry.failures;
  entry.blocked_until = now + DelayAfter(entry.failures);
  entry.forget_at = entry.blocked_until + options_.forget_after;
  by_forget_at_.emplace(entry.forget_at, found->first);
}

void LoginThrottle::Succeeded(absl::string_view key) { Erase(key); }

void LoginThrottle::Expire(TimePoint now) {
  while (!by_forget_at_.empty() && by_forget_at_.begin()->first <= now) {
    entries_.erase(by_forget_at_.begin()->second);
    by_forget_at_.erase(by_forget_at_.begin());
  }
}

void LoginThrottle::Erase(absl::string_view key) {
  auto found = entries_.find(key);
  if (found == entries_.end()) return;
  by_forget_at_.erase({found->second.forget_at, found->first});
  entries_.erase(found);
}

}  // namespace roomchat
