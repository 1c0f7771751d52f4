#include "chat/protocol/text_rules.h"

#include <cstdint>

namespace roomchat {
namespace {

// Decodes the code point at the start of `*text` and advances past it; false on invalid UTF-8
// (RFC 3629), leaving `*text` as it was.
bool DecodeOne(absl::string_view* text, uint32_t* code_point) {
  const auto* p = reinterpret_cast<const uint8_t*>(text->data());
  uint8_t lead = p[0];
  int extra;
  if (lead < 0x80) {
    extra = 0;
    *code_point = lead;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    extra = 1;
    *code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    extra = 2;
    *code_point = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    extra = 3;
    *code_point = lead & 0x07;
  } else {
    return false;  // Continuation byte as lead, overlong 2-byte lead (C0, C1), or past F4.
  }
  if (text->size() <= static_cast<size_t>(extra)) return false;
  for (int i = 1; i <= extra; ++i) {
    if ((p[i] & 0xC0) != 0x80) return false;
    *code_point = (*code_point << 6) | (p[i] & 0x3F);
  }
  if ((extra == 2 && *code_point < 0x800) || (extra == 3 && *code_point < 0x10000)) return false;
  if (*code_point >= 0xD800 && *code_point <= 0xDFFF) return false;
  if (*code_point > 0x10FFFF) return false;
  text->remove_prefix(extra + 1);
  return true;
}

bool IsC0ControlOrDel(uint32_t c) { return (c < 0x20 && c != '\t') || c == 0x7F; }

bool IsC1ControlOrSeparator(uint32_t c) {
  return (c >= 0x80 && c <= 0x9F) || c == 0x2028 || c == 0x2029;
}

// The open embeddings/overrides and isolates of a line, innermost last, as bits of a word.
class BidiNesting {
 public:
  // Takes `c` into account; false if it breaks the nesting.
  bool Accept(uint32_t c) {
    switch (c) {
      case 0x202A:
      case 0x202B:
      case 0x202D:
      case 0x202E: return Open(kEmbedding);
      case 0x2066:
      case 0x2067:
      case 0x2068: return Open(kIsolate);
      case 0x202C: return Close(kEmbedding);
      case 0x2069: return Close(kIsolate);
      default: return true;
    }
  }
  bool balanced() const { return depth_ == 0; }

 private:
  static constexpr uint32_t kEmbedding = 0;
  static constexpr uint32_t kIsolate = 1;
  static_assert(kMaxBidiDepth <= 32, "the open controls are bits of a uint32_t");

  bool Open(uint32_t what) {
    if (depth_ == kMaxBidiDepth) return false;
    open_ = (open_ << 1) | what;
    ++depth_;
    return true;
  }
  bool Close(uint32_t what) {
    if (depth_ == 0 || (open_ & 1) != what) return false;
    open_ >>= 1;
    --depth_;
    return true;
  }

  uint32_t open_ = 0;
  int depth_ = 0;
};

}  // namespace

absl::string_view CheckLineText(absl::string_view line) {
  absl::string_view newer_problem;  // of the C1 and bidi rules, the first broken
  BidiNesting bidi;
  while (!line.empty()) {
    uint32_t c;
    if (!DecodeOne(&line, &c) || IsC0ControlOrDel(c)) return kNotUtf8OrControl;
    if (!newer_problem.empty()) continue;
    if (IsC1ControlOrSeparator(c)) newer_problem = kC1OrSeparator;
    if (!bidi.Accept(c)) newer_problem = kUnbalancedBidi;
  }
  if (newer_problem.empty() && !bidi.balanced()) return kUnbalancedBidi;
  return newer_problem;
}

bool IsValidUtf8(absl::string_view text) {
  uint32_t c;
  while (!text.empty()) {
    if (!DecodeOne(&text, &c)) return false;
  }
  return true;
}

bool HasControlByte(absl::string_view text) {
  for (char c : text) {
    if (IsC0ControlOrDel(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

}  // namespace roomchat
