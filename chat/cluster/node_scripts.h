// A node's life in Redis: the heartbeat that keeps it (and its nicks) alive, and the reaper that
// frees what a dead node held (docs/CLUSTER.md, "A node that dies", "rc_heartbeat", "rc_reap").
//
// Each node runs rc_heartbeat every --cluster_node_ttl_s / 5: it re-arms the node's key (which
// lives 3/5 of the TTL) and answers which registered nodes' keys are gone. (Its nick keys have no
// expiry: a nick is held while its node's key names the incarnation that claimed it, so the beat
// costs the same for a node with ten thousand clients as for one with none.) For each of those
// the node runs rc_reap, which, atomically: removes the dead node's members from their rooms,
// posting a LEAVE entry in each room (so every other node's members see it through the room
// channel), closes the rooms that emptied, frees the nicks it still owned, deletes its inbox,
// and forgets the node. Reaping twice is harmless (the second finds nothing); a node whose key
// is back (it returned) is not reaped.
//
// Keys (<node> a node id, <room>/<nick> NameKey()s):
//   rc:nodes                 SET of registered node ids
//   rc:epoch                 STRING naming Redis's data set (kEpochKey)
//   rc:node:<node>           STRING its incarnation, PX 3/5 TTL
//   rc:node:<node>:nicks     SET of <nick> it holds
//   rc:node:<node>:members   SET of "<room> <nick>" it has in rooms
//   rc:inbox:<node>          STREAM of the /msgs sent to its clients (node_inbox.h)
//   rc:nick:<nick>           STRING "<node> <incarnation> <nick as given> <account or -> <address or ->
//                            <client id>" (no expiry; held while rc:node:<node> is <incarnation>)
//   rc:rooms                 ZSET of open <room>s
//   rc:room:<room>           HASH name, ...; rc:room:<room>:members HASH <nick> -> "<node> <nick>"
//
// Thread contract: pure functions and constants; safe from any thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_NODE_SCRIPTS_H_
#define ROOMCHAT_CHAT_CLUSTER_NODE_SCRIPTS_H_

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "chat/cluster/room_channel.h"

namespace roomchat {
namespace cluster {

std::string NodeKey(absl::string_view node);             // rc:node:<node>
std::string NodeNicksKey(absl::string_view node);        // rc:node:<node>:nicks
std::string NodeMembersKey(absl::string_view node);      // rc:node:<node>:members
std::string NickKey(absl::string_view nick_key);         // rc:nick:<nick>
// RoomKey (rc:room:<room>): room_channel.h.
std::string RoomMembersKey(absl::string_view room_key);  // rc:room:<room>:members
// A room's settings (docs/CLUSTER.md, "Room settings across nodes"): kept while the room is
// closed when an account owns it.
std::string RoomSettingsKey(absl::string_view room_key);  // rc:room:<room>:settings (HASH)
std::string RoomOpsKey(absl::string_view room_key);       // rc:room:<room>:ops (SET)
std::string RoomBansKey(absl::string_view room_key);      // rc:room:<room>:bans (LIST)
inline constexpr char kNodesKey[] = "rc:nodes";
// A name for Redis's data set, set by the first node that finds none (Redis started empty): a
// node that knew another one before its link dropped knows Redis lost its data meanwhile.
inline constexpr char kEpochKey[] = "rc:epoch";
inline constexpr char kRoomsKey[] = "rc:rooms";
inline constexpr char kClusterChannel[] = "rc:ch:cluster";

// How long a node's key lives, and how often the heartbeat re-arms it, from --cluster_node_ttl_s:
// a dead node is noticed within node_key + every <= the TTL.
struct NodeTimes {
  std::chrono::milliseconds every;     // TTL / 5
  std::chrono::milliseconds node_key;  // TTL * 3 / 5
};
NodeTimes TimesForTtl(std::chrono::milliseconds ttl);

// The scripts' texts, for RedisLinkOptions::scripts: the commands below are EVALSHAs of them.
const std::string& HeartbeatScript();
const std::string& ReapScript();

// EVALSHA argv of rc_heartbeat for `node` (incarnation `incarnation`); the reply is an array of the
// ids of registered nodes whose key is gone (dead), maybe empty, or the error "REPLACED <inc>" when
// the node's key holds another incarnation (another process took the id over: this one must stop
// speaking for it; its heartbeat does not re-arm the key).
std::vector<std::string> HeartbeatCommand(absl::string_view node, absl::string_view incarnation,
                                          const NodeTimes& times);

// EVALSHA argv of rc_reap: `reaper` (a node id, the LEAVE entries' origin) reaps `dead`. The reply
// is an integer: the members removed (0 or more), -1 if the node is alive (not reaped), -2 if
// there was nothing to reap (another node did it).
std::vector<std::string> ReapCommand(absl::string_view reaper, absl::string_view dead,
                                     size_t max_entries);
// rc_reap of `node` by a new process of it (incarnation `incarnation`): it reaps what the id held
// while its key is missing or holds another incarnation, and claims the key for `incarnation`
// (so the old process, if it still runs, is told REPLACED by its next heartbeat). The reply is
// ReapCommand's; -1 when the key is already this incarnation's.
std::vector<std::string> TakeOverCommand(absl::string_view node, absl::string_view incarnation,
                                         size_t max_entries, const NodeTimes& times);

}  // namespace cluster
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_NODE_SCRIPTS_H_
