#include "chat/client/session.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "chat/protocol/command.h"
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

Session::Session(std::string wanted_nick, std::string wanted_room)
    : wanted_nick_(std::move(wanted_nick)), wanted_room_(std::move(wanted_room)) {}

std::string Session::Prompt() const {
  return absl::StrCat(nick_, "@", room_.empty() ? "lobby" : room_, "> ");
}

Session::Reaction Session::OnEvent(const ServerEvent& event) {
  if (event.kind == Kind::kWelcome) nick_ = event.nick;
  if (IsOk(event, CommandKind::kNick) && !event.args.empty()) nick_ = event.args[0];
  if ((IsOk(event, CommandKind::kCreate) || IsOk(event, CommandKind::kJoin)) && !event.args.empty())
    room_ = event.args[0];
  if (IsOk(event, CommandKind::kLeave)) room_.clear();
  return AdvanceSetup(event);
}

std::string Session::StartJoining() {
  if (wanted_room_.empty()) {
    step_ = Step::kDone;
    return "";
  }
  step_ = Step::kJoining;
  ++join_attempts_;
  return FormatCommand(CommandKind::kJoin, {wanted_room_});
}

Session::Reaction Session::AdvanceSetup(const ServerEvent& event) {
  switch (step_) {
    case Step::kWaitingForWelcome:
      if (event.kind != Kind::kWelcome) return {};
      if (wanted_nick_.empty()) return {StartJoining()};
      step_ = Step::kNaming;
      return {FormatCommand(CommandKind::kNick, {wanted_nick_})};
    case Step::kNaming:
      // Taken or refused: the error is shown, and the guest nick stays.
      if (IsOk(event, CommandKind::kNick) || event.kind == Kind::kErr) return {StartJoining()};
      return {};
    case Step::kJoining:
      if (IsOk(event, CommandKind::kJoin)) step_ = Step::kDone;
      if (event.kind != Kind::kErr) return {};
      if (IsErr(event, ErrorCode::kNoSuchRoom)) {
        step_ = Step::kCreating;
        return {FormatCommand(CommandKind::kCreate, {wanted_room_}), true};
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
