// Session: what a client knows about itself from the server's replies (its nick and its room), and
// the setup a client does after WELCOME: take --nick, then join --room, creating it if it does not
// exist yet (and joining after all if someone else created it first).
//
// With SessionOptions::history, it first asks the server for the capabilities a person's client
// wants (tags and replay, those the server offers; an older server that has no /cap is fine), keeps
// the last id it saw in its room, and joins with "since=" that id when it is given one (a client
// reconnecting after a lost connection misses nothing).
//
// Accounts and moderation (docs/PROTOCOL.md): it follows the nick through OK LOGIN and RENAMED,
// knows whether it is logged in, goes back to the lobby on KICKED, and remembers the key of its
// room (from the /join, /create or /key the person typed, told by OnTypedCommand()) so that a
// reconnect can rejoin a room that needs one. The key lives only in this object's memory; it is
// never shown. No password ever reaches the session.
//
// Thread contract: not thread-safe; one thread feeds it.
#ifndef ROOMCHAT_CHAT_CLIENT_SESSION_H_
#define ROOMCHAT_CHAT_CLIENT_SESSION_H_

#include <string>

#include "absl/strings/string_view.h"
#include "chat/protocol/command.h"
#include "chat/protocol/server_event.h"

namespace roomchat {
namespace client {

struct SessionOptions {
  bool history = false;   // ask for tags and replay; track ids
  uint64_t since_id = 0;  // join the room with since= this id (0: a plain join)
  std::string room_key;   // join (or create) the room with this key (empty: none)
};

class Session {
 public:
  // Either may be empty: keep the guest nick, stay in the lobby.
  Session(std::string wanted_nick, std::string wanted_room, SessionOptions options = {});

  struct Reaction {
    std::string send;    // what to send next for the setup; empty if nothing
    bool quiet = false;  // an expected step of the setup (no-such-room before creating it): not
                         // worth showing
  };
  // Updates what is known from `event` and says what the setup does next.
  Reaction OnEvent(const ServerEvent& event);
  // Notes a command the person typed, before it is sent: the key of a /join, /create or /key is
  // kept once the server's OK shows it took effect.
  void OnTypedCommand(const Command& command);
  // The session of a new connection that carries on this one after the old one was lost: the
  // same nick (unless logged in: the account's nick needs /login again), the room it is in (none
  // after /leave or KICKED) with since= the last id seen and the room's key. Before the setup is
  // over, the setup this one was asked for.
  Session ForReconnect() const;

  // Empty until WELCOME.
  const std::string& nick() const { return nick_; }
  // Empty in the lobby.
  const std::string& room() const { return room_; }
  // True once WELCOME came and the --nick/--room steps are over (whether or not they worked).
  bool setup_done() const { return step_ == Step::kDone; }
  // True after OK REGISTER or OK LOGIN, until OK LOGOUT or RENAMED.
  bool logged_in() const { return logged_in_; }
  // "nick@room> ", or "nick@lobby> " in no room.
  std::string Prompt() const;
  // The newest id seen on a chat line of the current room (0: none); needs tags.
  uint64_t last_id() const { return last_id_; }
  // Lines up to this id were seen before a reconnect: a replay that repeats them is not news.
  uint64_t seen_up_to() const { return options_.since_id; }

 private:
  enum class Step { kWaitingForWelcome, kAskingCaps, kRequestingCaps, kNaming, kJoining, kCreating,
                    kDone };

  // The step after the capabilities: naming, or what comes after it.
  Reaction StartNaming();
  // The step after naming: joining the room, or done.
  std::string StartJoining();
  // "/create ROOM [KEY]" for the wanted room.
  std::string CreateCommand() const;
  Reaction AfterCaps(const ServerEvent& event);
  void NoteIds(const ServerEvent& event);
  Reaction AdvanceSetup(const ServerEvent& event);
  // Nick, login and room (and its key) from the replies and the moderation lines.
  void NoteAccount(const ServerEvent& event);
  void NoteRoom(const ServerEvent& event);

  // Const after construction.
  const std::string wanted_nick_;
  const std::string wanted_room_;
  const SessionOptions options_;

  Step step_ = Step::kWaitingForWelcome;
  int join_attempts_ = 0;
  std::string nick_;
  std::string room_;
  uint64_t last_id_;
  bool logged_in_ = false;
  std::string room_key_;        // the key of room_, if the person gave one
  std::string typed_key_room_;  // the NameKey() of the room the key below was typed for
  std::string typed_key_;       // the key typed last, until the server's OK; "" for none
};

}  // namespace client
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLIENT_SESSION_H_
