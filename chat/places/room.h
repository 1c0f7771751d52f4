// Room: one chat room, on its own thread, from /create until its last member leaves.
//
// The room thread owns its members (their sockets and buffers) outright, so fan-out takes no lock:
// a chat line is formatted once and appended to every other member's outbound buffer; the loop
// sends each member everything a round produced in one write. Members arrive and private messages
// come in only through the loop's queue. The registry tells the room to stop when nobody is in it
// or on the way in; the thread then ends and the room is forgotten.
//
// History (docs/HISTORY.md), when the server has a store: the room gives each chat line its id
// (above every earlier id of this room name, across lifetimes and restarts: the larger of the last
// id plus one and the wall clock in microseconds), hands it to the store thread, and keeps its
// newest lines in memory (RecentLines) for the replay on join, /history and /join since=ID. As it
// opens it asks the store for its last id and newest lines, and arrivals wait until they come. A
// member catching up on what it missed (since=) gets pages of history, each sent once its output
// has drained, and no live chat line until it has caught up: those lines wait in the history.
//
// Thread contract: as Place.
#ifndef ROOMCHAT_CHAT_PLACES_ROOM_H_
#define ROOMCHAT_CHAT_PLACES_ROOM_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "chat/accounts/room_settings.h"
#include "absl/status/statusor.h"
#include "chat/history/recent_lines.h"
#include "chat/places/place.h"

namespace roomchat {

class Room final : public Place, public RoomFeed {
 public:
  // A room called `name`, not yet running: call Run() on its own thread.
  static absl::StatusOr<std::shared_ptr<Room>> Create(const PlaceContext& context,
                                                      std::string name);

 private:
  // A member replaying what it missed since an id.
  struct CatchUp {
    uint64_t after_id;           // the last id it has been sent
    bool waiting_for_store;      // a page was asked for
    bool gap_checked = false;    // the first store page reports a gap, once
  };

  Room(const PlaceContext& context, std::string name);

  void Greet(Connection& member, const Admission& admission) override;
  void OnChat(Connection& member, absl::string_view text) override;
  void OnLeave(Connection& member) override;
  void Announce(ClientId except, absl::string_view line) override;
  void AnnounceDeparture(absl::string_view nick) override;
  void OnStart() override;
  void OnHistory(Connection& member, const Command& command) override;
  void OnModeration(Connection& member, const Command& command) override;
  void OnMemberGone(ClientId id) override {
    op_clients_.erase(id);
    history_reads_.erase(id);
    ForgetStreamNick(id);
  }

  // ---- In a cluster (room_cluster.cc, docs/CLUSTER.md): every line and event is an entry that
  // Redis sequences; the part delivers a room's entries in seq order as they come back, to its
  // members here. A joiner enters once the part has delivered its JOIN's seq (until then it and
  // later arrivals wait), and is sent what the part delivered after that seq.
  // RoomFeed; link thread.
  void OnEntry(cluster::RoomEntry entry) override;
  void OnResync() override;
  void OnDataSet(bool lost) override;
  void AfterEntry(uint64_t seq, std::function<void()> then) override;
  void RunAfterEntries(uint64_t through);
  // The rest on the room thread (AsRoomFeed on any).
  std::weak_ptr<RoomFeed> AsRoomFeed() override {
    return std::static_pointer_cast<Room>(shared_from_this());
  }
  void OnEnd() override;
  // Redis could not be told that `nick` left: its LEAVE goes to the members here now (and the one
  // rc_prune posts on return is not sent again).
  void AnnounceLeaveDuringOutage(const std::string& nick) override;
  // ---- Posts (room_cluster_posts.cc).
  // Lines handed to the link and not yet answered by Redis (counted down on the link thread):
  // past kMaxPostsInFlight the members who talk wait (their input is held) until it is back under
  // half, so a slow Redis slows talkers instead of growing queues.
  struct PostWindow {
    std::atomic<size_t> in_flight{0};
    std::atomic<bool> paused{false};
    // The id of the last entry the part delivered (cluster_last_id_, stored by the room thread):
    // the link thread forgets the answered lines up to it.
    std::atomic<uint64_t> heard_id{0};
    // The outcomes of the room's posts from here, in the order the link thread had them (pushed
    // there, taken by the room thread): lines Redis answered that the part may not have
    // delivered yet, and lines whose posts failed. A line of this node's in a hole read is one
    // Redis answered (its publication was lost with the link: deliver it) or one whose post
    // failed (delivered here then: skip it); a failed post is delivered after the answered lines
    // before it (DeliverFailedPosts).
    struct PostOutcome {
      uint64_t id = 0;  // Redis's; 0: the post failed
      ClientId sender = kNobody;
      std::string nick;
      std::string text;
    };
    // On the link thread: keeps `post` (and forgets what the part has heard since).
    void Push(PostOutcome post);
    absl::Mutex mu;
    std::deque<PostOutcome> outcomes ABSL_GUARDED_BY(mu);
  };
  // Takes the failed posts out of post_window_ in order, with the answered lines before them:
  // the failed lines reach the members here with local ids, after the lines Redis answered that
  // this part has not delivered yet (DeliverAhead), so that no line overtakes an earlier one.
  void DeliverFailedPosts();
  // A line Redis refused because it has `sender` out of the room (kicked, banned): `sender` is
  // told once the part has delivered the entries the room had then.
  void RefusePost(ClientId sender, const absl::Status& refusal);
  // The line could not reach Redis: the members here get it with a local id.
  void DeliverLocally(const PostWindow::PostOutcome& post);
  // A line Redis answered whose entry has not come back (its publication lost with the link, or
  // still on its way): `had_it` (the members here now, but those catching up) get it now, with
  // its Redis id. Its entry, when it comes (the channel or a hole read), goes to the others.
  void DeliverAhead(const PostWindow::PostOutcome& post,
                    std::shared_ptr<const absl::flat_hash_set<ClientId>> had_it);
  std::shared_ptr<const absl::flat_hash_set<ClientId>> ChatReadersNow();
  // Who was sent the entry `id` ahead (null: it was not), forgetting it and every older one.
  std::shared_ptr<const absl::flat_hash_set<ClientId>> TakeDeliveredAhead(uint64_t id);
  void PostChat(Connection& member, absl::string_view text);
  // Takes again the input of the members paused while too many lines were on their way to Redis.
  void ResumePosters();
  void DeliverEntry(const cluster::RoomEntry& entry);
  // A hole before `next` (entries published while the link was down): they are read from the
  // room's stream, and `next` and what follows wait meanwhile.
  void StartFill(const cluster::RoomEntry& next);
  // Asks for the hole before fill_waiting_'s first entry (again, after a failed read).
  void ReadHole();
  // A failed read is tried again (kFillAttempts in all); then the waiting entries go on.
  void FinishFill(absl::StatusOr<std::vector<cluster::RoomEntry>> entries);
  // Delivers the entries `read` from the stream that fall in the hole (after the last delivered,
  // before seq `hole_end`), passing those the members here had otherwise; how many it sent.
  size_t DeliverHole(const std::vector<cluster::RoomEntry>& read, uint64_t hole_end);
  // The link was lost: the next entry may start Redis's seqs anew (it may have lost its data).
  // While a hole is read, that holds from the entries that come after the ones waiting now.
  void MarkResync();
  void DeliverInOrder(const cluster::RoomEntry& entry);
  // Takes `entry` as delivered without sending it (the members here had it otherwise).
  void PassInOrder(const cluster::RoomEntry& entry);
  // The ids of the answered lines in post_window_, and those delivered ahead.
  absl::flat_hash_set<uint64_t> AnsweredIds() const;
  // The entries that came while the room was loading its history.
  void DeliverLoadedEntries();
  // Sends `nick`'s line to the members here but `except` (and those in `had_it`, if given),
  // tagged with `id` and `time_ms` for those that asked.
  void SendChat(ClientId except, absl::string_view nick, absl::string_view text, uint64_t id,
                int64_t time_ms, const absl::flat_hash_set<ClientId>* had_it = nullptr);
  // To every member (but the sender, if `ours`), or to those not in `had_it` when given.
  void DeliverChat(const cluster::RoomEntry& entry, const cluster::ChatLine& chat, bool ours,
                   const absl::flat_hash_set<ClientId>* had_it = nullptr);
  // Keeps a delivered line for /history and replay (the room's load may already have brought it).
  void RememberChat(const cluster::RoomEntry& entry, const cluster::ChatLine& chat);
  // Sends `entry` to every member but `except` (or only to `only`, when given).
  void SendEntry(const cluster::RoomEntry& entry, Connection* only);
  // What a JOIN, LEAVE or NICK entry delivered to the part changes in the nicks it keeps: the
  // members the entries name (StreamMember) and the LEAVEs announced during an outage.
  void TrackNicks(const cluster::RoomEntry& entry, bool ours);
  void GreetInCluster(Connection& member, const Admission& admission);
  // The room's topic when Redis admitted `member`, if it has one.
  void SendClusterTopic(Connection& member, const Admission& admission);
  void AdmitWaitingJoiners(bool timed_out);

  // ---- Operators and settings (room_moderation.cc).
  void LoadSettings();
  bool IsOp(const Connection& member) const;
  bool IsOwner(const Connection& member) const;
  // The creator of a room that has no owner yet is its operator (and owner, if logged in).
  // `key`: given with /create; a new room gets it.
  void GreetCreator(Connection& creator, const std::string& key);
  void AddOpAccount(const std::string& account);
  // Hands the changed settings to the registry (for /join) and, for a registered room, the store.
  void PublishSettings();
  void SendTopic(Connection& member);
  // The member called `nick` here, or null after answering `asker` no-such-nick.
  Connection* MemberCalled(Connection& asker, const std::string& nick);
  void DoOp(Connection& op, const std::string& nick, bool grant);
  void DoKick(Connection& op, const std::string& nick, const std::string& reason);
  void Kick(Connection& op, Connection& target, const std::string& reason);
  // Sends `target` to the lobby, KICKED by `by`; false if it could not move (answered there).
  bool MoveKicked(Connection& target, const std::string& by, const std::string& reason);
  void DoBan(Connection& op, const std::string& nick);
  // The bans that keep out `nick` (the member `target` if it is here).
  std::vector<RoomBan> BansFor(const Connection& op, const Connection* target,
                               const std::string& nick) const;
  void DoUnban(Connection& op, const std::string& who);
  void DoBans(Connection& op);
  void DoTopic(Connection& member, const std::string& text);
  void DoKey(Connection& op, const std::string& key);

  // ---- Operators and settings in a cluster (room_cluster_moderation.cc).
  void OperateInCluster(Connection& member, const Command& command);
  // The line a TOPIC, OP, DEOP or KICK entry shows; `asker` (if given) gets the id of the member
  // here who asked for it (kNobody: none here), who had its OK instead.
  std::optional<std::string> SettingsEntryLine(const cluster::RoomEntry& entry,
                                               ClientId* asker) const;
  // Delivers such an entry: a guest opped or deopped here, a member here kicked to the lobby.
  void ApplySettingsEntry(const cluster::RoomEntry& entry);
  // The member here that the room's entries call `nick` (kNobody: none): by the nick the entries
  // gave it (its JOIN, then each NICK), not the one the registry has now. A rename answered
  // before an entry that came first in Redis (the answer and the entries come on two
  // connections) must not let a KICK or DEOP of the old nick miss its target, or hit whoever took
  // the nick next.
  ClientId StreamMember(absl::string_view nick) const;
  void SetStreamNick(ClientId id, absl::string_view nick);
  void ForgetStreamNick(ClientId id);

  // ---- History (room_history.cc).
  bool has_history() const { return context().history != nullptr; }
  uint64_t NextId(int64_t unix_us);
  void OnLoaded(absl::StatusOr<HistoryDb::RoomState> state);
  // The line as `member` receives it from history: tagged (with "history") if it asked for tags.
  std::string HistoryText(const Connection& member, const HistoryLine& line) const;
  // Queues the newest of `lines` that fit in the reply budget; returns how many.
  size_t SendNewestThatFit(Connection& member, const std::vector<const HistoryLine*>& lines);
  // The newest lines below `before_id` (0: all) to a member that asked for replay.
  void Replay(Connection& member, uint64_t before_id = 0);
  // Forgets the recent lines past --history_max_days, before anything is read from them.
  void AgeRecentLines();
  void StartCatchUp(Connection& member, uint64_t since_id);
  // Sends `member` what it can of what it missed; asks the store when memory does not reach.
  void ContinueCatchUp(Connection& member, CatchUp& state);
  void OnCatchUpPage(ClientId id, uint64_t after, absl::StatusOr<HistoryDb::Page> page);
  void CatchUpTick();
  // /history answered from the store; the member's input waits for it.
  void HistoryFromStore(Connection& member, size_t count, uint64_t before_id);
  void OnHistoryPage(ClientId id, absl::StatusOr<std::vector<StoredLine>> lines);

  // A store callback (run on the store thread) that hands `answer` its result on this room's
  // thread, if the room still exists: the task runs on the room's own loop, so the room lives
  // while it runs; a task posted after the loop ended is dropped unrun.
  template <typename T, typename Answer>
  HistoryService::Done<T> InLoop(Answer answer) {
    std::weak_ptr<Room> weak = std::static_pointer_cast<Room>(shared_from_this());
    return [weak, answer = std::move(answer)](absl::StatusOr<T> result) mutable {
      std::shared_ptr<Room> room = weak.lock();
      if (room == nullptr) return;
      Room* raw = room.get();
      raw->RunInLoop([raw, answer = std::move(answer), result = std::move(result)]() mutable {
        answer(*raw, std::move(result));
      });
    };
  }

  // Const after construction.
  const std::string room_key_;

  // Owned by the room thread.
  uint64_t last_id_ = 0;
  RecentLines recent_;
  absl::flat_hash_map<ClientId, CatchUp> catching_up_;
  EventLoop::TimerId catch_up_timer_ = 0;
  RoomSettings settings_;
  absl::flat_hash_set<ClientId> op_clients_;  // operators by connection (guests), while here
  absl::flat_hash_set<ClientId> history_reads_;  // members whose input waits for a store read
  // In a cluster: the last seq delivered (or where the part starts), whether the
  // next entry is taken whatever its seq (after an outage), the entries last delivered, the
  // joiners waiting for their JOIN's seq and its timer.
  bool history_loaded_ = false;
  std::vector<cluster::RoomEntry> entries_while_loading_;
  uint64_t cluster_seq_ = 0;
  bool cluster_seq_known_ = false;  // cluster_seq_ is a position (else: take the first that comes)
  uint64_t cluster_last_id_ = 0;    // the id of the last entry delivered from Redis (0: none)
  uint64_t cluster_last_id_seq_ = 0;  // and its seq (below cluster_seq_ when a greeting moved it)
  bool cluster_resync_ = false;
  // What the epoch's claim said of the data set the next entry belongs to (OnDataSet): a new one
  // (true) or the same (false); nullopt: the first entry after the resync is judged by its seq.
  std::optional<bool> cluster_data_lost_;
  // AfterEntry: what waits for an entry, by its seq (all run when the seqs start again).
  std::multimap<uint64_t, std::function<void()>> after_entry_;
  // A hole being filled from the stream: the entries that wait for it, and the seq it was for
  // (a hole is read once, tried again while reading fails: what the stream no longer has is
  // logged as missed); the reads that failed, the timer of the next, whether the last hole could
  // not be read at all (said once); after how many waiting entries the link was lost.
  bool filling_ = false;
  std::vector<cluster::RoomEntry> fill_waiting_;
  uint64_t fill_tried_seq_ = 0;
  int fill_failures_ = 0;
  EventLoop::TimerId fill_timer_ = 0;
  bool fill_read_failed_ = false;
  std::optional<size_t> fill_resync_at_;
  std::deque<cluster::RoomEntry> cluster_recent_;
  struct WaitingJoiner {
    std::unique_ptr<Connection> connection;
    Admission admission;
  };
  std::vector<WaitingJoiner> waiting_joiners_;
  EventLoop::TimerId waiting_timer_ = 0;
  bool cluster_local_logged_ = false;
  uint64_t refused_lines_ = 0;  // RefusePost, since the part opened
  // Lines delivered ahead of their entries (DeliverAhead), oldest first, and who got each.
  struct DeliveredAhead {
    uint64_t id = 0;
    std::shared_ptr<const absl::flat_hash_set<ClientId>> had_it;
  };
  std::deque<DeliveredAhead> delivered_ahead_;
  absl::flat_hash_set<std::string> announced_leaves_;  // nick keys, see AnnounceLeaveDuringOutage
  // Nick keys of members here whose LEAVE a hole read passed over (still here): nor is their JOIN
  // shown here when the node registers them again.
  absl::flat_hash_set<std::string> hidden_leaves_;
  // Nick keys of members here whose LEAVE another node posted (a reaper's: this node was taken for
  // dead while its link stayed up) was shown to the others here: their leave in the outage that
  // follows is not announced again, nor are their lines then said here.
  absl::flat_hash_set<std::string> shown_leaves_;
  // The members here by the nick key the room's entries know them by, both ways (StreamMember).
  absl::flat_hash_map<std::string, ClientId> stream_members_;
  absl::flat_hash_map<ClientId, std::string> stream_nicks_;
  const std::shared_ptr<PostWindow> post_window_ = std::make_shared<PostWindow>();
  std::vector<ClientId> paused_posters_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PLACES_ROOM_H_
