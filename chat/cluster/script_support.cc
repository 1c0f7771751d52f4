#include "chat/cluster/script_support.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"

namespace roomchat {
namespace cluster {
namespace {

// Functions the room scripts share, after rc_post's post(). A value "<node> ..." is node's when it
// starts with "<node> "; a nick key's value is node's and incarnation's with "<node> <inc> ".
constexpr char kSharedFunctions[] = R"lua(
local function held_by(value, prefix)
  return value and string.sub(value, 1, #prefix) == prefix
end
local function room_post(room, max_entries, node, kind, body)
  return post('rc:seq:' .. room, 'rc:hist:' .. room, 'rc:ch:room:' .. room, max_entries, '0',
              node, kind, body)
end
local function add_member(node, room, nick_key, nick)
  redis.call('HSET', 'rc:room:' .. room .. ':members', nick_key, node .. ' ' .. nick)
  redis.call('SADD', 'rc:node:' .. node .. ':members', room .. ' ' .. nick_key)
end
-- Removes node's member nick_key from room (LEAVE posted; the room closed if it emptied; its seq
-- and stream kept). 1 if it was node's member, else 0.
local function leave(node, room, nick_key, max_entries)
  local members_key = 'rc:room:' .. room .. ':members'
  local held = redis.call('HGET', members_key, nick_key)
  if not held_by(held, node .. ' ') then return 0 end
  redis.call('HDEL', members_key, nick_key)
  redis.call('SREM', 'rc:node:' .. node .. ':members', room .. ' ' .. nick_key)
  room_post(room, max_entries, node, 'LEAVE', string.sub(held, #node + 2))
  if redis.call('HLEN', members_key) == 0 then
    redis.call('DEL', 'rc:room:' .. room, members_key)
    redis.call('ZREM', 'rc:rooms', room)
  end
  return 1
end
)lua";

}  // namespace

Script* NewScript(std::string text) {
  std::string sha = RedisLink::ScriptSha(text);
  return new Script{std::move(text), std::move(sha)};
}

// A room script: post() and the shared functions, then its body.
Script* NewRoomScript(const char* body) {
  return NewScript(absl::StrCat(kPostFunction, kSharedFunctions, body));
}


// EVALSHA <sha> <number of keys> keys... args...
std::vector<std::string> Evalsha(const Script& script, std::vector<std::string> keys,
                                 std::vector<std::string> args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha);
  argv.push_back(absl::StrCat(keys.size()));
  for (std::string& key : keys) argv.push_back(std::move(key));
  for (std::string& arg : args) argv.push_back(std::move(arg));
  return argv;
}

}  // namespace cluster
}  // namespace roomchat
