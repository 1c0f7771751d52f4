#include "chat/protocol/names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "chat/protocol/protocol_error.h"

namespace roomchat {
namespace {

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

}  // namespace

absl::Status ValidateName(absl::string_view what, absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return ProtocolError(ErrorCode::kBadName,
                         absl::StrCat(what, " must be 1-", kMaxNameLength, " characters"));
  }
  if (!absl::ascii_isalnum(static_cast<unsigned char>(name.front()))) {
    return ProtocolError(ErrorCode::kBadName,
                         absl::StrCat(what, " must start with an ASCII letter or digit"));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return ProtocolError(ErrorCode::kBadName,
                           absl::StrCat(what, " may only use A-Z a-z 0-9 _ - ."));
    }
  }
  return absl::OkStatus();
}

std::string NameKey(absl::string_view name) { return absl::AsciiStrToLower(name); }

bool IsGuestNick(absl::string_view nick) {
  constexpr absl::string_view kGuest = "guest";
  if (nick.size() <= kGuest.size() || NameKey(nick.substr(0, kGuest.size())) != kGuest) {
    return false;
  }
  for (char c : nick.substr(kGuest.size())) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace roomchat
