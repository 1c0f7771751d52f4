// What the load generator speaks to each server it measures: roomchat's line protocol, Redis
// pub/sub (RESP) and IRC. A ProtocolConnection does one connection's handshake (join the room),
// turns the bytes that arrive into our payloads, and formats a message for the room.
//
//   line  member: WELCOME, then /join (or /create) the room; "MSG <room> <nick> <payload>".
//   ws    line, over a WebSocket on the server's HTTP port (GET /ws): each line one text frame
//         (bench/websocket_framing.h).
//   resp  member: SUBSCRIBE <room>; "message" pushes. A sender has a second, publisher connection
//         (PUBLISH <room> <payload>), since a subscribed connection cannot publish.
//   irc   member: NICK/USER, JOIN #<room>, answer PING; "PRIVMSG #<room> :<payload>".
//
// Thread contract: not thread-safe; one generator thread drives each connection.
#ifndef ROOMCHAT_BENCH_PROTOCOL_H_
#define ROOMCHAT_BENCH_PROTOCOL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace roomchat {

enum class Proto { kLine, kWs, kResp, kIrc };

absl::StatusOr<Proto> ParseProto(absl::string_view name);

class ProtocolConnection {
 public:
  // What a connection reports while its bytes are consumed.
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void OnMessage(absl::string_view payload) = 0;
    virtual void OnReady() = 0;
    // The server refused something (an error, a disconnect notice); `text` says what.
    virtual void OnRefused(absl::string_view text) = 0;
    // Bytes the protocol must send in answer (handshake steps, PONG).
    virtual void Send(absl::string_view bytes) = 0;
  };

  struct Options {
    Proto proto = Proto::kLine;
    std::string room;
    uint32_t member = 0;     // unique across the run
    bool publisher = false;  // resp: the sender's publishing connection
    std::string irc_oper;    // irc: "name:password" to OPER and set +F (no flood penalty)
    std::string http_host;   // ws: the upgrade request's Host header, "host:port"
  };

  static std::unique_ptr<ProtocolConnection> Create(const Options& options);
  virtual ~ProtocolConnection() = default;

  // Bytes to send right after connecting.
  virtual std::string Hello() = 0;
  // Handles the complete frames at the start of `bytes`; returns how many bytes it consumed.
  virtual size_t Consume(absl::string_view bytes, Sink& sink) = 0;
  // Appends to `out` what publishes `payload` to the room.
  virtual void AppendMessage(absl::string_view payload, std::string* out) = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_BENCH_PROTOCOL_H_
