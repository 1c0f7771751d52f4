#include "chat/server/registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"

namespace roomchat {

Registry::Registry(const RegistryLimits& limits) : limits_(limits) {}

absl::Status Registry::RefuseIfShuttingDown() const {
  if (shutting_down_) return ProtocolError(ErrorCode::kLimit, "the server is shutting down");
  return absl::OkStatus();
}

std::string Registry::NextGuestNick() {
  while (true) {
    std::string nick = absl::StrCat("guest", next_guest_++);
    if (!nicks_.contains(nick)) return nick;
  }
}

absl::Status Registry::Connect(std::unique_ptr<Client>& client, Destination* lobby) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return absl::UnavailableError("the server is shutting down");
  if (clients_.size() >= limits_.max_clients) {
    return absl::ResourceExhaustedError(
        absl::StrCat("--max_clients=", limits_.max_clients, " reached"));
  }
  std::string nick = NextGuestNick();
  nicks_.emplace(nick, client->id());
  clients_.emplace(client->id(), ClientEntry{nick, lobby, ""});
  client->set_nick(std::move(nick));
  lobby->Admit(std::move(client), Admission{Admission::Kind::kConnected, ""});
  return absl::OkStatus();
}

void Registry::Disconnect(ClientId id) {
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  LeaveRoomLocked(id, it->second);
  nicks_.erase(NameKey(it->second.nick));
  clients_.erase(it);
}

absl::Status Registry::Rename(ClientId id, absl::string_view nick) {
  std::string key = NameKey(nick);
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return absl::NotFoundError("unknown client");
  auto taken = nicks_.find(key);
  if (taken != nicks_.end() && taken->second != id) {
    return ProtocolError(ErrorCode::kNickTaken, absl::StrCat(nick, " is taken"));
  }
  nicks_.erase(NameKey(it->second.nick));
  nicks_.emplace(key, id);
  it->second.nick = std::string(nick);
  return absl::OkStatus();
}

absl::Status Registry::CanCreateLocked(const std::string& key, absl::string_view name) const {
  if (absl::Status refused = RefuseIfShuttingDown(); !refused.ok()) return refused;
  if (auto it = rooms_.find(key); it != rooms_.end()) {
    return ProtocolError(ErrorCode::kRoomExists, absl::StrCat(it->second.name, " exists"));
  }
  if (rooms_.size() >= limits_.max_rooms) {
    return ProtocolError(ErrorCode::kLimit,
                         absl::StrCat("the server holds its maximum of ", limits_.max_rooms,
                                      " rooms; cannot create ", name));
  }
  return absl::OkStatus();
}

absl::Status Registry::CheckCanCreate(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  return CanCreateLocked(NameKey(name), name);
}

absl::Status Registry::CreateRoom(ClientId id, absl::string_view name,
                                  std::shared_ptr<Destination> room, TakeClient take) {
  std::string key = NameKey(name);
  absl::MutexLock lock(&mu_);
  if (absl::Status can_create = CanCreateLocked(key, name); !can_create.ok()) return can_create;
  auto client = clients_.find(id);
  if (client == clients_.end()) return absl::NotFoundError("unknown client");
  LeaveRoomLocked(id, client->second);
  RoomEntry& entry = rooms_[key];
  entry.name = std::string(name);
  entry.room = std::move(room);
  EnterRoomLocked(id, client->second, key, entry, Admission::Kind::kCreated, take);
  return absl::OkStatus();
}

absl::Status Registry::JoinRoom(ClientId id, absl::string_view name, TakeClient take) {
  std::string key = NameKey(name);
  absl::MutexLock lock(&mu_);
  if (absl::Status refused = RefuseIfShuttingDown(); !refused.ok()) return refused;
  auto room = rooms_.find(key);
  if (room == rooms_.end()) {
    return ProtocolError(ErrorCode::kNoSuchRoom, absl::StrCat("no room called ", name));
  }
  if (room->second.members.size() >= limits_.max_room_members) {
    return ProtocolError(ErrorCode::kRoomFull,
                         absl::StrCat(room->second.name, " holds its maximum of ",
                                      limits_.max_room_members, " members"));
  }
  auto client = clients_.find(id);
  if (client == clients_.end()) return absl::NotFoundError("unknown client");
  // The caller answers a join of the client's own room itself; leaving it here could close it.
  if (client->second.room_key == key) return absl::FailedPreconditionError("already there");
  // Erasing another room, if this was its last member, leaves `room` valid (no rehash on erase).
  LeaveRoomLocked(id, client->second);
  EnterRoomLocked(id, client->second, key, room->second, Admission::Kind::kJoined, take);
  return absl::OkStatus();
}

absl::Status Registry::ReturnToLobby(ClientId id, Destination* lobby, TakeClient take) {
  absl::MutexLock lock(&mu_);
  if (absl::Status refused = RefuseIfShuttingDown(); !refused.ok()) return refused;
  auto client = clients_.find(id);
  if (client == clients_.end()) return absl::NotFoundError("unknown client");
  ClientEntry& entry = client->second;
  if (entry.room_key.empty()) return ProtocolError(ErrorCode::kNotInRoom, "you are in the lobby");
  std::string room_name = rooms_.at(entry.room_key).name;
  LeaveRoomLocked(id, entry);
  entry.place = lobby;
  lobby->Admit(take(), Admission{Admission::Kind::kReturned, std::move(room_name)});
  return absl::OkStatus();
}

void Registry::LeaveRoomLocked(ClientId id, ClientEntry& entry) {
  if (entry.room_key.empty()) return;
  auto room = rooms_.find(entry.room_key);
  entry.room_key.clear();
  if (room == rooms_.end()) return;
  room->second.members.erase(id);
  if (room->second.members.empty()) {
    room->second.room->Stop();
    rooms_.erase(room);
  }
}

void Registry::EnterRoomLocked(ClientId id, ClientEntry& entry, const std::string& room_key,
                               RoomEntry& room, Admission::Kind kind, TakeClient take) {
  room.members.insert(id);
  entry.room_key = room_key;
  entry.place = room.room.get();
  room.room->Admit(take(), Admission{kind, ""});
}

absl::Status Registry::SendPrivate(absl::string_view to_nick, std::string line) {
  absl::MutexLock lock(&mu_);
  if (absl::Status refused = RefuseIfShuttingDown(); !refused.ok()) return refused;
  auto nick = nicks_.find(NameKey(to_nick));
  if (nick == nicks_.end()) {
    return ProtocolError(ErrorCode::kNoSuchNick, absl::StrCat("nobody is called ", to_nick));
  }
  clients_.at(nick->second).place->DeliverPrivate(nick->second, std::move(line));
  return absl::OkStatus();
}

void Registry::ForwardPrivate(ClientId to, std::string line) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return;
  auto client = clients_.find(to);
  if (client == clients_.end()) return;  // Disconnected meanwhile: nobody left to tell.
  client->second.place->DeliverPrivate(to, std::move(line));
}

std::vector<RoomSummary> Registry::ListRooms() const {
  std::vector<RoomSummary> rooms;
  {
    absl::MutexLock lock(&mu_);
    rooms.reserve(rooms_.size());
    for (const auto& [key, room] : rooms_) rooms.push_back({room.name, room.members.size()});
  }
  std::sort(rooms.begin(), rooms.end(), [](const RoomSummary& a, const RoomSummary& b) {
    return NameKey(a.name) < NameKey(b.name);
  });
  return rooms;
}

absl::StatusOr<RoomMembers> Registry::Who(absl::string_view room_name) const {
  RoomMembers result;
  {
    absl::MutexLock lock(&mu_);
    auto room = rooms_.find(NameKey(room_name));
    if (room == rooms_.end()) {
      return ProtocolError(ErrorCode::kNoSuchRoom, absl::StrCat("no room called ", room_name));
    }
    result.name = room->second.name;
    result.nicks.reserve(room->second.members.size());
    for (ClientId id : room->second.members) result.nicks.push_back(clients_.at(id).nick);
  }
  std::sort(result.nicks.begin(), result.nicks.end(),
            [](const std::string& a, const std::string& b) { return NameKey(a) < NameKey(b); });
  return result;
}

size_t Registry::client_count() const {
  absl::MutexLock lock(&mu_);
  return clients_.size();
}

size_t Registry::room_count() const {
  absl::MutexLock lock(&mu_);
  return rooms_.size();
}

std::vector<std::shared_ptr<Destination>> Registry::BeginShutdown() {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  std::vector<std::shared_ptr<Destination>> rooms;
  rooms.reserve(rooms_.size());
  for (const auto& [key, room] : rooms_) rooms.push_back(room.room);
  return rooms;
}

}  // namespace roomchat
