// libFuzzer target for HttpRequestParser: any bytes a client could send, in two pieces. A request
// must have a method and a target; an error must carry an HTTP status; nothing may buffer past
// the head limit plus what one Append() brought.
#include <cstddef>
#include <cstdint>

#include "chat/web/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  roomchat::HttpRequestParser parser;
  size_t half = size / 2;
  for (absl::string_view piece : {bytes.substr(0, half), bytes.substr(half)}) {
    parser.Append(piece);
    while (true) {
      roomchat::HttpRequestParser::Outcome next = parser.Next();
      using Kind = roomchat::HttpRequestParser::Outcome::Kind;
      if (next.kind == Kind::kNeedMore) break;
      if (next.kind == Kind::kError) {
        if (next.status != 400 && next.status != 413 && next.status != 431) __builtin_trap();
        return 0;  // the connection closes after an error
      }
      if (next.request.method.empty()) __builtin_trap();
    }
    if (parser.buffered_bytes() > roomchat::HttpRequestParser::kMaxHeadBytes + size) {
      __builtin_trap();
    }
  }
  return 0;
}
