// Client: one connection, the thing that moves between threads.
//
// A Client holds the socket, the nick, the inbound LineFramer and the outbound buffer. It moves
// from the acceptor to the lobby and between the lobby and rooms as a std::unique_ptr, so exactly
// one thread owns it, and its socket, at a time.
//
// Thread contract: not thread-safe. Every method is for the owning thread only.
#ifndef ROOMCHAT_CHAT_CONN_CLIENT_H_
#define ROOMCHAT_CHAT_CONN_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/conn/flood_guard.h"
#include "chat/protocol/line_framer.h"
#include "chat/base/socket.h"

namespace roomchat {

using ClientId = uint64_t;
using Clock = std::chrono::steady_clock;

// Why a client leaves the server.
enum class DepartureReason {
  kQuit,         // sent /quit
  kPeerClosed,   // the connection was closed or reset by the client
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

struct ClientLimits {
  size_t max_line_bytes = 4096;
  // Unsent output past this disconnects the client at once.
  size_t max_outbuf_bytes = 1 << 20;
  // Unsent output past this for longer than outbuf_soft_duration disconnects it; 0 bytes is off.
  size_t outbuf_soft_bytes = 256 * 1024;
  std::chrono::seconds outbuf_soft_duration{10};
  FloodLimits flood;
};

class Client {
 public:
  Client(ClientId id, UniqueFd fd, std::string peer, const ClientLimits& limits);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  ClientId id() const { return id_; }
  int fd() const { return fd_.get(); }
  const std::string& peer() const { return peer_; }
  const std::string& nick() const { return nick_; }
  void set_nick(std::string nick) { nick_ = std::move(nick); }

  // ---- Input.
  enum class ReadOutcome { kData, kWouldBlock, kPeerClosed, kPeerReset };
  // One read(2) of at most `scratch_size` bytes, appended to the framer. Errors other than the peer
  // closing or resetting are returned.
  absl::StatusOr<ReadOutcome> ReadOnce(char* scratch, size_t scratch_size);
  LineFramer& framer() { return framer_; }
  // A complete line arrived: the client is active (bytes that never make a line are not activity,
  // so a trickle of partial lines still times out).
  void NoteLine(Clock::time_point now) { last_activity_ = now; }
  Clock::time_point last_activity() const { return last_activity_; }
  FloodGuard& flood() { return flood_; }

  // ---- Output.
  // Appends `bytes` to the outbound buffer. If that would take the unsent output past
  // max_outbuf_bytes, nothing is appended and the client is marked output_overflowed(): it gets
  // nothing more and its owner disconnects it.
  void Send(absl::string_view bytes);
  bool has_output() const { return out_pos_ < out_.size(); }
  size_t unsent_bytes() const { return out_.size() - out_pos_; }
  bool output_overflowed() const { return output_overflowed_; }
  // True once unsent output has stayed above the soft cap for the soft duration. Tracks when the
  // output first went above it; call after each flush and periodically.
  bool OutputStuck(Clock::time_point now);
  // Writes up to `max_bytes` of the buffer with non-blocking send(2)s, stopping at EAGAIN. Aborted
  // when the client reset or closed the connection; another error for anything else. The unsent
  // rest stays buffered.
  absl::Status Flush(size_t max_bytes);
  // Whether the owner's poll set should ask for POLLOUT.
  bool wants_write() const { return wants_write_; }
  void set_wants_write(bool wants) { wants_write_ = wants; }

  // ---- Leaving. The first departure recorded wins; later ones are ignored.
  void MarkDeparting(Departure departure);
  const std::optional<Departure>& departure() const { return departure_; }
  // Sends a last best-effort flush and half-closes, so the peer sees buffered lines before EOF.
  void FinishOutput();

 private:
  // Const after construction.
  const ClientId id_;
  const UniqueFd fd_;
  const std::string peer_;
  const size_t max_outbuf_bytes_;
  const size_t outbuf_soft_bytes_;
  const std::chrono::seconds outbuf_soft_duration_;

  // Owned by the owning thread.
  std::string nick_;
  LineFramer framer_;
  std::string out_;
  size_t out_pos_ = 0;  // out_[0, out_pos_) has been sent
  bool output_overflowed_ = false;
  bool wants_write_ = false;
  Clock::time_point last_activity_;
  std::optional<Clock::time_point> over_soft_since_;
  FloodGuard flood_;
  std::optional<Departure> departure_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CONN_CLIENT_H_
