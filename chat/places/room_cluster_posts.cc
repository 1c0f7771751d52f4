// A room part's chat lines on their way to Redis (docs/CLUSTER.md, "Chat lines" and "Redis
// unavailable"): posted through the link, counted for flow control, and, when a post fails,
// delivered to the members here in the order they were said, after the lines Redis answered
// before it that the part has not delivered yet.
#include <iterator>
#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "chat/cluster/room_channel.h"
#include "chat/loop/log_sampling.h"
#include "chat/places/room.h"
#include "chat/protocol/caps.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// Lines of one room on their way to Redis at most before its talkers wait.
constexpr size_t kMaxPostsInFlight = 1024;
// The answered lines kept (PostWindow::outcomes), and the lines delivered ahead: lines answered
// but not yet heard on the room's channel when a post fails are at most the ones in flight, with
// a wide margin.
constexpr size_t kAnsweredKept = 4 * kMaxPostsInFlight;

}  // namespace

void Room::PostChat(Connection& member, absl::string_view text) {
  std::weak_ptr<Place> weak = weak_from_this();
  const ClientId sender = member.id();
  // In Redis once rc_post answers: the ACK goes then, wherever the sender is by then.
  std::string ack_room = has_history() && member.caps().Has(Cap::kAck) ? room_name() : "";
  Registry* registry = context().registry;
  std::shared_ptr<PostWindow> window = post_window_;
  // Counted before the link can answer (and count it down).
  const size_t in_flight = post_window_->in_flight.fetch_add(1) + 1;
  context().cluster->Post(
      room_key_, NameKey(member.nick()), "MSG", cluster::ChatBody(sender, member.nick(), text),
      [weak, registry, window, ack_room, post = PostWindow::PostOutcome{0, sender, member.nick(),
                                                                       std::string(text)}](
          absl::StatusOr<uint64_t> id) mutable {
        size_t left = window->in_flight.fetch_sub(1) - 1;
        std::shared_ptr<Place> place = weak.lock();
        Room* room = static_cast<Room*>(place.get());
        if (room != nullptr && left <= kMaxPostsInFlight / 2 && window->paused.exchange(false)) {
          room->RunInLoop([room] { room->ResumePosters(); });
        }
        if (HasErrorCode(id.status(), ErrorCode::kNotInRoom)) {
          // Kicked (or banned) in Redis before this line got there: said nowhere.
          if (room == nullptr) return registry->ForwardPrivate(post.sender, ErrLine(id.status()));
          return room->RunInLoop([room, sender = post.sender, refusal = id.status()] {
            room->RefusePost(sender, refusal);
          });
        }
        if (id.ok()) {
          if (!ack_room.empty()) registry->ForwardPrivate(post.sender, replies::Ack(ack_room, *id));
          post.id = *id;
        }
        window->Push(std::move(post));
        if (!id.ok() && room != nullptr) room->RunInLoop([room] { room->DeliverFailedPosts(); });
      });
  if (in_flight < kMaxPostsInFlight) return;
  member.set_input_on_hold(true);
  paused_posters_.push_back(sender);
  if (!post_window_->paused.exchange(true)) {
    LOG(WARNING) << "cluster: room " << room_name() << " has " << kMaxPostsInFlight
                 << " lines on their way to Redis; its talkers wait";
  }
  // Answered meanwhile, before the flag was up: nobody else will resume them.
  if (post_window_->in_flight.load() <= kMaxPostsInFlight / 2 &&
      post_window_->paused.exchange(false)) {
    ResumePosters();
  }
}

void Room::PostWindow::Push(PostOutcome post) {
  const uint64_t heard = heard_id.load(std::memory_order_relaxed);
  absl::MutexLock lock(&mu);
  // Lines the part has delivered from their entries need nothing more; a failed one waits for
  // the room thread.
  while (!outcomes.empty() && outcomes.front().id != 0 && outcomes.front().id <= heard) {
    outcomes.pop_front();
  }
  outcomes.push_back(std::move(post));
  if (outcomes.size() > kAnsweredKept && outcomes.front().id != 0) outcomes.pop_front();
}

void Room::RefusePost(ClientId sender, const absl::Status& refusal) {
  ++refused_lines_;
  if (LogsOccurrence(refused_lines_)) {
    LOG(INFO) << "cluster: room " << room_name() << " had a line of client " << sender
              << " refused: Redis has it out of the room (" << refused_lines_ << " so far)";
  }
  // Once this part has delivered what the room had when Redis refused it: the KICK that took the
  // sender out has come by then, and the sender heard its KICKED first, as one node answers a line
  // said after a kick.
  AfterEntry(cluster::RefusedAtSeq(refusal), [this, sender, line = ErrLine(refusal)] {
    ReceivePrivate(sender, line);  // wherever it is by then
  });
}

void Room::ResumePosters() {
  std::vector<ClientId> paused;
  paused.swap(paused_posters_);
  for (ClientId id : paused) {
    if (Connection* member = io().Find(id)) io().Resume(*member);
  }
}

void Room::DeliverFailedPosts() {
  std::vector<PostWindow::PostOutcome> taken;
  {
    absl::MutexLock lock(&post_window_->mu);
    std::deque<PostWindow::PostOutcome>& outcomes = post_window_->outcomes;
    size_t end = 0;  // past the last failed post: the lines answered after it wait for their entries
    for (size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i].id == 0) end = i + 1;
    }
    taken.assign(std::make_move_iterator(outcomes.begin()),
                 std::make_move_iterator(outcomes.begin() + end));
    outcomes.erase(outcomes.begin(), outcomes.begin() + end);
  }
  if (taken.empty()) return;  // an earlier task took them
  if (!cluster_local_logged_) {
    cluster_local_logged_ = true;
    LOG(WARNING) << "cluster: room " << room_name()
                 << " could not post to Redis (unreachable, or this process left the cluster); "
                    "its lines reach this node's members only";
  }
  std::shared_ptr<const absl::flat_hash_set<ClientId>> had_it;  // who is sent the lines ahead
  for (const PostWindow::PostOutcome& post : taken) {
    if (post.id == 0) {
      DeliverLocally(post);
    } else if (post.id > cluster_last_id_) {  // not yet delivered from its entry
      if (had_it == nullptr) had_it = ChatReadersNow();
      DeliverAhead(post, had_it);
    }
  }
}

std::shared_ptr<const absl::flat_hash_set<ClientId>> Room::ChatReadersNow() {
  auto readers = std::make_shared<absl::flat_hash_set<ClientId>>();
  io().members().ForEach([&](const Connection& member) {
    // One catching up on history is sent the line from there, once its entry has come.
    if (!member.catching_up() && !member.departure()) readers->insert(member.id());
  });
  return readers;
}

void Room::DeliverLocally(const PostWindow::PostOutcome& post) {
  if (shown_leaves_.contains(NameKey(post.nick))) {
    // The others here saw it leave (a reaper's LEAVE): Redis has it out of the room, and would
    // have refused the line (rc_post's not-in-room).
    return ReceivePrivate(post.sender, ErrLine(ProtocolError(ErrorCode::kNotInRoom,
                                                             cluster::kNoLongerHadYou)));
  }
  const int64_t unix_us = absl::ToUnixMicros(absl::Now());
  const uint64_t id = NextId(unix_us);
  SendChat(post.sender, post.nick, post.text, id, unix_us / 1000);
}

void Room::DeliverAhead(const PostWindow::PostOutcome& post,
                        std::shared_ptr<const absl::flat_hash_set<ClientId>> had_it) {
  // The entry's time is Redis's clock when it chose the id (the id, unless bumped past it).
  const int64_t time_ms = static_cast<int64_t>(post.id / 1000);
  SendChat(post.sender, post.nick, post.text, post.id, time_ms);
  last_id_ = std::max(last_id_, post.id);
  delivered_ahead_.push_back({post.id, std::move(had_it)});
  if (delivered_ahead_.size() > kAnsweredKept) delivered_ahead_.pop_front();
}

std::shared_ptr<const absl::flat_hash_set<ClientId>> Room::TakeDeliveredAhead(uint64_t id) {
  while (!delivered_ahead_.empty() && delivered_ahead_.front().id < id) {
    delivered_ahead_.pop_front();
  }
  if (delivered_ahead_.empty() || delivered_ahead_.front().id != id) return nullptr;
  std::shared_ptr<const absl::flat_hash_set<ClientId>> had_it =
      std::move(delivered_ahead_.front().had_it);
  delivered_ahead_.pop_front();
  return had_it;
}

absl::flat_hash_set<uint64_t> Room::AnsweredIds() const {
  absl::flat_hash_set<uint64_t> ids;
  for (const DeliveredAhead& line : delivered_ahead_) ids.insert(line.id);
  absl::MutexLock lock(&post_window_->mu);
  for (const PostWindow::PostOutcome& post : post_window_->outcomes) {
    if (post.id != 0) ids.insert(post.id);
  }
  return ids;
}

}  // namespace roomchat
