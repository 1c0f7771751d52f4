// LineFramer splits a client's byte stream into protocol lines.
//
// Framing rules (docs/PROTOCOL.md): a line ends in LF, and a CR right before the LF is dropped.
// An empty line yields kEmpty (nothing to do, but activity all the same). A line longer than
// max_line_bytes (terminator not counted) yields one kTooLong frame and the rest of it, up to the
// next LF, is discarded. A line that breaks the text rules (text_rules.h: invalid UTF-8, a control
// character other than TAB, U+2028/U+2029, unbalanced bidirectional controls) yields kBadEncoding,
// with the rule it broke in `problem`. At the end of the input, Finish() takes a last line that
// has no LF as complete.
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
#include "chat/protocol/text_rules.h"

namespace roomchat {

struct Frame {
  enum class Kind { kLine, kEmpty, kTooLong, kBadEncoding };
  Kind kind;
  // The line without its terminator; empty for kEmpty and kTooLong. Valid until the next call on
  // the framer.
  absl::string_view text;
  // For kBadEncoding, the rule the line broke: one of text_rules.h's static texts, for the
  // ERR bad-encoding answer. Empty for the other kinds.
  absl::string_view problem = {};
};

class LineFramer {
 public:
  explicit LineFramer(size_t max_line_bytes);

  LineFramer(const LineFramer&) = delete;
  LineFramer& operator=(const LineFramer&) = delete;

  void Append(absl::string_view bytes);

  // The next complete frame, or nullopt when the buffered bytes hold no complete line.
  std::optional<Frame> Next();

  // At the end of the input (the client shut down its sending side): the next frame as Next()
  // gives it, and then the buffered partial line, its end taken as the terminator (a CR at its end
  // dropped, the same checks applied). Nullopt once nothing is buffered, or when what is left is
  // the rest of a too-long line being discarded.
  std::optional<Frame> Finish();

  // Bytes held: unread complete lines plus at most one partial line.
  size_t buffered_bytes() const { return buffer_.size() - read_pos_; }

 private:
  // Drops consumed bytes and, past the line limit, the partial line too (reporting it once).
  std::optional<Frame> HandleIncompleteLine();
  // The frame for `line`, a whole line without its LF (a CR before it still there).
  Frame Classify(absl::string_view line) const;

  const size_t max_line_bytes_;
  std::string buffer_;
  size_t read_pos_ = 0;
  // True while skipping the rest of a too-long line up to its LF.
  bool discarding_ = false;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PROTOCOL_LINE_FRAMER_H_
