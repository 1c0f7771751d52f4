#include "chat/protocol/line_framer.h"

#include "chat/protocol/text_rules.h"

namespace roomchat {

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
    return Classify(line);
  }
}

std::optional<Frame> LineFramer::Finish() {
  if (std::optional<Frame> frame = Next()) return frame;
  // Next() left at most a partial line within the limit, or nothing while discarding.
  if (discarding_ || buffer_.size() == read_pos_) return std::nullopt;
  absl::string_view line(buffer_.data() + read_pos_, buffer_.size() - read_pos_);
  read_pos_ = buffer_.size();
  return Classify(line);
}

Frame LineFramer::Classify(absl::string_view line) const {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return Frame{Frame::Kind::kEmpty, {}};
  if (line.size() > max_line_bytes_) return Frame{Frame::Kind::kTooLong, {}};
  absl::string_view problem = CheckLineText(line);
  if (!problem.empty()) return Frame{Frame::Kind::kBadEncoding, line, problem};
  return Frame{Frame::Kind::kLine, line};
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
