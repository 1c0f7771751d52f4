#include "tools/chat_app.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "chat/protocol/command.h"
#include "chat/protocol/names.h"

namespace roomchat {

namespace {

constexpr absl::string_view kKeepAliveToken = "keepalive";

}  // namespace

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
  // Read as the server will; a line it would refuse goes as typed, and the server says why.
  absl::StatusOr<Command> command = ParseCommand(line);
  if (command.ok() && command->kind == Command::Kind::kHelp) {
    PrintLocalHelp();
    return absl::OkStatus();
  }
  if (command.ok() && command->kind == Command::Kind::kQuit) return Quit();
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
      "  /ping             check the server answers",
      "  /quit             leave (also Ctrl-D on an empty line, or Ctrl-C)",
      "  //text            say a line that starts with /",
      "Keys: Up/Down for history, Left/Right/Home/End to move, Ctrl-U to clear the line.",
  };
  for (absl::string_view line : kHelp) print_(line);
}

}  // namespace roomchat
