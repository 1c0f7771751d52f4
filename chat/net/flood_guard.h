// FloodGuard: per-connection flood control, a token bucket over received lines.
//
// The bucket holds up to `burst` lines and refills at `lines_per_s`. A line that finds it empty is
// dropped. The first drop of a flood is answered (ERR flood) so the client knows; a client that
// goes on past `disconnect_after` dropped lines in one flood is disconnected (BYE flood). A flood
// ends when a line is accepted again. `lines_per_s` of 0 turns the guard off.
//
// The server may hold a client's lines back (flow control: the room waits for its readers; the
// client's own replies wait to drain). Lines sent within the limits but taken late, together, must
// not count as a flood: while held, the bucket refills at the same rate without its burst cap, so
// the client keeps its average rate and loses nothing to the server's own pause.
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

  Verdict OnLine(std::chrono::steady_clock::time_point now);
  // The server is holding this client's input back from `now` until its next line.
  void Hold(std::chrono::steady_clock::time_point now);
  uint64_t dropped_total() const { return dropped_total_; }

 private:
  void Refill(std::chrono::steady_clock::time_point now);

  // Const after construction.
  const FloodLimits limits_;

  double tokens_;
  std::chrono::steady_clock::time_point last_refill_;
  bool held_ = false;
  uint64_t dropped_in_flood_ = 0;
  uint64_t dropped_total_ = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_NET_FLOOD_GUARD_H_
