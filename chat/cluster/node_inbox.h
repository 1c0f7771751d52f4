// A node's inbox (docs/CLUSTER.md, "Private messages across nodes"): rc_msg appends every /msg it
// sends to a node to that node's stream, rc:inbox:<node>, and publishes it on the node's channel
// under the stream id it got. Pub/sub keeps nothing: a message Redis counted as heard but still
// held in its output buffer when the node's subscriber connection dropped would be lost after the
// sender's OK MSG. The node remembers the last id it delivered and, each time its link comes up,
// reads what its inbox holds after it; the ids tell it what it delivered already.
//
// Each message also names the inbox's entry before it (its `prev`), so a node that finds a gap
// (its inbox no longer had a message after the last it delivered) knows it lost one, and logs it.
// An inbox keeps what came within its window, at most a number of messages (InboxLimits);
// rc_reap deletes a dead node's inbox, and a takeover the previous process's.
//
// Thread contract: plain values and pure functions; safe from any thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_NODE_INBOX_H_
#define ROOMCHAT_CHAT_CLUSTER_NODE_INBOX_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/cluster/redis_reply.h"

namespace roomchat {
namespace cluster {

std::string InboxKey(absl::string_view node);  // rc:inbox:<node>

// What an inbox keeps (rc_msg trims it as it appends).
struct InboxLimits {
  std::chrono::milliseconds window{0};  // none older (and the key goes as long after the last)
  size_t max_entries = 0;               // about this many at most (MAXLEN ~)
};
// A node's: twice its TTL (a node away longer has been reaped, its clients gone), and 10,000.
InboxLimits InboxLimitsFor(std::chrono::milliseconds node_ttl);

// A stream id, "<ms>-<seq>", ordered as Redis orders them.
struct InboxId {
  uint64_t ms = 0;
  uint64_t seq = 0;
  friend bool operator<(const InboxId& a, const InboxId& b) {
    return std::tie(a.ms, a.seq) < std::tie(b.ms, b.seq);
  }
  friend bool operator==(const InboxId& a, const InboxId& b) {
    return a.ms == b.ms && a.seq == b.seq;
  }
};
std::optional<InboxId> ParseInboxId(absl::string_view text);
std::string FormatInboxId(const InboxId& id);

// A /msg for a client of the node: in the inbox, fields "p" (`prev`) and "m" ("<incarnation>
// <client> <line>"); on the node's channel, "msg <id> <prev> <incarnation> <client> <line>".
// `line` is the whole protocol line to deliver; it may hold spaces.
struct NodeMessage {
  InboxId id;
  InboxId prev;             // the inbox's last entry before it (0-0: none)
  std::string incarnation;  // the process the client is in (client ids start again in each)
  uint64_t client = 0;
  std::string line;
};
// What follows "msg " on the node's channel.
absl::StatusOr<NodeMessage> ParsePublishedMessage(absl::string_view payload);

// The argv of an XRANGE of `node`'s inbox after `after` (nullopt: from its start), at most `max`.
std::vector<std::string> InboxAfterCommand(absl::string_view node,
                                           const std::optional<InboxId>& after, size_t max);
// Its reply: the messages, oldest first (an entry that does not parse is skipped), and the
// number and last id of the entries read (where the next read starts).
struct InboxPage {
  std::vector<NodeMessage> messages;
  size_t entries = 0;
  std::optional<InboxId> last;
};
absl::StatusOr<InboxPage> ParseInboxReply(const absl::StatusOr<RedisReply>& reply);

}  // namespace cluster
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_NODE_INBOX_H_
