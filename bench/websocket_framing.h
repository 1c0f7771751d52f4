// WrapInWebSocket: carries another ProtocolConnection's lines over a WebSocket (RFC 6455), as a
// browser reaches roomchat on its HTTP port's /ws. The wrapper sends the upgrade request, checks
// the 101 (and its Sec-WebSocket-Accept), then turns each line the inner connection sends into one
// masked client text frame, and each text message the server sends into one LF-terminated line for
// the inner connection. The inner connection keeps all of its protocol logic (roomchat's
// join-or-create Session, the MSG fast path); the wrapper knows frames, not lines' meaning.
//
// Frames are encoded and decoded by wslay's frame API (client side: masks from a genmask callback),
// one wslay_frame_context per connection. A ping is answered with a pong; a pong is ignored; a
// close frame, a binary message, a malformed frame or a refused upgrade is reported through
// Sink::OnRefused. A text message holding LF would reach the inner connection as two lines;
// roomchat never sends one.
//
// Thread contract: not thread-safe; one generator thread drives each connection.
#ifndef ROOMCHAT_BENCH_WEBSOCKET_FRAMING_H_
#define ROOMCHAT_BENCH_WEBSOCKET_FRAMING_H_

#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"
#include "bench/protocol.h"

namespace roomchat {

// `host` is the upgrade request's Host header ("127.0.0.1:8080"); `seed` picks the
// Sec-WebSocket-Key and the masks (a bench needs no unpredictable masks: it is not a browser
// running someone else's script).
std::unique_ptr<ProtocolConnection> WrapInWebSocket(std::unique_ptr<ProtocolConnection> inner,
                                                    absl::string_view host, uint32_t seed);

}  // namespace roomchat

#endif  // ROOMCHAT_BENCH_WEBSOCKET_FRAMING_H_
