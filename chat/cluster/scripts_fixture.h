// The fixture the script tests share (scripts_test, msg_script_test, the settings scripts'
// tests): a redis-server of the test's own, a link that loads every script (AllScripts()), and
// two nodes, a and b, alive in Redis (a nick is held while its node is).
#ifndef ROOMCHAT_CHAT_CLUSTER_SCRIPTS_FIXTURE_H_
#define ROOMCHAT_CHAT_CLUSTER_SCRIPTS_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/scripts.h"
#include "chat/cluster/test_redis.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace cluster {

class ScriptsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    RedisLinkOptions options = testing_util::DefaultOptions(redis_.port());
    options.scripts = AllScripts();
    link_ = testing_util::StartLink(redis_.port(), reports_, &options);
    ASSERT_TRUE(reports_.WaitForState(RedisLink::State::kConnected));
    for (const NodeIdentity* node : {&a_, &b_}) {
      ASSERT_TRUE(Run({"SET", NodeKey(node->node), node->incarnation}).ok());
    }
  }

  absl::StatusOr<RedisReply> Run(std::vector<std::string> argv) {
    return testing_util::Ask(*link_, std::move(argv));
  }
  // Runs `argv`, which must succeed.
  void Do(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Run(argv);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_NE(reply->type, RedisReply::Type::kError) << argv[0] << ": " << reply->str;
  }
  int64_t Integer(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Run(std::move(argv));
    EXPECT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->type, RedisReply::Type::kInteger) << reply->str;
    return reply.ok() ? reply->integer : -100;
  }
  std::string String(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Run(std::move(argv));
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->str : "";
  }

  // The room's entries in Redis, its lines' and its events' streams merged, oldest first.
  std::vector<RoomEntry> Stored(const std::string& room) {
    std::vector<RoomEntry> streams[2];
    for (int i = 0; i < 2; ++i) {
      const std::string key = i == 0 ? HistoryKey(room) : EventsKey(room);
      absl::StatusOr<std::vector<RoomEntry>> read =
          ParseEntriesReply(Run(EntriesBetweenCommand(key, 0, 0, 1000000)));
      EXPECT_TRUE(read.ok()) << read.status();
      if (read.ok()) streams[i] = *std::move(read);
    }
    return NewestOf(std::move(streams[0]), std::move(streams[1]), 1000000);
  }

  const NodeIdentity a_{"a", "inc-a"};
  const NodeIdentity b_{"b", "inc-b"};
  TestRedis redis_;
  testing_util::Reports reports_;
  std::unique_ptr<RedisLink> link_;
};

}  // namespace cluster
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_SCRIPTS_FIXTURE_H_
