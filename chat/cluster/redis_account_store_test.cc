// RedisAccountStore against a redis-server of the test's own.
#include "chat/cluster/redis_account_store.h"

#include <optional>
#include <string>

#include "chat/cluster/test_redis.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

// Redis restarted: the first account command after it is answered, not failed on the connection
// Redis closed (an attacker's review saw the first /login on each node after any restart answered
// ERR unavailable).
TEST(RedisAccountStoreTest, TheFirstCommandAfterRedisRestartedIsAnswered) {
  TestRedis redis;
  ASSERT_TRUE(redis.Start().ok());
  RedisAccountStore store("127.0.0.1", redis.port());
  ASSERT_TRUE(store.CreateAccount("alice", "Alice", "hash-a", 1).ok());
  ASSERT_TRUE(redis.Restart().ok());  // empty
  absl::StatusOr<std::optional<std::string>> hash = store.PasswordHash("alice");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(*hash, std::nullopt) << "Redis came back empty";
  EXPECT_TRUE(store.CreateAccount("alice", "Alice", "hash-b", 2).ok());
  hash = store.PasswordHash("alice");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(*hash, "hash-b");
}

}  // namespace
}  // namespace roomchat
