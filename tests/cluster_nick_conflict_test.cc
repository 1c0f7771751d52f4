// Nick conflicts in a cluster (docs/CLUSTER.md, "Redis unavailable" and "A node that dies"), with
// every node a real chat_server child process and a redis-server of the test's own:
//   - a nick claimed on another node while Redis was empty: exactly one client keeps it, the loser
//     renamed to a guest nick (RENAMED, and NICK in its room);
//   - a node stopped (SIGSTOP) long enough to be reaped while its link stays open: when it runs
//     again it registers its clients again; one whose nick was taken meanwhile is renamed, the
//     others come back (JOIN), and exactly one client holds each nick. (Without the heartbeat
//     noticing its own key gone, the node would go on believing it held what Redis freed.)
#include <signal.h>

#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/cluster_failure_fixture.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace cluster_failure {
namespace {

// ---- A nick taken elsewhere while Redis was empty.

// The nick in an "OK WHOAMI <nick> <room>" answer ("" if it is not one).
std::string WhoamiNick(const std::string& answer) {
  std::vector<std::string> words = absl::StrSplit(answer, ' ');
  return words.size() == 4 && words[0] == "OK" && words[1] == "WHOAMI" ? words[2] : "";
}

TEST_F(ClusterFailureTest, NickClaimedElsewhereDuringOutageEndsWithOneHolder) {
  Node& a = StartNode("a");
  Node& b = StartNode("b");
  ASSERT_FALSE(HasFailure());
  auto alice = Login(a.port, "alice");
  auto witness = Login(a.port, "witness");
  auto probe_a = Login(a.port, "probea");
  auto claimer = Login(b.port);
  ASSERT_TRUE(alice && witness && probe_a && claimer);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  ASSERT_EQ(witness->Ask("/join r"), "OK JOIN r 2");
  ASSERT_EQ(alice->Next(), "JOIN r witness");

  redis_.Kill();
  // Both nodes notice the outage before Redis comes back.
  for (TestClient* probe : {probe_a.get(), claimer.get()}) {
    EXPECT_TRUE(IsErr(AskUntil(*probe, "/rooms", "ERR unavailable", kLineDeadline), "unavailable"));
  }
  ASSERT_TRUE(redis_.Restart().ok());
  // The first claim of "alice" to reach the empty Redis wins: the claimer's, or node a's
  // re-registration of its own.
  std::string claim = claimer->Ask("/nick alice");
  for (absl::Time until = absl::Now() + RecoveryDeadline();
       IsErr(claim, "unavailable") && absl::Now() < until; claim = claimer->Ask("/nick alice")) {
    absl::SleepFor(absl::Milliseconds(20));  // polling interval
  }
  std::cout << "the claim of alice on node b answered: " << claim << "\n";
  if (claim == "OK NICK alice") {
    // Node a lost: its alice is renamed to a guest nick, and its room is told.
    std::string renamed = alice->Next(RecoveryDeadline());
    std::vector<std::string> words = absl::StrSplit(renamed, ' ');
    const bool is_renamed = words.size() >= 4 && words[0] == "RENAMED" && words[1] == "alice" &&
                            absl::StartsWith(words[2], "guest");
    EXPECT_TRUE(is_renamed) << renamed;
    if (is_renamed) {  // else still check below who holds the nick
      ExpectLineAfterJoins(*witness, absl::StrCat("NICK alice ", words[2]));
      EXPECT_EQ(alice->Ask("/whoami"), absl::StrCat("OK WHOAMI ", words[2], " r"));
    }
  } else {
    EXPECT_TRUE(IsErr(claim, "nick-taken")) << "node a's re-registration came first";
    EXPECT_EQ(alice->Ask("/whoami"), "OK WHOAMI alice r");
  }
  std::vector<std::string> holders;
  for (TestClient* client : {alice.get(), claimer.get()}) {
    std::string answer = client->Ask("/whoami");
    if (WhoamiNick(answer) == "alice") holders.push_back(answer);
  }
  EXPECT_EQ(holders.size(), 1u) << "clients called alice: " << absl::StrJoin(holders, " | ");
  EXPECT_TRUE(Running(a) && Running(b)) << "no node crashed";
}
// ---- A node stopped long enough to be taken for dead.

// Reads `reader`'s lines until each of `want` has come (in any order) or `deadline` passes;
// returns the lines read that are not in `want`, and empties `want` of those that came.
Lines ReadUntilAll(TestClient& reader, std::set<std::string>* want, absl::Duration deadline) {
  Lines others;
  const absl::Time until = absl::Now() + deadline;
  while (!want->empty() && absl::Now() < until) {
    absl::StatusOr<std::string> line = reader.ReadLine(until - absl::Now());
    if (!line.ok()) break;
    if (want->erase(*line) == 0) others.push_back(*line);
  }
  return others;
}

TEST_F(ClusterFailureTest, StalledNodeReapedWhileLinkUpRegistersAgain) {
  Node& a = StartNode("a");
  Node& b = StartNode("b");
  ASSERT_FALSE(HasFailure());
  auto alice = Login(a.port, "alice");
  auto dave = Login(a.port, "dave");
  auto witness = Login(b.port, "witness");
  auto claimer = Login(b.port);
  ASSERT_TRUE(alice && dave && witness && claimer);
  ASSERT_EQ(alice->Ask("/create r"), "OK CREATE r");
  ASSERT_EQ(dave->Ask("/join r"), "OK JOIN r 2");
  ASSERT_EQ(witness->Ask("/join r"), "OK JOIN r 3");
  ASSERT_EQ(alice->Next(), "JOIN r dave");
  ASSERT_EQ(alice->Next(), "JOIN r witness");
  ASSERT_EQ(dave->Next(), "JOIN r witness");

  // Node a stops beating; its connections (to Redis and to its clients) stay open.
  a.process->Signal(SIGSTOP);
  std::set<std::string> leaves = {"LEAVE r alice", "LEAVE r dave"};
  Lines others = ReadUntilAll(*witness, &leaves, ReapDeadline());
  ASSERT_TRUE(leaves.empty()) << "node a was not reaped; still waiting for "
                              << absl::StrJoin(leaves, " | ");
  EXPECT_TRUE(others.empty()) << absl::StrJoin(others, " | ");
  // The reap freed alice's nick: the claimer on node b takes it.
  ASSERT_EQ(claimer->Ask("/nick alice"), "OK NICK alice");
  a.process->Signal(SIGCONT);

  // Node a notices it was taken for dead and registers its clients again: alice lost her nick
  // (RENAMED), dave is back in the room. Every member sees the room's entries as the other nodes
  // did (the reaper's LEAVEs, the JOINs of the return), except its own LEAVE and JOIN.
  Lines at_alice;
  std::string renamed;
  for (const absl::Time until = absl::Now() + RecoveryDeadline();
       renamed.empty() && absl::Now() < until;) {
    absl::StatusOr<std::string> line = alice->ReadLine(until - absl::Now());
    if (!line.ok()) break;
    if (absl::StartsWith(*line, "RENAMED ")) renamed = *line; else at_alice.push_back(*line);
  }
  std::vector<std::string> words = absl::StrSplit(renamed, ' ');
  ASSERT_TRUE(words.size() >= 4 && words[1] == "alice" && absl::StartsWith(words[2], "guest"))
      << "alice was not renamed: " << renamed << "; read " << absl::StrJoin(at_alice, " | ");
  const std::string guest = words[2];
  std::set<std::string> want = {"LEAVE r dave", "JOIN r dave"};
  for (const std::string& line : at_alice) want.erase(line);
  others = ReadUntilAll(*alice, &want, kLineDeadline);
  EXPECT_TRUE(want.empty()) << "alice still waits for " << absl::StrJoin(want, " | ");
  want = {"LEAVE r alice", absl::StrCat("JOIN r ", guest)};
  Lines at_dave = ReadUntilAll(*dave, &want, kLineDeadline);
  EXPECT_TRUE(want.empty()) << "dave still waits for " << absl::StrJoin(want, " | ");
  want = {"JOIN r dave", absl::StrCat("JOIN r ", guest)};
  Lines at_witness = ReadUntilAll(*witness, &want, kLineDeadline);
  EXPECT_TRUE(want.empty()) << "witness still waits for " << absl::StrJoin(want, " | ");
  for (const Lines* unexpected : {&others, &at_dave, &at_witness}) {
    EXPECT_TRUE(unexpected->empty()) << absl::StrJoin(*unexpected, " | ");
  }

  // The room works across both nodes again, and each nick has one holder.
  ASSERT_TRUE(dave->Send("dave is back").ok());
  EXPECT_EQ(witness->Next(), "MSG r dave dave is back");
  EXPECT_EQ(alice->Next(), "MSG r dave dave is back");
  EXPECT_EQ(alice->Ask("/whoami"), absl::StrCat("OK WHOAMI ", guest, " r"));
  EXPECT_EQ(WhoamiNick(claimer->Ask("/whoami")), "alice");
  auto thief = Login(b.port);
  ASSERT_TRUE(thief);
  EXPECT_TRUE(IsErr(thief->Ask("/nick dave"), "nick-taken")) << "dave's nick is held again";
  EXPECT_TRUE(a.process->WaitForStderr("missed its heartbeats long enough", kLineDeadline));
  EXPECT_TRUE(Running(a) && Running(b)) << "no node crashed";
}

}  // namespace
}  // namespace cluster_failure
}  // namespace roomchat
