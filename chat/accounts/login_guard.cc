#include "chat/accounts/login_guard.h"

#include <algorithm>
#include <string>

#include "absl/strings/match.h"

namespace roomchat {
namespace {

std::string ConnectionKey(uint64_t connection) { return std::to_string(connection); }

}  // namespace

bool IsLoopbackAddress(absl::string_view address) {
  return absl::StartsWith(address, "127.") || address == "::1" ||
         absl::StartsWith(address, "::ffff:127.");
}

LoginGuard::LoginGuard(const LoginThrottleOptions& per_connection,
                       const LoginThrottleOptions& per_address)
    : connections_(per_connection), addresses_(per_address) {}

std::chrono::seconds LoginGuard::WaitFor(uint64_t connection, absl::string_view address,
                                         Clock::time_point now) const {
  absl::MutexLock lock(&mu_);
  return std::max(connections_.WaitFor(ConnectionKey(connection), now),
                  addresses_.WaitFor(address, now));
}

void LoginGuard::Failed(uint64_t connection, absl::string_view address, Clock::time_point now) {
  {
    absl::MutexLock lock(&mu_);
    connections_.Failed(ConnectionKey(connection), now);
  }
  Registering(address, now);
}

bool LoginGuard::TryBegin(absl::string_view address) {
  absl::MutexLock lock(&mu_);
  int& in_flight = in_flight_[address];
  if (in_flight >= kMaxInFlightPerAddress) return false;
  ++in_flight;
  return true;
}

void LoginGuard::Finished(absl::string_view address) {
  absl::MutexLock lock(&mu_);
  auto it = in_flight_.find(address);
  if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
}

void LoginGuard::Registering(absl::string_view address, Clock::time_point now) {
  FailedElsewhere(address, now);
  if (share_) share_(std::string(address));
}

void LoginGuard::FailedElsewhere(absl::string_view address, Clock::time_point now) {
  absl::MutexLock lock(&mu_);
  addresses_.Failed(address, now);
}

void LoginGuard::Succeeded(uint64_t connection) {
  absl::MutexLock lock(&mu_);
  connections_.Succeeded(ConnectionKey(connection));
}

}  // namespace roomchat
