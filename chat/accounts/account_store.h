// AccountStore: where accounts (registered nicks and their password hashes) and the settings of
// registered rooms are kept: the server's SQLite file on one node (AccountDb), Redis in a cluster
// (RedisAccountStore). AccountService's worker thread is the only caller, so an implementation
// may block (on the disk, on Redis).
//
// Thread contract: not thread-safe; one thread calls every method.
#ifndef ROOMCHAT_CHAT_ACCOUNTS_ACCOUNT_STORE_H_
#define ROOMCHAT_CHAT_ACCOUNTS_ACCOUNT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/accounts/room_settings.h"

namespace roomchat {

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  // ---- Accounts, by account key (NameKey of the nick).
  // AlreadyExists when `account_key` is taken; InvalidArgument for an empty key or hash.
  virtual absl::Status CreateAccount(absl::string_view account_key, absl::string_view nick,
                                     absl::string_view password_hash, int64_t created_ms) = 0;
  // The account's password hash; nullopt when there is no such account.
  virtual absl::StatusOr<std::optional<std::string>> PasswordHash(
      absl::string_view account_key) = 0;
  // NotFound when there is no such account.
  virtual absl::Status SetPasswordHash(absl::string_view account_key,
                                       absl::string_view password_hash) = 0;
  // Every account key, in byte order.
  virtual absl::StatusOr<std::vector<std::string>> AccountKeys() = 0;

  // ---- Registered rooms.
  // Replaces all that is stored for settings.room_key with `settings`; when it is not registered
  // (empty owner), deletes the room's record instead.
  virtual absl::Status SaveRoom(const RoomSettings& settings) = 0;
  // Every stored room, by room key.
  virtual absl::StatusOr<std::vector<RoomSettings>> LoadRooms() = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_ACCOUNTS_ACCOUNT_STORE_H_
