// libFuzzer target for LineFramer: arbitrary bytes, in arbitrary chunks, under an arbitrary limit,
// then the end of the input (Finish()). Checks the framing invariants on every frame; a violation
// traps. A kLine frame is checked against the text rules by a second, deliberately naive reading
// of them here, not only by CheckLineText(). Build and run: tools/fuzz.sh.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "chat/protocol/line_framer.h"
#include "chat/protocol/text_rules.h"

namespace {

// True when the UTF-8 `text` holds a C1 control, U+2028/U+2029, or bidirectional controls that
// are not balanced and properly nested (at most roomchat::kMaxBidiDepth deep).
bool BreaksNewerRules(absl::string_view text) {
  std::vector<char> open;  // 'E' embedding or override, 'I' isolate
  for (size_t i = 0; i < text.size(); ++i) {
    auto byte = [&](size_t at) { return static_cast<uint8_t>(text[at]); };
    if (byte(i) == 0xC2 && i + 1 < text.size() && byte(i + 1) >= 0x80 && byte(i + 1) <= 0x9F) {
      return true;
    }
    if (byte(i) != 0xE2 || i + 2 >= text.size()) continue;
    uint32_t c = 0x2000 | ((byte(i + 1) & 0x3F) << 6) | (byte(i + 2) & 0x3F);
    if (byte(i + 1) != 0x80 && byte(i + 1) != 0x81) continue;
    if (c == 0x2028 || c == 0x2029) return true;
    if (c == 0x202A || c == 0x202B || c == 0x202D || c == 0x202E) open.push_back('E');
    if (c >= 0x2066 && c <= 0x2068) open.push_back('I');
    if (open.size() > static_cast<size_t>(roomchat::kMaxBidiDepth)) return true;
    if (c == 0x202C || c == 0x2069) {
      if (open.empty() || open.back() != (c == 0x202C ? 'E' : 'I')) return true;
      open.pop_back();
    }
  }
  return !open.empty();
}

void Check(const roomchat::Frame& frame, size_t max_line) {
  switch (frame.kind) {
    case roomchat::Frame::Kind::kLine:
      if (frame.text.empty() || frame.text.size() > max_line) __builtin_trap();
      if (frame.text.find('\n') != absl::string_view::npos) __builtin_trap();
      if (roomchat::HasControlByte(frame.text) || !roomchat::IsValidUtf8(frame.text)) {
        __builtin_trap();
      }
      if (BreaksNewerRules(frame.text) || !frame.problem.empty()) __builtin_trap();
      break;
    case roomchat::Frame::Kind::kEmpty:
    case roomchat::Frame::Kind::kTooLong:
      if (!frame.text.empty() || !frame.problem.empty()) __builtin_trap();
      break;
    case roomchat::Frame::Kind::kBadEncoding:
      if (frame.text.size() > max_line || frame.problem.empty()) __builtin_trap();
      break;
  }
}

}  // namespace

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
    while (std::optional<roomchat::Frame> frame = framer.Next()) Check(*frame, max_line);
    // Drained: at most one partial line (and its CR) is held.
    if (framer.buffered_bytes() > max_line + 1) __builtin_trap();
  }
  // The end of the input: the partial line, if any, and then nothing.
  int finished = 0;
  while (std::optional<roomchat::Frame> frame = framer.Finish()) {
    Check(*frame, max_line);
    if (++finished > 1) __builtin_trap();
  }
  if (framer.buffered_bytes() != 0) __builtin_trap();
  return 0;
}
