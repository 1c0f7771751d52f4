// The fixture of the room settings scripts' tests (settings_scripts_test.cc,
// room_admission_scripts_test.cc): a redis-server of the test's own, a RedisLink with every
// script, two nodes' clients, and readers of exactly what Redis holds.
//
// Thread contract: as a gtest fixture, for the test's thread.
#ifndef ROOMCHAT_CHAT_CLUSTER_SETTINGS_SCRIPTS_FIXTURE_H_
#define ROOMCHAT_CHAT_CLUSTER_SETTINGS_SCRIPTS_FIXTURE_H_

#include "chat/cluster/settings_scripts.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "chat/accounts/room_settings.h"
#include "chat/cluster/link_test_util.h"
#include "chat/cluster/node_scripts.h"
#include "chat/cluster/redis_link.h"
#include "chat/cluster/room_channel.h"
#include "chat/cluster/scripts.h"
#include "chat/cluster/scripts_fixture.h"
#include "chat/cluster/test_redis.h"
#include "chat/protocol/names.h"
#include "chat/protocol/protocol_error.h"
#include "gtest/gtest.h"

namespace roomchat {
namespace cluster {

using namespace testing_util;  // NOLINT: test-only header; the link test helpers
using Verb = RoomOp::Verb;
using Texts = std::vector<std::string>;

constexpr size_t kEntries = 1000;
constexpr bool kOpHere = true;   // the asker is an operator by connection on its node
constexpr bool kNotHere = false;

// A client as the scripts see it: its node, nick, account ('' a guest) and address.
struct Client {
  NodeIdentity self;
  std::string nick;
  std::string account;
  std::string address;
};

inline ::testing::AssertionResult IsError(const absl::Status& status, ErrorCode code,
                                   const std::string& message) {
  if (!HasErrorCode(status, code) || status.message() != message) {
    return ::testing::AssertionFailure()
           << "got " << status << "; want " << ErrorCodeName(code) << " \"" << message << "\"";
  }
  return ::testing::AssertionSuccess();
}
template <typename T>
::testing::AssertionResult IsError(const absl::StatusOr<T>& result, ErrorCode code,
                                   const std::string& message) {
  return IsError(result.status(), code, message);
}

class SettingsScriptsTest : public ScriptsFixture {
 protected:
  Texts List(std::vector<std::string> argv) {
    absl::StatusOr<RedisReply> reply = Run(std::move(argv));
    EXPECT_TRUE(reply.ok()) << reply.status();
    Texts out;
    if (reply.ok()) {
      for (const RedisReply& element : reply->elements) out.push_back(element.str);
    }
    return out;
  }
  Texts Sorted(Texts texts) {
    std::sort(texts.begin(), texts.end());
    return texts;
  }
  // A hash as sorted "field=value" texts.
  Texts Hash(const std::string& key) {
    Texts pairs = List({"HGETALL", key});
    Texts out;
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) out.push_back(pairs[i] + "=" + pairs[i + 1]);
    return Sorted(out);
  }

  // A room's settings hash, operator accounts (sorted) and bans (in order).
  Texts Settings(const std::string& room) { return Hash(RoomSettingsKey(room)); }
  Texts Ops(const std::string& room) { return Sorted(List({"SMEMBERS", RoomOpsKey(room)})); }
  Texts Bans(const std::string& room) { return List({"LRANGE", RoomBansKey(room), "0", "-1"}); }
  Texts Owned(const std::string& account) {
    return Sorted(List({"SMEMBERS", absl::StrCat("rc:owned:", account)}));
  }
  Texts Members(const std::string& room) { return Hash(RoomMembersKey(room)); }
  Texts OpenRooms() { return List({"ZRANGE", kRoomsKey, "0", "-1"}); }

  // The room's entries (both streams) as "<origin> <kind> <body>", oldest first; their seqs must
  // be 1, 2, 3, ...
  Texts Posted(const std::string& room) {
    Texts out;
    for (const RoomEntry& entry : Stored(room)) {
      EXPECT_EQ(entry.seq, out.size() + 1);
      out.push_back(absl::StrCat(entry.origin, " ", entry.kind, " ", entry.body));
    }
    return out;
  }
  std::string LastPosted(const std::string& room) {
    Texts posted = Posted(room);
    return posted.empty() ? "" : posted.back();
  }

  // Everything Redis holds, key by key (TTLs aside), as text: a refusal must leave it as it was.
  std::string Everything() {
    std::string out;
    for (const std::string& key : Sorted(List({"KEYS", "*"}))) {
      const std::string type = String({"TYPE", key});
      Texts value;
      if (type == "string") {
        value = {String({"GET", key})};
      } else if (type == "hash") {
        value = Hash(key);
      } else if (type == "set") {
        value = Sorted(List({"SMEMBERS", key}));
      } else if (type == "list") {
        value = List({"LRANGE", key, "0", "-1"});
      } else if (type == "zset") {
        value = List({"ZRANGE", key, "0", "-1", "WITHSCORES"});
      } else if (type == "stream") {
        absl::StatusOr<RedisReply> reply = Run({"XRANGE", key, "-", "+"});
        if (reply.ok()) {
          for (const RedisReply& item : reply->elements) {
            value.push_back(absl::StrCat(item.elements[0].str, " ",
                                         item.elements[1].elements[1].str));
          }
        }
      }
      absl::StrAppend(&out, key, " (", type, "): ", absl::StrJoin(value, " | "), "\n");
    }
    return out;
  }

  // rc_nick's first claim of the client's nick, with its account (registered in rc:acct) and
  // address.
  void Claim(const Client& client) {
    if (!client.account.empty()) {
      Do({"HSET", absl::StrCat("rc:acct:", client.account), "nick", client.nick});
    }
    NickChange change{"", client.nick, "", client.account, /*take=*/false, client.address};
    absl::Status status =
        ParseStatusReply(Run(NickCommand(client.self, change, kEntries)));
    ASSERT_TRUE(status.ok()) << status;
  }
  absl::Status Refresh(const NodeIdentity& self, const std::string& nick,
                       const std::string& account, const std::string& address) {
    NickChange change{nick, nick, "", account, /*take=*/false, address};
    change.refresh = true;
    return ParseStatusReply(Run(NickCommand(self, change, kEntries)));
  }
  absl::StatusOr<Entered> Create(const Client& client, const std::string& room,
                                 const std::string& key = "", const std::string& former = "",
                                 const std::string& old_room = "") {
    RoomMove move{NameKey(client.nick), client.nick, NameKey(room), room,   old_room,
                  client.account,       former,      client.address, key};
    return ParseEnteredReply(Run(CreateCommand(client.self, move, 0, kEntries)));
  }
  absl::StatusOr<Entered> Join(const Client& client, const std::string& room,
                               const std::string& key = "", const std::string& former = "",
                               const std::string& old_room = "", size_t max_members = 0) {
    RoomMove move{NameKey(client.nick), client.nick, room,          "", old_room,
                  client.account,       former,      client.address, key};
    return ParseEnteredReply(Run(JoinCommand(client.self, move, max_members, kEntries)));
  }
  absl::Status Leave(const Client& client, const std::string& room) {
    return ParseStatusReply(
        Run(LeaveCommand(client.self, room, NameKey(client.nick), false, kEntries)));
  }
  absl::StatusOr<RoomOpDone> Op(const Client& asker, bool op_here, Verb verb,
                                const std::string& target = "", const std::string& text = "",
                                const std::string& room = "den") {
    RoomOp op;
    op.verb = verb;
    op.room_key = room;
    op.nick = asker.nick;
    op.account = asker.account;
    op.op_here = op_here;
    op.target = target;
    op.text = text;
    return ParseRoomOpReply(Run(RoomOpCommand(asker.self, op, kEntries)));
  }
  // A reply with nothing but `target`, `lifted` and the limit flag.
  void ExpectDone(const absl::StatusOr<RoomOpDone>& done, const std::string& target,
                  uint64_t lifted = 0, bool limit_hit = false) {
    ASSERT_TRUE(done.ok()) << done.status();
    EXPECT_EQ(done->target, target);
    EXPECT_EQ(done->topic, "");
    EXPECT_EQ(done->topic_by, "");
    EXPECT_EQ(done->lifted, lifted);
    EXPECT_EQ(done->owner_limit_hit, limit_hit);
    EXPECT_TRUE(done->bans.empty());
  }
  // Gives `account` the ownership of `count` other rooms (rc:owned:<account>).
  void OwnRooms(const std::string& account, int count) {
    for (int i = 1; i <= count; ++i) {
      Do({"SADD", absl::StrCat("rc:owned:", account), absl::StrCat("elsewhere", i)});
    }
  }

  // Den: created by the guest Alice (an operator by connection; nobody owns it), with the
  // logged-in Bob and the guest Carol on node b, the logged-in Dave and the guest Guest42 on a.
  void OpenDen() {
    for (const Client* client : {&alice_, &bob_, &carol_, &dave_, &guest_}) Claim(*client);
    absl::StatusOr<Entered> den = Create(alice_, "Den");
    ASSERT_TRUE(den.ok()) << den.status();
    ASSERT_TRUE(den->creator_is_op);
    for (const Client* client : {&bob_, &carol_, &dave_, &guest_}) {
      ASSERT_TRUE(Join(*client, "den").ok());
    }
    ASSERT_EQ(Members("den"), (Texts{"alice=a Alice", "bob=b Bob", "carol=b Carol", "dave=a Dave",
                                     "guest42=a Guest42"}));
    ASSERT_EQ(Settings("den"), Texts{});
  }

  const Client alice_{a_, "Alice", "", "127.0.0.1"};
  const Client bob_{b_, "Bob", "bob", "127.0.0.2"};
  const Client carol_{b_, "Carol", "", "127.0.0.3"};
  const Client dave_{a_, "Dave", "dave", "127.0.0.4"};
  const Client guest_{a_, "Guest42", "", "127.0.0.5"};
};

}  // namespace cluster
}  // namespace roomchat

#endif  // ROOMCHAT_CHAT_CLUSTER_SETTINGS_SCRIPTS_FIXTURE_H_
