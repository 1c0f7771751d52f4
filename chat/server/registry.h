// Registry: who is connected, under which nick, where each client is, and which rooms exist.
//
// The registry is the one map every thread shares: nick -> client (uniqueness, /msg), room name ->
// room (uniqueness, /rooms, /who, member counts and the --max_* limits). It also performs every
// move of a client between places, so that routing stays consistent: under one lock it updates
// where the client is and posts the client to its destination, which means a private message routed
// after a move is queued behind the client's arrival. A room's member set counts clients on their
// way in, so a room is closed (removed here and told to Stop) exactly when nobody is in it or
// heading to it.
//
// Thread contract: every method is safe from any thread. Lock order: Registry::mu_ is taken before
// a PollLoop's queue lock (Destination methods post under mu_); nothing here calls back into a
// place's loop thread, and no I/O is done under mu_ beyond the eventfd wake-up of a post.
#ifndef ROOMCHAT_CHAT_SERVER_REGISTRY_H_
#define ROOMCHAT_CHAT_SERVER_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "chat/conn/client.h"

namespace roomchat {

// How a client came to a place, which decides its first reply there.
struct Admission {
  enum class Kind {
    kConnected,  // new connection, to the lobby: WELCOME
    kCreated,    // created the room: OK CREATE
    kJoined,     // joined the room: OK JOIN, and JOIN to the others
    kReturned,   // left `room` for the lobby: OK LEAVE
  };
  Kind kind;
  std::string room;  // kReturned: the display name of the room left
};

// The lobby or a room, as the registry sees it.
class Destination {
 public:
  virtual ~Destination() = default;
  // Safe from any thread: queue `client` for this place's thread.
  virtual void Admit(std::unique_ptr<Client> client, Admission admission) = 0;
  // Safe from any thread: queue `line` for client `to`, which the registry believes is here.
  virtual void DeliverPrivate(ClientId to, std::string line) = 0;
  // Safe from any thread: ask the place's thread to disconnect its clients and end.
  virtual void Stop() = 0;
};

struct RegistryLimits {
  size_t max_clients = 10000;
  size_t max_rooms = 2000;
  size_t max_room_members = 2000;
};

struct RoomSummary {
  std::string name;
  size_t members;
};

struct RoomMembers {
  std::string name;
  std::vector<std::string> nicks;  // sorted case-insensitively
};

class Registry {
 public:
  // Called under the registry lock once a move is certain: takes the client out of its loop.
  using TakeClient = absl::FunctionRef<std::unique_ptr<Client>()>;

  explicit Registry(const RegistryLimits& limits);

  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Gives `client` a guest nick, records it in the lobby and admits it there (client becomes null).
  // ResourceExhausted when --max_clients are connected, Unavailable while shutting down; the client
  // then stays with the caller.
  absl::Status Connect(std::unique_ptr<Client>& client, Destination* lobby);
  // Forgets the client and frees its nick; its room loses a member (closing if it was the last).
  void Disconnect(ClientId id);
  absl::Status Rename(ClientId id, absl::string_view nick);

  // OK when a room called `name` could be created now (fails with room-exists or limit). Creation
  // itself checks again.
  absl::Status CheckCanCreate(absl::string_view name) const;
  // Records `room`, moves the client there (out of any room it was in) and admits it as creator.
  absl::Status CreateRoom(ClientId id, absl::string_view name, std::shared_ptr<Destination> room,
                          TakeClient take);
  // Moves the client into the existing room `name` (no-such-room, room-full).
  absl::Status JoinRoom(ClientId id, absl::string_view name, TakeClient take);
  // Moves the client from its room back to `lobby`.
  absl::Status ReturnToLobby(ClientId id, Destination* lobby, TakeClient take);

  // Routes `line` to the client called `to_nick` wherever it is (no-such-nick).
  absl::Status SendPrivate(absl::string_view to_nick, std::string line);
  // For a place that was handed a private message for a client that has since moved on.
  void ForwardPrivate(ClientId to, std::string line);

  std::vector<RoomSummary> ListRooms() const;
  absl::StatusOr<RoomMembers> Who(absl::string_view room) const;
  size_t client_count() const;
  size_t room_count() const;

  // From now on refuses connections and moves; returns every open room, to be stopped.
  std::vector<std::shared_ptr<Destination>> BeginShutdown();

 private:
  struct ClientEntry {
    std::string nick;
    Destination* place;    // where the client is, or is heading
    std::string room_key;  // empty in the lobby
  };
  struct RoomEntry {
    std::string name;
    std::shared_ptr<Destination> room;
    absl::flat_hash_set<ClientId> members;  // in the room or on the way in
  };

  absl::Status RefuseIfShuttingDown() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CanCreateLocked(const std::string& key, absl::string_view name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NextGuestNick() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the client out of its current room's member set, closing the room if it is now empty.
  void LeaveRoomLocked(ClientId id, ClientEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the client (taken from its loop) into `room`, admitting it as `kind`.
  void EnterRoomLocked(ClientId id, ClientEntry& entry, const std::string& room_key,
                       RoomEntry& room, Admission::Kind kind, TakeClient take)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Const after construction.
  const RegistryLimits limits_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<ClientId, ClientEntry> clients_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ClientId> nicks_ ABSL_GUARDED_BY(mu_);   // by NameKey
  absl::flat_hash_map<std::string, RoomEntry> rooms_ ABSL_GUARDED_BY(mu_);  // by NameKey
  uint64_t next_guest_ ABSL_GUARDED_BY(mu_) = 1;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_SERVER_REGISTRY_H_
