// Pacer: when a place reads and when it writes, as rules over numbers it is given (the time is a
// parameter, as for FloodGuard), so each rule is tested without a socket or a clock.
//
// Flow control (docs/RELIABILITY.md). A room reads from its members only as fast as their output
// drains, the way TCP flow control would: while some member's unsent output is above the
// high-water mark and that member is still reading (some of its output left within
// `stall_after`), the room takes no more input, so one round can never fan out more than a reader
// can take. A member that has not read anything for `stall_after` stops holding the room back;
// its output grows until the output caps cut it, which is what the caps are for. A member's own
// commands also wait while its own output is above the mark (in the lobby that is the only rule:
// lobby members do not share output).
//
// Pass pacing (docs/ARCHITECTURE.md). Flushing visits every member in turn, a "pass". When a pass
// took at least kSlowPass and its sends were small (under kSmallSend bytes each on average) while
// lines kept coming (fanned out during the pass: chat or events, read from a member or handed in
// by the cluster link), the room cannot keep up with one send per line: the next pass waits as
// long as the last one took (at most kMaxPassGap), so lines gather and each send carries more.
// On saturated cores (the room's thread waits for one, see CoreWait) a slow pass of small sends
// waits after any line, even the one that started it, and twice as long: a room whose passes
// take most of the time between two lines then gathers them and leaves the cores to the rest,
// while on cores with room to spare it sends each line at once.
//
// Thread contract: not thread-safe; owned by a place's loop thread.
#ifndef ROOMCHAT_CHAT_PLACES_PACER_H_
#define ROOMCHAT_CHAT_PLACES_PACER_H_

#include <chrono>
#include <cstddef>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "chat/net/connection.h"

namespace roomchat {

class Pacer {
 public:
  static constexpr std::chrono::microseconds kSlowPass{500};
  static constexpr std::chrono::microseconds kMaxPassGap{2000};
  static constexpr size_t kSmallSend = 1024;
  // The share of its time a thread waits for a core from which its cores count as saturated.
  static constexpr double kSaturatedWaitShare = 0.25;

  explicit Pacer(Clock::duration stall_after) : stall_after_(stall_after) {}

  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  // ---- Flow control.
  // `id`'s output went above the high-water mark; it last drained at `last_drain`.
  void Track(ClientId id, Clock::time_point last_drain);
  // `id` wrote some output at `now`. Returns true when it is now at or below the mark and no
  // longer tracked (`above_high_water` false).
  bool Drained(ClientId id, bool above_high_water, Clock::time_point now);
  // `id` left, or moved on.
  void Forget(ClientId id) { tracked_.erase(id); }
  // True while some tracked member is still reading: the place takes no input.
  bool InputPaused(Clock::time_point now) const;
  // When InputPaused() may turn false without any member draining (the earliest time a holding
  // member counts as stalled); Clock::time_point::max() when nothing is tracked.
  Clock::time_point PauseRecheck(Clock::time_point now) const;
  size_t tracked() const { return tracked_.size(); }

  // ---- Pass pacing.
  void StartPass(Clock::time_point now);
  // A line was fanned out (chat or an event).
  void CountLine() {
    ++pass_lines_;
    ++lines_since_pass_;
  }
  void CountSend(size_t bytes) {
    ++pass_sends_;
    pass_bytes_ += bytes;
  }
  // The pass that started at StartPass() ended at `now`: how long the next one waits (zero: none).
  // `wait_share` is asked only for a slow pass of small sends: the share of the time the thread
  // has lately waited for a core (CoreWait).
  Clock::duration EndPass(Clock::time_point now, absl::FunctionRef<double()> wait_share);

 private:
  // Const after construction.
  const Clock::duration stall_after_;

  absl::flat_hash_map<ClientId, Clock::time_point> tracked_;  // last drain, by member
  Clock::time_point pass_started_;
  size_t pass_lines_ = 0;        // fanned out during the pass
  size_t lines_since_pass_ = 0;  // since the last pass ended
  size_t pass_sends_ = 0;
  size_t pass_bytes_ = 0;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PLACES_PACER_H_
