// Name rules shared by nicknames and room names.
//
// A name is 1-32 characters of A-Z a-z 0-9 _ - . (ASCII only) and starts with an ASCII letter or
// a digit. Names are
// unique case-insensitively: NameKey() gives the form used for lookups, while replies show a name
// as it was first given. Pure functions; safe from any thread.
#ifndef ROOMCHAT_CHAT_PROTOCOL_NAMES_H_
#define ROOMCHAT_CHAT_PROTOCOL_NAMES_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace roomchat {

inline constexpr size_t kMaxNameLength = 32;

// OK, or a bad-name protocol error saying which rule `name` breaks. `what` is "nick" or "room".
absl::Status ValidateName(absl::string_view what, absl::string_view name);

// The case-folded lookup key of a valid name.
std::string NameKey(absl::string_view name);

// Whether `nick` has the form of the nicks the server hands out ("guest" and digits, any case):
// such a nick is nobody's for long, so it cannot be registered and is not banned by name.
bool IsGuestNick(absl::string_view nick);

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_NAMES_H_
