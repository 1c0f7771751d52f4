// LineFramer splits a client's byte stream into protocol lines.
//
// Framing rules (docs/PROTOCOL.md): a line ends in LF, and a CR right before the LF is dropped.
// Empty lines are ignored. A line longer than max_line_bytes (terminator not counted) yields one
// kTooLong frame and the rest of it, up to the next LF, is discarded. A line that is not valid
// UTF-8, or that holds a control byte other than TAB (0x00-0x1F, 0x7F), yields kBadEncoding.
//
// Bytes are appended as they arrive and frames are pulled one at a time, so that the bytes after a
// command that moves the client to another thread stay buffered here and move with it. The buffer
// never holds more than one partial line (at most max_line_bytes + 1 bytes) beyond the last
// Append().
//
// Thread contract: not thread-safe; owned, like its Client, by one thread at a time.
#ifndef ROOMCHAT_CHAT_PROTOCOL_LINE_FRAMER_H_
#define ROOMCHAT_CHAT_PROTOCOL_LINE_FRAMER_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace roomchat {

struct Frame {
  enum class Kind { kLine, kTooLong, kBadEncoding };
  Kind kind;
  // The line without its terminator; empty for kTooLong. Valid until the next call on the framer.
  absl::string_view text;
};

// True when `text` is valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF).
bool IsValidUtf8(absl::string_view text);

// True when `text` holds a control byte other than TAB.
bool HasControlByte(absl::string_view text);

class LineFramer {
 public:
  explicit LineFramer(size_t max_line_bytes);

  LineFramer(const LineFramer&) = delete;
  LineFramer& operator=(const LineFramer&) = delete;

  void Append(absl::string_view bytes);

  // The next complete frame, or nullopt when the buffered bytes hold no complete line.
  std::optional<Frame> Next();

  // Bytes held: unread complete lines plus at most one partial line.
  size_t buffered_bytes() const { return buffer_.size() - read_pos_; }

 private:
  // Drops consumed bytes and, past the line limit, the partial line too (reporting it once).
  std::optional<Frame> HandleIncompleteLine();

  const size_t max_line_bytes_;
  std::string buffer_;
  size_t read_pos_ = 0;
  // True while skipping the rest of a too-long line up to its LF.
  bool discarding_ = false;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_LINE_FRAMER_H_
