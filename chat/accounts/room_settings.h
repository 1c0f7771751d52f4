// RoomSettings: what a room's operators decide (operators, topic, key, bans), and the rule that
// decides who may enter.
//
// A room is *registered* when an account owns it: its creator was logged in, or the first
// logged-in member an operator of a guest's room made operator. A registered room's settings are
// kept in the store and in the registry while the room is closed, so they apply again when it is
// created again (docs/PROTOCOL.md, "Accounts and moderation"). An unregistered room's settings
// live and die with the room.
//
// Values and pure functions; safe from any thread.
#ifndef ROOMCHAT_CHAT_ACCOUNTS_ROOM_SETTINGS_H_
#define ROOMCHAT_CHAT_ACCOUNTS_ROOM_SETTINGS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace roomchat {

struct RoomBan {
  enum class Kind {
    kAccount,  // value: an account key (NameKey of the account's nick)
    kNick,     // value: a nick key, for a guest
    kAddress,  // value: an IP address as text ("127.0.0.2", "::1"), for a guest
  };
  Kind kind = Kind::kNick;
  std::string value;
  std::string by;  // the nick of the operator who set it

  bool operator==(const RoomBan& other) const {
    return kind == other.kind && value == other.value && by == other.by;
  }
};

// "account", "nick" or "address": the kind as /bans shows it and the store keeps it.
absl::string_view RoomBanKindName(RoomBan::Kind kind);
bool RoomBanKindByName(absl::string_view name, RoomBan::Kind* kind);

struct RoomSettings {
  // Limits that keep one room's settings small (a registered room's live in memory for good).
  static constexpr size_t kMaxBans = 100;
  static constexpr size_t kMaxOpAccounts = 50;
  // Registered rooms one account may own: past it, a room it opens is not kept (an account could
  // otherwise squat every name, keyed, for good).
  static constexpr size_t kMaxOwnedPerAccount = 20;

  std::string room_key;  // NameKey of the room's name
  std::string name;      // the display name it was created with
  std::string owner;     // the owning account's key; empty: not registered, never stored
  std::vector<std::string> op_accounts;  // account keys; the owner's among them
  std::string topic;                     // empty: none
  std::string topic_by;                  // the nick that set it
  std::string key;                       // empty: /join needs none
  std::vector<RoomBan> bans;

  bool registered() const { return !owner.empty(); }
  bool IsOpAccount(absl::string_view account) const;
  bool operator==(const RoomSettings& other) const;
};

// Who is asking to enter a room.
struct RoomVisitor {
  std::string account;  // empty: a guest
  // The account this connection was last logged in to, if it logged out (or lost its nick) since:
  // an account ban still holds it, so /logout does not walk past one.
  std::string former_account;
  std::string nick_key;
  std::string address;  // the peer's IP address, without the port
};

// OK when `visitor`, giving `key` (maybe empty), may enter a room with `settings`: an operator
// account always may; anyone matched by a ban gets `banned`; a wrong or missing key `bad-key`.
// Keys are compared in constant time.
absl::Status AdmitToRoom(const RoomSettings& settings, const RoomVisitor& visitor,
                         absl::string_view key);

// The IP address of a peer written "host:port" or "[v6]:port" (Connection::peer()).
std::string PeerAddress(absl::string_view peer);

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_ACCOUNTS_ROOM_SETTINGS_H_
