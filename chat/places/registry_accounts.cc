// The registry's part in accounts and room settings (registry.h, "Accounts", "Room settings").
#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/places/registry.h"
#include "chat/protocol/names.h"

namespace roomchat {

void Registry::AddAccounts(const std::vector<std::string>& account_keys) {
  absl::MutexLock lock(&mu_);
  accounts_.insert(account_keys.begin(), account_keys.end());
}

void Registry::ForgetAccounts() {
  absl::MutexLock lock(&mu_);
  accounts_.clear();
}

bool Registry::IsAccount(absl::string_view nick) const {
  absl::MutexLock lock(&mu_);
  return accounts_.contains(NameKey(nick));
}

void Registry::Registered(ClientId id, const std::string& account_key) {
  absl::MutexLock lock(&mu_);
  accounts_.insert(account_key);
  auto client = clients_.find(id);
  if (client != clients_.end() && NameKey(client->second.nick) == account_key) {
    client->second.account = account_key;
  }
}

absl::StatusOr<std::string> Registry::LogIn(
    ClientId id, absl::string_view nick, const std::string& account_key,
    std::function<ClientTask(std::string lost_nick)> on_displaced) {
  // The guest nick a displaced holder would get (in a cluster, not taken under mu_).
  std::string candidate = guest_numbers_ ? absl::StrCat("guest", guest_numbers_()) : "";
  absl::MutexLock lock(&mu_);
  auto client = clients_.find(id);
  if (client == clients_.end()) return absl::NotFoundError("the client is gone");
  ClientEntry& entry = client->second;
  std::string old_nick = entry.nick;
  auto holder = nicks_.find(account_key);
  if (holder != nicks_.end() && holder->second != id) {
    ClientId displaced_id = holder->second;
    ClientEntry& displaced = clients_.at(displaced_id);
    std::string lost_nick = displaced.nick;
    if (!displaced.account.empty()) displaced.former_account = std::move(displaced.account);
    displaced.account.clear();
    RenameLocked(displaced_id, displaced, NextGuestNick(std::move(candidate)));
    displaced.place->DeliverTask(displaced_id, on_displaced(std::move(lost_nick)));
  }
  RenameLocked(id, entry, std::string(nick));
  entry.account = account_key;
  return old_nick;
}

void Registry::LogOut(ClientId id) {
  absl::MutexLock lock(&mu_);
  auto client = clients_.find(id);
  if (client == clients_.end() || client->second.account.empty()) return;
  client->second.former_account = std::move(client->second.account);
  client->second.account.clear();
}

void Registry::AddRegisteredRooms(const std::vector<RoomSettings>& rooms) {
  absl::MutexLock lock(&mu_);
  for (const RoomSettings& room : rooms) {
    registered_rooms_[room.room_key] = std::make_shared<const RoomSettings>(room);
  }
}

size_t Registry::RoomsOwnedBy(absl::string_view account) const {
  absl::MutexLock lock(&mu_);
  size_t owned = 0;
  for (const auto& [key, settings] : registered_rooms_) owned += settings->owner == account;
  return owned;
}

std::shared_ptr<const RoomSettings> Registry::RegisteredRoom(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = registered_rooms_.find(NameKey(name));
  return it == registered_rooms_.end() ? nullptr : it->second;
}

void Registry::PublishRoomSettings(std::shared_ptr<const RoomSettings> settings) {
  absl::MutexLock lock(&mu_);
  if (settings->registered()) {
    registered_rooms_[settings->room_key] = settings;
  } else {
    registered_rooms_.erase(settings->room_key);
  }
  auto room = rooms_.find(settings->room_key);
  if (room != rooms_.end()) room->second.settings = std::move(settings);
}

}  // namespace roomchat
