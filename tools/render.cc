#include "tools/render.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "chat/protocol/command.h"
#include "chat/protocol/words.h"

namespace roomchat {
namespace {

using Kind = ServerEvent::Kind;
using CommandKind = Command::Kind;

constexpr absl::string_view kRed = "\x1b[31m";
constexpr absl::string_view kBold = "\x1b[1m";
constexpr absl::string_view kDim = "\x1b[2m";
constexpr absl::string_view kMagenta = "\x1b[35m";
constexpr absl::string_view kReset = "\x1b[0m";

std::string Paint(absl::string_view code, absl::string_view text, const RenderOptions& options) {
  if (!options.color) return std::string(text);
  return absl::StrCat(code, text, kReset);
}

// The i-th field of an OK reply, or "?" when the server sent fewer.
absl::string_view Arg(const ServerEvent& event, size_t i) {
  return i < event.args.size() ? absl::string_view(event.args[i]) : absl::string_view("?");
}

// "1 ban", "2 bans".
std::string Counted(absl::string_view count, absl::string_view one, absl::string_view many) {
  return absl::StrCat(count, " ", count == "1" ? one : many);
}

// The OK replies of accounts and moderation (docs/PROTOCOL.md), or nullopt for another command. No
// reply carries a password or a key (OK KEY names only the room), and none is shown here.
std::optional<std::string> RenderModerationOk(const ServerEvent& event) {
  auto arg = [&](size_t i) { return Arg(event, i); };
  auto is = [&](CommandKind kind) { return event.command == OkWord(kind); };
  if (is(CommandKind::kRegister)) {
    return absl::StrCat("* Registered ", arg(0), "; you are logged in to it");
  }
  if (is(CommandKind::kLogin)) return absl::StrCat("* Logged in as ", arg(0));
  if (is(CommandKind::kPassword)) return std::string("* Password changed");
  if (is(CommandKind::kLogout)) {
    return absl::StrCat("* Logged out; you keep the nick ", arg(0),
                        " as a guest until someone logs in to it");
  }
  if (is(CommandKind::kOp)) return absl::StrCat("* You made ", arg(0), " an operator");
  if (is(CommandKind::kDeop)) return absl::StrCat("* ", arg(0), " is no longer an operator");
  if (is(CommandKind::kKick)) return absl::StrCat("* You kicked ", arg(0));
  if (is(CommandKind::kBan)) return absl::StrCat("* You banned ", arg(0));
  if (is(CommandKind::kUnban)) {
    return absl::StrCat("* Removed ", Counted(arg(1), "ban", "bans"), " on ", arg(0));
  }
  if (is(CommandKind::kBans)) {
    return absl::StrCat("* ", Counted(arg(1), "ban", "bans"), " in ", arg(0));
  }
  if (is(CommandKind::kTopic)) return std::string();  // ChatApp says what was done
  if (is(CommandKind::kKey)) {
    if (arg(1) == "-") return absl::StrCat("* ", arg(0), " needs no key any more");
    return absl::StrCat("* Key set for ", arg(0));
  }
  return std::nullopt;
}

std::string RenderOk(const ServerEvent& event, const RenderOptions& options) {
  auto arg = [&](size_t i) { return Arg(event, i); };
  std::string text;
  if (std::optional<std::string> moderation = RenderModerationOk(event)) {
    if (moderation->empty()) return "";
    text = *std::move(moderation);
  } else if (event.command == OkWord(CommandKind::kNick)) {
    text = absl::StrCat("* You are now ", arg(0));
  } else if (event.command == OkWord(CommandKind::kCreate)) {
    text = absl::StrCat("* You created ", arg(0), " and are in it");
  } else if (event.command == OkWord(CommandKind::kJoin)) {
    text = absl::StrCat("* You joined ", arg(0), " (", arg(1), " here)");
  } else if (event.command == OkWord(CommandKind::kLeave)) {
    text = absl::StrCat("* You left ", arg(0), " and are back in the lobby");
  } else if (event.command == OkWord(CommandKind::kRooms)) {
    text = absl::StrCat("* ", arg(0), arg(0) == "1" ? " room" : " rooms");
  } else if (event.command == OkWord(CommandKind::kWho)) {
    text = absl::StrCat("* ", arg(1), " in ", arg(0));
  } else if (event.command == OkWord(CommandKind::kWhoami)) {
    text = absl::StrCat("* You are ", arg(0),
                        arg(1) == "-" ? " in the lobby" : absl::StrCat(" in ", arg(1)));
  } else if (event.command == OkWord(CommandKind::kHistory)) {
    text = absl::StrCat("* ", arg(1), arg(1) == "1" ? " earlier line of " : " earlier lines of ",
                        arg(0), "; /history again for the ones before");
  } else if (event.command == OkWord(CommandKind::kHelp) ||
             event.command == OkWord(CommandKind::kMsg)) {
    return "";
  } else {
    text = absl::StrCat("* OK ", event.command, " ", absl::StrJoin(event.args, " "));
  }
  return Paint(kDim, text, options);
}

// The lines of accounts and moderation other than OK replies.
std::string RenderModeration(const ServerEvent& event, const RenderOptions& options) {
  switch (event.kind) {
    case Kind::kRenamed:
      return Paint(kRed, absl::StrCat("* You lost the nick ", event.nick, " (", event.text,
                                      "); you are ", event.new_nick, " now"),
                   options);
    case Kind::kOp:
      return Paint(kDim, absl::StrCat("* ", event.by, " made ", event.nick, " an operator of ",
                                      event.room),
                   options);
    case Kind::kDeop:
      return Paint(kDim, absl::StrCat("* ", event.by, " took operator away from ", event.nick,
                                      " in ", event.room),
                   options);
    case Kind::kKicked:
      return Paint(kRed, absl::StrCat("* You were kicked from ", event.room, " by ", event.by, ": ",
                                      event.text, "; you are in the lobby"),
                   options);
    case Kind::kKick:
      return Paint(kDim, absl::StrCat("* ", event.nick, " was kicked from ", event.room, " by ",
                                      event.by, ": ", event.text),
                   options);
    case Kind::kTopic:
      if (event.text.empty()) {
        return Paint(kDim, absl::StrCat("* ", event.by, " cleared the topic of ", event.room),
                     options);
      }
      return absl::StrCat(Paint(kDim, absl::StrCat("* Topic of ", event.room, " (set by ", event.by,
                                                   "): "),
                                options),
                          event.text);
    case Kind::kBan:  // one line of the /bans list, like ROOM and MEMBER
      return absl::StrCat("  ", event.code, " ", event.nick, " (banned by ", event.by, ")");
    default: return "";
  }
}

}  // namespace

std::string LocalClock(absl::string_view rfc3339, absl::TimeZone zone) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) return "--:--";
  return absl::FormatTime("%H:%M", time, zone);
}

std::string Render(const ServerEvent& event, const RenderOptions& options) {
  switch (event.kind) {
    case Kind::kMsg:
      if (event.history) {  // said before: dimmed, with its time
        return Paint(kDim, absl::StrCat("[", event.room, "] ", LocalClock(event.time), " ",
                                        event.nick, ": ", event.text),
                     options);
      }
      return absl::StrCat("[", event.room, "] ", Paint(kBold, event.nick, options), ": ",
                          event.text);
    case Kind::kAck: return "";
    case Kind::kPriv:
      return Paint(kMagenta, absl::StrCat("(private) ", event.nick, ": ", event.text), options);
    case Kind::kJoin:
      return Paint(kDim, absl::StrCat("* ", event.nick, " joined ", event.room), options);
    case Kind::kLeave:
      return Paint(kDim, absl::StrCat("* ", event.nick, " left ", event.room), options);
    case Kind::kNick:
      return Paint(kDim, absl::StrCat("* ", event.nick, " is now ", event.new_nick), options);
    case Kind::kWelcome:
      return Paint(kDim, absl::StrCat("* Connected as ", event.nick, ". ", event.text), options);
    case Kind::kOk: return RenderOk(event, options);
    case Kind::kErr:
      return Paint(kRed, absl::StrCat("! ", event.text, " (", event.code, ")"), options);
    case Kind::kRoom: return absl::StrCat("  ", event.room, " (", event.count, ")");
    case Kind::kMember: return absl::StrCat("  ", event.nick);
    case Kind::kPong:
      return Paint(kDim, event.text.empty() ? "* pong" : absl::StrCat("* pong ", event.text),
                   options);
    case Kind::kHelp: return absl::StrCat("  ", event.text);
    case Kind::kBye:
      if (event.text == words::kByeQuit) return Paint(kDim, "* Bye.", options);
      return Paint(kDim, absl::StrCat("* The server closed the connection (", event.text, ")"),
                   options);
    case Kind::kRenamed:
    case Kind::kOp:
    case Kind::kDeop:
    case Kind::kKicked:
    case Kind::kKick:
    case Kind::kTopic:
    case Kind::kBan: return RenderModeration(event, options);
  }
  return "";
}

std::string RenderNote(absl::string_view text, bool error, const RenderOptions& options) {
  return Paint(error ? kRed : kDim, absl::StrCat(error ? "! " : "* ", text), options);
}

bool WantsColor(bool is_terminal, const char* no_color, const char* term) {
  if (!is_terminal) return false;
  if (no_color != nullptr && no_color[0] != '\0') return false;
  return term != nullptr && term[0] != '\0' && absl::string_view(term) != "dumb";
}

}  // namespace roomchat
