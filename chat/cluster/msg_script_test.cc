// rc_msg against a real redis-server: where a /msg goes, what it publishes, what the target
// node's inbox keeps of it (node_inbox.h), and the inbox's own parsing.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/node_inbox.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/scripts.h"
#include "chat/cluster/scripts_fixture.h"
#include "chat/cluster/test_redis.h"
#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace cluster {
namespace {

using namespace testing_util;  // NOLINT: the test's own helpers

constexpr size_t kEntries = 1000;
constexpr InboxLimits kInbox{std::chrono::seconds(30), 1000};

class MsgScriptTest : public ScriptsFixture {
 protected:
  void SetUp() override {
    ScriptsFixture::SetUp();
    listener_ = StartLink(redis_.port(), heard_);
  }

  void Claim(const NodeIdentity& self, const std::string& nick, uint64_t client) {
    NickChange change{"", nick, ""};
    change.client = client;
    ASSERT_TRUE(ParseStatusReply(Run(NickCommand(self, change, kEntries))).ok());
  }
  absl::StatusOr<MsgRoute> Msg(const NodeIdentity& from, const std::string& to,
                               const std::string& line, bool even_here = false) {
    return ParseMsgReply(Run(MsgCommand(from, to, line, even_here, kInbox)));
  }
  // The messages published on node `node`'s channel, once there are `count`.
  std::vector<NodeMessage> Published(const std::string& node, size_t count) {
    const std::string prefix = absl::StrCat(NodeChannel(node), " msg ");
    std::vector<NodeMessage> messages;
    for (const std::string& heard : heard_.WaitForCount(count)) {
      if (heard.rfind(prefix, 0) != 0) continue;
      absl::StatusOr<NodeMessage> message = ParsePublishedMessage(heard.substr(prefix.size()));
      EXPECT_TRUE(message.ok()) << heard;
      if (message.ok()) messages.push_back(*message);
    }
    return messages;
  }
  InboxPage Inbox(const std::string& node, const std::optional<InboxId>& after = std::nullopt) {
    absl::StatusOr<InboxPage> page = ParseInboxReply(Run(InboxAfterCommand(node, after, 100)));
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? *page : InboxPage{};
  }

  Reports heard_;
  std::unique_ptr<RedisLink> listener_;
};

TEST_F(MsgScriptTest, MsgIsLocalSentToItsNodeOrRefused) {
  Claim(a_, "Alice", 1);
  Claim(b_, "Bob", 42);  // its id on node b, where the message goes whatever Bob is called then
  ASSERT_TRUE(SubscribeAndWait(*listener_, NodeChannel("b")));
  EXPECT_EQ(NodeChannel("b"), "rc:ch:node:b");
  absl::StatusOr<MsgRoute> local = Msg(a_, "alice", "PRIV x y");
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(*local, MsgRoute::kLocal);
  const std::string line = "PRIVMSG Alice hello there, Bob";
  absl::StatusOr<MsgRoute> sent = Msg(a_, "bob", line);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(*sent, MsgRoute::kSent);
  std::vector<NodeMessage> heard = Published("b", 1);
  ASSERT_EQ(heard.size(), 1u);  // not the local one
  EXPECT_EQ(heard[0].incarnation, "inc-b");
  EXPECT_EQ(heard[0].client, 42u);
  EXPECT_EQ(heard[0].line, line);
  absl::StatusOr<MsgRoute> nobody = Msg(a_, "carol", line);
  EXPECT_TRUE(HasErrorCode(nobody.status(), ErrorCode::kNoSuchNick)) << nobody.status();
  // Even here: published on the holder's own node's channel, as to another node.
  Claim(b_, "Bob", 7);
  absl::StatusOr<MsgRoute> through = Msg(b_, "bob", line, /*even_here=*/true);
  ASSERT_TRUE(through.ok()) << through.status();
  EXPECT_EQ(*through, MsgRoute::kSent);
  heard = Published("b", 2);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[1].client, 7u);
  // Nobody listens on node a's channel (its link is reconnecting, say): the message would be
  // lost, so the sender is told.
  absl::StatusOr<MsgRoute> unheard = Msg(b_, "alice", line);
  EXPECT_TRUE(HasErrorCode(unheard.status(), ErrorCode::kUnavailable)) << unheard.status();
}

// What node b was sent is in its inbox under the ids it was published with, in order: a node
// whose subscriber dropped reads what came after the last it heard. A message nobody heard is
// not kept (its sender was told unavailable, and may send it again).
TEST_F(MsgScriptTest, TheTargetNodesInboxKeepsWhatItWasSent) {
  Claim(a_, "Alice", 1);
  Claim(b_, "Bob", 42);
  ASSERT_TRUE(SubscribeAndWait(*listener_, NodeChannel("b")));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Msg(a_, "bob", absl::StrCat("PRIV Alice ", i)).ok());
  const std::vector<NodeMessage> heard = Published("b", 3);
  ASSERT_EQ(heard.size(), 3u);
  InboxPage all = Inbox("b");
  ASSERT_EQ(all.messages.size(), 3u);
  EXPECT_EQ(all.entries, 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(all.messages[i].id, heard[i].id);
    EXPECT_EQ(all.messages[i].prev, i == 0 ? InboxId{} : heard[i - 1].id);
    EXPECT_EQ(all.messages[i].line, absl::StrCat("PRIV Alice ", i));
    EXPECT_EQ(all.messages[i].client, 42u);
    EXPECT_EQ(all.messages[i].incarnation, "inc-b");
  }
  ASSERT_TRUE(all.last.has_value());
  EXPECT_EQ(*all.last, heard[2].id);
  InboxPage after_first = Inbox("b", heard[0].id);
  ASSERT_EQ(after_first.messages.size(), 2u);
  EXPECT_EQ(after_first.messages[0].line, "PRIV Alice 1");
  EXPECT_TRUE(Inbox("b", heard[2].id).messages.empty());
  // The inbox expires with its window; a message to node a, which nobody hears, is not kept.
  absl::StatusOr<RedisReply> ttl = Run({"PTTL", InboxKey("b")});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, kInbox.window.count());
  EXPECT_FALSE(Msg(b_, "alice", "PRIV Bob lost").ok());
  EXPECT_TRUE(Inbox("a").messages.empty());
}

// An inbox keeps at most its limit's entries (about: MAXLEN ~ trims whole nodes of the stream),
// the newest; each still names the one before it, so a node that missed the trimmed ones knows.
TEST_F(MsgScriptTest, AnInboxKeepsAtMostItsLimit) {
  Claim(a_, "Alice", 1);
  Claim(b_, "Bob", 42);
  ASSERT_TRUE(SubscribeAndWait(*listener_, NodeChannel("b")));
  const InboxLimits small{std::chrono::seconds(30), 10};
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(ParseMsgReply(Run(MsgCommand(a_, "bob", absl::StrCat("PRIV Alice ", i), false,
                                             small))).ok());
  }
  absl::StatusOr<RedisReply> length = Run({"XLEN", InboxKey("b")});
  ASSERT_TRUE(length.ok());
  EXPECT_GE(length->integer, 10);
  EXPECT_LT(length->integer, 500);
  InboxPage kept = Inbox("b");
  ASSERT_FALSE(kept.messages.empty());
  EXPECT_EQ(kept.messages.back().line, "PRIV Alice 499");
  EXPECT_TRUE(InboxId{} < kept.messages.front().prev);  // it names a trimmed one
}

// A dead node's inbox goes with it when it is reaped, and a new process under its id starts
// with an empty one.
TEST_F(MsgScriptTest, ReapingANodeDeletesItsInbox) {
  Claim(a_, "Alice", 1);
  Claim(b_, "Bob", 42);
  ASSERT_TRUE(SubscribeAndWait(*listener_, NodeChannel("b")));
  ASSERT_TRUE(Msg(a_, "bob", "PRIV Alice hi").ok());
  ASSERT_EQ(Inbox("b").messages.size(), 1u);
  const NodeTimes times = TimesForTtl(std::chrono::seconds(15));
  ASSERT_TRUE(Run(TakeOverCommand("b", "inc-b2", kEntries, times)).ok());
  EXPECT_TRUE(Inbox("b").messages.empty());
  ASSERT_TRUE(Run({"SET", NodeKey("b"), "inc-b"}).ok());  // inc-b again, for the reap below
  Claim(b_, "Bob", 42);
  ASSERT_TRUE(Msg(a_, "bob", "PRIV Alice again").ok());
  ASSERT_EQ(Inbox("b").messages.size(), 1u);
  ASSERT_TRUE(Run({"DEL", NodeKey("b")}).ok());
  ASSERT_TRUE(Run(ReapCommand("a", "b", kEntries)).ok());
  absl::StatusOr<RedisReply> exists = Run({"EXISTS", InboxKey("b")});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->integer, 0);
}

TEST(NodeInboxTest, IdsAndMessagesParse) {
  std::optional<InboxId> id = ParseInboxId("1700000000123-4");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ms, 1700000000123u);
  EXPECT_EQ(id->seq, 4u);
  EXPECT_EQ(FormatInboxId(*id), "1700000000123-4");
  EXPECT_TRUE((*id < InboxId{1700000000123, 5}));
  EXPECT_TRUE((InboxId{1700000000122, 9}) < *id);
  for (const char* bad : {"", "12", "12-", "-3", "a-1", "1-2-3", "1 -2"}) {
    EXPECT_FALSE(ParseInboxId(bad).has_value()) << bad;
  }
  absl::StatusOr<NodeMessage> message =
      ParsePublishedMessage("5-0 4-2 inc 42 PRIV Alice hi there");
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_EQ(message->id, (InboxId{5, 0}));
  EXPECT_EQ(message->prev, (InboxId{4, 2}));
  EXPECT_EQ(message->incarnation, "inc");
  EXPECT_EQ(message->client, 42u);
  EXPECT_EQ(message->line, "PRIV Alice hi there");
  for (const char* bad : {"", "5-0", "5-0 0-0 inc", "5-0 0-0 inc x PRIV", "x 0-0 inc 42 PRIV",
                          "5-0 0-0  42 P", "5-0 inc 42 PRIV"}) {
    EXPECT_FALSE(ParsePublishedMessage(bad).ok()) << bad;
  }
  EXPECT_EQ(InboxAfterCommand("n", std::nullopt, 10),
            (std::vector<std::string>{"XRANGE", "rc:inbox:n", "-", "+", "COUNT", "10"}));
  EXPECT_EQ(InboxAfterCommand("n", InboxId{7, 1}, 10),
            (std::vector<std::string>{"XRANGE", "rc:inbox:n", "(7-1", "+", "COUNT", "10"}));
}

// An entry that does not parse is skipped, but still counts where the next read starts.
TEST(NodeInboxTest, AMalformedEntryIsSkippedButCounted) {
  auto entry = [](const std::string& id, const std::string& value) {
    RedisReply fields{RedisReply::Type::kArray};
    fields.elements = {{RedisReply::Type::kString, "p"},
                       {RedisReply::Type::kString, "0-0"},
                       {RedisReply::Type::kString, "m"},
                       {RedisReply::Type::kString, value}};
    RedisReply item{RedisReply::Type::kArray};
    item.elements = {{RedisReply::Type::kString, id}, fields};
    return item;
  };
  RedisReply reply{RedisReply::Type::kArray};
  reply.elements = {entry("1-0", "inc 1 PRIV a b"), entry("2-0", "garbage"), entry("x", "inc 2 P")};
  absl::StatusOr<InboxPage> page = ParseInboxReply(reply);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->entries, 3u);
  ASSERT_EQ(page->messages.size(), 1u);
  EXPECT_EQ(page->messages[0].line, "PRIV a b");
  ASSERT_TRUE(page->last.has_value());
  EXPECT_EQ(*page->last, (InboxId{2, 0}));
  EXPECT_FALSE(ParseInboxReply(RedisReply{RedisReply::Type::kError, "WRONGTYPE"}).ok());
}

}  // namespace
}  // namespace cluster
}  // namespace roomchat
