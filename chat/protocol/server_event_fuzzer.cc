// libFuzzer target for the client's ParseServerLine: whatever a server (or an attacker posing as
// one) sends, parsing gives an event or an error, never a crash.
#include <cstddef>
#include <cstdint>

#include "chat/protocol/server_event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view line(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<roomchat::ServerEvent> event = roomchat::ParseServerLine(line);
  if (!event.ok() && event.status().message().empty()) __builtin_trap();
  return 0;
}
