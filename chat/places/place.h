// Place: what the lobby and a room have in common. Each place runs one EventLoop on its own
// thread, its members' I/O in a MemberIo, and answers the commands that work anywhere (/nick,
// /create, /join, /rooms, /who ROOM, /whoami, /msg, /ping, /help, /quit); Lobby and Room say what
// differs: chat lines, /leave, events to the others, and how an arriving client is greeted.
//
// Thread contract: the Destination methods (Admit, DeliverPrivate, AdoptDeparted, Stop) and
// RunInLoop() are safe from any thread; Run() is called once, by the thread that becomes the
// place's loop thread; everything else runs on that thread.
#ifndef ROOMCHAT_CHAT_PLACES_PLACE_H_
#define ROOMCHAT_CHAT_PLACES_PLACE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/accounts/account_service.h"
#include "chat/accounts/login_guard.h"
#include "chat/cluster/cluster_node.h"
#include "chat/history/history_service.h"
#include "chat/loop/event_loop.h"
#include "chat/metrics/metrics.h"
#include "chat/net/connection.h"
#include "chat/places/member_io.h"
#include "chat/places/registry.h"
#include "chat/protocol/command.h"
#include "chat/protocol/line_framer.h"

namespace roomchat {

class Place;

// What every place shares; const after construction, and every pointer outlives every place.
struct PlaceContext {
  Registry* registry = nullptr;
  Place* lobby = nullptr;
  // Makes a room called `name`, its thread not started (fails when out of descriptors).
  std::function<absl::StatusOr<std::shared_ptr<Place>>(const std::string& name)> make_room;
  // Starts a room's thread (ResourceExhausted when no thread can be had, Unavailable after
  // shutdown began).
  std::function<absl::Status(std::shared_ptr<Place> room)> start_room;
  size_t max_line_bytes = 0;
  std::chrono::seconds idle_timeout{0};
  ServerMetrics* metrics = nullptr;
  // History (docs/HISTORY.md); `history` is null when it is off.
  HistoryService* history = nullptr;
  size_t history_on_join = 0;      // lines replayed on join
  size_t history_reply_bytes = 0;  // at most this much history queued for a client at once
  int64_t history_retention_ms = 0;  // lines older are never replayed (0: no limit by age)
  // Accounts (docs/PROTOCOL.md, "Accounts and moderation"); `accounts` is null when they are off.
  AccountService* accounts = nullptr;
  LoginGuard* login_guard = nullptr;
  bool allow_plaintext_auth = false;
  bool plaintext_auth_from_loopback = true;
  // The cluster (docs/CLUSTER.md); null when this node runs alone.
  ClusterNode* cluster = nullptr;
};

class Place : public Destination,
              public std::enable_shared_from_this<Place>,
              private MemberIo::Handler {
 public:
  ~Place() override;

  // Destination; safe from any thread.
  void Admit(std::unique_ptr<Connection> connection, Admission admission) override;
  void DeliverPrivate(ClientId to, std::string line) override;
  void DeliverTask(ClientId to, ClientTask task) override;
  void Stop() override;
  // Safe from any thread: adopts a departed connection until its last output is sent.
  void AdoptDeparted(std::unique_ptr<Connection> connection);

  // Runs the loop on the calling thread until Stop() is processed, then closes every connection.
  void Run();
  // Safe from any thread: runs `task` on this place's thread.
  void RunInLoop(EventLoop::Task task) { loop_->RunInLoop(std::move(task)); }

  // In a cluster: the task (for Registry::RunWhereClientIs) that renames a client whose nick
  // `lost_nick` a client on another node took (`reason` says how), to a guest nick.
  static ClientTask ClusterNickLost(std::string lost_nick, std::string reason);

  // For tests, safe from any thread: commands handled so far.
  uint64_t TEST_commands() const { return commands_.load(std::memory_order_relaxed); }

 protected:
  // `room_name` is empty for the lobby.
  Place(const PlaceContext& context, std::string room_name);
  // Creates the loop and the member I/O; called once by the subclass's factory.
  absl::Status Init();

  bool is_room() const { return !room_name_.empty(); }
  const PlaceContext& context() const { return context_; }
  const std::string& room_name() const { return room_name_; }
  MemberIo& io() { return *io_; }
  EventLoop& loop() { return *loop_; }
  Clock::time_point now() const { return loop_->now(); }

  // ---- Loop thread only: what the lobby and a room do differently.
  // `member` arrived; its buffered input is not yet read.
  virtual void Greet(Connection& member, const Admission& admission) = 0;
  virtual void OnChat(Connection& member, absl::string_view text) = 0;
  virtual void OnLeave(Connection& member) = 0;
  // The member called `nick` has left this place (its LEAVE event, in a room).
  virtual void AnnounceDeparture(absl::string_view nick) = 0;
  // Sends `line` to every member but `except` (kNobody: to all); the lobby sends nothing.
  static constexpr ClientId kNobody = 0;
  virtual void Announce(ClientId except, absl::string_view line) = 0;

  // Called on the place's thread before its loop runs, and after it has ended.
  virtual void OnStart() {}
  virtual void OnEnd() {}
  // /history: the lobby has none.
  virtual void OnHistory(Connection& member, const Command& command);
  // The moderation commands (/op ... /key): only in a room.
  virtual void OnModeration(Connection& member, const Command& command);
  // In a cluster: this part as the link's RoomFeed (a room), or nothing (the lobby).
  virtual std::weak_ptr<RoomFeed> AsRoomFeed() { return {}; }
  // In a cluster, Redis could not be told that `nick` left this room: its members hear it now.
  virtual void AnnounceLeaveDuringOutage(const std::string& nick) {}
  // `id` is no longer a member here (it moved on or left the server).
  virtual void OnMemberGone(ClientId id) {}
  // A cluster room's part runs `then` once it has delivered its entry `seq` (an operator's OK
  // after the lines Redis sequenced before its command); anywhere else, at once.
  virtual void AfterEntry(uint64_t seq, std::function<void()> then) { then(); }
  // Until as many ReleaseArrivals() as HoldArrivals(), arriving clients and private messages wait,
  // in order (a room that is still loading its history; in a cluster, a joiner waiting for its
  // JOIN to come back).
  void HoldArrivals() { ++arrival_holds_; }
  void ReleaseArrivals();

  bool in_cluster() const { return context_.cluster != nullptr; }
  // Tells Redis that `nick` left this place (and the server, with `release_nick`); if Redis cannot
  // be told, this place's members get the LEAVE at once.
  void ClusterLeave(const std::string& nick, bool release_nick);
  // /leave in a cluster: `member` stays, its input held, until Redis has it out of the room (so
  // once it has OK LEAVE, every node sees the room without it), then goes to the lobby.
  void ClusterLeaveRoom(Connection& member);
  // A room operator's command `kind` in a cluster (room_cluster_moderation.cc): `op` runs in
  // Redis; the asker, whose input waits, gets the answer wherever it is by then. `given`: the
  // name the asker gave (/ban and /unban answer with it).
  void ClusterRoomOp(Connection& member, const cluster::RoomOp& op, Command::Kind kind,
                     const std::string& given);

  // Sends the status's ERR line to `member`.
  void SendError(Connection& member, const absl::Status& status);
  // Sends `line` to client `to` if it is a member here, else wherever it is now (registry).
  void ReceivePrivate(ClientId to, const std::string& line);
  // Detaches `member` from this place and offers it to `move`, a registry call that takes the
  // connection when it succeeds. On failure the connection is added back and answered with the
  // error. True when it moved: `member` belongs to another thread then and must not be touched.
  bool TryMove(Connection& member,
               absl::FunctionRef<absl::Status(std::unique_ptr<Connection>&)> move);

 private:
  // MemberIo::Handler.
  void OnFrame(Connection& member, const Frame& frame) override;
  void OnDeparture(Connection& member, const Departure& departure) override;
  void OnUnsentAtDeparture(std::unique_ptr<Connection> connection) override;

  void ReceiveAdmission(std::unique_ptr<Connection> connection, const Admission& admission);
  void ReceiveTask(ClientId to, ClientTask task);
  // Applies the member's flood guard to one received line; false if the line is dropped.
  bool PassesFloodGuard(Connection& member);
  void Execute(Connection& member, const Command& command);
  void DoNick(Connection& member, const std::string& nick);
  void DoCreate(Connection& member, const Command& command);
  // Starts the reserved room's thread and moves `member` in; false (having answered) on failure.
  void OpenReservedRoom(Connection& member, const Command& create, std::shared_ptr<Place> room);
  void DoJoin(Connection& member, const Command& command);
  void DoCap(Connection& member, const Command& command);
  void DoRooms(Connection& member);
  void DoWho(Connection& member, const std::string& name);
  void DoMsg(Connection& member, const Command& command);

  // ---- Commands answered on another thread (accounts, cluster): the member's input waits.
  template <typename T>
  using HeldAnswer = std::function<void(Place& here, Connection& member, T result)>;
  // Holds `member`'s input and returns what the answering thread (the accounts thread, the
  // cluster's link) calls with its result: `answer` then runs wherever the member is by then, and
  // its input is taken again; `if_dropped` runs instead if it never can (the member left).
  template <typename T>
  std::function<void(T)> HoldFor(Connection& member, HeldAnswer<T> answer,
                                 std::function<void()> if_dropped = nullptr);

  // ---- Accounts (place_accounts.cc).
  void ExecuteAccountCommand(Connection& member, const Command& command);
  // OK when `member` may send a password now (accounts on, TLS or loopback, not throttled);
  // else the error it gets.
  absl::Status CheckPasswordAllowed(Connection& member) const;
  // HoldFor() for a password job: the address's job slot is freed when the answer comes, and
  // `first`, if given, runs on the accounts thread before the answer is routed.
  AccountService::Done AnswerTo(Connection& member, HeldAnswer<absl::Status> answer,
                                std::function<void(const absl::Status&)> first = nullptr);
  // CheckPasswordAllowed, then a slot among its address's password jobs in flight.
  absl::Status BeginPasswordJob(Connection& member);
  // The accounts thread refused the job (full): frees the slot, answers unavailable.
  void RefusePasswordJob(Connection& member);
  void DoRegister(Connection& member, const Command& command);
  void DoLogin(Connection& member, const Command& command);
  void DoPassword(Connection& member, const Command& command);
  void DoLogout(Connection& member);
  void FinishRegister(Connection& member, const std::string& account, absl::Status status);
  void FinishLogin(Connection& member, const std::string& nick, const std::string& account,
                   absl::Status status);
  // The password was right: the member takes the nick (from whoever holds it) and the account.
  void CompleteLogin(Connection& member, const std::string& nick, const std::string& account);
  // In a cluster, first the nick in Redis (taken from its holder on any node).
  void ClusterLogin(Connection& member, const std::string& nick, const std::string& account);
  void FinishPassword(Connection& member, absl::Status status);
  // The account wrong-password bookkeeping and answer.
  void LoginFailed(Connection& member, absl::string_view account);
  // Someone logged in to `lost_nick`, which `member` held; the winner was in room `winner_room`
  // (its key; '' the lobby).
  void LoseNick(Connection& member, const std::string& lost_nick, const std::string& winner_room);
  // Tells the operator when --max_rooms or --max_room_members turned a client away.
  void LogIfLimit(const absl::Status& status);
  void LogDeparture(const Connection& member, const Departure& departure);

  // ---- The cluster's versions of the commands that need Redis (place_cluster.cc): each holds
  // the member's input, hands the job to the link thread, and applies the answer wherever the
  // member is by then.
  // The /create or /join `command` of `member` as the scripts take it (room_name: the caller's).
  cluster::RoomMove RoomMoveOf(const Connection& member, const Command& command) const;
  // The undo of a /create or /join whose answer could not be applied.
  std::function<void()> UndoRoomMove(const cluster::RoomMove& move);
  // A new part of room `name`, its thread started (limit if it cannot be had).
  absl::StatusOr<std::shared_ptr<Place>> StartedPart(const std::string& name);
  void ClaimGuestNick(Connection& member);
  void ClusterNick(Connection& member, const std::string& nick);
  // The member registered or logged out: its nick's value in Redis (which bans read) says so.
  void ClusterAccountChanged(const Connection& member);
  void ClusterCreate(Connection& member, const Command& command);
  void ClusterJoin(Connection& member, const Command& command);
  // Moves `member` into this node's part of the room Redis admitted it to (opening the part).
  void EnterClusterRoom(Connection& member, const std::string& room_key,
                        absl::StatusOr<cluster::Entered> entered, Admission admission);
  void ClusterRooms(Connection& member);
  void ClusterWho(Connection& member, const std::string& room_name);
  void ClusterMsg(Connection& member, const Command& command, bool even_here);
  // /join of the room `member` is in: OK JOIN with the members on every node.
  void ClusterAlreadyIn(Connection& member);
  void LoseClusterNick(Connection& member, const std::string& lost_nick,
                       const std::string& reason);
  // `member`, renamed from `lost_nick` to a guest nick here, claims it in Redis and takes its
  // room membership under it (its room hears NICK old new). `entry_taken`: the winner of
  // `lost_nick` is in this room and has its entry (cluster::Registration::entry_taken).
  void RegisterRenamed(Connection& member, const std::string& lost_nick, bool entry_taken = false);

  // Const after construction.
  const PlaceContext context_;
  const std::string room_name_;
  // Set by Init() before the place is shared; then used by any thread through Post().
  std::unique_ptr<EventLoop> loop_;
  // Set by Init(); written by the loop thread, read by the scraper.
  std::shared_ptr<PlaceMetrics> metrics_;

  std::atomic<uint64_t> commands_{0};

  // Owned by the loop thread.
  std::unique_ptr<MemberIo> io_;
  bool stopping_ = false;
  int arrival_holds_ = 0;
  std::vector<EventLoop::Task> held_arrivals_;
  // The last /rooms answer, kept while the registry's listing is unchanged.
  Registry::RoomListing listed_;
  std::string listed_reply_;
};

namespace place_internal {

// Runs `if_dropped` when the last copy of an answer's task goes without having run: the client
// left (or is leaving) before the answer could be applied, and what was done for it elsewhere
// (in Redis) must be undone. Whichever thread drops the last copy runs it, so it only hands work
// to another thread's queue.
struct DropGuard {
  explicit DropGuard(std::function<void()> dropped) : if_dropped(std::move(dropped)) {}
  ~DropGuard() {
    if (!applied && if_dropped) if_dropped();
  }
  std::function<void()> if_dropped;
  bool applied = false;  // set on the thread that runs the task, read after the last release
};

}  // namespace place_internal

template <typename T>
std::function<void(T)> Place::HoldFor(Connection& member, HeldAnswer<T> answer,
                                      std::function<void()> if_dropped) {
  member.set_input_on_hold(true);
  Registry* registry = context_.registry;
  const ClientId id = member.id();
  auto guard = std::make_shared<place_internal::DropGuard>(std::move(if_dropped));
  return [registry, id, answer = std::move(answer), guard = std::move(guard)](T result) {
    registry->RunWhereClientIs(
        id, [answer, result = std::move(result), id, guard](Place& here, Connection& held) {
          guard->applied = true;
          held.set_input_on_hold(false);  // unless the answer holds it again for a next step
          answer(here, held, result);
          // Unless it moved to another place meanwhile (it takes its input there).
          if (here.io().Find(id) == &held && !held.input_on_hold()) here.io().Resume(held);
        });
  };
}

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PLACES_PLACE_H_
