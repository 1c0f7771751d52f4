// libFuzzer target for LineFramer: arbitrary bytes, in arbitrary chunks, under an arbitrary limit.
// Checks the framing invariants on every frame; a violation traps. Build and run: tools/fuzz.sh.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <cstdint>

#include "chat/protocol/line_framer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // The first byte picks the line limit (1-256 bytes); the second, the chunk size of the reads.
  const size_t max_line = 1 + data[0];
  const size_t chunk = 1 + data[1] % 64;
  roomchat::LineFramer framer(max_line);
  absl::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  while (!rest.empty()) {
    framer.Append(rest.substr(0, chunk));
    rest.remove_prefix(std::min(chunk, rest.size()));
    while (std::optional<roomchat::Frame> frame = framer.Next()) {
      switch (frame->kind) {
        case roomchat::Frame::Kind::kLine:
          if (frame->text.empty() || frame->text.size() > max_line) __builtin_trap();
          if (frame->text.find('\n') != absl::string_view::npos) __builtin_trap();
          if (roomchat::HasControlByte(frame->text) || !roomchat::IsValidUtf8(frame->text)) {
            __builtin_trap();
          }
          break;
        case roomchat::Frame::Kind::kTooLong:
          if (!frame->text.empty()) __builtin_trap();
          break;
        case roomchat::Frame::Kind::kBadEncoding:
          if (frame->text.size() > max_line) __builtin_trap();
          break;
      }
    }
    // Drained: at most one partial line (and its CR) is held.
    if (framer.buffered_bytes() > max_line + 1) __builtin_trap();
  }
  return 0;
}
