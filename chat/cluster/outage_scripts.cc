// rc_prune and rc_register: what a node registers again each time its link comes up
// (docs/CLUSTER.md, "Redis unavailable").
#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/script_support.h"
#include "chat/cluster/scripts.h"
#include "chat/protocol/names.h"

namespace roomchat {
namespace cluster {
namespace {

// rc_prune, after an outage: forgets what Redis holds for this node and the node no longer has.
// ARGV: node, incarnation, max stream entries, M, M "<room> <nick key>" pairs kept, then the nick
// keys kept.
constexpr char kPruneBody[] = R"lua(
local replaced = refuse_if_replaced(ARGV[1], ARGV[2])
if replaced then return replaced end
local node, max_entries, m = ARGV[1], ARGV[3], tonumber(ARGV[4])
local keep_members, keep_nicks = {}, {}
for i = 5, 4 + m do keep_members[ARGV[i]] = true end
for i = 5 + m, #ARGV do keep_nicks[ARGV[i]] = true end
local members_key, nicks_key = 'rc:node:' .. node .. ':members', 'rc:node:' .. node .. ':nicks'
local removed = 0
for _, pair in ipairs(redis.call('SMEMBERS', members_key)) do
  if not keep_members[pair] then
    local space = string.find(pair, ' ', 1, true)
    removed = removed + leave(node, string.sub(pair, 1, space - 1), string.sub(pair, space + 1),
                              max_entries)
    redis.call('SREM', members_key, pair)
  end
end
for _, nick in ipairs(redis.call('SMEMBERS', nicks_key)) do
  if not keep_nicks[nick] then
    if held_by(redis.call('GET', 'rc:nick:' .. nick), node .. ' ') then
      redis.call('DEL', 'rc:nick:' .. nick)
    end
    redis.call('SREM', nicks_key, nick)
  end
end
return removed
)lua";

// rc_register, after an outage: claims a client's nick again and puts it back in its room
// (re-created if Redis lost it; JOIN posted if Redis had no such member). Fails nick-taken if
// someone else holds the nick now. ARGV: node, incarnation, nick key, nick, room key ('' none),
// room name, max stream entries, old nick key ('' none: the member it replaces, renamed with a
// NICK unless another node's client holds that entry now or the room saw it LEAVE), old nick as
// given, account key ('-' none), address ('-' unknown), client id, the epoch the node knew before
// its link came up ('' none: nothing of its clients was ever in Redis), '1' if the old nick's
// entry is its winner's now (a login in the same room on this node: NICK, the entry kept).
// Redis lost its data since then when rc:epoch is another: nobody saw the member go, so no JOIN
// is posted (and a renamed member's room hears NICK, knowing the old nick); else the room's
// other members saw a LEAVE (the node was reaped), or never saw the member: JOIN.
constexpr char kRegisterBody[] = R"lua(
local replaced = refuse_if_replaced(ARGV[1], ARGV[2])
if replaced then return replaced end
local node, nick_key, nick, room = ARGV[1], ARGV[3], ARGV[4], ARGV[5]
local mine = node .. ' ' .. ARGV[2] .. ' '
local lost = ARGV[13] ~= '' and ARGV[13] ~= redis.call('GET', 'rc:epoch')
-- Renamed by the conflict rule: ARGV[8] is the nick the room knew it by.
local renamed = ARGV[8] ~= '' and ARGV[8] ~= nick_key
local held = redis.call('GET', 'rc:nick:' .. nick_key)
if live_holder(held) and not held_by(held, mine) then
  return redis.error_reply('nick-taken ' .. nick .. ' is taken')
end
redis.call('SET', 'rc:nick:' .. nick_key,
           mine .. nick .. ' ' .. ARGV[10] .. ' ' .. ARGV[11] .. ' ' .. ARGV[12])
redis.call('SADD', 'rc:node:' .. node .. ':nicks', nick_key)
if room == '' then return 0 end
if redis.call('EXISTS', 'rc:room:' .. room) == 0 then open_room(room, ARGV[6]) end
local members_key = 'rc:room:' .. room .. ':members'
if renamed and ARGV[14] == '1' then
  add_member(node, room, nick_key, nick, ARGV[7])
  room_post(room, ARGV[7], node, 'NICK', ARGV[9] .. ' ' .. nick)
  return 1
end
if renamed then
  -- The room knew it by the old nick (unless the winner of the nick is in the room and took
  -- the entry, or this node was reaped and the room saw it LEAVE): it hears NICK old new. After
  -- Redis lost its data the room heard nothing and knows the old.
  local old_held = redis.call('HGET', members_key, ARGV[8])
  if (old_held and held_by(old_held, node .. ' ')) or (not old_held and lost) then
    if old_held then
      redis.call('HDEL', members_key, ARGV[8])
      redis.call('SREM', 'rc:node:' .. node .. ':members', room .. ' ' .. ARGV[8])
    end
    add_member(node, room, nick_key, nick, ARGV[7])
    room_post(room, ARGV[7], node, 'NICK', ARGV[9] .. ' ' .. nick)
    return 1
  end
end
if redis.call('HGET', members_key, nick_key) == node .. ' ' .. nick then return 0 end
add_member(node, room, nick_key, nick, ARGV[7])
-- A member renamed by the conflict whose old entry the winner took is new to everyone.
if renamed or not lost then room_post(room, ARGV[7], node, 'JOIN', nick) end
return 1
)lua";

const Script& PruneScript() {
  static const Script* const script = NewRoomScript(kPruneBody);
  return *script;
}
const Script& RegisterScript() {
  static const Script* const script = NewRoomScript(kRegisterBody);
  return *script;
}
}  // namespace

std::vector<std::string> OutageScripts() { return {PruneScript().text, RegisterScript().text}; }

std::vector<std::string> PruneCommand(const NodeIdentity& self,
                                      const std::vector<Registration>& kept, size_t max_entries) {
  std::vector<std::string> args = {self.node, self.incarnation, absl::StrCat(max_entries), "0"};
  size_t members = 0;
  for (const Registration& client : kept) {
    if (client.room_key.empty()) continue;
    args.push_back(absl::StrCat(client.room_key, " ", NameKey(client.nick)));
    ++members;
  }
  args[3] = absl::StrCat(members);
  for (const Registration& client : kept) args.push_back(NameKey(client.nick));
  return Evalsha(PruneScript(), {NodeMembersKey(self.node), NodeNicksKey(self.node)},
                 std::move(args));
}

std::vector<std::string> RegisterCommand(const NodeIdentity& self, const Registration& client,
                                         const std::string& known_epoch, size_t max_entries) {
  std::string nick_key = NameKey(client.nick);
  return Evalsha(RegisterScript(), {NickKey(nick_key), NodeNicksKey(self.node)},
                 {self.node, self.incarnation, nick_key, client.nick, client.room_key,
                  client.room_name, absl::StrCat(max_entries),
                  client.replaces.empty() ? "" : NameKey(client.replaces), client.replaces,
                  client.account.empty() ? "-" : client.account,
                  client.address.empty() ? "-" : client.address, absl::StrCat(client.client),
                  known_epoch, client.entry_taken ? "1" : "0"});
}

}  // namespace cluster
}  // namespace roomchat
