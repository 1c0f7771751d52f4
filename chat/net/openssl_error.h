// TakeOpenSslError: the text of the oldest error on OpenSSL's per-thread error queue, which it
// then clears, for every TLS wrapper (server, terminal client, bench). Safe from any thread: the
// queue is the calling thread's own.
#ifndef ROOMCHAT_CHAT_NET_OPENSSL_ERROR_H_
#define ROOMCHAT_CHAT_NET_OPENSSL_ERROR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace roomchat {

// The queued error as text, or `if_none` when OpenSSL queued nothing; the queue is left empty.
std::string TakeOpenSslError(absl::string_view if_none = "no detail from OpenSSL");

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_NET_OPENSSL_ERROR_H_
