#include "chat/protocol/replies.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "chat/protocol/command.h"
#include "chat/protocol/words.h"

namespace roomchat {
namespace replies {

std::string Welcome(absl::string_view nick) {
  return absl::StrCat(words::kWelcome, " ", nick,
                      " Welcome to roomchat. You are in the lobby; /help lists the commands.\n");
}

std::string Ok(absl::string_view command, absl::string_view field1, absl::string_view field2) {
  std::string line = absl::StrCat(words::kOk, " ", command);
  if (!field1.empty()) absl::StrAppend(&line, " ", field1);
  if (!field2.empty()) absl::StrAppend(&line, " ", field2);
  line.push_back('\n');
  return line;
}

std::string Ok(Command::Kind command, absl::string_view field1, absl::string_view field2) {
  return Ok(OkWord(command), field1, field2);
}

std::string Msg(absl::string_view room, absl::string_view nick, absl::string_view text) {
  return absl::StrCat(words::kMsg, " ", room, " ", nick, " ", text, "\n");
}

std::string Priv(absl::string_view from_nick, absl::string_view text) {
  return absl::StrCat(words::kPriv, " ", from_nick, " ", text, "\n");
}

std::string Join(absl::string_view room, absl::string_view nick) {
  return absl::StrCat(words::kJoin, " ", room, " ", nick, "\n");
}

std::string Leave(absl::string_view room, absl::string_view nick) {
  return absl::StrCat(words::kLeave, " ", room, " ", nick, "\n");
}

std::string Nick(absl::string_view old_nick, absl::string_view new_nick) {
  return absl::StrCat(words::kNick, " ", old_nick, " ", new_nick, "\n");
}

std::string Room(absl::string_view name, size_t count) {
  return absl::StrCat(words::kRoom, " ", name, " ", count, "\n");
}

std::string Member(absl::string_view nick) { return absl::StrCat(words::kMember, " ", nick, "\n"); }

std::string Pong(absl::string_view token) {
  if (token.empty()) return absl::StrCat(words::kPong, "\n");
  return absl::StrCat(words::kPong, " ", token, "\n");
}

std::string Help() {
  using Kind = Command::Kind;
  struct HelpLine {
    Kind kind;
    absl::string_view what;
  };
  static constexpr HelpLine kLines[] = {
      {Kind::kNick, "change your nickname"},
      {Kind::kCreate, "create a room and move into it"},
      {Kind::kJoin, "move into a room"},
      {Kind::kLeave, "go back to the lobby"},
      {Kind::kRooms, "list the rooms and how many are in each"},
      {Kind::kWho, "list the members of a room (default: yours)"},
      {Kind::kWhoami, "show your nickname and room"},
      {Kind::kMsg, "send a private message"},
      {Kind::kPing, "the server answers PONG [TOKEN]"},
      {Kind::kHelp, "this list"},
      {Kind::kQuit, "disconnect"},
  };
  // The usages are padded to one column.
  constexpr size_t kUsageWidth = 17;
  std::string out;
  for (const HelpLine& line : kLines) {
    absl::string_view usage = CommandUsage(line.kind);
    size_t padding = usage.size() < kUsageWidth ? kUsageWidth - usage.size() : 1;
    absl::StrAppend(&out, words::kHelp, " ", usage, std::string(padding, ' '), line.what, "\n");
  }
  absl::StrAppend(&out, words::kHelp, " ",
                  "Any other line is said to your room; start it with // to say a line that "
                  "begins with /.\n");
  absl::StrAppend(&out, Ok(Kind::kHelp));
  return out;
}

std::string Bye(absl::string_view reason) { return absl::StrCat(words::kBye, " ", reason, "\n"); }

std::string Rfc3339Millis(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

std::string Tags(uint64_t id, int64_t unix_ms, bool history) {
  return absl::StrCat("@", words::kTagId, "=", id, ";", words::kTagTime, "=", Rfc3339Millis(unix_ms),
                      history ? absl::StrCat(";", words::kTagHistory) : "", " ");
}

std::string Ack(absl::string_view room, uint64_t id) {
  return absl::StrCat(words::kAck, " ", room, " ", id, "\n");
}

std::string Renamed(absl::string_view old_nick, absl::string_view new_nick,
                    absl::string_view reason) {
  return absl::StrCat(words::kRenamed, " ", old_nick, " ", new_nick, " ", reason, "\n");
}

std::string Op(absl::string_view room, absl::string_view nick, absl::string_view by) {
  return absl::StrCat(words::kOp, " ", room, " ", nick, " ", by, "\n");
}

std::string Deop(absl::string_view room, absl::string_view nick, absl::string_view by) {
  return absl::StrCat(words::kDeop, " ", room, " ", nick, " ", by, "\n");
}

std::string Kicked(absl::string_view room, absl::string_view by, absl::string_view reason) {
  return absl::StrCat(words::kKicked, " ", room, " ", by, " ", reason, "\n");
}

std::string Kick(absl::string_view room, absl::string_view nick, absl::string_view by,
                 absl::string_view reason) {
  return absl::StrCat(words::kKick, " ", room, " ", nick, " ", by, " ", reason, "\n");
}

std::string Topic(absl::string_view room, absl::string_view by, absl::string_view text) {
  if (text.empty()) return absl::StrCat(words::kTopic, " ", room, " ", by, "\n");
  return absl::StrCat(words::kTopic, " ", room, " ", by, " ", text, "\n");
}

std::string Ban(absl::string_view room, absl::string_view kind, absl::string_view value,
                absl::string_view by) {
  return absl::StrCat(words::kBan, " ", room, " ", kind, " ", value, " ", by, "\n");
}

}  // namespace replies
}  // namespace roomchat
