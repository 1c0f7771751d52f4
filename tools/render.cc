#include "tools/render.h"

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

std::string RenderOk(const ServerEvent& event, const RenderOptions& options) {
  auto arg = [&](size_t i) -> absl::string_view {
    return i < event.args.size() ? absl::string_view(event.args[i]) : absl::string_view("?");
  };
  std::string text;
  if (event.command == OkWord(CommandKind::kNick)) {
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
