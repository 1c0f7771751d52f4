// RedisAccountStore: a cluster's accounts, in the Redis the nodes share (docs/CLUSTER.md,
// "Accounts and room settings across nodes"), so an account registered on one node logs in on any:
//
//   rc:acct:<account>   HASH  hash (the Argon2id string), nick (as registered), created_ms
//
// A registration is HSETNX on the hash field: of two nodes registering one nick at once, one wins
// and the other gets AlreadyExists. The accounts worker thread (AccountService) is the only
// caller and may block, so this talks to Redis through a synchronous hiredis connection of its
// own, with a timeout, connected on first use and again after a failure or once Redis closed it
// (a restart: the first command after it used to fail); nothing here runs on a
// lobby, room or link thread. Registered rooms are not kept across nodes yet: SaveRoom keeps
// nothing and LoadRooms finds nothing (moderation is refused in a cluster).
//
// Thread contract: not thread-safe; one thread calls every method (AccountStore's contract).
#ifndef ROOMCHAT_CHAT_CLUSTER_REDIS_ACCOUNT_STORE_H_
#define ROOMCHAT_CHAT_CLUSTER_REDIS_ACCOUNT_STORE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chat/accounts/account_store.h"
#include "chat/cluster/redis_link.h"

struct redisContext;

namespace roomchat {

class RedisAccountStore final : public AccountStore {
 public:
  static std::string AccountKey(absl::string_view account_key);  // rc:acct:<account>

  RedisAccountStore(std::string host, int port,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  ~RedisAccountStore() override;

  RedisAccountStore(const RedisAccountStore&) = delete;
  RedisAccountStore& operator=(const RedisAccountStore&) = delete;

  absl::Status CreateAccount(absl::string_view account_key, absl::string_view nick,
                             absl::string_view password_hash, int64_t created_ms) override;
  absl::StatusOr<std::optional<std::string>> PasswordHash(absl::string_view account_key) override;
  absl::Status SetPasswordHash(absl::string_view account_key,
                               absl::string_view password_hash) override;
  // None (logged) while Redis cannot be reached: the registry's list is only a first check (the
  // cluster's scripts check Redis), and a node starts without Redis (docs/CLUSTER.md).
  absl::StatusOr<std::vector<std::string>> AccountKeys() override;
  absl::Status SaveRoom(const RoomSettings& settings) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<RoomSettings>> LoadRooms() override {
    return std::vector<RoomSettings>{};
  }

 private:
  // One command, answered; Unavailable when Redis cannot be reached (the connection is dropped
  // and made again on the next call).
  absl::StatusOr<RedisReply> Run(const std::vector<std::string>& argv);

  const std::string host_;
  const int port_;
  const std::chrono::milliseconds timeout_;
  redisContext* context_ = nullptr;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_REDIS_ACCOUNT_STORE_H_
