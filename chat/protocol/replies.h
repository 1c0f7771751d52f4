// Builders for the server's lines (protocol v1, docs/PROTOCOL.md). Each returns one line ending in
// LF, or several for Help(). The words come from words.h and command.h, which the parsers use too.
// Pure; safe from any thread.
#ifndef ROOMCHAT_CHAT_PROTOCOL_REPLIES_H_
#define ROOMCHAT_CHAT_PROTOCOL_REPLIES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "chat/protocol/command.h"

namespace roomchat {
namespace replies {

std::string Welcome(absl::string_view nick);
// "OK <command>" followed by each non-empty field.
std::string Ok(absl::string_view command, absl::string_view field1 = {},
               absl::string_view field2 = {});
// The same with the command's OkWord(), e.g. Ok(Command::Kind::kJoin, "Lounge", "2") is
// "OK JOIN Lounge 2\n".
std::string Ok(Command::Kind command, absl::string_view field1 = {}, absl::string_view field2 = {});
std::string Msg(absl::string_view room, absl::string_view nick, absl::string_view text);
std::string Priv(absl::string_view from_nick, absl::string_view text);
std::string Join(absl::string_view room, absl::string_view nick);
std::string Leave(absl::string_view room, absl::string_view nick);
std::string Nick(absl::string_view old_nick, absl::string_view new_nick);
std::string Room(absl::string_view name, size_t count);
std::string Member(absl::string_view nick);
std::string Pong(absl::string_view token);
// Every HELP line, then OK HELP.
std::string Help();
std::string Bye(absl::string_view reason);

// ---- Negotiated lines (docs/PROTOCOL.md, "Capabilities and history").
// "@id=<id>;time=<UTC RFC 3339 with milliseconds>[;history] ", put before a chat line.
std::string Tags(uint64_t id, int64_t unix_ms, bool history);
// "2026-12-01T22:47:24.123Z".
std::string Rfc3339Millis(int64_t unix_ms);
// "ACK <room> <id>": the sender's line `id` is stored.
std::string Ack(absl::string_view room, uint64_t id);

// ---- Accounts and moderation (docs/PROTOCOL.md, "Accounts and moderation").
std::string Renamed(absl::string_view old_nick, absl::string_view new_nick,
                    absl::string_view reason);
std::string Op(absl::string_view room, absl::string_view nick, absl::string_view by);
std::string Deop(absl::string_view room, absl::string_view nick, absl::string_view by);
std::string Kicked(absl::string_view room, absl::string_view by, absl::string_view reason);
std::string Kick(absl::string_view room, absl::string_view nick, absl::string_view by,
                 absl::string_view reason);
// "TOPIC <room> <by> <text>", or "TOPIC <room> <by>" when `text` is empty (cleared).
std::string Topic(absl::string_view room, absl::string_view by, absl::string_view text);
std::string Ban(absl::string_view room, absl::string_view kind, absl::string_view value,
                absl::string_view by);

}  // namespace replies
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_REPLIES_H_
