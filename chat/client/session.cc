#include "chat/client/session.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace roomchat {
namespace client {
namespace {

using Kind = ServerEvent::Kind;

// A create can lose a race to another client's create; then join it. Bounded, as the room may also
// empty and vanish between the two.
constexpr int kMaxJoinAttempts = 3;

bool IsOk(const ServerEvent& event, absl::string_view command) {
  return event.kind == Kind::kOk && event.command == command;
}

}  // namespace

Session::Session(std::string wanted_nick, std::string wanted_room)
    : wanted_nick_(std::move(wanted_nick)), wanted_room_(std::move(wanted_room)) {}

std::string Session::Prompt() const {
  return absl::StrCat(nick_, "@", room_.empty() ? "lobby" : room_, "> ");
}

Session::Reaction Session::OnEvent(const ServerEvent& event) {
  if (event.kind == Kind::kWelcome) nick_ = event.nick;
  if (IsOk(event, "NICK") && !event.args.empty()) nick_ = event.args[0];
  if ((IsOk(event, "CREATE") || IsOk(event, "JOIN")) && !event.args.empty()) room_ = event.args[0];
  if (IsOk(event, "LEAVE")) room_.clear();
  return AdvanceSetup(event);
}

std::string Session::StartJoining() {
  if (wanted_room_.empty()) {
    step_ = Step::kDone;
    return "";
  }
  step_ = Step::kJoining;
  ++join_attempts_;
  return Command("join", {wanted_room_});
}

Session::Reaction Session::AdvanceSetup(const ServerEvent& event) {
  switch (step_) {
    case Step::kWaitingForWelcome:
      if (event.kind != Kind::kWelcome) return {};
      if (wanted_nick_.empty()) return {StartJoining()};
      step_ = Step::kNaming;
      return {Command("nick", {wanted_nick_})};
    case Step::kNaming:
      // Taken or refused: the error is shown, and the guest nick stays.
      if (IsOk(event, "NICK") || event.kind == Kind::kErr) return {StartJoining()};
      return {};
    case Step::kJoining:
      if (IsOk(event, "JOIN")) step_ = Step::kDone;
      if (event.kind != Kind::kErr) return {};
      if (event.code == "no-such-room") {
        step_ = Step::kCreating;
        return {Command("create", {wanted_room_}), true};
      }
      step_ = Step::kDone;
      return {};
    case Step::kCreating:
      if (IsOk(event, "CREATE")) step_ = Step::kDone;
      if (event.kind != Kind::kErr) return {};
      if (event.code == "room-exists" && join_attempts_ < kMaxJoinAttempts) {
        return {StartJoining(), true};
      }
      step_ = Step::kDone;
      return {};
    case Step::kDone:
      return {};
  }
  return {};
}

}  // namespace client
}  // namespace roomchat
