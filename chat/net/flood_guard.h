// FloodGuard: per-connection flood control, a token bucket over received lines.
//
// The bucket holds up to `burst` lines and refills at `lines_per_s`. A line that finds it empty is
// dropped. The first drop of a flood is answered (ERR flood) so the client knows; a client that
// goes on past `disconnect_after` dropped lines in one flood is disconnected (BYE flood). A flood
// ends when a line is accepted again. `lines_per_s` of 0 turns the guard off.
//
// The bucket runs on the server's clock, which sees a line when the server reads it, not when the
// client sent it: the server may take a client's lines late (flow control holds a room's input for
// its readers; a busy thread reads in turns). Lines sent within the limits but taken late, together,
// must not count as a flood. So from the moment a client's input is waiting at the server
// (Backlogged) until the server has read all of it (CaughtUp) and kCatchUpGrace more, the bucket
// refills at the same rate without its burst cap; then it is capped again. The grace is there
// because "read all of it" is only what the server's socket holds: lines the client wrote long ago
// may still sit in its own kernel's send buffer, held back by TCP while the server was slow, and
// arrive a moment later (seen on loopback under load: the server drains its socket many times in
// one burst). The average rate still holds (a client that sends faster than lines_per_s runs dry,
// backlog or not), and no client-side bucket could hold more than the server's: the server's own
// pauses cost a client nothing.
//
// Time is passed in, so tests need no clock. Thread contract: not thread-safe; lives in a Client.
#ifndef ROOMCHAT_CHAT_NET_FLOOD_GUARD_H_
#define ROOMCHAT_CHAT_NET_FLOOD_GUARD_H_

#include <chrono>
#include <cstdint>

namespace roomchat {

struct FloodLimits {
  double lines_per_s;
  double burst;
  uint64_t disconnect_after;
};

class FloodGuard {
 public:
  enum class Verdict {
    kAccept,
    kDropFirst,   // dropped, the first of this flood: tell the client
    kDrop,        // dropped quietly
    kDisconnect,  // flooded on past the limit
  };

  FloodGuard(const FloodLimits& limits, std::chrono::steady_clock::time_point now);

  // How long after catching up the bucket stays uncapped.
  static constexpr std::chrono::seconds kCatchUpGrace{1};

  Verdict OnLine(std::chrono::steady_clock::time_point now);
  // The client's input is waiting at the server from `now` on (idempotent).
  void Backlogged(std::chrono::steady_clock::time_point now);
  // The server has read everything the client sent, as of `now`.
  void CaughtUp(std::chrono::steady_clock::time_point now);
  uint64_t dropped_total() const { return dropped_total_; }

 private:
  void Refill(std::chrono::steady_clock::time_point now);

  // Const after construction.
  const FloodLimits limits_;

  double tokens_;
  std::chrono::steady_clock::time_point last_refill_;
  bool backlogged_ = false;
  std::chrono::steady_clock::time_point caught_up_at_;
  uint64_t dropped_in_flood_ = 0;
  uint64_t dropped_total_ = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_NET_FLOOD_GUARD_H_
