#include "chat/cluster/cluster_history.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/script_support.h"
#include "chat/history/recent_lines.h"
#include "glog/logging.h"

namespace roomchat {
namespace {

// Shared by the history scripts: the retention's trim, what retention or the cap removed, and a
// read of the lines. KEYS[1] rc:hist:<room> (the room's lines only: its events are in rc:ev), KEYS[2]
// rc:seq:<room>.
constexpr char kHistoryFunctions[] = R"lua(
-- Lines older than the retention (ms, on Redis's clock; '0': none) and past the newest max_lines
-- go before any read, exactly, as one node's store keeps them: rc_post trims approximately (whole
-- macro-nodes, so up to ~100 more), and an idle room's stream is trimmed by its readers.
local function trim_to_limits(hist, retention, max_lines)
  redis.call('XTRIM', hist, 'MAXLEN', max_lines)
  local keep_ms = tonumber(retention)
  if keep_ms <= 0 then return end
  local t = redis.call('TIME')
  local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('XTRIM', hist, 'MINID', string.format('%d-0', now_ms - keep_ms))
end
-- The id of the last line trimming removed: the one before the oldest line kept (its field p; 0
-- when it is the room's first); the room's last line when none is kept. An entry an older build
-- wrote has no p: trimmed, as that build judged it, if it is not seq 1 (the id just below it).
local function trimmed_to(hist, seq_key)
  local oldest = redis.call('XRANGE', hist, '-', '+', 'COUNT', 1)
  if #oldest == 0 then return tonumber(redis.call('HGET', seq_key, 'last_line') or '0') end
  local fields = oldest[1][2]
  if fields[3] == 'p' then return tonumber(fields[4]) end
  local seq, id = string.match(fields[2], '^1 (%d+) (%d+) ')
  if seq and tonumber(seq) > 1 then return tonumber(id) - 1 end
  return 0
end
-- Up to `want` lines from `from` towards `to`: one range read. (A stream an older build wrote
-- holds events among its lines: they are skipped, and the read goes on past them.)
local function read_lines(verb, hist, from, to, want)
  local found, ask = {}, want
  while #found < want do
    local batch = redis.call(verb, hist, from, to, 'COUNT', ask)
    for _, item in ipairs(batch) do
      if #found < want and string.match(item[2][2], '^1 %d+ %d+ %-?%d+ %S+ MSG ') then
        table.insert(found, item[2][2])
      end
    end
    if #batch < ask then break end
    from = '(' .. batch[#batch][1]
    ask = 256
  end
  return found
end
)lua";

// ARGV: limit, the end ('+' or '(<stream id>'), the retention in ms ('0': none), the most lines
// kept. Reply
// {last_id, trimmed_to, newest entries oldest first...}.
constexpr char kNewestBody[] = R"lua(
trim_to_limits(KEYS[1], ARGV[3], ARGV[4])
local found = read_lines('XREVRANGE', KEYS[1], ARGV[2], '-', tonumber(ARGV[1]))
local reply = {string.format('%d', tonumber(redis.call('HGET', KEYS[2], 'last_id') or '0')),
               string.format('%d', trimmed_to(KEYS[1], KEYS[2]))}
for i = #found, 1, -1 do table.insert(reply, found[i]) end
return reply
)lua";

// ARGV: limit, the start ('(<stream id>'), the retention in ms ('0': none), the most lines kept.
// Reply
// {trimmed_to, oldest entries after it...}.
constexpr char kAfterBody[] = R"lua(
trim_to_limits(KEYS[1], ARGV[3], ARGV[4])
local found = read_lines('XRANGE', KEYS[1], ARGV[2], '+', tonumber(ARGV[1]))
local reply = {string.format('%d', trimmed_to(KEYS[1], KEYS[2]))}
for _, payload in ipairs(found) do table.insert(reply, payload) end
return reply
)lua";

const cluster::Script& NewestScript() {
  static const cluster::Script* const script =
      cluster::NewScript(absl::StrCat(kHistoryFunctions, kNewestBody));
  return *script;
}
const cluster::Script& AfterScript() {
  static const cluster::Script* const script =
      cluster::NewScript(absl::StrCat(kHistoryFunctions, kAfterBody));
  return *script;
}

}  // namespace

std::vector<std::string> ClusterHistory::Evalsha(const cluster::Script& script,
                                                 const std::string& room_key, size_t limit,
                                                 std::string bound) const {
  return cluster::Evalsha(script, {cluster::HistoryKey(room_key), cluster::SeqKey(room_key)},
                          {absl::StrCat(limit), std::move(bound), retention_ms_, max_lines_});
}

namespace {

absl::Status Failed(const absl::StatusOr<RedisReply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->type == RedisReply::Type::kError) {
    return absl::InternalError(absl::StrCat("cluster history: ", reply->str));
  }
  if (reply->type != RedisReply::Type::kArray) {
    return absl::InternalError("cluster history: malformed reply");
  }
  return absl::OkStatus();
}

// The chat lines among `reply`'s elements from `first` on (entries that do not parse are skipped,
// and logged once per reply).
std::vector<StoredLine> LinesOf(const std::string& room_key, const RedisReply& reply,
                                size_t first) {
  std::vector<StoredLine> lines;
  bool logged = false;
  for (size_t i = first; i < reply.elements.size(); ++i) {
    absl::StatusOr<cluster::RoomEntry> entry = cluster::ParseRoomEntry(reply.elements[i].str);
    std::optional<cluster::ChatLine> chat;
    if (entry.ok()) chat = cluster::ParseChatLine(*entry);
    if (!chat) {
      LOG_IF(ERROR, !logged) << "cluster history: room " << room_key
                             << " holds an entry that cannot be read; skipped";
      logged = true;
      continue;
    }
    lines.push_back(StoredLine{room_key, "", entry->id, entry->time_ms, std::move(chat->nick),
                               std::move(chat->text)});
  }
  return lines;
}

uint64_t NumberAt(const RedisReply& reply, size_t index) {
  uint64_t number = 0;
  if (index < reply.elements.size()) absl::SimpleAtoi(reply.elements[index].str, &number);
  return number;
}

}  // namespace

std::vector<std::string> ClusterHistory::Scripts() {
  return {NewestScript().text, AfterScript().text};
}

ClusterHistory::ClusterHistory(RedisLink* link, int max_days, size_t max_lines)
    : link_(link),
      retention_ms_(absl::StrCat(RetentionMs(max_days))),
      max_lines_(absl::StrCat(max_lines)) {}

void ClusterHistory::LoadRoom(std::string room_key, size_t recent,
                              Done<HistoryDb::RoomState> done) {
  link_->Command(Evalsha(NewestScript(), room_key, recent, "+"),
                 [room_key, done = std::move(done)](absl::StatusOr<RedisReply> reply) mutable {
                   if (absl::Status failed = Failed(reply); !failed.ok()) {
                     return std::move(done)(failed);
                   }
                   HistoryDb::RoomState state;
                   state.last_id = NumberAt(*reply, 0);
                   state.trimmed_to = NumberAt(*reply, 1);
                   state.recent = LinesOf(room_key, *reply, 2);
                   std::move(done)(std::move(state));
                 });
}

void ClusterHistory::ReadBefore(std::string room_key, uint64_t before_id, size_t limit,
                                Done<std::vector<StoredLine>> done) {
  std::string end = before_id == 0 ? "+" : absl::StrCat("(", cluster::StreamId(before_id));
  link_->Command(Evalsha(NewestScript(), room_key, limit, std::move(end)),
                 [room_key, done = std::move(done)](absl::StatusOr<RedisReply> reply) mutable {
                   if (absl::Status failed = Failed(reply); !failed.ok()) {
                     return std::move(done)(failed);
                   }
                   std::move(done)(LinesOf(room_key, *reply, 2));
                 });
}

void ClusterHistory::ReadAfter(std::string room_key, uint64_t after_id, size_t limit,
                               Done<HistoryDb::Page> done) {
  link_->Command(Evalsha(AfterScript(), room_key, limit,
                         absl::StrCat("(", cluster::StreamId(after_id))),
                 [room_key, done = std::move(done)](absl::StatusOr<RedisReply> reply) mutable {
                   if (absl::Status failed = Failed(reply); !failed.ok()) {
                     return std::move(done)(failed);
                   }
                   HistoryDb::Page page;
                   page.trimmed_to = NumberAt(*reply, 0);
                   page.lines = LinesOf(room_key, *reply, 1);
                   std::move(done)(std::move(page));
                 });
}

}  // namespace roomchat
