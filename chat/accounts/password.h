// Password hashes for accounts: Argon2id through libsodium's crypto_pwhash_str, at libsodium's
// "interactive" limits (2 passes over 64 MiB: tens of milliseconds and 64 MiB of memory per hash,
// which is why only the accounts worker thread calls these). A hash is the self-describing
// "$argon2id$v=19$m=...,t=...,p=1$salt$hash" string, with a random salt of its own, so the
// same password never gives the same hash twice and the limits can be raised later (NeedsRehash).
//
// Nothing here logs, and no error message holds a password or a hash.
//
// Thread contract: plain functions; safe from any thread (sodium_init() is called on first use and
// is itself thread-safe and idempotent).
#ifndef ROOMCHAT_CHAT_ACCOUNTS_PASSWORD_H_
#define ROOMCHAT_CHAT_ACCOUNTS_PASSWORD_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace roomchat {

// Initializes libsodium; Internal if it cannot (no source of randomness).
absl::Status InitSodium();

// The Argon2id hash of `password`. ResourceExhausted when the 64 MiB cannot be had.
absl::StatusOr<std::string> HashPassword(absl::string_view password);

// True when `hash` (from HashPassword) is the hash of `password`. Takes the time of one hash
// whatever the answer (the comparison inside libsodium is constant-time); false for a malformed
// hash.
bool VerifyPassword(absl::string_view hash, absl::string_view password);

// True when `hash` was made with other limits (or another algorithm) than HashPassword uses now,
// so the next successful login should store a new hash; also true for a malformed hash.
bool NeedsRehash(absl::string_view hash);

// Overwrites the whole buffer of `secret` (up to its capacity, so bytes of an earlier, longer
// value too) with zeros through sodium_memzero, which the compiler may not drop, and empties it.
void WipeSecret(std::string& secret);

// A password on its way to the worker thread: moved, never copied, and wiped wherever it has been
// (a move of a short std::string copies its bytes, so each move wipes the source too) and when
// it goes. Copies the caller made before handing it over are the caller's to wipe.
class Secret {
 public:
  explicit Secret(std::string&& value) : value_(std::move(value)) { WipeSecret(value); }
  Secret(Secret&& other) : value_(std::move(other.value_)) { WipeSecret(other.value_); }
  Secret& operator=(Secret&&) = delete;
  Secret(const Secret&) = delete;
  ~Secret() { WipeSecret(value_); }

  absl::string_view view() const { return value_; }

 private:
  std::string value_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_ACCOUNTS_PASSWORD_H_
