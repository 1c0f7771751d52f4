#include "chat/cluster/redis_reply.h"

#include <hiredis/hiredis.h>

namespace roomchat {

RedisReply CopyRedisReply(const redisReply& in) {
  RedisReply out;
  switch (in.type) {
    case REDIS_REPLY_STRING: out.type = RedisReply::Type::kString; break;
    case REDIS_REPLY_STATUS: out.type = RedisReply::Type::kStatus; break;
    case REDIS_REPLY_ERROR: out.type = RedisReply::Type::kError; break;
    case REDIS_REPLY_INTEGER: out.type = RedisReply::Type::kInteger; break;
    case REDIS_REPLY_ARRAY: out.type = RedisReply::Type::kArray; break;
    default: out.type = RedisReply::Type::kNil; break;
  }
  if (in.str != nullptr) out.str.assign(in.str, in.len);
  out.integer = in.integer;
  if (in.type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(in.elements);
    for (size_t i = 0; i < in.elements; ++i) {
      out.elements.push_back(CopyRedisReply(*in.element[i]));
    }
  }
  return out;
}

absl::string_view RedisErrorCode(absl::string_view error) {
  return error.substr(0, error.find(' '));
}

bool IsRefusal(absl::string_view error) {
  static constexpr absl::string_view kRefusals[] = {"OOM",     "READONLY",   "MISCONF",
                                                    "LOADING", "MASTERDOWN", "NOREPLICAS",
                                                    "BUSY",    "TRYAGAIN",   "CLUSTERDOWN"};
  const absl::string_view code = RedisErrorCode(error);
  for (absl::string_view refusal : kRefusals) {
    if (code == refusal) return true;
  }
  return false;
}

}  // namespace roomchat
