// ClusterNode: one node's presence in the cluster (docs/CLUSTER.md). It owns the node's RedisLink
// and, on the link thread, keeps the node alive in Redis and frees what dead nodes held:
//
//   - at its first connect it takes over its own id (rc_reap with its new incarnation): what a
//     previous process under the same id left (it was killed and restarted before its key
//     expired) is freed at once, and its members' rooms get their LEAVEs;
//   - then, and every --cluster_node_ttl_s / 5, rc_heartbeat re-arms its node key (3/5 of the
//     TTL; its nicks are held while the key lives), and reports the registered nodes whose key is
//     gone;
//   - for each of those it runs rc_reap: their members leave their rooms (LEAVE entries on the
//     room channels), emptied rooms close, their nicks are freed. So a node killed with kill -9
//     is reaped within the TTL (3/5 + 1/5 of it), by whichever survivor notices first;
//   - a heartbeat that finds the key held by another incarnation (another process was started
//     under this id and took it over) fences the link for good (RedisLink::Fence): this process
//     stops speaking for the id, and its clients keep only their local rooms.
//
// For the places (cluster_node_rooms.cc) it runs the scripts that make nicks and rooms
// cluster-wide (chat/cluster/scripts.h) and routes what arrives: a room channel's entries go to
// the room part attached for that room (subscribed while a part is open here or a /create or
// /join of it is on its way), the node channel's private messages to the node message sink.
// Answers are called on the link thread: a caller hands them on to its own thread
// (Registry::RunWhereClientIs, Place::RunInLoop), never blocking.
//
// Each time the link comes up (the first time, and after an outage) the node registers again
// what it holds (its clients' nicks and room memberships, from the holdings source), after
// forgetting what Redis holds for it beyond that; a nick someone else took meanwhile goes to the
// conflict sink (the client is renamed). Room parts are told to accept the next entry whatever
// its seq (Redis may have restarted empty).
//
// On Stop() the link writes what was queued (its places' leaves) before it closes, without
// waiting for replies; what Redis did not get is reaped within the TTL like a dead node's.
//
// Thread contract: Start(), Stop() and the Set...Sink() calls are for the owner (the last before
// Start()); link(), node_id(), the place API below (Nick ... DetachRoom, NextGuestNumber) and the
// TEST_ accessors are safe from any thread; everything else runs on the link thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_CLUSTER_NODE_H_
#define ROOMCHAT_CHAT_CLUSTER_CLUSTER_NODE_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "chat/cluster/node_inbox.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/scripts.h"
#include "chat/cluster/settings_scripts.h"

namespace roomchat {

struct ClusterNodeOptions {
  RedisLinkOptions redis;
  std::string node_id;                        // unique in the cluster; no spaces
  // Required (the server's flags hold their defaults): --cluster_node_ttl_s, and the entries a
  // room's stream keeps at most (about: trimming is approximate).
  std::chrono::milliseconds node_ttl{0};
  size_t max_stream_entries = 0;
  // A chat line's retention (PostRequest::retention_ms): none older, in ms (0: no limit by age;
  // cluster::kNoHistory: without history, a room's stream goes when it closes).
  int64_t stream_retention_ms = cluster::kNoHistory;
  size_t max_rooms = 0;                       // --max_rooms, cluster-wide (0: no limit)
  size_t max_room_members = 0;                // --max_room_members, cluster-wide (0: no limit)
};

// A room part: where a room channel's entries go on this node (implemented by Room).
class RoomFeed {
 public:
  virtual ~RoomFeed() = default;
  // Link thread: hand `entry`, in the order Redis published it, to the part's own thread.
  virtual void OnEntry(cluster::RoomEntry entry) = 0;
  // Link thread: the link is back after an outage; the room's seq may have started again.
  virtual void OnResync() = 0;
  // Link thread, after OnResync() and before any entry heard since: whether Redis came back
  // with its data (the room's seqs go on) or without it (rc:epoch changed: they started again
  // from 1).
  virtual void OnDataSet(bool lost) = 0;
};

class ClusterNode {
 public:
  // Fails on a bad node id or TTL, or when the link cannot be made.
  static absl::StatusOr<std::unique_ptr<ClusterNode>> Create(const ClusterNodeOptions& options);
  ~ClusterNode();

  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  absl::Status Start();
  // Waits until the node has taken its place in Redis (its first heartbeat answered), at most
  // `deadline`; false if it has not (Redis unreachable: the node runs on and joins when it can).
  bool WaitUntilJoined(absl::Duration deadline) const;
  // Ends the link thread; registers nothing more (the node is then reaped within the TTL).
  void Stop();

  RedisLink& link() { return *link_; }
  // Whether Redis is reachable now (a hint: it may change right after).
  bool up() const { return link_->up(); }
  const std::string& incarnation() const { return incarnation_; }
  const std::string& node_id() const { return options_.node_id; }

  // Owner, before Start(): where "msg <incarnation> <client> <line>" from another node's /msg
  // goes (link thread), for this process: the client that held the nick when Redis resolved it.
  using NodeMessageSink = std::function<void(uint64_t client, const std::string& line)>;
  void SetNodeMessageSink(NodeMessageSink sink) { node_message_sink_ = std::move(sink); }
  // Owner, before Start(): told (link thread) that a login on another node took `nick_key` from
  // this node's client.
  using NickTakenSink = std::function<void(const std::string& nick_key)>;
  void SetNickTakenSink(NickTakenSink sink) { nick_taken_sink_ = std::move(sink); }
  // Owner, before Start(): told (link thread) of a failed password (or a /register) from
  // `address` on another node, so the per-address login throttle counts the whole cluster.
  using LoginFailureSink = std::function<void(const std::string& address)>;
  void SetLoginFailureSink(LoginFailureSink sink) { login_failure_sink_ = std::move(sink); }
  // Owner, before Start(): told (link thread) that Redis came back without its data (rc:epoch
  // changed), accounts included.
  using DataLostSink = std::function<void()>;
  void SetDataLostSink(DataLostSink sink) { data_lost_sink_ = std::move(sink); }
  // Tells the other nodes of a failed password (or a /register) from `address` here.
  void ShareLoginFailure(const std::string& address);
  // Owner, before Start(): what this node holds (called on the link thread, each time the link
  // comes up), and where a client whose nick someone else took during an outage goes.
  using Holdings = std::function<std::vector<cluster::Registration>()>;
  using NickConflict = std::function<void(uint64_t client, const std::string& nick)>;
  void SetHoldings(Holdings holdings, NickConflict conflict) {
    holdings_ = std::move(holdings);
    nick_conflict_ = std::move(conflict);
  }

  // ---- For the places; safe from any thread. Each answer runs on the link thread.
  template <typename T>
  using Answer = std::function<void(T)>;
  // A guest number no other node hands out, taken from blocks of numbers in Redis in a random
  // order (a random one, logged, while no block has come).
  uint64_t NextGuestNumber();
  // For tests: `number` is the next NextGuestNumber().
  void TEST_PutGuestNumberNext(uint64_t number);
  void Nick(const cluster::NickChange& change, Answer<absl::Status> done);
  // Claims the client's nick and membership again (after a conflict renamed it).
  void Register(const cluster::Registration& client);
  // /create and /join: the room's channel is subscribed (and confirmed) before the script runs,
  // so every entry after the answer's seq reaches this node. The caller must then call
  // EndRoomMove(room_key) once it has attached a part (or given up).
  void CreateRoom(const cluster::RoomMove& move, Answer<absl::StatusOr<cluster::Entered>> done);
  void JoinRoom(const cluster::RoomMove& move, Answer<absl::StatusOr<cluster::Entered>> done);
  void EndRoomMove(const std::string& room_key);
  // The member left its room here (room_key empty: it was in the lobby); with `release_nick` it
  // left the server and its nick is freed. `done` may be null.
  void Leave(const std::string& room_key, const std::string& nick_key, bool release_nick,
             Answer<absl::Status> done);
  void ListRooms(Answer<absl::StatusOr<std::vector<cluster::ClusterRoom>>> done);
  void Who(const std::string& room_name, Answer<absl::StatusOr<cluster::ClusterWho>> done);
  // A room operator's command (rc_room_op): its checks and changes in Redis, its entry posted.
  void OperateRoom(const cluster::RoomOp& op, Answer<absl::StatusOr<cluster::RoomOpDone>> done);
  // rc_msg (MsgCommand): `even_here` for a sender whose room lines go through Redis.
  void SendPrivate(const std::string& to_key, const std::string& line, bool even_here,
                   Answer<absl::StatusOr<cluster::MsgRoute>> done);
  // Posts an entry (`kind`, `body`) said by the member whose nick key is `poster_key` to the
  // room: it comes back to every part through the channel; `done` gets its id, or why it could
  // not be posted (ErrorCode::kNotInRoom: Redis has the member out of the room).
  void Post(const std::string& room_key, const std::string& poster_key, const std::string& kind,
            std::string body, Answer<absl::StatusOr<uint64_t>> done);
  // The room's entries with ids strictly between the two (at most `max`, the newest), from its
  // streams: a part fills a hole in what it delivered (entries published while the link was
  // down).
  void ReadEntries(const std::string& room_key, uint64_t after_id, uint64_t before_id, size_t max,
                   Answer<absl::StatusOr<std::vector<cluster::RoomEntry>>> done);
  // For tests: the next `count` room entries that arrive are dropped, as if published while the
  // link was down.
  void TEST_DropRoomEntries(int count) { test_drop_entries_.store(count); }
  // For tests: how many of those are still to come (0 once the node has heard, and dropped, all).
  int TEST_room_entries_to_drop() const {
    return std::max(test_drop_entries_.load(std::memory_order_acquire), 0);
  }
  // For tests: the next `count` private messages heard on the node's channel are dropped, as if
  // Redis had them in its output buffer when the subscriber connection dropped.
  void TEST_DropNodeMessages(int count) { test_drop_node_messages_.store(count); }
  int TEST_node_messages_to_drop() const {
    return std::max(test_drop_node_messages_.load(std::memory_order_acquire), 0);
  }
  // For tests: gaps found in what the node channel and inbox brought (private messages lost).
  uint64_t TEST_inbox_gaps() const { return inbox_gaps_.load(std::memory_order_acquire); }
  // For tests: the next `count` posts fail in their place on the connection (Redis is sent a
  // script that answers an error, as a refused post would be), the link staying up.
  void TEST_FailPosts(int count) { test_fail_posts_.store(count); }
  // For tests: the next `count` reads of a room's missed entries (ReadEntries) fail likewise.
  void TEST_FailReads(int count) { test_fail_reads_.store(count); }
  // A part of `room_key` opened here: entries go to it until DetachRoom(room_key, feed).
  void AttachRoom(const std::string& room_key, std::weak_ptr<RoomFeed> feed);
  void DetachRoom(const std::string& room_key, const RoomFeed* feed);
  // Heartbeats answered, and nodes this node reaped (with at least one thing freed).
  uint64_t TEST_heartbeats() const { return heartbeats_.load(std::memory_order_acquire); }
  // For tests: messages heard on the subscriber connection (room entries, a /msg to a client
  // here, ...), handled or waiting to be.
  uint64_t TEST_messages_heard() const { return messages_heard_.load(std::memory_order_acquire); }
  // For tests: how many times the link has connected (RedisLink::TEST_connects).
  uint64_t TEST_link_connects() const { return link_->TEST_connects(); }
  // For tests: the link's answers wait unhandled while held (RedisLink::TEST_HoldReplies).
  void TEST_HoldReplies(bool hold) { link_->TEST_HoldReplies(hold); }
  uint64_t TEST_reaped() const { return reaped_.load(std::memory_order_acquire); }
  // Another process took over this node's id; this one's link is fenced (closed for good).
  bool replaced() const { return replaced_.load(std::memory_order_acquire); }

 private:
  explicit ClusterNode(const ClusterNodeOptions& options);

  // CreateRoom and JoinRoom (safe from any thread): `command` (rc_create or rc_join) once the
  // room's channel is subscribed.
  void MoveIntoRoom(const cluster::RoomMove& move, std::vector<std::string> command,
                    Answer<absl::StatusOr<cluster::Entered>> done);

  // ---- Link thread only.
  void OnLinkState(RedisLink::State state);
  void TakeOver();
  void Heartbeat();
  void OnHeartbeat(absl::StatusOr<RedisReply> reply);
  void Reap(const std::string& dead);
  // The heartbeat found this node's key held by another incarnation (`error`): fence the link.
  void Replaced(absl::string_view error);

  // ---- Link thread only (cluster_node_rooms.cc).
  // A room channel's state here: subscribed while a part is attached or a move is on its way.
  struct Feed {
    std::weak_ptr<RoomFeed> part;
    const RoomFeed* part_raw = nullptr;
    size_t moves = 0;           // /create or /join on their way (EndRoomMove not yet called)
    bool subscribed = false;    // Redis confirmed it
    bool subscribing = false;
    std::vector<std::function<void(bool subscribed)>> on_subscribed;  // false: the link is down
    std::vector<cluster::RoomEntry> early;  // entries that came before a part attached
    // The last entries handed to a part (a few, see kMaxRecentEntries): a part whose loop has
    // ended stays attached until its DetachRoom is run here, and what it was handed meanwhile is
    // lost; the next part to attach is handed these first (it skips the seqs it has).
    std::deque<cluster::RoomEntry> recent;
    size_t recent_bytes = 0;
  };
  void OnMessage(const std::string& channel, const std::string& payload);
  // A room's channel or the cluster's.
  void OnSharedMessage(const std::string& channel, const std::string& payload);
  void OnRoomEntry(const std::string& room_key, const std::string& payload);
  // rc:ch:cluster: what every node hears (another node's login failures; reaps).
  void OnClusterMessage(absl::string_view message);
  // rc:ch:node:<this node>: "msg ..." for a client here, "lose <nick>" (a login took it).
  void OnNodeMessage(absl::string_view message);
  // Hands `message` to the node message sink unless delivered already (its id is not past
  // inbox_last_) or meant for another process under this id; true if it did.
  bool DeliverNodeMessage(const cluster::NodeMessage& message);
  // Reads the inbox after inbox_last_ (each time the link comes up), then the node channel's
  // messages heard meanwhile.
  void ReadInbox();
  // Handles waiting_ in order, up to a message on this node's channel whose answers are not in.
  void HandleWaiting();
  // Hands the part of `room_key` the last entry of the room's streams, as if heard (it takes it
  // as delivered already, or as the end of a hole to read).
  void ShowLastEntry(const std::string& room_key);
  // ReadEntries (before_id 0: up to the newest), from both of the room's streams (its lines and
  // its events), the lines' read failing in its place while TEST_FailReads lasts if `fail`.
  void ReadNewest(const std::string& room_key, uint64_t after_id, uint64_t before_id, size_t max,
                  bool fail, Answer<absl::StatusOr<std::vector<cluster::RoomEntry>>> done);
  // Runs `send(true)` once the room's channel is subscribed; `send(false)` at once if the link is
  // down, or when it goes down before the subscription is confirmed.
  void WhenSubscribed(const std::string& room_key, std::function<void(bool subscribed)> send);
  // The link went down: whoever waits for a subscription is answered now.
  void FailWaitingSubscriptions();
  void MaybeUnsubscribe(const std::string& room_key);
  void ResyncParts();
  // Prunes and registers again everything the holdings source says this node holds.
  void RegisterHoldings();
  // Sets rc:epoch if Redis has none (it started empty) and learns Redis's epoch; sent before the
  // re-registrations, which compare it with the one this node knew (rc_register).
  void ClaimEpoch();
  // rc_register of `client`, against `known_epoch` (see rc_register).
  void SendRegistration(const cluster::Registration& client, const std::string& known_epoch);
  // Asks Redis for the next block of guest numbers when half of this one is used (or at once,
  // `even_if_left`), above the numbers this node has had.
  void TakeGuestBlock(bool even_if_left = false);
  // For the TEST_ hooks: whether one of `count`'s remaining events is taken (counted down).
  static bool TakeOne(std::atomic<int>& count);
  // For TEST_FailPosts and TEST_FailReads: while `count` lasts, `command` is replaced by one
  // Redis answers with an error (neither a refusal nor NOSCRIPT: the link does not reconnect for
  // it), which fails in its place on the connection.
  static void MaybeFailInPlace(std::atomic<int>& count, std::vector<std::string>* command);

  // Const after construction.
  const ClusterNodeOptions options_;
  const std::string incarnation_;
  const cluster::NodeTimes times_;
  const std::string node_channel_;  // rc:ch:node:<node id>
  std::unique_ptr<RedisLink> link_;  // set by Create(), before anything runs

  std::atomic<uint64_t> heartbeats_{0};
  std::atomic<uint64_t> reaped_{0};
  std::atomic<uint64_t> messages_heard_{0};
  std::atomic<uint64_t> inbox_gaps_{0};
  std::atomic<bool> replaced_{false};
  std::atomic<int> test_drop_entries_{0};
  std::atomic<int> test_fail_posts_{0};
  std::atomic<int> test_fail_reads_{0};
  std::atomic<int> test_drop_node_messages_{0};

  NodeMessageSink node_message_sink_;  // set before Start(), like the three below
  NickTakenSink nick_taken_sink_;
  LoginFailureSink login_failure_sink_;
  DataLostSink data_lost_sink_;
  Holdings holdings_;
  NickConflict nick_conflict_;

  absl::Mutex guest_mu_;
  // The numbers left of the blocks taken, in a random order: the next is the last.
  std::vector<uint64_t> guest_numbers_ ABSL_GUARDED_BY(guest_mu_);
  uint64_t guest_end_ ABSL_GUARDED_BY(guest_mu_) = 0;  // one past the last block's last
  bool guest_asking_ ABSL_GUARDED_BY(guest_mu_) = false;

  // Owned by the link thread.
  absl::flat_hash_map<std::string, Feed> feeds_;  // by room key
  uint64_t bad_entries_ = 0;
  bool taken_over_ = false;   // the takeover at start succeeded: the node key is this process's
  bool taking_over_ = false;  // its command is on its way
  bool heartbeat_in_flight_ = false;
  bool beaten_since_up_ = false;  // a heartbeat was answered since the link last came up
  uint64_t refusals_seen_ = 0;    // the link's refusals() at the last heartbeat answered
  absl::flat_hash_set<std::string> reaping_;
  // Redis's data set, as rc:epoch names it (ClaimEpoch): the one this node last saw, and the one
  // it knew before the link last came up ('' none), which its re-registrations are made against.
  std::string epoch_;
  std::string epoch_before_up_;
  uint64_t epoch_claims_ = 0;
  // Clients the conflict rule renamed this round, by id: the epoch their first registration
  // was made against, for the one under their new nick (Register).
  absl::flat_hash_map<uint64_t, std::string> conflict_epochs_;
  // A message on this node's channel, or any while the epoch is being claimed (after the link
  // came up: whether Redis lost its data decides where the room parts take up their entries),
  // waits for the answers to the commands sent before it came, and those that came after it wait
  // behind it, in Redis's order (a room's line said after a /msg to a client here comes after the
  // PRIV): at most the link's command timeout.
  struct Message {
    std::string channel;
    std::string payload;
    bool waits = false;           // for the answers (on this node's channel; the epoch unknown);
                                  // cleared when they are in
    uint64_t after_command = 0;   // RedisLink::last_command_sent() when it came
    bool answers_asked = false;   // AfterAnswerTo was asked for it
  };
  std::deque<Message> waiting_;
  bool claiming_epoch_ = false;  // ClaimEpoch's answer is not in yet
  // The id of the last /msg handled from this node's channel or inbox (none yet: the inbox is
  // read from its start, other processes' messages skipped), and whether the inbox is to be read
  // (from the link's drop until the read's answer; at the start, until the first): messages on
  // this node's channel wait for it.
  std::optional<cluster::InboxId> inbox_last_;
  bool reading_inbox_ = true;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_CLUSTER_NODE_H_
