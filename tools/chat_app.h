// ChatApp: what the terminal client does with server lines and typed lines, in either mode.
//
// Server lines are parsed, fed to the Session (which may answer, for --nick/--room) and rendered
// through `print`. Typed lines go to the server as they are, except /help, which is answered here,
// and /msg, whose text is echoed ("(to bob) hi") since the server does not echo it. When nothing
// has been sent for the keepalive interval, KeepAlive() sends "/ping keepalive" so that a person
// who only reads is not taken for an idle connection (the server's --idle_timeout_s); its PONG is
// not shown. With history (the server's tags and replay), lines said before are shown dimmed with their
// time, and "/history" typed again goes further back: the client adds "before=" the oldest id shown.
// The OK TOPIC that answers a typed /topic is shown as what it did (set, cleared, or no topic);
// the /topic commands are answered in order, so they wait in a queue.
// Typed lines tell the Session the room keys typed (for a reconnect); nothing shown echoes a
// password or a key, and HoldsSecret() says which typed lines the line editor must not keep in its
// history. A password or key command typed after spaces, which the server would take for chat text
// and say to the room, is not sent.
//
// Thread contract: not thread-safe; the client's one thread uses it.
#ifndef ROOMCHAT_TOOLS_CHAT_APP_H_
#define ROOMCHAT_TOOLS_CHAT_APP_H_

#include <chrono>
#include <functional>
#include <deque>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "chat/client/line_connection.h"
#include "chat/client/session.h"
#include "tools/render.h"

namespace roomchat {

// Whether a typed line carries a password or a room key: /register, /login and /password always
// (even mistyped), /key SECRET, and /join or /create with a key. Such a line must not be kept where
// it could come back (the line editor's up-arrow history).
bool HoldsSecret(absl::string_view line);

class ChatApp {
 public:
  using Clock = std::chrono::steady_clock;

  // `print` shows one rendered line (no newline) to the person. A `keepalive` of zero is off.
  ChatApp(LineConnection* connection, client::Session* session, RenderOptions render,
          std::function<void(absl::string_view)> print, std::chrono::milliseconds keepalive,
          Clock::time_point now);

  // Reads what the server sent and handles each line. Unavailable when the connection is gone.
  absl::Status OnServerReadable();
  // Handles one line the person typed. Unavailable if it could not be sent.
  absl::Status OnTypedLine(absl::string_view line);
  // Sends /quit; from now on a closed connection is the expected end.
  absl::Status Quit();
  // Sends the keepalive ping if nothing was sent for the keepalive interval.
  absl::Status KeepAlive(Clock::time_point now);

  bool quitting() const { return quitting_; }
  // Set when the server sent BYE.
  bool got_bye() const { return got_bye_; }
  const std::string& bye_reason() const { return bye_reason_; }
  const RenderOptions& render() const { return render_; }

 private:
  void PrintLocalHelp();
  // Remembers the oldest line of history shown in the current room.
  void NoteHistory(const ServerEvent& event);
  // Follows the typed /topic commands through their answers.
  void NoteTopicAnswer(const ServerEvent& event);
  // What to show for the OK TOPIC answering the oldest /topic typed and not yet answered.
  std::string TopicDone(const ServerEvent& event);
  absl::Status Send(absl::string_view bytes);

  // Const after construction.
  LineConnection* const connection_;
  client::Session* const session_;
  const RenderOptions render_;
  const std::function<void(absl::string_view)> print_;
  const std::chrono::milliseconds keepalive_;

  Clock::time_point last_sent_;
  bool quitting_ = false;
  bool got_bye_ = false;
  std::string bye_reason_;
  std::string history_room_;   // the room key of history_oldest_
  uint64_t history_oldest_ = 0;
  struct TypedTopic {
    std::string text;    // "": asking for the topic; "-": clearing it
    bool shown = false;  // asking: a TOPIC line answered
  };
  std::deque<TypedTopic> topics_typed_;  // the /topic commands not answered yet, oldest first
};

}  // namespace roomchat

#endif  // ROOMCHAT_TOOLS_CHAT_APP_H_
