#include "chat/accounts/password.h"

#include <sodium.h>

#include <vector>

namespace roomchat {
namespace {

// libsodium reads C strings: a hash is NUL-terminated and holds no NUL of its own.
bool IsHashString(absl::string_view hash) {
  return !hash.empty() && hash.size() < crypto_pwhash_STRBYTES &&
         hash.find('\0') == absl::string_view::npos;
}

}  // namespace

absl::Status InitSodium() {
  if (sodium_init() < 0) return absl::InternalError("password: libsodium cannot be initialized");
  return absl::OkStatus();
}

absl::StatusOr<std::string> HashPassword(absl::string_view password) {
  if (absl::Status ready = InitSodium(); !ready.ok()) return ready;
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return absl::ResourceExhaustedError(
        "password: cannot hash (out of memory for Argon2id's interactive limits)");
  }
  return std::string(hash);
}

bool VerifyPassword(absl::string_view hash, absl::string_view password) {
  if (!InitSodium().ok() || !IsHashString(hash)) return false;
  std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool NeedsRehash(absl::string_view hash) {
  if (!InitSodium().ok() || !IsHashString(hash)) return true;
  std::string terminated(hash);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

void WipeSecret(std::string& secret) {
  // resize() within the capacity never reallocates, and makes every byte of the buffer ours to
  // write.
  secret.resize(secret.capacity());
  sodium_memzero(secret.data(), secret.size());
  secret.clear();
}

}  // namespace roomchat
