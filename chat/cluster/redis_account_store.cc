#include "chat/cluster/redis_account_store.h"

#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

constexpr char kHashField[] = "hash";

absl::Status ErrorReply(const RedisReply& reply) {
  return absl::InternalError(absl::StrCat("redis: ", reply.str));
}

// Whether Redis closed the idle connection on `fd` (it restarted, or dropped idle clients): its
// end of file is waiting to be read. Checked before a command is sent, since a command sent on it
// fails without having run, and one that failed cannot be known not to have run.
bool ClosedByPeer(int fd) {
  char byte;
  return recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

}  // namespace

std::string RedisAccountStore::AccountKey(absl::string_view account_key) {
  return absl::StrCat("rc:acct:", account_key);
}

RedisAccountStore::RedisAccountStore(std::string host, int port,
                                     std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

RedisAccountStore::~RedisAccountStore() {
  if (context_ != nullptr) redisFree(context_);
}

absl::StatusOr<RedisReply> RedisAccountStore::Run(const std::vector<std::string>& argv) {
  timeval timeout{static_cast<time_t>(timeout_.count() / 1000),
                  static_cast<suseconds_t>(timeout_.count() % 1000 * 1000)};
  if (context_ != nullptr && ClosedByPeer(context_->fd)) {
    redisFree(context_);
    context_ = nullptr;
  }
  if (context_ == nullptr) {
    context_ = redisConnectWithTimeout(host_.c_str(), port_, timeout);
    if (context_ == nullptr || context_->err != 0) {
      std::string why = context_ != nullptr ? context_->errstr : "out of memory";
      if (context_ != nullptr) redisFree(context_);
      context_ = nullptr;
      return absl::UnavailableError(
          absl::StrCat("accounts: cannot reach redis at ", host_, ":", port_, ": ", why));
    }
    redisSetTimeout(context_, timeout);
  }
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const std::string& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* raw = static_cast<redisReply*>(redisCommandArgv(context_, static_cast<int>(argv.size()),
                                                        args.data(), lengths.data()));
  if (raw == nullptr) {
    std::string why = context_->errstr;
    redisFree(context_);
    context_ = nullptr;
    return absl::UnavailableError(
        absl::StrCat("accounts: redis at ", host_, ":", port_, " failed: ", why));
  }
  RedisReply reply = CopyRedisReply(*raw);
  freeReplyObject(raw);
  return reply;
}

absl::Status RedisAccountStore::CreateAccount(absl::string_view account_key,
                                              absl::string_view nick,
                                              absl::string_view password_hash,
                                              int64_t created_ms) {
  if (account_key.empty() || password_hash.empty()) {
    return absl::InvalidArgumentError("an account needs a key and a hash");
  }
  // HSETNX and the rest in one script: never an account half written.
  static constexpr char kCreate[] =
      "if redis.call('HSETNX', KEYS[1], 'hash', ARGV[1]) == 0 then return 0 end "
      "redis.call('HSET', KEYS[1], 'nick', ARGV[2], 'created_ms', ARGV[3]) return 1";
  absl::StatusOr<RedisReply> created =
      Run({"EVAL", kCreate, "1", AccountKey(account_key), std::string(password_hash),
           std::string(nick), absl::StrCat(created_ms)});
  if (!created.ok()) return created.status();
  if (created->type == RedisReply::Type::kError) return ErrorReply(*created);
  if (created->integer == 0) {
    return absl::AlreadyExistsError(absl::StrCat("account ", account_key, " exists"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> RedisAccountStore::PasswordHash(
    absl::string_view account_key) {
  absl::StatusOr<RedisReply> hash = Run({"HGET", AccountKey(account_key), kHashField});
  if (!hash.ok()) return hash.status();
  if (hash->type == RedisReply::Type::kError) return ErrorReply(*hash);
  if (hash->type == RedisReply::Type::kNil) return std::optional<std::string>();
  return std::optional<std::string>(std::move(hash->str));
}

absl::Status RedisAccountStore::SetPasswordHash(absl::string_view account_key,
                                                absl::string_view password_hash) {
  // HSET only where the account exists (HEXISTS and HSET in one script, so never half done).
  static constexpr char kSetIfExists[] =
      "if redis.call('HEXISTS', KEYS[1], 'hash') == 0 then return 0 end "
      "redis.call('HSET', KEYS[1], 'hash', ARGV[1]) return 1";
  absl::StatusOr<RedisReply> set = Run(
      {"EVAL", kSetIfExists, "1", AccountKey(account_key), std::string(password_hash)});
  if (!set.ok()) return set.status();
  if (set->type == RedisReply::Type::kError) return ErrorReply(*set);
  if (set->integer == 0) return absl::NotFoundError(absl::StrCat("no account ", account_key));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> RedisAccountStore::AccountKeys() {
  std::vector<std::string> keys;
  std::string cursor = "0";
  const std::string prefix = AccountKey("");
  do {
    absl::StatusOr<RedisReply> page =
        Run({"SCAN", cursor, "MATCH", absl::StrCat(prefix, "*"), "COUNT", "1000"});
    if (!page.ok()) {
      LOG(WARNING) << page.status() << "; starting without the list of accounts";
      return std::vector<std::string>{};
    }
    if (page->type != RedisReply::Type::kArray || page->elements.size() != 2) {
      return absl::InternalError("redis: malformed SCAN reply");
    }
    cursor = page->elements[0].str;
    for (const RedisReply& key : page->elements[1].elements) {
      keys.push_back(key.str.substr(prefix.size()));
    }
  } while (cursor != "0");
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace roomchat
