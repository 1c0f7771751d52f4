// A room's names in Redis, its entries, and the script that sequences them (docs/CLUSTER.md,
// "Names in Redis", "A room entry", "rc_post").
//
// Every line and event of a clustered room becomes an entry: Redis's rc_post script gives it the
// room's next id (the single-node rule, max(last_id + 1, now in µs), on Redis's clock) and seq
// (1, 2, 3, ... without holes), appends it to one of the room's two streams (its lines, its
// history; its events) and publishes it on the room's channel, in one atomic step, so every node
// delivers a room's entries in one order.
//
// Thread contract: pure functions and constants; safe from any thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_ROOM_CHANNEL_H_
#define ROOMCHAT_CHAT_CLUSTER_ROOM_CHANNEL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/cluster/redis_link.h"

namespace roomchat {
namespace cluster {

// Keys and channels of the room whose NameKey() is `room_key`.
inline constexpr char kRoomChannelPrefix[] = "rc:ch:room:";
std::string RoomChannel(absl::string_view room_key);  // rc:ch:room:<room>
std::string SeqKey(absl::string_view room_key);       // rc:seq:<room>: last_id, seq, retention_ms
std::string HistoryKey(absl::string_view room_key);   // rc:hist:<room>: its lines (MSG)
std::string EventsKey(absl::string_view room_key);    // rc:ev:<room>: its other entries
std::string RoomKey(absl::string_view room_key);      // rc:room:<room>: while the room is open

// One entry as published and stored: "1 <seq> <id> <time_ms> <origin> <kind> <body>", where the
// body is the kind's fields (for MSG: "<nick> <text>"), free text to the end.
struct RoomEntry {
  uint64_t seq = 0;
  uint64_t id = 0;
  int64_t time_ms = 0;
  std::string origin;  // the node that posted it
  std::string kind;    // MSG, JOIN, LEAVE, NICK, TOPIC, ...
  std::string body;
};

// Fails (InvalidArgument) on another format version or a malformed entry.
absl::StatusOr<RoomEntry> ParseRoomEntry(absl::string_view payload);
std::string FormatRoomEntry(const RoomEntry& entry);

// A chat line's entry: kind MSG, body "<sender> <nick> <text>", where the sender is the client's
// id on the origin node (that node does not send the line back to its sender).
struct ChatLine {
  uint64_t sender = 0;
  std::string nick;
  std::string text;
};
std::string ChatBody(uint64_t sender, absl::string_view nick, absl::string_view text);
// The chat line of a MSG entry; nullopt for other kinds or a malformed body.
std::optional<ChatLine> ParseChatLine(const RoomEntry& entry);

// The stream id an entry id is stored under: "<id div 1000>-<id mod 1000>" (strictly increasing
// with the id; its millisecond part is the entry's time, for trimming by age).
std::string StreamId(uint64_t id);

// What to post: `origin` and `kind` are single words; `body` may hold spaces.
struct PostRequest {
  std::string room_key;
  std::string origin;
  std::string kind;
  std::string body;
  size_t max_entries = 10000;  // the stream keeps about this many (MAXLEN ~)
  int64_t retention_ms = 0;    // and none older by Redis's clock (MINID ~); 0: no age limit;
                               // kNoHistory: the stream goes when the room closes
  std::string incarnation;     // origin's: refused if a later process took the node id over
  // The nick key of the member on `origin` who says it: refused (not-in-room) unless Redis has
  // that member in the room, on `origin` ('': no check).
  std::string poster_key;
};

// Why a line of a poster Redis has out of the room is not said (ErrorCode::kNotInRoom).
inline constexpr char kNoLongerHadYou[] = "the room no longer had you when this line reached it";
// rc_post's refusal of a poster Redis has out of the room ("not-in-room <seq> <text>"), as
// ErrorCode::kNotInRoom with <text>, noting the room's seq then (RefusedAtSeq); other replies:
// nullopt.
std::optional<absl::Status> PostRefusal(const RedisReply& reply);
// The room's seq when rc_post refused the post (0 if `refusal` does not say).
uint64_t RefusedAtSeq(const absl::Status& refusal);
// A PostRequest's retention_ms without history: the stream only bridges a node's outages.
inline constexpr int64_t kNoHistory = -1;

// The argv of an EVALSHA of rc_post (the link must load PostScript(): RedisLinkOptions::scripts);
// its reply is an array {id, seq}.
std::vector<std::string> PostCommand(const PostRequest& request);

// The argv of an XREVRANGE of a room's stream (`stream_key`: HistoryKey or EventsKey) for the
// entries with ids strictly between `after_id` and `before_id` (0: up to the newest), at most
// `max` of them, the newest: a hole in what a part delivered, filled (the newest, so that a part
// which delivered nothing, after_id 0, gets the hole before `before_id` and not the stream's
// oldest entries). A hole is read from both streams, and their answers merged (NewestOf).
std::vector<std::string> EntriesBetweenCommand(absl::string_view stream_key, uint64_t after_id,
                                               uint64_t before_id, size_t max);
// Its reply's entries, oldest first (entries that do not parse are skipped).
absl::StatusOr<std::vector<RoomEntry>> ParseEntriesReply(const absl::StatusOr<RedisReply>& reply);
// The `max` newest of the entries of `lines` and `events`, oldest first.
std::vector<RoomEntry> NewestOf(std::vector<RoomEntry> lines, std::vector<RoomEntry> events,
                                size_t max);

// The Lua function post(...) that rc_post and other scripts (the reaper's LEAVEs) share, and
// rc_post's whole text (docs/CLUSTER.md has it annotated).
extern const char kPostFunction[];
const std::string& PostScript();

}  // namespace cluster
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_ROOM_CHANNEL_H_
