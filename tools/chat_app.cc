#include "tools/chat_app.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "chat/protocol/command.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"

namespace roomchat {

namespace {

constexpr absl::string_view kKeepAliveToken = "keepalive";

}  // namespace

bool HoldsSecret(absl::string_view line) {
  const absl::string_view typed = absl::StripAsciiWhitespace(line);  // " /login" is kept out too
  absl::string_view rest = typed;
  if (!absl::ConsumePrefix(&rest, "/") || absl::StartsWith(rest, "/")) return false;  // chat text
  absl::string_view word = rest.substr(0, rest.find_first_of(" \t"));
  absl::string_view args = absl::StripAsciiWhitespace(rest.substr(word.size()));
  auto is = [&](Command::Kind kind) { return absl::EqualsIgnoreCase(word, CommandWord(kind)); };
  if (is(Command::Kind::kRegister) || is(Command::Kind::kLogin) || is(Command::Kind::kPassword)) {
    return true;
  }
  if (is(Command::Kind::kKey)) return !args.empty() && args != "-";
  if (is(Command::Kind::kJoin) || is(Command::Kind::kCreate)) {
    // A room, or a room and since=ID, holds no key; a refused line with more words may.
    absl::StatusOr<Command> command = ParseCommand(typed);
    if (command.ok()) return !command->key.empty();
    return args.find(' ') != absl::string_view::npos;
  }
  return false;
}

ChatApp::ChatApp(LineConnection* connection, client::Session* session, RenderOptions render,
                 std::function<void(absl::string_view)> print, std::chrono::milliseconds keepalive,
                 Clock::time_point now)
    : connection_(connection),
      session_(session),
      render_(render),
      print_(std::move(print)),
      keepalive_(keepalive),
      last_sent_(now) {}

absl::Status ChatApp::Send(absl::string_view bytes) {
  last_sent_ = Clock::now();
  return connection_->Send(bytes);
}

absl::Status ChatApp::KeepAlive(Clock::time_point now) {
  if (keepalive_.count() == 0 || now - last_sent_ < keepalive_ || quitting_) {
    return absl::OkStatus();
  }
  absl::Status sent = connection_->Send(FormatCommand(Command::Kind::kPing, {kKeepAliveToken}));
  last_sent_ = now;
  return sent;
}

absl::Status ChatApp::OnServerReadable() {
  std::vector<std::string> lines;
  absl::Status read = connection_->ReadLines(&lines);
  for (const std::string& line : lines) {
    absl::StatusOr<ServerEvent> event = ParseServerLine(line);
    if (!event.ok()) {
      print_(RenderNote(absl::StrCat("unreadable line from the server: ", event.status().message()),
                        true, render_));
      continue;
    }
    if (event->kind == ServerEvent::Kind::kBye) {
      got_bye_ = true;
      bye_reason_ = event->text;
    }
    NoteHistory(*event);
    client::Session::Reaction reaction = session_->OnEvent(*event);
    bool keepalive_pong = event->kind == ServerEvent::Kind::kPong && event->text == kKeepAliveToken;
    // After a reconnect, a replay (of a room created again) may repeat lines already shown.
    bool seen = event->kind == ServerEvent::Kind::kMsg && event->history && event->id != 0 &&
                event->id <= session_->seen_up_to();
    std::string shown = reaction.quiet || keepalive_pong || seen ? "" : Render(*event, render_);
    if (event->kind == ServerEvent::Kind::kOk && event->command == OkWord(Command::Kind::kTopic)) {
      shown = TopicDone(*event);
    }
    NoteTopicAnswer(*event);
    if (!shown.empty()) print_(shown);
    if (!reaction.send.empty()) {
      if (absl::Status sent = Send(reaction.send); !sent.ok()) return sent;
    }
  }
  return read;
}

absl::Status ChatApp::OnTypedLine(absl::string_view line) {
  line = absl::StripTrailingAsciiWhitespace(line);
  if (line.empty()) return absl::OkStatus();
  if (!absl::StartsWith(line, "/") && HoldsSecret(line)) {
    // The server would take " /login alice PASSWORD" for chat text and say it to the room.
    print_(RenderNote("not sent: a command starts with / (no space before it)", true, render_));
    return absl::OkStatus();
  }
  // Read as the server will; a line it would refuse goes as typed, and the server says why.
  absl::StatusOr<Command> command = ParseCommand(line);
  if (command.ok() && command->kind == Command::Kind::kHelp) {
    PrintLocalHelp();
    return absl::OkStatus();
  }
  if (command.ok() && command->kind == Command::Kind::kQuit) return Quit();
  if (command.ok()) session_->OnTypedCommand(*command);  // the room keys typed
  if (command.ok() && command->kind == Command::Kind::kTopic) {
    topics_typed_.push_back({command->text});
  }
  if (command.ok() && command->kind == Command::Kind::kHistory && command->before_id == 0 &&
      history_oldest_ != 0 && history_room_ == NameKey(session_->room())) {
    return Send(absl::StrCat(line, " before=", history_oldest_, "\n"));  // scroll further back
  }
  if (command.ok() && command->kind == Command::Kind::kMsg) {
    // Echo what was sent, since the server confirms only with OK MSG.
    print_(RenderNote(absl::StrCat("(to ", command->name, ") ", command->text), false, render_));
  }
  return Send(absl::StrCat(line, "\n"));
}

absl::Status ChatApp::Quit() {
  if (quitting_) return absl::OkStatus();
  quitting_ = true;
  return Send(FormatCommand(Command::Kind::kQuit));
}

void ChatApp::NoteHistory(const ServerEvent& event) {
  if (event.kind != ServerEvent::Kind::kMsg || !event.history || event.id == 0) return;
  std::string room = NameKey(event.room);
  if (room != history_room_) {
    history_room_ = room;
    history_oldest_ = event.id;
  }
  history_oldest_ = std::min(history_oldest_, event.id);
}

void ChatApp::NoteTopicAnswer(const ServerEvent& event) {
  if (topics_typed_.empty()) return;
  if (event.kind == ServerEvent::Kind::kTopic && topics_typed_.front().text.empty()) {
    topics_typed_.front().shown = true;
  }
  // The errors a /topic the client parsed gets (one over-long is refused here and not queued).
  if (event.kind == ServerEvent::Kind::kOk && event.command == OkWord(Command::Kind::kTopic)) {
    topics_typed_.pop_front();
  } else if (event.kind == ServerEvent::Kind::kErr &&
             (event.code == ErrorCodeName(ErrorCode::kNotOp) ||
              event.code == ErrorCodeName(ErrorCode::kNotInRoom))) {
    topics_typed_.pop_front();  // maybe another command's, if several wait: then less is said
  }
}

std::string ChatApp::TopicDone(const ServerEvent& event) {
  absl::string_view room = event.args.empty() ? "the room" : absl::string_view(event.args[0]);
  if (topics_typed_.empty()) {  // its /topic was taken for another's error
    return RenderNote(absl::StrCat("Topic of ", room, ": done"), false, render_);
  }
  const TypedTopic& typed = topics_typed_.front();
  std::string text;
  if (typed.text.empty()) {
    if (typed.shown) return "";  // the TOPIC line said it
    text = absl::StrCat(room, " has no topic");
  } else if (typed.text == "-") {
    text = absl::StrCat("You cleared the topic of ", room);
  } else {
    text = absl::StrCat("You set the topic of ", room, ": ", typed.text);
  }
  return RenderNote(text, false, render_);
}

void ChatApp::PrintLocalHelp() {
  static constexpr absl::string_view kHelp[] = {
      "Type a line and press Enter to say it to your room. Commands:",
      "  /nick NAME        change your nickname",
      "  /create ROOM      create a room and move into it",
      "  /join ROOM        move into a room",
      "  /leave            go back to the lobby",
      "  /rooms            list the rooms",
      "  /who [ROOM]       list who is in a room",
      "  /whoami           your nickname and room",
      "  /msg NICK TEXT    a private message",
      "  /history [N]      show N earlier lines of the room (again: the ones before those)",
      "  /join ROOM KEY    move into a room that needs a key",
      "  /register PASSWORD       make your nick an account (8-128 bytes, no spaces)",
      "  /login NICK PASSWORD     log in to an account and take its nick",
      "  /password OLD NEW        change your password      /logout   log out",
      "  Room operators: /op NICK, /deop NICK, /kick NICK [REASON], /ban NICK, /unban WHO,",
      "    /bans, /topic [TEXT|-], /key SECRET|-",
      "  Lines with a password or a key are not kept in the Up/Down history.",
      "  /ping             check the server answers",
      "  /quit             leave (also Ctrl-D on an empty line, or Ctrl-C)",
      "  //text            say a line that starts with /",
      "Keys: Up/Down for history, Left/Right/Home/End to move, Ctrl-U to clear the line.",
  };
  for (absl::string_view line : kHelp) print_(line);
}

}  // namespace roomchat
