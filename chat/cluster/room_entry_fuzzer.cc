// libFuzzer target for a room entry as it comes from Redis (a room channel's message, a stream
// entry's field): any bytes. An entry that parses formats back to an entry that parses the same;
// a chat line's body that parses formats back to the same body.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "chat/cluster/room_channel.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using roomchat::cluster::RoomEntry;
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<RoomEntry> entry = roomchat::cluster::ParseRoomEntry(bytes);
  if (!entry.ok()) return 0;
  absl::StatusOr<RoomEntry> again =
      roomchat::cluster::ParseRoomEntry(roomchat::cluster::FormatRoomEntry(*entry));
  if (!again.ok() || again->seq != entry->seq || again->id != entry->id ||
      again->time_ms != entry->time_ms || again->origin != entry->origin ||
      again->kind != entry->kind || again->body != entry->body) {
    __builtin_trap();
  }
  std::optional<roomchat::cluster::ChatLine> chat = roomchat::cluster::ParseChatLine(*entry);
  if (chat && roomchat::cluster::ChatBody(chat->sender, chat->nick, chat->text) != entry->body) {
    // A body like "007 nick text" parses, but its sender formats as "7": only the fields count.
    RoomEntry rebuilt = *entry;
    rebuilt.body = roomchat::cluster::ChatBody(chat->sender, chat->nick, chat->text);
    std::optional<roomchat::cluster::ChatLine> same = roomchat::cluster::ParseChatLine(rebuilt);
    if (!same || same->sender != chat->sender || same->nick != chat->nick ||
        same->text != chat->text) {
      __builtin_trap();
    }
  }
  return 0;
}
