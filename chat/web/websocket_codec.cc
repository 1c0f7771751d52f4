#include "chat/web/websocket_codec.h"

#include <sys/types.h>
#include <wslay/wslay.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "chat/protocol/text_rules.h"

namespace roomchat {

struct WslayCallbacks {
  static WebSocketCodec& Codec(void* self) { return *static_cast<WebSocketCodec*>(self); }

  // wslay reads what Append() buffered; an empty buffer is "would block".
  static ssize_t Recv(wslay_event_context_ptr context, uint8_t* buffer, size_t length, int,
                      void* self) {
    WebSocketCodec& codec = Codec(self);
    size_t available = codec.inbound_.size() - codec.inbound_pos_;
    if (available == 0) {
      wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
    size_t n = std::min(available, length);
    std::memcpy(buffer, codec.inbound_.data() + codec.inbound_pos_, n);
    codec.inbound_pos_ += n;
    return static_cast<ssize_t>(n);
  }

  // Frames wslay sends (pongs, close frames) become protocol output.
  static ssize_t Send(wslay_event_context_ptr, const uint8_t* data, size_t length, int,
                      void* self) {
    Codec(self).protocol_output_.append(reinterpret_cast<const char*>(data), length);
    return static_cast<ssize_t>(length);
  }

  static void Message(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* arg, void* self) {
    Codec(self).HandleMessage(
        arg->opcode, absl::string_view(reinterpret_cast<const char*>(arg->msg), arg->msg_length));
  }

  // Encode()'s frames go straight into the caller's string.
  static ssize_t Encoded(const uint8_t* data, size_t length, int, void* self) {
    Codec(self).encode_into_->append(reinterpret_cast<const char*>(data), length);
    return static_cast<ssize_t>(length);
  }
};

absl::StatusOr<std::unique_ptr<WebSocketCodec>> WebSocketCodec::Create(size_t max_line_bytes) {
  std::unique_ptr<WebSocketCodec> codec(new WebSocketCodec(max_line_bytes));
  wslay_event_callbacks events{};
  events.recv_callback = WslayCallbacks::Recv;
  events.send_callback = WslayCallbacks::Send;
  events.on_msg_recv_callback = WslayCallbacks::Message;
  if (wslay_event_context_server_init(&codec->events_, &events, codec.get()) != 0) {
    return absl::ResourceExhaustedError("wslay: cannot allocate an event context");
  }
  // A message longer than a line is refused with close 1009, before it is buffered whole.
  wslay_event_config_set_max_recv_msg_length(codec->events_, max_line_bytes);
  wslay_frame_callbacks frames{};
  frames.send_callback = WslayCallbacks::Encoded;
  if (wslay_frame_context_init(&codec->encoder_, &frames, codec.get()) != 0) {
    return absl::ResourceExhaustedError("wslay: cannot allocate a frame context");
  }
  return codec;
}

WebSocketCodec::WebSocketCodec(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

WebSocketCodec::~WebSocketCodec() {
  if (events_ != nullptr) wslay_event_context_free(events_);
  if (encoder_ != nullptr) wslay_frame_context_free(encoder_);
}

void WebSocketCodec::Append(absl::string_view bytes) {
  if (failed_ || wslay_event_get_close_received(events_)) return;  // nothing more is read
  inbound_.append(bytes.data(), bytes.size());
  if (wslay_event_recv(events_) != 0) {
    failed_ = true;  // a fatal error: wslay has queued what it could (a close frame)
    if (pending_close_ == 0) pending_close_ = WSLAY_CODE_PROTOCOL_ERROR;
  }
  // A close decided while wslay was reading is queued now, outside its callbacks.
  if (pending_close_ != 0) Close(pending_close_);
  // wslay copies what it has framed so far; the rest waits for the next Append().
  inbound_.erase(0, inbound_pos_);
  inbound_pos_ = 0;
  SendQueued();
}

void WebSocketCodec::HandleMessage(uint8_t opcode, absl::string_view payload) {
  if (pending_close_ != 0 || close_code_sent_ != 0) return;  // closing: nothing more is taken
  switch (opcode) {
    case WSLAY_TEXT_FRAME:
      if (!IsValidUtf8(payload)) {
        pending_close_ = WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA;
        return;
      }
      messages_.emplace_back(payload);
      return;
    case WSLAY_BINARY_FRAME: pending_close_ = WSLAY_CODE_UNSUPPORTED_DATA; return;
    case WSLAY_CONNECTION_CLOSE:
      // wslay answers the close itself; no data frame may follow.
      if (close_code_sent_ == 0) close_code_sent_ = WSLAY_CODE_NORMAL_CLOSURE;
      return;
    default: return;  // ping (answered by wslay) and pong
  }
}

void WebSocketCodec::Close(uint16_t code) {
  if (close_code_sent_ == 0 && !wslay_event_get_close_sent(events_)) {
    close_code_sent_ = code;
    wslay_event_queue_close(events_, code, nullptr, 0);
  }
  SendQueued();
}

void WebSocketCodec::SendQueued() {
  if (wslay_event_want_write(events_)) wslay_event_send(events_);
  // wslay closes on its own for protocol errors and oversize messages: no data may follow.
  if (close_code_sent_ == 0 && wslay_event_get_close_sent(events_)) {
    close_code_sent_ = wslay_event_get_status_code_sent(events_);
  }
}

std::optional<Frame> WebSocketCodec::Next() {
  if (messages_.empty()) return std::nullopt;
  current_ = std::move(messages_.front());
  messages_.pop_front();
  if (current_.empty()) return Frame{Frame::Kind::kEmpty, {}};
  // The same rules as a TCP line; a LF inside a message is a control byte, so it is refused.
  absl::string_view problem = CheckLineText(current_);
  if (!problem.empty()) return Frame{Frame::Kind::kBadEncoding, current_, problem};
  return Frame{Frame::Kind::kLine, current_};
}

size_t WebSocketCodec::buffered_bytes() const {
  size_t bytes = inbound_.size() - inbound_pos_;
  for (const std::string& message : messages_) bytes += message.size();
  return bytes;
}

void WebSocketCodec::Encode(absl::string_view lines, std::string* out) const {
  if (close_code_sent_ != 0) return;  // nothing may follow a close frame
  encode_into_ = out;
  while (!lines.empty()) {
    size_t end = lines.find('\n');
    absl::string_view line = lines.substr(0, end);
    lines.remove_prefix(end == absl::string_view::npos ? lines.size() : end + 1);
    wslay_frame_iocb frame{};
    frame.fin = 1;
    frame.opcode = WSLAY_TEXT_FRAME;
    frame.payload_length = line.size();
    frame.data = reinterpret_cast<const uint8_t*>(line.data());
    frame.data_length = line.size();
    // The callback takes everything, so one call writes the whole frame.
    wslay_frame_send(encoder_, &frame);
  }
  encode_into_ = nullptr;
}

void WebSocketCodec::TakeProtocolOutput(std::string* out) {
  out->append(protocol_output_);
  protocol_output_.clear();
}

bool WebSocketCodec::closed() const {
  return failed_ || close_code_sent_ != 0 || pending_close_ != 0 ||
         wslay_event_get_close_received(events_) || wslay_event_get_close_sent(events_);
}

void WebSocketCodec::End(std::string* out) {
  Close(WSLAY_CODE_NORMAL_CLOSURE);
  TakeProtocolOutput(out);
}

}  // namespace roomchat
