#include "chat/web/http_routes.h"

#include <openssl/sha.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "chat/web/content_type.h"
#include "chat/web/web_assets.h"

namespace roomchat {
namespace {

constexpr absl::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr absl::string_view kPlainText = "text/plain; charset=utf-8";

absl::string_view Reason(int status) {
  switch (status) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

RouteResult Plain(int status, absl::string_view text, absl::string_view extra = {},
                  bool head_only = false) {
  RouteResult result;
  result.status = status;
  result.response = FormatResponse(status, kPlainText, absl::StrCat(text, "\n"), extra, head_only);
  return result;
}

// Whether `header` (a comma-separated list) holds `token`, case-insensitively.
bool HasToken(absl::string_view header, absl::string_view token) {
  for (absl::string_view part : absl::StrSplit(header, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(part), token)) return true;
  }
  return false;
}

// A path under --web_root may hold only these characters and no ".." segment.
bool SafePath(absl::string_view path) {
  if (path.empty() || path[0] != '/' || absl::StrContains(path, "..")) return false;
  for (char c : path) {
    if (!absl::ascii_isalnum(c) && c != '/' && c != '.' && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

std::string FormatResponse(int status, absl::string_view content_type, absl::string_view body,
                           absl::string_view extra_headers, bool head_only) {
  std::string response = absl::StrCat("HTTP/1.1 ", status, " ", Reason(status), "\r\n");
  if (!content_type.empty()) absl::StrAppend(&response, "Content-Type: ", content_type, "\r\n");
  if (status != 101 && status != 304) {
    absl::StrAppend(&response, "Content-Length: ", body.size(), "\r\n");
  }
  absl::StrAppend(&response, "X-Content-Type-Options: nosniff\r\n", extra_headers, "\r\n");
  if (!head_only) response.append(body.data(), body.size());
  return response;
}

std::string WebSocketAccept(absl::string_view key) {
  std::string input = absl::StrCat(key, kWebSocketGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

HttpRoutes::HttpRoutes(WebOptions options, const std::atomic<bool>* accepting,
                       std::function<std::string()> metrics)
    : options_(std::move(options)), accepting_(accepting), metrics_(std::move(metrics)) {}

RouteResult HttpRoutes::Route(const HttpRequest& request) const {
  bool head_only = request.method == "HEAD";
  if (request.method != "GET" && !head_only) {
    RouteResult result = Plain(405, "only GET and HEAD are served here", "Allow: GET, HEAD\r\n");
    result.close = true;
    return result;
  }
  absl::string_view path = request.Path();
  if (path == "/ws") return Upgrade(request);
  if (path == "/healthz") {
    bool up = accepting_->load(std::memory_order_relaxed);
    return Plain(up ? 200 : 503, up ? "ok" : "shutting down", {}, head_only);
  }
  if (path == "/metrics") {
    RouteResult result;
    result.status = 200;
    result.response = FormatResponse(200, "text/plain; version=0.0.4; charset=utf-8", metrics_(),
                                     "Cache-Control: no-store\r\n", head_only);
    return result;
  }
  return Asset(request, head_only);
}

RouteResult HttpRoutes::Asset(const HttpRequest& request, bool head_only) const {
  if (!options_.web_root.empty()) return FileFromRoot(request.Path(), head_only);
  const WebAsset* asset = FindWebAsset(request.Path());
  if (asset == nullptr) return Plain(404, "not found", {}, head_only);
  std::string headers = absl::StrCat("Cache-Control: no-cache\r\nETag: ", asset->etag, "\r\n");
  RouteResult result;
  if (request.Header("if-none-match") == asset->etag) {
    result.status = 304;
    result.response = FormatResponse(304, {}, {}, headers, /*head_only=*/true);
    return result;
  }
  result.status = 200;
  result.response = FormatResponse(200, asset->content_type, asset->body, headers, head_only);
  return result;
}

RouteResult HttpRoutes::FileFromRoot(absl::string_view path, bool head_only) const {
  if (path == "/") path = "/index.html";
  if (!SafePath(path)) return Plain(404, "not found", {}, head_only);
  std::ifstream in(absl::StrCat(options_.web_root, path), std::ios::binary);
  if (!in) return Plain(404, "not found", {}, head_only);
  std::stringstream bytes;
  bytes << in.rdbuf();
  RouteResult result;
  result.status = 200;
  result.response = FormatResponse(200, ContentTypeFor(path), bytes.str(),
                                   "Cache-Control: no-cache\r\n", head_only);
  return result;
}

bool HttpRoutes::OriginAllowed(const HttpRequest& request) const {
  absl::string_view origin = request.Header("origin");
  if (origin.empty()) return true;
  if (options_.allowed_origins.empty()) {
    absl::string_view host = request.Header("host");
    if (host.empty()) return false;
    // The plain port also takes https://<Host>: a TLS proxy in front of it (docs/WEB.md).
    return origin == absl::StrCat("https://", host) ||
           (!options_.tls && origin == absl::StrCat("http://", host));
  }
  for (const std::string& allowed : options_.allowed_origins) {
    if (origin == allowed) return true;
  }
  return false;
}

RouteResult HttpRoutes::Upgrade(const HttpRequest& request) const {
  RouteResult refused;
  std::string nonce;
  if (!HasToken(request.Header("upgrade"), "websocket") ||
      !HasToken(request.Header("connection"), "upgrade") ||
      !absl::Base64Unescape(request.Header("sec-websocket-key"), &nonce) || nonce.size() != 16) {
    refused = Plain(400, "this is a WebSocket endpoint: send a WebSocket upgrade");
  } else if (request.Header("sec-websocket-version") != "13") {
    refused = Plain(426, "WebSocket version 13 only", "Sec-WebSocket-Version: 13\r\n");
  } else if (!OriginAllowed(request)) {
    refused = Plain(403, "this Origin may not open a WebSocket here (--http_allowed_origins)");
  } else {
    RouteResult result;
    result.status = 101;
    result.upgrade = true;
    result.response = FormatResponse(
        101, {}, {},
        absl::StrCat("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
                     WebSocketAccept(request.Header("sec-websocket-key")), "\r\n"),
        /*head_only=*/true);
    return result;
  }
  refused.close = true;
  return refused;
}

}  // namespace roomchat
