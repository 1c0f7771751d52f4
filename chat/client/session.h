// Session: what a client knows about itself from the server's replies (its nick and its room), and
// the setup a client does after WELCOME: take --nick, then join --room, creating it if it does not
// exist yet (and joining after all if someone else created it first).
//
// Thread contract: not thread-safe; one thread feeds it.
#ifndef ROOMCHAT_CHAT_CLIENT_SESSION_H_
#define ROOMCHAT_CHAT_CLIENT_SESSION_H_

#include <string>

#include "absl/strings/string_view.h"
#include "chat/protocol/server_event.h"

namespace roomchat {
namespace client {

class Session {
 public:
  // Either may be empty: keep the guest nick, stay in the lobby.
  Session(std::string wanted_nick, std::string wanted_room);

  struct Reaction {
    std::string send;    // what to send next for the setup; empty if nothing
    bool quiet = false;  // an expected step of the setup (no-such-room before creating it): not
                         // worth showing
  };
  // Updates what is known from `event` and says what the setup does next.
  Reaction OnEvent(const ServerEvent& event);

  // Empty until WELCOME.
  const std::string& nick() const { return nick_; }
  // Empty in the lobby.
  const std::string& room() const { return room_; }
  // True once WELCOME came and the --nick/--room steps are over (whether or not they worked).
  bool setup_done() const { return step_ == Step::kDone; }
  // "nick@room> ", or "nick@lobby> " in no room.
  std::string Prompt() const;

 private:
  enum class Step { kWaitingForWelcome, kNaming, kJoining, kCreating, kDone };

  // The step after naming: joining the room, or done.
  std::string StartJoining();
  Reaction AdvanceSetup(const ServerEvent& event);

  // Const after construction.
  const std::string wanted_nick_;
  const std::string wanted_room_;

  Step step_ = Step::kWaitingForWelcome;
  int join_attempts_ = 0;
  std::string nick_;
  std::string room_;
};

}  // namespace client
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLIENT_SESSION_H_
