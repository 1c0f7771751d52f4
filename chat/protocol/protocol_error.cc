#include "chat/protocol/protocol_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "chat/protocol/words.h"

namespace roomchat {
namespace {

constexpr absl::string_view kPayloadUrl = "roomchat/err";

struct CodeInfo {
  absl::string_view name;
  absl::StatusCode canonical;
};

CodeInfo Info(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownCommand: return {"unknown-command", absl::StatusCode::kUnimplemented};
    case ErrorCode::kBadArgs: return {"bad-args", absl::StatusCode::kInvalidArgument};
    case ErrorCode::kBadName: return {"bad-name", absl::StatusCode::kInvalidArgument};
    case ErrorCode::kNickTaken: return {"nick-taken", absl::StatusCode::kAlreadyExists};
    case ErrorCode::kNoSuchRoom: return {"no-such-room", absl::StatusCode::kNotFound};
    case ErrorCode::kRoomExists: return {"room-exists", absl::StatusCode::kAlreadyExists};
    case ErrorCode::kNoSuchNick: return {"no-such-nick", absl::StatusCode::kNotFound};
    case ErrorCode::kNotInRoom: return {"not-in-room", absl::StatusCode::kFailedPrecondition};
    case ErrorCode::kRoomFull: return {"room-full", absl::StatusCode::kResourceExhausted};
    case ErrorCode::kLimit: return {"limit", absl::StatusCode::kResourceExhausted};
    case ErrorCode::kLineTooLong: return {"line-too-long", absl::StatusCode::kInvalidArgument};
    case ErrorCode::kBadEncoding: return {"bad-encoding", absl::StatusCode::kInvalidArgument};
    case ErrorCode::kFlood: return {"flood", absl::StatusCode::kResourceExhausted};
    case ErrorCode::kHistoryGap: return {"history-gap", absl::StatusCode::kOutOfRange};
    case ErrorCode::kUnavailable: return {"unavailable", absl::StatusCode::kUnavailable};
    case ErrorCode::kNickRegistered:
      return {"nick-registered", absl::StatusCode::kPermissionDenied};
    case ErrorCode::kAuthFailed: return {"auth-failed", absl::StatusCode::kUnauthenticated};
    case ErrorCode::kInsecure: return {"insecure", absl::StatusCode::kFailedPrecondition};
    case ErrorCode::kNotOp: return {"not-op", absl::StatusCode::kPermissionDenied};
    case ErrorCode::kBanned: return {"banned", absl::StatusCode::kPermissionDenied};
    case ErrorCode::kBadKey: return {"bad-key", absl::StatusCode::kPermissionDenied};
  }
  return {"limit", absl::StatusCode::kInternal};  // Not reached: the switch covers every code.
}

// For statuses that did not come from ProtocolError(): the nearest wire code.
ErrorCode NearestCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return ErrorCode::kBadArgs;
    case absl::StatusCode::kUnimplemented: return ErrorCode::kUnknownCommand;
    default: return ErrorCode::kLimit;
  }
}

}  // namespace

absl::string_view ErrorCodeName(ErrorCode code) { return Info(code).name; }

absl::Status ProtocolError(ErrorCode code, absl::string_view text) {
  CodeInfo info = Info(code);
  absl::Status status(info.canonical, text);
  status.SetPayload(kPayloadUrl, absl::Cord(info.name));
  return status;
}

std::string ErrLine(const absl::Status& status) {
  absl::optional<absl::Cord> code = status.GetPayload(kPayloadUrl);
  std::string name =
      code ? std::string(*code) : std::string(ErrorCodeName(NearestCode(status.code())));
  return absl::StrCat(words::kErr, " ", name, " ", status.message(), "\n");
}

bool HasErrorCode(const absl::Status& status, ErrorCode code) {
  absl::optional<absl::Cord> payload = status.GetPayload(kPayloadUrl);
  return payload.has_value() && *payload == Info(code).name;
}

}  // namespace roomchat
