// Client lines in both directions (protocol v1, docs/PROTOCOL.md): ParseCommand() for the server,
// FormatCommand() and FormatChatLine() for clients. Both use one table of command words, so what a
// client formats is what the server parses (round_trip_test.cc checks it).
//
// A line starting with '/' is a command whose word is matched case-insensitively; "//" starts chat
// text with one '/' removed; anything else is chat text. The command word ends at the first space
// or TAB; arguments are separated by runs of spaces (a TAB right after a known word is bad-args);
// the text of /msg and the token of /ping keep their inner spacing. Pure; safe from any thread.
#ifndef ROOMCHAT_CHAT_PROTOCOL_COMMAND_H_
#define ROOMCHAT_CHAT_PROTOCOL_COMMAND_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace roomchat {

struct Command {
  enum class Kind {
    kChat,    // text: the chat line
    kNick,    // name: the new nick
    kCreate,  // name: the room
    kJoin,    // name: the room
    kLeave,
    kRooms,
    kWho,  // name: the room, or empty for the current one
    kWhoami,
    kMsg,   // name: the target nick; text: the message
    kPing,  // text: the token, possibly empty
    kHelp,
    kQuit,
    // Negotiated additions (docs/PROTOCOL.md, "Capabilities and history"):
    kCap,      // caps: the names asked for after "req"; cap_request: "req" was given
    kHistory,  // count (0: the default), before_id (0: the newest)
    // Accounts and moderation (docs/PROTOCOL.md, "Accounts and moderation"):
    kRegister,  // password
    kLogin,     // name: the account's nick; password
    kPassword,  // password: the old one; new_password
    kLogout,
    kOp,     // name: the nick
    kDeop,   // name: the nick
    kKick,   // name: the nick; text: the reason, possibly empty
    kBan,    // name: the nick
    kUnban,  // text: a nick or an address
    kBans,
    kTopic,  // text: the new topic ("-" clears it); empty: show it
    kKey,    // key: the new key, or "-" to remove it
  };
  Kind kind;
  std::string name;
  std::string text;
  // /join ROOM [KEY] [since=ID]: the last id the client saw (0: not given).
  uint64_t since_id = 0;
  // /join ROOM KEY, /create ROOM KEY, /key KEY.
  std::string key;
  // /register, /login, /password. Never logged or echoed.
  std::string password;
  std::string new_password;
  // /history [N] [before=ID].
  size_t count = 0;
  uint64_t before_id = 0;
  // /cap [req NAME...].
  bool cap_request = false;
  std::vector<std::string> caps;
};

// Limits of the accounts and moderation commands' arguments (docs/PROTOCOL.md).
inline constexpr size_t kMinPasswordBytes = 8;
inline constexpr size_t kMaxPasswordBytes = 128;
inline constexpr size_t kMaxKeyBytes = 64;
inline constexpr size_t kMaxTopicBytes = 390;

// The command in `line` (a complete, valid line from the framer), or a protocol error:
// unknown-command, bad-args, or bad-name for a name that breaks the name rules.
absl::StatusOr<Command> ParseCommand(absl::string_view line);

// The word of `kind` as typed after the '/', e.g. "join"; empty for kChat.
absl::string_view CommandWord(Command::Kind kind);

// The command field of the OK reply to `kind`, e.g. "JOIN"; empty for kChat, and for kPing and
// kQuit, which are answered by PONG and BYE.
absl::string_view OkWord(Command::Kind kind);

// How `kind` is typed, e.g. "/who [ROOM]"; empty for kChat. ERR bad-args and HELP show it.
absl::string_view CommandUsage(Command::Kind kind);

// The line that sends `kind` with `args` separated by spaces, ending in LF:
// FormatCommand(Command::Kind::kJoin, {"lounge"}) is "/join lounge\n". For kChat, the args joined
// by spaces as FormatChatLine() sends them.
std::string FormatCommand(Command::Kind kind, absl::Span<const absl::string_view> args = {});

// The line that says `text` to the room, ending in LF: text starting with '/' gets a second '/' so
// that it is not taken for a command.
std::string FormatChatLine(absl::string_view text);

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_COMMAND_H_
