// The web client's files, compiled into the server (chat/web/static/, embedded at build time by
// //chat/web:embed_assets), so `bazel run //chat:chat_server` serves the page with nothing else on
// disk. Each carries its Content-Type and an ETag (a hash of its bytes).
//
// Constants only; safe from any thread.
#ifndef ROOMCHAT_CHAT_WEB_WEB_ASSETS_H_
#define ROOMCHAT_CHAT_WEB_WEB_ASSETS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace roomchat {

struct WebAsset {
  absl::string_view path;  // "/index.html"
  absl::string_view content_type;
  absl::string_view etag;  // quoted, as sent
  absl::string_view body;
};

// The asset at `path` ("/" is "/index.html"), or null.
const WebAsset* FindWebAsset(absl::string_view path);

// A strong ETag for `bytes`: a quoted hex FNV-1a hash.
std::string EtagOf(absl::string_view bytes);

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_WEB_WEB_ASSETS_H_
