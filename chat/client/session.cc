#include "chat/client/session.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chat/protocol/caps.h"
#include "chat/protocol/command.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"

namespace roomchat {
namespace client {
namespace {

using Kind = ServerEvent::Kind;
using CommandKind = Command::Kind;

// A create can lose a race to another client's create; then join it. Bounded, as the room may also
// empty and vanish between the two.
constexpr int kMaxJoinAttempts = 3;

bool IsOk(const ServerEvent& event, CommandKind command) {
  return event.kind == Kind::kOk && event.command == OkWord(command);
}

bool IsErr(const ServerEvent& event, ErrorCode code) {
  return event.kind == Kind::kErr && event.code == ErrorCodeName(code);
}

}  // namespace

Session::Session(std::string wanted_nick, std::string wanted_room, SessionOptions options)
    : wanted_nick_(std::move(wanted_nick)),
      wanted_room_(std::move(wanted_room)),
      options_(std::move(options)),
      last_id_(options_.since_id),
      typed_key_room_(NameKey(wanted_room_)),
      typed_key_(options_.room_key) {}

Session Session::ForReconnect() const {
  if (!setup_done()) return Session(wanted_nick_, wanted_room_, options_);
  SessionOptions options = options_;
  options.since_id = room_.empty() ? 0 : last_id_;
  options.room_key = room_.empty() ? "" : room_key_;
  return Session(logged_in_ ? "" : nick_, room_, std::move(options));
}

void Session::OnTypedCommand(const Command& command) {
  switch (command.kind) {
    case CommandKind::kJoin:
    case CommandKind::kCreate:
      typed_key_room_ = NameKey(command.name);
      typed_key_ = command.key;
      return;
    case CommandKind::kKey:
      typed_key_room_ = NameKey(room_);
      typed_key_ = command.key == "-" ? "" : command.key;
      return;
    default: return;
  }
}

std::string Session::Prompt() const {
  return absl::StrCat(nick_, "@", room_.empty() ? "lobby" : room_, "> ");
}

Session::Reaction Session::OnEvent(const ServerEvent& event) {
  NoteAccount(event);
  NoteIds(event);
  NoteRoom(event);
  return AdvanceSetup(event);
}

void Session::NoteAccount(const ServerEvent& event) {
  if (event.kind == Kind::kWelcome) nick_ = event.nick;
  bool named = IsOk(event, CommandKind::kNick) || IsOk(event, CommandKind::kLogin) ||
               IsOk(event, CommandKind::kRegister);
  if (named && !event.args.empty()) nick_ = event.args[0];
  if (IsOk(event, CommandKind::kLogin) || IsOk(event, CommandKind::kRegister)) logged_in_ = true;
  if (IsOk(event, CommandKind::kLogout)) logged_in_ = false;
  if (event.kind == Kind::kRenamed) {  // someone logged in to our nick
    nick_ = event.new_nick;
    logged_in_ = false;
  }
}

// Reads room_ before changing it: a /join of the room it is in keeps its key.
void Session::NoteRoom(const ServerEvent& event) {
  if ((IsOk(event, CommandKind::kCreate) || IsOk(event, CommandKind::kJoin)) &&
      !event.args.empty()) {
    std::string joined = NameKey(event.args[0]);
    if (joined == typed_key_room_ && !typed_key_.empty()) {
      room_key_ = typed_key_;
    } else if (joined != NameKey(room_)) {
      room_key_.clear();
    }  // else: /join of the room it is in changes nothing
    room_ = event.args[0];
  }
  if (IsOk(event, CommandKind::kKey) && !event.args.empty() &&
      NameKey(event.args[0]) == NameKey(room_)) {
    bool removed = event.args.size() > 1 && event.args[1] == "-";
    room_key_ = removed || typed_key_room_ != NameKey(room_) ? "" : typed_key_;
  }
  if (IsOk(event, CommandKind::kLeave) || event.kind == Kind::kKicked) {
    room_.clear();  // KICKED: back in the lobby, and a reconnect must not rejoin
    room_key_.clear();
    last_id_ = 0;
  }
}

void Session::NoteIds(const ServerEvent& event) {
  if ((IsOk(event, CommandKind::kCreate) || IsOk(event, CommandKind::kJoin)) && step_ == Step::kDone) {
    last_id_ = 0;  // another room
  }
  if (event.kind == Kind::kMsg && event.id > last_id_ && NameKey(event.room) == NameKey(room_)) {
    last_id_ = event.id;
  }
}

Session::Reaction Session::StartNaming() {
  if (wanted_nick_.empty()) return {StartJoining()};
  step_ = Step::kNaming;
  return {FormatCommand(CommandKind::kNick, {wanted_nick_})};
}

// The capabilities a person's client wants, of those the server offers ("OK CAP ack replay tags").
Session::Reaction Session::AfterCaps(const ServerEvent& event) {
  std::vector<absl::string_view> wanted;
  for (const std::string& offered : event.args) {
    if (offered == CapName(Cap::kTags) || offered == CapName(Cap::kReplay)) {
      wanted.push_back(offered);
    }
  }
  if (wanted.empty()) {
    Reaction next = StartNaming();
    next.quiet = true;
    return next;
  }
  step_ = Step::kRequestingCaps;
  std::vector<absl::string_view> args = {"req"};
  args.insert(args.end(), wanted.begin(), wanted.end());
  return {FormatCommand(CommandKind::kCap, args), true};
}

std::string Session::StartJoining() {
  if (wanted_room_.empty()) {
    step_ = Step::kDone;
    return "";
  }
  step_ = Step::kJoining;
  ++join_attempts_;
  std::vector<absl::string_view> args = {wanted_room_};
  if (!options_.room_key.empty()) args.push_back(options_.room_key);
  std::string since = absl::StrCat("since=", options_.since_id);
  if (options_.since_id != 0) args.push_back(since);
  return FormatCommand(CommandKind::kJoin, args);
}

std::string Session::CreateCommand() const {
  std::vector<absl::string_view> args = {wanted_room_};
  if (!options_.room_key.empty()) args.push_back(options_.room_key);
  return FormatCommand(CommandKind::kCreate, args);
}

Session::Reaction Session::AdvanceSetup(const ServerEvent& event) {
  switch (step_) {
    case Step::kWaitingForWelcome:
      if (event.kind != Kind::kWelcome) return {};
      if (!options_.history) return StartNaming();
      step_ = Step::kAskingCaps;
      return {FormatCommand(CommandKind::kCap), false};
    case Step::kAskingCaps:  // an older server answers ERR unknown-command: no history then
      if (IsOk(event, CommandKind::kCap)) return AfterCaps(event);
      if (event.kind == Kind::kErr) {
        Reaction next = StartNaming();
        next.quiet = true;
        return next;
      }
      return {};
    case Step::kRequestingCaps:
      if (IsOk(event, CommandKind::kCap) || event.kind == Kind::kErr) {
        Reaction next = StartNaming();
        next.quiet = true;
        return next;
      }
      return {};
    case Step::kNaming:
      // Taken or refused: the error is shown, and the guest nick stays.
      if (IsOk(event, CommandKind::kNick) || event.kind == Kind::kErr) return {StartJoining()};
      return {};
    case Step::kJoining:
      if (IsOk(event, CommandKind::kJoin)) step_ = Step::kDone;
      if (event.kind != Kind::kErr) return {};
      if (IsErr(event, ErrorCode::kNoSuchRoom)) {
        step_ = Step::kCreating;
        return {CreateCommand(), true};
      }
      step_ = Step::kDone;
      return {};
    case Step::kCreating:
      if (IsOk(event, CommandKind::kCreate)) step_ = Step::kDone;
      if (event.kind != Kind::kErr) return {};
      if (IsErr(event, ErrorCode::kRoomExists) && join_attempts_ < kMaxJoinAttempts) {
        return {StartJoining(), true};
      }
      step_ = Step::kDone;
      return {};
    case Step::kDone: return {};
  }
  return {};
}

}  // namespace client
}  // namespace roomchat
