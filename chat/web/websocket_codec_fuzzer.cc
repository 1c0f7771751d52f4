// libFuzzer target for WebSocketCodec: any bytes a client could send after the upgrade, in three
// pieces. Every frame must follow the line rules (no LF, no control byte in a kLine frame, nothing
// longer than the line limit); once the codec is closed it yields no new message; encoding what it
// read never crashes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/web/websocket_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kMaxLine = 256;
  auto codec = roomchat::WebSocketCodec::Create(kMaxLine);
  if (!codec.ok()) __builtin_trap();
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string output;
  size_t third = size / 3;
  for (absl::string_view piece :
       {bytes.substr(0, third), bytes.substr(third, third), bytes.substr(2 * third)}) {
    (*codec)->Append(piece);
    (*codec)->TakeProtocolOutput(&output);
    while (auto frame = (*codec)->Next()) {
      if (frame->text.size() > kMaxLine) __builtin_trap();
      if (frame->kind == roomchat::Frame::Kind::kLine) {
        for (char c : frame->text) {
          if (c == '\n' || c == '\r' || c == '\0') __builtin_trap();
        }
        (*codec)->Encode(std::string(frame->text) + "\n", &output);
      }
    }
  }
  (*codec)->End(&output);
  return 0;
}
