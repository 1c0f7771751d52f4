#include "chat/cluster/settings_scripts.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/script_support.h"
#include "chat/protocol/names.h"

namespace roomchat {
namespace cluster {
namespace {

// KEYS: rc:room:<room>, its members, settings, ops, bans
// ARGV: verb, node, room key, asker's nick, its nick key, its account, op here ('1'), target,
// target's key, text, target is a guest nick ('1'), max stream entries, max bans, max operator
// accounts, max rooms an account owns.
// Reply: {target nick, topic, topic by, bans lifted, owner limit hit, the seq of the entry it
// posted (0: none), ban, ban, ...}. Every check before any write (Redis keeps the writes of a
// script that answers an error).
constexpr char kRoomOpBody[] = R"lua(
local verb, node, room, asker, asker_key, asker_account =
    ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local target, target_key, text, max_entries = ARGV[8], ARGV[9], ARGV[10], ARGV[12]
local name = redis.call('HGET', KEYS[1], 'name')
if not name or not held_by(redis.call('HGET', KEYS[2], asker_key), node .. ' ') then
  return redis.error_reply('not-in-room you are no longer in ' .. (name or room))
end
local posted_seq = 0  -- the seq of the entry this command posted (0: none)
local function done(nick, lifted, limit_hit)
  -- A change to an owned room's settings keeps the name the room has now, as one node saves it.
  if verb ~= 'bans' and redis.call('HEXISTS', KEYS[3], 'owner') == 1 then
    redis.call('HSET', KEYS[3], 'name', name)
  end
  return {nick or '', '', '', lifted or 0, limit_hit or 0, posted_seq}
end
if verb == 'show-topic' then
  local topic, topic_by = topic_of(room)
  return {'', topic, topic_by, 0, 0, 0}
end
if not (ARGV[7] == '1' or
        (asker_account ~= '' and redis.call('SISMEMBER', KEYS[4], asker_account) == 1)) then
  return redis.error_reply('not-op you are not an operator of ' .. name)
end
local owner = redis.call('HGET', KEYS[3], 'owner') or ''
-- A member's node and nick as the room knows it; nil if it is not one.
local function member(nick_key)
  local held = redis.call('HGET', KEYS[2], nick_key)
  if not held then return nil end
  return string.match(held, '^(%S+) (.*)$')
end
-- A nick holder's account key ('' none) and address ('' unknown), from rc_nick's value.
local function holder(nick_key)
  local account, address =
      string.match(redis.call('GET', 'rc:nick:' .. nick_key) or '', '^%S+ %S+ %S+ (%S+) (%S+)')
  if not account or account == '-' then account = '' end
  if not address or address == '-' then address = '' end
  return account, address
end
local function post_entry(kind, body)
  posted_seq = room_post(room, max_entries, node, kind, body)[2]
end
local function kick(at, nick, reason)
  redis.call('HDEL', KEYS[2], target_key)
  redis.call('SREM', 'rc:node:' .. at .. ':members', room .. ' ' .. target_key)
  post_entry('KICK', nick .. ' ' .. asker .. ' ' .. reason)
  close_if_empty(room)
end
-- /ban, as RoomSettings' rules: a logged-in member by account; a guest member by nick (unless a
-- guest nick, which the server hands out again) and address; a nick not in the room by account
-- if one is registered, else by nick.
local function ban_member()
  local at, nick = member(target_key)
  if at and target_key == asker_key then return redis.error_reply('bad-args not yourself') end
  local bans = {}
  if at then
    local account, address = holder(target_key)
    if account ~= '' then
      bans = {'account ' .. account}
    else
      if ARGV[11] ~= '1' then table.insert(bans, 'nick ' .. target_key) end
      if address ~= '' then table.insert(bans, 'address ' .. address) end
    end
  elseif redis.call('EXISTS', 'rc:acct:' .. target_key) == 1 then
    bans = {'account ' .. target_key}
  elseif ARGV[11] ~= '1' then
    bans = {'nick ' .. target_key}
  end
  if #bans == 0 then
    return redis.error_reply('no-such-nick ' .. target .. ' is not here; a guest is banned by ' ..
                             'its address, while it is in the room')
  end
  for _, ban in ipairs(bans) do
    if owner ~= '' and ban == 'account ' .. owner then
      return redis.error_reply('not-op ' .. target .. ' owns ' .. name)
    end
  end
  local max_bans = tonumber(ARGV[13])
  if redis.call('LLEN', KEYS[5]) + #bans > max_bans then
    return redis.error_reply(string.format('limit %s holds its maximum of %d bans', name,
                                           max_bans))
  end
  local listed = {}
  for _, ban in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
    listed[string.match(ban, '^(%S+ %S+)')] = true
  end
  for _, ban in ipairs(bans) do
    local kind, value = string.match(ban, '^(%S+) (%S+)$')
    if kind == 'account' then redis.call('SREM', KEYS[4], value) end
    if not listed[ban] then redis.call('RPUSH', KEYS[5], ban .. ' ' .. asker) end
  end
  if at then kick(at, nick, 'banned') end
  return done(nick)
end
if verb == 'topic' then
  local topic = text == '-' and '' or text
  redis.call('HSET', KEYS[3], 'topic', topic, 'topic_by', asker)
  post_entry('TOPIC', asker .. ' ' .. topic)
  return done()
elseif verb == 'key' then
  if text == '-' then redis.call('HDEL', KEYS[3], 'key') else redis.call('HSET', KEYS[3], 'key', text) end
  return done()
elseif verb == 'bans' then
  local out = done()
  for _, ban in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do table.insert(out, ban) end
  return out
elseif verb == 'unban' then
  local lifted = 0
  for _, ban in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
    local kind, value = string.match(ban, '^(%S+) (%S+)')
    if (kind == 'address' and value == target) or (kind ~= 'address' and value == target_key) then
      lifted = lifted + redis.call('LREM', KEYS[5], 1, ban)
    end
  end
  if lifted == 0 then return redis.error_reply('bad-args no ban matches ' .. target) end
  return done('', lifted)
elseif verb == 'ban' then
  return ban_member()
end
local at, nick = member(target_key)
if not at then return redis.error_reply('no-such-nick ' .. target .. ' is not in ' .. name) end
local account = holder(target_key)
local is_owner = owner ~= '' and account == owner
if verb == 'op' then
  local limit_hit = 0
  if account ~= '' and redis.call('SISMEMBER', KEYS[4], account) == 0 then
    if redis.call('SCARD', KEYS[4]) >= tonumber(ARGV[14]) then
      return redis.error_reply('limit too many operator accounts')
    end
    limit_hit = add_op_account(room, name, account, tonumber(ARGV[15]))
  end
  post_entry('OP', nick .. ' ' .. asker .. ' ' .. (account == '' and 'guest' or 'account'))
  return done(nick, 0, limit_hit)
elseif verb == 'deop' then
  if is_owner then
    return redis.error_reply('not-op ' .. target .. ' owns ' .. name .. ' and stays operator')
  end
  if account ~= '' then redis.call('SREM', KEYS[4], account) end
  post_entry('DEOP', nick .. ' ' .. asker)
  return done(nick)
elseif verb == 'kick' then
  if target_key == asker_key then return redis.error_reply('bad-args to leave, /leave') end
  if is_owner then return redis.error_reply('not-op ' .. target .. ' owns ' .. name) end
  kick(at, nick, text)
  return done(nick)
end
return redis.error_reply('bad-args unknown room operation ' .. verb)
)lua";

const char* VerbName(RoomOp::Verb verb) {
  switch (verb) {
    case RoomOp::Verb::kShowTopic: return "show-topic";
    case RoomOp::Verb::kTopic: return "topic";
    case RoomOp::Verb::kKey: return "key";
    case RoomOp::Verb::kOp: return "op";
    case RoomOp::Verb::kDeop: return "deop";
    case RoomOp::Verb::kKick: return "kick";
    case RoomOp::Verb::kBan: return "ban";
    case RoomOp::Verb::kUnban: return "unban";
    case RoomOp::Verb::kBans: return "bans";
  }
  return "";
}

const Script& RoomOpScriptText() {
  static const Script* const script = NewRoomScript(kRoomOpBody);
  return *script;
}

}  // namespace

std::string RoomOpScript() { return RoomOpScriptText().text; }

std::vector<std::string> RoomOpCommand(const NodeIdentity& self, const RoomOp& op,
                                       size_t max_entries) {
  const std::string& room = op.room_key;
  return Evalsha(RoomOpScriptText(),
                 {RoomKey(room), RoomMembersKey(room), RoomSettingsKey(room), RoomOpsKey(room),
                  RoomBansKey(room)},
                 {VerbName(op.verb), self.node, room, op.nick, NameKey(op.nick), op.account,
                  op.op_here ? "1" : "0", op.target, NameKey(op.target), op.text,
                  IsGuestNick(op.target) ? "1" : "0", absl::StrCat(max_entries),
                  absl::StrCat(RoomSettings::kMaxBans), absl::StrCat(RoomSettings::kMaxOpAccounts),
                  absl::StrCat(RoomSettings::kMaxOwnedPerAccount)});
}

absl::StatusOr<RoomOpDone> ParseRoomOpReply(const absl::StatusOr<RedisReply>& reply) {
  if (absl::Status status = ReplyStatus(reply); !status.ok()) return status;
  const std::vector<RedisReply>& parts = reply->elements;
  RoomOpDone done;
  uint64_t limit_hit = 0;
  if (reply->type != RedisReply::Type::kArray || parts.size() < 6 || !IsText(parts[0]) ||
      !IsText(parts[1]) || !IsText(parts[2]) || !AsCount(parts[3], &done.lifted) ||
      !AsCount(parts[4], &limit_hit) || !AsCount(parts[5], &done.seq)) {
    return Malformed("rc_room_op");
  }
  done.target = parts[0].str;
  done.topic = parts[1].str;
  done.topic_by = parts[2].str;
  done.owner_limit_hit = limit_hit != 0;
  for (size_t i = 6; i < parts.size(); ++i) {
    std::vector<std::string> fields = absl::StrSplit(parts[i].str, ' ');
    RoomBan ban;
    if (!IsText(parts[i]) || fields.size() != 3 || !RoomBanKindByName(fields[0], &ban.kind)) {
      return Malformed("rc_room_op's bans");
    }
    ban.value = fields[1];
    ban.by = fields[2];
    done.bans.push_back(std::move(ban));
  }
  return done;
}

}  // namespace cluster
}  // namespace roomchat
