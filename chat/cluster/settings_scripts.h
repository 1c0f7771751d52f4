// rc_room_op: a room's operator commands in a cluster (docs/CLUSTER.md, "Room settings across
// nodes"). A room's settings live in Redis (its settings hash, operator accounts and bans), so
// every check and change is one atomic script wherever the asker and the target are; what the
// members must see is posted as a room entry (TOPIC, OP, DEOP, KICK) that every part delivers in
// order with the lines.
//
// Thread contract: pure functions; safe from any thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_SETTINGS_SCRIPTS_H_
#define ROOMCHAT_CHAT_CLUSTER_SETTINGS_SCRIPTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "chat/accounts/room_settings.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/scripts.h"

namespace roomchat {
namespace cluster {

// One operator command. The script answers, as one node does: not-in-room if the asker is no
// longer this node's member of the room; not-op unless it is an operator (by connection here:
// `op_here`, or by account); no-such-nick for a target that is not a member; not-op for the
// owner as target of /deop, /kick or /ban; limit past RoomSettings' limits; bad-args for
// oneself as target, or an /unban that matches nothing.
struct RoomOp {
  enum class Verb {
    kShowTopic,  // anyone: the topic and who set it
    kTopic,      // text: the topic ('-' clears it); posts TOPIC "<by> <topic>"
    kKey,        // text: the key ('-' removes it); posts nothing (the key is never shown)
    kOp,         // target; posts OP "<nick> <by> <account|guest>" (guest: an op by connection)
    kDeop,       // target; posts DEOP "<nick> <by>"
    kKick,       // target, text: the reason; removes the member, posts KICK "<nick> <by> <reason>"
    kBan,        // target; a member is kicked too (reason "banned")
    kUnban,      // target: an address, or a nick or account (matched by its key)
    kBans,       // the bans, oldest first
  };
  Verb verb = Verb::kShowTopic;
  std::string room_key;
  std::string nick;     // the asker, as given
  std::string account;  // the asker's account key ('' a guest)
  bool op_here = false;
  std::string target;
  std::string text;
};

struct RoomOpDone {
  std::string target;                   // kOp, kDeop, kKick, kBan: the nick as the room knows it
  std::string topic;                    // kShowTopic ('' none)
  std::string topic_by;
  uint64_t lifted = 0;                  // kUnban
  bool owner_limit_hit = false;         // kOp: the account could not own the room
  std::vector<RoomBan> bans;            // kBans
  uint64_t seq = 0;                     // the entry it posted (TOPIC, OP, DEOP, KICK); 0 none
};

std::string RoomOpScript();
std::vector<std::string> RoomOpCommand(const NodeIdentity& self, const RoomOp& op,
                                       size_t max_entries);
// The result, or the ProtocolError the script answered, or ERR unavailable.
absl::StatusOr<RoomOpDone> ParseRoomOpReply(const absl::StatusOr<RedisReply>& reply);

}  // namespace cluster
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_SETTINGS_SCRIPTS_H_
