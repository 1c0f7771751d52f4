// ClusterNode's routing of what its subscriber connection hears (docs/CLUSTER.md): room entries
// to the room parts, the node channel's private messages (and what its inbox kept of them) to
// the node message sink, the cluster channel's news; in Redis's order.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "chat/cluster/cluster_node.h"
#include "chat/cluster/node_inbox.h"
#include "chat/loop/log_sampling.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// Messages one read of the inbox takes at most (it reads on while pages come full).
constexpr size_t kInboxPage = 1000;

}  // namespace

void ClusterNode::OnMessage(const std::string& channel, const std::string& payload) {
  const bool own = channel == node_channel_;
  // Entries heard before the node knows whether Redis lost its data wait for it too.
  if (own || claiming_epoch_ || !waiting_.empty()) {
    waiting_.push_back({channel, payload, own || claiming_epoch_, link_->last_command_sent()});
    if (waiting_.size() == 1) HandleWaiting();
    return;
  }
  OnSharedMessage(channel, payload);
}

void ClusterNode::OnSharedMessage(const std::string& channel, const std::string& payload) {
  absl::string_view room_key = channel;
  if (absl::ConsumePrefix(&room_key, cluster::kRoomChannelPrefix)) {
    return OnRoomEntry(std::string(room_key), payload);
  }
  if (channel == cluster::kClusterChannel) return OnClusterMessage(payload);
}

void ClusterNode::HandleWaiting() {
  while (!waiting_.empty()) {
    Message& next = waiting_.front();
    // What the inbox kept comes first: a message heard since is newer (or the same).
    if (next.channel == node_channel_ && reading_inbox_) return;
    if (next.waits) {
      // Handled after the answers to every command sent before it came: Redis ran those first
      // (a /nick that made a client here the message's target), and one node answers its
      // client before any /msg reaches the new nick. (And the epoch's claim: OnMessage.)
      if (next.answers_asked) return;  // they are not all in yet
      next.answers_asked = true;
      return link_->AfterAnswerTo(next.after_command, [this] {
        waiting_.front().waits = false;  // the front until it is handled
        HandleWaiting();
      });
    }
    Message message = std::move(next);
    waiting_.pop_front();
    if (message.channel == node_channel_) {
      OnNodeMessage(message.payload);
    } else {
      OnSharedMessage(message.channel, message.payload);
    }
  }
}

void ClusterNode::OnNodeMessage(absl::string_view message) {
  if (absl::ConsumePrefix(&message, "msg ")) {
    if (TakeOne(test_drop_node_messages_)) return;
    absl::StatusOr<cluster::NodeMessage> parsed = cluster::ParsePublishedMessage(message);
    if (parsed.ok()) {
      DeliverNodeMessage(*parsed);
      return;
    }
    LOG_EVERY_N(ERROR, 1000) << "cluster: a message on node " << options_.node_id
                             << "'s channel cannot be read (" << parsed.status().message()
                             << "); skipped";
  } else if (absl::ConsumePrefix(&message, "lose ") && nick_taken_sink_) {
    nick_taken_sink_(std::string(message));
  }
}

bool ClusterNode::DeliverNodeMessage(const cluster::NodeMessage& message) {
  // Delivered already: read from the inbox after the link came back, or heard before.
  if (inbox_last_ && !(*inbox_last_ < message.id)) return false;
  if (inbox_last_ && *inbox_last_ < message.prev) {
    // Its inbox trimmed what came after the last delivered (the node was away longer than the
    // window, or more came meanwhile than the inbox keeps).
    const uint64_t gaps = inbox_gaps_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (LogsOccurrence(gaps)) {
      LOG(WARNING) << "cluster: private messages for node " << options_.node_id
                   << " were lost: its inbox no longer held those after "
                   << cluster::FormatInboxId(*inbox_last_) << " up to "
                   << cluster::FormatInboxId(message.prev) << " (gap " << gaps << ")";
    }
  }
  inbox_last_ = message.id;
  // Another process under this node id (taken over, or the one taking over) is not told what
  // was meant for its client of the same number.
  if (message.incarnation != incarnation_ || !node_message_sink_) return false;
  node_message_sink_(message.client, message.line);
  return true;
}

void ClusterNode::ReadInbox() {
  link_->Command(cluster::InboxAfterCommand(options_.node_id, inbox_last_, kInboxPage),
                 [this](absl::StatusOr<RedisReply> reply) {
                   if (!reply.ok()) return;  // the link dropped: read when it is back
                   absl::StatusOr<cluster::InboxPage> page = cluster::ParseInboxReply(reply);
                   if (!page.ok()) {
                     LOG(ERROR) << "cluster: node " << options_.node_id
                                << "'s inbox cannot be read (" << page.status().message()
                                << "); /msgs lost while its link was down are not delivered";
                   } else {
                     size_t delivered = 0;
                     for (const cluster::NodeMessage& message : page->messages) {
                       delivered += DeliverNodeMessage(message) ? 1 : 0;
                     }
                     if (delivered > 0) {
                       LOG(WARNING) << "cluster: " << delivered
                                    << " private messages that did not come while the link was "
                                       "down delivered from node "
                                    << options_.node_id << "'s inbox";
                     }
                     if (page->last && (!inbox_last_ || *inbox_last_ < *page->last)) {
                       inbox_last_ = page->last;
                     }
                     if (page->entries >= kInboxPage) return ReadInbox();
                   }
                   reading_inbox_ = false;
                   HandleWaiting();
                 });
}

void ClusterNode::OnClusterMessage(absl::string_view message) {
  // "login-failure <node> <address>": another node's failed password from that address.
  if (!absl::ConsumePrefix(&message, "login-failure ")) return;  // e.g. "reaped <node>"
  size_t space = message.find(' ');
  if (space == absl::string_view::npos || !login_failure_sink_) return;
  if (message.substr(0, space) == options_.node_id) return;  // counted here already
  login_failure_sink_(std::string(message.substr(space + 1)));
}

}  // namespace roomchat
