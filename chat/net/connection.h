// Connection: one client's connection as the server holds it, the thing that moves between
// threads.
//
// A Connection is a Transport (how bytes cross the wire) under a Codec (how lines are framed),
// plus what the server knows of the client: its id, peer address, nick, flood guard, unsent
// output and, once it is leaving, why. It moves from the acceptor to the lobby and between the
// lobby and rooms as a std::unique_ptr, so exactly one thread owns it, and its socket, at a time;
// its unread input (in the codec) and pending output travel with it.
//
// Thread contract: not thread-safe. Every method is for the owning thread only.
#ifndef ROOMCHAT_CHAT_NET_CONNECTION_H_
#define ROOMCHAT_CHAT_NET_CONNECTION_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/net/codec.h"
#include "chat/net/flood_guard.h"
#include "chat/net/output_buffer.h"
#include "chat/net/transport.h"
#include "chat/protocol/caps.h"

namespace roomchat {

using ClientId = uint64_t;
using Clock = std::chrono::steady_clock;

// Why a client leaves the server.
enum class DepartureReason {
  kQuit,         // sent /quit
  kEndOfInput,   // closed its sending side (a half-close, or a close seen as EOF)
  kPeerClosed,   // the connection was reset by the client
  kIoError,      // a read or write failed
  kIdleTimeout,  // nothing received for --idle_timeout_s
  kOutputLimit,  // unsent output passed --max_outbuf_bytes, or the soft cap for too long
  kFlood,        // went on sending past the flood limit
  kShutdown,     // the server is stopping
};

struct Departure {
  DepartureReason reason;
  std::string detail;  // for the log: an errno text, a limit
};

// The reason word of the BYE line a departing client gets, or empty when it gets none (it is gone,
// or its output is stuck).
absl::string_view ByeReason(DepartureReason reason);
// A short phrase for the log.
absl::string_view DepartureName(DepartureReason reason);

struct ConnectionLimits {
  size_t max_line_bytes;
  OutputLimits output;
  FloodLimits flood;
};

class Connection {
 public:
  Connection(ClientId id, std::string peer, std::unique_ptr<Transport> transport,
             std::unique_ptr<Codec> codec, const ConnectionLimits& limits, Clock::time_point now);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  ClientId id() const { return id_; }
  int fd() const { return transport_->fd(); }
  // Whether the connection speaks TLS (the TLS or HTTPS port).
  bool tls() const { return transport_->tls(); }
  const std::string& peer() const { return peer_; }
  const std::string& nick() const { return nick_; }
  void set_nick(std::string nick) { nick_ = std::move(nick); }
  // The account the client is logged in to (its key), or empty for a guest.
  const std::string& account() const { return account_; }
  void set_account(std::string account) { account_ = std::move(account); }
  // What the client turned on with /cap req (nothing: protocol v1 exactly).
  CapSet caps() const { return caps_; }
  void add_cap(Cap cap) { caps_.Add(cap); }
  // In a room, replaying history to this client: live chat lines wait in the room's history.
  bool catching_up() const { return catching_up_; }
  void set_catching_up(bool catching_up) { catching_up_ = catching_up; }
  // The place handles no more of this client's input until it clears this (an answer to one of
  // its commands is on its way from another thread, and replies stay in order).
  bool input_on_hold() const { return input_on_hold_; }
  void set_input_on_hold(bool on_hold) { input_on_hold_ = on_hold; }
  const Codec& codec() const { return *codec_; }

  // ---- Input.
  // One read of at most `scratch_size` bytes at `now`, handed to the codec (whose answers, such
  // as a pong, are queued as output). Aborted on a reset.
  absl::StatusOr<Transport::ReadResult> ReadOnce(char* scratch, size_t scratch_size,
                                                 Clock::time_point now);
  // Bytes that arrived by another way (after an HTTP upgrade, with the request), handed to the
  // codec as a read's would be.
  void AcceptInput(absl::string_view bytes, Clock::time_point now);
  // The next complete frame; after the input ended, the last unterminated line once.
  std::optional<Frame> NextFrame();
  // The client closed its side (EOF), or the codec will yield nothing more (a WebSocket close).
  bool input_ended() const { return loop_state_.input_ended || codec_->closed(); }
  size_t buffered_input() const { return codec_->buffered_bytes(); }
  // A complete line arrived: the client is active (bytes that never make a line are not activity,
  // so a trickle of partial lines still times out).
  void NoteLine(Clock::time_point now) { last_activity_ = now; }
  Clock::time_point last_activity() const { return last_activity_; }
  FloodGuard& flood() { return flood_; }

  // ---- Output.
  // Encodes `lines` with this connection's codec and queues them at `now`. True when this took the
  // unsent output above the high-water mark.
  bool Send(absl::string_view lines, Clock::time_point now);
  // Queues bytes already encoded for this connection's codec (Broadcast::For).
  bool SendEncoded(absl::string_view bytes, Clock::time_point now) {
    return output_.Append(bytes, now);
  }
  // Writes up to `max_bytes` of the queued output; `*blocked` when the socket filled up.
  absl::Status Flush(size_t max_bytes, Clock::time_point now, bool* blocked);
  const OutputBuffer& output() const { return output_; }
  OutputBuffer& output() { return output_; }

  // ---- Leaving. The first departure recorded wins; later ones are ignored.
  void MarkDeparting(Departure departure);
  const std::optional<Departure>& departure() const { return departure_; }
  // Queues what ends the stream for this codec (a WebSocket close frame), after the last line.
  void EndOutput(Clock::time_point now);
  // A last best-effort write of what is queued, then a half-close, so the peer reads the lines
  // before EOF. The socket closes when the Connection is destroyed.
  void FinishOutput(Clock::time_point now);

  // ---- State kept for the loop that owns the connection; not used by the connection itself.
  struct LoopState {
    bool readable = false;     // the socket may hold unread bytes
    bool writable = true;      // the last write did not fill the socket
    bool input_ended = false;  // the client closed its sending side
    bool hung_up = false;      // epoll said so (EPOLLRDHUP/EPOLLHUP): read on until EOF
    bool queued = false;       // in the place's queue of connections with input to handle
    bool tracked = false;      // above the high-water mark and known to the Pacer
    // A send failed: how it departs once the input it sent before it went has been handled.
    std::optional<Departure> send_failed;
  };
  LoopState& loop_state() { return loop_state_; }

 private:
  // Const after construction.
  const ClientId id_;
  const std::string peer_;
  const std::unique_ptr<Transport> transport_;
  const std::unique_ptr<Codec> codec_;

  // Owned by the owning thread.
  std::string nick_;
  std::string account_;
  CapSet caps_;
  bool catching_up_ = false;
  bool input_on_hold_ = false;
  OutputBuffer output_;
  std::string encode_scratch_;
  Clock::time_point last_activity_;
  FloodGuard flood_;
  bool input_finished_ = false;  // the codec's Finish() has been taken
  std::optional<Departure> departure_;
  LoopState loop_state_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_NET_CONNECTION_H_
