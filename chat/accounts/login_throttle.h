// LoginThrottle: slows down password guessing. The server keeps one per kind of key (a
// connection's id, a peer's address) and asks it before each login: after `free_failures` failed
// logins, each further failure blocks the key for first_delay, then twice that, and so on up to
// max_delay. A success forgets the key; so does `forget_after` without a failure once its block
// has ended.
//
// Memory is bounded: at most `max_keys` keys are remembered, so an attacker cycling through
// addresses cannot grow the map. When a new key needs room, the keys already forgotten by time go
// first, then the one whose forgetting is nearest (the least recently or least heavily blocked),
// so a key under a long block is the last to lose it.
//
// Time is passed in (the caller's loop time), which keeps the class pure and testable.
//
// Thread contract: not thread-safe; the owner calls it from one thread or under its own lock.
#ifndef ROOMCHAT_CHAT_ACCOUNTS_LOGIN_THROTTLE_H_
#define ROOMCHAT_CHAT_ACCOUNTS_LOGIN_THROTTLE_H_

#include <chrono>
#include <cstddef>
#include <set>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace roomchat {

struct LoginThrottleOptions {
  // Failures a key may have before the first block.
  size_t free_failures = 3;
  // The first block; each further failure doubles it, up to max_delay.
  std::chrono::seconds first_delay{1};
  std::chrono::seconds max_delay{60};
  // A key with no failure for this long after its block ends is forgotten.
  std::chrono::seconds forget_after{600};
  // Keys remembered at most (0: none, so nothing is ever throttled).
  size_t max_keys = 10000;
};

class LoginThrottle {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit LoginThrottle(const LoginThrottleOptions& options);

  // Zero when `key` may try now; otherwise how long it must wait, rounded up to whole seconds.
  std::chrono::seconds WaitFor(absl::string_view key, TimePoint now) const;
  // A failed login of `key` at `now`: past free_failures failures, the key is blocked for
  // first_delay * 2^(failures - free_failures - 1), at most max_delay, from `now`.
  void Failed(absl::string_view key, TimePoint now);
  // A successful login: forgets `key`.
  void Succeeded(absl::string_view key);
  // Keys remembered.
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    size_t failures = 0;
    TimePoint blocked_until;  // the last failure's time when it was free
    TimePoint forget_at;      // blocked_until + forget_after; the key in by_forget_at_
  };

  std::chrono::seconds DelayAfter(size_t failures) const;
  // Drops the keys forgotten by `now`.
  void Expire(TimePoint now);
  void Erase(absl::string_view key);

  // Const after construction.
  const LoginThrottleOptions options_;

  absl::flat_hash_map<std::string, Entry> entries_;
  // The keys of entries_ by forget_at, soonest first: expiry and eviction in O(log n).
  std::set<std::pair<TimePoint, std::string>> by_forget_at_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_ACCOUNTS_LOGIN_THROTTLE_H_
