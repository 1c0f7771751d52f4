// The server's data directory: created once (mkdir -p, mode 0700) and held by one server at a time
// through an exclusive flock on `dir`/roomchat.lock.
//
// The history database and the account database share one SQLite file in this directory, each
// through its own connection; whoever owns the server takes the lock once (HistoryDb::Open does it
// when history is on, the server itself otherwise), so two servers never write one file.
//
// Errors name the path and the reason; their text has no prefix of its own, so callers can say
// which of their parts failed ("history db: ...").
//
// Thread contract: plain functions over the file system; safe from any thread.
#ifndef ROOMCHAT_CHAT_HISTORY_DATA_DIR_H_
#define ROOMCHAT_CHAT_HISTORY_DATA_DIR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace roomchat {

// mkdir -p: creates each missing component of `dir` with mode 0700. OK when `dir` already is a
// directory; FailedPrecondition when it (or a component) exists and is not one.
absl::Status MakeDataDir(const std::string& dir);

// Takes `dir`/roomchat.lock (created mode 0600 if missing) with an exclusive, non-blocking flock
// and returns its descriptor: the directory is held until the caller closes it (or exits).
// FailedPrecondition "... is in use by another roomchat server ..." when another process (or
// another open descriptor in this one) holds it.
absl::StatusOr<int> LockDataDir(const std::string& dir);

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_HISTORY_DATA_DIR_H_
