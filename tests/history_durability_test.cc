// End-to-end tests of what history keeps across breaks (docs/HISTORY.md): a client that lost its
// connection catching up with /join ROOM since=ID (from memory and from the store), retention and
// the history gap it leaves, a clean restart on the same data dir, a kill -9 of the real binary in
// the middle of acknowledged traffic, and a slow disk that delays ACKs but never fan-out.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/data_dir.h"
#include "tests/history_lines.h"
#include "tests/server_fixture.h"
#include "tests/subprocess.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

class HistoryDurabilityTest : public ServerFixture {};

// ---- 6. /join ROOM since=ID after a lost connection: exactly what was missed, then live lines.

// alice creates "Lounge"; carol (tags) and bob (tags) join; bob sees three lines and loses his
// connection (RST); alice says `missed` while carol reads them. Then a new "bob" (tags) joins
// with since= the last id the first one saw: it must get exactly the missed lines as history,
// then a line alice says once it has joined (held while it catches up), then live lines only.
// `options` are the new bob's: a small receive buffer keeps a long catch-up going.
void ExpectSinceGivesWhatWasMissed(int port, const std::vector<std::string>& missed,
                                   TestClientOptions options = {}) {
  auto alice = Login(port, "alice");
  auto carol = Login(port, "carol");
  auto bob = Login(port, "bob");
  ASSERT_NE(bob, nullptr);
  RequestCaps(*carol, "tags");
  RequestCaps(*bob, "tags");
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  ASSERT_EQ(carol->Ask("/join Lounge"), "OK JOIN Lounge 2");
  ASSERT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 3");
  ASSERT_EQ(carol->Next(), "JOIN Lounge bob");
  std::vector<uint64_t> seen =
      SayThrough(*alice, *bob, "Lounge", "alice", {"before 1", "before 2", "before 3"});
  ASSERT_EQ(seen.size(), 3u);
  ASSERT_EQ(ReadTagged(*carol, "Lounge", "alice", {"before 1", "before 2", "before 3"}, false),
            seen);
  bob->Reset();
  ASSERT_EQ(carol->Next(), "LEAVE Lounge bob");
  std::vector<uint64_t> missed_ids = SayThrough(*alice, *carol, "Lounge", "alice", missed);
  ASSERT_EQ(missed_ids.size(), missed.size());

  auto again = Login(port, "bob", options);
  ASSERT_NE(again, nullptr);
  RequestCaps(*again, "tags");
  EXPECT_EQ(again->Ask(absl::StrCat("/join Lounge since=", seen.back())), "OK JOIN Lounge 3");
  ASSERT_TRUE(alice->Send("during the catch-up").ok());  // held until bob has caught up
  EXPECT_EQ(ReadTagged(*again, "Lounge", "alice", missed, /*history=*/true), missed_ids);
  std::optional<TaggedLine> during = ParseTagged(again->Next());
  ASSERT_TRUE(during.has_value());
  EXPECT_EQ(during->line, "MSG Lounge alice during the catch-up");
  EXPECT_GT(during->id, missed_ids.back());
  // Caught up: from here on, live lines.
  ASSERT_TRUE(alice->Send("after the catch-up").ok());
  std::vector<uint64_t> after = ReadTagged(*again, "Lounge", "alice", {"after the catch-up"}, false);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_GT(after[0], during->id);
  EXPECT_EQ(Pending(*again), Lines{});
  EXPECT_TRUE(alice->ReadUntil("LEAVE Lounge bob").ok());
  EXPECT_TRUE(alice->ReadUntil("JOIN Lounge bob").ok());
}

TEST_F(HistoryDurabilityTest, SinceAfterALostConnectionGivesTheMissedLinesThenLiveOnes) {
  StartServer();
  ExpectSinceGivesWhatWasMissed(server_->port(), Numbered("missed ", 50));
}

TEST_F(HistoryDurabilityTest, SinceReadsWhatNoLongerFitsInMemoryFromTheStore) {
  ServerOptions options;
  options.flood_lines_per_s = 0;
  StartServer(options);
  std::vector<std::string> missed;
  for (int i = 0; i < 600; ++i) missed.push_back(LongText(i));  // about 600 KB
  ExpectSinceGivesWhatWasMissed(server_->port(), missed,
                                TestClientOptions{.receive_buffer_bytes = 4096});
}

// ---- 8. Retention keeps history_max_lines per room; since= an id it removed reports the gap.

TEST_F(HistoryDurabilityTest, RetentionKeepsTheNewestLinesAndSinceBeforeThemReportsTheGap) {
  ServerOptions options;
  options.history_max_lines = 50;
  StartServer(options);
  auto alice = Login("alice");
  auto bob = Login("bob");
  ASSERT_NE(bob, nullptr);
  RequestCaps(*alice, "tags");
  RequestCaps(*bob, "tags");
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  ASSERT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
  std::vector<std::string> said = Numbered("line ", 120);
  std::vector<uint64_t> ids = SayThrough(*alice, *bob, "Lounge", "alice", said);
  ASSERT_EQ(ids.size(), said.size());
  ASSERT_EQ(bob->Ask("/leave"), "OK LEAVE Lounge");
  ASSERT_TRUE(alice->ReadUntil("LEAVE Lounge bob").ok());
  ASSERT_EQ(alice->Ask("/leave"), "OK LEAVE Lounge");

  // A room that opens loads what the store holds: reopen it until retention (once a second) has
  // run. Polling, bounded by the deadline; alice stays in the room the last time.
  const std::vector<uint64_t> kept(ids.end() - 50, ids.end());
  std::vector<uint64_t> held;
  absl::Time until = absl::Now() + kLineDeadline;
  for (int poll = 0; poll < 1000 && absl::Now() < until; ++poll) {
    if (poll > 0) {
      ASSERT_EQ(alice->Ask("/leave"), "OK LEAVE Lounge");
      absl::SleepFor(absl::Milliseconds(50));  // polling interval
    }
    ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
    std::vector<TaggedLine> lines = PageBackToTheStart(*alice, "Lounge", /*max_pages=*/3);
    held.clear();
    for (const TaggedLine& line : lines) held.push_back(line.id);
    if (held.size() <= kept.size()) break;
  }
  ASSERT_EQ(held, kept) << "retention did not cut the room to its newest 50 lines";

  // since= the newest removed id: nothing missing, no gap.
  const std::vector<std::string> kept_texts(said.end() - 50, said.end());
  ASSERT_EQ(bob->Ask(absl::StrCat("/join Lounge since=", ids[69])), "OK JOIN Lounge 2");
  EXPECT_EQ(ReadTagged(*bob, "Lounge", "alice", kept_texts, true), kept);
  EXPECT_EQ(Pending(*bob), Lines{});
  ASSERT_EQ(bob->Ask("/leave"), "OK LEAVE Lounge");
  // since= an older id: the gap first, naming the first id held, then what is held. The room
  // loaded the kept lines as it opened, so memory answers: it must know about the gap too.
  ASSERT_EQ(bob->Ask(absl::StrCat("/join Lounge since=", ids[10])), "OK JOIN Lounge 2");
  std::string gap = bob->Next();
  EXPECT_TRUE(absl::StartsWith(gap, absl::StrCat("ERR history-gap ", kept.front(), " ")))
      << "lines 11 to 69 are no longer kept, yet the first line after OK JOIN is: " << gap;
  // Without the gap line, `gap` was the first kept line: the rest must follow all the same.
  const size_t first = absl::StartsWith(gap, "ERR ") ? 0 : 1;
  EXPECT_EQ(ReadTagged(*bob, "Lounge", "alice",
                       std::vector<std::string>(kept_texts.begin() + first, kept_texts.end()),
                       true),
            std::vector<uint64_t>(kept.begin() + first, kept.end()));
  EXPECT_EQ(Pending(*bob), Lines{});
}

// The same while the room stays open, with lines too long for memory to hold them all: since= an
// id older than what memory holds is answered from the store, which knows what retention removed.
TEST_F(HistoryDurabilityTest, SinceBeforeWhatRetentionKeptReportsTheGapFromTheStore) {
  constexpr int kLines = 300;  // about 300 KB; memory holds the newest 128 KiB
  ServerOptions options;
  options.history_max_lines = 50;
  options.flood_lines_per_s = 0;
  StartServer(options);
  auto alice = Login("alice");
  auto bob = Login("bob");
  ASSERT_NE(bob, nullptr);
  RequestCaps(*bob, "tags");
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  ASSERT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
  std::vector<std::string> said;
  for (int i = 0; i < kLines; ++i) said.push_back(LongText(i));
  std::vector<uint64_t> ids = SayThrough(*alice, *bob, "Lounge", "alice", said);
  ASSERT_EQ(ids.size(), said.size());

  // More than memory holds is asked for, so the store answers: poll until retention has run.
  const std::vector<uint64_t> kept(ids.end() - 50, ids.end());
  std::vector<uint64_t> held;
  absl::Time until = absl::Now() + kLineDeadline;
  for (int poll = 0; poll < 1000 && absl::Now() < until; ++poll) {
    if (poll > 0) absl::SleepFor(absl::Milliseconds(50));  // polling interval
    HistoryAnswer answer = AskHistory(*bob, "/history 500");
    held.clear();
    for (const std::string& line : answer.lines) {
      std::optional<TaggedLine> tagged = ParseTagged(line);
      held.push_back(tagged ? tagged->id : 0);
    }
    if (held.size() <= kept.size()) break;
  }
  ASSERT_EQ(held, kept) << "retention did not cut the room to its newest 50 lines";

  ASSERT_EQ(bob->Ask("/leave"), "OK LEAVE Lounge");
  ASSERT_EQ(bob->Ask(absl::StrCat("/join Lounge since=", ids[10])), "OK JOIN Lounge 2");
  std::string gap = bob->Next();
  EXPECT_TRUE(absl::StartsWith(gap, absl::StrCat("ERR history-gap ", kept.front(), " "))) << gap;
  EXPECT_EQ(ReadTagged(*bob, "Lounge", "alice",
                       std::vector<std::string>(said.end() - 50, said.end()), true),
            kept);
  EXPECT_EQ(Pending(*bob), Lines{});
}

// ---- 9. A clean restart on the same data dir keeps every line, and ids go on above them.

TEST_F(HistoryDurabilityTest, ARestartOnTheSameDataDirKeepsTheLinesAndIdsGoOnAboveThem) {
  ServerOptions options;
  options.data_dir = NewDataDir();
  StartServer(options);
  std::vector<std::string> said = Numbered("before the restart ", 25);
  std::vector<uint64_t> ids;
  {
    auto alice = Login("alice");
    auto bob = Login("bob");
    ASSERT_NE(bob, nullptr);
    RequestCaps(*bob, "tags");
    ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
    ASSERT_EQ(bob->Ask("/join Lounge"), "OK JOIN Lounge 2");
    ids = SayThrough(*alice, *bob, "Lounge", "alice", said);
    ASSERT_EQ(ids.size(), said.size());
    // No waiting for the store: the shutdown commits what is queued.
    server_.reset();
    absl::StatusOr<Lines> last = bob->ReadUntilClosed();
    ASSERT_TRUE(last.ok()) << last.status();
    EXPECT_EQ(*last, Lines{"BYE server-shutdown"});
  }

  StartServer(options);
  auto alice = Login("alice");
  ASSERT_NE(alice, nullptr);
  RequestCaps(*alice, "tags ack");
  ASSERT_EQ(alice->Ask("/create Lounge"), "OK CREATE Lounge");
  std::vector<TaggedLine> held = PageBackToTheStart(*alice, "Lounge", /*max_pages=*/3);
  ASSERT_EQ(held.size(), said.size());
  for (size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(held[i].id, ids[i]);
    EXPECT_EQ(held[i].line, absl::StrCat("MSG Lounge alice ", said[i]));
  }
  ASSERT_TRUE(alice->Send("after the restart").ok());
  std::string ack = alice->Next();
  EXPECT_GT(AckedId(ack, "Lounge"), ids.back()) << ack;
}

// ---- 10. kill -9 of the real binary loses no acknowledged line.

constexpr char kServerPath[] = "chat/chat_server";

// What the senders of the kill -9 test were told, guarded by `mu`.
struct Acknowledged {
  absl::Mutex mu;
  std::vector<std::vector<uint64_t>> ids ABSL_GUARDED_BY(mu);  // per sender, in line order
  int total ABSL_GUARDED_BY(mu) = 0;
};

constexpr int kBatchLines = 10;
constexpr int kMostBatches = 200;  // far more than are sent before the kill

// Sender `index` says "s<index> <n>" in writes of kBatchLines lines, keeping two writes
// unacknowledged so that lines are always on their way when the server dies; until the connection
// ends (or kMostBatches). The ACKs of its lines come in the order of its lines: the j-th ACK is
// line j's.
void SendUntilKilled(TestClient& sender, int index, Acknowledged& acknowledged) {
  int sent = 0;
  int acked = 0;
  for (int batch = 0; batch < kMostBatches; ++batch) {
    std::string bytes;
    for (int i = 0; i < kBatchLines; ++i) absl::StrAppend(&bytes, "s", index, " ", sent++, "\n");
    if (!sender.SendRaw(bytes).ok()) return;
    for (int read = 0; sent - acked > 2 * kBatchLines - kBatchLines / 2 && read < 1000; ++read) {
      absl::StatusOr<std::string> line = sender.ReadLine();
      if (!line.ok()) return;  // killed
      uint64_t id = AckedId(*line, "durable");
      if (id == 0) continue;  // the others' lines
      ++acked;
      absl::MutexLock lock(&acknowledged.mu);
      acknowledged.ids[index].push_back(id);
      ++acknowledged.total;
    }
  }
}

// The reader's tagged lines until the server dies: id -> line.
std::map<uint64_t, std::string> ReadUntilKilled(TestClient& reader) {
  std::map<uint64_t, std::string> seen;
  for (int i = 0; i < 3 * kBatchLines * kMostBatches + 10; ++i) {
    absl::StatusOr<std::string> line = reader.ReadLine();
    if (!line.ok()) break;
    if (std::optional<TaggedLine> tagged = ParseTagged(*line)) seen[tagged->id] = tagged->line;
  }
  return seen;
}

// `senders` clients "s<k>" with ack (s0 creates room "durable", the others join it), then a
// reader with tags, last. Fails the test on an unexpected reply.
std::vector<std::unique_ptr<TestClient>> FillDurableRoom(int port, int senders) {
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int k = 0; k <= senders; ++k) {
    clients.push_back(Login(port, k < senders ? absl::StrCat("s", k) : "reader"));
    if (clients.back() == nullptr) return {};
    RequestCaps(*clients.back(), k < senders ? "ack" : "tags");
    EXPECT_EQ(clients.back()->Ask(k == 0 ? "/create durable" : "/join durable"),
              k == 0 ? "OK CREATE durable" : absl::StrCat("OK JOIN durable ", k + 1));
  }
  return clients;
}

// Every acknowledged line of each sender (acked[k][j]: the id of "s<k> <j>") is in `held` with
// its text, and each sender's held lines are its first ones, without a hole. Returns the highest
// acknowledged id.
uint64_t ExpectEveryAcknowledgedLineHeld(const std::vector<std::vector<uint64_t>>& acked,
                                         const std::vector<TaggedLine>& held) {
  std::map<uint64_t, std::string> held_by_id;
  std::map<std::string, std::vector<std::string>> held_by_sender;
  for (const TaggedLine& line : held) {
    held_by_id[line.id] = line.line;
    std::vector<std::string> words = absl::StrSplit(line.line, ' ');  // MSG durable s<k> s<k> <j>
    if (words.size() == 5) held_by_sender[words[2]].push_back(words[4]);
  }
  EXPECT_EQ(held_by_id.size(), held.size()) << "an id twice";
  uint64_t highest = 0;
  for (size_t k = 0; k < acked.size(); ++k) {
    const std::vector<std::string>& numbers = held_by_sender[absl::StrCat("s", k)];
    for (size_t j = 0; j < numbers.size(); ++j) {
      EXPECT_EQ(numbers[j], absl::StrCat(j)) << "s" << k << "'s held lines have a hole";
    }
    for (size_t j = 0; j < acked[k].size(); ++j) {
      auto it = held_by_id.find(acked[k][j]);
      if (it == held_by_id.end()) {
        ADD_FAILURE() << "acknowledged line " << j << " of s" << k << " is lost";
        continue;
      }
      EXPECT_EQ(it->second, absl::StrCat("MSG durable s", k, " s", k, " ", j));
      highest = std::max(highest, acked[k][j]);
    }
  }
  return highest;
}

TEST(HistoryKillTest, KillNineLosesNoAcknowledgedLine) {
  constexpr int kSenders = 3;
  constexpr int kKillAfterAcks = 250;
  const std::vector<std::string> flags = {"--port=0", "--http_port=-1", "--flood_lines_per_s=0",
                                          "--data_dir=" + NewDataDir()};
  auto server = std::make_unique<Subprocess>(kServerPath, flags);
  std::optional<int> port = WaitUntilListening(*server, kLineDeadline);
  ASSERT_TRUE(port.has_value()) << server->Stderr();
  std::vector<std::unique_ptr<TestClient>> clients = FillDurableRoom(*port, kSenders);
  ASSERT_EQ(clients.size(), kSenders + 1u);

  Acknowledged acknowledged;
  {
    absl::MutexLock lock(&acknowledged.mu);
    acknowledged.ids.resize(kSenders);
  }
  std::vector<std::thread> threads;
  for (int k = 0; k < kSenders; ++k) {
    threads.emplace_back([&, k] { SendUntilKilled(*clients[k], k, acknowledged); });
  }
  std::map<uint64_t, std::string> seen;
  std::thread reading([&] { seen = ReadUntilKilled(*clients.back()); });
  std::vector<std::vector<uint64_t>> acked;
  {
    absl::MutexLock lock(&acknowledged.mu);
    auto enough = [&] { return acknowledged.total >= kKillAfterAcks; };
    acknowledged.mu.AwaitWithTimeout(absl::Condition(&enough), kLineDeadline);
  }
  server->Signal(SIGKILL);
  for (std::thread& thread : threads) thread.join();
  reading.join();
  {
    absl::MutexLock lock(&acknowledged.mu);
    acked = acknowledged.ids;
    ASSERT_GE(acknowledged.total, kKillAfterAcks) << server->Stderr();
  }
  std::optional<int> status = server->WaitForExit(kLineDeadline);
  ASSERT_TRUE(status.has_value() && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);

  server = std::make_unique<Subprocess>(kServerPath, flags);
  port = WaitUntilListening(*server, kLineDeadline);
  ASSERT_TRUE(port.has_value()) << server->Stderr();
  auto checker = Login(*port, "checker");
  ASSERT_NE(checker, nullptr);
  RequestCaps(*checker, "tags ack");
  ASSERT_EQ(checker->Ask("/create durable"), "OK CREATE durable");
  std::vector<TaggedLine> held = PageBackToTheStart(*checker, "durable", /*max_pages=*/40);
  ASSERT_FALSE(held.empty());
  uint64_t highest_acked = ExpectEveryAcknowledgedLineHeld(acked, held);
  for (const TaggedLine& line : held) {  // stored as the reader saw them
    if (seen.count(line.id) != 0) {
      EXPECT_EQ(seen[line.id], line.line);
    }
  }
  ASSERT_TRUE(checker->Send("after the kill").ok());
  std::string ack = checker->Next();
  EXPECT_GT(AckedId(ack, "durable"), std::max(highest_acked, held.back().id)) << ack;
  server->Signal(SIGTERM);
  EXPECT_TRUE(server->ExitsWith(0, kLineDeadline)) << server->Stderr();
}

// ---- 11. A slow disk delays ACKs, never fan-out.

TEST_F(HistoryDurabilityTest, ASlowStoreDelaysAcksButNotFanOut) {
  constexpr int kLines = 50;
  StartServer();
  server_->TEST_history()->TEST_SetCommitDelay(absl::Milliseconds(300));
  auto alice = Login("alice");
  auto bob = Login("bob");
  ASSERT_NE(bob, nullptr);
  RequestCaps(*alice, "ack tags");
  RequestCaps(*bob, "tags");
  ASSERT_EQ(alice->Ask("/create Slow"), "OK CREATE Slow");
  ASSERT_EQ(bob->Ask("/join Slow"), "OK JOIN Slow 2");
  ASSERT_EQ(alice->Next(), "JOIN Slow bob");

  // One line: bob has it while its commit is still under way; the ACK follows.
  ASSERT_TRUE(alice->Send("first").ok());
  std::vector<uint64_t> first = ReadTagged(*bob, "Slow", "alice", {"first"}, false);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(bob->Send("seen it").ok());
  EXPECT_EQ(ReadTagged(*alice, "Slow", "bob", {"seen it"}, false).size(), 1u)
      << "bob's answer, fanned out, comes before the ACK of the line it answers";
  EXPECT_EQ(alice->Next(), absl::StrCat("ACK Slow ", first[0]));

  // 50 lines at once reach bob in full, and his answer reaches alice, before any of their ACKs.
  std::vector<std::string> texts;
  std::string bytes;
  for (int i = 0; i < kLines; ++i) {
    texts.push_back(absl::StrCat("line ", i));
    absl::StrAppend(&bytes, texts.back(), "\n");
  }
  ASSERT_TRUE(alice->SendRaw(bytes).ok());
  std::vector<uint64_t> ids = ReadTagged(*bob, "Slow", "alice", texts, false);
  ASSERT_EQ(ids.size(), texts.size());
  ASSERT_TRUE(bob->Send("got all 50").ok());
  std::vector<uint64_t> answer = ReadTagged(*alice, "Slow", "bob", {"got all 50"}, false);
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_GT(answer[0], ids.back());
  std::vector<uint64_t> acked;
  for (int i = 0; i < kLines; ++i) acked.push_back(AckedId(alice->Next(), "Slow"));
  EXPECT_EQ(acked, ids);
  EXPECT_EQ(Pending(*alice), Lines{});
  EXPECT_EQ(Pending(*bob), Lines{});
}

}  // namespace
}  // namespace roomchat
