#include "chat/places/registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"

namespace roomchat {

Registry::Registry(const RegistryLimits& limits) : limits_(limits) {}

absl::Status Registry::RefuseIfShuttingDown() const {
  if (shutting_down_) return ProtocolError(ErrorCode::kLimit, "the server is shutting down");
  return absl::OkStatus();
}

std::string Registry::NextGuestNick(std::string candidate) {
  if (!candidate.empty() && !nicks_.contains(NameKey(candidate))) return candidate;
  while (true) {
    std::string nick = absl::StrCat("guest", next_guest_++);
    if (!nicks_.contains(nick)) return nick;
  }
}

absl::Status Registry::Connect(std::unique_ptr<Connection>& connection, Destination* lobby) {
  // In a cluster the number comes from ClusterNode, which may post and log: not under mu_.
  std::string candidate = guest_numbers_ ? absl::StrCat("guest", guest_numbers_()) : "";
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return absl::UnavailableError("the server is shutting down");
  if (clients_.size() >= limits_.max_clients) {
    return absl::ResourceExhaustedError(
        absl::StrCat("--max_clients=", limits_.max_clients, " reached"));
  }
  std::string nick = NextGuestNick(std::move(candidate));
  nicks_.emplace(nick, connection->id());
  ClientEntry entry{nick, lobby};
  entry.address = PeerAddress(connection->peer());
  clients_.emplace(connection->id(), std::move(entry));
  connection->set_nick(std::move(nick));
  lobby->Admit(std::move(connection), Admission{Admission::Kind::kConnected, ""});
  return absl::OkStatus();
}

void Registry::Disconnect(ClientId id) {
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  LeaveRoomLocked(it->second);
  nicks_.erase(NameKey(it->second.nick));
  clients_.erase(it);
}

absl::Status Registry::Rename(ClientId id, absl::string_view nick) {
  std::string key = NameKey(nick);
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return absl::NotFoundError("unknown client");
  if (absl::Status refused = RefuseRegisteredLocked(it->second, key, nick); !refused.ok()) {
    return refused;
  }
  if (absl::Status free = NickFreeForLocked(id, key, nick); !free.ok()) return free;
  reserved_nicks_.erase(key);  // its own reservation, if any, ends here
  RenameLocked(id, it->second, std::string(nick));
  return absl::OkStatus();
}

absl::Status Registry::RefuseRegisteredLocked(const ClientEntry& client, const std::string& key,
                                              absl::string_view nick) const {
  if (client.account == key) return absl::OkStatus();
  bool registered = accounts_.contains(key);
  if (auto held = nicks_.find(key); !registered && held != nicks_.end()) {
    auto holder = clients_.find(held->second);
    registered = holder != clients_.end() && holder->second.account == key;
  }
  if (!registered) return absl::OkStatus();
  return ProtocolError(ErrorCode::kNickRegistered,
                       absl::StrCat(nick, " is registered; /login ", nick, " PASSWORD"));
}

absl::Status Registry::NickFreeForLocked(ClientId id, const std::string& key,
                                         absl::string_view nick) const {
  auto held = nicks_.find(key);
  auto reserved = reserved_nicks_.find(key);
  if ((held != nicks_.end() && held->second != id) ||
      (reserved != reserved_nicks_.end() && reserved->second != id)) {
    return ProtocolError(ErrorCode::kNickTaken, absl::StrCat(nick, " is taken"));
  }
  return absl::OkStatus();
}

void Registry::RenameLocked(ClientId id, ClientEntry& entry, std::string nick) {
  std::string key = NameKey(nick);
  std::string old_key = NameKey(entry.nick);
  nicks_.erase(old_key);
  nicks_.emplace(key, id);
  if (!entry.room_key.empty()) {
    auto& members = rooms_.at(entry.room_key).members;
    members.erase(old_key);
    members.emplace(key, id);
  }
  entry.nick = std::move(nick);
}

absl::Status Registry::AdmitLocked(const RoomSettings* settings, ClientId id,
                                   absl::string_view key) const {
  if (settings == nullptr) return absl::OkStatus();
  auto client = clients_.find(id);
  if (client == clients_.end()) return absl::NotFoundError("unknown client");
  const ClientEntry& entry = client->second;
  return AdmitToRoom(*settings,
                     RoomVisitor{entry.account, entry.former_account, NameKey(entry.nick),
                                 entry.address},
                     key);
}

absl::Status Registry::CanCreateLocked(const std::string& key, absl::string_view name,
                                       ClientId creator, absl::string_view given_key) const {
  if (absl::Status refused = RefuseIfShuttingDown(); !refused.ok()) return refused;
  if (auto it = rooms_.find(key); it != rooms_.end()) {
    return ProtocolError(ErrorCode::kRoomExists, absl::StrCat(it->second.name, " exists"));
  }
  if (rooms_.size() >= limits_.max_rooms) {
    return ProtocolError(ErrorCode::kLimit,
                         absl::StrCat("the server holds its maximum of ", limits_.max_rooms,
                                      " rooms; cannot create ", name));
  }
  auto registered = registered_rooms_.find(key);
  if (creator == 0 || registered == registered_rooms_.end()) return absl::OkStatus();
  return AdmitLocked(registered->second.get(), creator, given_key);
}

absl::Status Registry::CheckCanCreate(absl::string_view name, ClientId creator,
                                      absl::string_view key) const {
  absl::MutexLock lock(&mu_);
  return CanCreateLocked(NameKey(name), name, creator, key);
}

absl::Status Registry::ReserveRoom(absl::string_view name, std::shared_ptr<Destination> room,
                                   ClientId creator, absl::string_view given_key) {
  std::string key = NameKey(name);
  absl::MutexLock lock(&mu_);
  if (absl::Status can_create = CanCreateLocked(key, name, creator, given_key); !can_create.ok()) {
    return can_create;
  }
  RoomEntry& entry = rooms_[key];
  entry.name = std::string(name);
  entry.room = std::move(room);
  return absl::OkStatus();
}

void Registry::CancelReservation(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  auto it = rooms_.find(NameKey(name));
  if (it != rooms_.end() && !it->second.open) rooms_.erase(it);
}

absl::Status Registry::EnterCreatedRoom(std::unique_ptr<Connection>& connection,
                                        absl::string_view name, absl::string_view key) {
  std::string room_key = NameKey(name);
  absl::MutexLock lock(&mu_);
  auto room = rooms_.find(room_key);
  if (room == rooms_.end() || room->second.open) return absl::NotFoundError("no reservation");
  auto client = clients_.find(connection->id());
  absl::Status refused = RefuseIfShuttingDown();
  if (refused.ok() && client == clients_.end()) refused = absl::NotFoundError("unknown client");
  if (!refused.ok()) {
    room->second.room->Stop();
    rooms_.erase(room);
    return refused;
  }
  room->second.open = true;
  if (auto registered = registered_rooms_.find(room_key);
      registered != registered_rooms_.end()) {
    room->second.settings = registered->second;  // until the room publishes its own
  } else if (!key.empty()) {  // a new room with a key: keyed from its first moment
    auto keyed = std::make_shared<RoomSettings>();
    keyed->room_key = room_key;
    keyed->name = room->second.name;
    keyed->key = std::string(key);
    room->second.settings = std::move(keyed);
  }
  listing_.reset();
  Admission created{Admission::Kind::kCreated, ""};
  created.key = std::string(key);
  EnterRoomLocked(connection, client->second, room_key, room->second, std::move(created));
  return absl::OkStatus();
}

absl::StatusOr<Registry::RoomEntry*> Registry::FindOpenRoomLocked(absl::string_view name) {
  auto room = rooms_.find(NameKey(name));
  if (room == rooms_.end() || !room->second.open) {
    return ProtocolError(ErrorCode::kNoSuchRoom, absl::StrCat("no room called ", name));
  }
  return &room->second;
}

absl::Status Registry::JoinRoom(std::unique_ptr<Connection>& connection, absl::string_view name,
                                uint64_t since_id, absl::string_view given_key) {
  absl::MutexLock lock(&mu_);
  if (absl::Status refused = RefuseIfShuttingDown(); !refused.ok()) return refused;
  absl::StatusOr<RoomEntry*> room = FindOpenRoomLocked(name);
  if (!room.ok()) return room.status();
  if ((*room)->members.size() >= limits_.max_room_members) {
    return ProtocolError(ErrorCode::kRoomFull, absl::StrCat((*room)->name, " holds its maximum of ",
                                                            limits_.max_room_members, " members"));
  }
  auto client = clients_.find(connection->id());
  if (client == clients_.end()) return absl::NotFoundError("unknown client");
  std::string key = NameKey(name);
  // The caller answers a join of the client's own room itself; leaving it here could close it.
  if (client->second.room_key == key) return absl::FailedPreconditionError("already there");
  if (absl::Status admitted = AdmitLocked((*room)->settings.get(), connection->id(), given_key);
      !admitted.ok()) {
    return admitted;
  }
  EnterRoomLocked(connection, client->second, key, **room,
                  Admission{Admission::Kind::kJoined, "", since_id});
  return absl::OkStatus();
}

absl::Status Registry::ReturnToLobby(std::unique_ptr<Connection>& connection, Destination* lobby,
                                     Admission admission) {
  absl::MutexLock lock(&mu_);
  if (absl::Status refused = RefuseIfShuttingDown(); !refused.ok()) return refused;
  auto client = clients_.find(connection->id());
  if (client == clients_.end()) return absl::NotFoundError("unknown client");
  ClientEntry& entry = client->second;
  if (entry.room_key.empty()) return ProtocolError(ErrorCode::kNotInRoom, "you are in the lobby");
  admission.room = rooms_.at(entry.room_key).name;
  LeaveRoomLocked(entry);
  entry.place = lobby;
  lobby->Admit(std::move(connection), std::move(admission));
  return absl::OkStatus();
}

bool Registry::IsIn(ClientId id, absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto client = clients_.find(id);
  return client != clients_.end() && client->second.room_key == NameKey(name);
}

void Registry::LeaveRoomLocked(ClientEntry& entry) {
  if (entry.room_key.empty()) return;
  auto room = rooms_.find(entry.room_key);
  entry.room_key.clear();
  if (room == rooms_.end()) return;
  room->second.members.erase(NameKey(entry.nick));
  listing_.reset();
  if (room->second.members.empty()) {
    room->second.room->Stop();
    rooms_.erase(room);
  }
}

void Registry::EnterRoomLocked(std::unique_ptr<Connection>& connection, ClientEntry& entry,
                               const std::string& room_key, RoomEntry& room,
                               Admission admission) {
  // Entered before the old room is left: `room` stays valid (a node map), and the old room closes
  // only if this client was its last member.
  room.members.emplace(NameKey(entry.nick), connection->id());
  listing_.reset();
  LeaveRoomLocked(entry);
  entry.room_key = room_key;
  entry.place = room.room.get();
  room.room->Admit(std::move(connection), std::move(admission));
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

bool Registry::RunWhereClientIs(ClientId to, ClientTask task) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return false;
  auto client = clients_.find(to);
  if (client == clients_.end()) return false;
  client->second.place->DeliverTask(to, std::move(task));
  return true;
}

std::string Registry::NickOf(ClientId id) const {
  absl::MutexLock lock(&mu_);
  auto client = clients_.find(id);
  return client == clients_.end() ? "" : client->second.nick;
}

ClientId Registry::IdOf(absl::string_view nick) const {
  absl::MutexLock lock(&mu_);
  auto it = nicks_.find(NameKey(nick));
  return it == nicks_.end() ? 0 : it->second;
}

Registry::RoomListing Registry::ListRooms() const {
  absl::MutexLock lock(&mu_);
  if (listing_ == nullptr) {
    auto rooms = std::make_shared<std::vector<RoomSummary>>();
    rooms->reserve(rooms_.size());
    for (const auto& [key, room] : rooms_) {
      if (room.open) rooms->push_back({room.name, room.members.size()});
    }
    listing_ = std::move(rooms);
  }
  return listing_;
}

absl::StatusOr<RoomMembers> Registry::Who(absl::string_view room_name) const {
  absl::MutexLock lock(&mu_);
  auto room = rooms_.find(NameKey(room_name));
  if (room == rooms_.end() || !room->second.open) {
    return ProtocolError(ErrorCode::kNoSuchRoom, absl::StrCat("no room called ", room_name));
  }
  RoomMembers result;
  result.name = room->second.name;
  result.nicks.reserve(room->second.members.size());
  for (const auto& [key, id] : room->second.members) result.nicks.push_back(clients_.at(id).nick);
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
