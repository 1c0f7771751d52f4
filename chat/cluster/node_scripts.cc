#include "chat/cluster/node_scripts.h"

#include "absl/strings/str_cat.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"

namespace roomchat {
namespace cluster {
namespace {

// KEYS[1] rc:nodes, KEYS[2] rc:node:<node>
// ARGV[1] node, ARGV[2] incarnation, ARGV[3] node key ms
// The work is the same however many nicks the node holds: they live while its key does.
// Returns the nodes whose key is gone; this node among them when its own key was gone before
// this beat (it was reaped, or beat too late, or Redis lost its data). An error "REPLACED <inc>"
// when the key holds a later incarnation: a newer process took this node's id over. (A key of an
// earlier one, as after a failover to a replica that missed the takeover, is taken back.)
constexpr char kHeartbeatScript[] = R"lua(
local holder = redis.call('GET', KEYS[2])
if holder and holder > ARGV[2] then return redis.error_reply('REPLACED ' .. holder) end
local dead = {}
if redis.call('EXISTS', KEYS[2]) == 0 then table.insert(dead, ARGV[1]) end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[1], ARGV[1])
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', 'rc:node:' .. node) == 0 then table.insert(dead, node) end
end
return dead
)lua";

// KEYS[1] rc:nodes, KEYS[2] rc:node:<dead>, KEYS[3] its nicks, KEYS[4] its members
// ARGV[1] dead node, ARGV[2] reaper, ARGV[3] max stream entries, ARGV[4] takeover incarnation,
// ARGV[5] node key ms (a takeover claims the key at once: the old process's next heartbeat finds
// it held by another incarnation and stops)
constexpr char kReapBody[] = R"lua(
local alive = redis.call('GET', KEYS[2])
if alive and (ARGV[4] == '' or alive == ARGV[4]) then return -1 end
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5]) end
-- Its /msgs were for clients of a process that is gone (node_inbox.h).
redis.call('DEL', 'rc:inbox:' .. ARGV[1])
local known = redis.call('SREM', KEYS[1], ARGV[1]) == 1
-- A takeover registers the node at once: the nicks it claims next are reaped if it dies.
if ARGV[4] ~= '' then redis.call('SADD', KEYS[1], ARGV[1]) end
local members = redis.call('SMEMBERS', KEYS[4])
if not known and #members == 0 and redis.call('SCARD', KEYS[3]) == 0 then return -2 end
for _, pair in ipairs(members) do
  local space = string.find(pair, ' ', 1, true)
  local room, nick = string.sub(pair, 1, space - 1), string.sub(pair, space + 1)
  local members_key = 'rc:room:' .. room .. ':members'
  local held = redis.call('HGET', members_key, nick)
  if held and string.sub(held, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then
    redis.call('HDEL', members_key, nick)
    post(room, ARGV[3], '', ARGV[2], 'LEAVE', string.sub(held, #ARGV[1] + 2))
    close_if_empty(room)
  end
end
for _, nick in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local held = redis.call('GET', 'rc:nick:' .. nick)
  if held and string.sub(held, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then
    redis.call('DEL', 'rc:nick:' .. nick)
  end
end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('PUBLISH', 'rc:ch:cluster', 'reaped ' .. ARGV[1])
return #members
)lua";

}  // namespace

const std::string& HeartbeatScript() {
  static const std::string* const script = new std::string(kHeartbeatScript);
  return *script;
}

const std::string& ReapScript() {
  static const std::string* const script = new std::string(absl::StrCat(kPostFunction, kReapBody));
  return *script;
}

std::string NodeKey(absl::string_view node) { return absl::StrCat("rc:node:", node); }
std::string NodeNicksKey(absl::string_view node) {
  return absl::StrCat("rc:node:", node, ":nicks");
}
std::string NodeMembersKey(absl::string_view node) {
  return absl::StrCat("rc:node:", node, ":members");
}
std::string NickKey(absl::string_view nick_key) { return absl::StrCat("rc:nick:", nick_key); }
std::string RoomSettingsKey(absl::string_view room_key) {
  return absl::StrCat("rc:room:", room_key, ":settings");
}
std::string RoomOpsKey(absl::string_view room_key) {
  return absl::StrCat("rc:room:", room_key, ":ops");
}
std::string RoomBansKey(absl::string_view room_key) {
  return absl::StrCat("rc:room:", room_key, ":bans");
}
std::string RoomMembersKey(absl::string_view room_key) {
  return absl::StrCat("rc:room:", room_key, ":members");
}

NodeTimes TimesForTtl(std::chrono::milliseconds ttl) { return {ttl / 5, ttl * 3 / 5}; }

std::vector<std::string> HeartbeatCommand(absl::string_view node, absl::string_view incarnation,
                                          const NodeTimes& times) {
  static const std::string* const sha = new std::string(RedisLink::ScriptSha(HeartbeatScript()));
  return {"EVALSHA",
          *sha,
          "2",
          kNodesKey,
          NodeKey(node),
          std::string(node),
          std::string(incarnation),
          absl::StrCat(times.node_key.count())};
}

namespace {

std::vector<std::string> ReapArgv(absl::string_view reaper, absl::string_view dead,
                                  size_t max_entries, absl::string_view takeover,
                                  std::string node_key_ms) {
  static const std::string* const sha = new std::string(RedisLink::ScriptSha(ReapScript()));
  return {"EVALSHA",
          *sha,
          "4",
          kNodesKey,
          NodeKey(dead),
          NodeNicksKey(dead),
          NodeMembersKey(dead),
          std::string(dead),
          std::string(reaper),
          absl::StrCat(max_entries),
          std::string(takeover),
          std::move(node_key_ms)};
}

}  // namespace

std::vector<std::string> ReapCommand(absl::string_view reaper, absl::string_view dead,
                                     size_t max_entries) {
  return ReapArgv(reaper, dead, max_entries, "", "");
}

std::vector<std::string> TakeOverCommand(absl::string_view node, absl::string_view incarnation,
                                         size_t max_entries, const NodeTimes& times) {
  return ReapArgv(node, node, max_entries, incarnation, absl::StrCat(times.node_key.count()));
}

}  // namespace cluster
}  // namespace roomchat
