// ClusterNode's API for the places: the scripts that make nicks and rooms cluster-wide, and the
// routing of what arrives on the room and node channels (docs/CLUSTER.md).
#include <algorithm>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "chat/cluster/cluster_node.h"
#include "chat/protocol/protocol_error.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

constexpr uint64_t kGuestBlock = 1000;
// Entries kept for a part that is about to attach (they came between the subscription and the
// part); past it the oldest go (a part joining that late replays nothing it could not have).
constexpr size_t kMaxEarlyEntries = 1024;
// Entries (and their bodies' bytes) a room's channel keeps for the next part to attach.
constexpr size_t kMaxRecentEntries = 16;
constexpr size_t kMaxRecentBytes = 16 * 1024;

}  // namespace

bool ClusterNode::TakeOne(std::atomic<int>& count) {
  return count.load(std::memory_order_relaxed) > 0 && count.fetch_sub(1) > 0;
}

void ClusterNode::MaybeFailInPlace(std::atomic<int>& count, std::vector<std::string>* command) {
  if (TakeOne(count)) *command = {"EVAL", "return redis.error_reply('TEST failed in place')", "0"};
}

uint64_t ClusterNode::NextGuestNumber() {
  bool ask = false;
  uint64_t number = 0;
  {
    absl::MutexLock lock(&guest_mu_);
    if (!guest_numbers_.empty()) {
      number = guest_numbers_.back();
      guest_numbers_.pop_back();
      // Half the block gone: ask for the next one now, so a connect never waits for it.
      ask = !guest_asking_ && guest_numbers_.size() < kGuestBlock / 2;
    }
  }
  if (ask) link_->RunInLinkThread([this] { TakeGuestBlock(); });
  if (number != 0) return number;
  // No block yet (Redis unreachable since the start): a random number far above the blocks.
  absl::BitGen bits;
  number = absl::Uniform<uint64_t>(bits, 1000000000, 9999999999);
  LOG_EVERY_N(WARNING, 100) << "cluster: no guest number block from Redis yet; guest" << number
                            << " is random";
  return number;
}

void ClusterNode::TEST_PutGuestNumberNext(uint64_t number) {
  absl::MutexLock lock(&guest_mu_);
  guest_numbers_.push_back(number);
}

void ClusterNode::TakeGuestBlock(bool even_if_left) {
  uint64_t floor = 0;
  {
    absl::MutexLock lock(&guest_mu_);
    // Redis lost its data: what is left may be handed out again elsewhere. (A block on its way,
    // asked for after the loss, comes from above this node's numbers: it is kept.)
    if (even_if_left) guest_numbers_.clear();
    if (guest_asking_ || (!even_if_left && guest_numbers_.size() >= kGuestBlock / 2)) return;
    guest_asking_ = true;
    floor = guest_end_;
  }
  link_->Command(cluster::GuestBlockCommand(kGuestBlock, floor),
                 [this](absl::StatusOr<RedisReply> reply) {
                   absl::StatusOr<uint64_t> last = cluster::ParseIntegerReply(reply);
                   if (!last.ok()) {
                     absl::MutexLock lock(&guest_mu_);
                     guest_asking_ = false;
                     return;  // asked again when the link is back
                   }
                   // In no order one could read off a WELCOME: a user on another node who took
                   // the next numbers with /nick would rename newcomers here one by one.
                   std::vector<uint64_t> block;
                   block.reserve(kGuestBlock + kGuestBlock / 2);
                   for (uint64_t n = *last - kGuestBlock + 1; n <= *last; ++n) block.push_back(n);
                   std::shuffle(block.begin(), block.end(), absl::BitGen());
                   absl::MutexLock lock(&guest_mu_);
                   guest_asking_ = false;
                   // What is left of the last block goes first (taken from the back).
                   block.insert(block.end(), guest_numbers_.begin(), guest_numbers_.end());
                   guest_numbers_.swap(block);
                   guest_end_ = *last + 1;
                 });
}

void ClusterNode::Nick(const cluster::NickChange& change, Answer<absl::Status> done) {
  link_->Command(cluster::NickCommand({options_.node_id, incarnation_}, change,
                                      options_.max_stream_entries),
                 [done = std::move(done)](absl::StatusOr<RedisReply> reply) {
                   done(cluster::ParseStatusReply(reply));
                 });
}

void ClusterNode::CreateRoom(const cluster::RoomMove& move,
                             Answer<absl::StatusOr<cluster::Entered>> done) {
  MoveIntoRoom(move, cluster::CreateCommand({options_.node_id, incarnation_}, move,
                                            options_.max_rooms, options_.max_stream_entries),
               std::move(done));
}

void ClusterNode::JoinRoom(const cluster::RoomMove& move,
                           Answer<absl::StatusOr<cluster::Entered>> done) {
  MoveIntoRoom(move, cluster::JoinCommand({options_.node_id, incarnation_}, move,
                                          options_.max_room_members, options_.max_stream_entries),
               std::move(done));
}

void ClusterNode::MoveIntoRoom(const cluster::RoomMove& move, std::vector<std::string> command,
                               Answer<absl::StatusOr<cluster::Entered>> done) {
  link_->RunInLinkThread([this, room_key = move.room_key, command = std::move(command),
                          done = std::move(done)]() mutable {
    feeds_[room_key].moves++;
    WhenSubscribed(room_key, [this, command = std::move(command),
                              done = std::move(done)](bool subscribed) mutable {
      if (!subscribed) return done(cluster::ParseEnteredReply(absl::UnavailableError("link down")));
      link_->Command(std::move(command), [done = std::move(done)](absl::StatusOr<RedisReply> reply) {
        done(cluster::ParseEnteredReply(reply));
      });
    });
  });
}

void ClusterNode::EndRoomMove(const std::string& room_key) {
  link_->RunInLinkThread([this, room_key] {
    auto feed = feeds_.find(room_key);
    if (feed == feeds_.end() || feed->second.moves == 0) return;
    feed->second.moves--;
    MaybeUnsubscribe(room_key);
  });
}

void ClusterNode::WhenSubscribed(const std::string& room_key,
                                 std::function<void(bool subscribed)> send) {
  Feed& feed = feeds_[room_key];
  if (!link_->up()) return send(false);  // nothing waits for Redis
  if (feed.subscribed) return send(true);
  feed.on_subscribed.push_back(std::move(send));
  if (feed.subscribing) return;
  feed.subscribing = true;
  link_->Subscribe(cluster::RoomChannel(room_key), [this, room_key]() {
    auto it = feeds_.find(room_key);
    if (it == feeds_.end()) return;
    it->second.subscribed = true;
    it->second.subscribing = false;
    std::vector<std::function<void(bool)>> waiting;
    waiting.swap(it->second.on_subscribed);
    for (std::function<void(bool)>& send : waiting) send(true);
  });
}

void ClusterNode::FailWaitingSubscriptions() {
  for (auto& [room_key, feed] : feeds_) {
    std::vector<std::function<void(bool)>> waiting;
    waiting.swap(feed.on_subscribed);
    for (std::function<void(bool)>& send : waiting) send(false);
  }
}

void ClusterNode::MaybeUnsubscribe(const std::string& room_key) {
  auto it = feeds_.find(room_key);
  if (it == feeds_.end()) return;
  const Feed& feed = it->second;
  if (feed.moves > 0 || feed.part_raw != nullptr || !feed.on_subscribed.empty()) return;
  link_->Unsubscribe(cluster::RoomChannel(room_key));
  feeds_.erase(it);
}

void ClusterNode::Leave(const std::string& room_key, const std::string& nick_key,
                        bool release_nick, Answer<absl::Status> done) {
  link_->Command(cluster::LeaveCommand({options_.node_id, incarnation_}, room_key, nick_key,
                                       release_nick, options_.max_stream_entries),
                 [done = std::move(done)](absl::StatusOr<RedisReply> reply) {
                   absl::Status status = cluster::ParseStatusReply(reply);
                   if (done) done(std::move(status));
                 });
}

void ClusterNode::ListRooms(Answer<absl::StatusOr<std::vector<cluster::ClusterRoom>>> done) {
  link_->Command(cluster::RoomsCommand(),
                 [done = std::move(done)](absl::StatusOr<RedisReply> reply) {
                   done(cluster::ParseRoomsReply(reply));
                 });
}

void ClusterNode::Who(const std::string& room_name,
                      Answer<absl::StatusOr<cluster::ClusterWho>> done) {
  link_->Command(cluster::WhoCommand(room_name),
                 [done = std::move(done)](absl::StatusOr<RedisReply> reply) {
                   done(cluster::ParseWhoReply(reply));
                 });
}

void ClusterNode::OperateRoom(const cluster::RoomOp& op,
                              Answer<absl::StatusOr<cluster::RoomOpDone>> done) {
  link_->Command(cluster::RoomOpCommand({options_.node_id, incarnation_}, op,
                                        options_.max_stream_entries),
                 [done = std::move(done)](absl::StatusOr<RedisReply> reply) {
                   done(cluster::ParseRoomOpReply(reply));
                 });
}

void ClusterNode::SendPrivate(const std::string& to_key, const std::string& line, bool even_here,
                              Answer<absl::StatusOr<cluster::MsgRoute>> done) {
  link_->Command(cluster::MsgCommand({options_.node_id, incarnation_}, to_key, line, even_here,
                                     cluster::InboxLimitsFor(options_.node_ttl)),
                 [done = std::move(done)](absl::StatusOr<RedisReply> reply) {
                   done(cluster::ParseMsgReply(reply));
                 });
}

void ClusterNode::Post(const std::string& room_key, const std::string& poster_key,
                       const std::string& kind, std::string body,
                       Answer<absl::StatusOr<uint64_t>> done) {
  cluster::PostRequest request{room_key, options_.node_id, kind, std::move(body),
                               options_.max_stream_entries};
  request.retention_ms = options_.stream_retention_ms;
  request.incarnation = incarnation_;
  request.poster_key = poster_key;
  std::vector<std::string> command = cluster::PostCommand(request);
  MaybeFailInPlace(test_fail_posts_, &command);
  link_->Command(std::move(command),
                 [done = std::move(done)](absl::StatusOr<RedisReply> reply) {
                   if (!reply.ok()) return done(reply.status());
                   if (std::optional<absl::Status> refusal = cluster::PostRefusal(*reply)) {
                     return done(*std::move(refusal));
                   }
                   if (reply->type != RedisReply::Type::kArray || reply->elements.empty() ||
                       reply->elements[0].type != RedisReply::Type::kInteger) {
                     return done(absl::InternalError(absl::StrCat("rc_post: ", reply->str)));
                   }
                   done(static_cast<uint64_t>(reply->elements[0].integer));
                 });
}

void ClusterNode::AttachRoom(const std::string& room_key, std::weak_ptr<RoomFeed> feed) {
  link_->RunInLinkThread([this, room_key, feed = std::move(feed)]() mutable {
    std::shared_ptr<RoomFeed> part = feed.lock();
    if (part == nullptr) return;
    Feed& state = feeds_[room_key];
    state.part = std::move(feed);
    state.part_raw = part.get();
    // What the part before it may have lost (its loop ended before it was detached), then what
    // came while none was attached.
    for (const cluster::RoomEntry& entry : state.recent) part->OnEntry(entry);
    std::vector<cluster::RoomEntry> early;
    early.swap(state.early);
    for (cluster::RoomEntry& entry : early) part->OnEntry(std::move(entry));
    // A part opened while no move was on its way (the outage path) still needs its channel.
    if (!state.subscribed && !state.subscribing) WhenSubscribed(room_key, [](bool) {});
  });
}

void ClusterNode::DetachRoom(const std::string& room_key, const RoomFeed* feed) {
  link_->RunInLinkThread([this, room_key, feed] {
    auto it = feeds_.find(room_key);
    if (it == feeds_.end() || it->second.part_raw != feed) return;  // a newer part took over
    it->second.part.reset();
    it->second.part_raw = nullptr;
    MaybeUnsubscribe(room_key);
  });
}

void ClusterNode::ShowLastEntry(const std::string& room_key) {
  ReadNewest(room_key, 0, 0, 1, /*fail=*/false,
             [this, room_key](absl::StatusOr<std::vector<cluster::RoomEntry>> last) {
               auto feed = feeds_.find(room_key);
               if (!last.ok() || last->empty() || feed == feeds_.end()) return;
               std::shared_ptr<RoomFeed> part = feed->second.part.lock();
               if (part != nullptr) part->OnEntry(last->back());
             });
}

void ClusterNode::ShareLoginFailure(const std::string& address) {
  link_->Command({"PUBLISH", cluster::kClusterChannel,
                  absl::StrCat("login-failure ", options_.node_id, " ", address)},
                 [](absl::StatusOr<RedisReply>) {});  // Redis away: this node still counts it
}

void ClusterNode::ReadEntries(const std::string& room_key, uint64_t after_id, uint64_t before_id,
                              size_t max,
                              Answer<absl::StatusOr<std::vector<cluster::RoomEntry>>> done) {
  ReadNewest(room_key, after_id, before_id, max, /*fail=*/true, std::move(done));
}

void ClusterNode::ReadNewest(const std::string& room_key, uint64_t after_id, uint64_t before_id,
                             size_t max, bool fail,
                             Answer<absl::StatusOr<std::vector<cluster::RoomEntry>>> done) {
  std::vector<std::string> read_lines =
      cluster::EntriesBetweenCommand(cluster::HistoryKey(room_key), after_id, before_id, max);
  if (fail) MaybeFailInPlace(test_fail_reads_, &read_lines);
  // The connection answers in order: the lines' answer is in when the events' comes (else the
  // read fails, as with the link down).
  auto lines = std::make_shared<absl::StatusOr<std::vector<cluster::RoomEntry>>>(
      absl::UnavailableError("the lines were not read"));
  link_->Command(std::move(read_lines), [lines](absl::StatusOr<RedisReply> reply) {
    *lines = cluster::ParseEntriesReply(reply);
  });
  link_->Command(
      cluster::EntriesBetweenCommand(cluster::EventsKey(room_key), after_id, before_id, max),
      [lines, max, done = std::move(done)](absl::StatusOr<RedisReply> reply) {
        absl::StatusOr<std::vector<cluster::RoomEntry>> events = cluster::ParseEntriesReply(reply);
        if (!lines->ok()) return done(lines->status());
        if (!events.ok()) return done(events.status());
        done(cluster::NewestOf(*std::move(*lines), *std::move(events), max));
      });
}

void ClusterNode::OnRoomEntry(const std::string& room_key, const std::string& payload) {
  if (TakeOne(test_drop_entries_)) return;
  absl::StatusOr<cluster::RoomEntry> entry = cluster::ParseRoomEntry(payload);
  if (!entry.ok()) {
    if (bad_entries_++ == 0) {
      LOG(ERROR) << "cluster: an entry on room " << room_key << "'s channel cannot be read ("
                 << entry.status().message() << "); such entries are skipped";
    }
    return;
  }
  auto it = feeds_.find(room_key);
  if (it == feeds_.end()) return;  // unsubscribed meanwhile
  if (std::shared_ptr<RoomFeed> part = it->second.part.lock()) {
    Feed& feed = it->second;
    feed.recent.push_back(*entry);
    feed.recent_bytes += entry->body.size();
    while (feed.recent.size() > kMaxRecentEntries || feed.recent_bytes > kMaxRecentBytes) {
      feed.recent_bytes -= feed.recent.front().body.size();
      feed.recent.pop_front();
    }
    return part->OnEntry(*std::move(entry));
  }
  std::vector<cluster::RoomEntry>& early = it->second.early;
  if (early.size() >= kMaxEarlyEntries) early.erase(early.begin());
  early.push_back(*std::move(entry));
}

void ClusterNode::ResyncParts() {
  for (auto& [room_key, feed] : feeds_) {
    // Redis may come back empty, its seqs from 1: these would mislead the next part.
    feed.recent.clear();
    feed.recent_bytes = 0;
    if (std::shared_ptr<RoomFeed> part = feed.part.lock()) part->OnResync();
  }
}

}  // namespace roomchat

namespace roomchat {

void ClusterNode::Register(const cluster::Registration& client) {
  link_->RunInLinkThread([this, client] {
    // A client the conflict rule renamed in this round of re-registrations is registered against
    // the round's epoch; any other against the epoch Redis has now.
    auto conflict = conflict_epochs_.find(client.client);
    if (conflict == conflict_epochs_.end()) return SendRegistration(client, epoch_);
    std::string known = std::move(conflict->second);
    conflict_epochs_.erase(conflict);
    SendRegistration(client, known);
  });
}

void ClusterNode::RegisterHoldings() {
  if (!holdings_) return;
  std::vector<cluster::Registration> held = holdings_();
  link_->Command(cluster::PruneCommand({options_.node_id, incarnation_}, held,
                                       options_.max_stream_entries),
                 [](absl::StatusOr<RedisReply> reply) {
                   absl::Status status = cluster::ParseStatusReply(reply);
                   if (!status.ok()) {
                     LOG(ERROR) << "cluster: forgetting what this node no longer holds failed: "
                                << status;
                   } else if (reply->integer > 0) {
                     LOG(WARNING) << "cluster: " << reply->integer
                                  << " room members that left during the outage were removed";
                   }
                 });
  for (const cluster::Registration& client : held) SendRegistration(client, epoch_before_up_);
  if (!held.empty()) {
    LOG(INFO) << "cluster: registering again the " << held.size() << " clients of node "
              << options_.node_id;
  }
}

void ClusterNode::SendRegistration(const cluster::Registration& client,
                                   const std::string& known_epoch) {
  link_->Command(
      cluster::RegisterCommand({options_.node_id, incarnation_}, client, known_epoch,
                               options_.max_stream_entries),
      [this, client, known_epoch](absl::StatusOr<RedisReply> reply) {
        absl::Status status = cluster::ParseStatusReply(reply);
        // Link down: registered when it is back; refused: once Redis takes commands again.
        if (status.ok() || !reply.ok()) return;
        // Refused: another process took this node id over (the heartbeat fences the link).
        if (HasErrorCode(status, ErrorCode::kUnavailable)) return;
        if (!HasErrorCode(status, ErrorCode::kNickTaken)) {
          LOG(ERROR) << "cluster: registering client " << client.client << " failed: " << status;
          return;
        }
        LOG(WARNING) << "cluster: client " << client.client << " lost its nick " << client.nick
                     << " to another node while this one was cut off: " << status.message();
        conflict_epochs_[client.client] = known_epoch;  // for its registration under a new nick
        if (nick_conflict_) nick_conflict_(client.client, client.nick);
      });
}

}  // namespace roomchat
