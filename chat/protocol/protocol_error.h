// Protocol errors: the ERR codes of protocol v1 (docs/PROTOCOL.md), carried inside absl::Status.
//
// Anything that can fail returns absl::Status; when the failure is one a client should see as an
// "ERR <code> <text>" line, ProtocolError() builds a status with a fitting canonical code and the
// wire code attached as a payload, and ErrLine() turns any status back into that line. Pure; safe
// from any thread.
#ifndef ROOMCHAT_CHAT_PROTOCOL_PROTOCOL_ERROR_H_
#define ROOMCHAT_CHAT_PROTOCOL_PROTOCOL_ERROR_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace roomchat {

enum class ErrorCode {
  kUnknownCommand,
  kBadArgs,
  kBadName,
  kNickTaken,
  kNoSuchRoom,
  kRoomExists,
  kNoSuchNick,
  kNotInRoom,
  kRoomFull,
  kLimit,
  kLineTooLong,
  kBadEncoding,
  kFlood,
  kHistoryGap,   // /join since=ID: lines after ID are no longer held
  kUnavailable,  // the server cannot do it now (history off, the store failing)
  // Accounts and moderation (docs/PROTOCOL.md, "Accounts and moderation"):
  kNickRegistered,  // the nick is an account's; /login to take it
  kAuthFailed,      // wrong nick or password, not logged in, or too many failures for now
  kInsecure,        // a password over a connection that is neither TLS nor loopback
  kNotOp,           // only the room's operators may do that
  kBanned,          // the room bans you
  kBadKey,          // the room needs a key, and this is not it
};

// Every ErrorCode, for tests that must cover them all. Keep in step with the enum.
inline constexpr ErrorCode kAllErrorCodes[] = {
    ErrorCode::kUnknownCommand, ErrorCode::kBadArgs,     ErrorCode::kBadName,
    ErrorCode::kNickTaken,      ErrorCode::kNoSuchRoom,  ErrorCode::kRoomExists,
    ErrorCode::kNoSuchNick,     ErrorCode::kNotInRoom,   ErrorCode::kRoomFull,
    ErrorCode::kLimit,          ErrorCode::kLineTooLong, ErrorCode::kBadEncoding,
    ErrorCode::kFlood,          ErrorCode::kHistoryGap,  ErrorCode::kUnavailable,
    ErrorCode::kNickRegistered, ErrorCode::kAuthFailed,  ErrorCode::kInsecure,
    ErrorCode::kNotOp,          ErrorCode::kBanned,      ErrorCode::kBadKey,
};
static_assert(sizeof(kAllErrorCodes) / sizeof(kAllErrorCodes[0]) ==
                  static_cast<size_t>(ErrorCode::kBadKey) + 1,
              "kAllErrorCodes must list every ErrorCode, kBadKey last");

// The code as it appears on the wire, e.g. "no-such-room".
absl::string_view ErrorCodeName(ErrorCode code);

// A status whose ErrLine() is "ERR <code> <text>".
absl::Status ProtocolError(ErrorCode code, absl::string_view text);

// "ERR <code> <text>\n" for `status`, which must not be OK. A status that is not a ProtocolError
// (an internal failure) is reported with the code closest to its canonical code.
std::string ErrLine(const absl::Status& status);

// The wire code of `status`, if it is a ProtocolError.
bool HasErrorCode(const absl::Status& status, ErrorCode code);

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_PROTOCOL_ERROR_H_
