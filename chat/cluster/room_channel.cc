#include "chat/cluster/room_channel.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "chat/cluster/redis_link.h"
#include "chat/protocol/protocol_error.h"

namespace roomchat {
namespace cluster {

// post(room, max entries, retention ms, origin, kind, body), open_room(room, name),
// expire_closed(room), close_if_empty(room) and refuse_if_replaced(node, inc). A room's entries go
// to two streams: its chat lines (MSG) to rc:hist:<room>, its history, and its events (JOIN, LEAVE,
// NICK, ...) to rc:ev:<room>, so that events never push lines out of --history_max_lines and a
// history read walks lines only; a part filling a hole reads both (EntriesBetweenCommand,
// NewestOf). The
// retention ('0': no age limit; '-1': no history, the streams only bridge a node's outages; '': the
// room's, kept in its seq hash, which events use, '-1' for a room without lines yet) trims the
// stream written by age on Redis's clock and sets it to expire that long after its newest entry. A
// room's retention goes from none to kept, never back: a line from a node without history does not
// let the room's history go when it closes. A line is stored with the id of the room's line before
// it (field p, 0 for its first; the seq hash's last_line), so a history read knows exactly which
// line trimming removed last: the one before the oldest kept.
// Lua 5.1 numbers are doubles: exact for ids below 2^53. A missing hash field arrives as false.
const char kPostFunction[] = R"lua(
local function post(room, max_entries, retention, origin, kind, body)
  local seq_key = 'rc:seq:' .. room
  local stream = (kind == 'MSG' and 'rc:hist:' or 'rc:ev:') .. room
  local t = redis.call('TIME')
  local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local state = redis.call('HMGET', seq_key, 'last_id', 'seq', 'retention_ms', 'last_line')
  local id = math.max(tonumber(state[1] or '0') + 1, now_us)
  local seq = tonumber(state[2] or '0') + 1
  local kept_ms = tonumber(state[3] or '-1')
  local keep_ms = tonumber(retention ~= '' and retention or kept_ms)
  if keep_ms < 0 then keep_ms = kept_ms end
  -- id div 1000 and id mod 1000, exact even where id / 1000 rounds (ids near 2^53).
  local ms = math.floor(id / 1000)
  local rem = id - ms * 1000
  if rem < 0 then
    ms = ms - 1; rem = rem + 1000
  elseif rem >= 1000 then
    ms = ms + 1; rem = rem - 1000
  end
  local entry = string.format('1 %d %d %d %s %s %s', seq, id, math.floor(now_us / 1000),
                              origin, kind, body)
  local id_text, stream_id = string.format('%d', id), string.format('%d-%d', ms, rem)
  local seq_text, keep_text = string.format('%d', seq), string.format('%d', keep_ms)
  -- XADD first: if it fails (a stream ahead of the ids), nothing has changed.
  if kind == 'MSG' then
    -- The line before it: none for the room's first; for the first this build posts after an
    -- older one (lines in the stream, no last_line), at most the room's last entry.
    local prev = state[4] or (redis.call('EXISTS', stream) == 1 and state[1]) or '0'
    redis.call('XADD', stream, 'MAXLEN', '~', max_entries, stream_id, 'e', entry, 'p', prev)
    redis.call('HSET', seq_key, 'last_id', id_text, 'seq', seq_text, 'retention_ms', keep_text,
               'last_line', id_text)
  else
    redis.call('XADD', stream, 'MAXLEN', '~', max_entries, stream_id, 'e', entry)
    redis.call('HSET', seq_key, 'last_id', id_text, 'seq', seq_text, 'retention_ms', keep_text)
  end
  if keep_ms > 0 then
    redis.call('XTRIM', stream, 'MINID', '~',
               string.format('%d-0', math.floor(now_us / 1000) - keep_ms))
    -- The stream goes once its newest entry is past the retention, if nothing is posted by then.
    redis.call('PEXPIRE', stream, keep_ms)
  elseif kept_ms > 0 or kind ~= 'MSG' then
    -- An age limit set before and lifted since; the events of a room opened again after it
    -- closed (expire_closed).
    redis.call('PERSIST', stream)
  end
  redis.call('PUBLISH', 'rc:ch:room:' .. room, entry)
  return {id, seq}
end
-- Opens `room` (called name): its hash and place in rc:rooms (its seq is kept for good again
-- once a member is added: add_member).
local function open_room(room, name)
  local t = redis.call('TIME')
  redis.call('HSET', 'rc:room:' .. room, 'name', name, 'created_ms',
             string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
  redis.call('ZADD', 'rc:rooms', 0, room)
end
-- What a closed room leaves: its seq (seqs go on from it if the room opens again) outlives it by
-- its retention, and by an hour at least: past any part of it still closing on a node (a node cut
-- off for longer resynchronizes, and takes seqs starting again). Its streams go without history;
-- with history, its lines expire by the retention, and stay with history kept for good (0), as the
-- seq does, and its events, which only bridge outages, go within the hour.
local function expire_closed(room)
  local seq_key, ev_key = 'rc:seq:' .. room, 'rc:ev:' .. room
  local keep_ms = tonumber(redis.call('HGET', seq_key, 'retention_ms') or '-1')
  if keep_ms < 0 then
    redis.call('DEL', 'rc:hist:' .. room, ev_key)
  else
    local ttl = redis.call('PTTL', ev_key)  -- (PEXPIRE's LT needs Redis 7)
    if ttl == -1 or ttl > 3600000 then redis.call('PEXPIRE', ev_key, 3600000) end
  end
  if keep_ms == 0 then
    redis.call('PERSIST', seq_key)  -- a late line that made the room's history kept for good
  else
    redis.call('PEXPIRE', seq_key, math.max(keep_ms, 3600000))
  end
end
-- Closes `room` once its last member is gone: its hash, members and place in rc:rooms go, and its
-- settings unless an account owns it (a registered room keeps them); expire_closed.
local function close_if_empty(room)
  local members_key = 'rc:room:' .. room .. ':members'
  if redis.call('HLEN', members_key) > 0 then return end
  redis.call('DEL', 'rc:room:' .. room, members_key)
  redis.call('ZREM', 'rc:rooms', room)
  expire_closed(room)
  local settings_key = 'rc:room:' .. room .. ':settings'
  if not redis.call('HGET', settings_key, 'owner') then
    redis.call('DEL', settings_key, 'rc:room:' .. room .. ':ops', 'rc:room:' .. room .. ':bans')
  end
end
-- The error a script answers node's process inc with when a newer process of node took its id
-- over (its key holds a later incarnation: they begin with the start time), else nil. A process
-- refused so writes nothing for the id; its next heartbeat fences it.
local function refuse_if_replaced(node, inc)
  local holder = redis.call('GET', 'rc:node:' .. node)
  if holder and holder > inc then
    return redis.error_reply('unavailable this server left the cluster (its node id was taken over)')
  end
  return nil
end
-- Whether value (a member's "<node> ...", a nick key's "<node> <inc> ...") starts with prefix:
-- "<node> " for node's, "<node> <inc> " for node's process inc.
local function held_by(value, prefix)
  return value and string.sub(value, 1, #prefix) == prefix
end
-- The node holding a nick key's value "<node> <inc> ...", or nil: nobody holds a nick whose
-- node's key is gone or names another incarnation (the node died or was replaced; the reaper
-- deletes the value, which has no expiry of its own).
local function live_holder(held)
  if not held then return nil end
  local node, inc = string.match(held, '^(%S+) (%S+) ')
  if node and redis.call('GET', 'rc:node:' .. node) == inc then return node end
  return nil
end
)lua";

// KEYS[1] rc:seq:<room>, KEYS[2] rc:hist:<room>, KEYS[3] rc:ev:<room>, KEYS[4] rc:room:<room>
// ARGV: the room's key, max entries, retention ms ('0': none), origin, kind, body, origin's incarnation,
// the poster's nick key ('': none). A process whose node id another took over posts nothing (its
// clients' nicks may be others' now). A member Redis has out of the room (kicked, banned: its
// node had not heard it yet) says nothing more there, as on one node: "not-in-room <the room's
// seq> <text>".
// A line that comes after its room closed (posted before a kick or the last leave was answered)
// leaves what a closed room leaves.
constexpr char kPostBody[] = R"lua(
local replaced = refuse_if_replaced(ARGV[4], ARGV[7])
if replaced then return replaced end
if ARGV[8] ~= '' then
  if not held_by(redis.call('HGET', KEYS[4] .. ':members', ARGV[8]), ARGV[4] .. ' ') then
    return redis.error_reply('not-in-room ' .. (redis.call('HGET', KEYS[1], 'seq') or '0') ..
                             ' $NOT_IN_ROOM')
  end
end
local posted = post(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
if redis.call('EXISTS', KEYS[4]) == 0 then expire_closed(ARGV[1]) end
return posted
)lua";
const std::string& PostScript() {
  static const std::string* const script = new std::string(absl::StrCat(
      kPostFunction, absl::StrReplaceAll(kPostBody, {{"$NOT_IN_ROOM", kNoLongerHadYou}})));
  return *script;
}

namespace {
constexpr absl::string_view kRefusedAtSeqUrl = "roomchat/refused-at-seq";
}  // namespace

std::optional<absl::Status> PostRefusal(const RedisReply& reply) {
  absl::string_view text = reply.str;
  if (reply.type != RedisReply::Type::kError || !absl::ConsumePrefix(&text, "not-in-room ")) {
    return std::nullopt;
  }
  const size_t space = text.find(' ');
  uint64_t seq = 0;
  if (space == absl::string_view::npos || !absl::SimpleAtoi(text.substr(0, space), &seq)) {
    return std::nullopt;
  }
  absl::Status refusal = ProtocolError(ErrorCode::kNotInRoom, text.substr(space + 1));
  refusal.SetPayload(kRefusedAtSeqUrl, absl::Cord(absl::StrCat(seq)));
  return refusal;
}

uint64_t RefusedAtSeq(const absl::Status& refusal) {
  absl::optional<absl::Cord> payload = refusal.GetPayload(kRefusedAtSeqUrl);
  uint64_t seq = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &seq)) return 0;
  return seq;
}

std::string RoomChannel(absl::string_view room_key) {
  return absl::StrCat(kRoomChannelPrefix, room_key);
}
std::string SeqKey(absl::string_view room_key) { return absl::StrCat("rc:seq:", room_key); }
std::string HistoryKey(absl::string_view room_key) { return absl::StrCat("rc:hist:", room_key); }
std::string EventsKey(absl::string_view room_key) { return absl::StrCat("rc:ev:", room_key); }
std::string RoomKey(absl::string_view room_key) { return absl::StrCat("rc:room:", room_key); }

std::string StreamId(uint64_t id) { return absl::StrCat(id / 1000, "-", id % 1000); }

std::vector<std::string> EntriesBetweenCommand(absl::string_view stream_key, uint64_t after_id,
                                               uint64_t before_id, size_t max) {
  return {"XREVRANGE", std::string(stream_key),
          before_id == 0 ? "+" : absl::StrCat("(", StreamId(before_id)),
          absl::StrCat("(", StreamId(after_id)), "COUNT", absl::StrCat(max)};
}

std::vector<RoomEntry> NewestOf(std::vector<RoomEntry> lines, std::vector<RoomEntry> events,
                                size_t max) {
  std::vector<RoomEntry> merged;
  merged.reserve(lines.size() + events.size());
  std::merge(std::make_move_iterator(lines.begin()), std::make_move_iterator(lines.end()),
             std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()),
             std::back_inserter(merged),
             [](const RoomEntry& a, const RoomEntry& b) { return a.id < b.id; });
  if (merged.size() > max) merged.erase(merged.begin(), merged.end() - max);
  return merged;
}

absl::StatusOr<std::vector<RoomEntry>> ParseEntriesReply(const absl::StatusOr<RedisReply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kArray) {
    return absl::InternalError(absl::StrCat("XREVRANGE answered ", reply->str));
  }
  std::vector<RoomEntry> entries;
  for (const RedisReply& item : reply->elements) {
    // [stream id, [field, value, ...]]; the entry is the value of field "e".
    if (item.elements.size() != 2 || item.elements[1].elements.size() < 2) continue;
    absl::StatusOr<RoomEntry> entry = ParseRoomEntry(item.elements[1].elements[1].str);
    if (entry.ok()) entries.push_back(*std::move(entry));
  }
  std::reverse(entries.begin(), entries.end());  // XREVRANGE answers newest first
  return entries;
}

absl::StatusOr<RoomEntry> ParseRoomEntry(absl::string_view payload) {
  // version, seq, id, time, origin, kind, body (the body may be empty and hold spaces).
  std::vector<absl::string_view> parts = absl::StrSplit(payload, absl::MaxSplits(' ', 6));
  if (parts.size() < 6) return absl::InvalidArgumentError("room entry: too few fields");
  if (parts[0] != "1") return absl::InvalidArgumentError("room entry: unknown version");
  RoomEntry entry;
  if (!absl::SimpleAtoi(parts[1], &entry.seq) || !absl::SimpleAtoi(parts[2], &entry.id) ||
      !absl::SimpleAtoi(parts[3], &entry.time_ms)) {
    return absl::InvalidArgumentError("room entry: bad number");
  }
  if (parts[4].empty() || parts[5].empty()) {
    return absl::InvalidArgumentError("room entry: empty origin or kind");
  }
  entry.origin = std::string(parts[4]);
  entry.kind = std::string(parts[5]);
  if (parts.size() == 7) entry.body = std::string(parts[6]);
  return entry;
}

std::string ChatBody(uint64_t sender, absl::string_view nick, absl::string_view text) {
  return absl::StrCat(sender, " ", nick, " ", text);
}

std::optional<ChatLine> ParseChatLine(const RoomEntry& entry) {
  if (entry.kind != "MSG") return std::nullopt;
  std::vector<absl::string_view> parts = absl::StrSplit(entry.body, absl::MaxSplits(' ', 2));
  ChatLine chat;
  if (parts.size() != 3 || parts[1].empty() || !absl::SimpleAtoi(parts[0], &chat.sender)) {
    return std::nullopt;
  }
  chat.nick = std::string(parts[1]);
  chat.text = std::string(parts[2]);
  return chat;
}

std::string FormatRoomEntry(const RoomEntry& entry) {
  return absl::StrCat("1 ", entry.seq, " ", entry.id, " ", entry.time_ms, " ", entry.origin, " ",
                      entry.kind, " ", entry.body);
}

std::vector<std::string> PostCommand(const PostRequest& request) {
  std::string retention = absl::StrCat(request.retention_ms);
  static const std::string* const sha = new std::string(RedisLink::ScriptSha(PostScript()));
  return {"EVALSHA",
          *sha,
          "4",
          SeqKey(request.room_key),
          HistoryKey(request.room_key),
          EventsKey(request.room_key),
          RoomKey(request.room_key),
          request.room_key,
          absl::StrCat(request.max_entries),
          std::move(retention),
          request.origin,
          request.kind,
          request.body,
          request.incarnation,
          request.poster_key};
}

}  // namespace cluster
}  // namespace roomchat
