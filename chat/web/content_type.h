// The Content-Type the HTTP port sends for a file, from its extension. Pure; safe from any thread.
#ifndef ROOMCHAT_CHAT_WEB_CONTENT_TYPE_H_
#define ROOMCHAT_CHAT_WEB_CONTENT_TYPE_H_

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace roomchat {

inline absl::string_view ContentTypeFor(absl::string_view path) {
  if (absl::EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(path, ".js")) return "text/javascript; charset=utf-8";
  if (absl::EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (absl::EndsWith(path, ".svg")) return "image/svg+xml";
  if (absl::EndsWith(path, ".png")) return "image/png";
  if (absl::EndsWith(path, ".ico")) return "image/x-icon";
  if (absl::EndsWith(path, ".json")) return "application/json";
  if (absl::EndsWith(path, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_WEB_CONTENT_TYPE_H_
