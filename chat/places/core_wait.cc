#include "chat/places/core_wait.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace roomchat {

CoreWait::~CoreWait() {
  if (fd_ >= 0) ::close(fd_);
}

bool CoreWait::ParseWaitNs(absl::string_view text, uint64_t* wait_ns) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(text, absl::ByAnyChar(" \n"), absl::SkipEmpty());
  return fields.size() >= 2 && absl::SimpleAtoi(fields[1], wait_ns);
}

bool CoreWait::ReadWaitNs(uint64_t* wait_ns) {
  if (unavailable_) return false;
  if (fd_ < 0) fd_ = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  char text[128];
  ssize_t got = fd_ < 0 ? -1 : ::pread(fd_, text, sizeof(text) - 1, 0);
  if (got <= 0 || !ParseWaitNs(absl::string_view(text, static_cast<size_t>(got)), wait_ns)) {
    unavailable_ = true;
    return false;
  }
  return true;
}

double CoreWait::ShareSinceLastAsked(Clock::time_point now) {
  uint64_t wait_ns = 0;
  if (!ReadWaitNs(&wait_ns)) return 0;
  double share = 0;
  if (asked_ && now > last_asked_ && wait_ns >= last_wait_ns_) {
    double wall_ns = std::chrono::duration<double, std::nano>(now - last_asked_).count();
    share = std::min(1.0, static_cast<double>(wait_ns - last_wait_ns_) / wall_ns);
  }
  asked_ = true;
  last_wait_ns_ = wait_ns;
  last_asked_ = now;
  return share;
}

}  // namespace roomchat
