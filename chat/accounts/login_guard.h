// LoginGuard: the slowdown of failed logins (docs/PROTOCOL.md, "Accounts"), per connection and per
// source address, shared by every place: a failure on one connection counts against its address
// wherever the next attempt comes from.
//
// Thread contract: every method is safe from any thread (one mutex, held for map updates only).
#ifndef ROOMCHAT_CHAT_ACCOUNTS_LOGIN_GUARD_H_
#define ROOMCHAT_CHAT_ACCOUNTS_LOGIN_GUARD_H_

#include <chrono>
#include <cstdint>
#include <functional>

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "chat/accounts/login_throttle.h"

namespace roomchat {

// Whether `address` (an IP address as text, no port) is a loopback address.
bool IsLoopbackAddress(absl::string_view address);

class LoginGuard {
 public:
  using Clock = std::chrono::steady_clock;
  // Password jobs (/register, /login, /password) one address may have waiting for the accounts
  // thread at once: failures are counted when a job is answered, so without this bound an address
  // could put many guesses in flight past one check of its wait (an attacker's run did, with 64).
  static constexpr int kMaxInFlightPerAddress = 2;

  LoginGuard(const LoginThrottleOptions& per_connection, const LoginThrottleOptions& per_address);

  LoginGuard(const LoginGuard&) = delete;
  LoginGuard& operator=(const LoginGuard&) = delete;

  // Zero when client `connection` from `address` may try a password now; else how long it waits.
  std::chrono::seconds WaitFor(uint64_t connection, absl::string_view address,
                               Clock::time_point now) const;
  void Failed(uint64_t connection, absl::string_view address, Clock::time_point now);
  // Starts a password job from `address`: false when kMaxInFlightPerAddress are in flight. Each
  // true is followed by one Finished().
  bool TryBegin(absl::string_view address);
  void Finished(absl::string_view address);
  // A /register from `address` counts against it like a failed login, so one address cannot make
  // the server hash (and store) accounts faster than it could guess passwords.
  void Registering(absl::string_view address, Clock::time_point now);
  // In a cluster: `share` (set before any use) is told of each failure and /register counted
  // against an address here, for the other nodes; what they share comes back through
  // FailedElsewhere(), which counts against the address only.
  void SetShare(std::function<void(const std::string& address)> share) { share_ = std::move(share); }
  void FailedElsewhere(absl::string_view address, Clock::time_point now);
  // Clears the connection's count (not its address's: one good password must not reset the
  // limit for guesses at every other account from that address).
  void Succeeded(uint64_t connection);

 private:
  std::function<void(const std::string& address)> share_;  // set before use; then const
  mutable absl::Mutex mu_;
  LoginThrottle connections_ ABSL_GUARDED_BY(mu_);
  LoginThrottle addresses_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> in_flight_ ABSL_GUARDED_BY(mu_);  // by address
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_ACCOUNTS_LOGIN_GUARD_H_
