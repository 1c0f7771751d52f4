// Codec: how protocol lines are framed on a connection, above the transport. Line framing today
// (LineCodec); WebSocket frames later add a codec and touch neither transports, rooms nor the
// registry (muduo's LengthHeaderCodec draws the same seam).
//
// Inbound, a codec turns received bytes into Frames, one at a time, so the bytes after a command
// that moves the connection to another thread stay buffered here and move with it. Outbound, it
// turns protocol lines into wire bytes. Broadcast encodes one set of lines once per kind of codec,
// for a room that sends them to every member.
//
// Thread contract: not thread-safe; owned, like its Connection, by one thread at a time. Encode() is
// const and keeps no state between calls, so one member's codec encodes a Broadcast for every
// member with a codec of its kind.
#ifndef ROOMCHAT_CHAT_NET_CODEC_H_
#define ROOMCHAT_CHAT_NET_CODEC_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "chat/protocol/line_framer.h"

namespace roomchat {

class Codec {
 public:
  enum class Kind { kLine, kWebSocket };
  static constexpr size_t kKindCount = 2;

  virtual ~Codec() = default;

  virtual Kind kind() const = 0;
  // Received bytes.
  virtual void Append(absl::string_view bytes) = 0;
  // The next complete frame, or nullopt until more bytes arrive.
  virtual std::optional<Frame> Next() = 0;
  // The input ended: what is left as a last frame (a line without its terminator), if anything.
  virtual std::optional<Frame> Finish() = 0;
  // Received bytes not yet returned as frames.
  virtual size_t buffered_bytes() const = 0;
  // Appends the wire form of `lines` (complete protocol lines, each ending in LF) to `out`.
  virtual void Encode(absl::string_view lines, std::string* out) const = 0;

  // What the codec itself must send in answer to what it received (a WebSocket's pong or close),
  // moved to `out`; the connection queues it with its other output.
  virtual void TakeProtocolOutput(std::string* out) {}
  // True once the codec will yield no more frames (a WebSocket closing): the input has ended.
  virtual bool closed() const { return false; }
  // The connection is ending: appends what closes the stream (a WebSocket close frame), once.
  virtual void End(std::string* out) {}
};

// Protocol v1 over a byte stream: LF-terminated lines (LineFramer), sent as they are.
class LineCodec final : public Codec {
 public:
  explicit LineCodec(size_t max_line_bytes) : framer_(max_line_bytes) {}

  Kind kind() const override { return Kind::kLine; }
  void Append(absl::string_view bytes) override { framer_.Append(bytes); }
  std::optional<Frame> Next() override { return framer_.Next(); }
  std::optional<Frame> Finish() override { return framer_.Finish(); }
  size_t buffered_bytes() const override { return framer_.buffered_bytes(); }
  void Encode(absl::string_view lines, std::string* out) const override {
    out->append(lines.data(), lines.size());
  }

 private:
  LineFramer framer_;
};

// Lines for many connections, encoded at most once per kind of codec (never once per member).
// Holds a view of `lines`, which must outlive it.
class Broadcast {
 public:
  explicit Broadcast(absl::string_view lines) : lines_(lines) {}

  absl::string_view For(const Codec& codec) {
    std::optional<std::string>& encoded = encoded_[static_cast<size_t>(codec.kind())];
    if (!encoded) {
      encoded.emplace();
      codec.Encode(lines_, &*encoded);
    }
    return *encoded;
  }

 private:
  const absl::string_view lines_;
  std::array<std::optional<std::string>, Codec::kKindCount> encoded_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_NET_CODEC_H_
