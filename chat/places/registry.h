// Registry: who is connected, under which nick, where each client is, and which rooms exist.
//
// The registry is the one map every thread shares: nick -> client (uniqueness, /msg), room name ->
// room (uniqueness, /rooms, /who, member counts and the --max_* limits). It also performs every
// move of a connection between places, so that routing stays consistent: under one lock it updates
// where the client is and posts the connection to its destination, which means a private message
// routed after a move is queued behind the connection's arrival. The moving place detaches the
// connection from its own loop BEFORE it calls the registry and gets it back on failure, so
// nothing under mu_ touches a place's loop. A room's member set counts clients on their way in, so
// a room is closed (removed here and told to Stop) exactly when nobody is in it or heading to it.
// A room being created is first reserved (its name held, invisible to /join, /rooms and /who),
// then its thread is started, then its creator enters; so two creates of one name never start two
// threads, and a thread that cannot start costs only the reservation.
//
// Thread contract: every method is safe from any thread. Lock order: Registry::mu_ is taken before
// an EventLoop's queue lock (Destination methods post under mu_); under mu_ the registry only
// updates its maps and posts (a queue push and an eventfd write). It never calls a place's loop.
#ifndef ROOMCHAT_CHAT_PLACES_REGISTRY_H_
#define ROOMCHAT_CHAT_PLACES_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "chat/accounts/room_settings.h"
#include "chat/net/connection.h"

namespace roomchat {

class Place;

// Something that must happen on the thread that holds client `member` (the answer to its account
// command, the rename forced by someone's login): run by whichever place holds it when it arrives.
using ClientTask = std::function<void(Place& here, Connection& member)>;

// How a client came to a place, which decides its first reply there.
struct Admission {
  enum class Kind {
    kConnected,  // new connection, to the lobby: WELCOME
    kCreated,    // created the room: OK CREATE
    kJoined,     // joined the room: OK JOIN, and JOIN to the others
    kReturned,   // left `room` for the lobby: OK LEAVE
    kKicked,     // removed from `room` by `by`: KICKED
  };
  Kind kind;
  std::string room;  // kReturned, kKicked: the display name of the room left
  uint64_t since_id = 0;  // kJoined: the client asked for every line after this id (0: not asked)
  std::string by;         // kKicked: the operator's nick
  std::string reason;     // kKicked
  std::string key;        // kCreated: the key the room was created with (/create ROOM KEY)
  // In a cluster (docs/CLUSTER.md): the room's seq when Redis answered the move (the member gets
  // the entries after it), and the room's members on every node then.
  uint64_t cluster_seq = 0;
  uint64_t cluster_members = 0;
  // The room's topic then, and who set it; kCreated: whether the room is new (no account kept
  // it), which makes the creator its operator.
  std::string cluster_topic;
  std::string cluster_topic_by;
  bool cluster_creator_op = false;
};

// The lobby or a room, as the registry sees it.
class Destination {
 public:
  virtual ~Destination() = default;
  // Safe from any thread: queue `connection` for this place's thread.
  virtual void Admit(std::unique_ptr<Connection> connection, Admission admission) = 0;
  // Safe from any thread: queue `line` for client `to`, which the registry believes is here.
  virtual void DeliverPrivate(ClientId to, std::string line) = 0;
  // Safe from any thread: run `task` on client `to`, which the registry believes is here.
  virtual void DeliverTask(ClientId to, ClientTask task) = 0;
  // Safe from any thread: ask the place's thread to disconnect its clients and end.
  virtual void Stop() = 0;
};

struct RegistryLimits {
  size_t max_clients;
  size_t max_rooms;
  size_t max_room_members;
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
  // The open rooms, sorted case-insensitively by name; shared until the next change.
  using RoomListing = std::shared_ptr<const std::vector<RoomSummary>>;

  explicit Registry(const RegistryLimits& limits);

  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Gives `connection` a guest nick, records it in the lobby and admits it there (it becomes
  // null). ResourceExhausted when --max_clients are connected, Unavailable while shutting down;
  // the connection then stays with the caller.
  absl::Status Connect(std::unique_ptr<Connection>& connection, Destination* lobby);
  // Forgets the client and frees its nick; its room loses a member (closing if it was the last).
  void Disconnect(ClientId id);
  absl::Status Rename(ClientId id, absl::string_view nick);

  // OK when client `creator`, giving `key`, could create a room called `name` now (fails with
  // room-exists, limit, or for a registered room banned or bad-key).
  absl::Status CheckCanCreate(absl::string_view name, ClientId creator = 0,
                              absl::string_view key = {}) const;
  // Holds `name` for `room`, whose thread is not started yet (as CheckCanCreate, and shutting
  // down).
  absl::Status ReserveRoom(absl::string_view name, std::shared_ptr<Destination> room,
                           ClientId creator = 0, absl::string_view key = {});
  // The reserved room's thread could not start: the name is free again.
  void CancelReservation(absl::string_view name);
  // Opens the reserved room `name` and moves its creator there, out of any room it was in. On
  // failure (shutting down) the reservation is dropped, the room told to stop, and the connection
  // stays with the caller. Every move below takes a connection its place has already detached;
  // it becomes null on success.
  absl::Status EnterCreatedRoom(std::unique_ptr<Connection>& connection, absl::string_view name,
                                absl::string_view key = {});
  // Moves the client into the existing room `name` (no-such-room, room-full, and by the room's
  // settings banned or bad-key).
  absl::Status JoinRoom(std::unique_ptr<Connection>& connection, absl::string_view name,
                        uint64_t since_id = 0, absl::string_view key = {});
  // Moves the client from its room back to `lobby` (not-in-room), admitted as `admission`
  // (kReturned or kKicked; its room is filled in).
  absl::Status ReturnToLobby(std::unique_ptr<Connection>& connection, Destination* lobby,
                             Admission admission = {Admission::Kind::kReturned, ""});
  // Whether the client is in a room called `name` now (for /join of one's own room).
  bool IsIn(ClientId id, absl::string_view name) const;

  // Routes `line` to the client called `to_nick` wherever it is (no-such-nick).
  absl::Status SendPrivate(absl::string_view to_nick, std::string line);
  // For a place that was handed a private message for a client that has since moved on.
  void ForwardPrivate(ClientId to, std::string line);

  // Runs `task` where client `to` is now (false if it is gone). From any thread.
  bool RunWhereClientIs(ClientId to, ClientTask task);
  // The client's nick and account key as the registry has them now (empty if it is gone).
  std::string NickOf(ClientId id) const;
  // The client called `nick`, or 0.
  ClientId IdOf(absl::string_view nick) const;

  // ---- Accounts (registry_accounts.cc). Account keys are NameKey()s of registered nicks.
  void AddAccounts(const std::vector<std::string>& account_keys);
  // In a cluster whose Redis lost its data: the accounts known here are gone with it.
  void ForgetAccounts();
  bool IsAccount(absl::string_view nick) const;
  // The client, holding the nick of `account_key`, registered it and is logged in to it.
  void Registered(ClientId id, const std::string& account_key);
  // Logs the client in to `account_key` under `nick`, taking the nick from whoever holds it: that
  // client is renamed to a guest nick, logged out, and sent `on_displaced` where it is. Returns
  // the client's nick before (NotFound if it is gone).
  absl::StatusOr<std::string> LogIn(ClientId id, absl::string_view nick,
                                    const std::string& account_key,
                                    std::function<ClientTask(std::string lost_nick)> on_displaced);
  void LogOut(ClientId id);

  // ---- Room settings (registry_accounts.cc).
  // At start: the registered rooms kept in the store.
  void AddRegisteredRooms(const std::vector<RoomSettings>& rooms);
  // How many registered rooms `account` owns.
  size_t RoomsOwnedBy(absl::string_view account) const;
  // The kept settings of a registered room called `name`, or null.
  std::shared_ptr<const RoomSettings> RegisteredRoom(absl::string_view name) const;
  // From the room's thread, after each change: the settings /join checks from now on; kept while
  // the room is closed if it is registered.
  void PublishRoomSettings(std::shared_ptr<const RoomSettings> settings);

  // ---- Cluster (registry_cluster.cc, docs/CLUSTER.md): Redis decides names and limits; the
  // registry keeps what is on this node (its clients' nicks, its room parts).
  // Before any client connects (not safe alongside Connect()): where guest numbers come from
  // (unique in the cluster).
  void SetGuestNumbers(std::function<uint64_t()> next);
  // Holds `nick` for client `id` while Redis decides (a second client here asking for it meanwhile
  // gets nick-taken); Rename() to it, or Unreserve(), ends that.
  absl::Status ReserveNick(ClientId id, absl::string_view nick);
  void Unreserve(ClientId id, absl::string_view nick);
  // Every client here: its nick and where it is (room key and name; empty in the lobby).
  struct Placement {
    ClientId id;
    std::string nick;
    std::string room_key;
    std::string room_name;
    std::string account;
    std::string address;
  };
  std::vector<Placement> Placements() const;
  // The client as a room's settings judge it (its accounts and address); empty if unknown.
  RoomVisitor VisitorOf(ClientId id) const;
  // Whether a part of the room `name` is open here.
  bool HasRoomPart(absl::string_view name) const;
  // Moves the client into this node's part of the room `name` (Redis has admitted it), opening
  // `fresh` (its thread started) as that part if there is none; `*used` says whether it was.
  // Aborted if there is no part (it closed since the caller looked) and no `fresh`.
  absl::Status EnterRoomPart(std::unique_ptr<Connection>& connection, absl::string_view name,
                             Admission admission, std::shared_ptr<Destination> fresh,
                             bool* used);

  // Costs one copy of the list after a change, nothing between changes.
  RoomListing ListRooms() const;
  absl::StatusOr<RoomMembers> Who(absl::string_view room) const;
  size_t client_count() const;
  size_t room_count() const;

  // From now on refuses connections, reservations and moves; returns every room, open or
  // reserved, to be stopped.
  std::vector<std::shared_ptr<Destination>> BeginShutdown();

 private:
  struct ClientEntry {
    std::string nick;
    Destination* place;    // where the client is, or is heading
    std::string room_key;  // empty in the lobby
    std::string account;   // the account key it is logged in to; empty: a guest
    std::string former_account;  // the last account it was logged in to, for account bans
    std::string address;   // its peer's IP address
  };
  struct RoomEntry {
    std::string name;
    std::shared_ptr<Destination> room;
    bool open = false;                               // false while only reserved
    absl::btree_map<std::string, ClientId> members;  // by nick key: in the room or on the way
    std::shared_ptr<const RoomSettings> settings;     // null: anyone may enter
  };

  absl::Status RefuseIfShuttingDown() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CanCreateLocked(const std::string& key, absl::string_view name, ClientId creator,
                               absl::string_view given_key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `settings` (maybe null) let client `id`, giving `key`, in.
  absl::Status AdmitLocked(const RoomSettings* settings, ClientId id, absl::string_view key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // nick-registered when nick `key` (shown as `nick`) is an account that `client` is not logged in
  // to: asked before whether it is taken, as rc_nick asks in a cluster. An account this node has
  // not heard of (registered on another node since) counts when a client here is logged in to it.
  absl::Status RefuseRegisteredLocked(const ClientEntry& client, const std::string& key,
                                      absl::string_view nick) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // OK when nick `key` (shown as `nick`) is neither held nor reserved by a client but `id`;
  // else nick-taken.
  absl::Status NickFreeForLocked(ClientId id, const std::string& key, absl::string_view nick) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Renames the client (its nick and its room's member map); the nick must be free.
  void RenameLocked(ClientId id, ClientEntry& entry, std::string nick)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The open room called `name`, or no-such-room.
  absl::StatusOr<RoomEntry*> FindOpenRoomLocked(absl::string_view name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `candidate` (from the cluster's guest numbers) if it is free here, else the next local one.
  std::string NextGuestNick(std::string candidate) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the client out of its current room's member set, closing the room if it is now empty.
  void LeaveRoomLocked(ClientEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves `connection` into `room`, admitting it as `kind`.
  void EnterRoomLocked(std::unique_ptr<Connection>& connection, ClientEntry& entry,
                       const std::string& room_key, RoomEntry& room, Admission admission)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Const after construction.
  const RegistryLimits limits_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<ClientId, ClientEntry> clients_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, ClientId> nicks_ ABSL_GUARDED_BY(mu_);  // by NameKey
  // In a cluster: nicks a client here asked Redis for, by NameKey (ReserveNick).
  absl::flat_hash_map<std::string, ClientId> reserved_nicks_ ABSL_GUARDED_BY(mu_);
  // By NameKey, ordered, so /rooms lists them without sorting; a node map, so an entry stays put
  // while other rooms close.
  std::map<std::string, RoomEntry> rooms_ ABSL_GUARDED_BY(mu_);
  mutable RoomListing listing_ ABSL_GUARDED_BY(mu_);  // null after a change
  uint64_t next_guest_ ABSL_GUARDED_BY(mu_) = 1;
  // In a cluster; set before any client connects, then only read.
  std::function<uint64_t()> guest_numbers_;
  absl::flat_hash_set<std::string> accounts_ ABSL_GUARDED_BY(mu_);  // account keys
  // Registered rooms' settings, open or not, by room key.
  absl::flat_hash_map<std::string, std::shared_ptr<const RoomSettings>> registered_rooms_
      ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PLACES_REGISTRY_H_
