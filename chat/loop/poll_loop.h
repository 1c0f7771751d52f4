// PollLoop: the event loop that the lobby and every room run on their own thread.
//
// A PollLoop owns a set of Clients and a private epoll instance over their sockets plus an eventfd
// (level-triggered; epoll rather than poll(2) because a round's wait then costs the same with 2 or
// 2000 members: bench/poll_benchmark, docs/ARCHITECTURE.md). Other threads hand it work only
// through Post(): a mutex-guarded queue of tasks, swapped out under the lock and run outside it
// (muduo's queueInLoop/doPendingFunctors). Each round it:
//   1. waits; reads from readable clients (at most kReadChunk bytes each) and passes every complete
//      frame to the Handler, one at a time, so a client moved away mid-batch takes its unread
//      bytes;
//   2. runs the posted tasks;
//   3. removes departing clients (deferred, never while iterating members): the Handler is told,
//   the
//      client gets its BYE line, and the socket is closed;
//   4. flushes every client with pending output: one send per client per round for everything the
//      round produced, capped at kWriteChunk bytes so one fast reader cannot starve the rest;
//      POLLOUT is asked for only while bytes remain.
//
// Thread contract: Post() and Stop() are safe from any thread. Everything else is for the loop
// thread only (the thread that calls Run()); debug builds check it.
#ifndef ROOMCHAT_CHAT_LOOP_POLL_LOOP_H_
#define ROOMCHAT_CHAT_LOOP_POLL_LOOP_H_

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "chat/conn/client.h"
#include "chat/protocol/line_framer.h"
#include "chat/base/socket.h"

namespace roomchat {

class PollLoop {
 public:
  // What the loop's owner (the lobby or a room) does with its clients. Called on the loop thread.
  class Handler {
   public:
    virtual ~Handler() = default;
    // A frame from `client`. The handler may Remove() the client (to move it elsewhere); the loop
    // then stops reading its frames, and the unread ones travel with it.
    virtual void OnFrame(Client& client, const Frame& frame) = 0;
    // `client` is leaving the server; it is still in the loop, and is closed right after.
    virtual void OnDeparture(Client& client, const Departure& departure) = 0;
    // Stop() reached the loop: the handler decides what its clients get.
    virtual void OnStop() = 0;
  };

  static constexpr size_t kReadChunk = 64 * 1024;
  static constexpr size_t kWriteChunk = 256 * 1024;
  static constexpr int kMaxEventsPerWait = 256;
  static constexpr size_t kSendsPerRound = 128;
  static constexpr std::chrono::microseconds kSlowPass{500};
  static constexpr std::chrono::microseconds kMaxPassGap{2000};
  static constexpr size_t kSmallSend = 1024;

  // `idle_timeout` of zero turns the idle check off. Fails when the epoll instance or the eventfd
  // cannot be created (out of file descriptors).
  static absl::StatusOr<std::unique_ptr<PollLoop>> Create(std::string name, Handler* handler,
                                                          std::chrono::seconds idle_timeout);
  ~PollLoop();

  PollLoop(const PollLoop&) = delete;
  PollLoop& operator=(const PollLoop&) = delete;

  // Safe from any thread. Queues `task` to run on the loop thread and wakes the loop. Tasks posted
  // before the loop exits run; a task posted after that is destroyed unrun when the loop is.
  void Post(absl::AnyInvocable<void() &&> task);
  // Safe from any thread. Asks the loop to call Handler::OnStop(), finish its departures and return
  // from Run().
  void Stop();

  // Runs rounds on the calling thread, which becomes the loop thread, until Stop() is processed.
  void Run();

  // For tests, safe from any thread: rounds run so far (an idle loop makes about one a second).
  uint64_t TEST_rounds() const { return rounds_.load(std::memory_order_relaxed); }

  // ---- Loop thread only.
  const std::string& name() const { return name_; }
  bool stopping() const;
  // The time this round began: one clock read per round for every timing decision.
  Clock::time_point now() const { return now_; }
  void Add(std::unique_ptr<Client> client);
  // Takes `id` out of the loop, with its buffers and unread input. Null if it is not here.
  std::unique_ptr<Client> Remove(ClientId id);
  Client* Find(ClientId id);
  size_t size() const;
  void ForEachClient(absl::FunctionRef<void(Client&)> visit);
  // Marks `client` as leaving; it is removed at the end of the round.
  void Depart(Client& client, Departure departure);
  // Passes the frames buffered in `client` to the handler, e.g. after it arrived from elsewhere.
  void ProcessInput(ClientId id);

 private:
  PollLoop(std::string name, Handler* handler, std::chrono::seconds idle_timeout, UniqueFd epoll,
           UniqueFd wake);

  void AssertInLoopThread() const;
  void RunRound();
  // How long the next wait may block, in nanoseconds; -1 for no limit.
  int64_t WaitTimeoutNs() const;
  // Registers, re-registers (read, or read and write) or unregisters a client's socket.
  void Watch(Client& client, int operation);
  void SetWantsWrite(Client& client, bool wants);
  void ServiceClient(Client& client, uint32_t events);
  void RunPendingTasks();
  // Once a second: idle clients, and clients whose output has been stuck above the soft cap.
  void Housekeeping();
  // Disconnects `client` if its output has stayed above the soft cap too long
  // (Client::OutputStuck).
  void DepartIfOutputStuck(Client& client);
  void FinishDepartures();
  void FlushClients();
  // A pass over every client is complete: decides when the next may start.
  void EndPass();
  void DrainWakeFd();

  // Const after construction.
  const std::string name_;
  Handler* const handler_;
  const std::chrono::seconds idle_timeout_;
  const UniqueFd epoll_fd_;
  const UniqueFd wake_fd_;

  // Written by the loop thread, read by tests.
  std::atomic<uint64_t> rounds_{0};

  // Guarded by mu_: the only state other threads touch.
  absl::Mutex mu_;
  std::vector<absl::AnyInvocable<void() &&>> pending_ ABSL_GUARDED_BY(mu_);

  // Owned by the loop thread.
  std::thread::id loop_thread_;
  bool stopping_ = false;
  absl::flat_hash_map<ClientId, std::unique_ptr<Client>> clients_;
  std::vector<Client*> flush_order_;  // the clients_, in the order flushes visit them
  size_t flush_cursor_ = 0;           // where the next round's flushing resumes
  bool flush_pending_ = false;        // the last round stopped at its budget
  Clock::time_point pass_started_;    // when the current pass over flush_order_ began
  Clock::time_point next_pass_;       // a new pass does not start before this (in the past: no gap)
  size_t pass_frames_ = 0;            // lines that arrived during the current pass
  size_t pass_sends_ = 0;             // sends and bytes sent in the current pass
  size_t pass_bytes_ = 0;
  std::vector<ClientId> departing_;
  std::vector<epoll_event> events_;  // epoll_event.data.u64 is a ClientId, or kWakeId
  Clock::time_point now_;
  Clock::time_point next_housekeeping_;
  std::unique_ptr<char[]> read_scratch_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_LOOP_POLL_LOOP_H_
