// WebSocketCodec: protocol v1 over a WebSocket (RFC 6455), for clients of the HTTP port's /ws.
// Every protocol line travels as one text message, without its LF, in each direction.
//
// Framing is wslay's (Debian's libwslay-dev, wslay 1.1): it owns no I/O, so it fits a connection
// that moves between threads. Inbound, a wslay event context (server side) unmasks and reassembles
// fragmented messages, answers pings, completes the close handshake, refuses unmasked or malformed
// frames (close 1002) and messages over the line limit (close 1009); this codec refuses binary
// messages (close 1003) and text that is not UTF-8 (close 1007), and turns every other message
// into a Frame with the same text rules as a TCP line (a message holding LF is bad-encoding, an
// empty one is an empty line). Outbound, Encode() frames each line with wslay's frame API; it keeps
// no state between calls (Codec's Broadcast contract). After a close frame has been queued, no
// data frame follows it.
//
// Thread contract: not thread-safe; owned, like its Connection, by one thread at a time.
#ifndef ROOMCHAT_CHAT_WEB_WEBSOCKET_CODEC_H_
#define ROOMCHAT_CHAT_WEB_WEBSOCKET_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/net/codec.h"

struct wslay_event_context;
struct wslay_frame_context;

namespace roomchat {

class WebSocketCodec final : public Codec {
 public:
  // Fails only when wslay cannot allocate its contexts.
  static absl::StatusOr<std::unique_ptr<WebSocketCodec>> Create(size_t max_line_bytes);
  ~WebSocketCodec() override;

  WebSocketCodec(const WebSocketCodec&) = delete;
  WebSocketCodec& operator=(const WebSocketCodec&) = delete;

  Kind kind() const override { return Kind::kWebSocket; }
  void Append(absl::string_view bytes) override;
  std::optional<Frame> Next() override;
  std::optional<Frame> Finish() override { return std::nullopt; }
  size_t buffered_bytes() const override;
  void Encode(absl::string_view lines, std::string* out) const override;
  void TakeProtocolOutput(std::string* out) override;
  bool closed() const override;
  void End(std::string* out) override;

  // The status code of the close frame this side queued (0: none yet).
  uint16_t close_code_sent() const { return close_code_sent_; }

 private:
  explicit WebSocketCodec(size_t max_line_bytes);

  // wslay's callbacks (websocket_codec.cc), with `this` as their user data.
  friend struct WslayCallbacks;

  void HandleMessage(uint8_t opcode, absl::string_view payload);
  // Queues a close frame with `code` (once) and sends what wslay has queued into protocol output.
  // Never from inside wslay's callbacks.
  void Close(uint16_t code);
  void SendQueued();

  // Const after construction.
  const size_t max_line_bytes_;

  wslay_event_context* events_ = nullptr;
  wslay_frame_context* encoder_ = nullptr;  // used only inside Encode(), between whole frames
  mutable std::string* encode_into_ = nullptr;
  std::string inbound_;  // received, not yet taken by wslay
  size_t inbound_pos_ = 0;
  std::string protocol_output_;       // pongs and close frames wslay wrote
  std::deque<std::string> messages_;  // complete text messages, in order
  std::string current_;               // the message the last Frame points into
  bool failed_ = false;               // wslay reported a fatal error
  uint16_t pending_close_ = 0;        // decided inside wslay's callbacks, queued after them
  uint16_t close_code_sent_ = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_WEB_WEBSOCKET_CODEC_H_
