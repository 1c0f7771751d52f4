// HttpRoutes: what the HTTP port answers, as a pure function of a request (no sockets), so every
// rule is unit-tested:
//   GET|HEAD /, /<asset>   the web client, embedded (web_assets.h) or from --web_root; ETag and
//                          If-None-Match (304), Cache-Control: no-cache (always revalidated)
//   GET /healthz           200 "ok" while the server accepts, 503 while it shuts down
//   GET /metrics           the Prometheus text format (version 0.0.4)
//   GET /ws                the WebSocket upgrade (RFC 6455): 101 with Sec-WebSocket-Accept, or 400
//                          for a malformed handshake, 426 for another version, 403 for an Origin
//                          that is not allowed (a browser on another site must not get a socket)
//   anything else          404, or 405 for a method other than GET and HEAD, as plain text
//
// Thread contract: const after construction; Route() is safe from any thread.
#ifndef ROOMCHAT_CHAT_WEB_HTTP_ROUTES_H_
#define ROOMCHAT_CHAT_WEB_HTTP_ROUTES_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/web/http_request.h"

namespace roomchat {

struct WebOptions {
  // Serve the web client from this folder instead of the embedded copy; empty: embedded.
  std::string web_root;
  // Origins allowed to open /ws, e.g. "https://chat.example.org"; empty: the server's own origin
  // (the Host header, over http or https, or https only on the HTTPS port) and no other. A request without Origin is not a browser
  // acting for another site, and is allowed.
  std::vector<std::string> allowed_origins;
  // These routes answer the HTTPS port: the server's own origin is then https://<Host> only (an
  // http:// page is not served from a TLS port; anyone on the path could forge one).
  bool tls = false;
};

struct RouteResult {
  // The whole response: status line, headers and body.
  std::string response;
  // After a 101: the connection is a WebSocket now.
  bool upgrade = false;
  // Close the connection once the response is written.
  bool close = false;
  int status = 0;
};

// "HTTP/1.1 <status> <reason>" with Content-Type, Content-Length and `extra_headers` (each ending
// in CRLF), then the body unless `head_only`.
std::string FormatResponse(int status, absl::string_view content_type, absl::string_view body,
                           absl::string_view extra_headers = {}, bool head_only = false);
// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455's GUID)).
std::string WebSocketAccept(absl::string_view key);

class HttpRoutes {
 public:
  // `accepting` is true while the server accepts clients; it must outlive the routes. `metrics`
  // renders the /metrics page; it must be safe from any thread.
  HttpRoutes(WebOptions options, const std::atomic<bool>* accepting,
             std::function<std::string()> metrics);

  RouteResult Route(const HttpRequest& request) const;

 private:
  RouteResult Asset(const HttpRequest& request, bool head_only) const;
  RouteResult FileFromRoot(absl::string_view path, bool head_only) const;
  RouteResult Upgrade(const HttpRequest& request) const;
  bool OriginAllowed(const HttpRequest& request) const;

  const WebOptions options_;
  const std::atomic<bool>* const accepting_;
  const std::function<std::string()> metrics_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_WEB_HTTP_ROUTES_H_
