// Parsing of client lines into commands (protocol v1, docs/PROTOCOL.md).
//
// A line starting with '/' is a command whose word is matched case-insensitively; "//" starts chat
// text with one '/' removed; anything else is chat text. Arguments are separated by runs of spaces;
// the text of /msg and the token of /ping keep their inner spacing. Pure; safe from any thread.
#ifndef ROOMCHAT_CHAT_PROTOCOL_COMMAND_H_
#define ROOMCHAT_CHAT_PROTOCOL_COMMAND_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

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
  };
  Kind kind;
  std::string name;
  std::string text;
};

// The command in `line` (a complete, valid line from the framer), or a protocol error:
// unknown-command, bad-args, or bad-name for a name that breaks the name rules.
absl::StatusOr<Command> ParseCommand(absl::string_view line);

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_COMMAND_H_
