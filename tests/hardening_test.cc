// End-to-end tests of the server's defences (docs/RELIABILITY.md): floods, slow readers, idle and
// slowloris connections, running out of descriptors, room churn, and a storm of garbage, each while
// well-behaved clients keep chatting.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "chat/server.h"
#include "gtest/gtest.h"
#include "tests/server_fixture.h"
#include "tests/test_client.h"

namespace roomchat {
namespace {

using HardeningTest = ServerFixture;

// Lines received before a round trip: what arrived unasked.
// The "OK WHO <room> <count>" that ends a /who, skipping the MEMBER lines (and any events).
std::string WhoSummary(TestClient& client) {
  if (!client.Send("/who").ok()) return "<send failed>";
  while (true) {
    absl::StatusOr<std::string> line = client.ReadLine();
    if (!line.ok()) return "<" + line.status().ToString() + ">";
    if (absl::StartsWith(*line, "OK WHO ")) return *line;
  }
}

// Entries in a /proc/self directory: threads (task) or descriptors (fd).
int CountEntries(const char* path) {
  int count = 0;
  DIR* dir = ::opendir(path);
  if (dir == nullptr) return -1;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - (absl::string_view(path) == "/proc/self/fd" ? 1 : 0);  // the DIR's own fd
}

// Waits until `count()` equals `want`; the last value seen.
template <typename F>
int WaitForCount(F count, int want) {
  absl::Time until = absl::Now() + kLineDeadline;
  int seen = count();
  while (seen != want && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));  // Polling interval, not a guess at timing.
    seen = count();
  }
  return seen;
}

TEST_F(HardeningTest, FloodIsDroppedWithOneErrThenDisconnected) {
  ServerOptions options;
  options.flood_lines_per_s = 0.001;  // one line per 1000 s: only the burst counts here
  options.flood_burst = 6;
  options.flood_disconnect_after = 20;
  StartServer(options);
  auto listener = Login();
  ASSERT_TRUE(absl::StartsWith(listener->Ask("/create den"), "OK CREATE"));
  auto flooder = Login();  // WELCOME costs nothing; /join is its first line
  ASSERT_TRUE(absl::StartsWith(flooder->Ask("/join den"), "OK JOIN den 2"));

  std::string burst;
  for (int i = 0; i < 60; ++i) absl::StrAppend(&burst, "line ", i, "\n");
  flooder->SendRaw(burst).IgnoreError();
  absl::StatusOr<Lines> got = flooder->ReadUntilClosed();
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u) << absl::StrJoin(*got, "|");
  EXPECT_TRUE(absl::StartsWith((*got)[0], "ERR flood ")) << "told once, not per line";
  EXPECT_EQ((*got)[1], "BYE flood");

  // The five lines inside the burst reached the room; the rest were dropped.
  EXPECT_TRUE(absl::StartsWith(listener->Next(), "JOIN den guest"));
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(absl::EndsWith(listener->Next(), absl::StrCat(" line ", i)));
  EXPECT_TRUE(absl::StartsWith(listener->Next(), "LEAVE den guest"));
}

TEST_F(HardeningTest, OutputHeldAboveTheSoftCapTooLongIsCut) {
  ServerOptions options;
  options.max_outbuf_bytes = 8 << 20;  // the hard cap stays out of reach
  options.outbuf_soft_bytes = 32 * 1024;
  options.outbuf_soft_s = 1;
  options.flood_lines_per_s = 0;
  StartServer(options);
  SlowReaderRoom room = JoinSlowReaderRoom(server_->port());
  ASSERT_FALSE(HasFailure());
  TestClient* sender = room.sender.get();
  TestClient* reader = room.reader.get();

  // 6 MB in 64 KB batches, each read by `reader` before the next: past the 4 MB the kernel may
  // buffer for `stuck` (net.ipv4.tcp_wmem), below the hard cap.
  constexpr int kBatches = 96;
  bool saw_cut = SendBatchesThroughReader(room, kBatches);
  ASSERT_FALSE(HasFailure());

  // Only the soft cap's clock can cut `stuck`: 6 MB never reaches the 8 MB hard cap.
  if (!saw_cut) {
    EXPECT_EQ(reader->Next(), "LEAVE busy stuck");
  }
  EXPECT_EQ(Pending(*sender), Lines{"LEAVE busy stuck"});
}

TEST_F(HardeningTest, SilentAndSlowlorisConnectionsTimeOut) {
  ServerOptions options;
  options.idle_timeout_s = 1;
  StartServer(options);
  auto silent = Login();
  auto slowloris = Login();
  // A partial line, a byte at a time, never finished: bytes are not activity, lines are.
  std::atomic<bool> closed{false};
  std::thread trickle([&] {
    absl::Time until = absl::Now() + kLineDeadline;
    while (!closed && absl::Now() < until) {
      if (!slowloris->SendRaw("x").ok()) return;
      absl::SleepFor(absl::Milliseconds(100));  // pacing of the attack, not a timing assumption
    }
  });
  absl::StatusOr<Lines> silent_lines = silent->ReadUntilClosed();
  absl::StatusOr<Lines> slow_lines = slowloris->ReadUntilClosed();
  closed = true;
  trickle.join();
  ASSERT_TRUE(silent_lines.ok()) << silent_lines.status();
  EXPECT_EQ(*silent_lines, Lines{"BYE idle-timeout"});
  ASSERT_TRUE(slow_lines.ok()) << slow_lines.status();
  EXPECT_EQ(*slow_lines, Lines{"BYE idle-timeout"});
}

TEST_F(HardeningTest, ActiveClientsAreNotTimedOut) {
  ServerOptions options;
  options.idle_timeout_s = 1;
  StartServer(options);
  auto active = Login();
  auto silent = Login();
  // `active` sends a line every 100 ms until `silent` has been timed out (which takes 1-2 s).
  std::atomic<bool> done{false};
  std::thread keep_talking([&] {
    for (int i = 0; !done && i < 400; ++i) {
      if (active->Ask(absl::StrCat("/ping ", i)) != absl::StrCat("PONG ", i)) return;
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  absl::StatusOr<Lines> silent_lines = silent->ReadUntilClosed();
  done = true;
  keep_talking.join();
  ASSERT_TRUE(silent_lines.ok());
  EXPECT_EQ(*silent_lines, Lines{"BYE idle-timeout"});
  EXPECT_EQ(active->Ask("/ping still-here"), "PONG still-here");
}

TEST_F(HardeningTest, RunningOutOfDescriptorsPausesAcceptingInsteadOfSpinning) {
  StartServer(ServerOptions{});
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Fill every descriptor but one, which the client's socket then takes: the server has none left.
  rlimit low = saved;
  low.rlim_cur = CountEntries("/proc/self/fd") + 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> filler;
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) filler.push_back(fd);
  ::close(filler.back());
  filler.pop_back();
  auto client = TestClient::Connect(server_->port());
  ASSERT_TRUE(client.ok()) << client.status();

  // The connection waits in the backlog; the acceptor pauses between tries.
  const Acceptor* acceptor = server_->TEST_acceptor();
  absl::Time until = absl::Now() + kLineDeadline;
  while (acceptor->TEST_pauses() < 5 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
  uint64_t pauses = acceptor->TEST_pauses();
  uint64_t calls = acceptor->TEST_accept_calls();
  EXPECT_GE(pauses, 5u);
  // Spinning would make millions of calls; pausing makes about one per pause.
  EXPECT_LE(calls, 2 * pauses + 2) << calls << " accept calls in " << pauses << " pauses";

  for (int fd : filler) ::close(fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  // Once descriptors are back, the waiting client is welcomed.
  EXPECT_TRUE(absl::StartsWith((*client)->Next(), "WELCOME "));
}

TEST_F(HardeningTest, TenThousandRoomsCreatedAndEmptiedLeaveNoThreadsOrDescriptors) {
  ServerOptions options;
  options.flood_lines_per_s = 0;
  StartServer(options);
  auto client = Login("churn");
  ASSERT_EQ(client->Ask("/ping warm"), "PONG warm");
  const int threads_before = CountEntries("/proc/self/task");
  const int fds_before = CountEntries("/proc/self/fd");

  constexpr int kRooms = 10000;
  constexpr int kBatch = 250;
  for (int start = 0; start < kRooms; start += kBatch) {
    std::string batch;
    for (int i = start; i < start + kBatch; ++i)
      absl::StrAppend(&batch, "/create r", i, "\n/leave\n");
    ASSERT_TRUE(client->SendRaw(batch).ok());
    for (int i = start; i < start + kBatch; ++i) {
      ASSERT_EQ(client->Next(), absl::StrCat("OK CREATE r", i));
      ASSERT_EQ(client->Next(), absl::StrCat("OK LEAVE r", i));
    }
  }
  EXPECT_EQ(client->Ask("/rooms"), "OK ROOMS 0");
  // Room threads end and are joined asynchronously; wait for the counts to come back.
  EXPECT_EQ(WaitForCount([] { return CountEntries("/proc/self/task"); }, threads_before),
            threads_before);
  EXPECT_EQ(WaitForCount([] { return CountEntries("/proc/self/fd"); }, fds_before), fds_before);
}

// Bytes a hostile client might send: random, huge, control-laden, half-finished.
std::string Garbage(std::mt19937& random) {
  switch (random() % 8) {
    case 0: {
      std::string bytes(random() % 8192, '\0');
      for (char& c : bytes) c = static_cast<char>(random());
      return bytes;
    }
    case 1: return std::string(100000 + random() % 50000, 'x') + "\n";
    case 2: return "lone\rcarriage\rreturns\r\r\n";
    case 3: return std::string("nul\0inside\0\n", 12);
    case 4: return "bad utf8 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xff\n";
    case 5: return "/join calm\nvalid chat from a storm client\n";
    case 6: return "/nick storm" + std::to_string(random() % 100) + "\n/rooms\n/who calm\n";
    default: return "half a line that never ends";
  }
}

TEST_F(HardeningTest, AGarbageStormDoesNotDisturbARoomThatKeepsChatting) {
  StartServer(ServerOptions{});
  constexpr int kCalm = 4;
  constexpr int kLinesEach = 100;
  constexpr int kStormClients = 24;
  std::vector<std::unique_ptr<TestClient>> calm;
  for (int i = 0; i < kCalm; ++i) {
    calm.push_back(Login(absl::StrCat("calm", i)));
    ASSERT_NE(calm.back(), nullptr);
    ASSERT_TRUE(absl::StartsWith(calm.back()->Ask(i == 0 ? "/create calm" : "/join calm"), "OK "));
  }
  for (auto& client : calm) ASSERT_TRUE(client->Sync().ok());

  std::vector<std::thread> threads;
  for (int s = 0; s < kStormClients; ++s) {
    threads.emplace_back([&, s] {
      std::mt19937 random(1000 + s);
      for (int connection = 0; connection < 3; ++connection) {
        auto storm = TestClient::Connect(server_->port());
        if (!storm.ok()) continue;
        for (int i = 0; i < 12; ++i) {
          if (!(*storm)->SendRaw(Garbage(random)).ok()) break;
        }
        if (random() % 2 == 0) {
          (*storm)->Reset();
        } else {
          (*storm)->Close();
        }
      }
    });
  }
  std::vector<std::string> failures(kCalm);
  for (int i = 0; i < kCalm; ++i) {
    threads.emplace_back([&, i] {
      TestClient& me = *calm[i];
      for (int n = 0; n < kLinesEach; ++n) me.Send(absl::StrCat("line ", n)).IgnoreError();
      std::map<std::string, int> next;
      int got = 0;
      while (got < (kCalm - 1) * kLinesEach) {
        absl::StatusOr<std::string> line = me.ReadLine();
        if (!line.ok()) {
          failures[i] = absl::StrCat("after ", got, ": ", line.status().ToString());
          return;
        }
        std::vector<std::string> parts = absl::StrSplit(*line, ' ');
        // Only the calm members' lines are checked; the storm may say things too.
        if (parts.size() != 5 || parts[0] != "MSG" || !absl::StartsWith(parts[2], "calm")) continue;
        int seq = -1;
        if (!absl::SimpleAtoi(parts[4], &seq) || seq != next[parts[2]]) {
          failures[i] = absl::StrCat("out of order from ", parts[2], ": ", *line);
          return;
        }
        ++next[parts[2]];
        ++got;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kCalm; ++i) EXPECT_EQ(failures[i], "") << "calm" << i;
  // The server is healthy afterwards, and once it has seen every storm connection close, the room
  // holds the calm members alone (disconnects are processed as they come, so poll for it).
  auto late = Login("late");
  ASSERT_NE(late, nullptr);
  ASSERT_TRUE(absl::StartsWith(late->Ask("/join calm"), "OK JOIN calm "));
  const std::string settled = absl::StrCat("OK WHO calm ", kCalm + 1);
  std::string who;
  for (absl::Time until = absl::Now() + kLineDeadline; who != settled && absl::Now() < until;) {
    who = WhoSummary(*late);
    if (who != settled) absl::SleepFor(absl::Milliseconds(10));  // polling interval
  }
  EXPECT_EQ(who, settled);
}

}  // namespace
}  // namespace roomchat
