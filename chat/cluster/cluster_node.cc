#include "chat/cluster/cluster_node.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "chat/cluster/scripts.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// The start time (ms, 12 hex digits) then 16 random hex digits: a later process's incarnation
// sorts after an earlier one's, which is how a replaced process knows it is the older one.
std::string NewIncarnation() {
  absl::BitGen bits;
  return absl::StrFormat("%012x%016x", absl::ToUnixMillis(absl::Now()),
                         absl::Uniform<uint64_t>(bits));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterNode>> ClusterNode::Create(
    const ClusterNodeOptions& options) {
  if (options.node_id.empty() || absl::StrContains(options.node_id, ' ')) {
    return absl::InvalidArgumentError("a node id is one word: no spaces, not empty");
  }
  if (options.node_ttl < std::chrono::milliseconds(100)) {
    return absl::InvalidArgumentError("the node TTL is at least 100 ms");
  }
  if (options.max_stream_entries == 0) {
    return absl::InvalidArgumentError("a room's stream keeps at least one entry");
  }
  std::unique_ptr<ClusterNode> node(new ClusterNode(options));
  ClusterNode* raw = node.get();
  RedisLinkOptions redis = options.redis;
  redis.scripts = cluster::AllScripts();  // and the caller's own (the history's)
  for (const std::string& script : options.redis.scripts) redis.scripts.push_back(script);
  absl::StatusOr<std::unique_ptr<RedisLink>> link = RedisLink::Create(
      redis,
      [raw](const std::string& channel, const std::string& payload) {
        raw->messages_heard_.fetch_add(1, std::memory_order_relaxed);  // a count for tests
        raw->OnMessage(channel, payload);
      },
      [raw](RedisLink::State state) { raw->OnLinkState(state); });
  if (!link.ok()) return link.status();
  node->link_ = *std::move(link);
  return node;
}

ClusterNode::ClusterNode(const ClusterNodeOptions& options)
    : options_(options),
      incarnation_(NewIncarnation()),
      times_(cluster::TimesForTtl(options.node_ttl)),
      node_channel_(cluster::NodeChannel(options.node_id)) {}

ClusterNode::~ClusterNode() { Stop(); }

absl::Status ClusterNode::Start() {
  link_->Subscribe(node_channel_);
  link_->Subscribe(cluster::kClusterChannel);
  if (absl::Status started = link_->Start(); !started.ok()) return started;
  link_->RunInLinkThread([this] { link_->loop().RunEvery(times_.every, [this] { Heartbeat(); }); });
  LOG(INFO) << "cluster node " << options_.node_id << " (incarnation " << incarnation_
            << ") starting; node TTL " << options_.node_ttl.count() << " ms";
  return absl::OkStatus();
}

bool ClusterNode::WaitUntilJoined(absl::Duration deadline) const {
  const absl::Time until = absl::Now() + deadline;
  while (heartbeats_.load(std::memory_order_acquire) == 0) {
    if (absl::Now() >= until) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

void ClusterNode::Stop() {
  if (link_ != nullptr) link_->Stop();
}

void ClusterNode::OnLinkState(RedisLink::State state) {
  if (state == RedisLink::State::kLost) {  // the link logs it
    FailWaitingSubscriptions();
    reading_inbox_ = true;  // what Redis held for this node when the link dropped is in it
    // Before any channel is subscribed again: Redis may come back empty, its seqs from 1.
    return ResyncParts();
  }
  TakeGuestBlock();
  ClaimEpoch();  // then the inbox is read
  beaten_since_up_ = false;
  Heartbeat();  // the takeover instead, until it succeeded: first, it frees what a previous
                // process left
  RegisterHoldings();
}

void ClusterNode::ClaimEpoch() {
  epoch_before_up_ = epoch_;
  claiming_epoch_ = true;
  conflict_epochs_.clear();  // last round's: a client not registered again by now left
  std::string candidate = absl::StrCat(incarnation_, "-", ++epoch_claims_);
  link_->Command({"SET", cluster::kEpochKey, candidate, "NX", "GET"},
                 [this, candidate](absl::StatusOr<RedisReply> reply) {
                   claiming_epoch_ = false;
                   if (!reply.ok()) return;  // the link dropped again: claimed when it is back
                   if (reply->type == RedisReply::Type::kError) {
                     // Redis before 7.0 (no SET NX GET), or out of memory: a loss of its data
                     // would go unnoticed (JOINs then announce members nobody saw go).
                     LOG(ERROR) << "cluster: could not read or set rc:epoch: " << reply->str;
                     return ReadInbox();
                   }
                   std::string now =
                       reply->type == RedisReply::Type::kNil ? candidate : reply->str;
                   const bool lost = !epoch_.empty() && now != epoch_;
                   if (lost) {
                     LOG(WARNING) << "cluster: Redis lost its data while this node was away "
                                     "(epoch " << epoch_ << ", now " << now
                                  << "): the cluster is rebuilt from what the nodes hold";
                     if (data_lost_sink_) data_lost_sink_();
                     inbox_last_.reset();  // the inbox went too: its ids start again
                     // Its guest count went too: raised at once above the numbers this node
                     // has had, before another node hands them out again.
                     TakeGuestBlock(/*even_if_left=*/true);
                   }
                   epoch_ = std::move(now);
                   // Before the entries heard since, which wait for this answer (OnMessage);
                   // then each part is shown its room's last entry: a room quiet since has a
                   // hole to read, else it would wait for its next line.
                   for (auto& [room_key, feed] : feeds_) {
                     std::shared_ptr<RoomFeed> part = feed.part.lock();
                     if (part == nullptr) continue;
                     part->OnDataSet(lost);
                     ShowLastEntry(room_key);
                   }
                   ReadInbox();  // once inbox_last_ is forgotten if the inbox went with the data
                 });
}

void ClusterNode::TakeOver() {
  if (taking_over_) return;
  taking_over_ = true;
  link_->Command(cluster::TakeOverCommand(options_.node_id, incarnation_,
                                          options_.max_stream_entries, times_),
                 [this](absl::StatusOr<RedisReply> reply) {
                   taking_over_ = false;
                   if (!reply.ok()) return;  // the link is down again: retried when it is up
                   if (reply->type == RedisReply::Type::kError) {
                     // Not this node's yet: no heartbeat until it is (the next beat retries).
                     LOG(ERROR) << "cluster: taking over node " << options_.node_id
                                << " failed: " << reply->str << "; retrying";
                     return;
                   }
                   if (reply->integer >= 0) {
                     LOG(WARNING) << "cluster: node " << options_.node_id
                                  << " restarted: freed what its previous process held ("
                                  << reply->integer << " room members)";
                   }
                   taken_over_ = true;
                   Heartbeat();
                 });
}

void ClusterNode::Heartbeat() {
  if (!link_->up()) return;
  if (!taken_over_) return TakeOver();
  if (heartbeat_in_flight_) return;
  heartbeat_in_flight_ = true;
  link_->Command(cluster::HeartbeatCommand(options_.node_id, incarnation_, times_),
                 [this](absl::StatusOr<RedisReply> reply) { OnHeartbeat(std::move(reply)); });
}

void ClusterNode::OnHeartbeat(absl::StatusOr<RedisReply> reply) {
  heartbeat_in_flight_ = false;
  if (!reply.ok()) return;  // lost: the next heartbeat after the link is back
  if (reply->type != RedisReply::Type::kArray) {
    if (absl::StartsWith(reply->str, "REPLACED")) return Replaced(reply->str);
    LOG(ERROR) << "cluster: heartbeat of node " << options_.node_id << " failed: " << reply->str;
    return;
  }
  heartbeats_.fetch_add(1, std::memory_order_acq_rel);
  const bool first_since_up = !beaten_since_up_;
  beaten_since_up_ = true;
  if (link_->refusals() != refusals_seen_) {
    // Redis refused commands (out of memory, ...) since the last beat: what this node holds may
    // be missing there (a guest's nick, a registration) or kept there (a refused leave). As after
    // an outage: in-flight commands fail with the link, then it prunes and registers again.
    refusals_seen_ = link_->refusals();
    link_->Reconnect("Redis refused commands and takes them again: registering this node's "
                     "clients again");
    return;
  }
  for (const RedisReply& dead : reply->elements) {
    if (dead.str == options_.node_id) {
      // Its key was gone though the link stayed up: this node was too slow to beat (stopped,
      // starved) and may have been reaped, its nicks freed and its members announced as gone.
      // The first beat after the link comes up finds it gone too; RegisterHoldings already ran.
      if (first_since_up) continue;
      LOG(WARNING) << "cluster: node " << options_.node_id
                   << " missed its heartbeats long enough to be taken for dead";
      // As after an outage: what its clients had on the way fails, and on reconnecting it
      // prunes and registers again what it holds then (registering now, with their commands
      // still on the way, would let the prune undo what those commands did in Redis).
      link_->Reconnect("this node was taken for dead (its heartbeats came too late)");
      return;
    } else if (!reaping_.contains(dead.str)) {
      Reap(dead.str);
    }
  }
}

void ClusterNode::Replaced(absl::string_view error) {
  // Whatever this process sent from now on would undo what the new one registers under the id.
  LOG(ERROR) << "cluster: another process took over node id " << options_.node_id << " ("
             << error << "; this one is " << incarnation_
             << "): this process leaves the cluster for good; its clients keep their local rooms, "
                "cluster commands fail; stop it";
  replaced_.store(true, std::memory_order_release);
  link_->Fence("another process took over this node's id");
}

void ClusterNode::Reap(const std::string& dead) {
  reaping_.insert(dead);
  link_->Command(cluster::ReapCommand(options_.node_id, dead, options_.max_stream_entries),
                 [this, dead](absl::StatusOr<RedisReply> reply) {
                   reaping_.erase(dead);
                   if (!reply.ok()) return;  // asked again by a later heartbeat
                   if (reply->type == RedisReply::Type::kError) {
                     LOG(ERROR) << "cluster: reaping node " << dead << " failed: " << reply->str;
                   } else if (reply->integer >= 0) {
                     reaped_.fetch_add(1, std::memory_order_acq_rel);
                     LOG(WARNING) << "cluster: node " << dead << " stopped beating; reaped by "
                                  << options_.node_id << ": " << reply->integer
                                  << " room members removed, its nicks freed";
                   }
                 });
}

}  // namespace roomchat
