// Helpers for tests of RedisLink and what is built on it: a link's reports to wait on, a command's
// answer with a deadline, publishing until a subscriber has it. Every wait has a deadline.
#ifndef ROOMCHAT_CHAT_CLUSTER_LINK_TEST_UTIL_H_
#define ROOMCHAT_CHAT_CLUSTER_LINK_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace testing_util {

inline constexpr absl::Duration kDeadline = absl::Seconds(20);

// What a link reported: its messages and state changes, for the test thread to wait on.
class Reports {
 public:
  void Message(const std::string& channel, const std::string& payload) {
    absl::MutexLock lock(&mu_);
    messages_.push_back(absl::StrCat(channel, " ", payload));
  }
  void State(RedisLink::State state) {
    absl::MutexLock lock(&mu_);
    states_.push_back(state);
  }
  // Waits until `count` states of kind `state` were reported.
  bool WaitForState(RedisLink::State state, int count = 1) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      int n = 0;
      for (RedisLink::State s : states_) n += s == state;
      return n >= count;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), kDeadline);
  }
  // Waits until at least `count` messages were received; returns them.
  std::vector<std::string> WaitForCount(size_t count, absl::Duration deadline = kDeadline) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return messages_.size() >= count; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), deadline);
    return messages_;
  }
  // Waits until `payload` on `channel` was the last message received; returns the messages
  // received so far.
  std::vector<std::string> WaitForMessage(const std::string& channel, const std::string& payload,
                                          absl::Duration deadline = kDeadline) {
    const std::string wanted = absl::StrCat(channel, " ", payload);
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !messages_.empty() && messages_.back() == wanted;
    };
    mu_.AwaitWithTimeout(absl::Condition(&seen), deadline);
    return messages_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> messages_ ABSL_GUARDED_BY(mu_);
  std::vector<RedisLink::State> states_ ABSL_GUARDED_BY(mu_);
};

// The room entry in `heard` ("<channel> <payload>", as Reports keep it) on room_key's channel.
inline absl::StatusOr<cluster::RoomEntry> HeardEntry(const std::string& room_key,
                                                     const std::string& heard) {
  return cluster::ParseRoomEntry(heard.substr(cluster::RoomChannel(room_key).size() + 1));
}

inline RedisLinkOptions DefaultOptions(int port) {
  RedisLinkOptions options;
  options.port = port;
  options.backoff_min = std::chrono::milliseconds(20);
  options.backoff_max = std::chrono::milliseconds(200);
  options.connect_timeout = std::chrono::milliseconds(1000);
  options.command_timeout = std::chrono::milliseconds(3000);
  options.ping_every = std::chrono::milliseconds(200);
  return options;
}

inline std::unique_ptr<RedisLink> StartLink(int port, Reports& reports,
                                            const RedisLinkOptions* options = nullptr) {
  absl::StatusOr<std::unique_ptr<RedisLink>> link = RedisLink::Create(
      options != nullptr ? *options : DefaultOptions(port),
      [&reports](const std::string& channel, const std::string& payload) {
        reports.Message(channel, payload);
      },
      [&reports](RedisLink::State state) { reports.State(state); });
  EXPECT_TRUE(link.ok()) << link.status();
  EXPECT_TRUE((*link)->Start().ok());
  return *std::move(link);
}

// One command's answer, waited for with a deadline (DeadlineExceeded: no answer at all).
inline absl::StatusOr<RedisReply> Ask(RedisLink& link, std::vector<std::string> argv) {
  struct Result {
    absl::Notification done;
    absl::StatusOr<RedisReply> reply;
  };
  auto result = std::make_shared<Result>();
  link.Command(std::move(argv), [result](absl::StatusOr<RedisReply> reply) {
    result->reply = std::move(reply);
    result->done.Notify();
  });
  if (!result->done.WaitForNotificationWithTimeout(kDeadline)) {
    return absl::DeadlineExceededError("no answer");
  }
  return result->reply;
}

// Subscribes `link` to `channel` and waits until Redis confirmed it.
inline bool SubscribeAndWait(RedisLink& link, const std::string& channel) {
  auto done = std::make_shared<absl::Notification>();
  link.Subscribe(channel, [done]() { done->Notify(); });
  return done->WaitForNotificationWithTimeout(kDeadline);
}

// Publishes `payload` until a subscriber has it (PUBLISH answers how many received it).
inline bool PublishUntilHeard(RedisLink& link, const std::string& channel,
                              const std::string& payload) {
  absl::Time end = absl::Now() + kDeadline;
  while (absl::Now() < end) {
    absl::StatusOr<RedisReply> reply = Ask(link, {"PUBLISH", channel, payload});
    if (reply.ok() && reply->integer >= 1) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

// Has the Redis on `port` cut every subscriber connection (CLIENT KILL TYPE pubsub), as a reset
// would: each node's link drops and reconnects. True once Redis answered.
inline bool KillSubscriberConnections(int port) {
  Reports reports;
  std::unique_ptr<RedisLink> probe = StartLink(port, reports);
  if (!reports.WaitForState(RedisLink::State::kConnected)) return false;
  const bool killed = Ask(*probe, {"CLIENT", "KILL", "TYPE", "pubsub"}).ok();
  probe->Stop();
  return killed;
}

}  // namespace testing_util
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_LINK_TEST_UTIL_H_
