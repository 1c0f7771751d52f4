#include "chat/protocol/replies.h"

#include "absl/strings/str_cat.h"

namespace roomchat {
namespace replies {

std::string Welcome(absl::string_view nick) {
  return absl::StrCat("WELCOME ", nick,
                      " Welcome to roomchat. You are in the lobby; /help lists the commands.\n");
}

std::string Ok(absl::string_view command, absl::string_view field1, absl::string_view field2) {
  std::string line = absl::StrCat("OK ", command);
  if (!field1.empty()) absl::StrAppend(&line, " ", field1);
  if (!field2.empty()) absl::StrAppend(&line, " ", field2);
  line.push_back('\n');
  return line;
}

std::string Msg(absl::string_view room, absl::string_view nick, absl::string_view text) {
  return absl::StrCat("MSG ", room, " ", nick, " ", text, "\n");
}

std::string Priv(absl::string_view from_nick, absl::string_view text) {
  return absl::StrCat("PRIV ", from_nick, " ", text, "\n");
}

std::string Join(absl::string_view room, absl::string_view nick) {
  return absl::StrCat("JOIN ", room, " ", nick, "\n");
}

std::string Leave(absl::string_view room, absl::string_view nick) {
  return absl::StrCat("LEAVE ", room, " ", nick, "\n");
}

std::string Nick(absl::string_view old_nick, absl::string_view new_nick) {
  return absl::StrCat("NICK ", old_nick, " ", new_nick, "\n");
}

std::string Room(absl::string_view name, size_t count) {
  return absl::StrCat("ROOM ", name, " ", count, "\n");
}

std::string Member(absl::string_view nick) { return absl::StrCat("MEMBER ", nick, "\n"); }

std::string Pong(absl::string_view token) {
  return token.empty() ? std::string("PONG\n") : absl::StrCat("PONG ", token, "\n");
}

std::string Help() {
  static constexpr absl::string_view kLines[] = {
      "/nick NAME       change your nickname",
      "/create ROOM     create a room and move into it",
      "/join ROOM       move into a room",
      "/leave           go back to the lobby",
      "/rooms           list the rooms and how many are in each",
      "/who [ROOM]      list the members of a room (default: yours)",
      "/whoami          show your nickname and room",
      "/msg NICK TEXT   send a private message",
      "/ping [TOKEN]    the server answers PONG [TOKEN]",
      "/help            this list",
      "/quit            disconnect",
      "Any other line is said to your room; start it with // to say a line that begins with /.",
  };
  std::string out;
  for (absl::string_view line : kLines) absl::StrAppend(&out, "HELP ", line, "\n");
  absl::StrAppend(&out, "OK HELP\n");
  return out;
}

std::string Bye(absl::string_view reason) { return absl::StrCat("BYE ", reason, "\n"); }

}  // namespace replies
}  // namespace roomchat
