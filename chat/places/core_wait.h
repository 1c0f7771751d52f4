// CoreWait: how much of the time the calling thread waited for a core, from the kernel's
// scheduler statistics (/proc/thread-self/schedstat: time run, time waited on a run queue, in ns,
// and time slices). A place's pacer asks after a slow pass: a thread that waits for a core a good
// share of the time is on saturated cores, where gathering lines into fewer sends frees them for
// the other threads (docs/ARCHITECTURE.md, pass pacing).
//
// Thread contract: not thread-safe; only the thread it measures calls it (its file is that
// thread's, opened on first use).
#ifndef ROOMCHAT_CHAT_PLACES_CORE_WAIT_H_
#define ROOMCHAT_CHAT_PLACES_CORE_WAIT_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "chat/net/connection.h"

namespace roomchat {

class CoreWait {
 public:
  CoreWait() = default;
  ~CoreWait();
  CoreWait(const CoreWait&) = delete;
  CoreWait& operator=(const CoreWait&) = delete;

  // The share (0 to 1) of the time since the last call that this thread spent waiting for a
  // core; 0 on the first call, and always where the kernel does not say.
  double ShareSinceLastAsked(Clock::time_point now);

  // The run-queue wait of a schedstat text ("<run ns> <wait ns> <slices>"); false if malformed.
  static bool ParseWaitNs(absl::string_view text, uint64_t* wait_ns);

 private:
  bool ReadWaitNs(uint64_t* wait_ns);

  int fd_ = -1;
  bool unavailable_ = false;  // the file could not be opened or read: always 0
  bool asked_ = false;
  uint64_t last_wait_ns_ = 0;
  Clock::time_point last_asked_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PLACES_CORE_WAIT_H_
