#include "chat/protocol/line_framer.h"

#include <cstdint>

namespace roomchat {

bool IsValidUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const uint8_t* end = p + text.size();
  while (p < end) {
    uint8_t lead = *p;
    if (lead < 0x80) {
      ++p;
      continue;
    }
    int extra;
    uint32_t code_point;
    if (lead >= 0xC2 && lead <= 0xDF) {
      extra = 1;
      code_point = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      extra = 2;
      code_point = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      extra = 3;
      code_point = lead & 0x07;
    } else {
      return false;  // Continuation byte as lead, overlong 2-byte lead (C0, C1), or past F4.
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (p[i] & 0x3F);
    }
    if ((extra == 2 && code_point < 0x800) || (extra == 3 && code_point < 0x10000)) return false;
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return false;
    if (code_point > 0x10FFFF) return false;
    p += extra + 1;
  }
  return true;
}

bool HasControlByte(absl::string_view text) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7F) return true;
  }
  return false;
}

LineFramer::LineFramer(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

void LineFramer::Append(absl::string_view bytes) {
  if (read_pos_ > 0 && read_pos_ == buffer_.size()) {
    buffer_.clear();
    read_pos_ = 0;
  }
  buffer_.append(bytes.data(), bytes.size());
}

std::optional<Frame> LineFramer::Next() {
  while (true) {
    size_t newline = buffer_.find('\n', read_pos_);
    if (newline == std::string::npos) return HandleIncompleteLine();

    absl::string_view line(buffer_.data() + read_pos_, newline - read_pos_);
    read_pos_ = newline + 1;
    if (discarding_) {
      discarding_ = false;
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() > max_line_bytes_) return Frame{Frame::Kind::kTooLong, {}};
    if (HasControlByte(line) || !IsValidUtf8(line)) return Frame{Frame::Kind::kBadEncoding, line};
    return Frame{Frame::Kind::kLine, line};
  }
}

std::optional<Frame> LineFramer::HandleIncompleteLine() {
  buffer_.erase(0, read_pos_);
  read_pos_ = 0;
  if (discarding_) {
    buffer_.clear();
    return std::nullopt;
  }
  // A partial line may still end in the CR of a CRLF, which does not count against the limit.
  size_t allowed =
      max_line_bytes_ + (buffer_.size() == max_line_bytes_ + 1 && buffer_.back() == '\r');
  if (buffer_.size() <= allowed) return std::nullopt;
  buffer_.clear();
  discarding_ = true;
  return Frame{Frame::Kind::kTooLong, {}};
}

}  // namespace roomchat
