// Rendering server events for people: "[room] alice: hello", "* bob joined room",
// "(private) carol: hi", errors in red where color is wanted. Pure; safe from any thread.
#ifndef ROOMCHAT_TOOLS_RENDER_H_
#define ROOMCHAT_TOOLS_RENDER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "chat/protocol/server_event.h"

namespace roomchat {

struct RenderOptions {
  bool color = false;
};

// The text to print for `event`, without a newline; empty when there is nothing worth showing
// (OK HELP, OK MSG: the typed message is echoed when sent; OK TOPIC: ChatApp says what the /topic
// typed did). Nothing rendered shows a password or a room key: no server line carries one.
std::string Render(const ServerEvent& event, const RenderOptions& options);

// "HH:MM" of an RFC 3339 time (a line's time tag) in `zone`; "--:--" if it does not parse.
std::string LocalClock(absl::string_view rfc3339, absl::TimeZone zone = absl::LocalTimeZone());

// A line of the client's own ("* ..."), e.g. for connection trouble; red when `error` and color.
std::string RenderNote(absl::string_view text, bool error, const RenderOptions& options);

// Whether to color output written to `fd`: a terminal, TERM set and not "dumb", NO_COLOR unset
// (https://no-color.org). Reads the environment given (`no_color`, `term` may be null).
bool WantsColor(bool is_terminal, const char* no_color, const char* term);

}  // namespace roomchat

#endif  // ROOMCHAT_TOOLS_RENDER_H_
