// MemberIo: the I/O side of a place (the lobby or a room): its members' sockets on the place's
// EventLoop, input taken under flow control, output flushed with pacing, and departures.
//
// Each round, as the loop's RoundHook:
//   1. input: members with input to handle take turns (round-robin, at most kFramesPerTurn frames
//      each); a turn reads at most kReadChunk bytes when no complete frame is buffered, and passes
//      frames to the Handler one at a time, so a connection moved away mid-turn takes its unread
//      bytes; a round stops taking input after kRoundOutputBudget bytes of output. Input waits
//      while the Pacer says so (docs/RELIABILITY.md, flow control): for a room,
//      while a reading member's output is above the high-water mark; for any member, while its own
//      output is. A departing or overflowed member's remaining input is never handled.
//   2. departures: members marked departing are removed (never while iterating), the Handler is
//      told, and their connection is retired: closed at once, or, when a BYE or other output is
//      still unsent, handed to the lobby to linger until it is sent (at most kLinger).
//   3. output: one pass visits every member in turn and sends each everything queued, capped at
//      kWriteChunk bytes per member and kSendsPerRound sends per round so no reader starves the
//      rest; after a slow pass of small sends the next waits (a timer), so lines gather. A send
//      that fails (the client is gone) does not depart the member at once: the lines it sent
//      before it went may be unread yet, so its input is read and handled first (up to a command
//      that waits for an answer), then it departs; a read that came first would have done that.
// Sockets are watched edge-triggered for input and output, so a full socket costs no epoll_ctl:
// the loop state in each Connection remembers what the last event said.
// Once a second (a timer): idle members, and members stuck above the soft output cap, depart.
//
// Thread contract: constructed before the loop runs; everything is for the loop thread only.
#ifndef ROOMCHAT_CHAT_PLACES_MEMBER_IO_H_
#define ROOMCHAT_CHAT_PLACES_MEMBER_IO_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "chat/loop/event_loop.h"
#include "chat/metrics/metrics.h"
#include "chat/net/codec.h"
#include "chat/net/connection.h"
#include "chat/places/core_wait.h"
#include "chat/places/member_set.h"
#include "chat/places/pacer.h"

namespace roomchat {

class MemberIo final : private EventLoop::IoHandler {
 public:
  static constexpr size_t kReadChunk = 64 * 1024;
  static constexpr size_t kWriteChunk = 256 * 1024;
  static constexpr size_t kSendsPerRound = 128;
  static constexpr int kFramesPerTurn = 256;
  // A round takes no more input once it has queued this much output, so one round stays short and
  // arrivals and timers wait at most about that long (docs/RELIABILITY.md).
  static constexpr size_t kRoundOutputBudget = 4 << 20;
  // A member that has not read for this long stops holding its room's input back.
  static constexpr std::chrono::seconds kStallAfter{1};
  // How long a departed connection may take to read its last lines.
  static constexpr std::chrono::seconds kLinger{5};

  // What the place does with its members. Called on the loop thread.
  class Handler {
   public:
    virtual ~Handler() = default;
    // A frame from `member`. The handler may Detach() it (to move it elsewhere); its unread input
    // then travels with it.
    virtual void OnFrame(Connection& member, const Frame& frame) = 0;
    // `member` is leaving the server; it is no longer a member, and is retired right after.
    virtual void OnDeparture(Connection& member, const Departure& departure) = 0;
    // A departed connection still has output to send: the place hands it to whoever lingers.
    virtual void OnUnsentAtDeparture(std::unique_ptr<Connection> connection) = 0;
  };

  struct Options {
    std::chrono::seconds idle_timeout;  // zero: no idle check
    // A room's input waits for every reading member (its lines go to all); the lobby's does not.
    bool input_waits_for_all;
    // Where this place's counts go (/metrics); outlives the MemberIo.
    PlaceMetrics* metrics;
  };

  MemberIo(EventLoop* loop, Handler* handler, const Options& options);
  ~MemberIo() override;

  MemberIo(const MemberIo&) = delete;
  MemberIo& operator=(const MemberIo&) = delete;

  // The loop's RoundHook: input, departures, output. Returns when the next round must start.
  Clock::time_point RunRound();
  // After the loop has stopped: every member departs and every connection is closed.
  void Shutdown(DepartureReason reason);

  // ---- Members.
  // Watches `connection` and queues its buffered input, if any.
  Connection& Add(std::unique_ptr<Connection> connection);
  // Takes `id` out of this place (unwatched, forgotten), with its buffers; null if not a member.
  std::unique_ptr<Connection> Detach(ClientId id);
  Connection* Find(ClientId id) const { return members_.Find(id); }
  size_t size() const { return members_.size(); }
  const MemberSet& members() const { return members_; }
  // Marks `member` as leaving; it is removed at the end of the round's input.
  void Depart(Connection& member, Departure departure);
  // Takes `member`'s input again after Connection::set_input_on_hold(true).
  void Resume(Connection& member);
  void DepartAll(DepartureReason reason);
  // Adopts a departed connection until its output is sent, it fails, or kLinger passes.
  void Linger(std::unique_ptr<Connection> connection);

  // ---- Output: every line a place sends goes through these, so flow control sees it.
  void Send(Connection& member, absl::string_view lines);
  // Sends `lines` to every member but `except` (0: to all), encoded once per codec in use.
  void SendToAll(ClientId except, absl::string_view lines);
  // A chat line to every member but `except`, those still catching up on history (they get it
  // from there) and those in `had_it` (sent it earlier), if given: `tagged_lines()` to members
  // with the tags capability (made once, when the first of them is met), `lines` to the others.
  void SendChatToAll(ClientId except, absl::string_view lines,
                     absl::FunctionRef<std::string()> tagged_lines,
                     const absl::flat_hash_set<ClientId>* had_it = nullptr);

  // For tests.
  size_t TEST_lingering() const { return lingering_.size(); }

 private:
  enum class Turn { kMore, kIdle, kBlocked, kGone };

  // EventLoop::IoHandler.
  void OnIo(uint64_t key, uint32_t events) override;

  void Fanout(ClientId except, absl::string_view lines,
              absl::FunctionRef<std::string()>* tagged_lines,
              const absl::flat_hash_set<ClientId>* had_it = nullptr);
  void Enqueue(Connection& member);
  void TakeInput();
  Turn TakeTurn(Connection& member);
  // Reads once into the member's codec; false when there is nothing more to read now.
  bool ReadSome(Connection& member);
  void NoteCrossing(Connection& member);
  void FinishDepartures();
  void Retire(std::unique_ptr<Connection> connection);
  void Flush();
  void FlushMember(Connection& member, size_t* sends);
  // A send to `member` failed: the client is gone, but the lines it sent before it went may be
  // unread (a read before this send would have handled them). Its input is read to the end and
  // handled first (TakeTurn), up to a command that waits for an answer; then it departs with
  // `departure`. Its output is sent no more.
  void SendFailed(Connection& member, Departure departure);
  void EndPass();
  void Housekeeping();
  void DepartIfOutputStuck(Connection& member);
  void FlushLingering(ClientId id);
  void CloseLingering(ClientId id);

  // Const after construction.
  EventLoop* const loop_;
  Handler* const handler_;
  const Options options_;

  // Owned by the loop thread.
  MemberSet members_;
  Pacer pacer_;
  CoreWait core_wait_;  // asked by the pacer after a slow pass
  std::deque<ClientId> ready_;  // members with input to handle, in turn order
  bool input_paused_ = false;   // the Pacer's word, refreshed each round and on each crossing
  size_t round_output_ = 0;     // bytes queued by this round's input
  std::vector<ClientId> departing_;
  bool flush_pending_ = false;       // the last round stopped at its send budget
  EventLoop::TimerId pass_gap_ = 0;  // non-zero while the next pass waits
  EventLoop::TimerId housekeeping_ = 0;
  Clock::time_point housekeeping_due_;  // when the timer should run next (its lateness is lag)
  struct Lingering {
    std::unique_ptr<Connection> connection;
    EventLoop::TimerId deadline;
  };
  absl::flat_hash_map<ClientId, Lingering> lingering_;
  std::unique_ptr<char[]> read_scratch_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_PLACES_MEMBER_IO_H_
