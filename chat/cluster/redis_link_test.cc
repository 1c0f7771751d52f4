// RedisLink against a real redis-server the test starts on a loopback port (TestRedis). Every wait
// has a deadline; every load loop is bounded in count.
#include "chat/cluster/redis_link.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/test_redis.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace {

using namespace testing_util;  // NOLINT: the test's own helpers

class RedisLinkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }
  TestRedis redis_;
};

TEST_F(RedisLinkTest, CommandsRoundTrip) {
  Reports reports;
  std::unique_ptr<RedisLink> link = StartLink(redis_.port(), reports);
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kConnected));

  absl::StatusOr<RedisReply> set = Ask(*link, {"SET", "k", std::string("v\0 \r\n", 5)});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, RedisReply::Type::kStatus);
  EXPECT_EQ(set->str, "OK");
  absl::StatusOr<RedisReply> get = Ask(*link, {"GET", "k"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->type, RedisReply::Type::kString);
  EXPECT_EQ(get->str, std::string("v\0 \r\n", 5));  // binary-safe
  absl::StatusOr<RedisReply> missing = Ask(*link, {"GET", "nothing"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->type, RedisReply::Type::kNil);
  absl::StatusOr<RedisReply> wrong = Ask(*link, {"INCR", "k"});
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->type, RedisReply::Type::kError);
  absl::StatusOr<RedisReply> list = Ask(*link, {"EVAL", "return {1, 'two'}", "0"});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->type, RedisReply::Type::kArray);
  ASSERT_EQ(list->elements.size(), 2u);
  EXPECT_EQ(list->elements[0].integer, 1);
  EXPECT_EQ(list->elements[1].str, "two");
}

TEST_F(RedisLinkTest, ManyQueuedCommandsAreAnsweredInOrder) {
  Reports reports;
  std::unique_ptr<RedisLink> link = StartLink(redis_.port(), reports);
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kConnected));

  constexpr int kCommands = 20000;
  absl::Mutex mu;
  std::vector<int64_t> answers;
  int failures = 0;
  for (int i = 0; i < kCommands; ++i) {
    link->Command({"INCR", "counter"}, [&](absl::StatusOr<RedisReply> reply) {
      absl::MutexLock lock(&mu);
      if (reply.ok()) {
        answers.push_back(reply->integer);
      } else {
        ++failures;
      }
    });
  }
  absl::MutexLock lock(&mu);
  auto all = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return answers.size() + failures == static_cast<size_t>(kCommands);
  };
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all), kDeadline));
  ASSERT_EQ(failures, 0);
  for (int i = 0; i < kCommands; ++i) ASSERT_EQ(answers[i], i + 1) << "at " << i;
}

TEST_F(RedisLinkTest, PubSubBetweenTwoLinksDeliversEveryMessageInOrder) {
  Reports pub_reports, sub_reports;
  std::unique_ptr<RedisLink> publisher = StartLink(redis_.port(), pub_reports);
  std::unique_ptr<RedisLink> subscriber = StartLink(redis_.port(), sub_reports);
  ASSERT_TRUE(SubscribeAndWait(*subscriber, "room:lounge"));
  ASSERT_TRUE(pub_reports.WaitForState(RedisLink::State::kConnected));
  // Confirmed: the very first publication reaches it.
  absl::StatusOr<RedisReply> probe = Ask(*publisher, {"PUBLISH", "room:lounge", "probe"});
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->integer, 1);

  constexpr int kMessages = 2000;
  for (int i = 0; i < kMessages; ++i) {
    publisher->Command({"PUBLISH", "room:lounge", absl::StrCat("line ", i)},
                       [](absl::StatusOr<RedisReply>) {});
  }
  std::vector<std::string> got =
      sub_reports.WaitForMessage("room:lounge", absl::StrCat("line ", kMessages - 1));
  std::vector<std::string> lines;
  for (const std::string& m : got) {
    if (m != "room:lounge probe") lines.push_back(m);
  }
  ASSERT_EQ(lines.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(lines[i], absl::StrCat("room:lounge line ", i));

  // Unsubscribed: nobody hears the channel any more.
  subscriber->Unsubscribe("room:lounge");
  absl::Time end = absl::Now() + kDeadline;
  int64_t receivers = 1;
  while (receivers != 0 && absl::Now() < end) {
    absl::StatusOr<RedisReply> reply = Ask(*publisher, {"PUBLISH", "room:lounge", "late"});
    ASSERT_TRUE(reply.ok());
    receivers = reply->integer;
  }
  EXPECT_EQ(receivers, 0);
}

TEST_F(RedisLinkTest, SubscribeRightAfterUnsubscribeStaysSubscribed) {
  Reports pub_reports, sub_reports;
  std::unique_ptr<RedisLink> publisher = StartLink(redis_.port(), pub_reports);
  std::unique_ptr<RedisLink> subscriber = StartLink(redis_.port(), sub_reports);
  ASSERT_TRUE(sub_reports.WaitForState(RedisLink::State::kConnected));
  subscriber->Subscribe("room:a");
  ASSERT_TRUE(pub_reports.WaitForState(RedisLink::State::kConnected));
  ASSERT_TRUE(PublishUntilHeard(*publisher, "room:a", "one"));
  // Each UNSUBSCRIBE's answer comes after the next SUBSCRIBE was sent: the channel must stay
  // subscribed, and its messages must still reach the sink (hiredis counts pending SUBSCRIBEs,
  // so the late answer does not drop the channel's callback).
  for (int i = 0; i < 50; ++i) {
    subscriber->Unsubscribe("room:a");
    subscriber->Subscribe("room:a");
  }
  // A barrier: once a message on a channel subscribed after all that is received, every answer
  // to the pairs above has been handled (one connection, answers in order).
  subscriber->Subscribe("barrier");
  bool through = false;
  absl::Time end = absl::Now() + kDeadline;
  for (int i = 0; !through && absl::Now() < end; ++i) {
    const std::string payload = absl::StrCat("b", i);
    ASSERT_TRUE(Ask(*publisher, {"PUBLISH", "barrier", payload}).ok());
    through = sub_reports.WaitForMessage("barrier", payload, absl::Milliseconds(50)).back() ==
              absl::StrCat("barrier ", payload);
  }
  ASSERT_TRUE(through);
  absl::StatusOr<RedisReply> heard = Ask(*publisher, {"PUBLISH", "room:a", "three"});
  ASSERT_TRUE(heard.ok());
  EXPECT_EQ(heard->integer, 1);
  std::vector<std::string> got = sub_reports.WaitForMessage("room:a", "three");
  EXPECT_EQ(got.back(), "room:a three");
}

TEST_F(RedisLinkTest, RedisGoneFailsFastThenReconnectsAndResubscribes) {
  Reports pub_reports, sub_reports;
  std::unique_ptr<RedisLink> publisher = StartLink(redis_.port(), pub_reports);
  std::unique_ptr<RedisLink> subscriber = StartLink(redis_.port(), sub_reports);
  subscriber->Subscribe("room:den");
  ASSERT_TRUE(pub_reports.WaitForState(RedisLink::State::kConnected));
  ASSERT_TRUE(PublishUntilHeard(*publisher, "room:den", "before"));

  // Commands in flight when Redis dies are each answered, one way or the other.
  constexpr int kInFlight = 5000;
  absl::Mutex mu;
  int answered = 0;
  for (int i = 0; i < kInFlight; ++i) {
    publisher->Command({"INCR", "n"}, [&](absl::StatusOr<RedisReply>) {
      absl::MutexLock lock(&mu);
      ++answered;
    });
  }
  redis_.Kill();
  ASSERT_TRUE(pub_reports.WaitForState(RedisLink::State::kLost));
  ASSERT_TRUE(sub_reports.WaitForState(RedisLink::State::kLost));
  {
    absl::MutexLock lock(&mu);
    auto all = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return answered == kInFlight; };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all), kDeadline));
  }

  // While it is gone a command fails at once, Unavailable.
  for (int i = 0; i < 20; ++i) {
    absl::Time start = absl::Now();
    absl::StatusOr<RedisReply> reply = Ask(*publisher, {"GET", "k"});
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
    EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  }
  EXPECT_FALSE(publisher->up());

  // Asked for while down: confirmed after the reconnect.
  absl::Notification late;
  subscriber->Subscribe("room:late", [&late]() { late.Notify(); });

  // Back on the same port: both links reconnect; the subscriber's channel is subscribed again
  // before it reports kReconnected, so the first publication after it is heard.
  ASSERT_TRUE(redis_.Restart().ok());
  ASSERT_TRUE(late.WaitForNotificationWithTimeout(kDeadline));
  ASSERT_TRUE(pub_reports.WaitForState(RedisLink::State::kReconnected));
  ASSERT_TRUE(sub_reports.WaitForState(RedisLink::State::kReconnected));
  absl::StatusOr<RedisReply> heard = Ask(*publisher, {"PUBLISH", "room:den", "after"});
  ASSERT_TRUE(heard.ok()) << heard.status();
  EXPECT_EQ(heard->integer, 1);
  std::vector<std::string> got = sub_reports.WaitForMessage("room:den", "after");
  EXPECT_EQ(got.back(), "room:den after");
  EXPECT_EQ(publisher->TEST_connects(), 2u);
  absl::StatusOr<RedisReply> late_heard = Ask(*publisher, {"PUBLISH", "room:late", "x"});
  ASSERT_TRUE(late_heard.ok());
  EXPECT_EQ(late_heard->integer, 1);

  absl::StatusOr<RedisReply> set = Ask(*publisher, {"SET", "k", "again"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->str, "OK");
}

TEST_F(RedisLinkTest, StartsWhileRedisIsDownAndConnectsWhenItComes) {
  redis_.Kill();
  Reports reports;
  std::unique_ptr<RedisLink> link = StartLink(redis_.port(), reports);
  absl::StatusOr<RedisReply> early = Ask(*link, {"PING"});
  EXPECT_EQ(early.status().code(), absl::StatusCode::kUnavailable) << early.status();
  ASSERT_TRUE(redis_.Restart().ok());
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kConnected));
  absl::StatusOr<RedisReply> pong = Ask(*link, {"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->str, "PONG");
}

TEST_F(RedisLinkTest, HungRedisIsNoticedByTheIdlePingAndTheLinkRecovers) {
  RedisLinkOptions options = DefaultOptions(redis_.port());
  options.command_timeout = std::chrono::milliseconds(500);
  options.connect_timeout = std::chrono::milliseconds(300);
  Reports reports;
  std::unique_ptr<RedisLink> link = StartLink(redis_.port(), reports, &options);
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kConnected));

  // Nothing sent by the node: the link's own PING goes unanswered and the link gives up on it.
  redis_.Freeze();
  absl::Time frozen = absl::Now();
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kLost));
  EXPECT_LT(absl::Now() - frozen, absl::Seconds(5));
  // Reconnecting to a hung Redis completes TCP (the kernel accepts) but never a PING: still down,
  // and commands fail at once rather than wait.
  absl::SleepFor(absl::Milliseconds(500));
  absl::Time start = absl::Now();
  absl::StatusOr<RedisReply> reply = Ask(*link, {"GET", "k"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_FALSE(link->up());

  redis_.Thaw();
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kReconnected));
  absl::StatusOr<RedisReply> pong = Ask(*link, {"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->str, "PONG");
}

TEST_F(RedisLinkTest, ScriptsAreLoadedOnEveryConnectAndAfterAFlush) {
  const std::string script = "return tonumber(ARGV[1]) + 1";
  const std::string sha = RedisLink::ScriptSha(script);
  RedisLinkOptions options = DefaultOptions(redis_.port());
  options.scripts = {script};
  Reports reports;
  std::unique_ptr<RedisLink> link = StartLink(redis_.port(), reports, &options);
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kConnected));
  absl::StatusOr<RedisReply> sum = Ask(*link, {"EVALSHA", sha, "0", "41"});
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->integer, 42) << sum->str;

  // Flushed by an operator: that command fails as unavailable (it did not run; a client is told
  // to try again, not shown Redis's error), the scripts are loaded again for the next.
  ASSERT_TRUE(Ask(*link, {"SCRIPT", "FLUSH"}).ok());
  absl::StatusOr<RedisReply> flushed = Ask(*link, {"EVALSHA", sha, "0", "1"});
  EXPECT_TRUE(absl::IsUnavailable(flushed.status())) << flushed.status();
  absl::StatusOr<RedisReply> again = Ask(*link, {"EVALSHA", sha, "0", "1"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->integer, 2) << again->str;

  // A burst sent before the flush's first NOSCRIPT came back: every one fails, and the scripts
  // are loaded once more, not once for each.
  ASSERT_TRUE(Ask(*link, {"SCRIPT", "FLUSH"}).ok());
  ASSERT_TRUE(Ask(*link, {"CONFIG", "RESETSTAT"}).ok());
  constexpr int kBurst = 50;
  absl::Mutex mu;
  int unavailable = 0, answered = 0;
  for (int i = 0; i < kBurst; ++i) {
    link->Command({"EVALSHA", sha, "0", "1"}, [&](absl::StatusOr<RedisReply> reply) {
      absl::MutexLock lock(&mu);
      ++answered;
      if (absl::IsUnavailable(reply.status())) ++unavailable;
    });
  }
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(
                                        +[](int* n) { return *n == kBurst; }, &answered),
                                    kDeadline));
    EXPECT_GE(unavailable, 1);
  }
  absl::StatusOr<RedisReply> stats = Ask(*link, {"INFO", "commandstats"});
  ASSERT_TRUE(stats.ok());
  EXPECT_TRUE(absl::StrContains(stats->str, "cmdstat_script|load:calls=1,")) << stats->str;

  // A Redis restarted empty: loaded again as the link reconnects, before any command.
  ASSERT_TRUE(redis_.Restart().ok());
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kReconnected));
  absl::StatusOr<RedisReply> restarted = Ask(*link, {"EVALSHA", sha, "0", "9"});
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_EQ(restarted->integer, 10) << restarted->str;
}

TEST_F(RedisLinkTest, ACommandRedisRefusesFailsAsUnavailableAndTheLinkStaysUp) {
  Reports reports;
  std::unique_ptr<RedisLink> link = StartLink(redis_.port(), reports);
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kConnected));
  ASSERT_TRUE(Ask(*link, {"CONFIG", "SET", "maxmemory-policy", "noeviction"}).ok());
  ASSERT_TRUE(Ask(*link, {"CONFIG", "SET", "maxmemory", "1"}).ok());
  absl::StatusOr<RedisReply> refused = Ask(*link, {"SET", "k", "v"});  // OOM
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  absl::StatusOr<RedisReply> wrong = Ask(*link, {"INCR", "k", "extra"});  // not a refusal
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ(wrong->type, RedisReply::Type::kError);
  EXPECT_TRUE(link->up());
  ASSERT_TRUE(Ask(*link, {"CONFIG", "SET", "maxmemory", "0"}).ok());
  absl::StatusOr<RedisReply> taken = Ask(*link, {"SET", "k", "v"});
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->str, "OK");
}

TEST_F(RedisLinkTest, AScriptRedisCannotRunWholeIsRefusedBeforeItChangesAnything) {
  const std::string script = "redis.call('DEL', KEYS[1]); redis.call('SET', KEYS[2], 'new')";
  RedisLinkOptions options = DefaultOptions(redis_.port());
  options.scripts = {script};
  Reports reports;
  std::unique_ptr<RedisLink> link = StartLink(redis_.port(), reports, &options);
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kConnected));
  ASSERT_TRUE(Ask(*link, {"SET", "old", "kept"}).ok());
  ASSERT_TRUE(Ask(*link, {"CONFIG", "SET", "maxmemory-policy", "noeviction"}).ok());
  ASSERT_TRUE(Ask(*link, {"CONFIG", "SET", "maxmemory", "1"}).ok());
  absl::StatusOr<RedisReply> refused =
      Ask(*link, {"EVALSHA", RedisLink::ScriptSha(script), "2", "old", "new"});
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  ASSERT_TRUE(Ask(*link, {"CONFIG", "SET", "maxmemory", "0"}).ok());
  absl::StatusOr<RedisReply> old = Ask(*link, {"GET", "old"});
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->str, "kept") << "the script's DEL ran without its SET";
}

TEST_F(RedisLinkTest, StopAnswersEveryCommand) {
  Reports reports;
  std::unique_ptr<RedisLink> link = StartLink(redis_.port(), reports);
  ASSERT_TRUE(reports.WaitForState(RedisLink::State::kConnected));
  absl::Mutex mu;
  int answered = 0;
  constexpr int kCommands = 2000;
  for (int i = 0; i < kCommands; ++i) {
    link->Command({"INCR", "n"}, [&](absl::StatusOr<RedisReply>) {
      absl::MutexLock lock(&mu);
      ++answered;
    });
  }
  link->Stop();  // tasks posted before the stop run; what is in flight fails
  absl::MutexLock lock(&mu);
  EXPECT_EQ(answered, kCommands);
}

}  // namespace
}  // namespace roomchat
