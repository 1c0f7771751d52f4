// ModerationTest: the fixture of the room moderation suites (docs/PROTOCOL.md, "Rooms and their
// operators" and "Accounts and moderation"), and the helpers they share. Each test runs twice with
// the same assertions: on one server (OneNode), and on a cluster of two nodes sharing a
// redis-server of the test's own (TwoNodes, docs/CLUSTER.md), where a cluster must behave as one
// node does, byte for byte, whatever node each client is on.
//
// In a cluster the clients a test opens with Login() are spread over the nodes in turn (the 1st on
// node 0, the 2nd on node 1, the 3rd on node 0, ...), so every operator and target pair crosses
// nodes somewhere. Lines that another node causes come through Redis, after the reply to the
// command that caused them: where lines are expected the tests wait for them (Next(), Arrived()),
// never for a fixed time. A Pending() that expects nothing is kept where it is when a later read
// of that client would meet the line first, had it been sent.
//
// Thread contract: as a gtest fixture, for the test's thread.
#ifndef ROOMCHAT_TESTS_MODERATION_FIXTURE_H_
#define ROOMCHAT_TESTS_MODERATION_FIXTURE_H_

#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/cluster/test_redis.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/data_dir.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {

// How many servers a test runs on: one alone, or two nodes of a cluster.
enum class Nodes { kOne = 1, kTwo = 2 };

inline std::string NodesName(Nodes nodes) { return nodes == Nodes::kOne ? "OneNode" : "TwoNodes"; }
inline void PrintTo(Nodes nodes, std::ostream* out) { *out << NodesName(nodes); }
// For INSTANTIATE_TEST_SUITE_P: the tests' names end in /OneNode and /TwoNodes.
inline std::string NodesTestName(const ::testing::TestParamInfo<Nodes>& info) {
  return NodesName(info.param);
}

class ModerationTest : public ::testing::TestWithParam<Nodes> {
 protected:
  void SetUp() override {
    if (!clustered()) return;
    absl::Status started = redis_.Start();
    ASSERT_TRUE(started.ok()) << started;
  }
  void TearDown() override { StopServers(); }

  bool clustered() const { return GetParam() == Nodes::kTwo; }

  // Starts the server, or each node of the cluster, with `options` on ports it picks (127.0.0.1).
  // Alone: a fresh data directory unless `options` names one, as ServerFixture does. A node keeps
  // its history and accounts in Redis; it gets a fresh data directory at each start all the same,
  // so what a restarted cluster knows came from Redis (which keeps running across StopServers()).
  void StartServer(ServerOptions options = {}) {
    ASSERT_TRUE(nodes_.empty()) << "StopServers() first";
    for (int i = 0; i < static_cast<int>(GetParam()); ++i) {
      ServerOptions node = options;
      node.port = 0;
      if (clustered()) {
        node.http_port = -1;
        node.cluster_redis = absl::StrCat("127.0.0.1:", redis_.port());
        node.node_id = absl::StrCat("n", i);
        node.data_dir = NewDataDir();
      } else {
        node.http_port = 0;
        node.https_port = 0;
        if (node.data_dir == ServerOptions().data_dir) node.data_dir = NewDataDir();
      }
      nodes_.push_back(std::make_unique<Server>(node));
      absl::Status started = nodes_.back()->Start();
      ASSERT_TRUE(started.ok()) << "node " << i << ": " << started;
    }
    server_ = nodes_[0].get();
    // A node is up once it has answered a heartbeat (as in cluster_test).
    if (!clustered()) return;
    for (auto& node : nodes_) {
      ASSERT_TRUE(node->TEST_cluster()->WaitUntilJoined(kLineDeadline));
    }
  }
  // Stops the server, or every node (Redis keeps running): StartServer() again is a restart.
  void StopServers() {
    server_ = nullptr;
    nodes_.clear();
  }

  // A new client with `nick` on the next node in turn; null (and a failure) if that fails.
  std::unique_ptr<TestClient> Login(absl::string_view nick = "", TestClientOptions options = {}) {
    int node = next_node_;
    next_node_ = (next_node_ + 1) % static_cast<int>(GetParam());
    return LoginOn(node, nick, options);
  }
  // A new client on node `node` (0 alone), not counted in Login()'s turns.
  std::unique_ptr<TestClient> LoginOn(int node, absl::string_view nick = "",
                                      TestClientOptions options = {}) {
    if (node >= static_cast<int>(nodes_.size())) {
      ADD_FAILURE() << "node " << node << " is not running";
      return nullptr;
    }
    return roomchat::Login(nodes_[node]->port(), nick, options);
  }

  // A client that takes `nick` and registers it (so it is logged in); null (and a failure) if not.
  std::unique_ptr<TestClient> Registered(absl::string_view nick, TestClientOptions options = {}) {
    auto client = Login(nick, options);
    if (client == nullptr) return nullptr;
    std::string reply = client->Ask(absl::StrCat("/register ", PasswordOf(nick)));
    if (reply != absl::StrCat("OK REGISTER ", nick)) {
      ADD_FAILURE() << "expected OK REGISTER " << nick << ", got " << reply;
      return nullptr;
    }
    return client;
  }
  // A new connection logged in to `nick`'s account.
  std::unique_ptr<TestClient> LoggedIn(absl::string_view nick) {
    auto client = Login();
    if (client == nullptr) return nullptr;
    std::string reply = client->Ask(absl::StrCat("/login ", nick, " ", PasswordOf(nick)));
    if (reply != absl::StrCat("OK LOGIN ", nick)) {
      ADD_FAILURE() << "expected OK LOGIN " << nick << ", got " << reply;
      return nullptr;
    }
    return client;
  }
  static std::string PasswordOf(absl::string_view nick) { return absl::StrCat(nick, "-password"); }

  Server* server_ = nullptr;  // node 0 (the server, alone), while running

 private:
  TestRedis redis_;  // in a cluster; outlives the nodes
  std::vector<std::unique_ptr<Server>> nodes_;
  int next_node_ = 0;
};

// The next `count` lines (each waited for, as Next() does), then what else arrived before a round
// trip (Pending()). On one node, with `count` lines pending, the same as Pending(); in a cluster,
// lines from another node may still be on their way when a bare Pending() asks.
inline Lines Arrived(TestClient& client, size_t count) {
  Lines lines;
  for (size_t i = 0; i < count; ++i) {
    lines.push_back(client.Next());
    if (absl::StartsWith(lines.back(), "<")) return lines;  // <timeout>, <closed>
  }
  Lines rest = Pending(client);
  lines.insert(lines.end(), rest.begin(), rest.end());
  return lines;
}

// The creator makes `room` and the others join it; each member reads the JOIN of every member
// after it, and nothing else.
inline void MeetIn(absl::string_view room, const std::vector<TestClient*>& members) {
  for (TestClient* member : members) ASSERT_NE(member, nullptr);
  Lines joins;  // each member's JOIN line, as the others see it
  for (TestClient* member : members) {
    std::string whoami = member->Ask("/whoami");
    std::vector<std::string> words = absl::StrSplit(whoami, ' ');
    ASSERT_TRUE(words.size() == 4 && absl::StartsWith(whoami, "OK WHOAMI ")) << whoami;
    joins.push_back(absl::StrCat("JOIN ", room, " ", words[2]));
  }
  ASSERT_EQ(members[0]->Ask(absl::StrCat("/create ", room)), absl::StrCat("OK CREATE ", room));
  for (size_t i = 1; i < members.size(); ++i) {
    ASSERT_EQ(members[i]->Ask(absl::StrCat("/join ", room)),
              absl::StrCat("OK JOIN ", room, " ", i + 1));
  }
  for (size_t i = 0; i < members.size(); ++i) {
    Lines later(joins.begin() + i + 1, joins.end());
    EXPECT_EQ(Arrived(*members[i], later.size()), later) << "member " << i << " of " << room;
  }
}

// Sends `command` and reads until a line starting with `end` (or an ERR, or no line in time);
// returns every line, that one last.
inline Lines AnswerEndingWith(TestClient& client, absl::string_view command,
                              absl::string_view end) {
  Lines lines;
  if (!client.Send(command).ok()) return {"<send failed>"};
  while (true) {
    std::string line = client.Next();
    lines.push_back(line);
    if (absl::StartsWith(line, end) || absl::StartsWith(line, "ERR ") ||
        absl::StartsWith(line, "<")) {
      return lines;
    }
  }
}

// `client`'s answer to /bans: the BAN lines sorted, then the OK line.
inline Lines Bans(TestClient& client) {
  Lines lines = AnswerEndingWith(client, "/bans", "OK BANS ");
  if (!lines.empty()) std::sort(lines.begin(), lines.end() - 1);
  return lines;
}

// Whether `client` is an operator of its room, asked without changing anything: /kick of a nick
// that is not there is "no-such-nick" for an operator and "not-op" for anyone else.
inline bool IsOp(TestClient& client) {
  std::string reply = client.Ask("/kick nobody-at-all");
  EXPECT_TRUE(IsErr(reply, "no-such-nick") || IsErr(reply, "not-op")) << reply;
  return IsErr(reply, "no-such-nick");
}

}  // namespace roomchat

#endif  // ROOMCHAT_TESTS_MODERATION_FIXTURE_H_
