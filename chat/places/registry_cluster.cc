// Registry's cluster part (docs/CLUSTER.md): Redis decided the name and the limits; this node
// only places the client in its part of the room.
#include <utility>

#include "chat/places/registry.h"
#include "chat/protocol/names.h"

namespace roomchat {

void Registry::SetGuestNumbers(std::function<uint64_t()> next) { guest_numbers_ = std::move(next); }

absl::Status Registry::ReserveNick(ClientId id, absl::string_view nick) {
  std::string key = NameKey(nick);
  absl::MutexLock lock(&mu_);
  auto client = clients_.find(id);
  if (client == clients_.end()) return absl::NotFoundError("unknown client");
  if (absl::Status refused = RefuseRegisteredLocked(client->second, key, nick); !refused.ok()) {
    return refused;
  }
  if (absl::Status free = NickFreeForLocked(id, key, nick); !free.ok()) return free;
  reserved_nicks_[key] = id;
  return absl::OkStatus();
}

void Registry::Unreserve(ClientId id, absl::string_view nick) {
  absl::MutexLock lock(&mu_);
  auto reserved = reserved_nicks_.find(NameKey(nick));
  if (reserved != reserved_nicks_.end() && reserved->second == id) reserved_nicks_.erase(reserved);
}

std::vector<Registry::Placement> Registry::Placements() const {
  absl::MutexLock lock(&mu_);
  std::vector<Placement> placements;
  placements.reserve(clients_.size());
  for (const auto& [id, client] : clients_) {
    Placement placement{id, client.nick, client.room_key, "", client.account, client.address};
    if (auto room = rooms_.find(client.room_key); room != rooms_.end()) {
      placement.room_name = room->second.name;
    }
    placements.push_back(std::move(placement));
  }
  return placements;
}

RoomVisitor Registry::VisitorOf(ClientId id) const {
  absl::MutexLock lock(&mu_);
  auto client = clients_.find(id);
  if (client == clients_.end()) return {};
  const ClientEntry& entry = client->second;
  return RoomVisitor{entry.account, entry.former_account, NameKey(entry.nick), entry.address};
}

bool Registry::HasRoomPart(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  return rooms_.count(NameKey(name)) != 0;
}

absl::Status Registry::EnterRoomPart(std::unique_ptr<Connection>& connection,
                                     absl::string_view name, Admission admission,
                                     std::shared_ptr<Destination> fresh, bool* used) {
  *used = false;
  std::string key = NameKey(name);
  absl::MutexLock lock(&mu_);
  if (absl::Status refused = RefuseIfShuttingDown(); !refused.ok()) return refused;
  auto client = clients_.find(connection->id());
  if (client == clients_.end()) return absl::NotFoundError("unknown client");
  if (client->second.room_key == key) return absl::FailedPreconditionError("already there");
  auto room = rooms_.find(key);
  if (room == rooms_.end()) {
    // The part closed since the caller looked: it may retry with a fresh one.
    if (fresh == nullptr) return absl::AbortedError("the room's part here has just closed");
    RoomEntry& entry = rooms_[key];
    entry.name = std::string(name);
    entry.room = std::move(fresh);
    entry.open = true;
    *used = true;
    room = rooms_.find(key);
  }
  EnterRoomLocked(connection, client->second, key, room->second, std::move(admission));
  return absl::OkStatus();
}

}  // namespace roomchat
