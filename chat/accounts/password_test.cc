#include "chat/accounts/password.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

// Each hash (and each verify) costs 64 MiB and, on a loaded 2-core machine, up to ~0.4 s: the
// tests make eight.
TEST(PasswordTest, AHashVerifiesItsPasswordAndNoOther) {
  absl::StatusOr<std::string> hash = HashPassword("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_TRUE(absl::StartsWith(*hash, "$argon2id$")) << "the Argon2id string format";
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horsf"));
  EXPECT_FALSE(NeedsRehash(*hash));
}

TEST(PasswordTest, TheSamePasswordHashesDifferentlyEachTime) {
  absl::StatusOr<std::string> first = HashPassword("same");
  absl::StatusOr<std::string> second = HashPassword("same");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second) << "salted";
  EXPECT_TRUE(VerifyPassword(*second, "same"));
}

TEST(PasswordTest, PasswordsWithNulAndNonAsciiBytesHash) {
  std::string password("nul\0inside é", 13);
  absl::StatusOr<std::string> hash = HashPassword(password);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(VerifyPassword(*hash, password));
  EXPECT_FALSE(VerifyPassword(*hash, "nul")) << "the whole password counts, not up to the NUL";
}

TEST(PasswordTest, MalformedHashesNeverVerify) {
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "x"));
  EXPECT_FALSE(VerifyPassword(std::string("$argon2id$\0", 11), "x"));
  EXPECT_TRUE(NeedsRehash("not a hash"));
}

TEST(PasswordTest, WipeSecretZeroesTheWholeBuffer) {
  std::string secret = "a password long enough to live on the heap";
  secret.resize(3);  // the rest of the bytes are still in the buffer
  WipeSecret(secret);
  EXPECT_TRUE(secret.empty());
  secret.resize(secret.capacity());
  EXPECT_EQ(secret, std::string(secret.size(), '\0'));
}

TEST(PasswordTest, ASecretWipesWhatItWasMovedFrom) {
  std::string password = "short";  // in the string's own buffer: a move copies it
  Secret secret(std::move(password));
  password.resize(password.capacity());
  EXPECT_EQ(password, std::string(password.size(), '\0'));
  Secret moved(std::move(secret));
  EXPECT_EQ(moved.view(), "short");
  EXPECT_EQ(secret.view(), "");
}

}  // namespace
}  // namespace roomchat
