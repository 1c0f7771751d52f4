#include "bench/websocket_framing.h"

#include <sys/types.h>
#include <wslay/wslay.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "chat/web/http_routes.h"

namespace roomchat {
namespace {

class WebSocketConnection final : public ProtocolConnection {
 public:
  WebSocketConnection(std::unique_ptr<ProtocolConnection> inner, absl::string_view host,
                      uint32_t seed)
      : inner_(std::move(inner)), host_(host), random_(seed * 2654435761u | 1) {
    char key[16];
    for (char& byte : key) byte = static_cast<char>(NextRandom());
    key_ = absl::Base64Escape(absl::string_view(key, sizeof(key)));
    relay_.self = this;
    wslay_frame_callbacks callbacks{};
    callbacks.send_callback = &WebSocketConnection::SendCallback;
    callbacks.recv_callback = &WebSocketConnection::RecvCallback;
    callbacks.genmask_callback = &WebSocketConnection::GenmaskCallback;
    if (wslay_frame_context_init(&frames_, &callbacks, this) != 0) frames_ = nullptr;
  }
  ~WebSocketConnection() override {
    if (frames_ != nullptr) wslay_frame_context_free(frames_);
  }

  std::string Hello() override {
    return absl::StrCat("GET /ws HTTP/1.1\r\nHost: ", host_,
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ",
                        key_, "\r\nSec-WebSocket-Version: 13\r\n\r\n");
  }

  // Everything after the response head is taken: wslay keeps a partial frame in its own buffer,
  // and a partial message waits in `lines_`.
  size_t Consume(absl::string_view bytes, Sink& sink) override {
    if (failed_) return bytes.size();
    relay_.outer = &sink;
    size_t used = 0;
    if (!upgraded_) {
      // Pointed at roomchat's TCP port, say so at once rather than time out waiting for a head.
      if (bytes.size() >= 5 && !absl::StartsWith(bytes, "HTTP/")) {
        Fail(sink, absl::StrCat("not an HTTP response (is --port the HTTP port?): ",
                                bytes.substr(0, std::min(bytes.find('\n'), size_t{80}))));
        return bytes.size();
      }
      size_t end = bytes.find("\r\n\r\n");
      if (end == absl::string_view::npos) return 0;  // the response head is not complete yet
      used = end + 4;
      if (!CheckUpgrade(bytes.substr(0, end), sink)) return bytes.size();
      upgraded_ = true;
      std::string hello = inner_->Hello();
      if (!hello.empty()) relay_.Send(hello);
    }
    ReadFrames(bytes.substr(used), sink);
    return bytes.size();
  }

  void AppendMessage(absl::string_view payload, std::string* out) override {
    scratch_.clear();
    inner_->AppendMessage(payload, &scratch_);
    AppendTextFrames(scratch_, out);
  }

 private:
  // What the inner connection reports goes to the generator's sink; what it sends is framed first.
  struct Relay : Sink {
    WebSocketConnection* self = nullptr;
    Sink* outer = nullptr;
    void OnMessage(absl::string_view payload) override { outer->OnMessage(payload); }
    void OnReady() override { outer->OnReady(); }
    void OnRefused(absl::string_view text) override { outer->OnRefused(text); }
    void Send(absl::string_view lines) override {
      std::string framed;
      self->AppendTextFrames(lines, &framed);
      outer->Send(framed);
    }
  };

  bool CheckUpgrade(absl::string_view head, Sink& sink) {
    std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
    absl::string_view status = lines[0];
    if (!absl::StartsWith(status, "HTTP/1.1 101")) {
      return Fail(sink, absl::StrCat("WebSocket upgrade refused: ", status));
    }
    std::string expected = WebSocketAccept(key_);
    for (absl::string_view line : lines) {
      size_t colon = line.find(':');
      if (colon == absl::string_view::npos) continue;
      if (!absl::EqualsIgnoreCase(line.substr(0, colon), "sec-websocket-accept")) continue;
      if (absl::StripAsciiWhitespace(line.substr(colon + 1)) == expected) return true;
      break;
    }
    return Fail(sink, "WebSocket upgrade without the right Sec-WebSocket-Accept");
  }

  bool Fail(Sink& sink, absl::string_view why) {
    failed_ = true;
    sink.OnRefused(why);
    return false;
  }

  void ReadFrames(absl::string_view bytes, Sink& sink) {
    if (frames_ == nullptr) {
      Fail(sink, "wslay: cannot allocate a frame context");
      return;
    }
    input_ = bytes;
    while (!failed_) {
      wslay_frame_iocb frame{};
      ssize_t n = wslay_frame_recv(frames_, &frame);
      if (n == WSLAY_ERR_WANT_READ) break;  // `input_` is used up; wslay holds any partial frame
      if (n < 0) {
        Fail(sink, "the server sent a malformed WebSocket frame");
        break;
      }
      TakeFramePart(frame, sink);
    }
    DeliverLines();
  }

  // One piece of a frame's payload: wslay hands a frame over in as many pieces as reads split it.
  void TakeFramePart(const wslay_frame_iocb& frame, Sink& sink) {
    bool control = wslay_is_ctrl_frame(frame.opcode);
    if (!control && frame.opcode != WSLAY_CONTINUATION_FRAME) message_opcode_ = frame.opcode;
    if (!control && message_opcode_ != WSLAY_TEXT_FRAME) {
      Fail(sink, "the server sent a binary WebSocket message");
      return;
    }
    std::string& into = control ? control_ : lines_;
    into.append(reinterpret_cast<const char*>(frame.data), frame.data_length);
    frame_received_ += frame.data_length;
    if (frame_received_ < frame.payload_length) return;
    frame_received_ = 0;
    if (!control) {
      if (frame.fin) lines_.push_back('\n');
      return;
    }
    HandleControl(frame.opcode, sink);
    control_.clear();
  }

  void HandleControl(uint8_t opcode, Sink& sink) {
    if (opcode == WSLAY_PING) {
      std::string pong;
      AppendFrame(WSLAY_PONG, control_, &pong);
      sink.Send(pong);
    } else if (opcode == WSLAY_CONNECTION_CLOSE) {
      DeliverLines();  // what came before the close, in order
      int code = control_.size() >= 2
                     ? (static_cast<uint8_t>(control_[0]) << 8) | static_cast<uint8_t>(control_[1])
                     : 1005;  // RFC 6455: no status code present
      Fail(sink, absl::StrCat("the server closed the WebSocket (code ", code, ")"));
    }
  }

  // Hands the complete lines to the inner connection; a message still arriving stays.
  void DeliverLines() {
    if (lines_.empty()) return;
    size_t used = inner_->Consume(lines_, relay_);
    lines_.erase(0, used);
  }

  void AppendTextFrames(absl::string_view lines, std::string* out) {
    while (!lines.empty()) {
      size_t end = lines.find('\n');
      AppendFrame(WSLAY_TEXT_FRAME, lines.substr(0, end), out);
      lines.remove_prefix(end == absl::string_view::npos ? lines.size() : end + 1);
    }
  }

  void AppendFrame(uint8_t opcode, absl::string_view payload, std::string* out) {
    wslay_frame_iocb frame{};
    frame.fin = 1;
    frame.opcode = opcode;
    frame.mask = 1;
    frame.payload_length = payload.size();
    frame.data = reinterpret_cast<const uint8_t*>(payload.data());
    frame.data_length = payload.size();
    encode_into_ = out;
    // SendCallback takes everything, so one call writes the whole frame.
    wslay_frame_send(frames_, &frame);
    encode_into_ = nullptr;
  }

  uint32_t NextRandom() {  // xorshift32
    random_ ^= random_ << 13;
    random_ ^= random_ >> 17;
    random_ ^= random_ << 5;
    return random_;
  }

  static ssize_t SendCallback(const uint8_t* data, size_t length, int, void* self) {
    static_cast<WebSocketConnection*>(self)->encode_into_->append(
        reinterpret_cast<const char*>(data), length);
    return static_cast<ssize_t>(length);
  }

  // wslay reads from what Consume() was given; an empty input is "want read" (0).
  static ssize_t RecvCallback(uint8_t* buffer, size_t length, int, void* self) {
    absl::string_view& input = static_cast<WebSocketConnection*>(self)->input_;
    size_t n = std::min(length, input.size());
    std::memcpy(buffer, input.data(), n);
    input.remove_prefix(n);
    return static_cast<ssize_t>(n);
  }

  static int GenmaskCallback(uint8_t* buffer, size_t length, void* self) {
    auto* connection = static_cast<WebSocketConnection*>(self);
    for (size_t i = 0; i < length; ++i) buffer[i] = static_cast<uint8_t>(connection->NextRandom());
    return 0;
  }

  // Const after construction.
  const std::unique_ptr<ProtocolConnection> inner_;
  const std::string host_;
  std::string key_;
  wslay_frame_context* frames_ = nullptr;

  Relay relay_;
  uint32_t random_;
  bool upgraded_ = false;
  bool failed_ = false;                 // refused or broken: nothing more is read
  absl::string_view input_;             // what wslay's RecvCallback reads, during ReadFrames()
  std::string* encode_into_ = nullptr;  // where SendCallback writes, during AppendFrame()
  uint8_t message_opcode_ = WSLAY_TEXT_FRAME;  // of the data message being received
  uint64_t frame_received_ = 0;                // payload bytes of the current frame so far
  std::string lines_;                          // decoded text, each whole message followed by LF
  std::string control_;                        // the current control frame's payload
  std::string scratch_;
};

}  // namespace

std::unique_ptr<ProtocolConnection> WrapInWebSocket(std::unique_ptr<ProtocolConnection> inner,
                                                    absl::string_view host, uint32_t seed) {
  return std::make_unique<WebSocketConnection>(std::move(inner), host, seed);
}

}  // namespace roomchat
