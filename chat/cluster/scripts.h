// The scripts that make nicks and rooms cluster-wide (docs/CLUSTER.md, "Scripts"): rc_nick,
// rc_create, rc_join, rc_leave, rc_rooms, rc_who and rc_msg, each one atomic step in Redis, with
// the argv of their EVALSHA and the parsers of their replies.
//
// Keys (<node> a node id, <room>/<nick> NameKey()s; the formats rc_reap relies on):
//   rc:nick:<nick>           STRING "<node> <incarnation> <nick as given> <account or -> <address or ->
//                            <client id on its node>",
//                            no expiry: held while rc:node:<node> holds <incarnation>, deleted by
//                            whoever frees it (the holder, or the reaper when the node is dead)
//   rc:node:<node>:nicks     SET of <nick> the node holds
//   rc:node:<node>:members   SET of "<room> <nick>" the node has in rooms
//   rc:rooms                 ZSET (scores 0) of open <room>s, so listing them is sorted by key
//   rc:room:<room>           HASH name (as created), created_ms
//   rc:room:<room>:members   HASH <nick> -> "<node> <nick as given>"
//   rc:guest                 STRING counter of guest numbers, handed out in blocks
//   rc:room:<room>:settings, :ops, :bans, rc:owned:<account>: a room's settings
//                            (settings_scripts.h)
// Room events (JOIN, LEAVE, NICK) are posted with rc_post's shared post() function, so they are
// sequenced, stored and published like any line. A script that refuses answers an error reply
// "<wire code> <text>" (nick-taken, room-exists, limit, no-such-room, room-full, no-such-nick,
// banned, bad-key);
// the parsers turn it into that ProtocolError, and a link that is down into ERR unavailable.
//
// Thread contract: pure functions and constants; safe from any thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_SCRIPTS_H_
#define ROOMCHAT_CHAT_CLUSTER_SCRIPTS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/cluster/node_inbox.h"
#include "chat/cluster/redis_link.h"

namespace roomchat {
namespace cluster {

// Who runs a script.
struct NodeIdentity {
  std::string node;
  std::string incarnation;
};

// Every script text a node's link must load (RedisLinkOptions::scripts): rc_post, rc_heartbeat,
// rc_reap and the ones below.
std::vector<std::string> AllScripts();

// ---- rc_nick: claims `new_nick` for this node (a guest's first claim: old_nick empty), releasing
// old_nick (only if this node and incarnation hold it). If `room_key` is not empty and this node's
// member old_nick is there, renames the member and posts NICK "<old> <new>" in the room. A case
// change (same key) updates the value (and the member and NICK in the room). Fails nick-taken if
// another node or incarnation holds new_nick. Nicks are as given; their keys are NameKey()s.
struct NickChange {
  std::string old_nick;
  std::string new_nick;
  std::string room_key;
  // The caller's account key ('' for a guest): a registered nick is refused (nick-registered)
  // to anyone but its account. With `take` (a login to that account) the nick is taken from
  // whoever holds it, and a holder on another node is told on its node channel
  // ("lose <nick key>") to rename its client.
  std::string account;
  bool take = false;
  std::string address;  // the client's IP address, kept for address bans ('' unknown)
  // Only the account and address kept with new_nick (== old_nick, held here) change: the client
  // registered or logged out. Never fails but for the link.
  bool refresh = false;
  // The client's id on this node, kept with the nick: a /msg is for the client that held the nick
  // when Redis resolved it, even if it renamed before the message reached this node.
  uint64_t client = 0;
};
std::vector<std::string> NickCommand(const NodeIdentity& self, const NickChange& change,
                                     size_t max_entries);
// OK, or the ProtocolError the script answered (nick-taken ...), or ERR unavailable.
absl::Status ParseStatusReply(const absl::StatusOr<RedisReply>& reply);

// ---- rc_create: room `room_name` (key room_key) with member `nick`. Fails room-exists if it is
// open, limit if max_rooms are open (0: no limit). Leaves old_room_key first, if not empty, as
// rc_leave does. Posts nothing in the new room; the reply's seq is the room's current seq (0 for a
// new name; a name used before continues its sequence), so the creator's part delivers what
// follows it. Reply members: 1.
struct RoomMove {
  std::string nick_key;
  std::string nick;
  std::string room_key;
  std::string room_name;
  std::string old_room_key;
  // The mover as the room's settings judge it (RoomVisitor): a room's ban or key refuses it
  // (banned, bad-key) unless its account is one of the room's operator accounts; `key` is the
  // one it gave (/join ROOM KEY; with rc_create, the new room's key).
  std::string account;
  std::string former_account;
  std::string address;
  std::string key;
};
std::vector<std::string> CreateCommand(const NodeIdentity& self, const RoomMove& move,
                                       size_t max_rooms, size_t max_entries);
struct Entered {
  std::string room_name;
  uint64_t members = 0;
  uint64_t seq = 0;
  std::string topic;     // empty: none
  std::string topic_by;
  // rc_create only: the room is new (no account kept it), so its creator is its operator; and
  // the creator's account could not own it (it owns RoomSettings::kMaxOwnedPerAccount rooms).
  bool creator_is_op = false;
  bool owner_limit_hit = false;
};
absl::StatusOr<Entered> ParseEnteredReply(const absl::StatusOr<RedisReply>& reply);

// ---- rc_join: fails no-such-room, or room-full if max_room_members (0: no limit) are in it, on
// every node, and `nick` is not one of them. Leaves old_room_key first if given (as rc_leave), adds
// the member and posts JOIN "<nick>". Reply: the display name, the members after the join and the
// JOIN entry's seq. move.room_name is ignored.
std::vector<std::string> JoinCommand(const NodeIdentity& self, const RoomMove& move,
                                     size_t max_room_members, size_t max_entries);

// ---- rc_leave: if this node's member `nick_key` is in room_key: removes it and posts LEAVE; the
// last member out closes the room (its hash, members and place in rc:rooms go; its seq and stream
// stay). With `release_nick`, also frees the nick if this node and incarnation hold it (a client
// that disconnected). room_key may be empty (release only). Parse with ParseStatusReply.
std::vector<std::string> LeaveCommand(const NodeIdentity& self, const std::string& room_key,
                                      const std::string& nick_key, bool release_nick,
                                      size_t max_entries);

// ---- rc_rooms: every open room, sorted by room key, with its member count on every node.
std::vector<std::string> RoomsCommand();
struct ClusterRoom {
  std::string name;
  uint64_t members = 0;
};
absl::StatusOr<std::vector<ClusterRoom>> ParseRoomsReply(const absl::StatusOr<RedisReply>& reply);

// ---- rc_who: the room's display name and its members' nicks (as given), sorted by NameKey() as
// the single-node server sorts them; fails no-such-room, naming the room as asked.
std::vector<std::string> WhoCommand(const std::string& room_name);
struct ClusterWho {
  std::string room_name;
  std::vector<std::string> nicks;
};
absl::StatusOr<ClusterWho> ParseWhoReply(const absl::StatusOr<RedisReply>& reply);

// ---- rc_msg: where nick `to_key`'s client is. Fails no-such-nick if nobody holds it; kLocal if
// this node does (publishes nothing: deliver it here) unless `even_here`; else keeps it in the
// owner's inbox, trimmed to `inbox` (node_inbox.h), publishes it on the owner's NodeChannel() and
// answers kSent (Unavailable if that node heard nothing). `line` is the whole protocol line to
// deliver (it may hold spaces, not LF). `even_here` sends it the way of the room lines posted
// before it, so that it comes after them.
std::vector<std::string> MsgCommand(const NodeIdentity& self, const std::string& to_key,
                                    const std::string& line, bool even_here,
                                    const InboxLimits& inbox);
enum class MsgRoute { kLocal, kSent };
absl::StatusOr<MsgRoute> ParseMsgReply(const absl::StatusOr<RedisReply>& reply);
std::string NodeChannel(absl::string_view node);  // rc:ch:node:<node>

// ---- After an outage (docs/CLUSTER.md, "Redis unavailable"): what this node holds, client by
// client. rc_prune forgets what Redis holds for the node beyond `kept` (LEAVEs posted, nicks
// freed); rc_register claims each client's nick again (nick-taken if someone else took it
// meanwhile) and puts it back in its room, re-creating the room if Redis lost it and posting JOIN
// if Redis had no such member. `replaces`: the member's nick before a conflict renamed it (its
// entry in the room, if still this node's, is renamed, with a NICK). Parse both with
// ParseStatusReply.
struct Registration {
  uint64_t client = 0;     // the client's id on this node
  std::string nick;        // as given
  std::string room_key;    // empty: in the lobby
  std::string room_name;   // as shown
  std::string replaces;    // see above; usually empty
  std::string account;     // its account key ('' a guest)
  std::string address;     // its IP address
  // The entry of `replaces` in the room is its winner's now (a login in the same room on this
  // node took the nick, and with it the entry): the room hears NICK, the entry stays.
  bool entry_taken = false;
};
std::vector<std::string> PruneCommand(const NodeIdentity& self,
                                      const std::vector<Registration>& kept, size_t max_entries);
// `known_epoch`: rc:epoch as this node knew it before its link came up ('' none).
std::vector<std::string> RegisterCommand(const NodeIdentity& self, const Registration& client,
                                         const std::string& known_epoch, size_t max_entries);

// ---- Guest numbers: the next `block` numbers of rc:guest, above `floor` (the highest the node
// has had: a Redis that lost its data counts from 0 again); the reply is the last number of the
// block (the block is reply - block + 1 .. reply).
std::vector<std::string> GuestBlockCommand(uint64_t block, uint64_t floor);
absl::StatusOr<uint64_t> ParseIntegerReply(const absl::StatusOr<RedisReply>& reply);

}  // namespace cluster
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_SCRIPTS_H_
