// The server-line parser of protocol v1: server lines parsed into typed events, the mirror of the
// builders in replies.h (round_trip_test.cc keeps the two in step). Used by the client session
// (//chat/client), the terminal client (//tools) and the load generator (//bench). Commands are
// formatted for sending by FormatCommand() in command.h. Pure functions; safe from any thread.
#ifndef ROOMCHAT_CHAT_PROTOCOL_SERVER_EVENT_H_
#define ROOMCHAT_CHAT_PROTOCOL_SERVER_EVENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace roomchat {

// One server line. Which fields are set depends on `kind`:
//   kWelcome  nick, text          kOk      command (an OkWord()), args
//   kErr      code (an ErrorCodeName()), text
//   kMsg      room, nick, text    kPriv    nick, text       kJoin    room, nick
//   kLeave    room, nick          kNick    nick (old), new_nick
//   kRoom     room, count         kMember  nick             kPong    text (the token, maybe empty)
//   kHelp     text                kBye     text (the reason)
//   kAck      room, id
//   kRenamed  nick (old), new_nick, text (why)
//   kOp, kDeop  room, nick, by    kKicked  room, by, text (the reason)
//   kKick     room, nick, by, text (the reason)
//   kTopic    room, by, text (empty: cleared)
//   kBan      room, code (the kind: account, nick or address), nick (the value), by
// A line may start with tags (capability "tags"): "@id=<id>;time=<time>[;history] "; they set id,
// time and history on any kind. Unknown tags are ignored.
struct ServerEvent {
  enum class Kind {
    kWelcome,
    kOk,
    kErr,
    kMsg,
    kPriv,
    kJoin,
    kLeave,
    kNick,
    kRoom,
    kMember,
    kPong,
    kHelp,
    kBye,
    kAck,
    kRenamed,
    kOp,
    kDeop,
    kKicked,
    kKick,
    kTopic,
    kBan,
  };
  Kind kind;
  std::string nick;
  std::string new_nick;
  std::string room;
  std::string text;
  std::string code;
  std::string command;
  std::string by;  // who did it (kOp, kDeop, kKicked, kKick, kTopic, kBan)
  std::vector<std::string> args;
  int count = 0;
  // From tags (or kAck's id); 0, empty and false when absent.
  uint64_t id = 0;
  std::string time;
  bool history = false;
};

// Parses one line (without its LF). A line that does not follow protocol v1 gives InvalidArgument
// naming what is wrong; it never crashes, whatever the bytes.
absl::StatusOr<ServerEvent> ParseServerLine(absl::string_view line);
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_SERVER_EVENT_H_
