// End-to-end tests of accounts in a cluster (docs/CLUSTER.md, "Accounts ... across nodes"): an
// account registered on one node is one on every node: its nick is refused to others anywhere,
// a login on any node takes the nick from its holder on any node (renamed to a guest), a changed
// password holds everywhere.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "chat/cluster/test_redis.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

constexpr char kPassword[] = "correct-horse";
constexpr char kNewPassword[] = "battery-staple";

class ClusterAccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    for (int i = 0; i < 2; ++i) {
      ServerOptions node;
      node.port = 0;
      node.http_port = -1;
      node.history = false;
      node.cluster_redis = absl::StrCat("127.0.0.1:", redis_.port());
      node.node_id = absl::StrCat("n", i);
      nodes_.push_back(std::make_unique<Server>(node));
      absl::Status started = nodes_.back()->Start();
      ASSERT_TRUE(started.ok()) << started;
    }
  }
  void TearDown() override { nodes_.clear(); }

  std::unique_ptr<TestClient> On(int node, absl::string_view nick = "") {
    return Login(nodes_[node]->port(), nick);
  }

  TestRedis redis_;
  std::vector<std::unique_ptr<Server>> nodes_;
};

// "RENAMED <old> <guest> <reason>": the guest nick, or "" for any other line.
std::string RenamedTo(absl::string_view line, absl::string_view old) {
  std::vector<std::string> words = absl::StrSplit(line, ' ');
  if (words.size() < 4 || words[0] != "RENAMED" || words[1] != old) return "";
  return absl::StartsWith(words[2], "guest") ? words[2] : "";
}

TEST_F(ClusterAccountsTest, AnAccountRegisteredOnOneNodeIsOneOnEveryNode) {
  auto alice = On(0, "alice");
  auto bob = On(1, "bob");
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(alice->Ask(absl::StrCat("/register ", kPassword)), "OK REGISTER alice");
  EXPECT_TRUE(IsErr(bob->Ask("/nick alice"), "nick-registered"));
  EXPECT_TRUE(IsErr(bob->Ask("/login alice wrong-password"), "auth-failed"));

  // A login on the other node takes the nick from alice's first connection.
  EXPECT_EQ(bob->Ask(absl::StrCat("/login alice ", kPassword)), "OK LOGIN alice");
  std::string guest = RenamedTo(alice->Next(), "alice");
  ASSERT_FALSE(guest.empty());
  EXPECT_EQ(alice->Ask("/whoami"), absl::StrCat("OK WHOAMI ", guest, " -"));
  EXPECT_EQ(bob->Ask("/whoami"), "OK WHOAMI alice -");
  EXPECT_TRUE(IsErr(alice->Ask("/nick alice"), "nick-registered"));

  EXPECT_EQ(bob->Ask(absl::StrCat("/password ", kPassword, " ", kNewPassword)), "OK PASSWORD");
  auto again = On(0);
  ASSERT_TRUE(again);
  EXPECT_TRUE(IsErr(again->Ask(absl::StrCat("/login alice ", kPassword)), "auth-failed"));
  EXPECT_EQ(again->Ask(absl::StrCat("/login alice ", kNewPassword)), "OK LOGIN alice");
  EXPECT_FALSE(RenamedTo(bob->Next(), "alice").empty());
}

// The holder a login elsewhere renames is told the account as it held the nick, as one node tells
// it (not by its key, the nick in lower case).
TEST_F(ClusterAccountsTest, TheRenamedHolderHearsTheAccountAsItHeldIt) {
  auto holder = On(0, "Alice");
  auto other = On(1, "bob");
  ASSERT_TRUE(holder && other);
  EXPECT_EQ(holder->Ask(absl::StrCat("/register ", kPassword)), "OK REGISTER Alice");
  EXPECT_EQ(other->Ask(absl::StrCat("/login alice ", kPassword)), "OK LOGIN alice");
  std::vector<std::string> renamed = absl::StrSplit(holder->Next(), absl::MaxSplits(' ', 3));
  ASSERT_EQ(renamed.size(), 4u);
  EXPECT_EQ(renamed[0], "RENAMED");
  EXPECT_EQ(renamed[1], "Alice");
  EXPECT_EQ(renamed[3], "someone logged in to the account Alice");
}

TEST_F(ClusterAccountsTest, ALoginInARoomIsANickChangeForEveryNode) {
  auto alice = On(0, "alice");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->Ask(absl::StrCat("/register ", kPassword)), "OK REGISTER alice");
  alice->Close();
  auto dave = On(0, "dave");
  auto back = On(1, "someone");
  ASSERT_TRUE(dave && back);
  EXPECT_EQ(dave->Ask("/create r"), "OK CREATE r");
  EXPECT_EQ(back->Ask("/join r"), "OK JOIN r 2");
  EXPECT_EQ(dave->Next(), "JOIN r someone");
  EXPECT_EQ(back->Ask(absl::StrCat("/login alice ", kPassword)), "OK LOGIN alice");
  EXPECT_EQ(dave->Next(), "NICK someone alice");
  EXPECT_EQ(Pending(*back), Lines{}) << "the renamer had its OK LOGIN";
}

// The per-address login throttle counts failures on every node: an attacker spreading its guesses
// over the nodes gets no more of them than from one.
TEST_F(ClusterAccountsTest, FailedLoginsOnOneNodeSlowTheirAddressOnEveryNode) {
  const ServerOptions defaults;
  const size_t free = defaults.login_free_failures_per_address;
  std::vector<std::unique_ptr<TestClient>> guessers;
  for (size_t failed = 0; failed <= free; ++failed) {  // one past the free ones
    // A connection has fewer free failures than its address: a new one when it must wait.
    if (failed % defaults.login_free_failures_per_connection == 0) guessers.push_back(On(0));
    ASSERT_TRUE(guessers.back());
    std::string guess = guessers.back()->Ask("/login nobody wrong-password");
    ASSERT_TRUE(IsErr(guess, "auth-failed")) << failed << ": " << guess;
  }
  const LoginGuard& other = *nodes_[1]->TEST_login_guard();
  absl::Time deadline = absl::Now() + kLineDeadline;
  while (other.WaitFor(0, "127.0.0.1", LoginGuard::Clock::now()).count() == 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  auto elsewhere = On(1);
  ASSERT_TRUE(elsewhere);
  std::string reply = elsewhere->Ask("/login nobody wrong-password");
  EXPECT_TRUE(absl::StartsWith(reply, "ERR auth-failed too many failed logins")) << reply;
}

// Redis restarted empty: the accounts went with it, on every node alike (the node where one was
// registered kept refusing its nick as registered, while the other let anyone take and register
// it: an attacker's review, 3 runs of 3).
TEST_F(ClusterAccountsTest, AccountsRedisLostAreGoneOnEveryNode) {
  auto alice = On(0, "alice");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->Ask(absl::StrCat("/register ", kPassword)), "OK REGISTER alice");
  alice->Close();
  ASSERT_TRUE(redis_.Restart().ok());  // empty
  auto bob = On(0);
  ASSERT_TRUE(bob);
  // Once node 0 is back (its link, and its first check of what Redis holds).
  EXPECT_EQ(AskUntil(*bob, "/nick alice", "OK NICK"), "OK NICK alice");
  EXPECT_EQ(bob->Ask(absl::StrCat("/register ", kPassword)), "OK REGISTER alice");
}

// A login in the same room on the same node takes the nick, and the member entry under it, from
// its holder: the holder, renamed to a guest, stays in the room under the guest nick, and so does
// the winner, as on one node (an attacker's review: the winner dropped out of the room in Redis,
// 4 of 4 runs: its lines refused, /who without it, no LEAVE when it quit).
TEST_F(ClusterAccountsTest, ALoginInTheSameRoomOnTheSameNodeKeepsBothMembers) {
  auto holder = On(0, "carol");
  auto watcher = On(1, "watcher");
  auto winner = On(0, "yy");
  ASSERT_TRUE(holder && watcher && winner);
  ASSERT_EQ(holder->Ask(absl::StrCat("/register ", kPassword)), "OK REGISTER carol");
  ASSERT_NO_FATAL_FAILURE(SeatInRoom(
      "Den", {{holder.get(), "carol"}, {watcher.get(), "watcher"}, {winner.get(), "yy"}}));
  EXPECT_EQ(winner->Ask(absl::StrCat("/login carol ", kPassword)), "OK LOGIN carol");
  // The holder hears the winner's NICK and its own RENAMED, in either order (on one node too).
  Lines heard = {holder->Next(), holder->Next()};
  std::sort(heard.begin(), heard.end());
  EXPECT_EQ(heard[0], "NICK yy carol");
  const std::string guest = RenamedTo(heard[1], "carol");
  ASSERT_FALSE(guest.empty()) << heard[1];
  EXPECT_EQ(watcher->Next(), "NICK yy carol");
  EXPECT_EQ(watcher->Next(), absl::StrCat("NICK carol ", guest));
  EXPECT_EQ(winner->Next(), absl::StrCat("NICK carol ", guest));
  const Lines who = {"MEMBER carol", absl::StrCat("MEMBER ", guest), "MEMBER watcher",
                     "OK WHO Den 3"};
  EXPECT_EQ(Answer(*watcher, "/who"), who);
  ASSERT_TRUE(winner->Send("said as carol").ok());
  for (TestClient* member : {watcher.get(), holder.get()}) {
    EXPECT_EQ(member->Next(), "MSG Den carol said as carol");
  }
  // Logging in again to the nick it holds tells the room nothing, as on one node (the cluster
  // sent NICK carol carol).
  EXPECT_EQ(winner->Ask("/logout"), "OK LOGOUT carol");
  EXPECT_EQ(winner->Ask(absl::StrCat("/login carol ", kPassword)), "OK LOGIN carol");
  ASSERT_TRUE(winner->Send("again").ok());
  for (TestClient* member : {watcher.get(), holder.get()}) {
    EXPECT_EQ(member->Next(), "MSG Den carol again");
  }
  ASSERT_TRUE(winner->Send("/quit").ok());
  EXPECT_EQ(watcher->Next(), "LEAVE Den carol");
  EXPECT_EQ(holder->Next(), "LEAVE Den carol");
  EXPECT_EQ(Answer(*watcher, "/who"),
            (Lines{absl::StrCat("MEMBER ", guest), "MEMBER watcher", "OK WHO Den 2"}));
}

}  // namespace
}  // namespace roomchat
