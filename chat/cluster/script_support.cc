#include "chat/cluster/script_support.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"
#include "chat/protocol/protocol_error.h"

namespace roomchat {
namespace cluster {
namespace {

// Functions the room scripts share, after rc_post's post() and its own helpers (held_by, ...).
constexpr char kSharedFunctions[] = R"lua(
local function room_post(room, max_entries, node, kind, body)
  return post(room, max_entries, '', node, kind, body)
end
-- A room with a member keeps its seq for good (close_if_empty lets it expire). An entry of the
-- nick's on another node (a dead node's, whose nick was free to claim, or one a login took the
-- nick from) leaves first, so the room hears it go before it hears the new holder.
local function add_member(node, room, nick_key, nick, max_entries)
  local members_key = 'rc:room:' .. room .. ':members'
  local old = redis.call('HGET', members_key, nick_key)
  if old and not held_by(old, node .. ' ') then
    local other = string.match(old, '^(%S+) ')
    redis.call('SREM', 'rc:node:' .. other .. ':members', room .. ' ' .. nick_key)
    room_post(room, max_entries, node, 'LEAVE', string.sub(old, #other + 2))
  end
  redis.call('HSET', members_key, nick_key, node .. ' ' .. nick)
  redis.call('SADD', 'rc:node:' .. node .. ':members', room .. ' ' .. nick_key)
  redis.call('PERSIST', 'rc:seq:' .. room)
end
-- nil when a visitor may enter room (called name; the errors of an owned room call it by the
-- name it was registered under, as one node does), else the error reply: an operator account
-- always may; a ban matching its account (or the one it was last logged in to), nick key or
-- address refuses it (banned); a key it did not give refuses it (bad-key). RoomSettings'
-- AdmitToRoom, over the room's settings in Redis.
local function admit(room, name, account, former, nick_key, address, key)
  local base = 'rc:room:' .. room
  if account ~= '' and redis.call('SISMEMBER', base .. ':ops', account) == 1 then return nil end
  name = redis.call('HGET', base .. ':settings', 'name') or name
  for _, ban in ipairs(redis.call('LRANGE', base .. ':bans', 0, -1)) do
    local kind, value = string.match(ban, '^(%S+) (%S+)')
    if (kind == 'account' and (value == account or value == former)) or
        (kind == 'nick' and value == nick_key) or (kind == 'address' and value == address) then
      return redis.error_reply('banned you are banned from ' .. name)
    end
  end
  local want = redis.call('HGET', base .. ':settings', 'key')
  if want and want ~= key then
    if key == '' then
      return redis.error_reply('bad-key ' .. name .. ' needs a key: /join ' .. name .. ' KEY')
    end
    return redis.error_reply('bad-key wrong key for ' .. name)
  end
  return nil
end
-- Makes account an operator account of room (called name). The first of a room nobody owns
-- becomes its owner (the room is kept while closed, under the name it has now) unless it owns
-- max_owned rooms already: then 1.
local function add_op_account(room, name, account, max_owned)
  local base = 'rc:room:' .. room
  redis.call('SADD', base .. ':ops', account)
  if redis.call('HGET', base .. ':settings', 'owner') then return 0 end
  if redis.call('SCARD', 'rc:owned:' .. account) >= max_owned then return 1 end
  redis.call('HSET', base .. ':settings', 'owner', account, 'name', name)
  redis.call('SADD', 'rc:owned:' .. account, room)
  return 0
end
-- The topic and who set it ('' when none).
local function topic_of(room)
  local topic = redis.call('HMGET', 'rc:room:' .. room .. ':settings', 'topic', 'topic_by')
  return topic[1] or '', topic[2] or ''
end
-- Removes node's member nick_key from room (LEAVE posted; the room closed if it emptied). 1 if it
-- was node's member, else 0.
local function leave(node, room, nick_key, max_entries)
  local members_key = 'rc:room:' .. room .. ':members'
  local held = redis.call('HGET', members_key, nick_key)
  if not held_by(held, node .. ' ') then return 0 end
  redis.call('HDEL', members_key, nick_key)
  redis.call('SREM', 'rc:node:' .. node .. ':members', room .. ' ' .. nick_key)
  room_post(room, max_entries, node, 'LEAVE', string.sub(held, #node + 2))
  close_if_empty(room)
  return 1
end
)lua";

// The ErrorCode whose wire name is `name`, if any.
bool ErrorCodeNamed(absl::string_view name, ErrorCode* code) {
  for (ErrorCode candidate : kAllErrorCodes) {
    if (ErrorCodeName(candidate) == name) {
      *code = candidate;
      return true;
    }
  }
  return false;
}

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

// OK for a reply that is not an error; else what the caller should see: the script's
// ProtocolError, an internal error for any other error reply, or ERR unavailable for a link down.
absl::Status ReplyStatus(const absl::StatusOr<RedisReply>& reply) {
  if (!reply.ok()) {
    return ProtocolError(ErrorCode::kUnavailable, "the cluster is unavailable; try again");
  }
  if (reply->type != RedisReply::Type::kError) return absl::OkStatus();
  absl::string_view text = reply->str;
  size_t space = text.find(' ');
  ErrorCode code;
  if (space != absl::string_view::npos && ErrorCodeNamed(text.substr(0, space), &code)) {
    return ProtocolError(code, text.substr(space + 1));
  }
  if (ErrorCodeNamed(text, &code)) return ProtocolError(code, "");
  return absl::InternalError(absl::StrCat("cluster script: ", text));
}

absl::Status Malformed(absl::string_view what) {
  return absl::InternalError(absl::StrCat("cluster script: malformed reply to ", what));
}

// A reply element that is a non-negative integer.
bool AsCount(const RedisReply& element, uint64_t* count) {
  if (element.type != RedisReply::Type::kInteger || element.integer < 0) return false;
  *count = static_cast<uint64_t>(element.integer);
  return true;
}

bool IsText(const RedisReply& element) {
  return element.type == RedisReply::Type::kString || element.type == RedisReply::Type::kStatus;
}

}  // namespace cluster
}  // namespace roomchat
