// A room part in a cluster (docs/CLUSTER.md, "Chat lines"): lines go to Redis, which sequences
// them and publishes them on the room's channel; every part, this one included, delivers the
// room's entries in seq order as they come back.
#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "chat/cluster/room_channel.h"
#include "absl/time/clock.h"
#include "chat/places/room.h"
#include "chat/protocol/caps.h"
#include "chat/protocol/names.h"
#include "chat/protocol/replies.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// Entries a part keeps for joiners whose answer came after the part had delivered past their
// JOIN (the answer and the channel are two connections, so either may come first).
constexpr size_t kRecentEntries = 256;
// A joiner waits at most this long for its JOIN's entry (it could be lost only with the link).
constexpr std::chrono::seconds kJoinerWait{5};
// A hole's read that fails (the link dropped under it, Redis refused it) is tried again after
// 250 ms, 500 ms, ... at most 4 s apart: about 20 s in all, past a reconnection's backoff.
constexpr int kFillAttempts = 8;
constexpr std::chrono::milliseconds kFillFirstRetry{250};
constexpr std::chrono::milliseconds kFillLongestRetry{4000};

// Notes `nick`'s key in one of the sets of LEAVEs shown or passed over here (announced_leaves_,
// hidden_leaves_, shown_leaves_), each at most kRecentEntries.
void NoteNick(absl::flat_hash_set<std::string>& nicks, absl::string_view nick) {
  if (nicks.size() < kRecentEntries) nicks.insert(NameKey(nick));
}

}  // namespace

void Room::OnEntry(cluster::RoomEntry entry) {
  RunInLoop([this, entry = std::move(entry)] { DeliverEntry(entry); });
}

void Room::OnResync() {
  RunInLoop([this] {
    MarkResync();
    // Their seqs may not be Redis's any more (it may come back empty, its seqs from 1): a joiner
    // greeted after this must not be sent them, nor be taken for the target of an old KICK.
    cluster_recent_.clear();
  });
}

void Room::OnDataSet(bool lost) {
  RunInLoop([this, lost] {
    // Only a part that was there before the outage: one opened since started in the new data.
    if (!cluster_resync_ && !fill_resync_at_) return;
    cluster_data_lost_ = lost;
  });
}

void Room::AfterEntry(uint64_t seq, std::function<void()> then) {
  if (seq == 0 || (cluster_seq_known_ && seq <= cluster_seq_)) return then();
  after_entry_.emplace(seq, std::move(then));
}

void Room::RunAfterEntries(uint64_t through) {
  while (!after_entry_.empty() && after_entry_.begin()->first <= through) {
    std::function<void()> then = std::move(after_entry_.begin()->second);
    after_entry_.erase(after_entry_.begin());
    then();
  }
}

void Room::MarkResync() {
  // The seqs they wait for may never come (Redis may come back empty): they go now.
  RunAfterEntries(std::numeric_limits<uint64_t>::max());
  if (!filling_) {
    cluster_resync_ = true;
  } else if (!fill_resync_at_) {
    fill_resync_at_ = fill_waiting_.size();
  }
}

void Room::AnnounceLeaveDuringOutage(const std::string& nick) {
  if (shown_leaves_.erase(NameKey(nick)) > 0) return;  // the others here saw it go already
  NoteNick(announced_leaves_, nick);
  Announce(kNobody, replies::Leave(room_name(), nick));
}

void Room::OnEnd() {
  if (in_cluster()) context().cluster->DetachRoom(room_key_, this);
  waiting_joiners_.clear();
  if (fill_timer_ != 0) loop().Cancel(fill_timer_);
  fill_timer_ = 0;
  RunAfterEntries(std::numeric_limits<uint64_t>::max());
}

void Room::DeliverEntry(const cluster::RoomEntry& entry) {
  if (has_history() && !history_loaded_) return entries_while_loading_.push_back(entry);
  if (filling_) return fill_waiting_.push_back(entry);
  if (cluster_resync_) {
    cluster_resync_ = false;
    cluster_local_logged_ = false;
    // Data kept (false): its seqs go on, and a hole, if any, is read as any other.
    const std::optional<bool> data_lost = std::exchange(cluster_data_lost_, std::nullopt);
    if (data_lost == true) {
      // Its seqs start again from 1: what came before this entry is read from the stream.
      LOG(WARNING) << "cluster: room " << room_name() << " takes up its entries from the first "
                   << "of the new data set (Redis lost its data)";
      cluster_seq_ = 0;
      cluster_last_id_ = 0;
      fill_tried_seq_ = 0;
    } else if (!data_lost.has_value() && entry.seq <= cluster_seq_) {  // not known: a guess
      LOG(WARNING) << "cluster: room " << room_name() << "'s entries start again at seq "
                   << entry.seq << " (Redis lost its data?)";
      cluster_seq_ = entry.seq - 1;
    }
  }
  if (cluster_seq_known_ && cluster_last_id_seq_ == cluster_seq_ && entry.seq <= cluster_seq_ &&
      entry.id > cluster_last_id_) {
    // A seq already used, on a newer entry: Redis came back from an older snapshot (its epoch
    // kept, its last entries lost) and gives the same seqs again. What came since the last entry
    // delivered is read by id, from the stream.
    LOG(WARNING) << "cluster: room " << room_name() << "'s entries go back to seq " << entry.seq
                 << " from " << cluster_seq_ << " (Redis restarted from an older save?)";
    cluster_seq_ = 0;
    fill_tried_seq_ = 0;
  }
  if (cluster_seq_known_ && entry.seq <= cluster_seq_) return;  // delivered already
  if (cluster_seq_known_ && entry.seq > cluster_seq_ + 1) {
    // Published while this node did not hear (the link was down): read from the stream once.
    if (entry.seq > fill_tried_seq_) return StartFill(entry);
    if (!fill_read_failed_) {  // (else FinishFill said so)
      LOG(WARNING) << "cluster: room " << room_name() << " missed entries " << cluster_seq_ + 1
                   << " to " << entry.seq - 1 << " (published while the link to Redis was down, "
                   << "and no longer in the room's stream)";
    }
  }
  DeliverInOrder(entry);
}

void Room::StartFill(const cluster::RoomEntry& next) {
  filling_ = true;
  fill_tried_seq_ = next.seq;
  fill_failures_ = 0;
  fill_read_failed_ = false;
  fill_waiting_.push_back(next);
  ReadHole();
}

void Room::ReadHole() {
  const cluster::RoomEntry& next = fill_waiting_.front();
  std::weak_ptr<Place> weak = weak_from_this();
  context().cluster->ReadEntries(
      room_key_, cluster_last_id_, next.id, next.seq - cluster_seq_ - 1,
      [weak](absl::StatusOr<std::vector<cluster::RoomEntry>> entries) {
        std::shared_ptr<Place> place = weak.lock();
        if (place == nullptr) return;
        Room* room = static_cast<Room*>(place.get());
        room->RunInLoop([room, entries = std::move(entries)]() mutable {
          room->FinishFill(std::move(entries));
        });
      });
}

void Room::FinishFill(absl::StatusOr<std::vector<cluster::RoomEntry>> entries) {
  const uint64_t hole_end = fill_waiting_.front().seq;
  if (!entries.ok() && ++fill_failures_ < kFillAttempts) {
    if (fill_failures_ == 1) {
      LOG(WARNING) << "cluster: room " << room_name() << " could not read the entries "
                   << cluster_seq_ + 1 << " to " << hole_end - 1
                   << " it missed: " << entries.status() << "; trying again";
    }
    fill_timer_ = loop().RunAfter(
        std::min(kFillLongestRetry, kFillFirstRetry * (1 << (fill_failures_ - 1))), [this] {
          fill_timer_ = 0;
          ReadHole();
        });
    return;
  }
  filling_ = false;
  std::vector<cluster::RoomEntry> waiting;
  waiting.swap(fill_waiting_);
  const std::optional<size_t> resync_at = std::exchange(fill_resync_at_, std::nullopt);
  const size_t filled = entries.ok() ? DeliverHole(*entries, hole_end) : 0;
  fill_read_failed_ = !entries.ok();
  if (!entries.ok()) {
    LOG(ERROR) << "cluster: room " << room_name() << " could not read the entries "
               << cluster_seq_ + 1 << " to " << hole_end - 1 << " it missed in "
               << kFillAttempts << " attempts (" << entries.status()
               << "); its members here do not get them";
  } else if (filled > 0) {
    LOG(INFO) << "cluster: room " << room_name() << " read " << filled
              << " entries it missed from its stream";
  }
  for (size_t i = 0; i < waiting.size(); ++i) {
    if (resync_at == i) MarkResync();  // the entries from here came after the link was lost
    DeliverEntry(waiting[i]);
  }
  if (resync_at == waiting.size()) MarkResync();
}

size_t Room::DeliverHole(const std::vector<cluster::RoomEntry>& read, uint64_t hole_end) {
  size_t filled = 0;
  const absl::flat_hash_set<uint64_t> answered = AnsweredIds();
  for (const cluster::RoomEntry& entry : read) {
    if (entry.seq <= cluster_seq_ || entry.seq >= hole_end) continue;
    // A line of this node's that Redis did not answer is one whose post failed with the link:
    // its members had it then, with a local id. (One Redis answered was never delivered here.)
    const bool failed_here = entry.kind == "MSG" &&
                             entry.origin == context().cluster->node_id() &&
                             !answered.contains(entry.id);
    // (A line delivered ahead counts as answered: DeliverInOrder sends it only to newcomers.)
    // A member here that was reaped meanwhile and registered again (LEAVE, then JOIN): the
    // members here never saw it go.
    const bool still_here = (entry.kind == "LEAVE" || entry.kind == "JOIN") &&
                            io().Find(context().registry->IdOf(entry.body)) != nullptr;
    if (failed_here || still_here) {
      // Its JOIN, when it comes after this hole (the node registering it again), is not shown
      // either: its node-mates here never saw it go.
      if (still_here && entry.kind == "LEAVE") NoteNick(hidden_leaves_, entry.body);
      if (still_here && entry.kind == "JOIN") hidden_leaves_.erase(NameKey(entry.body));
      PassInOrder(entry);
      RunAfterEntries(entry.seq);
      // Redis ran it after all: /history and since= here answer what Redis holds.
      std::optional<cluster::ChatLine> chat;
      if (failed_here && (chat = cluster::ParseChatLine(entry))) RememberChat(entry, *chat);
      continue;
    }
    DeliverInOrder(entry);
    ++filled;
  }
  return filled;
}

void Room::PassInOrder(const cluster::RoomEntry& entry) {
  cluster_seq_ = entry.seq;
  cluster_seq_known_ = true;
  cluster_last_id_ = entry.id;
  cluster_last_id_seq_ = entry.seq;
  post_window_->heard_id.store(entry.id, std::memory_order_relaxed);
  last_id_ = std::max(last_id_, entry.id);
}

void Room::DeliverInOrder(const cluster::RoomEntry& entry) {
  PassInOrder(entry);
  if (std::shared_ptr<const absl::flat_hash_set<ClientId>> had_it =
          TakeDeliveredAhead(entry.id)) {
    // Sent here ahead of its entry: now to whoever was not a member to be sent it then.
    if (std::optional<cluster::ChatLine> chat = cluster::ParseChatLine(entry)) {
      DeliverChat(entry, *chat, /*ours=*/true, had_it.get());
    }
  } else {
    SendEntry(entry, nullptr);
  }
  cluster_recent_.push_back(entry);
  if (cluster_recent_.size() > kRecentEntries) cluster_recent_.pop_front();
  if (!waiting_joiners_.empty()) AdmitWaitingJoiners(/*timed_out=*/false);
  RunAfterEntries(entry.seq);  // once the entry has done what it does (a KICK moved its target)
}

void Room::DeliverLoadedEntries() {
  std::vector<cluster::RoomEntry> entries;
  entries.swap(entries_while_loading_);
  for (const cluster::RoomEntry& entry : entries) DeliverEntry(entry);
}

void Room::DeliverChat(const cluster::RoomEntry& entry, const cluster::ChatLine& chat, bool ours,
                       const absl::flat_hash_set<ClientId>* had_it) {
  SendChat(ours ? chat.sender : kNobody, chat.nick, chat.text, entry.id, entry.time_ms, had_it);
  RememberChat(entry, chat);
}

void Room::RememberChat(const cluster::RoomEntry& entry, const cluster::ChatLine& chat) {
  if (has_history() && entry.id > recent_.last_id()) {
    recent_.Push(HistoryLine{entry.id, entry.time_ms, chat.nick, chat.text});
  }
}

void Room::SendEntry(const cluster::RoomEntry& entry, Connection* only) {
  const bool ours = entry.origin == context().cluster->node_id();
  auto send = [&](ClientId except, const std::string& line) {
    if (only != nullptr) return io().Send(*only, line);
    io().SendToAll(except, line);
  };
  if (entry.kind == "MSG") {
    std::optional<cluster::ChatLine> chat = cluster::ParseChatLine(entry);
    if (!chat) return;
    if (only == nullptr) return DeliverChat(entry, *chat, ours);
    std::string line = replies::Msg(room_name(), chat->nick, chat->text);
    if (only->caps().Has(Cap::kTags)) {
      line = absl::StrCat(replies::Tags(entry.id, entry.time_ms, /*history=*/false), line);
    }
    return io().Send(*only, line);
  }
  // Whom the entries knew by a LEAVE's nick before it (TrackNicks forgets it).
  const ClientId known_as = entry.kind == "LEAVE" ? StreamMember(entry.body) : kNobody;
  if (only == nullptr) TrackNicks(entry, ours);
  if (entry.kind == "JOIN") {
    // A member here registered again after an outage is not told of its own JOIN; nor are the
    // others here, if they were not shown its LEAVE (DeliverHole).
    ClientId joined = ours ? context().registry->IdOf(entry.body) : kNobody;
    if (only == nullptr && hidden_leaves_.erase(NameKey(entry.body)) > 0 && joined != kNobody &&
        io().Find(joined) != nullptr) {
      return;
    }
    return send(joined, replies::Join(room_name(), entry.body));
  }
  if (entry.kind == "LEAVE") {
    // Announced here already, while Redis was away: rc_prune posts it for the other nodes, or
    // another node's reaper did, if this one was taken for dead meanwhile.
    if (announced_leaves_.erase(NameKey(entry.body)) > 0) return;
    // A member here moving to another room (its input held until the answer) is not told of its
    // own LEAVE, which may come back before the answer does; nor is a member here that another
    // node reaped with this node (too slow to beat), which this node registers again (JOIN). The
    // LEAVE of someone elsewhere who took its nick since is told to it, as to everyone.
    ClientId left = context().registry->IdOf(entry.body);
    if (!ours) {
      if (io().Find(left) == nullptr || known_as != left) {
        left = kNobody;
      } else if (only == nullptr) {
        NoteNick(shown_leaves_, entry.body);
      }
    }
    return send(left, replies::Leave(room_name(), entry.body));
  }
  if (entry.kind == "NICK") {
    std::pair<std::string, std::string> names = absl::StrSplit(entry.body, ' ');
    // The member who renamed itself had its OK NICK instead (by either name, whichever the
    // registry has now: its answer and this entry come on two connections).
    ClientId renamed = 0;
    if (ours) {
      renamed = context().registry->IdOf(names.second);
      if (renamed == 0) renamed = context().registry->IdOf(names.first);
    }
    return send(renamed, replies::Nick(names.first, names.second));
  }
  if (only == nullptr) return ApplySettingsEntry(entry);
  if (std::optional<std::string> line = SettingsEntryLine(entry, nullptr)) io().Send(*only, *line);
}

void Room::TrackNicks(const cluster::RoomEntry& entry, bool ours) {
  if (entry.kind == "JOIN") {
    // A LEAVE announced during an outage that never came back (Redis lost it) is not that of a
    // member who joined since: its LEAVE must be told. Nor is a member here registered again
    // one the others here saw leave.
    announced_leaves_.erase(NameKey(entry.body));
    if (ours) shown_leaves_.erase(NameKey(entry.body));
    // A member here registered again under a new nick after a nick conflict; or someone else
    // now has the nick that a member here had in the entries.
    const ClientId joined = ours ? context().registry->IdOf(entry.body) : kNobody;
    const ClientId named = StreamMember(entry.body);
    if (joined != kNobody && io().Find(joined) != nullptr) {
      SetStreamNick(joined, entry.body);
    } else if (named != joined) {
      ForgetStreamNick(named);
    }
  } else if (entry.kind == "LEAVE") {
    ForgetStreamNick(StreamMember(entry.body));
  } else if (entry.kind == "NICK") {
    std::pair<std::string, std::string> names = absl::StrSplit(entry.body, ' ');
    announced_leaves_.erase(NameKey(names.second));
    if (ClientId member = StreamMember(names.first); member != kNobody) {
      SetStreamNick(member, names.second);
    } else {
      ForgetStreamNick(StreamMember(names.second));  // taken by a member elsewhere
    }
  }
}

void Room::GreetInCluster(Connection& member, const Admission& admission) {
  // Its input is held from its /join or /create until now: its nick is the one its JOIN names.
  SetStreamNick(member.id(), member.nick());
  if (admission.kind == Admission::Kind::kCreated) {
    // A new room: nothing at or before its seq now concerns anyone here.
    cluster_seq_ = std::max(cluster_seq_, admission.cluster_seq);
    cluster_seq_known_ = true;
    io().Send(member, replies::Ok(Command::Kind::kCreate, room_name()));
    if (admission.cluster_creator_op) op_clients_.insert(member.id());
    SendClusterTopic(member, admission);
    if (member.caps().Has(Cap::kReplay)) Replay(member);
    return;
  }
  if (cluster_seq_ < admission.cluster_seq) {
    // Its JOIN has not come back yet: it waits outside the room, and so does whatever arrives
    // after it (private messages to it included), in order.
    if (waiting_joiners_.empty()) {
      HoldArrivals();
      waiting_timer_ = loop().RunAfter(kJoinerWait, [this] {
        waiting_timer_ = 0;
        AdmitWaitingJoiners(/*timed_out=*/true);
      });
    }
    waiting_joiners_.push_back({io().Detach(member.id()), admission});
    return;
  }
  if (admission.cluster_seq == 0 && !cluster_seq_known_) {
    // Admitted without a JOIN entry to a part that has delivered none: what one node would say.
    io().Send(member, replies::Ok(Command::Kind::kJoin, room_name(), absl::StrCat(io().size())));
    Announce(member.id(), replies::Join(room_name(), member.nick()));
    return;
  }
  io().Send(member, replies::Ok(Command::Kind::kJoin, room_name(),
                                absl::StrCat(admission.cluster_members)));
  SendClusterTopic(member, admission);
  // Kicked by an operator after its JOIN, before it got here: it goes as it came.
  for (const cluster::RoomEntry& entry : cluster_recent_) {
    if (entry.seq > admission.cluster_seq && entry.kind == "KICK" &&
        NameKey(entry.body.substr(0, entry.body.find(' '))) == NameKey(member.nick())) {
      std::vector<std::string> fields = absl::StrSplit(entry.body, absl::MaxSplits(' ', 2));
      if (fields.size() == 3) {
        MoveKicked(member, fields[1], fields[2]);
        return;
      }
    }
  }
  if (admission.since_id != 0) return StartCatchUp(member, admission.since_id);
  // History up to its JOIN, then what this part delivered after it.
  uint64_t join_id = 0;
  for (const cluster::RoomEntry& entry : cluster_recent_) {
    if (entry.seq == admission.cluster_seq) join_id = entry.id;
  }
  if (member.caps().Has(Cap::kReplay)) Replay(member, join_id);
  for (const cluster::RoomEntry& entry : cluster_recent_) {
    if (entry.seq > admission.cluster_seq) SendEntry(entry, &member);
  }
}

void Room::SendClusterTopic(Connection& member, const Admission& admission) {
  if (admission.cluster_topic.empty()) return;
  io().Send(member, replies::Topic(room_name(), admission.cluster_topic_by, admission.cluster_topic));
}

void Room::AdmitWaitingJoiners(bool timed_out) {
  std::vector<WaitingJoiner> waiting;
  waiting.swap(waiting_joiners_);
  if (timed_out && !cluster_seq_known_ && !waiting.empty()) {
    // A part that delivered nothing: it starts just before the earliest of their JOINs, so that
    // what comes from there on (or is read from the stream, a hole) is delivered, their JOINs
    // included, and nothing older.
    uint64_t first = waiting.front().admission.cluster_seq;
    for (const WaitingJoiner& joiner : waiting) first = std::min(first, joiner.admission.cluster_seq);
    cluster_seq_ = first - 1;
    cluster_seq_known_ = true;
  }
  for (WaitingJoiner& joiner : waiting) {
    if (!timed_out && joiner.admission.cluster_seq > cluster_seq_) {
      waiting_joiners_.push_back(std::move(joiner));
      continue;
    }
    if (timed_out) {
      LOG(WARNING) << "cluster: room " << room_name() << " admits client "
                   << joiner.connection->id() << " without its JOIN entry (seq "
                   << joiner.admission.cluster_seq << " not delivered)";
      joiner.admission.cluster_seq = cluster_seq_;
    }
    Connection& member = io().Add(std::move(joiner.connection));
    GreetInCluster(member, joiner.admission);
  }
  if (!waiting_joiners_.empty()) return;
  if (waiting_timer_ != 0) loop().Cancel(waiting_timer_);
  waiting_timer_ = 0;
  ReleaseArrivals();
}

}  // namespace roomchat
