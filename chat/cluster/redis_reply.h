// RedisReply: a reply from Redis as the cluster's code reads it, copied out of hiredis, and what
// an error reply says.
//
// Thread contract: plain values and pure functions, safe from any thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_REDIS_REPLY_H_
#define ROOMCHAT_CHAT_CLUSTER_REDIS_REPLY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

struct redisReply;

namespace roomchat {

// A reply, copied out of hiredis's redisReply so it can leave the link thread.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;                   // kString, kStatus, kError
  int64_t integer = 0;               // kInteger
  std::vector<RedisReply> elements;  // kArray
};

// A copy of hiredis's reply (for a synchronous hiredis connection's replies too).
RedisReply CopyRedisReply(const redisReply& reply);

// An error reply's code: its first word ("OOM", "ERR", "NOSCRIPT", ...).
absl::string_view RedisErrorCode(absl::string_view error);

// Whether an error reply says Redis did not run the command because of its own state (out of
// memory, a read-only replica, a failed save, loading, a busy script), not because of the
// command: the same command may succeed later.
bool IsRefusal(absl::string_view error);

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_REDIS_REPLY_H_
