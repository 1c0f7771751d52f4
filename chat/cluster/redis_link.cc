#include "chat/cluster/redis_link.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cstring>
#include <system_error>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "chat/loop/log_sampling.h"
#include "glog/logging.h"

namespace roomchat {

namespace {

constexpr std::chrono::milliseconds kTimeoutCheckEvery{250};

// Put before each script loaded: a script that declares itself so (Redis 7) is refused whole,
// before it starts, by a Redis out of memory (or a read-only replica), instead of failing at its
// first write after what it deleted is gone: each script then changes all it changes or nothing.
constexpr absl::string_view kScriptHeader = "#!lua\n";

absl::Status Down(absl::string_view why) {
  return absl::UnavailableError(absl::StrCat("redis link ", why));
}

// Whether an array reply's element `i` is a string (hiredis gives pub/sub frames as arrays).
bool StringAt(const redisReply& reply, size_t i) {
  return reply.type == REDIS_REPLY_ARRAY && reply.elements > i &&
         reply.element[i]->type == REDIS_REPLY_STRING;
}

}  // namespace

std::string RedisLink::ScriptSha(absl::string_view script) {
  const std::string text = absl::StrCat(kScriptHeader, script);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<std::unique_ptr<RedisLink>> RedisLink::Create(const RedisLinkOptions& options,
                                                             MessageSink on_message,
                                                             StateSink on_state) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create("redis-link");
  if (!loop.ok()) return loop.status();
  return std::unique_ptr<RedisLink>(
      new RedisLink(options, *std::move(loop), std::move(on_message), std::move(on_state)));
}

RedisLink::RedisLink(const RedisLinkOptions& options, std::unique_ptr<EventLoop> loop,
                     MessageSink on_message, StateSink on_state)
    : options_(options),
      address_(absl::StrCat(options.host, ":", options.port)),
      loop_(std::move(loop)),
      on_message_(std::move(on_message)),
      on_state_(std::move(on_state)) {
  cmd_.link = this;
  cmd_.role = "command";
  sub_.link = this;
  sub_.role = "subscriber";
  loop_->SetRoundHook([this] { return FlushWrites(); });
}

Clock::time_point RedisLink::FlushWrites() {
  for (Conn* conn : {&cmd_, &sub_}) {
    if (!conn->write_pending || conn->ctx == nullptr) continue;
    conn->write_pending = false;
    conn->flushing = true;  // a write that does not finish watches EPOLLOUT (AddWrite)
    redisAsyncHandleWrite(conn->ctx);
    // hiredis may have closed and freed the context (Cleanup cleared ctx): nothing more to do.
    conn->flushing = false;
  }
  return Clock::time_point::max();
}

RedisLink::~RedisLink() { Stop(); }

absl::Status RedisLink::Start() {
  try {
    thread_ = std::thread([this] {
      loop_->RunEvery(kTimeoutCheckEvery, [this] { CheckTimeouts(); });
      Connect();
      loop_->Run();
    });
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start the redis link thread: ", e.what()));
  }
  return absl::OkStatus();
}

void RedisLink::Stop() {
  if (!thread_.joinable()) return;
  loop_->Post([this] { DoStop(); });
  thread_.join();
}

void RedisLink::DoStop() {
  stopping_ = true;
  // What was queued before the stop goes out (best effort: no reply is awaited), so a node that
  // shuts down tells Redis its clients left instead of waiting to be reaped.
  FlushWrites();
  LinkDown("stopping", nullptr);
  phase_ = Phase::kStopped;
  loop_->Quit();
}

void RedisLink::Command(std::vector<std::string> argv, Done done) {
  // On the link thread it goes out at once: what the state sink sends when the link comes up (a
  // node's re-registration) must reach Redis before the commands other threads queued meanwhile,
  // which were decided on what the node held before.
  loop_->RunInLoop([this, argv = std::move(argv), done = std::move(done)]() mutable {
    SendCommand(std::move(argv), std::move(done));
  });
}

void RedisLink::Subscribe(std::string channel, Subscribed subscribed) {
  loop_->Post([this, channel = std::move(channel), subscribed = std::move(subscribed)]() mutable {
    if (subscribed) waiting_subscribed_[channel].push_back(std::move(subscribed));
    if (!channels_.insert(channel).second) return;
    if (!sub_.connected) return;  // subscribed when it connects
    SendSubscription("SUBSCRIBE", channel);
    if (phase_ != Phase::kUp) ++unconfirmed_subscribes_;
  });
}

void RedisLink::Unsubscribe(std::string channel) {
  loop_->Post([this, channel = std::move(channel)] {
    if (channels_.erase(channel) == 0) return;
    if (sub_.connected) SendSubscription("UNSUBSCRIBE", channel);
  });
}

void RedisLink::Reconnect(std::string why) {
  // Posted: never inside a hiredis callback, where the contexts cannot be freed.
  loop_->Post([this, why = std::move(why)] { LinkDown(why, nullptr); });
}

void RedisLink::Fence(std::string why) {
  loop_->Post([this, why = std::move(why)] {
    fenced_ = true;
    LinkDown(why, nullptr);
    LOG(ERROR) << "redis link to " << address_ << " closed for good: " << why;
  });
}

// ---- Connecting and losing the connections.

void RedisLink::Connect() {
  if (phase_ != Phase::kDown || fenced_) return;
  phase_ = Phase::kConnecting;
  unconfirmed_subscribes_ = 0;
  for (Conn* conn : {&cmd_, &sub_}) {
    if (absl::Status opened = OpenConn(*conn); !opened.ok()) {
      return LinkDown(std::string(opened.message()), nullptr);
    }
  }
  connect_timer_ = loop_->RunAfter(options_.connect_timeout, [this] {
    connect_timer_ = 0;
    if (phase_ == Phase::kConnecting) {
      LinkDown(absl::StrCat("connect timed out after ", options_.connect_timeout.count(), " ms"),
               nullptr);
    }
  });
}

absl::Status RedisLink::OpenConn(Conn& conn) {
  redisAsyncContext* ac = redisAsyncConnect(options_.host.c_str(), options_.port);
  if (ac == nullptr) return absl::ResourceExhaustedError("out of memory");
  if (ac->err != 0) {
    absl::Status status = Down(ac->errstr);
    redisAsyncFree(ac);
    return status;
  }
  conn.ctx = ac;
  conn.fd = ac->c.fd;
  conn.connected = false;
  conn.ready = false;
  conn.events = 0;
  ac->data = &conn;
  ac->ev.data = &conn;
  ac->ev.addRead = AddRead;
  ac->ev.delRead = DelRead;
  ac->ev.addWrite = AddWrite;
  ac->ev.delWrite = DelWrite;
  ac->ev.cleanup = Cleanup;
  // Setting the connect callback asks for the first write event, which completes the connect:
  // the hooks must be in place before it.
  redisAsyncSetConnectCallback(ac, ConnectCallback);
  redisAsyncSetDisconnectCallback(ac, DisconnectCallback);
  return absl::OkStatus();
}

void RedisLink::OnConnected(Conn& conn, bool ok) {
  if (phase_ != Phase::kConnecting) return;
  if (!ok) {
    std::string why =
        absl::StrCat(conn.role, " connection: ", conn.ctx != nullptr ? conn.ctx->errstr : "failed");
    return LinkDown(why, &conn);  // hiredis frees the context when this returns
  }
  conn.connected = true;
  // Ready once Redis answers, not when the kernel accepted the connection: a Redis that is stuck
  // (or a proxy before a dead one) accepts and never answers; the connect timer catches that.
  redisAsyncCommand(conn.ctx, PongCallback, nullptr, "PING");
  if (&conn == &cmd_) LoadScripts();  // before any command: they are pipelined in order
  if (&conn == &sub_) {
    for (const std::string& channel : channels_) {
      SendSubscription("SUBSCRIBE", channel);
      ++unconfirmed_subscribes_;
    }
  }
  MaybeUp();
}

void RedisLink::MaybeUp() {
  if (phase_ != Phase::kConnecting || !cmd_.ready || !sub_.ready || unconfirmed_subscribes_ > 0) {
    return;
  }
  phase_ = Phase::kUp;
  loop_->Cancel(connect_timer_);
  connect_timer_ = 0;
  failures_ = 0;
  backoff_ = std::chrono::milliseconds(0);
  up_.store(true, std::memory_order_release);
  connects_.fetch_add(1, std::memory_order_acq_rel);
  const bool again = was_up_;
  was_up_ = true;
  LOG(INFO) << "redis link to " << address_ << (again ? " restored" : " up") << " ("
            << channels_.size() << " channels subscribed)";
  if (on_state_) on_state_(again ? State::kReconnected : State::kConnected);
}

void RedisLink::LinkDown(const std::string& why, Conn* dying) {
  if (phase_ != Phase::kConnecting && phase_ != Phase::kUp) return;  // already down
  const bool was_up = phase_ == Phase::kUp;
  phase_ = Phase::kDown;  // first: freeing a context below calls back into here
  up_.store(false, std::memory_order_release);
  loop_->Cancel(connect_timer_);
  connect_timer_ = 0;
  for (Conn* conn : {&cmd_, &sub_}) {
    conn->connected = false;
    conn->ready = false;
    if (conn != dying && conn->ctx != nullptr) redisAsyncFree(conn->ctx);  // calls Cleanup
  }
  std::deque<InFlight> failed;
  failed.swap(in_flight_);
  test_held_replies_.clear();
  for (InFlight& command : failed) {
    std::move(command.done)(Down(absl::StrCat("lost: ", why)));
    for (EventLoop::Task& task : command.then) std::move(task)();
  }
  if (stopping_) return;
  if (was_up) {
    LOG(WARNING) << "redis link to " << address_ << " lost: " << why
                 << (fenced_ ? "" : "; reconnecting");
    if (on_state_) on_state_(State::kLost);
  }
  if (fenced_) return;
  backoff_ = std::min(options_.backoff_max, std::max(options_.backoff_min, backoff_ * 2));
  ++failures_;
  if (!was_up && LogsOccurrence(failures_)) {
    LOG(WARNING) << "cannot connect to redis at " << address_ << ": " << why << " (attempt "
                 << failures_ << "); retrying in " << backoff_.count() << " ms";
  }
  loop_->RunAfter(backoff_, [this] { Connect(); });
}

void RedisLink::CheckTimeouts() {
  if (phase_ != Phase::kUp) return;
  const Clock::time_point now = loop_->now();
  if (!in_flight_.empty() && now - in_flight_.front().sent > options_.command_timeout) {
    return LinkDown(absl::StrCat("no answer in ", options_.command_timeout.count(), " ms"),
                    nullptr);
  }
  if (in_flight_.empty() && now - last_sent_ >= options_.ping_every) {
    SendCommand({"PING"}, [](absl::StatusOr<RedisReply>) {});
  }
}

// ---- Commands and subscriptions.

void RedisLink::SendCommand(std::vector<std::string> argv, Done done) {
  if (phase_ != Phase::kUp) {
    return std::move(done)(Down(phase_ == Phase::kStopped ? "stopped" : "unavailable"));
  }
  if (in_flight_.size() >= options_.max_in_flight) {
    return std::move(done)(Down("overloaded: too many commands unanswered"));
  }
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  args.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const std::string& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  if (argv.empty() ||
      redisAsyncCommandArgv(cmd_.ctx, ReplyCallback, nullptr, static_cast<int>(argv.size()),
                            args.data(), lengths.data()) != REDIS_OK) {
    return std::move(done)(absl::InvalidArgumentError("redis command not sent"));
  }
  last_sent_ = loop_->now();
  in_flight_.push_back({std::move(done), last_sent_, ++commands_sent_, {}});
}

void RedisLink::SendSubscription(const char* verb, const std::string& channel) {
  const char* args[] = {verb, channel.data()};
  const size_t lengths[] = {strlen(verb), channel.size()};
  redisAsyncCommandArgv(sub_.ctx, SubscriberCallback, nullptr, 2, args, lengths);
}

void RedisLink::LoadScripts() {
  sent_before_scripts_loaded_ = commands_sent_;
  for (const std::string& script : options_.scripts) {
    const std::string text = absl::StrCat(kScriptHeader, script);
    const char* args[] = {"SCRIPT", "LOAD", text.data()};
    const size_t lengths[] = {6, 4, text.size()};
    redisAsyncCommandArgv(cmd_.ctx, ScriptLoadCallback, nullptr, 3, args, lengths);
  }
}

void RedisLink::TEST_HoldReplies(bool hold) {
  loop_->Post([this, hold] {
    test_holding_replies_ = hold;
    if (hold) return;
    std::deque<RedisReply> held;
    held.swap(test_held_replies_);
    for (RedisReply& reply : held) HandleReply(std::move(reply));
  });
}

void RedisLink::OnReply(const void* raw) {
  // A null reply is hiredis freeing the context: LinkDown fails what is in flight.
  if (raw == nullptr || in_flight_.size() <= test_held_replies_.size()) return;
  RedisReply reply = CopyRedisReply(*static_cast<const redisReply*>(raw));
  if (test_holding_replies_) return test_held_replies_.push_back(std::move(reply));
  HandleReply(std::move(reply));
}

void RedisLink::HandleReply(RedisReply reply) {
  if (in_flight_.empty()) return;  // failed with the link while a test held it
  InFlight command = std::move(in_flight_.front());
  in_flight_.pop_front();
  std::move(command.done)(Judge(command.number, std::move(reply)));
  for (EventLoop::Task& task : command.then) std::move(task)();
}

absl::StatusOr<RedisReply> RedisLink::Judge(uint64_t command, RedisReply reply) {
  if (reply.type != RedisReply::Type::kError) return reply;
  const absl::string_view code = RedisErrorCode(reply.str);
  const bool lost_scripts = code == "NOSCRIPT";
  if (!lost_scripts && !IsRefusal(reply.str)) return reply;
  // The command did not run, as if the link had dropped. Counted: a refused leave or claim
  // leaves Redis out of step with the node until its owner registers again (ClusterNode).
  ++refusals_;
  if (LogsOccurrence(refusals_)) {
    LOG(WARNING) << "redis at " << address_ << " refuses commands (" << refusals_
                 << " so far): " << reply.str.substr(0, reply.str.find('.'));
  }
  if (lost_scripts && command > sent_before_scripts_loaded_) {
    // An operator's SCRIPT FLUSH; the commands sent before this load meet it too.
    LOG(WARNING) << "redis at " << address_ << " lost its scripts; loading them again";
    LoadScripts();
  }
  return absl::UnavailableError(
      absl::StrCat("Redis refuses commands now (", code, "); try later"));
}

void RedisLink::AfterAnswerTo(uint64_t command, EventLoop::Task task) {
  if (in_flight_.empty() || command < in_flight_.front().number) return std::move(task)();
  const uint64_t index = command - in_flight_.front().number;  // numbers follow one another
  in_flight_[std::min<uint64_t>(index, in_flight_.size() - 1)].then.push_back(std::move(task));
}

void RedisLink::OnSubscriberReply(const void* raw) {
  if (raw == nullptr) return;
  const redisReply& reply = *static_cast<const redisReply*>(raw);
  if (!StringAt(reply, 0) || !StringAt(reply, 1)) return;
  absl::string_view kind(reply.element[0]->str, reply.element[0]->len);
  if (kind == "message" && StringAt(reply, 2)) {
    if (on_message_) {
      on_message_(std::string(reply.element[1]->str, reply.element[1]->len),
                  std::string(reply.element[2]->str, reply.element[2]->len));
    }
  } else if (kind == "subscribe") {
    auto waiting =
        waiting_subscribed_.find(absl::string_view(reply.element[1]->str, reply.element[1]->len));
    if (waiting != waiting_subscribed_.end()) {
      std::vector<Subscribed> callbacks = std::move(waiting->second);
      waiting_subscribed_.erase(waiting);
      for (Subscribed& callback : callbacks) std::move(callback)();
    }
    if (unconfirmed_subscribes_ > 0) {
      --unconfirmed_subscribes_;
      MaybeUp();
    }
  }
}

}  // namespace roomchat
