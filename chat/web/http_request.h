// HttpRequestParser: HTTP/1.1 request heads from a byte stream, parsed by llhttp (the parser Node
// maintains; Debian ships its C sources), for the HTTP port.
//
// The port answers GET and HEAD only and takes no request bodies, so a request is its head: bytes
// are buffered until the blank line that ends it, at most kMaxHeadBytes (past that: 431), and the
// head is handed to llhttp, which checks the request line and every header (malformed: 400). A
// request announcing a body (Content-Length above 0, Transfer-Encoding) is refused with 413. The
// bytes after a head stay buffered: the next pipelined request, or a WebSocket's first frames.
//
// Thread contract: not thread-safe; one per HTTP connection, owned by its thread.
#ifndef ROOMCHAT_CHAT_WEB_HTTP_REQUEST_H_
#define ROOMCHAT_CHAT_WEB_HTTP_REQUEST_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace roomchat {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/ws", "/app.js?v=2"
  // Header names lowercased; a repeated header's values joined with ", ".
  absl::flat_hash_map<std::string, std::string> headers;
  bool keep_alive = false;

  // The header's value, or empty.
  absl::string_view Header(absl::string_view lowercase_name) const;
  // The target without its query string.
  absl::string_view Path() const;
};

class HttpRequestParser {
 public:
  static constexpr size_t kMaxHeadBytes = 8192;

  struct Outcome {
    enum class Kind { kNeedMore, kRequest, kError };
    Kind kind = Kind::kNeedMore;
    HttpRequest request;  // kRequest
    int status = 0;       // kError: 400, 413 or 431
    std::string reason;   // kError: what was wrong, for the response body and the log
  };

  HttpRequestParser() = default;
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  void Append(absl::string_view bytes) { buffer_.append(bytes.data(), bytes.size()); }
  // The next request, if its head is complete. After an error the connection is to be closed.
  Outcome Next();
  // Bytes received after the last request's head.
  std::string TakeRest();
  size_t buffered_bytes() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_WEB_HTTP_REQUEST_H_
