// The words of protocol v1 that start server lines (docs/PROTOCOL.md, "Server lines"). The reply
// builders (replies.h) write them and the server-line parser (server_event.h) reads them, so the
// two cannot drift. Command words, and the command field of OK replies, live in command.cc's table
// (CommandWord(), OkWord()); error codes in protocol_error.cc (ErrorCodeName()).
//
// Constants only; safe from any thread.
#ifndef ROOMCHAT_CHAT_PROTOCOL_WORDS_H_
#define ROOMCHAT_CHAT_PROTOCOL_WORDS_H_

#include "absl/strings/string_view.h"

namespace roomchat {
namespace words {

inline constexpr absl::string_view kWelcome = "WELCOME";
inline constexpr absl::string_view kOk = "OK";
inline constexpr absl::string_view kErr = "ERR";
inline constexpr absl::string_view kMsg = "MSG";
inline constexpr absl::string_view kPriv = "PRIV";
inline constexpr absl::string_view kJoin = "JOIN";
inline constexpr absl::string_view kLeave = "LEAVE";
inline constexpr absl::string_view kNick = "NICK";
inline constexpr absl::string_view kRoom = "ROOM";
inline constexpr absl::string_view kMember = "MEMBER";
inline constexpr absl::string_view kPong = "PONG";
inline constexpr absl::string_view kHelp = "HELP";
inline constexpr absl::string_view kBye = "BYE";
// Negotiated (docs/PROTOCOL.md, "Capabilities and history").
inline constexpr absl::string_view kAck = "ACK";
// Accounts and moderation (docs/PROTOCOL.md, "Accounts and moderation").
inline constexpr absl::string_view kRenamed = "RENAMED";
inline constexpr absl::string_view kOp = "OP";
inline constexpr absl::string_view kDeop = "DEOP";
inline constexpr absl::string_view kKicked = "KICKED";
inline constexpr absl::string_view kKick = "KICK";
inline constexpr absl::string_view kTopic = "TOPIC";
inline constexpr absl::string_view kBan = "BAN";
// Tags before a line's word: "@id=<id>;time=<RFC 3339 UTC, ms>[;history] ".
inline constexpr absl::string_view kTagId = "id";
inline constexpr absl::string_view kTagTime = "time";
inline constexpr absl::string_view kTagHistory = "history";

// The reasons a BYE line gives.
inline constexpr absl::string_view kByeQuit = "quit";
inline constexpr absl::string_view kByeServerShutdown = "server-shutdown";
inline constexpr absl::string_view kByeIdleTimeout = "idle-timeout";
inline constexpr absl::string_view kByeFlood = "flood";
inline constexpr absl::string_view kByeServerFull = "server-full";

}  // namespace words
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_WORDS_H_
