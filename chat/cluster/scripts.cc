#include "chat/cluster/scripts.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/script_support.h"
#include "chat/cluster/settings_scripts.h"
#include "chat/accounts/room_settings.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"

namespace roomchat {
namespace cluster {
namespace {


// KEYS[1] rc:nick:<new>, KEYS[2] rc:node:<node>:nicks, KEYS[3] rc:node:<node>:members
// ARGV: node, incarnation, old key ('': a first claim), new key, old nick, new nick, room key
// ('': none), max stream entries, the caller's account key ('' none), take ('1': a login, which
// takes the nick from whoever holds it; 'refresh': only the account and address of a nick this
// node holds), the client's address ('-' unknown), the client's id. The value kept is "<node>
// <inc> <nick> <account or -> <address> <client>" (the room scripts judge bans by it; rc_msg
// routes by the client), with no expiry: it is held while its node's key lives (live_holder),
// and the reaper deletes it. Checks come before any write: Redis keeps the writes of a script
// that answers an error.
constexpr char kNickBody[] = R"lua(
local replaced = refuse_if_replaced(ARGV[1], ARGV[2])
if replaced then return replaced end
local node, old_key, new_key, old_nick, new_nick, room =
    ARGV[1], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local mine = node .. ' ' .. ARGV[2] .. ' '
local caller_account, take = ARGV[9], ARGV[10] == '1'
local held = redis.call('GET', KEYS[1])
if ARGV[10] == 'refresh' then
  -- The client's account changed (registered, logged out): its nick's value says so, if it
  -- still holds it.
  if held_by(held, mine) then
    local account = caller_account ~= '' and caller_account or '-'
    redis.call('SET', KEYS[1], mine .. new_nick .. ' ' .. account .. ' ' .. ARGV[11] .. ' ' ..
               ARGV[12])
  end
  return redis.status_reply('OK')
end
if not take then
  if caller_account ~= new_key and redis.call('EXISTS', 'rc:acct:' .. new_key) == 1 then
    return redis.error_reply('nick-registered ' .. new_nick .. ' is registered; /login ' ..
                             new_nick .. ' PASSWORD')
  end
  if live_holder(held) and not held_by(held, mine) then
    return redis.error_reply('nick-taken ' .. new_nick .. ' is taken')
  end
else
  -- A login takes the nick from a client on another node: that node renames its client.
  local holder = live_holder(held)
  if holder and holder ~= node then
    redis.call('PUBLISH', 'rc:ch:node:' .. holder, 'lose ' .. new_key)
  end
end
local account = caller_account ~= '' and caller_account or '-'
redis.call('SET', KEYS[1], mine .. new_nick .. ' ' .. account .. ' ' .. ARGV[11] .. ' ' .. ARGV[12])
redis.call('SADD', KEYS[2], new_key)
if old_key ~= '' and old_key ~= new_key then
  local old_nick_key = 'rc:nick:' .. old_key
  if held_by(redis.call('GET', old_nick_key), mine) then redis.call('DEL', old_nick_key) end
  redis.call('SREM', KEYS[2], old_key)
end
-- The same nick as given (a login to the nick the client holds): nothing for the room to hear.
if room ~= '' and old_key ~= '' and old_nick ~= new_nick then
  local members_key = 'rc:room:' .. room .. ':members'
  if held_by(redis.call('HGET', members_key, old_key), node .. ' ') then
    redis.call('HDEL', members_key, old_key)
    redis.call('SREM', KEYS[3], room .. ' ' .. old_key)
    add_member(node, room, new_key, new_nick, ARGV[8])
    room_post(room, ARGV[8], node, 'NICK', old_nick .. ' ' .. new_nick)
  end
end
return redis.status_reply('OK')
)lua";

// KEYS[1] rc:rooms, KEYS[2] rc:room:<room>, KEYS[3] rc:room:<room>:members, KEYS[4] rc:seq:<room>,
// KEYS[5] rc:node:<node>:members
// KEYS[6] rc:room:<room>:settings, KEYS[7] rc:room:<room>:ops, KEYS[8] rc:room:<room>:bans
// ARGV: node, room key, room name, nick key, nick, old room key ('': none), max rooms (0: no
// limit), max stream entries, account, former account, address, key, max rooms an account owns,
// incarnation.
// A room an account owns keeps its settings while closed: it is admitted to as /join is, and
// its creator is no operator unless its account is one. Else the settings start anew: the
// creator is operator (and its account the owner, within the limit), the key is the one given.
constexpr char kCreateBody[] = R"lua(
local replaced = refuse_if_replaced(ARGV[1], ARGV[14])
if replaced then return replaced end
local node, room, name, account = ARGV[1], ARGV[2], ARGV[3], ARGV[9]
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('room-exists ' .. (redis.call('HGET', KEYS[2], 'name') or name) ..
                           ' exists')
end
local max_rooms = tonumber(ARGV[7])
if max_rooms > 0 and redis.call('ZCARD', KEYS[1]) >= max_rooms then
  return redis.error_reply(string.format(
      'limit the server holds its maximum of %d rooms; cannot create %s', max_rooms, name))
end
local owner = redis.call('HGET', KEYS[6], 'owner')
if owner then
  local refused = admit(room, name, account, ARGV[10], ARGV[4], ARGV[11], ARGV[12])
  if refused then return refused end
end
if ARGV[6] ~= '' and ARGV[6] ~= room then leave(node, ARGV[6], ARGV[4], ARGV[8]) end
open_room(room, name)
-- A new room has a seq at once: a room that closes without a line has one to expire.
redis.call('HSETNX', KEYS[4], 'seq', '0')
add_member(node, room, ARGV[4], ARGV[5], ARGV[8])
local fresh, limit_hit = 0, 0
if not owner then
  fresh = 1
  redis.call('DEL', KEYS[6], KEYS[7], KEYS[8])
  if ARGV[12] ~= '' then redis.call('HSET', KEYS[6], 'key', ARGV[12]) end
  if account ~= '' then limit_hit = add_op_account(room, name, account, tonumber(ARGV[13])) end
end
local topic, topic_by = topic_of(room)
return {name, 1, tonumber(redis.call('HGET', KEYS[4], 'seq') or '0'), topic, topic_by, fresh,
        limit_hit}
)lua";

// KEYS[1] rc:room:<room>, KEYS[2] rc:room:<room>:members, KEYS[3] rc:node:<node>:members
// ARGV: node, room key, nick key, nick, old room key ('': none), max members (0: no limit), max
// stream entries, account, former account, address, key, incarnation, the room's name as asked.
// The checks in the single-node order (Registry::JoinRoom): no such room, full, then the room's
// settings (ban, key).
constexpr char kJoinBody[] = R"lua(
local replaced = refuse_if_replaced(ARGV[1], ARGV[12])
if replaced then return replaced end
local node, room, nick_key, nick = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local name = redis.call('HGET', KEYS[1], 'name')
if not name then return redis.error_reply('no-such-room no room called ' .. ARGV[13]) end
local max_members = tonumber(ARGV[6])
if max_members > 0 and redis.call('HEXISTS', KEYS[2], nick_key) == 0 and
    redis.call('HLEN', KEYS[2]) >= max_members then
  return redis.error_reply(string.format('room-full %s holds its maximum of %d members', name,
                                         max_members))
end
local refused = admit(room, name, ARGV[8], ARGV[9], nick_key, ARGV[10], ARGV[11])
if refused then return refused end
if ARGV[5] ~= '' and ARGV[5] ~= room then leave(node, ARGV[5], nick_key, ARGV[7]) end
add_member(node, room, nick_key, nick, ARGV[7])
local posted = room_post(room, ARGV[7], node, 'JOIN', nick)
local topic, topic_by = topic_of(room)
return {name, redis.call('HLEN', KEYS[2]), posted[2], topic, topic_by}
)lua";

// KEYS[1] rc:nick:<nick>, KEYS[2] rc:node:<node>:nicks
// ARGV: node, incarnation, room key ('': none), nick key, release ('1' or '0'), max stream entries
constexpr char kLeaveBody[] = R"lua(
local replaced = refuse_if_replaced(ARGV[1], ARGV[2])
if replaced then return replaced end
local left = 0
if ARGV[3] ~= '' then left = leave(ARGV[1], ARGV[3], ARGV[4], ARGV[6]) end
if ARGV[5] == '1' then
  if held_by(redis.call('GET', KEYS[1]), ARGV[1] .. ' ' .. ARGV[2] .. ' ') then
    redis.call('DEL', KEYS[1])
  end
  redis.call('SREM', KEYS[2], ARGV[4])
end
return left
)lua";

// KEYS[1] rc:rooms. A flat array: name, member count, name, member count, ...
constexpr char kRoomsScript[] = R"lua(
local out = {}
for _, room in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local name = redis.call('HGET', 'rc:room:' .. room, 'name')
  if name then
    table.insert(out, name)
    table.insert(out, redis.call('HLEN', 'rc:room:' .. room .. ':members'))
  end
end
return out
)lua";

// KEYS[1] rc:room:<room>, KEYS[2] rc:room:<room>:members; ARGV[1] the room's name as asked
constexpr char kWhoScript[] = R"lua(
local name = redis.call('HGET', KEYS[1], 'name')
if not name then return redis.error_reply('no-such-room no room called ' .. ARGV[1]) end
local out = {name}
for _, held in ipairs(redis.call('HVALS', KEYS[2])) do
  local space = string.find(held, ' ', 1, true)
  if space then table.insert(out, string.sub(held, space + 1)) end
end
return out
)lua";

// KEYS[1] rc:nick:<to>; ARGV: node, to key, line, '1' to publish even to this node, the inbox's
// window (ms) and its entries at most. Another node's holder (or this one's, with '1') is sent
// "<incarnation> <client> <line>": for the client that held the nick now, whatever it is called
// when the message gets there, and only in the process that held it (a node id's channel
// outlives a process a newer one took over; client ids start again in each). It goes into the
// owner's inbox (node_inbox.h) after the inbox's last entry, and is published on the owner's
// channel as "msg <inbox id> <that entry's id> <message>". Unavailable, and not kept, when the
// owner's node is not subscribed to its channel at that moment: it would read it only when its
// link is back, and the node may be dead.
constexpr char kMsgScript[] = R"lua(
local held = redis.call('GET', KEYS[1])
local owner = live_holder(held)
local inc, client = string.match(held or '', '^%S+ (%S+) .* (%d+)$')
if not owner or not client then
  return redis.error_reply('no-such-nick nobody is called ' .. ARGV[2])
end
if owner == ARGV[1] and ARGV[4] ~= '1' then return 'local' end
local inbox = 'rc:inbox:' .. owner
local before = redis.call('XREVRANGE', inbox, '+', '-', 'COUNT', 1)
local prev = before[1] and before[1][1] or '0-0'
local now = redis.call('TIME')
local oldest = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[5])
local message = inc .. ' ' .. client .. ' ' .. ARGV[3]
local id = redis.call('XADD', inbox, 'MINID', '~', string.format('%d', oldest), '*',
                      'p', prev, 'm', message)
redis.call('XTRIM', inbox, 'MAXLEN', '~', ARGV[6])
redis.call('PEXPIRE', inbox, ARGV[5])
local heard = redis.call('PUBLISH', 'rc:ch:node:' .. owner,
                        'msg ' .. id .. ' ' .. prev .. ' ' .. message)
-- Nobody heard it (the owner's subscriber is reconnecting): the sender is told, not OK MSG.
if heard == 0 then
  redis.call('XDEL', inbox, id)
  return redis.error_reply('unavailable the cluster is unavailable; try again')
end
return 'sent'
)lua";

// A script's text and the SHA1 that EVALSHA names it by.

const Script& NickScript() {
  static const Script* const script = NewRoomScript(kNickBody);
  return *script;
}
const Script& CreateScript() {
  static const Script* const script = NewRoomScript(kCreateBody);
  return *script;
}
const Script& JoinScript() {
  static const Script* const script = NewRoomScript(kJoinBody);
  return *script;
}
const Script& LeaveScript() {
  static const Script* const script = NewRoomScript(kLeaveBody);
  return *script;
}
const Script& RoomsScript() {
  static const Script* const script = NewScript(kRoomsScript);
  return *script;
}
const Script& WhoScript() {
  static const Script* const script = NewScript(kWhoScript);
  return *script;
}
const Script& MsgScript() {
  static const Script* const script = NewRoomScript(kMsgScript);
  return *script;
}

// KEYS[1] rc:guest. ARGV: block, floor. The count goes on from the floor when it is below (Redis
// lost its data, and the count with it).
constexpr char kGuestBlockScript[] = R"lua(
local last = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(ARGV[2]))
last = last + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', last))
return last
)lua";
const Script& GuestBlockScript() {
  static const Script* const script = NewScript(kGuestBlockScript);
  return *script;
}

}  // namespace

std::vector<std::string> AllScripts() {
  std::vector<std::string> scripts = {PostScript(), HeartbeatScript(), ReapScript()};
  for (const Script* script : {&NickScript(), &CreateScript(), &JoinScript(), &LeaveScript(),
                               &RoomsScript(), &WhoScript(), &MsgScript(),
                               &GuestBlockScript()}) {
    scripts.push_back(script->text);
  }
  for (std::string& script : OutageScripts()) scripts.push_back(std::move(script));
  scripts.push_back(RoomOpScript());
  return scripts;
}

std::string NodeChannel(absl::string_view node) { return absl::StrCat("rc:ch:node:", node); }

std::vector<std::string> NickCommand(const NodeIdentity& self, const NickChange& change,
                                     size_t max_entries) {
  std::string new_key = NameKey(change.new_nick);
  return Evalsha(NickScript(),
                 {NickKey(new_key), NodeNicksKey(self.node), NodeMembersKey(self.node)},
                 {self.node, self.incarnation, NameKey(change.old_nick), new_key,
                  change.old_nick, change.new_nick, change.room_key,
                  absl::StrCat(max_entries), change.account,
                  change.take ? "1" : (change.refresh ? "refresh" : "0"),
                  change.address.empty() ? "-" : change.address, absl::StrCat(change.client)});
}

std::vector<std::string> CreateCommand(const NodeIdentity& self, const RoomMove& move,
                                       size_t max_rooms, size_t max_entries) {
  return Evalsha(CreateScript(),
                 {kRoomsKey, RoomKey(move.room_key), RoomMembersKey(move.room_key),
                  SeqKey(move.room_key), NodeMembersKey(self.node),
                  RoomSettingsKey(move.room_key), RoomOpsKey(move.room_key),
                  RoomBansKey(move.room_key)},
                 {self.node, move.room_key, move.room_name, move.nick_key, move.nick,
                  move.old_room_key, absl::StrCat(max_rooms), absl::StrCat(max_entries),
                  move.account, move.former_account, move.address, move.key,
                  absl::StrCat(RoomSettings::kMaxOwnedPerAccount), self.incarnation});
}

std::vector<std::string> JoinCommand(const NodeIdentity& self, const RoomMove& move,
                                     size_t max_room_members, size_t max_entries) {
  return Evalsha(JoinScript(),
                 {RoomKey(move.room_key), RoomMembersKey(move.room_key),
                  NodeMembersKey(self.node)},
                 {self.node, move.room_key, move.nick_key, move.nick, move.old_room_key,
                  absl::StrCat(max_room_members), absl::StrCat(max_entries), move.account,
                  move.former_account, move.address, move.key, self.incarnation, move.room_name});
}

std::vector<std::string> LeaveCommand(const NodeIdentity& self, const std::string& room_key,
                                      const std::string& nick_key, bool release_nick,
                                      size_t max_entries) {
  return Evalsha(LeaveScript(), {NickKey(nick_key), NodeNicksKey(self.node)},
                 {self.node, self.incarnation, room_key, nick_key, release_nick ? "1" : "0",
                  absl::StrCat(max_entries)});
}

std::vector<std::string> RoomsCommand() { return Evalsha(RoomsScript(), {kRoomsKey}, {}); }

std::vector<std::string> WhoCommand(const std::string& room_name) {
  const std::string room_key = NameKey(room_name);
  return Evalsha(WhoScript(), {RoomKey(room_key), RoomMembersKey(room_key)}, {room_name});
}

std::vector<std::string> MsgCommand(const NodeIdentity& self, const std::string& to_key,
                                    const std::string& line, bool even_here,
                                    const InboxLimits& inbox) {
  return Evalsha(MsgScript(), {NickKey(to_key)},
                 {self.node, to_key, line, even_here ? "1" : "0",
                  absl::StrCat(inbox.window.count()), absl::StrCat(inbox.max_entries)});
}

std::vector<std::string> GuestBlockCommand(uint64_t block, uint64_t floor) {
  return Evalsha(GuestBlockScript(), {"rc:guest"}, {absl::StrCat(block), absl::StrCat(floor)});
}

absl::Status ParseStatusReply(const absl::StatusOr<RedisReply>& reply) {
  return ReplyStatus(reply);
}

absl::StatusOr<Entered> ParseEnteredReply(const absl::StatusOr<RedisReply>& reply) {
  if (absl::Status status = ReplyStatus(reply); !status.ok()) return status;
  const std::vector<RedisReply>& parts = reply->elements;
  Entered entered;
  if (reply->type != RedisReply::Type::kArray || (parts.size() != 5 && parts.size() != 7) ||
      !IsText(parts[0]) || !AsCount(parts[1], &entered.members) ||
      !AsCount(parts[2], &entered.seq) || !IsText(parts[3]) || !IsText(parts[4])) {
    return Malformed("a room entered");
  }
  entered.room_name = parts[0].str;
  entered.topic = parts[3].str;
  entered.topic_by = parts[4].str;
  if (parts.size() == 7) {
    uint64_t fresh = 0, limit_hit = 0;
    if (!AsCount(parts[5], &fresh) || !AsCount(parts[6], &limit_hit)) {
      return Malformed("a room created");
    }
    entered.creator_is_op = fresh != 0;
    entered.owner_limit_hit = limit_hit != 0;
  }
  return entered;
}

absl::StatusOr<std::vector<ClusterRoom>> ParseRoomsReply(const absl::StatusOr<RedisReply>& reply) {
  if (absl::Status status = ReplyStatus(reply); !status.ok()) return status;
  const std::vector<RedisReply>& parts = reply->elements;
  if (reply->type != RedisReply::Type::kArray || parts.size() % 2 != 0) {
    return Malformed("rc_rooms");
  }
  std::vector<ClusterRoom> rooms(parts.size() / 2);
  for (size_t i = 0; i < rooms.size(); ++i) {
    if (!IsText(parts[2 * i]) || !AsCount(parts[2 * i + 1], &rooms[i].members)) {
      return Malformed("rc_rooms");
    }
    rooms[i].name = parts[2 * i].str;
  }
  return rooms;
}

absl::StatusOr<ClusterWho> ParseWhoReply(const absl::StatusOr<RedisReply>& reply) {
  if (absl::Status status = ReplyStatus(reply); !status.ok()) return status;
  const std::vector<RedisReply>& parts = reply->elements;
  if (reply->type != RedisReply::Type::kArray || parts.empty()) return Malformed("rc_who");
  ClusterWho who;
  who.room_name = parts[0].str;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!IsText(parts[i])) return Malformed("rc_who");
    if (i > 0) who.nicks.push_back(parts[i].str);
  }
  // Case-insensitively, as the single-node server lists them; keys are unique in a room.
  std::sort(who.nicks.begin(), who.nicks.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(NameKey(a), a) < std::make_pair(NameKey(b), b);
  });
  return who;
}

absl::StatusOr<MsgRoute> ParseMsgReply(const absl::StatusOr<RedisReply>& reply) {
  if (absl::Status status = ReplyStatus(reply); !status.ok()) return status;
  if (IsText(*reply) && reply->str == "local") return MsgRoute::kLocal;
  if (IsText(*reply) && reply->str == "sent") return MsgRoute::kSent;
  return Malformed("rc_msg");
}

absl::StatusOr<uint64_t> ParseIntegerReply(const absl::StatusOr<RedisReply>& reply) {
  if (absl::Status status = ReplyStatus(reply); !status.ok()) return status;
  uint64_t value = 0;
  if (!AsCount(*reply, &value)) return Malformed("a counter");
  return value;
}

}  // namespace cluster
}  // namespace roomchat
