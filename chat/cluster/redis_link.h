// RedisLink: a node's connections to Redis, on a thread of their own (docs/CLUSTER.md).
//
// One thread runs an EventLoop that owns two hiredis 0.14 async connections to one Redis: a command
// connection (commands and scripts, answered in the order sent) and a subscriber connection
// (SUBSCRIBE / UNSUBSCRIBE, and the messages of the channels subscribed). hiredis writes and parses
// RESP; it is attached to our EventLoop through its adapter hooks (redisAsyncContext::ev), as its
// own adapters attach it to libevent or libuv. Other threads never touch a connection: they call
// the thread-safe methods below, which only post a task to the link's loop (a queue push and an
// eventfd write), so a room thread never blocks on Redis.
//
// The two connections are one unit: the link is up when both have connected and answered a PING
// and every channel asked for is subscribed (Redis confirmed it); when either is lost
// (or does not connect in time, or a command has waited longer than command_timeout) both are
// closed, every command in flight fails with Unavailable, and the link reconnects after a backoff
// that doubles from backoff_min to backoff_max. On reconnecting it subscribes again to every
// channel it was asked for, then reports kReconnected so its owner can re-register what it holds.
// While the link is down a command fails at once with Unavailable: nothing waits for Redis to
// return. The log says when the link is up, lost and back (with the address), never what is sent.
//
// Thread contract: Command(), Subscribe(), Unsubscribe(), Reconnect(), Fence(), RunInLinkThread(),
// up() and the TEST_ accessors are safe from any thread. Start() and Stop() are for the owner,
// once each; a command queued after Stop() returned is dropped with its Done uncalled. Every
// callback (a command's Done, the message sink, the state sink) runs on the link thread and must
// not block (nor call Stop()): hand the result to another thread's queue (EventLoop::Post,
// Registry::RunWhereClientIs).
#ifndef ROOMCHAT_CHAT_CLUSTER_REDIS_LINK_H_
#define ROOMCHAT_CHAT_CLUSTER_REDIS_LINK_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "chat/cluster/redis_reply.h"
#include "chat/loop/event_loop.h"

struct redisAsyncContext;

namespace roomchat {

struct RedisLinkOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // The wait before a reconnect doubles from min to max while Redis stays away.
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  // A connect that has not completed by then counts as failed (hiredis 0.14's async connect has
  // no timeout of its own).
  std::chrono::milliseconds connect_timeout{2000};
  // A command unanswered this long means the connection is dead (a peer gone without a reset):
  // the link is closed and reconnected.
  std::chrono::milliseconds command_timeout{5000};
  // When no command has been sent for this long, the link sends a PING of its own, so a Redis that
  // stopped answering is noticed (within command_timeout) even when the node is quiet.
  std::chrono::milliseconds ping_every{1000};
  // Commands sent and not yet answered at most; past it a command fails with Unavailable.
  size_t max_in_flight = 100000;
  // Lua scripts loaded (SCRIPT LOAD) on the command connection each time it connects, before any
  // command, each behind a "#!lua" line (Redis then refuses a script whole when it is out of
  // memory or a replica, rather than at its first write), so an EVALSHA of ScriptSha(script)
  // never meets NOSCRIPT (a Redis that restarted empty comes with a new connection). If a reply
  // says NOSCRIPT anyway (an operator ran SCRIPT FLUSH), the commands that meet it fail as
  // refused (refusals()) and the scripts are loaded again for the next ones.
  std::vector<std::string> scripts;
};

class RedisLink {
 public:
  enum class State {
    kConnected,    // up for the first time
    kLost,         // was up, now down: commands fail until kReconnected
    kReconnected,  // up again, every channel subscribed again
  };
  // A command's answer: the reply (a Redis error reply is a reply of Type::kError), or Unavailable
  // when the link is down, was lost before the reply, is overloaded or is stopping.
  using Done = absl::AnyInvocable<void(absl::StatusOr<RedisReply>) &&>;
  using MessageSink =
      absl::AnyInvocable<void(const std::string& channel, const std::string& payload)>;
  using StateSink = absl::AnyInvocable<void(State state)>;

  // The SHA1 (hex) that EVALSHA names `script` by.
  static std::string ScriptSha(absl::string_view script);

  // The link, not yet started; fails only when its loop cannot be made.
  static absl::StatusOr<std::unique_ptr<RedisLink>> Create(const RedisLinkOptions& options,
                                                           MessageSink on_message,
                                                           StateSink on_state);
  ~RedisLink();

  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // Starts the link thread, which connects at once (and keeps trying, with backoff).
  absl::Status Start();
  // Closes the connections (commands in flight fail with Unavailable) and ends the thread.
  void Stop();
  // Link thread only: its loop, for timers of what is built on the link.
  EventLoop& loop() { return *loop_; }

  // ---- Safe from any thread.
  // Sends `argv` (one command, binary-safe arguments) after every command queued before it; from
  // the link thread (a callback), at once, ahead of what other threads queued and the link has
  // not taken yet (`done` may then run before this returns, when the link is down). A command
  // Redis did not run because of its own state (out of memory, a read-only replica, a failed
  // save, loading, a busy script, lost scripts) fails with Unavailable, as when the link is down,
  // the link staying up; its other error replies are the reply.
  void Command(std::vector<std::string> argv, Done done);
  // Messages on `channel` go to the message sink from now on until Unsubscribe(), across
  // reconnects. Subscribing is asynchronous: `subscribed`, if given, is called on the link thread
  // once Redis has confirmed it (after a reconnect if the link is down now); messages published
  // after that reach the sink.
  using Subscribed = absl::AnyInvocable<void() &&>;
  void Subscribe(std::string channel, Subscribed subscribed = nullptr);
  void Unsubscribe(std::string channel);
  // Drops both connections as if Redis had gone (commands in flight fail with Unavailable; the
  // state sink hears kLost) and reconnects after the backoff: for an owner that learns Redis no
  // longer holds what it registered.
  void Reconnect(std::string why);
  // Drops both connections for good, as if Redis had gone and never came back (the state sink
  // hears kLost, commands fail with Unavailable from then on): for an owner that learns another
  // process now speaks for it in Redis, where anything it sent would undo the other's work.
  void Fence(std::string why);
  // Runs `task` on the link thread (for what is built on the link: its timers, its state).
  void RunInLinkThread(EventLoop::Task task) { loop_->Post(std::move(task)); }
  // Whether the link is up now (a hint: it may change right after; on the link thread, exact).
  bool up() const { return up_.load(std::memory_order_acquire); }
  // Link thread only: how many commands Redis refused (out of memory, lost scripts, ...) since
  // the link started.
  uint64_t refusals() const { return refusals_; }
  // Link thread only: the number of the last command sent on the command connection (0: none
  // yet), and a way to run `task` once that command, and so each before it, has been answered or
  // failed (at once if it has): for a message on the subscriber connection that must not overtake
  // the answers to commands Redis ran before publishing it.
  uint64_t last_command_sent() const { return commands_sent_; }
  void AfterAnswerTo(uint64_t command, EventLoop::Task task);
  // For tests: while held, the answers on the command connection wait unhandled, as if they
  // were slow to come (the subscriber connection goes on); released, they are handled in order.
  void TEST_HoldReplies(bool hold);
  // How many times the link has connected (1 after the first connect).
  uint64_t TEST_connects() const { return connects_.load(std::memory_order_acquire); }

 private:
  // One hiredis connection and its place in the loop: the adapter's "events" object.
  struct Conn : EventLoop::IoHandler {
    RedisLink* link = nullptr;
    const char* role = "";
    redisAsyncContext* ctx = nullptr;  // null while closed
    int fd = -1;
    uint64_t key = 0;        // the loop key while watched, else 0
    uint32_t events = 0;     // EPOLLIN / EPOLLOUT that hiredis wants
    bool connected = false;  // TCP connected (hiredis completed the connect)
    bool ready = false;      // and answered our PING: Redis itself is there
    // Once connected, what hiredis wants written waits for the end of the loop's round, so the
    // commands of one round go out in one write (no epoll change per command); EPOLLOUT is
    // watched only when the socket would not take it all.
    bool write_pending = false;
    bool flushing = false;
    void OnIo(uint64_t key, uint32_t events) override;
  };
  // A command sent and not answered.
  struct InFlight {
    Done done;
    Clock::time_point sent;
    uint64_t number;  // commands_sent_ once it was sent
    std::vector<EventLoop::Task> then;  // AfterAnswerTo(number): run after `done`
  };

  RedisLink(const RedisLinkOptions& options, std::unique_ptr<EventLoop> loop,
            MessageSink on_message, StateSink on_state);

  // Where the link is in its life; link thread only.
  enum class Phase { kConnecting, kUp, kDown, kStopped };

  // ---- Link thread only (redis_link.cc).
  void Connect();
  absl::Status OpenConn(Conn& conn);
  void OnConnected(Conn& conn, bool ok);
  // Both connected and every channel's subscription confirmed: the link is up.
  void MaybeUp();
  // Closes both connections (but `dying`, which hiredis is freeing itself), fails what is in
  // flight, reports a loss, and retries after the backoff unless stopping.
  void LinkDown(const std::string& why, Conn* dying);
  void SendCommand(std::vector<std::string> argv, Done done);
  void SendSubscription(const char* verb, const std::string& channel);
  void LoadScripts();
  void OnReply(const void* reply);
  // The answer to the oldest command in flight.
  void HandleReply(RedisReply reply);
  // What `command`'s Done gets for `reply`: the reply, or Unavailable for a command Redis did not
  // run because of its own state (a refusal, lost scripts), counted in refusals_.
  absl::StatusOr<RedisReply> Judge(uint64_t command, RedisReply reply);
  void OnSubscriberReply(const void* reply);
  void CheckTimeouts();
  // The loop's round hook: writes what the round queued on each connection.
  Clock::time_point FlushWrites();
  void DoStop();
  // The hiredis hooks and callbacks; ev.data and ac->data lead back to the Conn.
  static void AddRead(void* privdata);
  static void DelRead(void* privdata);
  static void AddWrite(void* privdata);
  static void DelWrite(void* privdata);
  static void Cleanup(void* privdata);
  static void UpdateWatch(Conn& conn, uint32_t events);
  static void ConnectCallback(const redisAsyncContext* ac, int status);
  static void DisconnectCallback(const redisAsyncContext* ac, int status);
  static void ReplyCallback(redisAsyncContext* ac, void* reply, void* privdata);
  static void SubscriberCallback(redisAsyncContext* ac, void* reply, void* privdata);
  static void PongCallback(redisAsyncContext* ac, void* reply, void* privdata);
  static void ScriptLoadCallback(redisAsyncContext* ac, void* reply, void* privdata);

  // Const after construction.
  const RedisLinkOptions options_;
  const std::string address_;  // host:port, for the log
  const std::unique_ptr<EventLoop> loop_;

  std::atomic<bool> up_{false};
  std::atomic<uint64_t> connects_{0};

  // Owned by the link thread.
  MessageSink on_message_;
  StateSink on_state_;
  Conn cmd_;
  Conn sub_;
  Phase phase_ = Phase::kDown;
  bool stopping_ = false;
  bool fenced_ = false;                // Fence() was called: no more connects
  bool was_up_ = false;                // has been up once: the next up is kReconnected
  uint64_t failures_ = 0;              // connect attempts failed in a row (the log reports some)
  uint64_t refusals_ = 0;  // commands Redis refused (IsRefusal, NOSCRIPT) since the link started
  uint64_t commands_sent_ = 0;               // on the command connection, since the link started
  uint64_t sent_before_scripts_loaded_ = 0;  // commands_sent_ when the scripts were last loaded
  size_t unconfirmed_subscribes_ = 0;  // SUBSCRIBEs sent while connecting, not yet confirmed
  uint64_t next_key_ = 1;
  std::chrono::milliseconds backoff_{0};
  EventLoop::TimerId connect_timer_ = 0;
  Clock::time_point last_sent_;                // the last command sent on the command connection
  std::deque<InFlight> in_flight_;             // on the command connection, oldest first
  bool test_holding_replies_ = false;          // TEST_HoldReplies
  std::deque<RedisReply> test_held_replies_;   // answers to the first of in_flight_, in order
  absl::flat_hash_set<std::string> channels_;  // asked for, subscribed again on reconnect
  // Who waits for a channel's confirmation.
  absl::flat_hash_map<std::string, std::vector<Subscribed>> waiting_subscribed_;

  std::thread thread_;
};

}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_REDIS_LINK_H_
