// Failures in a cluster (docs/CLUSTER.md, "A node that dies" and "Redis unavailable"), with every
// node a real chat_server child process (so it can be killed with SIGKILL and its log read) and a
// redis-server of the test's own:
//   - a node killed with kill -9 while members on two other nodes chat: the survivors' members see
//     its members LEAVE within the node TTL (plus slack), its nicks become free, and no line
//     between the survivors is lost or reordered;
//   - Redis killed and restarted empty while members chat: local rooms keep working, cluster-wide
//     commands answer "ERR unavailable", the log says the link was lost and restored, and the
//     nodes register their rooms, members and nicks again.
// Nick conflicts after an outage or a stall are in tests/cluster_nick_conflict_test.cc.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/cluster/test_redis.h"
#include "gtest/gtest.h"
#include "tests/cluster_failure_fixture.h"
#include "tests/data_dir.h"
#include "tests/server_fixture.h"
#include "tests/subprocess.h"
#include "tests/test_client.h"

namespace roomchat {
namespace cluster_failure {
namespace {

// ---- A node killed with kill -9.

// One reader of the kill -9 test: it must see every line of `peer` ("line <n>", n counting from
// 0), in order, and each victim's LEAVE.
struct Reader {
  TestClient* client;
  std::string peer;
  int next = 0;
  std::map<std::string, absl::Duration> left;  // victim -> time from the kill to its LEAVE read
  std::map<std::string, int> read_before;      // victim -> peer's lines read before its LEAVE
  Lines unexpected;

  void Take(const std::string& line, absl::Time killed_at) {
    const std::string msg = absl::StrCat("MSG r ", peer, " line ");
    int number = -1;
    if (absl::StartsWith(line, msg) &&
        absl::SimpleAtoi(absl::string_view(line).substr(msg.size()), &number)) {
      if (number != next) unexpected.push_back(absl::StrCat("expected ", next, ": ", line));
      next = number + 1;
    } else if (absl::StartsWith(line, "LEAVE r victim") && left.count(line.substr(8)) == 0) {
      left[line.substr(8)] = absl::Now() - killed_at;
      read_before[line.substr(8)] = next;
    } else {
      unexpected.push_back(line);
    }
  }
  // Reads what has arrived, waiting at most `wait` for the first line.
  void Drain(absl::Duration wait, absl::Time killed_at) {
    for (int i = 0; i < 100; ++i) {
      absl::StatusOr<std::string> line = client->ReadLine(i == 0 ? wait : absl::ZeroDuration());
      if (!line.ok()) return;
      Take(*line, killed_at);
    }
  }
  bool Done(int lines) const { return next == lines && left.size() == 2; }
};

// Room r with alice on `a`, bob on `b` and victim1, victim2 on `c`, every JOIN read.
struct RoomOnThreeNodes {
  std::unique_ptr<TestClient> alice, bob, victim1, victim2;
};

RoomOnThreeNodes JoinRoomOnThreeNodes(const Node& a, const Node& b, const Node& c) {
  RoomOnThreeNodes room{Login(a.port, "alice"), Login(b.port, "bob"), Login(c.port, "victim1"),
                        Login(c.port, "victim2")};
  if (!(room.alice && room.bob && room.victim1 && room.victim2)) return {};
  EXPECT_EQ(room.alice->Ask("/create r"), "OK CREATE r");
  EXPECT_EQ(room.bob->Ask("/join r"), "OK JOIN r 2");
  EXPECT_EQ(room.victim1->Ask("/join r"), "OK JOIN r 3");
  EXPECT_EQ(room.victim2->Ask("/join r"), "OK JOIN r 4");
  for (const char* nick : {"bob", "victim1", "victim2"}) {
    EXPECT_EQ(room.alice->Next(), absl::StrCat("JOIN r ", nick));
  }
  for (const char* nick : {"victim1", "victim2"}) {
    EXPECT_EQ(room.bob->Next(), absl::StrCat("JOIN r ", nick));
  }
  return room;
}

TEST_F(ClusterFailureTest, KilledNodeIsReapedWhileSurvivorsChatWithoutLoss) {
  constexpr int kLines = 200;
  constexpr int kBeforeKill = 60;
  Node& a = StartNode("a");
  Node& b = StartNode("b");
  Node& c = StartNode("c");
  ASSERT_FALSE(HasFailure());
  RoomOnThreeNodes room = JoinRoomOnThreeNodes(a, b, c);
  ASSERT_TRUE(room.alice != nullptr);
  ASSERT_FALSE(HasFailure());
  TestClient* alice = room.alice.get();
  TestClient* bob = room.bob.get();

  Reader at_alice{alice, "bob"};
  Reader at_bob{bob, "alice"};
  int sent = 0;
  auto send_both = [&] {
    ASSERT_TRUE(alice->Send(absl::StrCat("line ", sent)).ok());
    ASSERT_TRUE(bob->Send(absl::StrCat("line ", sent)).ok());
    ++sent;
  };
  while (sent < kBeforeKill) send_both();
  const absl::Time killed_at = absl::Now();
  c.process->Signal(SIGKILL);
  // The rest go out a pair every 20 ms (about 3 s: the chat goes on while the node is reaped, at
  // about 2 s; pacing only, nothing depends on it) while both readers read.
  absl::Time next_send = killed_at;
  while (!(at_alice.Done(kLines) && at_bob.Done(kLines)) &&
         absl::Now() < killed_at + ReapDeadline()) {
    if (sent < kLines && absl::Now() >= next_send) {
      send_both();
      next_send = absl::Now() + absl::Milliseconds(20);
    }
    at_alice.Drain(absl::Milliseconds(5), killed_at);
    at_bob.Drain(absl::Milliseconds(5), killed_at);
  }
  std::optional<int> status = c.process->WaitForExit(kLineDeadline);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << *status;

  for (const Reader* reader : {&at_alice, &at_bob}) {
    EXPECT_EQ(reader->next, kLines) << "lines of " << reader->peer << " read";
    EXPECT_EQ(reader->unexpected, Lines{}) << "reading " << reader->peer << "'s lines";
    EXPECT_EQ(reader->left.size(), 2u) << "LEAVEs read by the reader of " << reader->peer;
    for (const auto& [victim, after] : reader->left) {
      std::cout << "kill -9 to '" << victim << "' read by the reader of " << reader->peer << ": "
                << after << " (node TTL " << kTtlSeconds << " s), after "
                << reader->read_before.at(victim) << " of " << kLines << " lines\n";
      EXPECT_LT(after, ReapDeadline());
    }
  }
  EXPECT_EQ(Pending(*alice), Lines{});
  EXPECT_EQ(Pending(*bob), Lines{});
  // The victims' nicks are free on both survivors.
  auto newcomer_a = Login(a.port);
  auto newcomer_b = Login(b.port);
  ASSERT_TRUE(newcomer_a && newcomer_b);
  EXPECT_EQ(AskUntil(*newcomer_a, "/nick victim1", "OK", ReapDeadline()), "OK NICK victim1");
  EXPECT_EQ(AskUntil(*newcomer_b, "/nick victim2", "OK", ReapDeadline()), "OK NICK victim2");
  EXPECT_TRUE(Running(a) && Running(b));
}

// ---- Redis killed and restarted empty.

// The cluster-wide commands, each answered "ERR unavailable" while Redis is down.
const std::vector<std::string>& ClusterCommands() {
  static const auto* const commands = new std::vector<std::string>{
      "/rooms", "/who r", "/nick newname", "/create x", "/join r2"};
  return *commands;
}

// Room r with alice and bob on `a` and carol on `b`, every JOIN read, and a line across nodes.
struct RoomOnTwoNodes {
  std::unique_ptr<TestClient> alice, bob, carol;
};

RoomOnTwoNodes JoinRoomOnTwoNodes(const Node& a, const Node& b) {
  RoomOnTwoNodes room{Login(a.port, "alice"), Login(a.port, "bob"), Login(b.port, "carol")};
  if (!(room.alice && room.bob && room.carol)) return {};
  EXPECT_EQ(room.alice->Ask("/create r"), "OK CREATE r");
  EXPECT_EQ(room.bob->Ask("/join r"), "OK JOIN r 2");
  EXPECT_EQ(room.carol->Ask("/join r"), "OK JOIN r 3");
  EXPECT_EQ(room.alice->Next(), "JOIN r bob");
  EXPECT_EQ(room.alice->Next(), "JOIN r carol");
  EXPECT_EQ(room.bob->Next(), "JOIN r carol");
  EXPECT_TRUE(room.alice->Send("before").ok());
  EXPECT_EQ(room.bob->Next(), "MSG r alice before");
  EXPECT_EQ(room.carol->Next(), "MSG r alice before");
  return room;
}

// One client on `node` per command of ClusterCommands(), logged in while Redis is up.
std::vector<std::unique_ptr<TestClient>> Askers(const Node& node) {
  std::vector<std::unique_ptr<TestClient>> askers;
  for (size_t i = 0; i < ClusterCommands().size(); ++i) {
    askers.push_back(Login(node.port, absl::StrCat("ask", node.id, i)));
  }
  return askers;
}

// Each of ClusterCommands() from its own client of `askers` (one whose command hangs cannot hold
// up the others), all sent at once: each answer must be "ERR unavailable". The clients are closed
// afterwards, so a command that did not answer cannot change anything later for them.
void ExpectClusterCommandsRefused(const Node& node,
                                  std::vector<std::unique_ptr<TestClient>>& askers) {
  for (size_t i = 0; i < askers.size(); ++i) {
    ASSERT_TRUE(askers[i] && askers[i]->Send(ClusterCommands()[i]).ok());
  }
  const absl::Time until = absl::Now() + kLineDeadline;  // one deadline for all the answers
  for (size_t i = 0; i < askers.size(); ++i) {
    EXPECT_TRUE(IsErr(askers[i]->Next(std::max(until - absl::Now(), absl::Milliseconds(1))),
                      "unavailable"))
        << ClusterCommands()[i] << " on node " << node.id << " while Redis is down";
    askers[i]->Close();
  }
}

// After Redis came back empty: the nodes registered again the room, its members on both nodes
// and their nicks.
void ExpectRegisteredAgain(const Node& a, const Node& b, TestClient& lister_a,
                           TestClient& lister_b) {
  const Lines rooms = {"OK ROOMS 1", "ROOM r 3"};  // sorted
  EXPECT_EQ(AnswerUntil(lister_a, "/rooms", rooms, RecoveryDeadline(), /*sort=*/true), rooms);
  EXPECT_EQ(AnswerUntil(lister_b, "/rooms", rooms, RecoveryDeadline(), /*sort=*/true), rooms);
  const Lines who = {"MEMBER alice", "MEMBER bob", "MEMBER carol", "OK WHO r 3"};  // sorted
  EXPECT_EQ(AnswerUntil(lister_b, "/who r", who, RecoveryDeadline(), /*sort=*/true), who);
  EXPECT_EQ(AnswerUntil(lister_a, "/who r", who, RecoveryDeadline(), /*sort=*/true), who);
  auto thief = Login(b.port);
  ASSERT_TRUE(thief);
  EXPECT_TRUE(IsErr(thief->Ask("/nick alice"), "nick-taken")) << "alice's nick claimed again";
}

TEST_F(ClusterFailureTest, RedisRestartedEmptyDuringChat) {
  Node& a = StartNode("a");
  Node& b = StartNode("b");
  ASSERT_FALSE(HasFailure());
  RoomOnTwoNodes room = JoinRoomOnTwoNodes(a, b);
  auto lister_a = Login(a.port, "listera");
  auto lister_b = Login(b.port, "listerb");
  std::vector<std::unique_ptr<TestClient>> askers_a = Askers(a);
  std::vector<std::unique_ptr<TestClient>> askers_b = Askers(b);
  ASSERT_TRUE(room.alice && lister_a && lister_b);
  ASSERT_FALSE(HasFailure());

  redis_.Kill();
  // (a) The room's part on node a keeps working for its members there; the line waits at most for
  // the link to notice (its command timeout).
  ASSERT_TRUE(room.alice->Send("while down").ok());
  EXPECT_EQ(room.bob->Next(), "MSG r alice while down");
  // (b) Cluster-wide commands are refused, on both nodes, once each node has noticed.
  for (TestClient* lister : {lister_a.get(), lister_b.get()}) {
    EXPECT_TRUE(IsErr(AskUntil(*lister, "/rooms", "ERR unavailable", kLineDeadline), "unavailable"));
  }
  ExpectClusterCommandsRefused(a, askers_a);
  ExpectClusterCommandsRefused(b, askers_b);
  for (Node* node : {&a, &b}) {
    EXPECT_TRUE(node->process->WaitForStderr(
        absl::StrCat("redis link to ", RedisAddress(), " lost"), kLineDeadline));
  }

  ASSERT_TRUE(redis_.Restart().ok());
  for (Node* node : {&a, &b}) {
    EXPECT_TRUE(node->process->WaitForStderr(
        absl::StrCat("redis link to ", RedisAddress(), " restored"), RecoveryDeadline()))
        << "node " << node->id;
  }
  ExpectRegisteredAgain(a, b, *lister_a, *lister_b);
  // Lines cross nodes again, both ways.
  ASSERT_TRUE(room.alice->Send("after restart").ok());
  ExpectLineAfterJoins(*room.bob, "MSG r alice after restart");
  ExpectLineAfterJoins(*room.carol, "MSG r alice after restart");
  ASSERT_TRUE(room.carol->Send("carol is back").ok());
  ExpectLineAfterJoins(*room.alice, "MSG r carol carol is back");
  ExpectLineAfterJoins(*room.bob, "MSG r carol carol is back");
  EXPECT_TRUE(Running(a) && Running(b)) << "no node crashed";
}

}  // namespace
}  // namespace cluster_failure
}  // namespace roomchat
